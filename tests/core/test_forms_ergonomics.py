"""Form ergonomics through the pages: document lines on the header's page (scripts, add/remove controls, totals the
server recomputes whatever the browser posts), price suggestions from the customer's price list, a confirmation
before every destructive action, and the busy indication of exports and imports (the download handshake cookie).

What the scripts do in a browser is covered by the Playwright suite; here the pages must carry what the scripts
need, under the enforced CSP (every script nonced, no inline handlers)."""

import datetime as dt
import html as html_lib
import re
from decimal import Decimal

import pytest

from app.base_data.models import Product, Warehouse
from app.core.views import BaseModelView
from app.crm.models import EndCustomer
from app.inventory.models import StockOut, StockOutLine
from app.purchase.models import PurchaseContract, Supplier
from app.sales.models import CustomerPrice, PriceBreak, Quotation, Rebate, RebateAgreement, SalesOrder
from tests.support.users import user_id

D = Decimal
DAY = "2030-07-01"

pytestmark = pytest.mark.sqlite_only(
    "the scripts, nonces, buttons, confirmation texts, dialogs and download cookies are written by templates and "
    "views in Python; no query decides them"
)


# ---------------------------------------------------------------- helpers


def _t(app, msgid, **kwargs) -> str:
    """The message as the app shows it (Chinese once translated), so assertions follow the catalogue."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid, **kwargs)


def _page(client, url: str) -> tuple[str, str]:
    """The page and the nonce its CSP allows scripts with."""
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    nonce = re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
    return resp.get_data(as_text=True), nonce


def _script_tags(page: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", page)


def _assert_csp_clean(page: str, nonce: str, url: str) -> None:
    """Every script runs under the CSP (carries the nonce) and no tag has an on…= handler, which the CSP blocks."""
    for tag in _script_tags(page):
        assert f'nonce="{nonce}"' in tag, (url, tag)
    handlers = re.findall(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", page)
    assert not handlers, (url, handlers[:3])
    assert "javascript:" not in page, url


def _has_script(page: str, nonce: str, name: str) -> bool:
    return any(f'src="/static/js/{name}"' in tag and f'nonce="{nonce}"' in tag for tag in _script_tags(page))


def _form_tag(page: str, form_id: str) -> str:
    match = re.search(rf'<form\b[^>]*id="{form_id}"[^>]*>', page)
    assert match, f"no form {form_id}"
    return match.group(0)


def _attr(tag: str, name: str) -> str | None:
    match = re.search(rf'\s{name}="([^"]*)"', tag)
    return html_lib.unescape(match.group(1)) if match else None


def _has_attr(tag: str, name: str) -> bool:
    return re.search(rf"\s{name}(?=[\s=>])", tag) is not None


def _button(page: str, button_id: str) -> str:
    match = re.search(rf'<(?:button|a)\b[^>]*id="{button_id}"[^>]*>', page)
    assert match, f"no {button_id} on the page"
    return match.group(0)


def _lines(lines: list[dict], **header) -> dict:
    data = dict(header)
    for i, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{i}-{key}"] = str(value)
    return data


def _pk(resp, view: str) -> int:
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    match = re.search(rf"/{view}/show/(\d+)$", resp.headers["Location"])
    assert match, resp.headers["Location"]
    return int(match.group(1))


def _fresh(db, model, pk):
    db.session.expire_all()
    return db.session.get(model, pk)


@pytest.fixture
def world(app, db, uid):
    """A customer of sales1 with an agreed price for one product, a product with volume prices, a supplier."""
    sales1 = user_id(app, "sales1")
    customer = EndCustomer(name=uid("业主"), owner_id=sales1)
    agreed = Product(
        model_no=uid("P"), name=uid("交换机"), sale_price=D("120.00"), purchase_price=D("70.00"), floor_price=D("80")
    )
    volume = Product(
        model_no=uid("P"), name=uid("网线"), sale_price=D("10.00"), purchase_price=D("4.50"), floor_price=D("5")
    )
    supplier = Supplier(name=uid("供货商"))
    warehouse = Warehouse(name=uid("仓"))
    db.session.add_all([customer, agreed, volume, supplier, warehouse])
    db.session.flush()
    db.session.add_all(
        [
            CustomerPrice(end_customer_id=customer.id, product_id=agreed.id, price=D("99.50"), owner_id=sales1),
            PriceBreak(product_id=volume.id, min_qty=D("100"), unit_price=D("8.80")),
        ]
    )
    db.session.commit()
    return {
        "customer": customer.id,
        "agreed": agreed.id,
        "volume": volume.id,
        "supplier": supplier.id,
        "warehouse": warehouse.id,
    }


# what a browser posts: 3 × 99.50 − 10% = 268.65, 120 × 8.80 = 1056.00; with totals tampered with
LINES = [
    {"qty": "3", "unit_price": "99.50", "discount": "10", "note": "", "amount": "1"},
    {"qty": "120", "unit_price": "8.80", "discount": "", "note": "", "amount": "1"},
]
TAMPERED = {"total_amount": "1.00", "paid_amount": "999", "received_amount": "999"}


def _doc_lines(world) -> list[dict]:
    return [
        {"product_id": world["agreed"], **LINES[0]},
        {"product_id": world["volume"], **LINES[1]},
    ]


FORMS = {
    # view, user, header fields
    "order": ("salesorderview", "sales1", lambda w: {"end_customer": w["customer"], "doc_date": DAY}),
    "quotation": ("quotationview", "sales1", lambda w: {"end_customer": w["customer"], "doc_date": DAY}),
    "contract": ("purchasecontractview", "purchaser", lambda w: {"supplier": w["supplier"], "doc_date": DAY}),
}
MODELS = {"order": SalesOrder, "quotation": Quotation, "contract": PurchaseContract}


def _create(as_user, world, kind) -> int:
    view, user, header = FORMS[kind]
    resp = as_user(user).post(f"/{view}/add", data=_lines(_doc_lines(world), **header(world)))
    return _pk(resp, view)


# ---------------------------------------------------------------- 1. the scripts on every page


def test_every_page_loads_the_confirmation_and_progress_scripts_under_the_csp(app, as_user):
    admin = as_user("admin")
    for url in ("/", "/productview/list/", "/salesorderview/add", "/endcustomerview/list/"):
        page, nonce = _page(admin, url)
        for name in ("confirm.js", "progress.js", "pickers.js"):
            assert _has_script(page, nonce, name), (url, name)
        _assert_csp_clean(page, nonce, url)
    # the status texts come from the page, in the user's language
    page, _nonce = _page(admin, "/")
    tag = next(t for t in _script_tags(page) if "progress.js" in t)
    assert _attr(tag, "data-exporting") == _t(app, "Exporting…")
    assert _attr(tag, "data-importing") == _t(app, "Importing, please wait…")
    for name, needle in (("confirm.js", "data-confirm"), ("progress.js", "dl_"), ("lines.js", "line-add")):
        resp = admin.get(f"/static/js/{name}")
        assert resp.status_code == 200 and needle in resp.get_data(as_text=True)


# ---------------------------------------------------------------- 2. lines on the header's page


@pytest.mark.every_database(
    "the product picker searches with LIKE in SQL and the price suggestion reads agreed and purchase prices from "
    "NUMERIC columns"
)
@pytest.mark.parametrize("kind", ["order", "quotation", "contract"])
@pytest.mark.parametrize("form", ["add", "edit"])
def test_document_forms_carry_lines_totals_pickers_and_the_price_suggestion(app, db, as_user, world, kind, form):
    view, user, _header = FORMS[kind]
    client = as_user(user)
    url = f"/{view}/add" if form == "add" else f"/{view}/edit/{_create(as_user, world, kind)}"
    page, nonce = _page(client, url)
    assert _has_script(page, nonce, "lines.js")
    _assert_csp_clean(page, nonce, url)
    table = re.search(r'<table[^>]*id="doc-lines"[^>]*>', page).group(0)
    assert 'id="line-add"' in page and 'class="btn btn-xs btn-default line-remove"' in page
    assert 'id="doc-total"' in page and 'class="text-right line-amount"' in page
    # every row's product is a picker searching the server; an added row is a copy of one (pickers.js adopts it)
    products = re.findall(r'<select[^>]*name="lines-\d+-product_id"[^>]*>', page)
    assert products and all("app-picker" in s and "data-picker-url=" in s for s in products)
    picker = html_lib.unescape(_attr(products[0], "data-picker-url"))
    found = client.get(f"{picker}&q={_fresh(db, Product, world['agreed']).model_no}").get_json()
    assert [r["id"] for r in found["results"]] == [world["agreed"]]
    if form == "edit":
        assert len(products) == 2  # the saved lines, each with its product chosen
    # the suggestion the form calls when a product, quantity or customer changes
    price_url = html_lib.unescape(_attr(table, "data-price-url"))
    assert price_url == f"/{view}/price"
    query = f"?product={world['agreed']}&qty=2&end_customer={world['customer']}&date={DAY}"
    expected = "70.00" if kind == "contract" else "99.50"  # purchase price / the customer's agreed price
    assert client.get(price_url + query).json["price"] == expected


def test_stock_forms_have_no_amounts(as_user):
    page, nonce = _page(as_user("keeper"), "/stockoutview/add")
    assert _has_script(page, nonce, "lines.js") and 'id="line-add"' in page
    assert 'id="doc-total"' not in page and "line-amount" not in page


@pytest.mark.every_database("line amounts and totals are stored in NUMERIC(14,2) columns and read back to the cent")
@pytest.mark.parametrize("kind", ["order", "quotation", "contract"])
def test_the_server_recomputes_amounts_whatever_the_browser_posts(app, db, as_user, world, kind):
    view, user, header = FORMS[kind]
    client = as_user(user)
    resp = client.post(f"/{view}/add", data=_lines(_doc_lines(world), **header(world)) | TAMPERED)
    pk = _pk(resp, view)
    doc = _fresh(db, MODELS[kind], pk)
    assert [line.amount for line in doc.lines] == [D("268.65"), D("1056.00")]
    assert doc.total_amount == D("1324.65")
    if kind == "contract":
        assert doc.paid_amount == 0

    # the edit form: one line removed, one changed, one added, totals tampered with again
    lines = [
        {"product_id": world["volume"], "qty": "10", "unit_price": "9.99", "discount": "5", "amount": "0"},
        {"product_id": world["agreed"], "qty": "1", "unit_price": "", "discount": "", "amount": "0"},
    ]
    resp = client.post(f"/{view}/edit/{pk}", data=_lines(lines, **header(world)) | TAMPERED)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    doc = _fresh(db, MODELS[kind], pk)
    # 10 × 9.99 − 5% = 94.905 → 94.91; a blank price is the suggestion: agreed 99.50, or the purchase price 70.00
    blank = D("70.00") if kind == "contract" else D("99.50")
    assert [(line.line_no, line.amount) for line in doc.lines] == [(1, D("94.91")), (2, blank)]
    assert doc.total_amount == D("94.91") + blank


# ---------------------------------------------------------------- 3. price suggestions


@pytest.mark.every_database(
    "the customer's price list is found through the data scope and the volume price by comparing min_qty in SQL, "
    "read back from NUMERIC columns"
)
@pytest.mark.parametrize("view", ["salesorderview", "quotationview"])
def test_prices_follow_the_customers_price_list_then_volume_then_list_price(as_user, world, view):
    client = as_user("sales1")

    def price(product, qty, customer=""):
        resp = client.get(f"/{view}/price?product={product}&qty={qty}&end_customer={customer}&date={DAY}")
        assert resp.status_code == 200, resp.json
        return resp.json["price"]

    assert price(world["agreed"], 1, world["customer"]) == "99.50"  # the customer's price list
    assert price(world["agreed"], 1) == "120.00"  # no customer chosen yet: the list price
    assert price(world["volume"], 100, world["customer"]) == "8.80"  # no agreed price: the volume price
    assert price(world["volume"], 99, world["customer"]) == "10.00"
    # another salesperson naming that customer does not learn the agreed price
    other = as_user("sales2").get(f"/{view}/price?product={world['agreed']}&qty=1&end_customer={world['customer']}")
    assert other.json["price"] == "120.00"


@pytest.mark.every_database(
    "the purchase price is read back from a NUMERIC column and the product's enabled flag from SQL"
)
def test_contract_price_suggestion_is_the_purchase_price_and_refuses_bad_input_in_chinese(app, db, as_user, world):
    client = as_user("purchaser")
    assert client.get(f"/purchasecontractview/price?product={world['volume']}&qty=5").json == {
        "price": "4.50",
        "discount": "0",
        "promotion_id": None,
    }
    bad = client.get("/purchasecontractview/price?product=x")
    assert bad.status_code == 400 and bad.json["message"] == _t(app, "The request is not correct.")
    product = db.session.get(Product, world["volume"])
    product.enabled = False
    db.session.commit()
    gone = client.get(f"/purchasecontractview/price?product={world['volume']}")
    assert gone.status_code == 404 and gone.json["message"] == _t(app, "Not found.")
    # who may not read contracts may not ask either
    assert as_user("sales1").get(f"/purchasecontractview/price?product={world['agreed']}").status_code == 403


# ---------------------------------------------------------------- 4. confirmation before destructive actions


def _model_views(app) -> list[BaseModelView]:
    return [v for v in app.appbuilder.baseviews if isinstance(v, BaseModelView)]


def test_every_list_asks_before_deleting_and_before_bulk_actions(app, db, as_user, world):
    """Walk the list page of every registered view: each delete link comes with FAB's confirmation (its script
    nonced, so the CSP lets it run) and the dialog speaks the user's language; so does each bulk action."""
    for kind in FORMS:  # documents on the document lists too
        _create(as_user, world, kind)
    admin = as_user("admin")
    question = _t(app, "Are you sure you want to delete this item?")
    lists_with_deletes = set()
    for view in _model_views(app):
        if "list" in view.exclude_route_methods:
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(f"{view.endpoint}.list")
        page, nonce = _page(admin, url)
        _assert_csp_clean(page, nonce, url)
        # FAB's dialogs are opened by inline scripts: they run because they carry the nonce (checked above)
        inline = "".join(re.findall(r'<script nonce="[^"]+">(.*?)</script>', page, re.S))
        for href in re.findall(r'id="btn-delete-([^"]+)"', page):
            lists_with_deletes.add(view.endpoint)
            call = f"execute_single_delete('{href}','{html_lib.escape(question, quote=True)}')"
            assert call in inline or call.replace("&#x27;", "&#39;") in inline, (url, href)
        if "btn-delete-" in page or "_menu_item" in page:
            dialog = re.search(
                r'<div class="modal fade" id="modal-confirm".*?</div>\s*</div>\s*</div>\s*</div>', page, re.S
            )
            assert dialog, url
            buttons = re.findall(r"<(?:button|a)\b[^>]*>(.*?)</(?:button|a)>", dialog.group(0), re.S)
            assert [b.strip() for b in buttons] == [_t(app, "Cancel"), _t(app, "Confirm")], url
        for name, action in view.actions.items():
            if action.multiple and f"{name}_menu_item" in page and action.confirmation:
                assert f"execute_multiple('{name}','" in inline, (url, name)
    # the lists of what people delete most have their delete buttons
    for endpoint in ("ProductView", "EndCustomerView", "SalesOrderView", "QuotationView", "PurchaseContractView"):
        assert endpoint in lists_with_deletes, sorted(lists_with_deletes)


def test_bulk_actions_that_change_records_ask_first(app):
    harmless = {"export_selected", "mark_done", "keep_customer"}  # a download, a tick, leaving things as they are
    for view in _model_views(app):
        for name, action in view.actions.items():
            if action.multiple and name not in harmless:
                assert action.confirmation and str(action.confirmation).strip(), (type(view).__name__, name)


def test_document_buttons_ask_before_approving_rejecting_cancelling_converting(app, db, as_user, world):
    order_id = _create(as_user, world, "order")
    show = f"/salesorderview/show/{order_id}"
    sales1, manager = as_user("sales1"), as_user("manager")
    assert sales1.post(f"/salesorderview/action/submit/{order_id}", data={"next": show}).status_code == 302
    page, nonce = _page(manager, show)
    _assert_csp_clean(page, nonce, show)
    assert _attr(_button(page, "doc-approve"), "data-confirm") == _t(app, "Approve this document?")
    # reject and cancel open a form: its submit asks before anything changes
    for link, form_url, message in (
        ("doc-reject", f"/salesorderview/reject/{order_id}", "Reject this document?"),
        ("doc-cancel", f"/salesorderview/cancel/{order_id}", "Cancel this order? This cannot be undone."),
    ):
        assert html_lib.unescape(_attr(_button(page, link), "href")) == form_url
        form_page, form_nonce = _page(manager, form_url)
        _assert_csp_clean(form_page, form_nonce, form_url)
        submit = re.search(r'<form method="post" id="action-form">.*?<button type="submit"[^>]*>', form_page, re.S)
        assert _attr(submit.group(0), "data-confirm") == _t(app, message)
    assert _fresh(db, SalesOrder, order_id).status == "submitted"  # looking changed nothing

    quotation_id = _create(as_user, world, "quotation")
    page, _nonce = _page(sales1, f"/quotationview/show/{quotation_id}")
    assert _attr(_button(page, "doc-convert"), "data-confirm") == _t(
        app, "Convert this quotation to an order? The quotation can no longer be changed."
    )
    assert _attr(_button(page, "doc-edit"), "data-confirm") is None  # opening a form needs no question


def test_stock_out_confirm_asks_first(app, db, as_user, world):
    doc = StockOut(warehouse_id=world["warehouse"], doc_date=dt.date(2030, 7, 1))
    doc.lines = [StockOutLine(line_no=1, product_id=world["volume"], qty=D("2"))]
    db.session.add(doc)
    db.session.commit()
    page, nonce = _page(as_user("keeper"), f"/stockoutview/show/{doc.id}")
    _assert_csp_clean(page, nonce, "stock out")
    assert _attr(_button(page, "doc-confirm"), "data-confirm") == _t(
        app, "Confirm this document? Stock changes at once and it can no longer be edited."
    )


def test_rebate_settle_button_posts_to_its_action_and_asks_first(app, db, as_user, world):
    agreement = RebateAgreement(
        name="返利", end_customer_id=world["customer"], rate=D("2"), owner_id=user_id(app, "sales1")
    )
    db.session.add(agreement)
    db.session.flush()
    rebate = Rebate(
        agreement_id=agreement.id,
        period_start=dt.date(2030, 1, 1),
        period_end=dt.date(2030, 6, 30),
        base_amount=D("1000"),
        rate=D("2"),
        amount=D("20.00"),
        status="approved",
        owner_id=user_id(app, "sales1"),
    )
    db.session.add(rebate)
    db.session.commit()
    url = f"/rebateview/show/{rebate.id}"
    page, _nonce = _page(as_user("admin"), url)
    form = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>((?:(?!</form>).)*id="doc-settle".*?)</form>', page, re.S
    )
    assert form, "no settle button"
    assert html_lib.unescape(form.group(1)) == f"/rebateview/action/settle/{rebate.id}"
    assert _attr(_button(page, "doc-settle"), "data-confirm") == _t(
        app, "Credit this rebate to the customer's receivables? This cannot be undone."
    )


# ---------------------------------------------------------------- 5. exports and imports show that they run


def test_export_links_and_import_forms_are_marked_for_the_progress_indication(as_user):
    admin = as_user("admin")
    page, _nonce = _page(admin, "/salesorderview/list/")
    assert _has_attr(_button(page, "export-xlsx"), "data-download")
    page, _nonce = _page(admin, "/endcustomerview/import_xlsx/")
    assert _has_attr(_form_tag(page, "import-form"), "data-progress")


def _cookie(resp, name: str) -> str | None:
    for header in resp.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


def test_an_export_answers_the_token_it_was_sent_with_a_cookie(app, db, as_user, world):
    _create(as_user, world, "order")
    client = as_user("sales1")
    resp = client.get("/salesorderview/export_xlsx/?_dl=abc123XYZ789")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    cookie = _cookie(resp, "dl_abc123XYZ789")
    assert cookie and "Path=/" in cookie and "Max-Age=120" in cookie and "HttpOnly" not in cookie
    # without a token, or with one that could not be a cookie name, no cookie
    assert not any(
        h.startswith("dl_") for h in client.get("/salesorderview/export_xlsx/").headers.getlist("Set-Cookie")
    )
    for bad in ("short", "abc;123=x4567", "a" * 41):
        resp = client.get("/salesorderview/export_xlsx/", query_string={"_dl": bad})
        assert resp.status_code == 200
        assert not any(h.startswith("dl_") for h in resp.headers.getlist("Set-Cookie")), bad
    # the bulk action "Export to Excel" posts the token with the selected rows
    order = db.session.query(SalesOrder).filter_by(end_customer_id=world["customer"]).first()
    resp = client.post(
        "/salesorderview/action_post", data={"action": "export_selected", "rowid": [order.id], "_dl": "tok12345678"}
    )
    assert resp.status_code == 200 and _cookie(resp, "dl_tok12345678")
    # an import answers too (its page replaces the form, so the form needs no cookie, but a report link may)
    resp = as_user("admin").get("/endcustomerview/import_template/?_dl=tmpl12345678")
    assert resp.status_code == 200 and _cookie(resp, "dl_tmpl12345678")
