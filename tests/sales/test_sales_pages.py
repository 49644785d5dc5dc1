"""Sales through the pages (HTML forms and buttons, not the REST API): the order form with its lines and
server-computed amounts, the show page's buttons and approval trail, receipts and refunds against the order total,
list totals, the Excel export with one row per line, data scope, quotation → order, expense claims and costs."""

import datetime as dt
import html as html_lib
import io
import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook

from app.base_data.models import ChannelLevel, ExpenseType, Product
from app.core.workflow import ApprovalRecord
from app.crm.models import ChannelCustomer, EndCustomer
from app.sales.models import Commission, CommissionRate, CustomerPrice, Expense, Quotation, Receipt, Refund, SalesOrder
from tests.support.pages import alerts as _alerts, message as _t
from tests.support.sales import DAY, SalesData as Data
from tests.support.users import user_id

pytestmark = pytest.mark.every_database(
    "the forms' customer, order and product pickers check posted ids through scoped queries, and amounts are posted "
    "to NUMERIC(14,2) columns, summed in SQL for the list totals and read back to the cent"
)

# ---------------------------------------------------------------- helpers


def _name(app, username: str) -> str:
    """How pages name a user (family name first, as in Chinese)."""
    with app.app_context():
        return app.appbuilder.sm.find_user(username=username).get_full_name()


def _money(text: str) -> Decimal:
    return Decimal(text.replace("¥", "").replace(",", ""))


def _totals(html: str, client) -> dict[str, Decimal]:
    """The totals the list page fetches after it is shown (from its own filters), as the page would show them."""
    block = re.search(
        r'<div class="well well-sm list-totals" id="list-totals" data-url="([^"]*)">(.*?)</div>', html, re.S
    )
    assert block, "no totals block on the list"
    keys = re.findall(r'data-total="([a-z_]+)"', block.group(2))
    totals = client.get(block.group(1).replace("&amp;", "&")).json["totals"]
    assert set(totals) == set(keys)
    return {k: _money(v) for k, v in totals.items()}


def _buttons(html: str) -> set[str]:
    actions = re.search(r'<div class="doc-actions" id="doc-actions"[^>]*>(.*?)</div>', html, re.S)
    assert actions, "no action bar on the show page"
    return set(re.findall(r'id="doc-([a-z_]+)"', actions.group(1)))


def _press(client, show_url: str, button: str):
    """Post the form of a button on the show page exactly as the browser would (its csrf_token and next)."""
    html = client.get(show_url).get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    for action, body in forms:
        if f'id="doc-{button}"' in body:
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body))
            assert "csrf_token" in fields and fields["next"] == show_url
            return client.post(html_lib.unescape(action), data=fields)
    raise AssertionError(f"no posted button doc-{button} on {show_url}: {sorted(_buttons(html))}")


def _edit_refused(client, edit_url: str, show_url: str, message: str) -> None:
    """The edit form is not offered: back to the document, saying why (DocumentViewMixin._edit flashes the refusal)."""
    for send in (client.get, client.post):
        resp = send(edit_url)
        assert resp.status_code == 302 and resp.headers["Location"].endswith(show_url)
        page = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert 'id="model_form"' not in page
        assert message in _alerts(page) or message in page


def _trail(html: str) -> list[list[str]]:
    table = re.search(r'<table class="table table-condensed" id="approval-trail">(.*?)</table>', html, re.S)
    assert table, "no approval trail on the show page"
    body = table.group(1).split("<tbody>")[1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if len(cells) == 5:
            rows.append(cells)
    return rows


def _picked(client, page: str, name: str, text: str) -> set[int]:
    """Ids a form's picker offers for a search (its select names the search URL; app/core/pickers.py)."""
    select = re.search(rf'<select[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    assert select, f"no select {name} in the form"
    url = html_lib.unescape(re.search(r'data-picker-url="([^"]+)"', select.group(0)).group(1))
    resp = client.get(f"{url}&{urlencode({'q': text})}")
    assert resp.status_code == 200
    return {row["id"] for row in resp.get_json()["results"]}


def _line_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="table table-condensed table-bordered" id="doc-lines">(.*?)</table>', html, re.S)
    assert table, "no lines table on the show page"
    body = table.group(1).split("<tbody>")[1]
    return [
        [html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def data(app, db, uid):
    return Data(app, db, uid)


def _order(db, pk) -> SalesOrder:
    db.session.expire_all()
    return db.session.get(SalesOrder, pk)


def _receipt(client, order_id, amount, note="", method="bank"):
    """The receipt form as opened from the order's 收款 button (the order comes from the URL filter)."""
    return client.post(
        f"/receiptview/add?_flt_0_order={order_id}",
        data={"order": str(order_id), "doc_date": DAY, "amount": amount, "method": method, "note": note},
    )


def _approve(as_user, pk):
    """sales1 submits, the manager approves, both through the show page's buttons."""
    url = f"/salesorderview/show/{pk}"
    assert _press(as_user("sales1"), url, "submit").status_code == 302
    assert _press(as_user("manager"), url, "approve").status_code == 302


# ---------------------------------------------------------------- 1. the order form


def test_order_add_computes_amounts_on_the_server(app, db, as_user, data, uid):
    client = as_user("sales1")
    project = uid("项目")
    # amounts slipped into the post are ignored: the server computes them from the lines
    form = data.order_form(data.lines(), project) | {"lines-0-amount": "1", "total_amount": "1"}
    resp = client.post("/salesorderview/add", data=form)
    assert resp.status_code == 302
    pk = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert resp.headers["Location"].endswith(f"/salesorderview/show/{pk}")
    order = _order(db, pk)
    assert order.number.startswith("XS")
    assert order.project_name == project and order.note == "页面录入"
    assert order.end_customer_id == data.customer_id and order.channel_id is None
    assert order.order_type_id == data.order_type_id
    assert order.doc_date == dt.date(2030, 5, 6) and order.payment_days == 30
    assert order.due_date == dt.date(2030, 6, 5)
    assert order.owner_id == data.owner_id
    assert order.status == "draft" and order.payment_status == "unpaid"
    assert [(ln.line_no, ln.product_id, ln.qty, ln.unit_price, ln.discount, ln.amount) for ln in order.lines] == [
        (1, data.p1_id, Decimal("3"), Decimal("33.33"), Decimal("10"), Decimal("89.99")),
        (2, data.p2_id, Decimal("2.5"), Decimal("19.99"), Decimal("0"), Decimal("49.98")),
    ]
    assert [ln.note for ln in order.lines] == ["第一行", None]
    assert order.total_amount == Decimal("139.97")
    assert order.price_exception is False

    show = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert order.number in show and "¥139.97" in show
    rows = _line_rows(show)
    assert [(r[0], r[5]) for r in rows] == [("1", "¥89.99"), ("2", "¥49.98")]
    assert rows[0][2:5] == ["3", "¥33.33", "10%"] and rows[1][2:5] == ["2.5", "¥19.99", "0%"]


def test_order_add_with_a_channel_and_a_blank_price_takes_the_sale_price(app, db, as_user, data, uid):
    lines = [{"product_id": data.p1_id, "qty": "2", "unit_price": "", "discount": "", "note": ""}]
    pk = data.create_order(as_user("sales1"), uid("项目"), lines, channel=str(data.channel_id), payment_days="0")
    order = _order(db, pk)
    assert order.channel_id == data.channel_id and order.due_date == order.doc_date
    assert order.lines[0].unit_price == Decimal("35.00") and order.total_amount == Decimal("70.00")


def test_order_add_page_offers_enabled_products(app, db, as_user, data):
    resp = as_user("sales1").get("/salesorderview/add")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'id="doc-lines"' in page and 'name="lines-0-product_id"' in page
    # the line's product is searched on demand (app/core/pickers.py): enabled products only
    assert _picked(as_user("sales1"), page, "lines-0-product_id", data.p1.model_no) == {data.p1_id}
    assert _picked(as_user("sales1"), page, "lines-0-product_id", data.off.model_no) == set()


BAD_LINES = {
    "qty_zero": (
        lambda d: [{"product_id": d.p1_id, "qty": "0", "unit_price": "33.33", "discount": "", "note": "零"}],
        ("Line %(n)s: the quantity must be greater than 0.", {"n": 1}),
    ),
    "negative_price": (
        lambda d: [
            {"product_id": d.p1_id, "qty": "1", "unit_price": "10", "discount": "", "note": ""},
            {"product_id": d.p2_id, "qty": "2", "unit_price": "-5", "discount": "", "note": "负价"},
        ],
        ("Line %(n)s: the unit price must be greater than 0.", {"n": 2}),
    ),
    "discount_101": (
        lambda d: [{"product_id": d.p1_id, "qty": "1", "unit_price": "10", "discount": "101", "note": ""}],
        ("Line %(n)s: the discount must be between 0 and 100%%.", {"n": 1}),
    ),
    "disabled_product": (
        lambda d: [{"product_id": d.off_id, "qty": "4", "unit_price": "9", "discount": "", "note": ""}],
        ("Line %(n)s: product “%(p)s” is disabled.", {"n": 1, "p": "OFF"}),
    ),
    "no_lines": (lambda d: [], ("An order needs at least one line.", {})),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_order_add_refuses_bad_lines_and_keeps_them_in_the_form(app, db, as_user, data, uid, case):
    make_lines, (msgid, kwargs) = BAD_LINES[case]
    if kwargs.get("p") == "OFF":
        kwargs = {**kwargs, "p": str(db.session.get(Product, data.off_id))}
    lines = make_lines(data)
    project = uid("坏单")
    resp = as_user("sales1").post("/salesorderview/add", data=data.order_form(lines, project))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert _alerts(page) == [_t(app, msgid, **kwargs)]
    db.session.expire_all()
    assert db.session.query(SalesOrder).filter_by(project_name=project).count() == 0
    # the header and every entered line are still there to be corrected
    assert f'value="{project}"' in page
    for i, line in enumerate(lines):
        assert re.search(rf'name="lines-{i}-qty"\s+value="{re.escape(line["qty"])}"', page)
        assert re.search(rf'name="lines-{i}-unit_price"\s+value="{re.escape(line["unit_price"])}"', page)
        if line["product_id"] != data.off_id:
            assert f'<option value="{line["product_id"]}" selected>' in page


def test_order_header_errors_keep_the_form(app, db, as_user, data, uid):
    client = as_user("sales1")
    other = Data(app, db, uid, owner="sales2")
    cases = {
        "payment_days": {"payment_days": "-1"},
        "end_customer": {"end_customer": str(other.customer_id)},  # not one of sales1's customers
    }
    for field, header in cases.items():
        project = uid("表头")
        resp = client.post("/salesorderview/add", data=data.order_form(data.lines(), project, **header))
        assert resp.status_code == 200, field
        page = resp.get_data(as_text=True)
        assert re.search(r'name="lines-1-unit_price"\s+value="19.99"', page), field
        db.session.expire_all()
        assert db.session.query(SalesOrder).filter_by(project_name=project).count() == 0, field
    # the customer picker (searched on demand) offers sales1's customer and never sales2's
    page = client.get("/salesorderview/add").get_data(as_text=True)
    assert _picked(client, page, "end_customer", data.customer.name) == {data.customer_id}
    assert _picked(client, page, "end_customer", other.customer.name) == set()


def test_quotation_validity_before_its_date_is_refused(app, db, as_user, data, uid):
    project = uid("报价")
    form = data.order_form(data.lines(), project) | {"valid_until": "2030-05-01"}
    resp = as_user("sales1").post("/quotationview/add", data=form)
    assert resp.status_code == 200
    assert _alerts(resp.get_data(as_text=True)) == [_t(app, "The validity date cannot be before the quotation date.")]
    db.session.expire_all()
    assert db.session.query(Quotation).filter_by(project_name=project).count() == 0


def test_order_edit_post_replaces_the_lines_and_recomputes(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    project = uid("改单")
    pk = data.create_order(sales1, project)
    lines = [
        {"product_id": data.p2_id, "qty": "1.333", "unit_price": "3.00", "discount": "33.33", "note": "改"},
    ]  # 1.333 × 3 × 66.67% = 2.6661… → 2.67
    resp = sales1.post(f"/salesorderview/edit/{pk}", data=data.order_form(lines, project, payment_days="10"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/salesorderview/show/{pk}")
    order = _order(db, pk)
    assert [(ln.line_no, ln.product_id, ln.qty, ln.discount, ln.amount, ln.note) for ln in order.lines] == [
        (1, data.p2_id, Decimal("1.333"), Decimal("33.33"), Decimal("2.67"), "改")
    ]
    assert order.total_amount == Decimal("2.67") and order.due_date == dt.date(2030, 5, 16)
    # a refused edit changes nothing
    bad = [{"product_id": data.p2_id, "qty": "-1", "unit_price": "3", "discount": "", "note": ""}]
    resp = sales1.post(f"/salesorderview/edit/{pk}", data=data.order_form(bad, project + "X"))
    assert resp.status_code == 200
    assert _alerts(resp.get_data(as_text=True)) == [_t(app, "Line %(n)s: the quantity must be greater than 0.", n=1)]
    order = _order(db, pk)
    assert order.project_name == project and order.total_amount == Decimal("2.67") and len(order.lines) == 1


def test_order_edit_below_received_is_refused_in_the_form(app, db, as_user, data, uid):
    sales1, manager = as_user("sales1"), as_user("manager")
    project = uid("改单")
    pk = data.create_order(sales1, project)
    assert _receipt(sales1, pk, "100.00").status_code == 302
    lines = [{"product_id": data.p1_id, "qty": "1", "unit_price": "99.99", "discount": "", "note": ""}]
    form = data.order_form(lines, project) | {"owner": str(data.owner_id)}
    resp = manager.post(f"/salesorderview/edit/{pk}", data=form)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    expected = _t(
        app,
        "The order total %(total)s cannot be less than the %(received)s already received.",
        total="¥99.99",
        received="¥100.00",
    )
    assert _alerts(page) == [expected]
    assert re.search(r'name="lines-0-unit_price"\s+value="99.99"', page)
    assert _order(db, pk).total_amount == Decimal("139.97")


@pytest.mark.sqlite_only(
    "the form refuses the blank customer without a query and the 201 posted lines are counted in Python "
    "(documents.MAX_LINES); nothing is written and no scoped query decides it"
)
def test_too_many_lines_with_a_bad_header_is_a_message_not_a_server_error(app, db, as_user, data, uid):
    lines = [{"product_id": data.p1_id, "qty": "1", "unit_price": "1", "discount": "", "note": ""}] * 201
    form = data.order_form(lines, uid("超行")) | {"end_customer": "__None"}
    resp = as_user("sales1").post("/salesorderview/add", data=form)
    assert resp.status_code == 200  # the form again, with the message


def test_price_endpoint_follows_the_customer_price_only_in_scope(app, db, as_user, data, uid):
    db.session.add(
        CustomerPrice(
            end_customer_id=data.customer_id, product_id=data.p1_id, price=Decimal("30"), owner_id=data.owner_id
        )
    )
    db.session.commit()
    query = f"/salesorderview/price?product={data.p1_id}&end_customer={data.customer_id}&qty=2"
    resp = as_user("sales1").get(query)
    assert resp.status_code == 200 and resp.json["price"] == "30.00" and resp.json["floor_price"] == "20.00"
    assert resp.json["promotion_id"] is None
    # another salesperson naming that customer gets the list price, not the agreed one
    assert as_user("sales2").get(query).json["price"] == "35.00"
    assert as_user("sales1").get(f"/salesorderview/price?product={data.off_id}").status_code == 404
    assert as_user("sales1").get("/salesorderview/price?product=x").status_code == 400


@pytest.mark.parametrize("page", ["order_add", "quotation_add", "order_edit"])
def test_a_blank_owner_chosen_by_a_manager_means_the_customers_salesperson(app, db, as_user, data, uid, page):
    manager = as_user("manager")
    project = uid("经理录单")
    form = data.order_form(data.lines(), project, owner="__None") | {"valid_until": ""}
    if page == "order_edit":
        pk = data.create_order(as_user("sales1"), project)
        assert manager.post(f"/salesorderview/edit/{pk}", data=form).status_code == 302
        model = SalesOrder
    else:
        view, model = ("salesorderview", SalesOrder) if page == "order_add" else ("quotationview", Quotation)
        assert manager.post(f"/{view}/add", data=form).status_code == 302
    db.session.expire_all()
    doc = db.session.query(model).filter_by(project_name=project).one()
    assert doc.owner_id == data.owner_id


# ---------------------------------------------------------------- 2. show page, buttons, workflow


def test_show_page_buttons_follow_the_state_and_the_role(app, db, as_user, data, uid):
    sales1, manager = as_user("sales1"), as_user("manager")
    pk = data.create_order(sales1, uid("审批"))
    url = f"/salesorderview/show/{pk}"

    page = sales1.get(url).get_data(as_text=True)
    assert len(_line_rows(page)) == 2
    assert _trail(page) == []  # the trail is there, empty
    assert {"edit", "submit", "cancel", "receive"} <= _buttons(page)
    assert not {"approve", "reject", "reopen", "refund"} & _buttons(page)

    resp = _press(sales1, url, "submit")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    assert _order(db, pk).status == "submitted"
    page = sales1.get(url).get_data(as_text=True)
    assert not {"edit", "submit", "approve", "reject"} & _buttons(page)
    assert [r[3] for r in _trail(page)] == [_name(app, "sales1")]
    # the owner can no longer open the form, nor approve
    after_submit = "After submission only a sales manager or an administrator can change this order."
    _edit_refused(sales1, f"/salesorderview/edit/{pk}", url, _t(app, after_submit))
    assert sales1.post(f"/salesorderview/action/approve/{pk}", data={"next": url}).status_code == 403
    assert _order(db, pk).status == "submitted"

    page = manager.get(url).get_data(as_text=True)
    assert {"approve", "reject", "edit"} <= _buttons(page)
    assert "submit" not in _buttons(page)
    resp = _press(manager, url, "approve")
    assert resp.status_code == 302
    order = _order(db, pk)
    assert order.status == "approved" and order.approved_at is not None
    page = manager.get(url).get_data(as_text=True)
    assert not {"approve", "reject", "edit", "submit"} & _buttons(page)
    assert [r[3] for r in _trail(page)] == [_name(app, "sales1"), _name(app, "manager")]
    # approved orders are locked for everyone
    locked = _t(app, "An approved or cancelled order cannot be changed.")
    _edit_refused(sales1, f"/salesorderview/edit/{pk}", url, locked)
    _edit_refused(manager, f"/salesorderview/edit/{pk}", url, locked)
    assert _order(db, pk).total_amount == Decimal("139.97") and len(_order(db, pk).lines) == 2


def test_reject_needs_a_reason_then_back_to_draft_and_resubmit(app, db, as_user, data, uid):
    sales1, manager = as_user("sales1"), as_user("manager")
    pk = data.create_order(sales1, uid("驳回"))
    url = f"/salesorderview/show/{pk}"
    _press(sales1, url, "submit")
    page = manager.get(url).get_data(as_text=True)
    reject_link = re.search(r'<a class="btn btn-sm btn-danger" id="doc-reject" href="([^"]+)"', page)
    assert reject_link and reject_link.group(1) == f"/salesorderview/reject/{pk}"

    form = manager.get(f"/salesorderview/reject/{pk}")
    assert form.status_code == 200 and 'name="comment"' in form.get_data(as_text=True)
    resp = manager.post(f"/salesorderview/reject/{pk}", data={"comment": "  "})
    assert resp.status_code == 200
    assert _alerts(resp.get_data(as_text=True)) == [_t(app, "A reason is required to reject.")]
    assert _order(db, pk).status == "submitted"
    # a salesperson may not reject
    assert sales1.post(f"/salesorderview/reject/{pk}", data={"comment": "自己驳回"}).status_code == 403
    assert _order(db, pk).status == "submitted"

    resp = manager.post(f"/salesorderview/reject/{pk}", data={"comment": "价格需复核"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    assert _order(db, pk).status == "rejected"
    page = sales1.get(url).get_data(as_text=True)
    assert {"reopen", "submit", "edit"} <= _buttons(page)
    assert _trail(page)[-1][4] == "价格需复核"

    assert _press(sales1, url, "reopen").status_code == 302
    assert _order(db, pk).status == "draft"
    _approve(as_user, pk)
    assert _order(db, pk).status == "approved"
    actions = [
        (r.action, r.user_id, r.comment)
        for r in db.session.query(ApprovalRecord)
        .filter_by(doc_type="sales_order", doc_id=pk)
        .order_by(ApprovalRecord.id)
    ]
    s1, mgr = user_id(app, "sales1"), user_id(app, "manager")
    assert actions == [
        ("submit", s1, None),
        ("reject", mgr, "价格需复核"),
        ("reopen", s1, None),
        ("submit", s1, None),
        ("approve", mgr, None),
    ]


def test_red_line_price_is_accepted_by_the_manager_on_approval(app, db, as_user, data, uid):
    lines = [{"product_id": data.p1_id, "qty": "2", "unit_price": "25", "discount": "40", "note": ""}]  # net 15 < 20
    pk = data.create_order(as_user("sales1"), uid("红线"), lines)
    assert _order(db, pk).price_exception is True
    _approve(as_user, pk)
    order = _order(db, pk)
    assert order.status == "approved" and order.lines[0].price_accepted_by_id == user_id(app, "manager")
    page = as_user("sales1").get(f"/salesorderview/show/{pk}").get_data(as_text=True)
    comment = _trail(page)[-1][4]
    assert data.p1.model_no in comment and "¥15.00 < ¥20.00" in comment
    assert _line_rows(page)[0][-1] == _name(app, "manager")


def test_credit_limit_blocks_submit_until_a_manager_overrides(app, db, as_user, data, uid):
    customer = db.session.get(EndCustomer, data.customer_id)
    customer.credit_limit = Decimal("100")
    customer_name = customer.name
    db.session.commit()
    sales1, manager = as_user("sales1"), as_user("manager")
    pk = data.create_order(sales1, uid("信用"))
    url = f"/salesorderview/show/{pk}"
    resp = _press(sales1, url, "submit")
    assert resp.status_code == 302
    over = _t(
        app,
        "Over the credit limit of %(customer)s: limit %(limit)s, exposure %(exposure)s (of which shipped but "
        "not invoiced %(uninvoiced)s), over by %(excess)s.",
        customer=customer_name,
        limit="¥100.00",
        exposure="¥139.97",
        uninvoiced="¥0.00",
        excess="¥39.97",
    )
    assert _alerts(sales1.get(url).get_data(as_text=True)) == [over]
    assert _order(db, pk).status == "draft"
    assert "credit_override" not in _buttons(sales1.get(url).get_data(as_text=True))
    assert "credit_override" in _buttons(manager.get(url).get_data(as_text=True))
    resp = manager.post(f"/salesorderview/credit_override/{pk}", data={"comment": ""})
    assert resp.status_code == 200
    assert _alerts(resp.get_data(as_text=True)) == [_t(app, "A reason is required to override the credit limit.")]
    assert manager.post(f"/salesorderview/credit_override/{pk}", data={"comment": "老客户担保"}).status_code == 302
    assert _press(sales1, url, "submit").status_code == 302
    assert _order(db, pk).status == "submitted"
    trail = _trail(sales1.get(url).get_data(as_text=True))
    assert "老客户担保" in trail[0][4] and len(trail) == 2


def test_large_order_needs_a_second_level_after_the_manager(app, db, as_user, data, uid):
    lines = [{"product_id": data.p1_id, "qty": "1000", "unit_price": "100.00", "discount": "", "note": ""}]
    pk = data.create_order(as_user("sales1"), uid("大单"), lines)
    url = f"/salesorderview/show/{pk}"
    assert _order(db, pk).total_amount == Decimal("100000.00")
    _press(as_user("sales1"), url, "submit")
    assert _press(as_user("manager"), url, "approve").status_code == 302
    order = _order(db, pk)
    assert order.status == "submitted" and order.approval_level == 2
    # the manager's second approval is refused (level 2 is the administrator's), the administrator completes it
    manager = as_user("manager")
    resp = manager.post(f"/salesorderview/action/approve/{pk}", data={"next": url})
    assert resp.status_code == 302
    assert _alerts(manager.get(url).get_data(as_text=True)) == [_t(app, "You are not an approver at this level.")]
    assert _order(db, pk).status == "submitted"
    assert _press(as_user("admin"), url, "approve").status_code == 302
    order = _order(db, pk)
    assert order.status == "approved" and order.approved_at is not None
    levels = [
        (r.action, r.level)
        for r in db.session.query(ApprovalRecord)
        .filter_by(doc_type="sales_order", doc_id=pk)
        .order_by(ApprovalRecord.id)
    ]
    assert levels == [("submit", 0), ("approve", 1), ("approve", 2)]


def test_approve_buttons_only_for_the_approver_of_the_current_level(app, db, as_user, data, uid):
    lines = [{"product_id": data.p1_id, "qty": "1000", "unit_price": "100.00", "discount": "", "note": ""}]
    pk = data.create_order(as_user("sales1"), uid("大单"), lines)
    url = f"/salesorderview/show/{pk}"
    _press(as_user("sales1"), url, "submit")
    _press(as_user("manager"), url, "approve")
    assert {"approve", "reject"} <= _buttons(as_user("admin").get(url).get_data(as_text=True))
    assert not {"approve", "reject"} & _buttons(as_user("manager").get(url).get_data(as_text=True))


def test_cancel_order_and_no_more_money_on_it(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    paid = data.create_order(sales1, uid("作废"))
    assert _receipt(sales1, paid, "5.00").status_code == 302
    resp = sales1.post(f"/salesorderview/cancel/{paid}", data={"comment": "客户取消"})
    assert resp.status_code == 200
    number = _order(db, paid).number
    expected = _t(app, "%(amount)s was received on order %(no)s; refund it first.", amount="¥5.00", no=number)
    assert _alerts(resp.get_data(as_text=True)) == [expected]
    assert _order(db, paid).status == "draft"

    pk = data.create_order(sales1, uid("作废"))
    url = f"/salesorderview/show/{pk}"
    assert sales1.get(f"/salesorderview/cancel/{pk}").status_code == 200
    resp = sales1.post(f"/salesorderview/cancel/{pk}", data={"comment": "客户取消"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    assert _order(db, pk).status == "cancelled"
    page = sales1.get(url).get_data(as_text=True)
    assert _buttons(page) == set()
    assert _trail(page)[-1][4] == "客户取消"
    _receipt(sales1, pk, "1.00")
    assert db.session.query(Receipt).filter_by(order_id=pk).count() == 0
    assert _order(db, pk).received_amount == Decimal("0")


def test_receipt_on_a_cancelled_order_says_why(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    pk = data.create_order(sales1, uid("作废"))
    sales1.post(f"/salesorderview/cancel/{pk}", data={"comment": ""})
    resp = _receipt(sales1, pk, "1.00")
    assert resp.status_code == 302  # back to the receipts, the refusal flashed
    page = sales1.get(resp.headers["Location"]).get_data(as_text=True)
    assert _alerts(page)


# ---------------------------------------------------------------- 3. receipts and refunds


def test_receipts_up_to_the_total_mark_the_order_paid(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    pk = data.create_order(sales1, uid("收款"))
    _approve(as_user, pk)
    show = sales1.get(f"/salesorderview/show/{pk}").get_data(as_text=True)
    receive = re.search(r'id="doc-receive" href="([^"]+)"', show)
    assert receive and html_lib.unescape(receive.group(1)) == f"/receiptview/add?_flt_0_order={pk}"
    assert sales1.get(f"/receiptview/add?_flt_0_order={pk}").status_code == 200

    resp = _receipt(sales1, pk, "100.00", note=uid("首款"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/receiptview/list/")
    order = _order(db, pk)
    assert order.received_amount == Decimal("100.00") and order.payment_status == "partial"

    # one cent over the 39.97 still due: refused with the numbers, nothing written
    resp = _receipt(sales1, pk, "39.98", note="多一分")
    page = sales1.get(resp.headers["Location"]).get_data(as_text=True)
    expected = _t(
        app,
        "Receipts would exceed the order total: total %(total)s, received %(received)s, at most %(left)s more.",
        total="¥139.97",
        received="¥100.00",
        left="¥39.97",
    )
    assert expected in _alerts(page)
    assert db.session.query(Receipt).filter_by(order_id=pk).count() == 1
    assert _order(db, pk).received_amount == Decimal("100.00")

    assert _receipt(sales1, pk, "39.97", note=uid("尾款")).status_code == 302
    order = _order(db, pk)
    assert order.received_amount == Decimal("139.97") and order.outstanding_amount == Decimal("0")
    assert order.payment_status == "paid"
    receipts = db.session.query(Receipt).filter_by(order_id=pk).order_by(Receipt.id).all()
    assert [(r.amount, r.method, r.owner_id) for r in receipts] == [
        (Decimal("100.00"), "bank", data.owner_id),
        (Decimal("39.97"), "bank", data.owner_id),
    ]
    assert all(r.number.startswith("SK") for r in receipts)
    show = sales1.get(f"/salesorderview/show/{pk}").get_data(as_text=True)
    assert _t(app, "Paid") in show
    assert "receive" not in _buttons(show)  # nothing left to receive

    resp = _receipt(sales1, pk, "0.01")
    expected = _t(
        app,
        "Receipts would exceed the order total: total %(total)s, received %(received)s, at most %(left)s more.",
        total="¥139.97",
        received="¥139.97",
        left="¥0.00",
    )
    assert _alerts(sales1.get(resp.headers["Location"]).get_data(as_text=True)) == [expected]
    assert db.session.query(Receipt).filter_by(order_id=pk).count() == 2
    assert _order(db, pk).received_amount == Decimal("139.97")


@pytest.mark.parametrize(
    "amount,msgid",
    [
        ("0", "%(label)s must be greater than 0."),
        ("-1", "%(label)s must be greater than 0."),
        ("10.001", "At most 2 decimals in the amount."),
    ],
)
def test_receipt_amount_must_be_positive_cents(app, db, as_user, data, uid, amount, msgid):
    sales1 = as_user("sales1")
    pk = data.create_order(sales1, uid("收款"))
    resp = _receipt(sales1, pk, amount)
    assert resp.status_code == 302
    expected = _t(app, msgid, label=_t(app, "Amount"))
    assert _alerts(sales1.get(resp.headers["Location"]).get_data(as_text=True)) == [expected]
    assert db.session.query(Receipt).filter_by(order_id=pk).count() == 0
    assert _order(db, pk).received_amount == Decimal("0")


def test_only_finance_deletes_a_receipt_and_the_order_follows(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    pk = data.create_order(sales1, uid("删收款"))
    assert _receipt(sales1, pk, "139.97").status_code == 302
    receipt_id = db.session.query(Receipt).filter_by(order_id=pk).one().id
    assert _order(db, pk).payment_status == "paid"
    resp = sales1.post(f"/receiptview/delete/{receipt_id}")
    assert resp.status_code == 302
    expected = _t(app, "Only finance or an administrator can delete a receipt.")
    assert _alerts(sales1.get(resp.headers["Location"]).get_data(as_text=True)) == [expected]
    db.session.expire_all()
    assert db.session.get(Receipt, receipt_id) is not None
    assert _order(db, pk).received_amount == Decimal("139.97")
    assert as_user("finance").post(f"/receiptview/delete/{receipt_id}").status_code == 302
    db.session.expire_all()
    assert db.session.get(Receipt, receipt_id) is None
    order = _order(db, pk)
    assert order.received_amount == Decimal("0") and order.payment_status == "unpaid"


def test_refund_cannot_exceed_what_was_received(app, db, as_user, data, uid):
    sales1, manager = as_user("sales1"), as_user("manager")
    pk = data.create_order(sales1, uid("退款"))
    _approve(as_user, pk)
    assert _receipt(sales1, pk, "50.00").status_code == 302
    show = manager.get(f"/salesorderview/show/{pk}").get_data(as_text=True)
    assert "refund" in _buttons(show)

    def refund(amount, reason="质量问题"):
        return manager.post(
            f"/refundview/add?_flt_0_order={pk}",
            data={"order": str(pk), "doc_date": DAY, "amount": amount, "reason": reason},
        )

    resp = refund("50.01")
    page = manager.get(resp.headers["Location"]).get_data(as_text=True)
    expected = _t(
        app,
        "A refund cannot exceed what was received: received %(received)s, refund %(amount)s.",
        received="¥50.00",
        amount="¥50.01",
    )
    assert expected in _alerts(page)
    assert db.session.query(Refund).filter_by(order_id=pk).count() == 0
    assert _order(db, pk).refunded_amount == Decimal("0")

    assert refund("20.00").status_code == 302
    order = _order(db, pk)
    assert order.refunded_amount == Decimal("20.00") and order.net_received == Decimal("30.00")
    assert order.payment_status == "partial"
    refunds = db.session.query(Refund).filter_by(order_id=pk).all()
    assert [(r.amount, r.reason, r.owner_id) for r in refunds] == [(Decimal("20.00"), "质量问题", data.owner_id)]
    assert refunds[0].number.startswith("TK")
    # the rest, and not a cent more
    refund("30.01")
    assert _order(db, pk).refunded_amount == Decimal("20.00")
    assert refund("30.00").status_code == 302
    order = _order(db, pk)
    assert order.net_received == Decimal("0") and order.payment_status == "unpaid"
    # salespeople see refunds but do not post them
    assert "refund" not in _buttons(sales1.get(f"/salesorderview/show/{pk}").get_data(as_text=True))
    assert sales1.get(f"/refundview/add?_flt_0_order={pk}").status_code == 403
    assert (
        sales1.post(
            f"/refundview/add?_flt_0_order={pk}", data={"order": str(pk), "doc_date": DAY, "amount": "1", "reason": "x"}
        ).status_code
        == 403
    )
    assert db.session.query(Refund).filter_by(order_id=pk).count() == 2


# ---------------------------------------------------------------- 4. list totals, receivables, received


def _db_sums(db, owner_ids=None, **filters):
    q = db.session.query(SalesOrder).filter_by(**filters)
    if owner_ids is not None:
        q = q.filter(SalesOrder.owner_id.in_(owner_ids))
    orders = q.all()
    total = sum((o.total_amount for o in orders), Decimal(0))
    received = sum((o.received_amount - o.refunded_amount for o in orders), Decimal(0))
    outstanding = sum((o.outstanding_amount for o in orders), Decimal(0))  # credits (discounts, rebates) count too
    return {"total_amount": total, "net_received": received, "outstanding_amount": outstanding}


def test_list_totals_sum_what_each_user_sees(app, db, as_user, data, uid):
    sales1, sales2, manager = as_user("sales1"), as_user("sales2"), as_user("manager")
    other = Data(app, db, uid, owner="sales2")
    prefix = uid("合计")
    a = data.create_order(sales1, prefix + "A")
    b = data.create_order(
        sales1,
        prefix + "B",
        [{"product_id": data.p2_id, "qty": "7", "unit_price": "1000.10", "discount": "5", "note": ""}],
    )  # 6650.665 → 6650.67
    c = other.create_order(sales2, prefix + "C")
    _approve(as_user, a)
    assert _receipt(sales1, a, "39.97").status_code == 302
    db.session.expire_all()
    assert db.session.get(SalesOrder, b).total_amount == Decimal("6650.67")

    flt = f"_flt_0_project_name={prefix}"
    assert _totals(sales1.get(f"/salesorderview/list/?{flt}").get_data(as_text=True), sales1) == {
        "total_amount": Decimal("6790.64"),
        "net_received": Decimal("39.97"),
        "outstanding_amount": Decimal("6750.67"),
    }
    assert _totals(sales2.get(f"/salesorderview/list/?{flt}").get_data(as_text=True), sales2) == {
        "total_amount": Decimal("139.97"),
        "net_received": Decimal("0.00"),
        "outstanding_amount": Decimal("139.97"),
    }
    assert _totals(manager.get(f"/salesorderview/list/?{flt}").get_data(as_text=True), manager)[
        "total_amount"
    ] == Decimal("6930.61")
    # without a filter: everything in each one's scope
    db.session.expire_all()
    s1, s2 = user_id(app, "sales1"), user_id(app, "sales2")
    assert _totals(sales1.get("/salesorderview/list/").get_data(as_text=True), sales1) == _db_sums(db, [s1])
    assert _totals(sales2.get("/salesorderview/list/").get_data(as_text=True), sales2) == _db_sums(db, [s2])
    assert _totals(manager.get("/salesorderview/list/").get_data(as_text=True), manager) == _db_sums(db)
    numbers = {pk: db.session.get(SalesOrder, pk).number for pk in (a, b, c)}
    page = sales2.get(f"/salesorderview/list/?{flt}").get_data(as_text=True)
    assert numbers[c] in page and numbers[a] not in page and numbers[b] not in page


def test_receivables_and_received_pages(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    prefix = uid("应收")
    pk = data.create_order(sales1, prefix + "A")
    draft = data.create_order(sales1, prefix + "B")
    _approve(as_user, pk)
    number, draft_number = _order(db, pk).number, _order(db, draft).number
    both = f"_flt_0_project_name={prefix}"
    for username in ("manager", "finance"):
        client = as_user(username)
        page = client.get(f"/receivableview/list/?{both}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert number in html and draft_number not in html  # only approved orders are receivable
        assert _totals(html, client) == {
            "total_amount": Decimal("139.97"),
            "net_received": Decimal("0.00"),
            "outstanding_amount": Decimal("139.97"),
        }
        assert number not in as_user(username).get(f"/receivedview/list/?{both}").get_data(as_text=True)
    assert _receipt(sales1, pk, "100.00").status_code == 302
    assert _receipt(sales1, draft, "1.00").status_code == 302
    db.session.expire_all()
    for username in ("manager", "finance"):
        client = as_user(username)
        receivable = client.get(f"/receivableview/list/?{both}").get_data(as_text=True)
        assert number in receivable and _totals(receivable, client)["outstanding_amount"] == Decimal("39.97")
        received = client.get(f"/receivedview/list/?{both}")
        assert received.status_code == 200
        html = received.get_data(as_text=True)
        assert number in html and draft_number in html  # received money, whatever the state
        assert _totals(html, client) == {
            "total_amount": Decimal("279.94"),
            "net_received": Decimal("101.00"),
            "outstanding_amount": Decimal("178.94"),
            "commission_amount": Decimal("0.00"),
        }
    assert _receipt(sales1, pk, "39.97").status_code == 302
    assert number not in as_user("finance").get(f"/receivableview/list/?{both}").get_data(as_text=True)
    manager = as_user("manager")
    received_total = _totals(manager.get("/receivedview/list/").get_data(as_text=True), manager)["net_received"]
    paid = [o for o in db.session.query(SalesOrder).all() if o.received_amount - o.refunded_amount > 0]
    assert received_total == sum((o.received_amount - o.refunded_amount for o in paid), Decimal(0))


@pytest.mark.sqlite_only("the menu is drawn in Python from the role's permissions; no query of the data decides it")
@pytest.mark.parametrize("username", ["manager", "finance"])
def test_received_list_is_in_the_menu(app, as_user, username):
    home = as_user(username).get("/").get_data(as_text=True)
    assert 'href="/receivableview/list/"' in home
    assert 'href="/receivedview/list/"' in home


# ---------------------------------------------------------------- 5. export


# the order export's columns: the order's, then the line's, then the order's amounts on its first line
EXPORT_KEYS = [
    "number",
    "doc_date",
    "end_customer",
    "channel",
    "project_name",
    "order_type",
    "status",
    "owner",
    "line_no",
    "model_no",
    "product",
    "qty",
    "unit_price",
    "discount",
    "amount",
    "total_amount",
    "net_received",
]


def _xlsx_rows(resp):
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(resp.data), read_only=True).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def _cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_export_has_one_row_per_line_and_a_total_row(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    prefix = uid("导出")
    a = data.create_order(sales1, prefix + "A")
    b = data.create_order(
        sales1,
        prefix + "B",
        [{"product_id": data.p1_id, "qty": "1.5", "unit_price": "0.03", "discount": "", "note": ""}],
    )  # 0.045 → 0.05
    _approve(as_user, a)
    assert _receipt(sales1, a, "10.00").status_code == 302
    na, nb = _order(db, a).number, _order(db, b).number
    header, rows = _xlsx_rows(sales1.get(f"/salesorderview/export_xlsx/?_flt_0_project_name={prefix}"))
    col = {key: i for i, key in enumerate(EXPORT_KEYS)}
    assert len(header) == len(col)
    assert len(rows) == 4  # 2 + 1 lines, then the total
    lines, total = rows[:-1], rows[-1]
    assert [(r[col["number"]], r[col["line_no"]]) for r in lines] == [(nb, 1), (na, 1), (na, 2)]
    assert {r[col["owner"]] for r in lines} == {"sales1"}
    assert {r[col["end_customer"]] for r in lines} == {data.customer.name}
    first = lines[1]
    assert first[col["model_no"]] == data.p1.model_no and first[col["product"]] == data.p1.name
    assert _cents(first[col["qty"]]) == Decimal("3") and _cents(first[col["unit_price"]]) == Decimal("33.33")
    assert _cents(first[col["discount"]]) == Decimal("10") and _cents(first[col["amount"]]) == Decimal("89.99")
    assert _cents(first[col["total_amount"]]) == Decimal("139.97") and _cents(first[col["net_received"]]) == Decimal(
        "10.00"
    )
    assert lines[2][col["total_amount"]] is None  # the order's amounts only on its first line
    assert _cents(lines[2][col["amount"]]) == Decimal("49.98")
    assert _cents(lines[0][col["amount"]]) == Decimal("0.05")
    assert total[col["number"]] == _t(app, "Total")
    assert _cents(total[col["amount"]]) == Decimal("140.02")
    assert _cents(total[col["total_amount"]]) == Decimal("140.02")
    assert _cents(total[col["net_received"]]) == Decimal("10.00")


def test_salesperson_export_holds_only_their_orders(app, db, as_user, data, uid):
    other = Data(app, db, uid, owner="sales2")
    mine = data.create_order(as_user("sales1"), uid("我的"))
    theirs = other.create_order(as_user("sales2"), uid("别人"))
    mine_no, theirs_no = _order(db, mine).number, _order(db, theirs).number
    _header, rows = _xlsx_rows(as_user("sales1").get("/salesorderview/export_xlsx/"))
    lines, total = rows[:-1], rows[-1]
    col = {key: i for i, key in enumerate(EXPORT_KEYS)}
    numbers = {r[col["number"]] for r in lines}
    assert mine_no in numbers and theirs_no not in numbers
    assert {r[col["owner"]] for r in lines} == {"sales1"}
    db.session.expire_all()
    expected = _db_sums(db, [user_id(app, "sales1")])["total_amount"]
    # opening receivables 期初应收 are orders without lines
    in_lines = _db_sums(db, [user_id(app, "sales1")], is_opening=False)["total_amount"]
    assert _cents(total[col["total_amount"]]) == expected and _cents(total[col["amount"]]) == in_lines
    _header, rows = _xlsx_rows(as_user("manager").get("/salesorderview/export_xlsx/"))
    assert {mine_no, theirs_no} <= {r[0] for r in rows}


# ---------------------------------------------------------------- 6. scope


def test_another_salesperson_cannot_reach_the_order(app, db, as_user, data, uid):
    sales1, sales2 = as_user("sales1"), as_user("sales2")
    project = uid("私有")
    pk = data.create_order(sales1, project)
    assert _receipt(sales1, pk, "10.00").status_code == 302
    receipt = db.session.query(Receipt).filter_by(order_id=pk).one()
    number, receipt_no, receipt_id = _order(db, pk).number, receipt.number, receipt.id
    url = f"/salesorderview/show/{pk}"
    assert sales2.get(url).status_code == 404
    assert sales2.get(f"/salesorderview/edit/{pk}").status_code == 404
    assert sales2.post(f"/salesorderview/edit/{pk}", data=data.order_form(data.lines(), "改")).status_code == 404
    assert sales2.get(f"/receiptview/show/{receipt_id}").status_code == 404
    assert sales2.post(f"/salesorderview/action/submit/{pk}", data={"next": url}).status_code == 404
    assert sales2.get(f"/salesorderview/cancel/{pk}").status_code == 404
    # a receipt posted against it from sales2's session is refused and writes nothing
    _receipt(sales2, pk, "1.00")
    assert db.session.query(Receipt).filter_by(order_id=pk).count() == 1
    assert _order(db, pk).received_amount == Decimal("10.00") and _order(db, pk).status == "draft"
    assert number not in sales2.get(f"/receiptview/add?_flt_0_order={pk}").get_data(as_text=True)
    _approve(as_user, pk)  # now receivable and received too
    # each list narrowed to this order by a filter that does not echo the number being looked for
    lists = {
        f"/salesorderview/list/?_flt_0_project_name={project}": number,
        f"/receivableview/list/?_flt_0_project_name={project}": number,
        f"/receivedview/list/?_flt_0_project_name={project}": number,
        f"/receiptview/list/?_flt_0_order={pk}": receipt_no,
        f"/salesorderview/export_xlsx/?_flt_0_project_name={project}": number,
    }

    def seen(username, path, text):
        resp = as_user(username).get(path)
        if "export_xlsx" in path:
            return [row[0] for row in _xlsx_rows(resp)[1][:-1]] == [text, text]  # its two lines
        return text in resp.get_data(as_text=True)

    for path, text in lists.items():
        seen_by = {u: seen(u, path, text) for u in ("sales1", "sales2", "manager")}
        assert seen_by == {"sales1": True, "sales2": False, "manager": True}, path


def test_end_customer_page_lists_its_orders_and_quotations(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    pk = data.create_order(sales1, uid("客户页"))
    resp = sales1.post("/quotationview/add", data=data.order_form(data.lines(), uid("报价")) | {"valid_until": ""})
    assert resp.status_code == 302
    db.session.expire_all()
    quotation = db.session.query(Quotation).filter_by(end_customer_id=data.customer_id).one()
    page = sales1.get(f"/endcustomerview/show/{data.customer_id}").get_data(as_text=True)
    assert _order(db, pk).number in page and quotation.number in page
    # another customer's page does not list them
    other = Data(app, db, uid)
    page = sales1.get(f"/endcustomerview/show/{other.customer_id}").get_data(as_text=True)
    assert _order(db, pk).number not in page and quotation.number not in page
    assert as_user("sales2").get(f"/endcustomerview/show/{data.customer_id}").status_code == 404


# ---------------------------------------------------------------- 7. quotation → order


def test_quotation_converts_once_into_a_draft_order_with_its_lines(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    project = uid("报价")
    form = data.order_form(data.lines(), project, channel=str(data.channel_id)) | {"valid_until": "2030-06-30"}
    resp = sales1.post("/quotationview/add", data=form)
    assert resp.status_code == 302
    qid = int(re.search(r"/quotationview/show/(\d+)$", resp.headers["Location"]).group(1))
    db.session.expire_all()
    quotation = db.session.get(Quotation, qid)
    assert quotation.number.startswith("BJ") and quotation.status == "open"
    assert quotation.total_amount == Decimal("139.97") and quotation.owner_id == data.owner_id
    show = sales1.get(f"/quotationview/show/{qid}").get_data(as_text=True)
    assert {"edit", "convert"} <= _buttons(show) and "open_order" not in _buttons(show)
    assert [r[5] for r in _line_rows(show)] == ["¥89.99", "¥49.98"]

    resp = _press(sales1, f"/quotationview/show/{qid}", "convert")
    assert resp.status_code == 302
    oid = int(re.search(r"/salesorderview/show/(\d+)$", resp.headers["Location"]).group(1))
    db.session.expire_all()
    order = db.session.get(SalesOrder, oid)
    quotation = db.session.get(Quotation, qid)
    assert quotation.status == "converted" and quotation.order_id == oid
    assert order.status == "draft" and order.number.startswith("XS") and order.owner_id == data.owner_id
    assert (order.end_customer_id, order.channel_id, order.project_name) == (data.customer_id, data.channel_id, project)
    assert [(ln.product_id, ln.qty, ln.unit_price, ln.discount, ln.amount) for ln in order.lines] == [
        (ln.product_id, ln.qty, ln.unit_price, ln.discount, ln.amount) for ln in quotation.lines
    ]
    assert order.total_amount == Decimal("139.97")
    show = sales1.get(f"/quotationview/show/{qid}").get_data(as_text=True)
    assert "open_order" in _buttons(show) and "convert" not in _buttons(show)

    # a second conversion (an old tab) is refused and makes no second order
    resp = sales1.post(f"/quotationview/action/convert/{qid}", data={"next": f"/quotationview/show/{qid}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/quotationview/show/{qid}")
    page = sales1.get(resp.headers["Location"]).get_data(as_text=True)
    assert _t(app, "Quotation %(no)s is not open.", no=quotation.number) in _alerts(page)
    db.session.expire_all()
    assert db.session.query(SalesOrder).filter_by(project_name=project).count() == 1
    # a converted quotation can no longer be edited
    show_url = f"/quotationview/show/{qid}"
    _edit_refused(sales1, f"/quotationview/edit/{qid}", show_url, _t(app, "Only an open quotation can be changed."))


@pytest.mark.every_database(
    "the quantity 2.5 is read back from a NUMERIC(14,3) column and must show as 2.500 whatever scale the driver returns"
)
def test_quotation_edit_page_shows_its_lines(app, db, as_user, data, uid):
    sales1 = as_user("sales1")
    resp = sales1.post("/quotationview/add", data=data.order_form(data.lines(), uid("报价")) | {"valid_until": ""})
    qid = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = sales1.get(f"/quotationview/edit/{qid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'name="lines-1-qty"\s+value="2.500"', html)


# ---------------------------------------------------------------- 8. expense claims and costs


def _cost_row(html: str, name: str):
    table = re.search(r'id="costs-owner">(.*?)</table>', html, re.S)
    assert table, "no per-salesperson table"
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        cells = [
            html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells and cells[0] == name:
            return [_money(c) for c in cells[1:]]
    return [Decimal(0), Decimal(0), Decimal(0)]


def test_expense_claim_submit_approve_and_accumulated_costs(app, db, as_user, uid):
    sales1, manager = as_user("sales1"), as_user("manager")
    kind = ExpenseType(name=uid("差旅"))
    db.session.add(kind)
    db.session.commit()
    kind_id = kind.id
    s1_name = _name(app, "sales1")
    before = _cost_row(sales1.get("/expenseview/costs/").get_data(as_text=True), s1_name)
    note = uid("出差")
    resp = sales1.post(
        "/expenseview/add",
        data={"doc_date": DAY, "expense_type": str(kind_id), "amount": "123.45", "channel": "__None", "note": note},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    claim = db.session.query(Expense).filter_by(note=note).one()
    assert claim.number.startswith("BX") and claim.status == "draft" and claim.owner_id == user_id(app, "sales1")
    url = f"/expenseview/show/{claim.id}"
    assert {"edit", "submit"} <= _buttons(sales1.get(url).get_data(as_text=True))
    # a draft claim is no cost yet
    assert _cost_row(sales1.get("/expenseview/costs/").get_data(as_text=True), s1_name) == before

    assert _press(sales1, url, "submit").status_code == 302
    db.session.expire_all()
    assert db.session.get(Expense, claim.id).status == "submitted"
    assert sales1.post(f"/expenseview/action/approve/{claim.id}", data={"next": url}).status_code == 403
    assert "edit" not in _buttons(sales1.get(url).get_data(as_text=True))
    changed = {"doc_date": DAY, "expense_type": str(kind_id), "amount": "999.00", "channel": "__None", "note": note}
    sales1.post(f"/expenseview/edit/{claim.id}", data=changed)
    db.session.expire_all()
    assert db.session.get(Expense, claim.id).amount == Decimal("123.45")
    assert _press(manager, url, "approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(Expense, claim.id).status == "approved"

    after = _cost_row(sales1.get("/expenseview/costs/").get_data(as_text=True), s1_name)
    assert after[1] - before[1] == Decimal("123.45") and after[2] - before[2] == Decimal("123.45")
    assert after[0] == before[0]
    # the manager sees the same figure; sales2 does not see sales1's costs
    assert _cost_row(manager.get("/expenseview/costs/").get_data(as_text=True), s1_name) == after
    assert _cost_row(as_user("sales2").get("/expenseview/costs/").get_data(as_text=True), s1_name) == [Decimal(0)] * 3
    db.session.expire_all()
    s1_total = sum(
        (e.amount for e in db.session.query(Expense).filter_by(owner_id=user_id(app, "sales1"), status="approved")),
        Decimal(0),
    )
    assert after[1] == s1_total


def _commission_setup(db, data, uid, rate="5"):
    level = ChannelLevel(name=uid("级"))
    db.session.add(level)
    db.session.flush()
    db.session.add(CommissionRate(level_id=level.id, rate=Decimal(rate)))
    db.session.get(ChannelCustomer, data.channel_id).level_id = level.id
    db.session.commit()


def test_commission_claim_approval_clawback_and_costs(app, db, as_user, data, uid):
    _commission_setup(db, data, uid)
    sales1, manager = as_user("sales1"), as_user("manager")
    s1_name = _name(app, "sales1")
    before = _cost_row(sales1.get("/expenseview/costs/").get_data(as_text=True), s1_name)
    pk = data.create_order(sales1, uid("佣金"), channel=str(data.channel_id))
    url = f"/salesorderview/show/{pk}"
    _approve(as_user, pk)
    assert _receipt(sales1, pk, "100.00").status_code == 302
    resp = sales1.post(f"/salesorderview/action/apply_commission/{pk}", data={"next": url})
    assert resp.status_code == 302
    claim = db.session.query(Commission).filter_by(order_id=pk).one()
    assert resp.headers["Location"].endswith(f"/commissionview/show/{claim.id}")
    assert (claim.kind, claim.base_amount, claim.rate, claim.amount, claim.status) == (
        "claim",
        Decimal("100.00"),
        Decimal("5.00"),
        Decimal("5.00"),
        "submitted",
    )
    assert claim.owner_id == data.owner_id and claim.number.startswith("YJ")
    # nothing left to claim on
    sales1.post(f"/salesorderview/action/apply_commission/{pk}", data={"next": url})
    assert db.session.query(Commission).filter_by(order_id=pk).count() == 1
    curl = f"/commissionview/show/{claim.id}"
    assert not {"approve", "reject"} & _buttons(sales1.get(curl).get_data(as_text=True))
    assert _press(manager, curl, "approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(Commission, claim.id).status == "approved"
    after = _cost_row(sales1.get("/expenseview/costs/").get_data(as_text=True), s1_name)
    assert after[0] - before[0] == Decimal("5.00") and after[2] - before[2] == Decimal("5.00")

    # a refund below the claimed base claws back its share, approved at once
    resp = manager.post(
        f"/refundview/add?_flt_0_order={pk}", data={"order": str(pk), "doc_date": DAY, "amount": "40", "reason": "退货"}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    clawback = db.session.query(Commission).filter_by(order_id=pk, kind="clawback").one()
    assert (clawback.base_amount, clawback.amount, clawback.status) == (Decimal("-40.00"), Decimal("-2.00"), "approved")
    assert _order(db, pk).commission_base == Decimal("60.00")
    final = _cost_row(sales1.get("/expenseview/costs/").get_data(as_text=True), s1_name)
    assert final[0] - before[0] == Decimal("3.00")
    received = manager.get(f"/receivedview/list/?_flt_0_project_name={_order(db, pk).project_name}")
    assert _totals(received.get_data(as_text=True), manager)["commission_amount"] == Decimal("3.00")


def test_owner_is_offered_the_commission_button(app, db, as_user, data, uid):
    _commission_setup(db, data, uid)
    sales1 = as_user("sales1")
    pk = data.create_order(sales1, uid("佣金"), channel=str(data.channel_id))
    _approve(as_user, pk)
    assert _receipt(sales1, pk, "100.00").status_code == 302
    assert "apply_commission" in _buttons(sales1.get(f"/salesorderview/show/{pk}").get_data(as_text=True))


@pytest.mark.sqlite_only(
    "the amount 0 is refused in Python (services.validate_expense) before anything is written; the expense type is "
    "only read by its id and no channel is chosen"
)
def test_expense_amount_must_be_positive(app, db, as_user, uid):
    kind = ExpenseType(name=uid("招待"))
    db.session.add(kind)
    db.session.commit()
    note = uid("零元")
    as_user("sales1").post(
        "/expenseview/add",
        data={"doc_date": DAY, "expense_type": str(kind.id), "amount": "0", "channel": "__None", "note": note},
    )
    db.session.expire_all()
    assert db.session.query(Expense).filter_by(note=note).count() == 0
