"""Pickers of large relations (app/core/pickers.py): forms carry only the chosen option, the rest is searched page by
page at /<view>/picker/<name> through the same data scope and form filters; a posted id is loaded by primary key."""

import html as html_lib
import re

import pytest
from sqlalchemy import event

from app.base_data.models import Product
from app.crm.models import EndCustomer
from app.sales.models import SalesOrder
from tests.support.pages import alerts as _alerts, message as _t
from tests.support.sales import SalesData as Data
from tests.support.users import user_id

PICKER = "/salesorderview/picker/end_customer"

pytestmark = pytest.mark.every_database(
    "the pickers search customers, products and orders with LIKE and ORDER BY through the owner filters of the data "
    "scope, and load a posted choice by id through them, in SQL"
)


@pytest.fixture
def data(app, db, uid):
    return Data(app, db, uid)


@pytest.fixture
def bulk(db):
    """Rows made in bulk, deleted again afterwards: a salesperson holds a limited number of customers, and the
    other tests claim more for the same users."""
    made = []

    def add(rows):
        db.session.add_all(rows)
        db.session.commit()
        made.extend((type(r), r.id) for r in rows)
        return [r.id for r in rows]

    yield add
    db.session.rollback()
    for model in {m for m, _ in made}:
        db.session.query(model).filter(model.id.in_([i for m, i in made if m is model])).delete()
    db.session.commit()


def _customers(bulk, owner_id, names, **kwargs) -> list[int]:
    return bulk([EndCustomer(name=name, owner_id=owner_id, **kwargs) for name in names])


def _search(client, url=PICKER, **params):
    resp = client.get(url, query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"results", "pagination"} and len(body["results"]) <= 20
    return body


def _all_pages(client, url=PICKER, **params) -> list[dict]:
    """Every result of a search, page after page as Select2 asks for them."""
    found, page = [], 1
    while True:
        body = _search(client, url, page=page, **params)
        found += body["results"]
        if not body["pagination"]["more"]:
            return found
        page += 1
        assert page <= 500


def _select(page: str, name: str) -> list[tuple[str, bool, str]]:
    """The options of a select: (value, selected, text)."""
    select = re.search(rf'<select[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name} in the form"
    return [
        (value, bool(re.search(r"\bselected\b", attrs)), html_lib.unescape(text).strip())
        for attrs, text in re.findall(r"<option([^>]*)>(.*?)</option>", select.group(1), re.S)
        for value in [re.search(r'value="([^"]*)"', attrs).group(1)]
    ]


def _chosen(page: str, name: str) -> list[tuple[str, str]]:
    return [(value, text) for value, selected, text in _select(page, name) if value and selected]


# ---------------------------------------------------------------- the search endpoint


def test_search_matches_every_word_and_pages_by_20(app, bulk, as_user, uid):
    tag = uid("检索")
    ids = _customers(bulk, user_id(app, "sales1"), [f"{tag}客户{i:02d}" for i in range(45)])
    client = as_user("sales1")
    pages = [_search(client, q=tag, page=n) for n in (1, 2, 3)]
    assert [len(p["results"]) for p in pages] == [20, 20, 5]
    assert [p["pagination"]["more"] for p in pages] == [True, True, False]
    found = [r for p in pages for r in p["results"]]
    assert sorted(r["id"] for r in found) == sorted(ids)
    assert [r["text"] for r in found] == sorted(f"{tag}客户{i:02d}" for i in range(45))  # by name
    # every word must match; case and LIKE wildcards are taken literally
    assert [r["text"] for r in _search(client, q=f"{tag.lower()} 户07")["results"]] == [f"{tag}客户07"]
    assert _search(client, q=f"{tag} %")["results"] == []
    assert _search(client, q=f"{tag}_")["results"] == []
    # no text: the first page of everything the user may choose
    assert len(_search(client)["results"]) == 20


def test_search_never_offers_another_salespersons_customers(app, db, bulk, as_user, uid):
    tag = uid("范围")
    mine = _customers(bulk, user_id(app, "sales1"), [f"{tag}甲{i}" for i in range(25)])
    theirs = _customers(bulk, user_id(app, "sales2"), [f"{tag}乙{i}" for i in range(3)])
    sales2 = as_user("sales2")
    # neither by query nor by paging through everything
    assert {r["id"] for r in _all_pages(sales2, q=tag)} == set(theirs)
    assert not {r["id"] for r in _all_pages(sales2)} & set(mine)
    assert {r["id"] for r in _all_pages(as_user("sales1"), q=tag)} == set(mine)
    # managers see every salesperson's customers
    assert {r["id"] for r in _all_pages(as_user("manager"), q=tag)} == set(mine) | set(theirs)
    # the same scope on every form: a receipt's order picker
    data = Data(app, db, uid)
    pk = data.create_order(as_user("sales1"), uid("收款"))
    number = db.session.get(SalesOrder, pk).number
    assert [r["id"] for r in _search(as_user("sales1"), "/receiptview/picker/order", q=number)["results"]] == [pk]
    assert _search(sales2, "/receiptview/picker/order", q=number)["results"] == []


def test_search_applies_the_forms_filters(app, bulk, as_user, uid):
    tag = uid("池")
    pooled = EndCustomer(name=f"{tag}池中", in_pool=True)
    owned = EndCustomer(name=f"{tag}在册", owner_id=user_id(app, "manager"))
    bulk([pooled, owned])
    manager = as_user("manager")
    # orders are written for owned customers only, never for the pool (FilterNotInPool)
    assert [r["id"] for r in _search(manager, q=tag)["results"]] == [owned.id]
    # a document line offers enabled products only, found by model no. or name
    products = [
        Product(model_no=f"{tag}-A", name="阀门"),
        Product(model_no=f"{tag}-B", name=f"{tag}管件"),
        Product(model_no=f"{tag}-C", name="停用", enabled=False),
    ]
    bulk(products)
    lines = "/salesorderview/picker/line-product_id"
    found = _search(as_user("sales1"), lines, q=tag)["results"]
    assert found == [{"id": p.id, "text": f"{p.model_no} {p.name}"} for p in products[:2]]  # by model no.
    assert [r["id"] for r in _search(manager, lines, q=f"{tag}管")["results"]] == [products[1].id]


@pytest.mark.sqlite_only("the 401 and 403 are decided from the session and FAB's role permissions before any search")
def test_search_needs_the_right_to_fill_in_the_form(app, client, as_user):
    resp = client.get(PICKER)
    assert resp.status_code == 401
    assert resp.get_json()["message"] == _t(app, "Please log in.")
    for username in ("keeper", "purchaser", "exec"):  # may read orders or not, but may not write them
        resp = as_user(username).get(PICKER, query_string={"q": "a"})
        assert resp.status_code == 403, username
        assert resp.get_json()["message"] == _t(app, "You do not have permission for this.")
    # a form a view does not have
    assert as_user("admin").get("/salesinvoiceview/picker/end_customer?form=edit").status_code == 403


@pytest.mark.sqlite_only("the page number is parsed and refused in Python before any search runs")
@pytest.mark.parametrize(
    "params",
    [{"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page": "1.5"}, {"page": "²"}, {"page": "9" * 30}],
)
def test_bad_page_is_400_in_chinese(app, as_user, params):
    resp = as_user("sales1").get(PICKER, query_string=params)
    assert resp.status_code == 400
    assert resp.get_json()["message"] == _t(app, "The page must be a whole number from 1 to %(n)s.", n=500)


@pytest.mark.sqlite_only(
    "the text length, the form kind and whether a field is a picker are checked in Python before any search runs"
)
def test_other_bad_requests(app, as_user):
    client = as_user("sales1")
    resp = client.get(PICKER, query_string={"q": "长" * 101})
    assert resp.status_code == 400
    assert resp.get_json()["message"] == _t(app, "The search text is too long (at most %(n)s characters).", n=100)
    assert client.get(PICKER, query_string={"form": "delete"}).status_code == 400
    # only large relations are pickers; small ones stay plain dropdowns
    for name in ("order_type", "owner", "nothing", "line-qty"):
        resp = client.get(f"/salesorderview/picker/{name}")
        assert resp.status_code == 404, name
        assert resp.get_json()["message"] == _t(app, "Not found.")


# ---------------------------------------------------------------- the forms


@pytest.mark.sqlite_only("which fields are pickers is derived in Python from the models' relations and declarations")
def test_which_form_fields_are_pickers(app):
    """One rule, no per-view lists: many-to-one relations to models declaring __picker_search__ (customers,
    products, sales orders) are pickers on every add/edit form; small dictionaries stay dropdowns."""
    views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    expected = {
        "SalesOrderView": (["end_customer", "channel"], ["end_customer", "channel"]),
        "QuotationView": (["end_customer", "channel"], ["end_customer", "channel"]),
        "SalesInvoiceView": (["end_customer"], None),  # no edit page
        "ReceiptView": (["order"], None),
        "RefundView": (["order"], None),
        "RebateAgreementView": (["end_customer", "channel"], ["end_customer", "channel"]),
        "CustomerPriceView": (["end_customer", "product"], ["end_customer", "product"]),
        "ServiceRequestView": (["end_customer", "sales_order"], []),
        "ContactView": (["channel_customer", "end_customer"], ["channel_customer", "end_customer"]),
        "EndCustomerView": (["referrer"], ["referrer"]),
    }
    for name, (add, edit) in expected.items():
        view = views[name]
        assert view._picker_columns["add"] == add, name
        assert edit is None and "edit" in view.exclude_route_methods or view._picker_columns["edit"] == edit, name
        with app.test_request_context():
            form = view.add_form()
            assert all(type(form[column]).__name__ == "PickerField" for column in add), name
    assert "order_type" not in views["SalesOrderView"]._picker_columns["add"]


def test_a_url_filter_cannot_bring_in_another_salespersons_order(app, db, as_user, data, uid):
    """收款 opened from an order fixes the order by the URL; the id still goes through scope like a posted one."""
    from app.sales.models import Receipt

    pk = data.create_order(as_user("sales1"), uid("收款"))
    note = uid("越权收款")
    resp = as_user("sales2").post(
        f"/receiptview/add?_flt_0_order={pk}",
        data={"order": str(pk), "doc_date": "2030-05-06", "amount": "1", "method": "bank", "note": note},
    )
    assert resp.status_code == 200  # the form again, the receipt refused
    assert db.session.query(Receipt).filter_by(note=note).count() == 0


def test_order_form_carries_no_list_of_customers_or_products(app, db, bulk, as_user, uid):
    tag = uid("海量")
    owner = user_id(app, "sales1")
    _customers(bulk, owner, [f"{tag}客户{i}" for i in range(300)])
    bulk([Product(model_no=f"{tag}-{i}", name=f"{tag}产品{i}") for i in range(300)])
    loaded = []

    def count(target, context):
        loaded.append(type(target).__name__)

    db.session.expunge_all()
    event.listen(EndCustomer, "load", count)
    event.listen(Product, "load", count)
    try:
        resp = as_user("sales1").get("/salesorderview/add")
    finally:
        event.remove(EndCustomer, "load", count)
        event.remove(Product, "load", count)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert tag not in page
    assert loaded == []
    for name in ("end_customer", "channel", "lines-0-product_id"):
        assert len(_select(page, name)) <= 1, name
        assert re.search(rf'<select[^>]*data-picker-url="[^"]*/picker/[^"]*"[^>]*name="{name}"', page) or re.search(
            rf'<select[^>]*name="{name}"[^>]*data-picker-url=', page
        ), name
    assert "/static/js/pickers.js" in page


def test_posted_customer_is_loaded_by_its_id_alone(app, db, bulk, as_user, data, uid):
    _customers(bulk, data.owner_id, [uid("多") for _ in range(50)])
    project = uid("按编号")
    loaded = []

    def count(target, context):
        loaded.append(target.id)

    db.session.expunge_all()
    event.listen(EndCustomer, "load", count)
    try:
        pk = data.create_order(as_user("sales1"), project)
    finally:
        event.remove(EndCustomer, "load", count)
    assert set(loaded) == {data.customer_id}
    order = db.session.get(SalesOrder, pk)
    assert order.end_customer_id == data.customer_id and order.project_name == project
    assert [ln.product_id for ln in order.lines] == [data.p1_id, data.p2_id]


def test_another_salespersons_customer_is_refused_in_chinese(app, db, as_user, data, uid):
    other = Data(app, db, uid, owner="sales2")
    client = as_user("sales1")
    for field, value in (("end_customer", other.customer_id), ("channel", other.channel_id), ("end_customer", "x")):
        project = uid("越权")
        resp = client.post("/salesorderview/add", data=data.order_form(data.lines(), project, **{field: str(value)}))
        assert resp.status_code == 200, field
        page = resp.get_data(as_text=True)
        message = _t(app, "The chosen record does not exist or is not available here; choose one from the list.")
        assert message in html_lib.unescape(page), field
        assert _chosen(page, field) == []  # nothing of the other's shows, not even its name
        assert other.customer.name not in page and other.channel.name not in page
        db.session.expire_all()
        assert db.session.query(SalesOrder).filter_by(project_name=project).count() == 0


def test_a_refused_form_keeps_its_customer_and_products(app, db, as_user, data, uid):
    resp = as_user("sales1").post(
        "/salesorderview/add", data=data.order_form(data.lines(), uid("再填"), payment_days="-1")
    )
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert _chosen(page, "end_customer") == [(str(data.customer_id), data.customer.name)]
    assert _chosen(page, "lines-0-product_id") == [(str(data.p1_id), str(data.p1))]
    assert _chosen(page, "lines-1-product_id") == [(str(data.p2_id), str(data.p2))]


def test_edit_form_shows_the_chosen_values_and_posts_them_back_without_script(app, db, as_user, data, uid):
    client = as_user("sales1")
    project = uid("改")
    pk = data.create_order(client, project, channel=str(data.channel_id))
    page = client.get(f"/salesorderview/edit/{pk}").get_data(as_text=True)
    assert _chosen(page, "end_customer") == [(str(data.customer_id), data.customer.name)]
    assert _chosen(page, "channel") == [(str(data.channel_id), data.channel.name)]
    assert _chosen(page, "lines-0-product_id") == [(str(data.p1_id), str(data.p1))]
    assert "picker/line-product_id?form=edit" in html_lib.unescape(page)
    assert "/static/js/pickers.js" in page  # FAB's edit template drops add_tail_js: the pickers come in `tail`
    # a browser without JavaScript posts the selects as they are
    form = data.order_form(data.lines(), project + "改", channel=_chosen(page, "channel")[0][0])
    form["end_customer"] = _chosen(page, "end_customer")[0][0]
    form["lines-0-product_id"] = _chosen(page, "lines-0-product_id")[0][0]
    resp = client.post(f"/salesorderview/edit/{pk}", data=form)
    assert resp.status_code == 302, _alerts(resp.get_data(as_text=True))
    db.session.expire_all()
    order = db.session.get(SalesOrder, pk)
    assert (order.end_customer_id, order.channel_id, order.project_name) == (
        data.customer_id,
        data.channel_id,
        project + "改",
    )


def test_a_line_product_chosen_by_id_saves(app, db, as_user, data, uid):
    lines = [{"product_id": data.p2_id, "qty": "4", "unit_price": "", "discount": "", "note": ""}]
    pk = data.create_order(as_user("sales1"), uid("行"), lines)
    order = db.session.get(SalesOrder, pk)
    assert [(ln.product_id, ln.qty) for ln in order.lines] == [(data.p2_id, 4)]
    # an id that is no product is refused by the lines' own check
    bad = [{"product_id": "999999999", "qty": "1", "unit_price": "1", "discount": "", "note": ""}]
    project = uid("无此产品")
    resp = as_user("sales1").post("/salesorderview/add", data=data.order_form(bad, project))
    assert resp.status_code == 200 and _alerts(resp.get_data(as_text=True))
    assert db.session.query(SalesOrder).filter_by(project_name=project).count() == 0


@pytest.mark.sqlite_only("the picker texts are translations the add form's template writes")
def test_english_pages_say_the_picker_texts_in_english(as_user):
    page = as_user("sales1").get("/salesorderview/add?_l_=en").get_data(as_text=True)
    assert 'data-no-results="No results"' in page
    page = as_user("sales1").get("/salesorderview/add?_l_=zh").get_data(as_text=True)
    assert "data-no-results=" in page


def test_list_filters_on_large_relations_load_on_demand(app, db, as_user, uid):
    """The order list's filter by customer offers no customer list; the filter in force shows its customer; the
    search behind it keeps the reader's scope and needs only the right to read the list."""
    import json

    from app.crm.models import EndCustomer
    from tests.support.users import user_id

    mine = EndCustomer(name=uid("筛选客户"), owner_id=user_id(app, "sales1"))
    theirs = EndCustomer(name=uid("筛选客户"), owner_id=user_id(app, "sales2"))
    db.session.add_all([mine, theirs])
    db.session.commit()
    sales1 = as_user("sales1")

    def shown(name, html):  # FAB hands the filter's select to its script as JSON
        return name in html or json.dumps(name)[1:-1] in html

    html = sales1.get(f"/salesorderview/list/?_flt_0_end_customer={mine.id}").get_data(as_text=True)
    assert shown(mine.name, html) and not shown(theirs.name, html)
    assert "/salesorderview/picker/end_customer?form=search" in html
    found = sales1.get(f"/salesorderview/picker/end_customer?form=search&q={mine.name[:-2]}").json["results"]
    assert [r["text"] for r in found] == [mine.name]
    # another salesperson's customer named in the URL is not shown as an option
    html = sales1.get(f"/salesorderview/list/?_flt_0_end_customer={theirs.id}").get_data(as_text=True)
    assert not shown(theirs.name, html)
    # read-only roles may search the filter, and no one without the list may
    assert as_user("exec").get("/salesorderview/picker/end_customer?form=search").status_code == 200
    resp = as_user("keeper").get("/promotionview/picker/products?form=search")
    assert resp.status_code == 403  # the keeper may not read the promotions list: refused before the field is looked up
