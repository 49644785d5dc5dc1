"""The rest of the sales cycle (issue 10): payment terms and cash discount, rebates credited to receivables and the
statement, promotions against price breaks, received purchase invoices, opening balances through the ledger.

Dates are in 2044–2045, which no other test uses."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import Workbook

from app.base_data.models import CustomerType, PaymentTerm, Product, ProductCategory, Warehouse
from app.crm.models import EndCustomer
from app.sales.models import CustomerPrice, PriceBreak, Rebate, ReceivableCredit, SalesOrder
from tests.support.sales import act, approve_order, approved_order, create_order, fresh_order, login_page, stock_in
from tests.support.users import user_id

D = Decimal

pytestmark = pytest.mark.every_database(
    "promotion, rebate and statement date ranges are compared in SQL, and receipts, credits, rebates and opening "
    "balances (a bulk import, refused once by a unique key) are posted to NUMERIC columns and read back to the cent"
)


@pytest.fixture
def sales_world(app, db, uid):
    sales1 = user_id(app, "sales1")
    category = ProductCategory(name=uid("促销类"))
    ctype = CustomerType(name=uid("客户类型"))
    term = PaymentTerm(name=uid("2/10"), kind="credit", days=30, discount_percent=D("2"), discount_days=10)
    db.session.add_all([category, ctype, term])
    db.session.flush()
    p1 = Product(model_no=uid("M"), name="网关", sale_price=D("100.00"), floor_price=D("0"), category_id=category.id)
    p2 = Product(model_no=uid("M"), name="传感器", sale_price=D("19.99"), floor_price=D("0"))
    customer = EndCustomer(
        name=uid("业主"), owner_id=sales1, credit_limit=D("0"), customer_type_id=ctype.id, payment_term_id=term.id
    )
    db.session.add_all([p1, p2, customer])
    db.session.flush()
    db.session.add(PriceBreak(product_id=p1.id, min_qty=D("10"), unit_price=D("85.00")))
    db.session.commit()
    return {
        "p1": p1.id,
        "p2": p2.id,
        "customer": customer.id,
        "category": category.id,
        "ctype": ctype.id,
        "term": term.id,
    }


def one_line_order(client, api_token, sales_world, day, price, *, approve=True, **extra):
    oid = create_order(
        client,
        api_token("sales1"),
        sales_world,
        doc_date=day,
        lines=[{"product_id": sales_world["p2"], "qty": "1", "unit_price": price}],
        **extra,
    )
    if approve:
        approve_order(client, api_token, oid)
    return oid


def receipt(client, headers, order_id, amount, day, **extra):
    body = {"order": order_id, "amount": amount, "method": "bank", "doc_date": day, **extra}
    return client.post("/api/v1/receipt/", json=body, headers=headers)


# ------------------------------------------------------------------ payment terms and cash discount


def test_payment_term_gives_due_date_and_cash_discount_at_the_day_boundary(app, client, db, api_token, sales_world):
    finance = api_token("finance")
    # the customer's term (2/10, 30 days) is the order's default
    oid = one_line_order(client, api_token, sales_world, "2044-05-01", "1000.00")
    order = fresh_order(db, oid)
    assert order.payment_term_id == sales_world["term"]
    assert str(order.due_date) == "2044-05-31" and str(order.discount_until) == "2044-05-11"
    # day 10 is still in time: 980 settles 1000 (a 20.00 credit), the order is paid
    resp = receipt(client, finance, oid, "980.00", "2044-05-11", cash_discount=True)
    assert resp.status_code == 201, resp.json
    order = fresh_order(db, oid)
    assert order.received_amount == D("980.00") and order.credited_amount == D("20.00")
    assert order.outstanding_amount == D("0.00") and order.payment_status == "paid"
    credit = db.session.query(ReceivableCredit).filter_by(order_id=oid).one()
    assert credit.kind == "cash_discount" and credit.amount == D("20.00")

    # day 11 is late: asked for, it is refused with the dates, and nothing changes
    late = one_line_order(client, api_token, sales_world, "2044-05-01", "1000.00")
    resp = receipt(client, finance, late, "980.00", "2044-05-12", cash_discount=True)
    assert resp.status_code == 409
    assert "2044-05-11" in resp.json["message"] and "2044-05-12" in resp.json["message"]
    order = fresh_order(db, late)
    assert order.received_amount == D("0") and order.credited_amount == D("0")
    # not asked for and late: an ordinary partial receipt
    assert receipt(client, finance, late, "980.00", "2044-05-12").status_code == 201
    order = fresh_order(db, late)
    assert order.credited_amount == D("0") and order.outstanding_amount == D("20.00")

    # not asked for but in time and paying the balance less the discount: taken by itself
    auto = one_line_order(client, api_token, sales_world, "2044-06-01", "555.55")
    assert receipt(client, finance, auto, "544.44", "2044-06-03").status_code == 201
    order = fresh_order(db, auto)
    assert order.credited_amount == D("11.11") and order.payment_status == "paid"
    # deleting the receipt takes its discount back
    rid = client.get(f"/api/v1/receipt/?q=(filters:!((col:order,opr:rel_o_m,value:{auto})))", headers=finance)
    assert client.delete(f"/api/v1/receipt/{rid.json['ids'][0]}", headers=finance).status_code == 200
    order = fresh_order(db, auto)
    assert order.received_amount == D("0") and order.credited_amount == D("0") and order.payment_status == "unpaid"


def test_cash_discount_on_a_term_without_one_is_refused(app, client, db, api_token, sales_world):
    db.session.get(EndCustomer, sales_world["customer"]).payment_term_id = None
    db.session.commit()
    oid = one_line_order(client, api_token, sales_world, "2044-07-01", "100.00", payment_days=15)
    assert str(fresh_order(db, oid).due_date) == "2044-07-16"
    resp = receipt(client, api_token("finance"), oid, "98.00", "2044-07-02", cash_discount=True)
    assert resp.status_code == 400 and fresh_order(db, oid).received_amount == D("0")


# ------------------------------------------------------------------ rebates and the statement of account


def test_statement_balances_with_orders_receipts_refunds_and_a_rebate_credit(app, client, db, api_token, sales_world):
    from openpyxl import load_workbook

    finance, manager = api_token("finance"), api_token("manager")
    db.session.get(EndCustomer, sales_world["customer"]).payment_term_id = None
    db.session.commit()
    first = one_line_order(client, api_token, sales_world, "2044-01-10", "5000.00")
    second = one_line_order(client, api_token, sales_world, "2044-02-10", "3000.30")
    assert receipt(client, finance, first, "5000.00", "2044-01-20").status_code == 201
    assert receipt(client, finance, second, "1000.00", "2044-02-20").status_code == 201
    refund = {"order": first, "amount": "200.00", "reason": "退差价", "doc_date": "2044-02-25"}
    assert client.post("/api/v1/refund/", json=refund, headers=finance).status_code == 201

    agreement = {"name": "年度返利", "end_customer": sales_world["customer"], "rate": "2", "threshold": "5000"}
    resp = client.post("/api/v1/rebate_agreement/", json=agreement, headers=manager)
    assert resp.status_code == 201, resp.json
    aid = resp.json["id"]
    # below the threshold in January alone? received 5000.00 reaches it exactly; the quarter gives 5800.00
    period = {"period_start": "2044-01-01", "period_end": "2044-03-31"}
    resp = act(client, finance, "rebate_agreement", aid, "compute", **period)
    assert resp.status_code == 201, resp.json
    rebate_id = resp.json["id"]
    assert resp.json["amount"] == "116.00"  # 2% of 5000.00 + 1000.00 − 200.00
    # an overlapping period is refused, nothing added
    resp = act(client, finance, "rebate_agreement", aid, "compute", period_start="2044-03-01", period_end="2044-04-30")
    assert resp.status_code == 409 and "2044-03-31" in resp.json["message"]
    db.session.rollback()
    assert db.session.query(Rebate).filter_by(agreement_id=aid).count() == 1
    # a salesperson cannot approve; the manager's approval credits it to the order still owed
    assert act(client, api_token("sales1"), "rebate", rebate_id, "approve").status_code == 403
    resp = act(client, manager, "rebate", rebate_id, "approve", comment="同意")
    assert resp.status_code == 200 and resp.json["status"] == "approved"
    db.session.rollback()
    rebate = db.session.get(Rebate, rebate_id)
    assert rebate.settled_amount == D("116.00")
    # earliest due first: the first order owes the 200.00 refunded, so the whole 116.00 goes there
    assert fresh_order(db, first).outstanding_amount == D("84.00")
    assert fresh_order(db, second).outstanding_amount == D("2000.30")
    assert act(client, finance, "rebate", rebate_id, "settle").status_code == 409  # nothing left to settle

    page = login_page(app, "sales1")
    # the credit is dated the day it was settled (today), before the 2044 documents
    url = f"/receivableview/statement/{sales_world['customer']}?start=2026-01-01&end=2044-12-31"
    html = page.get(url).get_data(as_text=True)
    assert "¥2,084.30" in html  # 5000.00 + 3000.30 − 5000.00 − 1000.00 + 200.00 − 116.00
    sheet = load_workbook(BytesIO(page.get(url + "&format=xlsx").data), read_only=True).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    balances = [D(str(r[5])).quantize(D("0.01")) for r in rows]
    expected = ["0.00", "-116.00", "4884.00", "-116.00", "2884.30", "1884.30", "2084.30", "2084.30"]
    assert balances == [D(v) for v in expected]
    assert rows[1][2] == "返利"

    # below the threshold: refused
    resp = act(client, finance, "rebate_agreement", aid, "compute", period_start="2044-04-01", period_end="2044-06-30")
    assert resp.status_code == 409


# ------------------------------------------------------------------ promotions


def promotion(client, headers, sales_world, uid, **kw):
    body = {
        "name": uid("促销"),
        "start_date": "2044-09-01",
        "end_date": "2044-09-30",
        "rule": "percent",
        "percent": "10",
        "products": [sales_world["p1"]],
        "customer_types": [sales_world["ctype"]],
        "enabled": True,
    }
    body.update(kw)
    return client.post("/api/v1/promotion/", json=body, headers=headers)


def priced(client, headers, sales_world, qty, day="2044-09-10"):
    oid = create_order(
        client, headers, sales_world, doc_date=day, lines=[{"product_id": sales_world["p1"], "qty": qty}]
    )
    return client.get(f"/api/v1/sales_order/{oid}", headers=headers).json["result"]["lines"][0]


def test_promotion_and_price_break_precedence(app, client, db, api_token, sales_world, uid):
    manager, sales1 = api_token("manager"), api_token("sales1")
    resp = promotion(client, manager, sales_world, uid)
    assert resp.status_code == 201, resp.json
    promo_id = resp.json["id"]
    # 5 units: 10% off the sale price (90.00) beats the sale price; the promotion is named on the line
    line = priced(client, sales1, sales_world, "5")
    assert (D(line["unit_price"]), D(line["discount"]), D(line["amount"])) == (D("100"), D("10"), D("450"))
    assert line["promotion_id"] == promo_id
    # 10 units: the price break (85.00) is cheaper than the promotion (90.00): no promotion
    line = priced(client, sales1, sales_world, "10")
    assert (D(line["unit_price"]), D(line["amount"])) == (D("85"), D("850")) and line["promotion_id"] is None
    # outside the dates: sale price
    line = priced(client, sales1, sales_world, "5", day="2044-10-01")
    assert D(line["amount"]) == D("500") and line["promotion_id"] is None
    # the customer's own price always wins
    db.session.add(
        CustomerPrice(end_customer_id=sales_world["customer"], product_id=sales_world["p1"], price=D("95.00"))
    )
    db.session.commit()
    line = priced(client, sales1, sales_world, "5")
    assert D(line["amount"]) == D("475") and line["promotion_id"] is None


def test_buy_n_get_m_is_exact_and_overlaps_are_refused(app, client, db, api_token, sales_world, uid):
    manager, sales1 = api_token("manager"), api_token("sales1")
    resp = promotion(
        client,
        manager,
        sales_world,
        uid,
        rule="buy_get",
        percent=None,
        buy_qty="3",
        free_qty="1",
        products=[],
        categories=[sales_world["category"]],
        start_date="2045-01-01",
        end_date="2045-01-31",
    )
    assert resp.status_code == 201, resp.json
    line = priced(client, sales1, sales_world, "8", day="2045-01-15")  # 2 of 8 free: pays 6 × 100
    assert D(line["amount"]) == D("600") and D(line["discount"]) == D("25")
    line = priced(client, sales1, sales_world, "3", day="2045-01-15")  # too few to get one free
    assert D(line["amount"]) == D("300") and line["promotion_id"] is None
    # another promotion on the same product (named directly, the first covers its category) overlapping in time
    before = client.get("/api/v1/promotion/", headers=manager).json["count"]
    resp = promotion(client, manager, sales_world, uid, start_date="2045-01-20", end_date="2045-02-10")
    assert resp.status_code == 409 and "2045-01-31" in resp.json["message"]
    assert client.get("/api/v1/promotion/", headers=manager).json["count"] == before
    # for other customer types only, it may run at the same time
    other = CustomerType(name=uid("其他类型"))
    db.session.add(other)
    db.session.commit()
    resp = promotion(
        client, manager, sales_world, uid, start_date="2045-01-20", end_date="2045-02-10", customer_types=[other.id]
    )
    assert resp.status_code == 201
    # a line naming a promotion that does not apply to it is refused
    bad = [{"product_id": sales_world["p1"], "qty": "1", "promotion_id": resp.json["id"]}]
    resp = client.post(
        "/api/v1/sales_order/",
        json={"end_customer": sales_world["customer"], "doc_date": "2045-01-25", "lines": bad},
        headers=sales1,
    )
    assert resp.status_code == 409
    # salespeople read promotions but do not write them
    assert (
        promotion(client, sales1, sales_world, uid, start_date="2046-01-01", end_date="2046-01-02").status_code == 403
    )


# ------------------------------------------------------------------ received purchase invoices


def test_received_invoices_never_exceed_the_contract(app, client, db, api_token, uid):
    from app.purchase.models import PurchaseContract, Supplier

    supplier = Supplier(name=uid("供货商"))
    db.session.add(supplier)
    db.session.flush()
    contract = PurchaseContract(supplier_id=supplier.id, total_amount=D("1130.00"), status="approved")
    db.session.add(contract)
    db.session.commit()
    finance = api_token("finance")
    body = {"contract": contract.id, "invoice_no": uid("FP"), "invoice_date": "2044-03-01", "tax_rate": "13"}
    resp = client.post("/api/v1/purchase_invoice/", json={**body, "amount": "1000.00"}, headers=finance)
    assert resp.status_code == 201, resp.json
    shown = client.get(f"/api/v1/purchase_invoice/{resp.json['id']}", headers=finance).json["result"]
    assert (D(shown["net_amount"]), D(shown["tax_amount"])) == (D("884.96"), D("115.04"))
    resp = client.post(
        "/api/v1/purchase_invoice/", json={**body, "invoice_no": uid("FP"), "amount": "130.01"}, headers=finance
    )
    assert resp.status_code == 409 and "130.00" in resp.json["message"]
    db.session.rollback()
    assert db.session.get(PurchaseContract, contract.id).invoiced_amount == D("1000.00")


# ------------------------------------------------------------------ opening balances


def xlsx(header, *rows) -> BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    buf = BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def upload(page, kind, data, **form):
    return page.post(
        f"/openingbalanceview/import/{kind}",
        data={"file": (data, "opening.xlsx"), "as_of": "2026-01-01", **form},
        content_type="multipart/form-data",
    )


def test_opening_stock_and_receivables_post_once_through_the_ledger(app, db, sales_world, uid):
    from app.inventory.models import StockMove
    from app.inventory.services import check_invariants, on_hand
    from app.opening.models import OpeningBalance

    warehouse = Warehouse(name=uid("期初仓"))
    db.session.add(warehouse)
    db.session.commit()
    model_no = db.session.get(Product, sales_world["p2"]).model_no
    customer = db.session.get(EndCustomer, sales_world["customer"])
    stock = lambda: xlsx(["Model", "Warehouse", "Quantity", "Unit Cost"], [model_no, warehouse.name, 12.5, 8.8])  # noqa: E731
    admin, finance = login_page(app, "admin"), login_page(app, "finance")
    # other tests have made documents: finance is refused, an administrator must tick the confirmation
    html = upload(finance, "stock", stock()).get_data(as_text=True)
    assert "管理员" in html
    html = upload(admin, "stock", stock()).get_data(as_text=True)
    assert 'id="import-message"' in html
    db.session.rollback()
    assert db.session.query(OpeningBalance).filter_by(warehouse_id=warehouse.id).count() == 0
    assert upload(admin, "stock", stock(), confirm="1").status_code == 302
    db.session.rollback()
    assert on_hand(db.session, sales_world["p2"], warehouse.id) == D("12.5")
    move = db.session.query(StockMove).filter_by(warehouse_id=warehouse.id).one()
    assert move.kind == "opening_in" and move.unit_cost == D("8.8")
    assert check_invariants(db.session) == []
    # the same product and warehouse again: every row refused, nothing changed
    html = upload(admin, "stock", stock(), confirm="1").get_data(as_text=True)
    assert "import-errors" in html
    db.session.rollback()
    assert on_hand(db.session, sales_world["p2"], warehouse.id) == D("12.5")

    receivable = lambda: xlsx(["Customer", "Amount", "Due Date"], [customer.name, 3210.5, "2026-02-15"])  # noqa: E731
    from app.sales.services import achieved_amount

    sales_before = achieved_amount(db.session, customer.owner_id, dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    assert upload(admin, "receivable", receivable(), confirm="1").status_code == 302
    db.session.rollback()
    order = db.session.query(SalesOrder).filter_by(end_customer_id=customer.id, is_opening=True).one()
    assert order.total_amount == D("3210.50") and str(order.due_date) == "2026-02-15"
    assert order.outstanding_amount == D("3210.50") and order.status == "approved"
    # it is a receivable (on the list) but not a sale (statistics leave it out)
    listed = login_page(app, "sales1").get(f"/receivableview/list/?_flt_0_end_customer={customer.id}")
    assert order.number in listed.get_data(as_text=True)
    from app.sales.services import achieved_amount

    day = order.doc_date
    assert achieved_amount(db.session, customer.owner_id, day, day) == sales_before
    assert "import-errors" in upload(admin, "receivable", receivable(), confirm="1").get_data(as_text=True)


def test_a_prepaid_order_ships_only_once_paid_in_full(app, client, db, api_token, uid):
    prepaid = db.session.query(PaymentTerm).filter_by(kind="prepaid").first()
    warehouse = Warehouse(name=uid("预付仓"))
    product = Product(model_no=uid("PP"), name="预付产品", sale_price=D("100.00"), purchase_price=D("60.00"))
    customer = EndCustomer(name=uid("预付客户"), owner_id=user_id(app, "sales1"), payment_term_id=prepaid.id)
    db.session.add_all([warehouse, product, customer])
    db.session.commit()
    sales_world = {"w1": warehouse.id, "p1": product.id, "customer": customer.id}
    keeper, finance = api_token("keeper"), api_token("finance")
    stock_in(client, keeper, sales_world, [{"product_id": product.id, "qty": "5", "unit_cost": "60.00"}])
    oid = approved_order(
        client, api_token, sales_world, [{"product_id": product.id, "qty": "2", "unit_price": "100.00"}]
    )
    order = fresh_order(db, oid)
    assert order.payment_term_id == prepaid.id and order.due_date == order.doc_date
    ship = {"warehouse": warehouse.id, "order": oid, "lines": [{"product_id": product.id, "qty": "2"}]}
    sid = client.post("/api/v1/stock_out/", json=ship, headers=keeper).json["id"]
    resp = act(client, keeper, "stock_out", sid, "confirm")
    assert resp.status_code == 409 and "¥200.00" in resp.json["message"]
    assert receipt(client, finance, oid, "200.00", "2026-11-20").status_code == 201
    assert act(client, keeper, "stock_out", sid, "confirm").status_code == 200


def test_pages_of_the_sales_cycle(app, db, as_user, api_token, client, sales_world, uid):
    """The new pages open for those who may use them, and the forms do what the API does."""
    admin, sales1 = as_user("admin"), as_user("sales1")
    for url in (
        "/promotionview/list/",
        "/promotionview/add",
        "/rebateagreementview/list/",
        "/rebateview/list/",
        "/receivablecreditview/list/",
        "/openingbalanceview/list/",
        "/openingbalanceview/import/receivable",
        "/paymenttermview/list/",
        "/purchaseinvoiceview/add",
    ):
        assert admin.get(url).status_code == 200, url
    assert sales1.get("/openingbalanceview/list/").status_code == 403  # signed in, without the permission
    # the receivables list offers the dunning filters; "overdue" keeps only orders past their due date
    html = sales1.get("/receivableview/list/").get_data(as_text=True)
    assert "7天内到期" in html and "已逾期" in html
    # a promotion through the form: products and customer types as multi-selects
    name = uid("表单促销")
    form = {
        "name": name,
        "start_date": "2045-03-01",
        "end_date": "2045-03-31",
        "rule": "fixed_price",
        "price": "88.00",
        "products": str(sales_world["p1"]),
        "enabled": "y",
    }
    assert admin.post("/promotionview/add", data=form).status_code == 302
    from app.promotions.models import Promotion

    db.session.rollback()
    promo = db.session.query(Promotion).filter_by(name=name).one()
    assert promo.price == D("88.00") and [p.id for p in promo.products] == [sales_world["p1"]]
    # a bad one through the form: refused with the reason, nothing saved
    bad = {**form, "name": uid("坏促销"), "price": "0"}
    html = admin.post("/promotionview/add", data=bad, follow_redirects=True).get_data(as_text=True)
    assert "促销价须大于0" in html
    db.session.rollback()
    assert db.session.query(Promotion).filter_by(name=bad["name"]).count() == 0
    # the order form names the promotion on the line, and the price suggestion brings it
    assert 'name="lines-0-promotion_id"' in sales1.get("/salesorderview/add").get_data(as_text=True)
    price = sales1.get(
        f"/salesorderview/price?product={sales_world['p1']}&qty=2&end_customer={sales_world['customer']}&date=2045-03-10"
    ).json
    assert price["promotion_id"] == promo.id and price["price"] == "88.00"
    # the rebate page computes from the agreement page
    manager = as_user("manager")
    resp = client.post(
        "/api/v1/rebate_agreement/",
        json={"name": uid("返利"), "end_customer": sales_world["customer"], "rate": "1", "threshold": "0"},
        headers=api_token("manager"),
    )
    aid = resp.json["id"]
    assert "compute" in manager.get(f"/rebateagreementview/show/{aid}").get_data(as_text=True)
    html = manager.post(
        f"/rebateagreementview/compute/{aid}", data={"period_start": "2045-12-01", "period_end": "2045-12-31"}
    ).get_data(as_text=True)
    assert "未达到返利门槛" in html  # nothing received then
    assert sales1.get(f"/rebateagreementview/compute/{aid}").status_code == 403


def test_opening_receivable_for_a_name_two_customers_share_is_refused(app, db, uid):
    """End customers are unique per name and region: a name alone that matches two is a clear row error, not a 500."""
    from app.base_data.models import Region
    from app.opening.models import OpeningBalance

    name = uid("同名业主")
    regions = db.session.query(Region).filter(Region.level == "city").limit(2).all()
    owner = user_id(app, "sales1")
    db.session.add_all([EndCustomer(name=name, owner_id=owner, region_id=r.id) for r in regions])
    db.session.commit()
    admin = login_page(app, "admin")
    html = upload(admin, "receivable", xlsx(["Customer", "Amount"], [name, 10]), confirm="1").get_data(as_text=True)
    assert "import-errors" in html and "多条记录" in html
    db.session.rollback()
    assert (
        db.session.query(OpeningBalance)
        .filter(OpeningBalance.key.like("receivable:%"))
        .filter(OpeningBalance.end_customer_id.in_([c.id for c in db.session.query(EndCustomer).filter_by(name=name)]))
        .count()
        == 0
    )
