"""Purchasing and warehouse through the pages (HTML forms and buttons, not the REST API): suppliers and their
contacts, the purchase contract form with its approval, payments up to the contract total with the finance audit,
stock in from a contract, stock out against a sales order, posted documents that only take an invoice number,
stock taking, the ledger and alerts, transfers, the stock list's search and export, and who may open what."""

import html as html_lib
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.base_data.models import Product, ProductCategory, Warehouse
from app.crm.models import EndCustomer
from app.inventory import services as stock
from app.inventory.models import StockIn, StockMove, StockOut, StockTake, StockTransfer
from app.purchase.models import Payment, PurchaseContract, Supplier, SupplierContact
from app.sales.models import SalesOrder
from tests.support.users import user_id

D = Decimal
DAY = "2030-06-03"

pytestmark = pytest.mark.every_database(
    "documents post NUMERIC stock and money through guarded UPDATEs, and the lists search, filter and total in SQL"
)

# ---------------------------------------------------------------- helpers


def _t(app, msgid, **kwargs) -> str:
    """The message as the app shows it (Chinese once translated), so assertions follow the catalogue."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid, **kwargs)


def _text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _alerts(page: str, category: str = "danger") -> list[str]:
    found = re.findall(rf'<div class="alert alert-{category}">(.*?)</div>', page, re.S)
    return [_text(m).replace("×", "").strip() for m in found]


def _follow(client, resp) -> str:
    """The page a redirect leads to (where the flashed message is shown)."""
    assert resp.status_code == 302, resp.status_code
    return client.get(resp.headers["Location"]).get_data(as_text=True)


def _pk(resp, view: str) -> int:
    assert resp.status_code == 302, _alerts(resp.get_data(as_text=True))
    match = re.search(rf"/{view}/show/(\d+)$", resp.headers["Location"])
    assert match, resp.headers["Location"]
    return int(match.group(1))


def _table(page: str, table_id: str) -> list[list[str]]:
    """Body rows of a table on a page, cell texts ('None.' rows of an empty section give no row)."""
    table = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert table, f"no table {table_id} on the page"
    body = table.group(1).split("<tbody>")[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(cells) == 1 and "colspan" in row:
            continue
        rows.append([_text(c) for c in cells])
    return rows


def _list_rows(page: str) -> list[list[str]]:
    """Data cells of the rows of a FAB list (without the checkbox and the row's buttons)."""
    table = re.search(r'<table class="table table-bordered table-hover">(.*?)</table>', page, re.S)
    assert table, "no list table on the page"
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        cells = [c for c in re.findall(r"<td>(.*?)</td>", row, re.S) if "<input" not in c and "btn-group" not in c]
        if cells:
            rows.append([_text(c) for c in cells])
    return rows


def _buttons(page: str) -> set[str]:
    actions = re.search(r'<div class="doc-actions" id="doc-actions"[^>]*>(.*?)</div>', page, re.S)
    assert actions, "no action bar on the show page"
    return set(re.findall(r'id="doc-([a-z_]+)"', actions.group(1)))


def _press(client, show_url: str, button: str):
    """Post the form of a button on the show page exactly as the browser would (its csrf_token and next)."""
    page = client.get(show_url).get_data(as_text=True)
    for action, body in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S):
        if f'id="doc-{button}"' in body:
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body))
            assert "csrf_token" in fields and fields["next"] == show_url
            return client.post(html_lib.unescape(action), data=fields)
    raise AssertionError(f"no posted button doc-{button} on {show_url}: {sorted(_buttons(page))}")


def _field(page: str, label: str) -> str:
    """The value of a field on a show page, by its label."""
    match = re.search(rf"<th[^>]*>\s*{re.escape(label)}\s*</th>\s*<td>(.*?)</td>", page, re.S)
    assert match, f"no field {label} on the page"
    return _text(match.group(1))


def _form_lines(page: str) -> list[dict]:
    """The lines a document form starts with: {key: value}, the product as its selected option's id."""
    body = re.search(r'<table[^>]*id="doc-lines"[^>]*>.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, "no lines table in the form"
    lines = []
    for row in re.findall(r'<tr class="doc-line">(.*?)</tr>', body.group(1), re.S):
        line = {}
        for key, options in re.findall(r'<select[^>]*name="lines-\d+-([a-z_]+)"[^>]*>(.*?)</select>', row, re.S):
            chosen = re.search(r'<option value="([^"]*)"\s+selected>', options)
            line[key] = chosen.group(1) if chosen else ""
        for key, value in re.findall(r'<input[^>]*name="lines-\d+-([a-z_]+)"\s+value="([^"]*)"', row, re.S):
            line[key] = html_lib.unescape(value)
        lines.append(line)
    return lines


def _lines_form(lines: list[dict], **header) -> dict:
    data = dict(header)
    for i, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{i}-{key}"] = str(value)
    return data


def _fresh(db, model, pk):
    db.session.expire_all()
    return db.session.get(model, pk)


def _qty(db, product_id, warehouse_id) -> Decimal:
    db.session.rollback()
    return stock.on_hand(db.session, product_id, warehouse_id)


def _money(text: str) -> Decimal:
    return Decimal(text.replace("¥", "").replace(",", ""))


def _totals(page: str, client) -> dict[str, str]:
    """The totals the list page fetches after it is shown (from its own filters)."""
    block = re.search(
        r'<div class="well well-sm list-totals" id="list-totals" data-url="([^"]*)">(.*?)</div>', page, re.S
    )
    assert block, "no totals block on the list"
    keys = re.findall(r'data-total="([a-z_]+)"', block.group(2))
    totals = client.get(block.group(1).replace("&amp;", "&")).json["totals"]
    assert set(totals) == set(keys)
    return totals


def _api(client, headers, resource, pk, action, **body):
    return client.post(f"/api/v1/{resource}/{pk}/{action}", json=body, headers=headers)


@pytest.fixture
def inv(app, db, uid):
    """Two fresh warehouses, two products, a supplier, and an end customer of sales1."""
    w1, w2 = Warehouse(name=uid("仓")), Warehouse(name=uid("仓"))
    p1 = Product(model_no=uid("K"), name=uid("交换机"), sale_price=D("100.00"), purchase_price=D("60.00"))
    p2 = Product(model_no=uid("K"), name=uid("网线"), sale_price=D("10.00"), purchase_price=D("4.00"))
    supplier = Supplier(name=uid("供货商"))
    customer = EndCustomer(name=uid("业主"), owner_id=user_id(app, "sales1"))
    db.session.add_all([w1, w2, p1, p2, supplier, customer])
    db.session.commit()
    return {"w1": w1.id, "w2": w2.id, "p1": p1.id, "p2": p2.id, "supplier": supplier.id, "customer": customer.id}


def _stock_in_api(client, api_token, inv, lines, warehouse="w1"):
    """Goods in through the API (set-up for the pages under test)."""
    keeper = api_token("keeper")
    body = {"warehouse": inv[warehouse], "doc_date": DAY, "lines": lines}
    resp = client.post("/api/v1/stock_in/", json=body, headers=keeper)
    assert resp.status_code == 201, resp.json
    assert _api(client, keeper, "stock_in", resp.json["id"], "confirm").status_code == 200
    return resp.json["id"]


def _approved_contract_api(client, api_token, inv, lines):
    purchaser = api_token("purchaser")
    body = {"supplier": inv["supplier"], "doc_date": DAY, "lines": lines}
    resp = client.post("/api/v1/purchase_contract/", json=body, headers=purchaser)
    assert resp.status_code == 201, resp.json
    cid = resp.json["id"]
    assert _api(client, purchaser, "purchase_contract", cid, "submit").status_code == 200
    assert _api(client, api_token("admin"), "purchase_contract", cid, "approve").status_code == 200
    return cid


def _approved_order_api(client, api_token, inv, lines):
    sales1 = api_token("sales1")
    body = {"end_customer": inv["customer"], "doc_date": DAY, "lines": lines}
    resp = client.post("/api/v1/sales_order/", json=body, headers=sales1)
    assert resp.status_code == 201, resp.json
    oid = resp.json["id"]
    assert _api(client, sales1, "sales_order", oid, "submit").status_code == 200
    assert _api(client, api_token("manager"), "sales_order", oid, "approve").status_code == 200
    return oid


# ---------------------------------------------------------------- 1. suppliers


def test_supplier_add_contact_search_and_duplicates(app, db, as_user, uid):
    purchaser = as_user("purchaser")
    name, contact = uid("供货商abc"), uid("联系人")  # latin letters: the name has another letter case
    form = {"name": f"  {name} ", "contact_name": contact, "phone": "021-5555", "region": "__None", "enabled": "y"}
    resp = purchaser.post("/supplierview/add", data=form)
    assert resp.status_code == 302
    db.session.expire_all()
    supplier = db.session.query(Supplier).filter_by(name=name).one()  # the name is trimmed
    assert supplier.contact_name == contact and supplier.enabled is True
    other = Supplier(name=uid("供货商"), contact_name=uid("联系人"))
    db.session.add(other)
    db.session.commit()
    sid, other_id, other_name = supplier.id, other.id, other.name

    # a contact added from the supplier's page (its related list's add link fixes the supplier)
    resp = purchaser.post(
        f"/suppliercontactview/add?_flt_0_supplier={sid}",
        data={"name": "王经理", "title": "销售经理", "mobile": "13800000000", "email": "", "is_primary": "y"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    contacts = db.session.query(SupplierContact).filter_by(supplier_id=sid).all()
    assert [(c.name, c.title, c.mobile, c.is_primary) for c in contacts] == [
        ("王经理", "销售经理", "13800000000", True)
    ]
    # … and listed on the supplier's page, with the link that adds another
    page = purchaser.get(f"/supplierview/show/{sid}").get_data(as_text=True)
    assert "王经理" in page and "13800000000" in page
    assert f"/suppliercontactview/add?_flt_0_supplier={sid}" in page

    # search by the start of the name and of the main contact
    found = purchaser.get(f"/supplierview/list/?_flt_0_name={name[:-3]}").get_data(as_text=True)
    assert f"/supplierview/show/{sid}" in found and f"/supplierview/show/{other_id}" not in found
    found = purchaser.get(f"/supplierview/list/?_flt_0_contact_name={contact[:-3]}").get_data(as_text=True)
    assert f"/supplierview/show/{sid}" in found and f"/supplierview/show/{other_id}" not in found
    found = purchaser.get(f"/supplierview/list/?_flt_0_name={other_name}").get_data(as_text=True)
    assert f"/supplierview/show/{sid}" not in found and f"/supplierview/show/{other_id}" in found

    # the same name again is refused with a message; so is the same name in other letter case
    resp = purchaser.post("/supplierview/add", data={**form, "name": name})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'id="model_form"' in page and _alerts(page)  # FAB's unique check on the field
    upper = name.upper()
    resp = purchaser.post("/supplierview/add", data={**form, "name": upper})
    if resp.status_code == 200:
        # MariaDB compares names case-insensitively, so FAB's own unique check on the field refuses it first
        assert 'id="model_form"' in resp.get_data(as_text=True) and _alerts(resp.get_data(as_text=True))
    else:
        assert _alerts(_follow(purchaser, resp)) == [
            _t(app, "%(label)s “%(value)s” already exists.", label=_t(app, "Supplier Name"), value=upper)
        ]
    db.session.expire_all()
    assert db.session.query(Supplier).filter(Supplier.name.in_([name, upper])).count() == 1


# ---------------------------------------------------------------- 2. purchase contracts


def _contract_form(inv, lines, **header) -> dict:
    base = {
        "supplier": str(inv["supplier"]),
        "doc_date": DAY,
        "delivery_date": "2030-06-20",
        "purchaser": "__None",
        "note": "页面录入",
    }
    return _lines_form(lines, **{**base, **header})


CONTRACT_LINES = [  # 10 × 55.50 at 10% off = 499.50; 100 at the purchase price 4.00 = 400.00; total 899.50
    {"product_id": "p1", "qty": "10", "unit_price": "55.50", "discount": "10", "note": "主机"},
    {"product_id": "p2", "qty": "100", "unit_price": "", "discount": "", "note": ""},
]


def _contract_lines(inv, lines=CONTRACT_LINES) -> list[dict]:
    return [{**line, "product_id": inv[line["product_id"]]} for line in lines]


def _draft_contract(as_user, db, inv) -> tuple[int, str]:
    resp = as_user("purchaser").post("/purchasecontractview/add", data=_contract_form(inv, _contract_lines(inv)))
    cid = _pk(resp, "purchasecontractview")
    return cid, _fresh(db, PurchaseContract, cid).number


def test_contract_page_reject_with_reason_resubmit_and_approve(app, db, as_user, inv):
    purchaser, admin = as_user("purchaser"), as_user("admin")
    me = user_id(app, "purchaser")
    resp = purchaser.post("/purchasecontractview/add", data=_contract_form(inv, _contract_lines(inv), purchaser=me))
    cid = _pk(resp, "purchasecontractview")
    contract = _fresh(db, PurchaseContract, cid)
    assert contract.number.startswith("CG") and contract.status == "draft" and contract.purchaser_id == me
    assert contract.supplier_id == inv["supplier"] and contract.note == "页面录入"
    assert str(contract.doc_date) == DAY and str(contract.delivery_date) == "2030-06-20"
    assert [(ln.product_id, ln.qty, ln.unit_price, ln.discount, ln.amount) for ln in contract.lines] == [
        (inv["p1"], D("10"), D("55.50"), D("10"), D("499.50")),
        (inv["p2"], D("100"), D("4.00"), D("0"), D("400.00")),
    ]
    assert contract.total_amount == D("899.50") and contract.paid_amount == 0

    url = f"/purchasecontractview/show/{cid}"
    page = purchaser.get(url).get_data(as_text=True)
    rows = _table(page, "doc-lines")
    assert [r[2:7] for r in rows] == [["10", "¥55.50", "10%", "¥499.50", "0"], ["100", "¥4.00", "0%", "¥400.00", "0"]]
    assert _field(page, _t(app, "Contract Amount")) == "¥899.50"
    assert _field(page, _t(app, "Unpaid Amount")) == "¥899.50"
    assert _buttons(page) == {"edit", "submit"}
    assert _table(page, "received-goods") == []

    assert _press(purchaser, url, "submit").status_code == 302
    assert _fresh(db, PurchaseContract, cid).status == "submitted"
    # the purchaser is not an approver: no buttons, and the URLs answer 403
    assert _buttons(purchaser.get(url).get_data(as_text=True)) == set()
    assert purchaser.post(f"/purchasecontractview/action/approve/{cid}", data={"next": url}).status_code == 403
    assert purchaser.post(f"/purchasecontractview/reject/{cid}", data={"comment": "不行"}).status_code == 403
    assert _fresh(db, PurchaseContract, cid).status == "submitted"

    # the administrator rejects: a reason is required, then shown on the page
    assert _buttons(admin.get(url).get_data(as_text=True)) == {"approve", "reject"}
    resp = admin.post(f"/purchasecontractview/reject/{cid}", data={"comment": "  "})
    assert resp.status_code == 200 and _alerts(resp.get_data(as_text=True)) == [
        _t(app, "A reason is required to reject.")
    ]
    assert _fresh(db, PurchaseContract, cid).status == "submitted"
    resp = admin.post(f"/purchasecontractview/reject/{cid}", data={"comment": "单价偏高"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    page = purchaser.get(url).get_data(as_text=True)
    assert _field(page, _t(app, "Rejection Reason")) == "单价偏高"
    assert _field(page, _t(app, "Status")) == _t(app, "Rejected")
    assert _buttons(page) == {"edit", "reopen", "submit"}

    # back to draft, corrected through its edit form, resubmitted, approved
    assert _press(purchaser, url, "reopen").status_code == 302
    assert _fresh(db, PurchaseContract, cid).status == "draft"
    lines = _contract_lines(inv)
    lines[0] = {**lines[0], "unit_price": "50.00"}  # 10 × 50 at 10% off = 450.00
    resp = purchaser.post(f"/purchasecontractview/edit/{cid}", data=_contract_form(inv, lines, purchaser=me))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    assert _fresh(db, PurchaseContract, cid).total_amount == D("850.00")
    assert _press(purchaser, url, "submit").status_code == 302
    resp = _press(admin, url, "approve")
    assert _alerts(_follow(admin, resp), "success") == [_t(app, "Approved.")]
    contract = _fresh(db, PurchaseContract, cid)
    assert contract.status == "approved" and contract.approved_at is not None
    trail = [r[1] for r in _table(admin.get(url).get_data(as_text=True), "approval-trail")]
    assert trail == [_t(app, x) for x in ("Submit", "Reject", "Back to draft", "Submit", "Approve")]
    assert {"pay", "receive_goods"} <= _buttons(admin.get(url).get_data(as_text=True))

    # an approved contract is locked: the edit page sends back to it with the reason, nothing changes
    locked = _t(app, "An approved contract cannot be changed.")
    changed = _contract_form(inv, [{"product_id": inv["p1"], "qty": "1", "unit_price": "1", "discount": ""}])
    for client in (purchaser, admin):
        for method in ("GET", "POST"):
            data = changed if method == "POST" else None
            resp = client.open(f"/purchasecontractview/edit/{cid}", method=method, data=data)
            assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
            assert _alerts(client.get(url).get_data(as_text=True)) == [locked]
        resp = client.post(f"/purchasecontractview/delete/{cid}")
        assert locked in _alerts(_follow(client, resp))
    contract = _fresh(db, PurchaseContract, cid)
    assert contract is not None and contract.total_amount == D("850.00") and len(contract.lines) == 2


@pytest.mark.sqlite_only("a blank purchaser is set in Python to the signed-in user before the save; no query sets it")
def test_contract_with_a_blank_purchaser_is_the_purchaser_who_entered_it(app, db, as_user, inv):
    resp = as_user("purchaser").post("/purchasecontractview/add", data=_contract_form(inv, _contract_lines(inv)))
    cid = _pk(resp, "purchasecontractview")
    assert _fresh(db, PurchaseContract, cid).purchaser_id == user_id(app, "purchaser")


def test_contract_edit_page_shows_its_lines(app, db, as_user, inv):
    cid, _number = _draft_contract(as_user, db, inv)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        resp = as_user("purchaser").get(f"/purchasecontractview/edit/{cid}")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = True
    assert resp.status_code == 200
    lines = _form_lines(resp.get_data(as_text=True))
    assert [(int(r["product_id"]), D(r["qty"]), D(r["unit_price"]), D(r["discount"])) for r in lines] == [
        (inv["p1"], D("10"), D("55.50"), D("10")),
        (inv["p2"], D("100"), D("4.00"), D("0")),
    ]


# ---------------------------------------------------------------- 3. payments


def _pay(client, cid, amount, note=""):
    """The payment form as opened from the contract's 付款 button (the contract comes from the URL filter)."""
    return client.post(
        f"/paymentview/add?_flt_0_contract={cid}",
        data={"doc_date": DAY, "amount": amount, "method": "bank", "note": note},
    )


def test_payments_up_to_the_contract_total_then_audit(app, db, as_user, api_token, client, inv, uid):
    cid = _approved_contract_api(client, api_token, inv, _contract_lines(inv))  # total 899.50
    purchaser, finance = as_user("purchaser"), as_user("finance")
    page = purchaser.get(f"/purchasecontractview/show/{cid}").get_data(as_text=True)
    assert f'href="/paymentview/add?_flt_0_contract={cid}"' in page  # the contract's 付款 button
    page = purchaser.get(f"/paymentview/add?_flt_0_contract={cid}")
    assert page.status_code == 200 and 'name="amount"' in page.get_data(as_text=True)

    first, second, over = uid("付"), uid("付"), uid("付")
    assert _pay(purchaser, cid, "500.00", first).status_code == 302
    # one cent beyond what is left: refused with the figures, nothing written
    resp = _pay(finance, cid, "399.51", over)
    expected = _t(
        app,
        "Payments would exceed the contract: total %(total)s, paid %(paid)s, at most %(left)s more.",
        total="¥899.50",
        paid="¥500.00",
        left="¥399.50",
    )
    assert _alerts(_follow(finance, resp)) == [expected]
    assert db.session.query(Payment).filter_by(note=over).count() == 0
    assert _fresh(db, PurchaseContract, cid).paid_amount == D("500.00")
    # exactly the rest is fine; then even one cent is too much
    assert _pay(finance, cid, "399.50", second).status_code == 302
    resp = _pay(finance, cid, "0.01", over)
    assert _alerts(_follow(finance, resp)) == [
        _t(
            app,
            "Payments would exceed the contract: total %(total)s, paid %(paid)s, at most %(left)s more.",
            total="¥899.50",
            paid="¥899.50",
            left="¥0.00",
        )
    ]
    db.session.expire_all()
    assert db.session.query(Payment).filter_by(note=over).count() == 0
    contract = db.session.get(PurchaseContract, cid)
    assert contract.paid_amount == D("899.50") and contract.unpaid_amount == 0
    p1 = db.session.query(Payment).filter_by(note=first).one()
    p2 = db.session.query(Payment).filter_by(note=second).one()
    assert (p1.contract_id, p1.amount, p1.number[:2], p1.audited) == (cid, D("500.00"), "FK", False)
    p1_id, p2_id = p1.id, p2.id

    # the contract page: paid in full, no more 付款 button; the payments list of the contract adds up
    page = finance.get(f"/purchasecontractview/show/{cid}").get_data(as_text=True)
    assert _field(page, _t(app, "Paid Amount")) == "¥899.50" and _field(page, _t(app, "Unpaid Amount")) == "¥0.00"
    assert "pay" not in _buttons(page)
    assert f"/paymentview/show/{p1_id}" in page and f"/paymentview/show/{p2_id}" in page  # its payments list
    listed = finance.get(f"/paymentview/list/?_flt_0_contract={cid}").get_data(as_text=True)
    assert _totals(listed, finance) == {"amount": "¥899.50"}
    assert f"/paymentview/show/{p1_id}" in listed and f"/paymentview/show/{p2_id}" in listed

    # finance audits through the list action; the purchaser may not
    assert purchaser.post("/paymentview/action_post", data={"action": "audit", "rowid": str(p2_id)}).status_code == 403
    resp = finance.post("/paymentview/action_post", data={"action": "audit", "rowid": str(p2_id)})
    assert _alerts(_follow(finance, resp), "success") == [_t(app, "Payments audited.")]
    p2 = _fresh(db, Payment, p2_id)
    assert p2.audited is True and p2.audited_by_id == user_id(app, "finance") and p2.audited_at is not None
    # auditing it again together with another one: refused, neither changes
    resp = finance.post("/paymentview/action_post", data={"action": "audit", "rowid": [str(p1_id), str(p2_id)]})
    assert _alerts(_follow(finance, resp)) == [_t(app, "Payment %(no)s is already audited.", no=p2.number)]
    assert _fresh(db, Payment, p1_id).audited is False

    # an audited payment cannot be deleted; an unaudited one can, and the contract's paid amount follows
    resp = finance.post(f"/paymentview/delete/{p2_id}")
    assert _t(app, "An audited payment cannot be deleted.") in _alerts(_follow(finance, resp))
    assert _fresh(db, Payment, p2_id) is not None
    assert _fresh(db, PurchaseContract, cid).paid_amount == D("899.50")
    assert purchaser.post(f"/paymentview/delete/{p1_id}").status_code == 302
    assert _fresh(db, Payment, p1_id) is None
    assert _fresh(db, PurchaseContract, cid).paid_amount == D("399.50")


@pytest.mark.sqlite_only("the contract's status is checked in Python before the paid amount's UPDATE runs")
def test_payment_on_a_contract_not_approved_writes_nothing(app, db, as_user, inv, uid):
    cid, _number = _draft_contract(as_user, db, inv)
    note = uid("付")
    resp = _pay(as_user("finance"), cid, "10.00", note)
    assert resp.status_code == 302  # FAB flashes the refusal of pre_add and redirects
    assert db.session.query(Payment).filter_by(note=note).count() == 0
    assert _fresh(db, PurchaseContract, cid).paid_amount == 0


@pytest.mark.sqlite_only("the contract's status is checked in Python and the message comes from the catalogue")
def test_payment_on_a_contract_not_approved_says_why(app, db, as_user, inv, uid):
    cid, number = _draft_contract(as_user, db, inv)
    finance = as_user("finance")
    resp = _pay(finance, cid, "10.00", uid("付"))
    page = _follow(finance, resp)  # a 302, shown on the page it leads to
    assert _alerts(page) == [_t(app, "Contract %(no)s is not approved; it cannot be paid.", no=number)]


# ---------------------------------------------------------------- 4. stock in from a contract


def _stock_in_form(inv, lines, warehouse="w1", **header) -> dict:
    base = {"warehouse": str(inv[warehouse]), "move_type": "__None", "order": "__None", "doc_date": DAY}
    return _lines_form(lines, **{**base, "invoice_no": "", "note": "", **header})


def test_stock_in_from_a_contract_drafted_by_purchasing_confirmed_by_the_keeper(
    app, db, as_user, api_token, client, inv
):
    cid = _approved_contract_api(client, api_token, inv, _contract_lines(inv))
    purchaser, keeper = as_user("purchaser"), as_user("keeper")
    number = _fresh(db, PurchaseContract, cid).number
    add_url = f"/stockinview/add?_flt_0_contract={cid}"
    # the contract page's 入库 button opens the form with what is still to come
    assert f'href="{add_url}"' in purchaser.get(f"/purchasecontractview/show/{cid}").get_data(as_text=True)
    prefilled = _form_lines(purchaser.get(add_url).get_data(as_text=True))
    assert [(int(r["product_id"]), D(r["qty"]), D(r["unit_cost"])) for r in prefilled] == [
        (inv["p1"], D("10"), D("49.95")),  # 55.50 less 10%
        (inv["p2"], D("100"), D("4.00")),
    ]

    # purchasing enters 4 of p1 as a draft: nothing moves yet, and it cannot confirm
    lines = [{"product_id": inv["p1"], "qty": "4", "unit_cost": "", "note": "第一批"}]
    rid = _pk(purchaser.post(add_url, data=_stock_in_form(inv, lines)), "stockinview")
    doc = _fresh(db, StockIn, rid)
    assert (doc.contract_id, doc.status, doc.number[:2]) == (cid, "draft", "RK")
    assert doc.lines[0].unit_cost == D("49.95") and doc.lines[0].note == "第一批"  # the contract's net price
    assert _qty(db, inv["p1"], inv["w1"]) == 0
    show = f"/stockinview/show/{rid}"
    assert _buttons(purchaser.get(show).get_data(as_text=True)) == {"edit"}
    assert purchaser.post(f"/stockinview/action/confirm/{rid}", data={"next": show}).status_code == 403
    assert _fresh(db, StockIn, rid).status == "draft" and _qty(db, inv["p1"], inv["w1"]) == 0

    # the keeper confirms from the document's page
    assert _buttons(keeper.get(show).get_data(as_text=True)) == {"edit", "confirm"}
    resp = _press(keeper, show, "confirm")
    assert resp.headers["Location"].endswith(show)
    assert _alerts(_follow(keeper, resp), "success") == [_t(app, "Confirmed; stock updated.")]
    doc = _fresh(db, StockIn, rid)
    assert doc.status == "posted" and doc.posted_by_id == user_id(app, "keeper")
    assert _qty(db, inv["p1"], inv["w1"]) == D("4")
    contract = _fresh(db, PurchaseContract, cid)
    assert contract.receipt_status == "partial" and contract.lines[0].received_qty == D("4")
    page = keeper.get(show).get_data(as_text=True)
    assert [r[2:6] for r in _table(page, "doc-moves")] == [["4", "¥49.95", "¥199.80", "4"]]

    # the stock list shows it
    model_no, wname = _fresh(db, Product, inv["p1"]).model_no, _fresh(db, Warehouse, inv["w1"]).name
    listed = keeper.get(f"/stockbalanceview/list/?q={model_no}").get_data(as_text=True)
    assert [(r[0], r[3], r[4]) for r in _list_rows(listed)] == [(model_no, wname, "4")]
    assert _totals(listed, keeper) == {"qty": "4"}

    # the contract page: 收货明细 and the lines' received quantities
    page = purchaser.get(f"/purchasecontractview/show/{cid}").get_data(as_text=True)
    received = _table(page, "received-goods")
    assert len(received) == 1
    assert received[0][0] == doc.number and received[0][1] == DAY and received[0][2] == wname
    assert received[0][4:6] == ["4", "¥49.95"]
    assert [r[6] for r in _table(page, "doc-lines")] == ["4", "0"]
    assert _field(page, _t(app, "Goods Received")) == _t(app, "Partially received")

    # the next stock-in starts from what remains; more than remains is refused when confirming
    prefilled = _form_lines(purchaser.get(add_url).get_data(as_text=True))
    assert [(int(r["product_id"]), D(r["qty"])) for r in prefilled] == [(inv["p1"], D("6")), (inv["p2"], D("100"))]
    too_many = [{"product_id": inv["p1"], "qty": "7", "unit_cost": "", "note": ""}]
    rid2 = _pk(purchaser.post(add_url, data=_stock_in_form(inv, too_many)), "stockinview")
    resp = _press(keeper, f"/stockinview/show/{rid2}", "confirm")
    message = _t(
        app,
        "Line %(n)s: only %(left)s of %(p)s remain to be received on the contract.",
        n=1,
        left="6",
        p=str(_fresh(db, Product, inv["p1"])),
    )
    assert _alerts(_follow(keeper, resp)) == [message]
    assert _fresh(db, StockIn, rid2).status == "draft" and _qty(db, inv["p1"], inv["w1"]) == D("4")
    assert number in purchaser.get(f"/stockinview/show/{rid2}").get_data(as_text=True)


def test_stock_in_form_from_a_discounted_contract_saves_as_prefilled(app, db, as_user, api_token, client, inv):
    lines = [{"product_id": inv["p1"], "qty": "3", "unit_price": "33.33", "discount": "10"}]
    cid = _approved_contract_api(client, api_token, inv, lines)
    purchaser = as_user("purchaser")
    add_url = f"/stockinview/add?_flt_0_contract={cid}"
    prefilled = _form_lines(purchaser.get(add_url).get_data(as_text=True))
    resp = purchaser.post(add_url, data=_stock_in_form(inv, prefilled))
    assert resp.status_code == 302, _alerts(resp.get_data(as_text=True))
    doc = _fresh(db, StockIn, _pk(resp, "stockinview"))
    assert doc.lines[0].unit_cost == D("30.00")


# ---------------------------------------------------------------- 5. stock out against a sales order


def test_stock_out_against_an_order_beyond_stock_then_shipped(app, db, as_user, api_token, client, inv):
    _stock_in_api(client, api_token, inv, [{"product_id": inv["p1"], "qty": "5", "unit_cost": "60"}])
    _stock_in_api(client, api_token, inv, [{"product_id": inv["p2"], "qty": "10", "unit_cost": "4"}])
    oid = _approved_order_api(
        client,
        api_token,
        inv,
        [
            {"product_id": inv["p1"], "qty": "8", "unit_price": "100"},
            {"product_id": inv["p2"], "qty": "2", "unit_price": "10"},
        ],
    )
    keeper, sales1 = as_user("keeper"), as_user("sales1")
    order_url = f"/salesorderview/show/{oid}"
    add_url = f"/stockoutview/add?_flt_0_order={oid}"
    assert f'href="{add_url}"' in keeper.get(order_url).get_data(as_text=True)  # the order's 发货 button
    prefilled = _form_lines(keeper.get(add_url).get_data(as_text=True))
    assert [(int(r["product_id"]), D(r["qty"])) for r in prefilled] == [(inv["p1"], D("8")), (inv["p2"], D("2"))]
    header = {"warehouse": str(inv["w1"]), "move_type": "__None", "doc_date": DAY, "invoice_no": "", "note": ""}
    sid = _pk(keeper.post(add_url, data=_lines_form(prefilled, **header)), "stockoutview")
    assert _fresh(db, StockOut, sid).order_id == oid

    # 8 asked, 5 on hand: refused in Chinese, the draft stays, nothing moves
    show = f"/stockoutview/show/{sid}"
    resp = _press(keeper, show, "confirm")
    p1 = _fresh(db, Product, inv["p1"])
    expected = _t(
        app,
        "Not enough stock of %(product)s in %(warehouse)s: on hand %(on_hand)s, needed %(needed)s.",
        product=str(p1),
        warehouse=_fresh(db, Warehouse, inv["w1"]).name,
        on_hand="5",
        needed="8",
    )
    alerts = _alerts(_follow(keeper, resp))
    assert alerts == [expected] and "库存不足" in alerts[0]
    assert _fresh(db, StockOut, sid).status == "draft"
    assert (_qty(db, inv["p1"], inv["w1"]), _qty(db, inv["p2"], inv["w1"])) == (D("5"), D("10"))
    assert db.session.query(StockMove).filter_by(doc_type="stock_out", doc_id=sid).count() == 0
    assert _table(sales1.get(order_url).get_data(as_text=True), "shipments") == []

    # the draft is corrected on its edit page to what there is, then confirmed
    lines = [{"product_id": inv["p1"], "qty": "5", "note": ""}, {"product_id": inv["p2"], "qty": "2", "note": ""}]
    resp = keeper.post(f"/stockoutview/edit/{sid}", data=_lines_form(lines, order=str(oid), **header))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(show)
    resp = _press(keeper, show, "confirm")
    assert _alerts(_follow(keeper, resp), "success") == [_t(app, "Confirmed; stock updated.")]
    out = _fresh(db, StockOut, sid)
    assert out.status == "posted" and [ln.unit_cost for ln in out.lines] == [D("60"), D("4")]
    assert (_qty(db, inv["p1"], inv["w1"]), _qty(db, inv["p2"], inv["w1"])) == (D("0"), D("8"))
    order = _fresh(db, SalesOrder, oid)
    assert [ln.shipped_qty for ln in order.lines] == [D("5"), D("2")]

    # the order's page shows the shipment, and what is still short
    page = sales1.get(order_url).get_data(as_text=True)
    rows = _table(page, "shipments")
    assert sorted((r[0], r[3], r[4]) for r in rows) == sorted(
        [(out.number, str(p1), "5"), (out.number, str(_fresh(db, Product, inv["p2"])), "2")]
    )
    title = re.search(r'<h4>([^<]*)</h4>\s*<div class="table-responsive">\s*<table[^>]*id="shipments"', page)
    assert title and _t(app, "Short: %(p)s", p=p1.model_no) in html_lib.unescape(title.group(1))
    # only the remaining 3 are offered next time
    prefilled = _form_lines(keeper.get(add_url).get_data(as_text=True))
    assert [(int(r["product_id"]), D(r["qty"])) for r in prefilled] == [(inv["p1"], D("3"))]

    # a sales return from the order's page starts from what was shipped; 1 of p2 comes back into w2
    back_url = f"/stockinview/add?_flt_0_order={oid}"
    assert f'href="{back_url}"' in keeper.get(order_url).get_data(as_text=True)
    prefilled = _form_lines(keeper.get(back_url).get_data(as_text=True))
    assert [(int(r["product_id"]), D(r["qty"])) for r in prefilled] == [(inv["p1"], D("5")), (inv["p2"], D("2"))]
    back = [{"product_id": inv["p2"], "qty": "1", "unit_cost": "", "note": "退货"}]
    form = _lines_form(back, warehouse=str(inv["w2"]), move_type="__None", contract="__None", doc_date=DAY)
    rid = _pk(keeper.post(back_url, data=form), "stockinview")
    assert _press(keeper, f"/stockinview/show/{rid}", "confirm").status_code == 302
    assert _fresh(db, StockIn, rid).status == "posted" and _qty(db, inv["p2"], inv["w2"]) == D("1")
    line = _fresh(db, SalesOrder, oid).lines[1]
    assert (line.shipped_qty, line.returned_qty) == (D("1"), D("1"))
    rows = _table(sales1.get(order_url).get_data(as_text=True), "shipments")
    assert (_fresh(db, StockIn, rid).number, "-1") in {(r[0], r[4]) for r in rows}


# ---------------------------------------------------------------- 6. posted documents


def test_posted_stock_in_takes_only_an_invoice_number(app, db, as_user, api_token, client, inv):
    cid = _approved_contract_api(client, api_token, inv, _contract_lines(inv))
    keeper = as_user("keeper")
    add_url = f"/stockinview/add?_flt_0_contract={cid}"
    lines = [{"product_id": inv["p2"], "qty": "30", "unit_cost": "", "note": ""}]
    rid = _pk(keeper.post(add_url, data=_stock_in_form(inv, lines)), "stockinview")
    show = f"/stockinview/show/{rid}"
    assert _press(keeper, show, "confirm").status_code == 302
    doc = _fresh(db, StockIn, rid)
    number, posted_at = doc.number, doc.posted_at
    assert doc.status == "posted" and _qty(db, inv["p2"], inv["w1"]) == D("30")
    assert _buttons(keeper.get(show).get_data(as_text=True)) == {"invoice"}

    # the edit page is refused, back to the document with the reason; a posted form changes nothing
    locked = _t(app, "%(no)s is confirmed; correct it with a new document.", no=number)
    changed = _stock_in_form(inv, [{"product_id": inv["p2"], "qty": "99", "unit_cost": "1"}], warehouse="w2")
    for send in (keeper.get, lambda u: keeper.post(u, data={**changed, "contract": str(cid)})):
        resp = send(f"/stockinview/edit/{rid}")
        assert resp.status_code == 302 and resp.headers["Location"].endswith(show)
        assert _alerts(keeper.get(show).get_data(as_text=True)) == [locked]
    # deleting is refused too
    resp = keeper.post(f"/stockinview/delete/{rid}")
    assert _alerts(_follow(keeper, resp)) == [_t(app, "%(no)s is confirmed and cannot be deleted.", no=number)]
    doc = _fresh(db, StockIn, rid)
    assert doc is not None and doc.warehouse_id == inv["w1"]
    assert [(ln.qty, ln.unit_cost) for ln in doc.lines] == [(D("30"), D("4.00"))]
    assert _qty(db, inv["p2"], inv["w1"]) == D("30") and _qty(db, inv["p2"], inv["w2"]) == 0

    # 修改发票号: the only change it takes
    page = keeper.get(f"/stockinview/invoice/{rid}")
    assert page.status_code == 200 and 'name="comment"' in page.get_data(as_text=True)
    resp = keeper.post(f"/stockinview/invoice/{rid}", data={"comment": "  FP-2030-0001 "})
    assert resp.headers["Location"].endswith(show)
    assert _alerts(_follow(keeper, resp), "success") == [_t(app, "Invoice number saved.")]
    doc = _fresh(db, StockIn, rid)
    assert doc.invoice_no == "FP-2030-0001" and doc.status == "posted" and doc.posted_at == posted_at
    assert [(ln.qty, ln.unit_cost) for ln in doc.lines] == [(D("30"), D("4.00"))]
    assert _qty(db, inv["p2"], inv["w1"]) == D("30")
    assert db.session.query(StockMove).filter_by(doc_type="stock_in", doc_id=rid).count() == 1
    assert _field(keeper.get(show).get_data(as_text=True), _t(app, "Invoice No.")) == "FP-2030-0001"
    received = _table(keeper.get(f"/purchasecontractview/show/{cid}").get_data(as_text=True), "received-goods")
    assert [(r[0], r[6]) for r in received] == [(number, "FP-2030-0001")]
    # too long: refused, the number stays
    resp = keeper.post(f"/stockinview/invoice/{rid}", data={"comment": "F" * 65})
    assert resp.status_code == 200 and _alerts(resp.get_data(as_text=True)) == [
        _t(app, "At most %(n)s characters.", n=64)
    ]
    assert _fresh(db, StockIn, rid).invoice_no == "FP-2030-0001"


def test_posted_stock_out_cannot_be_edited_or_deleted_but_a_draft_can_be_edited(
    app, db, as_user, api_token, client, inv
):
    _stock_in_api(client, api_token, inv, [{"product_id": inv["p1"], "qty": "5", "unit_cost": "60"}])
    keeper = as_user("keeper")
    header = {"warehouse": str(inv["w1"]), "move_type": "__None", "order": "__None", "doc_date": DAY}
    form = _lines_form([{"product_id": inv["p1"], "qty": "2", "note": "样品"}], **header, invoice_no="", note="")
    posted = _pk(keeper.post("/stockoutview/add", data=form), "stockoutview")
    assert _press(keeper, f"/stockoutview/show/{posted}", "confirm").status_code == 302
    draft = _pk(keeper.post("/stockoutview/add", data=form), "stockoutview")
    assert _qty(db, inv["p1"], inv["w1"]) == D("3")

    number = _fresh(db, StockOut, posted).number
    bigger = _lines_form([{"product_id": inv["p1"], "qty": "1", "note": ""}], **header, invoice_no="", note="")
    resp = keeper.post(f"/stockoutview/edit/{posted}", data=bigger)
    assert resp.headers["Location"].endswith(f"/stockoutview/show/{posted}")
    assert _alerts(_follow(keeper, resp)) == [
        _t(app, "%(no)s is confirmed; correct it with a new document.", no=number)
    ]
    resp = keeper.post(f"/stockoutview/delete/{posted}")
    assert _alerts(_follow(keeper, resp)) == [_t(app, "%(no)s is confirmed and cannot be deleted.", no=number)]
    assert [ln.qty for ln in _fresh(db, StockOut, posted).lines] == [D("2")]
    assert _qty(db, inv["p1"], inv["w1"]) == D("3")

    # the draft is edited freely, without touching stock
    resp = keeper.post(f"/stockoutview/edit/{draft}", data=bigger)
    assert resp.headers["Location"].endswith(f"/stockoutview/show/{draft}")
    assert [ln.qty for ln in _fresh(db, StockOut, draft).lines] == [D("1")]
    assert _qty(db, inv["p1"], inv["w1"]) == D("3")


@pytest.mark.every_database("deleting a draft deletes its lines, held to foreign keys by PostgreSQL and MariaDB")
@pytest.mark.parametrize("view", ["stockinview", "stockoutview", "purchasecontractview"])
def test_a_draft_document_can_be_deleted(app, db, as_user, inv, view):
    lines = [{"product_id": inv["p1"], "qty": "2", "unit_cost": "1", "note": ""}]
    if view == "purchasecontractview":
        client, model = as_user("purchaser"), PurchaseContract
        form = _contract_form(inv, [{"product_id": inv["p1"], "qty": "2", "unit_price": "1", "discount": ""}])
    else:
        client, model = as_user("keeper"), StockIn if view == "stockinview" else StockOut
        form = _stock_in_form(inv, lines)
    pk = _pk(client.post(f"/{view}/add", data=form), view)
    resp = client.post(f"/{view}/delete/{pk}")
    assert _alerts(_follow(client, resp)) == []
    assert _fresh(db, model, pk) is None


# ---------------------------------------------------------------- 7. stock taking, the ledger, alerts


def test_stock_take_posts_gains_and_losses_ledger_and_alerts(app, db, as_user, api_token, client, inv, uid):
    p1 = db.session.get(Product, inv["p1"])
    p1.safety_min = D("10")
    quiet = Product(model_no=uid("K"), name=uid("静"), safety_min=D("1"), purchase_price=D("2"))
    db.session.add(quiet)
    db.session.commit()
    quiet_id = quiet.id
    _stock_in_api(client, api_token, inv, [{"product_id": inv["p1"], "qty": "5", "unit_cost": "60"}])
    _stock_in_api(client, api_token, inv, [{"product_id": inv["p2"], "qty": "3", "unit_cost": "4"}])
    _stock_in_api(client, api_token, inv, [{"product_id": quiet_id, "qty": "9", "unit_cost": "2"}], warehouse="w2")
    keeper = as_user("keeper")

    # counting w1 starts from every product it holds (not w2's), the counted quantities left blank
    page = keeper.get(f"/stocktakeview/add?_flt_0_warehouse={inv['w1']}").get_data(as_text=True)
    assert [(int(r["product_id"]), r["qty"]) for r in _form_lines(page)] == [(inv["p1"], ""), (inv["p2"], "")]
    counted = [
        {"product_id": inv["p1"], "qty": "7", "note": "多出两台"},
        {"product_id": inv["p2"], "qty": "1", "note": ""},
    ]
    header = {"warehouse": str(inv["w1"]), "doc_date": DAY, "note": ""}
    tid = _pk(
        keeper.post(f"/stocktakeview/add?_flt_0_warehouse={inv['w1']}", data=_lines_form(counted, **header)),
        "stocktakeview",
    )
    show = f"/stocktakeview/show/{tid}"
    rows = _table(keeper.get(show).get_data(as_text=True), "doc-lines")
    assert [r[2:5] for r in rows] == [["5", "7", "2"], ["3", "1", "-2"]]  # book, counted, difference
    assert _qty(db, inv["p1"], inv["w1"]) == D("5")  # a draft changes nothing
    assert _press(keeper, show, "confirm").status_code == 302
    assert _fresh(db, StockTake, tid).status == "posted"
    assert (_qty(db, inv["p1"], inv["w1"]), _qty(db, inv["p2"], inv["w1"])) == (D("7"), D("1"))
    moves = db.session.query(StockMove).filter_by(doc_type="stock_take", doc_id=tid).order_by(StockMove.product_id)
    assert [(m.product_id, m.kind, m.qty, m.amount) for m in moves] == [
        (inv["p1"], "take_gain", D("2"), D("120.00")),  # at the average cost 60
        (inv["p2"], "take_loss", D("-2"), D("-8.00")),
    ]

    # the ledger page lists the moves of a product, newest first, with their totals
    number = _fresh(db, StockTake, tid).number
    ledger = keeper.get(f"/stockmoveview/list/?_flt_0_product={inv['p1']}").get_data(as_text=True)
    rows = [(r[2], r[3], r[6], r[8], r[9]) for r in _list_rows(ledger)]
    assert rows[0] == (number, _t(app, "Stock-take gain"), "2", "¥120.00", "7")
    assert rows[1][0].startswith("RK") and rows[1][1:] == (_t(app, "Other in"), "5", "¥300.00", "5")
    assert len(rows) == 2 and _totals(ledger, keeper) == {"qty": "7", "amount": "¥420.00"}
    ledger = keeper.get(f"/stockmoveview/list/?_flt_0_product={inv['p2']}").get_data(as_text=True)
    assert [(r[2], r[3], r[6]) for r in _list_rows(ledger)][0] == (number, _t(app, "Stock-take loss"), "-2")

    # alerts: p1 (7 on hand) is below its minimum of 10; the other product holds 9 ≥ 1; p2 has no limits
    alerts = _table(keeper.get("/stockmoveview/alerts/").get_data(as_text=True), "stock-alerts")
    mine = {r[0]: r for r in alerts if r[0] in (p1.model_no, quiet.model_no, _fresh(db, Product, inv["p2"]).model_no)}
    assert list(mine) == [p1.model_no]
    assert mine[p1.model_no][2:] == ["7", _t(app, "Below safety minimum"), "10"]


def _browser_choice(page: str, field: str) -> str:
    """What a browser submits for a select of the form: its selected option, else the first one."""
    select = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {field} in the form"
    options = re.findall(r"<option([^>]*)>", select.group(1))
    values = [re.search(r'value="([^"]*)"', o).group(1) for o in options]
    chosen = [v for o, v in zip(options, values) if re.search(r"\bselected\b", o)]
    return (chosen or values)[0]


def test_stock_take_form_opened_for_a_warehouse_counts_that_warehouse(app, db, as_user, api_token, client, inv):
    _stock_in_api(client, api_token, inv, [{"product_id": inv["p1"], "qty": "5", "unit_cost": "60"}], warehouse="w2")
    keeper = as_user("keeper")
    url = f"/stocktakeview/add?_flt_0_warehouse={inv['w2']}"
    page = keeper.get(url).get_data(as_text=True)
    lines = [{**line, "qty": "5"} for line in _form_lines(page)]
    assert 'name="warehouse"' not in page  # the warehouse is fixed by the link, not offered to change
    header = {"doc_date": DAY, "note": ""}
    tid = _pk(keeper.post(url, data=_lines_form(lines, **header)), "stocktakeview")
    take = _fresh(db, StockTake, tid)
    assert take.warehouse_id == inv["w2"] and [ln.book_qty for ln in take.lines] == [D("5")]


# ---------------------------------------------------------------- 8. transfers


def test_transfer_page_refuses_one_warehouse_and_moves_stock_between_two(app, db, as_user, api_token, client, inv, uid):
    _stock_in_api(client, api_token, inv, [{"product_id": inv["p1"], "qty": "5", "unit_cost": "60"}])
    keeper = as_user("keeper")
    lines = [{"product_id": inv["p1"], "qty": "2", "note": ""}]
    same_note = uid("调拨")
    same = _lines_form(lines, from_warehouse=str(inv["w1"]), to_warehouse=str(inv["w1"]), doc_date=DAY, note=same_note)
    resp = keeper.post("/stocktransferview/add", data=same)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert _alerts(page) == [_t(app, "A transfer needs two different warehouses.")]
    assert [(int(r["product_id"]), r["qty"]) for r in _form_lines(page)] == [(inv["p1"], "2")]  # kept to correct
    assert db.session.query(StockTransfer).filter_by(note=same_note).count() == 0

    form = {**same, "to_warehouse": str(inv["w2"])}
    tid = _pk(keeper.post("/stocktransferview/add", data=form), "stocktransferview")
    assert (_qty(db, inv["p1"], inv["w1"]), _qty(db, inv["p1"], inv["w2"])) == (D("5"), D("0"))
    show = f"/stocktransferview/show/{tid}"
    assert _press(keeper, show, "confirm").status_code == 302
    assert _fresh(db, StockTransfer, tid).status == "posted"
    assert (_qty(db, inv["p1"], inv["w1"]), _qty(db, inv["p1"], inv["w2"])) == (D("3"), D("2"))
    moves = _table(keeper.get(show).get_data(as_text=True), "doc-moves")
    names = (_fresh(db, Warehouse, inv["w1"]).name, _fresh(db, Warehouse, inv["w2"]).name)
    assert [(r[1], r[2], r[5]) for r in moves] == [(names[0], "-2", "3"), (names[1], "2", "2")]
    # more than the source holds: refused, both sides unchanged
    big = {**form, "lines-0-qty": "4"}
    tid = _pk(keeper.post("/stocktransferview/add", data=big), "stocktransferview")
    resp = _press(keeper, f"/stocktransferview/show/{tid}", "confirm")
    assert "库存不足" in _alerts(_follow(keeper, resp))[0]
    assert _fresh(db, StockTransfer, tid).status == "draft"
    assert (_qty(db, inv["p1"], inv["w1"]), _qty(db, inv["p1"], inv["w2"])) == (D("3"), D("2"))


# ---------------------------------------------------------------- 9. stock list search and export


def test_stock_list_search_by_model_and_category_and_export(app, db, as_user, api_token, client, inv, uid):
    tok = uid("S").upper()
    parent = ProductCategory(name=uid("类"))
    db.session.add(parent)
    db.session.flush()
    child = ProductCategory(name=uid("子类"), parent_id=parent.id)
    db.session.add(child)
    db.session.flush()
    pa = Product(model_no=f"{tok}-A", name=uid("甲"), category_id=parent.id)
    pb = Product(model_no=f"{tok}-B", name=uid("乙"), category_id=child.id)
    pd = Product(model_no=uid("Z"), name=f"名{tok}", category_id=None)  # matches by name
    pc = Product(model_no=uid("Z"), name=uid("丙"), category_id=parent.id)  # in the category, not the text
    db.session.add_all([pa, pb, pd, pc])
    db.session.commit()
    ids = {"a": pa.id, "b": pb.id, "d": pd.id, "c": pc.id}
    models = {k: db.session.get(Product, v).model_no for k, v in ids.items()}
    parent_id, child_id = parent.id, child.id
    for key, qty, wh in (("a", "3", "w1"), ("a", "1.5", "w2"), ("b", "4", "w1"), ("d", "2", "w1"), ("c", "7", "w1")):
        _stock_in_api(client, api_token, inv, [{"product_id": ids[key], "qty": qty, "unit_cost": "1"}], warehouse=wh)
    user = as_user("sales1")  # a salesperson reads the stock list

    def listed(query):
        page = user.get(f"/stockbalanceview/list/?{query}")
        assert page.status_code == 200
        page = page.get_data(as_text=True)
        shown = {row[0] for row in _list_rows(page)}
        return {k for k, m in models.items() if m in shown}, _totals(page, user)

    assert listed(f"q={tok.lower()}") == ({"a", "b", "d"}, {"qty": "10.5"})  # model no. or name, any case
    assert listed(f"q={models['c']}") == ({"c"}, {"qty": "7"})
    assert listed(f"category={parent_id}") == ({"a", "b", "c"}, {"qty": "15.5"})  # with its sub-categories
    assert listed(f"category={child_id}") == ({"b"}, {"qty": "4"})
    assert listed(f"q={tok}&category={parent_id}") == ({"a", "b"}, {"qty": "8.5"})

    resp = user.get(f"/stockbalanceview/export_xlsx/?q={tok}")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert header[0] == _t(app, "Model No.") and len(header) == 5
    assert sorted((r[0], D(str(r[4]))) for r in body) == sorted(
        [(models["a"], D("3")), (models["a"], D("1.5")), (models["b"], D("4")), (models["d"], D("2"))]
    )
    assert total[0] == _t(app, "Total") and D(str(total[4])) == D("10.5")


# ---------------------------------------------------------------- 10. who may open what


def test_roles_on_the_purchasing_and_warehouse_pages(app, db, as_user, api_token, client, inv, uid):
    cid = _approved_contract_api(client, api_token, inv, _contract_lines(inv))
    resp = client.post(
        "/api/v1/payment/",
        json={"contract": cid, "amount": "100.00", "method": "bank", "doc_date": DAY},
        headers=api_token("purchaser"),
    )
    assert resp.status_code == 201, resp.json
    payment_id = resp.json["id"]
    rid = _stock_in_api(client, api_token, inv, [{"product_id": inv["p1"], "qty": "1", "unit_cost": "1"}])

    sales1 = as_user("sales1")
    for url in (
        "/stockinview/list/",
        "/stockinview/add",
        f"/stockinview/show/{rid}",
        "/stockoutview/add",
        "/stocktakeview/add",
        "/stocktransferview/add",
        "/stockmoveview/list/",
        "/stockmoveview/alerts/",
        "/purchasecontractview/list/",
        "/purchasecontractview/add",
        f"/purchasecontractview/show/{cid}",
        "/paymentview/list/",
        "/supplierview/add",
    ):
        assert sales1.get(url).status_code == 403, url
    note = uid("越权")
    lines = [{"product_id": inv["p1"], "qty": "1", "unit_cost": "1", "note": ""}]
    assert sales1.post("/stockinview/add", data=_stock_in_form(inv, lines, note=note)).status_code == 403
    assert (
        sales1.post("/purchasecontractview/add", data=_contract_form(inv, _contract_lines(inv), note=note)).status_code
        == 403
    )
    assert db.session.query(StockIn).filter_by(note=note).count() == 0
    assert db.session.query(PurchaseContract).filter_by(note=note).count() == 0
    assert sales1.get("/stockbalanceview/list/").status_code == 200  # what is in stock is no secret to sales

    # finance reads payments and audits them, but neither enters nor confirms stock
    finance = as_user("finance")
    assert finance.get("/paymentview/list/").status_code == 200
    assert finance.get(f"/paymentview/show/{payment_id}").status_code == 200
    assert finance.get(f"/purchasecontractview/show/{cid}").status_code == 200
    assert finance.get("/stockinview/list/").status_code == 200
    assert finance.get("/stockinview/add").status_code == 403
    assert finance.post(f"/stockinview/action/confirm/{rid}").status_code == 403
    assert (
        finance.post(f"/paymentview/action/audit/{payment_id}", data={"next": "/paymentview/list/"}).status_code == 302
    )
    assert _fresh(db, Payment, payment_id).audited is True

    # the executive only reads; the keeper does not see payments; purchasing does not count or move stock
    executive = as_user("exec")
    assert executive.get("/paymentview/list/").status_code == 200
    assert executive.get("/paymentview/add").status_code == 403
    assert executive.post(f"/paymentview/action/audit/{payment_id}").status_code == 403
    keeper = as_user("keeper")
    assert keeper.get("/paymentview/list/").status_code == 403
    assert keeper.get(f"/purchasecontractview/show/{cid}").status_code == 200
    purchaser = as_user("purchaser")
    for url in ("/stocktakeview/add", "/stocktransferview/add", "/stockoutview/add"):
        assert purchaser.get(url).status_code == 403, url
    assert purchaser.get("/stockinview/add").status_code == 200
