"""Sales rules through the REST API (and the services where a role setup is needed): amounts to the cent, prices,
red-line and credit edges, receipts and refunds, the approval trail, commission and expenses, and data scope."""

import threading
from decimal import Decimal

import pytest

from app.base_data.models import ExpenseType, Product
from app.core.errors import BusinessError, Forbidden
from app.core.workflow import ApprovalRecord, ApprovalRule
from app.crm.models import ChannelCustomer, EndCustomer
from app.sales import services
from app.sales.models import Commission, CustomerPrice, PriceBreak, Receipt, SalesOrder
from tests.support.sales import act, approve_order, create_order, fresh_order, login_page, order_body, order_count
from tests.support.users import user_id

D = Decimal

pytestmark = pytest.mark.every_database(
    "orders, receipts, refunds, invoices and commission are posted to NUMERIC(14,2) columns, checked by guarded "
    "UPDATEs and read back to the cent, each within the salesperson's data scope (scoped lookups of the body's ids)"
)


# ------------------------------------------------------------------ amounts and lines


def test_multi_line_amounts_to_the_cent(client, db, api_token, sales_world):
    headers = api_token("sales1")
    lines = [
        {"product_id": sales_world["p1"], "qty": "3", "unit_price": "133.33", "discount": "10"},  # 359.991 → 359.99
        {"product_id": sales_world["p2"], "qty": "2.5", "unit_price": "19.99"},  # 49.975 → 49.98 (half up)
        {"product_id": sales_world["p2"], "qty": "7", "unit_price": "0.01", "discount": "33.33"},  # 0.046669 → 0.05
        {"product_id": sales_world["p2"], "qty": "0.333", "unit_price": "3.00", "discount": "0"},  # 0.999 → 1.00
    ]
    order_id = create_order(client, headers, sales_world, lines=lines)
    order = fresh_order(db, order_id)
    assert [line.amount for line in order.lines] == [D("359.99"), D("49.98"), D("0.05"), D("1.00")]
    assert order.total_amount == D("411.02") and isinstance(order.total_amount, Decimal)
    assert order.number.startswith("XS") and order.status == "draft" and order.payment_status == "unpaid"
    shown = client.get(f"/api/v1/sales_order/{order_id}", headers=headers).json["result"]
    assert D(str(shown["total_amount"])) == D("411.02")
    assert order.owner_id == order.end_customer.owner_id


@pytest.mark.parametrize(
    "line, message_part",
    [
        ({"qty": "0"}, "数量必须大于 0"),
        ({"qty": "-2"}, "数量必须大于 0"),
        ({"unit_price": "-1"}, "单价必须大于 0"),
        ({"unit_price": "0"}, "单价必须大于 0"),
        ({"discount": "100.01"}, "折扣必须在 0 到 100% 之间"),
        ({"discount": "-1"}, "折扣必须在 0 到 100% 之间"),
        ({"qty": "abc"}, "不是有效数字"),
        ({"qty": "1.0001"}, "最多三位小数"),
        ({"unit_price": "1.001"}, "最多两位小数"),
        ({"product_id": 99999999}, "请选择产品"),
        ({"product_id": None}, "请选择产品"),
        ({"qty": "NaN"}, "不是有效数字"),
        ({"qty": "1e30"}, "不是有效数字"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(client, db, api_token, sales_world, line, message_part):
    headers = api_token("sales1")
    before = order_count(db)
    bad = {"product_id": sales_world["p1"], "qty": "1", "unit_price": "120.00", **line}
    resp = client.post("/api/v1/sales_order/", json=order_body(sales_world, lines=[bad]), headers=headers)
    assert resp.status_code == 400, resp.json
    assert message_part in resp.json["message"] and "第 1 行" in resp.json["message"]
    assert order_count(db) == before


@pytest.mark.parametrize("lines", [[], None, "x", [1]])
def test_an_order_needs_lines(client, db, api_token, sales_world, lines):
    headers = api_token("sales1")
    before = order_count(db)
    body = order_body(sales_world)
    if lines is None:
        body.pop("lines")
    else:
        body["lines"] = lines
    resp = client.post("/api/v1/sales_order/", json=body, headers=headers)
    assert resp.status_code == 400
    assert "明细" in resp.json["message"] or "无效" in resp.json["message"]
    assert order_count(db) == before


def test_disabled_product_is_refused(client, db, api_token, sales_world):
    product = db.session.get(Product, sales_world["p2"])
    product.enabled = False
    db.session.commit()
    resp = client.post("/api/v1/sales_order/", json=order_body(sales_world), headers=api_token("sales1"))
    assert resp.status_code == 400 and "已停用" in resp.json["message"]


def test_prices_fill_from_customer_price_then_breaks_then_sale_price(app, client, db, api_token, sales_world):
    db.session.add_all(
        [
            PriceBreak(product_id=sales_world["p2"], min_qty=D("10"), unit_price=D("18.00")),
            PriceBreak(product_id=sales_world["p2"], min_qty=D("100"), unit_price=D("16.50")),
            CustomerPrice(end_customer_id=sales_world["customer"], product_id=sales_world["p1"], price=D("110.00")),
        ]
    )
    db.session.commit()
    lines = [
        {"product_id": sales_world["p1"], "qty": "1"},  # customer price
        {"product_id": sales_world["p2"], "qty": "9"},  # below the first break: sale price
        {"product_id": sales_world["p2"], "qty": "10"},  # first break
        {"product_id": sales_world["p2"], "qty": "250"},  # second break
    ]
    order = fresh_order(db, create_order(client, api_token("sales1"), sales_world, lines=lines))
    assert [line.unit_price for line in order.lines] == [D("110.00"), D("19.99"), D("18.00"), D("16.50")]
    # the order page's price helper answers the same, and only to a logged-in user
    anonymous = client.get(f"/salesorderview/price?product={sales_world['p2']}&qty=100")
    assert anonymous.status_code == 302  # a page request without a login goes to the login page
    page = login_page(app, "sales1")
    helper = page.get(
        f"/salesorderview/price?product={sales_world['p1']}&qty=1&end_customer={sales_world['customer']}"
    ).json
    assert helper["price"] == "110.00"
    assert page.get(f"/salesorderview/price?product={sales_world['p2']}&qty=250").json["price"] == "16.50"
    # sales2 cannot learn sales1's customer price: their customer id is not in scope, so the list price applies
    other = login_page(app, "sales2").get(
        f"/salesorderview/price?product={sales_world['p1']}&qty=1&end_customer={sales_world['customer']}"
    )
    assert other.json["price"] == "120.00"


# ------------------------------------------------------------------ approval, red line, edits


def test_full_approval_trail_and_edit_rights(client, db, api_token, sales_world):
    sales1, sales2, manager = api_token("sales1"), api_token("sales2"), api_token("manager")
    order_id = create_order(client, sales1, sales_world)
    # the owner edits a draft
    resp = client.put(f"/api/v1/sales_order/{order_id}", json={"project_name": "二期"}, headers=sales1)
    assert resp.status_code == 200, resp.json
    assert act(client, sales1, "sales_order", order_id, "submit", comment="请审核").status_code == 200
    # after submission the owner may not change it, a manager may
    resp = client.put(f"/api/v1/sales_order/{order_id}", json={"project_name": "三期"}, headers=sales1)
    assert resp.status_code == 403 and "销售经理" in resp.json["message"]
    assert client.delete(f"/api/v1/sales_order/{order_id}", headers=sales1).status_code == 403
    # a salesperson never approves (no permission); another salesperson does not even see it
    assert act(client, sales1, "sales_order", order_id, "approve").status_code == 403
    # sales2 has no approve permission either: refused (403) before the order is looked up in their scope
    assert act(client, sales2, "sales_order", order_id, "approve").status_code == 403
    assert act(client, manager, "sales_order", order_id, "reject").status_code == 400  # reason required
    assert act(client, manager, "sales_order", order_id, "reject", comment="价格再议").status_code == 200
    assert fresh_order(db, order_id).status == "rejected"
    # rejected: the owner edits again and resubmits
    resp = client.put(
        f"/api/v1/sales_order/{order_id}",
        json={"lines": [{"product_id": sales_world["p1"], "qty": "2", "unit_price": "120.00"}]},
        headers=sales1,
    )
    assert resp.status_code == 200, resp.json
    assert fresh_order(db, order_id).total_amount == D("240.00")
    assert act(client, sales1, "sales_order", order_id, "submit").status_code == 200
    assert act(client, manager, "sales_order", order_id, "approve", comment="同意").status_code == 200
    assert act(client, manager, "sales_order", order_id, "approve").status_code == 409  # twice
    order = fresh_order(db, order_id)
    assert order.status == "approved" and order.approved_at is not None
    assert client.put(f"/api/v1/sales_order/{order_id}", json={"note": "x"}, headers=manager).status_code == 409
    trail = [
        (r.action, r.from_status, r.to_status, r.comment)
        for r in db.session.query(ApprovalRecord).filter_by(doc_type="sales_order", doc_id=order_id).order_by("id")
    ]
    assert trail == [
        ("submit", "draft", "submitted", "请审核"),
        ("reject", "submitted", "rejected", "价格再议"),
        ("submit", "rejected", "submitted", None),
        ("approve", "submitted", "approved", "同意"),
    ]
    # the customer's last deal moves (churn counts from it)
    assert db.session.get(EndCustomer, sales_world["customer"]).last_deal_at.isoformat() == "2026-11-20"


def test_red_line_price_needs_a_sales_manager_and_is_recorded(app, client, db, api_token, sales_world):
    sales1, manager = api_token("sales1"), api_token("manager")
    lines = [{"product_id": sales_world["p1"], "qty": "1", "unit_price": "100.00", "discount": "0.01"}]  # 99.99 < 100
    order_id = create_order(client, sales1, sales_world, lines=lines)
    assert fresh_order(db, order_id).price_exception is True
    at_floor = create_order(
        client, sales1, sales_world, lines=[{"product_id": sales_world["p1"], "qty": "1", "unit_price": "100"}]
    )
    assert fresh_order(db, at_floor).price_exception is False
    assert act(client, sales1, "sales_order", order_id, "submit").status_code == 200
    # even a role that approval rules name as an approver cannot accept a price below the red line
    rule = ApprovalRule(doc_type="sales_order", min_amount=D("0"), level=1, role_name="Finance")
    db.session.add(rule)
    db.session.commit()
    try:
        finance = app.appbuilder.sm.find_user(username="finance")
        with pytest.raises(Forbidden):
            services.approve_order(db.session, fresh_order(db, order_id), finance)
        db.session.rollback()
    finally:
        db.session.delete(db.session.get(ApprovalRule, rule.id))
        db.session.commit()
    assert act(client, manager, "sales_order", order_id, "approve").status_code == 200
    order = fresh_order(db, order_id)
    assert order.status == "approved"
    assert order.lines[0].price_accepted_by_id == user_id(app, "manager")
    record = db.session.query(ApprovalRecord).filter_by(doc_type="sales_order", doc_id=order_id, action="approve").one()
    model_no = db.session.get(Product, sales_world["p1"]).model_no
    assert model_no in record.comment and "¥99.99" in record.comment and "¥100.00" in record.comment


@pytest.mark.every_database(
    "two threads approve at once: the UPDATE guarded by the expected status lets one through (row locks, and "
    "MariaDB's repeatable read)"
)
def test_concurrent_approvals_one_wins(app, client, db, api_token, sales_world):
    order_id = create_order(client, api_token("sales1"), sales_world)
    assert act(client, api_token("sales1"), "sales_order", order_id, "submit").status_code == 200
    headers = [api_token("manager"), api_token("admin")]
    results = []

    def work(h):
        results.append(app.test_client().post(f"/api/v1/sales_order/{order_id}/approve", json={}, headers=h))

    threads = [threading.Thread(target=work, args=(h,)) for h in headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.json for r in results]
    db.session.rollback()  # a new snapshot (MariaDB's repeatable read) to see the threads' commits
    approvals = db.session.query(ApprovalRecord).filter_by(doc_type="sales_order", doc_id=order_id, action="approve")
    assert approvals.count() == 1


# ------------------------------------------------------------------ credit control


def test_credit_limit_edges_and_manager_override(app, client, db, api_token, sales_world):
    sales1, manager = api_token("sales1"), api_token("manager")
    customer = db.session.get(EndCustomer, sales_world["customer"])
    customer.credit_limit = D("1000.00")
    db.session.commit()
    one_line = lambda price: [{"product_id": sales_world["p2"], "qty": "1", "unit_price": price}]  # noqa: E731
    first = create_order(client, sales1, sales_world, lines=one_line("600.00"))
    approve_order(client, api_token, first)
    receipt = {"order": first, "amount": "100.00", "method": "bank", "doc_date": "2026-11-21"}
    assert client.post("/api/v1/receipt/", json=receipt, headers=sales1).status_code == 201
    # outstanding 500 + this order 500 = exactly the limit: accepted
    at_limit = create_order(client, sales1, sales_world, lines=one_line("500.00"))
    assert act(client, sales1, "sales_order", at_limit, "submit").status_code == 200
    # one cent over: refused with limit, exposure and excess
    over = create_order(client, sales1, sales_world, lines=one_line("500.01"))
    resp = act(client, sales1, "sales_order", over, "submit")
    assert resp.status_code == 409
    assert "¥1,000.00" in resp.json["message"] and "¥1,000.01" in resp.json["message"]
    assert "¥0.01" in resp.json["message"]
    assert fresh_order(db, over).status == "draft"
    # a salesperson cannot override; a manager can, with a reason kept in the trail
    assert act(client, sales1, "sales_order", over, "credit_override", comment="老客户").status_code == 403
    assert act(client, manager, "sales_order", over, "credit_override").status_code == 400
    assert act(client, manager, "sales_order", over, "credit_override", comment="老客户，月底回款").status_code == 200
    assert act(client, sales1, "sales_order", over, "submit").status_code == 200
    record = db.session.query(ApprovalRecord).filter_by(doc_type="sales_order", doc_id=over, action="credit_override")
    assert "月底回款" in record.one().comment
    # the override covers that exposure only: a bigger order is refused again
    bigger = create_order(client, sales1, sales_world, lines=one_line("700.00"))
    assert act(client, sales1, "sales_order", bigger, "submit").status_code == 409
    # money received up front does not use credit
    prepaid = create_order(client, sales1, sales_world, lines=one_line("300.00"))
    receipt = {"order": prepaid, "amount": "300.00", "method": "cash", "doc_date": "2026-11-21"}
    assert client.post("/api/v1/receipt/", json=receipt, headers=sales1).status_code == 201
    assert act(client, sales1, "sales_order", prepaid, "submit").status_code == 200


def test_zero_credit_limit_means_no_limit(client, db, api_token, sales_world):
    sales1 = api_token("sales1")
    big = [{"product_id": sales_world["p2"], "qty": "1000", "unit_price": "999"}]
    order_id = create_order(client, sales1, sales_world, lines=big)
    assert act(client, sales1, "sales_order", order_id, "submit").status_code == 200


# ------------------------------------------------------------------ receipts and refunds


def test_receipts_in_parts_to_exactly_the_total(client, db, api_token, sales_world):
    sales1, finance = api_token("sales1"), api_token("finance")
    order_id = create_order(client, sales1, sales_world)  # 409.97, still a draft: money may come first
    total = fresh_order(db, order_id).total_amount
    assert total == D("409.97")

    def receive(amount, headers=sales1):
        body = {"order": order_id, "amount": amount, "method": "bank", "doc_date": "2026-11-22", "note": "分期"}
        return client.post("/api/v1/receipt/", json=body, headers=headers)

    assert receive("100.00").status_code == 201
    assert fresh_order(db, order_id).payment_status == "partial"
    assert receive("300.00", finance).status_code == 201
    resp = receive("9.98")  # one cent more than what is left
    assert resp.status_code == 409 and "¥9.97" in resp.json["message"]
    for bad in ("0", "-5", "0.001"):  # refused by the receipt rules (services.post_receipt)
        assert receive(bad).status_code == 400
    assert receive("abc").status_code == 422  # not a number: refused by the API's schema before any rule
    assert receive("9.97").status_code == 201
    order = fresh_order(db, order_id)
    assert order.received_amount == total and order.payment_status == "paid" and order.outstanding_amount == 0
    assert db.session.query(Receipt).filter_by(order_id=order_id).count() == 3
    assert receive("0.01").status_code == 409
    # refunds: never above what was received
    resp = client.post(
        "/api/v1/refund/",
        json={"order": order_id, "amount": "409.98", "reason": "退货", "doc_date": "2026-11-23"},
        headers=finance,
    )
    assert resp.status_code == 409
    no_reason = {"order": order_id, "amount": "10.00", "doc_date": "2026-11-23"}
    assert client.post("/api/v1/refund/", json=no_reason, headers=finance).status_code == 422  # schema: required
    resp = client.post(
        "/api/v1/refund/",
        json={"order": order_id, "amount": "9.97", "reason": "少发一件", "doc_date": "2026-11-23"},
        headers=finance,
    )
    assert resp.status_code == 201, resp.json
    order = fresh_order(db, order_id)
    assert order.net_received == D("400.00") and order.payment_status == "partial"
    # a salesperson does not post refunds
    resp = client.post(
        "/api/v1/refund/",
        json={"order": order_id, "amount": "1", "reason": "x", "doc_date": "2026-11-23"},
        headers=sales1,
    )
    assert resp.status_code == 403
    # receipts are corrected by deleting (finance), not edited
    rid = db.session.query(Receipt).filter_by(order_id=order_id).order_by(Receipt.id).first().id
    assert client.put(f"/api/v1/receipt/{rid}", json={"amount": "1"}, headers=finance).status_code == 405
    assert client.delete(f"/api/v1/receipt/{rid}", headers=sales1).status_code == 403


@pytest.mark.every_database(
    "four threads post the whole total at once: only the guarded UPDATE of the NUMERIC balance may let one through"
)
def test_concurrent_receipts_never_exceed_the_total(app, client, db, api_token, sales_world):
    sales1 = api_token("sales1")
    order_id = create_order(client, sales1, sales_world)
    total = str(fresh_order(db, order_id).total_amount)
    results = []

    def work():
        body = {"order": order_id, "amount": total, "method": "bank", "doc_date": "2026-11-22"}
        results.append(app.test_client().post("/api/v1/receipt/", json=body, headers=sales1).status_code)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409, 409, 409]
    db.session.rollback()
    order = fresh_order(db, order_id)
    assert order.received_amount == order.total_amount
    assert db.session.query(Receipt).filter_by(order_id=order_id).count() == 1


def test_cancel_only_without_money(client, db, api_token, sales_world):
    sales1, finance = api_token("sales1"), api_token("finance")
    order_id = create_order(client, sales1, sales_world)
    body = {"order": order_id, "amount": "10.00", "method": "bank", "doc_date": "2026-11-22"}
    assert client.post("/api/v1/receipt/", json=body, headers=sales1).status_code == 201
    resp = act(client, sales1, "sales_order", order_id, "cancel")
    assert resp.status_code == 409 and "请先退款" in resp.json["message"]
    refund = {"order": order_id, "amount": "10.00", "reason": "取消", "doc_date": "2026-11-22"}
    assert client.post("/api/v1/refund/", json=refund, headers=finance).status_code == 201
    assert act(client, sales1, "sales_order", order_id, "cancel", comment="客户取消").status_code == 200
    assert fresh_order(db, order_id).status == "cancelled"
    assert client.post("/api/v1/receipt/", json=body, headers=sales1).status_code == 409  # the order is cancelled


# ------------------------------------------------------------------ commission and expenses


def test_commission_on_received_money_with_clawback(app, client, db, api_token, sales_world):
    sales1, manager, finance = api_token("sales1"), api_token("manager"), api_token("finance")
    lines = [{"product_id": sales_world["p1"], "qty": "10", "unit_price": "120.00"}]  # 1,200.00
    order_id = create_order(client, sales1, sales_world, lines=lines, channel=sales_world["channel"])
    # never on an unpaid or unapproved order
    assert act(client, sales1, "sales_order", order_id, "commission").status_code == 409
    approve_order(client, api_token, order_id)
    assert act(client, sales1, "sales_order", order_id, "commission").status_code == 409  # nothing received
    body = {"order": order_id, "amount": "1000.00", "method": "bank", "doc_date": "2026-11-22"}
    assert client.post("/api/v1/receipt/", json=body, headers=finance).status_code == 201
    resp = act(client, sales1, "sales_order", order_id, "commission")
    assert resp.status_code == 201 and D(resp.json["amount"]) == D("50.00")
    first = resp.json["id"]
    assert act(client, sales1, "sales_order", order_id, "commission").status_code == 409  # already claimed
    # a rejected claim frees its base; the salesperson applies again
    assert act(client, manager, "commission", first, "reject", comment="资料不全").status_code == 200
    resp = act(client, sales1, "sales_order", order_id, "commission")
    assert resp.status_code == 201
    second = resp.json["id"]
    assert act(client, sales1, "commission", second, "approve").status_code == 403
    assert act(client, manager, "commission", second, "approve").status_code == 200
    assert act(client, manager, "commission", second, "pay").status_code == 403
    assert act(client, finance, "commission", second, "pay", comment="11月发放").status_code == 200
    assert act(client, finance, "commission", second, "pay").status_code == 409
    # a refund claws back: a negative commission against the same channel
    refund = {"order": order_id, "amount": "400.00", "reason": "部分退货", "doc_date": "2026-11-24"}
    assert client.post("/api/v1/refund/", json=refund, headers=finance).status_code == 201
    db.session.expire_all()
    rows = db.session.query(Commission).filter_by(order_id=order_id).order_by(Commission.id).all()
    assert [(c.kind, c.status, c.base_amount, c.amount) for c in rows] == [
        ("claim", "rejected", D("1000.00"), D("50.00")),
        ("claim", "approved", D("1000.00"), D("50.00")),
        ("clawback", "approved", D("-400.00"), D("-20.00")),
    ]
    assert rows[2].channel_id == sales_world["channel"]
    order = fresh_order(db, order_id)
    assert order.commission_amount == D("30.00") and order.commission_base == D("600.00")
    # receipts already paid out as commission cannot be deleted
    rid = db.session.query(Receipt).filter_by(order_id=order_id).one().id
    assert client.delete(f"/api/v1/receipt/{rid}", headers=finance).status_code == 409
    # accumulated cost: commission + approved expenses, per salesperson and per channel
    etype = db.session.query(ExpenseType).filter_by(enabled=True).first()
    resp = client.post(
        "/api/v1/expense/",
        json={"doc_date": "2026-11-24", "expense_type": etype.id, "amount": "88.80", "channel": sales_world["channel"]},
        headers=sales1,
    )
    assert resp.status_code == 201, resp.json
    expense_id = resp.json["id"]
    assert act(client, sales1, "expense", expense_id, "submit").status_code == 200
    assert client.put(f"/api/v1/expense/{expense_id}", json={"amount": "1"}, headers=sales1).status_code == 403
    assert act(client, manager, "expense", expense_id, "approve").status_code == 200
    with app.test_request_context():
        per_channel = {r["id"]: r for r in services.accumulated_costs(db.session, "channel")}
    row = per_channel[sales_world["channel"]]
    assert (row["commission"], row["expense"], row["total"]) == (D("30.00"), D("88.80"), D("118.80"))


@pytest.mark.sqlite_only(
    "the amount is refused in Python before anything is written: “abc” by the API's schema (422), the others by "
    "services.validate_expense (400); the expense type is only read by its id"
)
@pytest.mark.parametrize("amount, status", [("0", 400), ("-1", 400), ("0.001", 400), ("abc", 422)])
def test_bad_expense_amounts(client, db, api_token, amount, status):
    etype = db.session.query(ExpenseType).filter_by(enabled=True).first()
    resp = client.post(
        "/api/v1/expense/",
        json={"doc_date": "2026-11-24", "expense_type": etype.id, "amount": amount},
        headers=api_token("sales1"),
    )
    assert resp.status_code == status


# ------------------------------------------------------------------ scope


def test_a_salesperson_never_sees_another_salespersons_sales(app, client, db, api_token, sales_world):
    sales1, sales2 = api_token("sales1"), api_token("sales2")
    order_id = create_order(client, sales1, sales_world, channel=sales_world["channel"])
    body = {"order": order_id, "amount": "10.00", "method": "bank", "doc_date": "2026-11-22"}
    receipt_id = client.post("/api/v1/receipt/", json=body, headers=sales1).json["id"]
    assert client.get(f"/api/v1/sales_order/{order_id}", headers=sales2).status_code == 404
    assert client.get(f"/api/v1/receipt/{receipt_id}", headers=sales2).status_code == 404
    for resource in ("sales_order", "receipt", "commission", "expense", "sales_order_line", "quotation"):
        listing = client.get(f"/api/v1/{resource}/?q=(page_size:100)", headers=sales2)
        assert listing.status_code == 200, resource
        rows = listing.json["result"]
        if resource == "sales_order_line":
            assert order_id not in {row["order"]["id"] for row in rows}
        else:
            assert {row["owner"]["id"] for row in rows} <= {user_id(app, "sales2")}, resource
    # sales1 sees the same lines
    lines = client.get(
        "/api/v1/sales_order_line/?q=(order_column:id,order_direction:desc,page_size:20)", headers=sales1
    ).json["result"]
    assert order_id in {row["order"]["id"] for row in lines}
    # nor act on it, receive money for it, or order for sales1's customer
    assert client.post("/api/v1/receipt/", json=body, headers=sales2).status_code == 404
    assert act(client, sales2, "sales_order", order_id, "submit").status_code == 404
    assert client.post("/api/v1/sales_order/", json=order_body(sales_world), headers=sales2).status_code == 404
    assert client.put(f"/api/v1/sales_order/{order_id}", json={"note": "x"}, headers=sales2).status_code == 404
    # and the export of the orders page holds only their own
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.support.users import login

    page = login(app.test_client(), "sales2")
    wb = load_workbook(BytesIO(page.get("/salesorderview/export_xlsx/").data), read_only=True)
    numbers = {row[0] for row in wb.active.iter_rows(min_row=2, values_only=True)}
    assert fresh_order(db, order_id).number not in numbers


# ------------------------------------------------------------------ quotations, targets, channel upgrade


def test_quotation_converts_once(client, db, api_token, sales_world):
    sales1 = api_token("sales1")
    body = order_body(sales_world, valid_until="2026-12-31")
    resp = client.post("/api/v1/quotation/", json=body, headers=sales1)
    assert resp.status_code == 201, resp.json
    qid = resp.json["id"]
    resp = act(client, sales1, "quotation", qid, "convert")
    assert resp.status_code == 201
    order = fresh_order(db, resp.json["id"])
    assert order.status == "draft" and order.total_amount == D("409.97") and len(order.lines) == 2
    assert act(client, sales1, "quotation", qid, "convert").status_code == 409
    assert client.put(f"/api/v1/quotation/{qid}", json={"note": "x"}, headers=sales1).status_code == 409
    bad = order_body(sales_world, doc_date="2026-11-20", valid_until="2026-11-01")
    assert client.post("/api/v1/quotation/", json=bad, headers=sales1).status_code == 400


def test_targets_count_approved_orders_and_channels_count_deals(app, client, db, api_token, sales_world):
    import datetime as dt

    sales1 = user_id(app, "sales1")
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    before = services.achieved_amount(db.session, sales1, start, end)
    order_id = create_order(client, api_token("sales1"), sales_world, channel=sales_world["channel"])
    assert services.achieved_amount(db.session, sales1, start, end) == before  # a draft does not count
    approve_order(client, api_token, order_id)
    db.session.expire_all()
    assert services.achieved_amount(db.session, sales1, start, end) == before + D("409.97")
    channel = db.session.get(ChannelCustomer, sales_world["channel"])
    with app.app_context():
        from app.crm.services import referred_deal_count

        assert referred_deal_count(db.session, channel) == 1
    assert channel.last_deal_at.isoformat() == "2026-11-20"


@pytest.mark.sqlite_only(
    "save_order refuses the empty line list in Python (services.build_lines) before anything is flushed; without a "
    "request no scope query runs"
)
def test_services_refuse_without_a_request(db, sales_world):
    """Rules hold when called from the CLI too (no request, no scope): an order without lines is refused."""
    order = SalesOrder(end_customer=db.session.get(EndCustomer, sales_world["customer"]), doc_date=None)
    with pytest.raises(BusinessError):
        services.save_order(db.session, order, [], None)
    db.session.rollback()


def test_large_orders_need_a_manager_then_an_administrator(app, client, db, api_token, sales_world):
    """The seeded default rule (DOMAIN.md): from ¥100,000 two levels, each decision recorded."""
    sales1, manager, admin = api_token("sales1"), api_token("manager"), api_token("admin")
    big = [{"product_id": sales_world["p1"], "qty": "1000", "unit_price": "100.00"}]  # exactly ¥100,000.00
    order_id = create_order(client, sales1, sales_world, lines=big)
    assert act(client, sales1, "sales_order", order_id, "submit").status_code == 200
    assert act(client, admin, "sales_order", order_id, "approve").status_code == 200  # Admin may act at level 1
    order = fresh_order(db, order_id)
    assert (order.status, order.approval_level) == ("submitted", 2)
    assert act(client, manager, "sales_order", order_id, "approve").status_code == 403  # level 2 is Admin's
    assert act(client, admin, "sales_order", order_id, "approve").status_code == 200
    assert fresh_order(db, order_id).status == "approved"
    levels = [
        (r.action, r.level)
        for r in db.session.query(ApprovalRecord).filter_by(doc_type="sales_order", doc_id=order_id).order_by("id")
    ]
    assert levels == [("submit", 0), ("approve", 1), ("approve", 2)]
    small = create_order(
        client, sales1, sales_world, lines=[{"product_id": sales_world["p1"], "qty": "1", "unit_price": "99999.99"}]
    )
    assert act(client, sales1, "sales_order", small, "submit").status_code == 200
    assert act(client, manager, "sales_order", small, "approve").status_code == 200
    assert fresh_order(db, small).status == "approved"


def test_pool_customers_get_no_orders(client, db, api_token, sales_world, uid):
    pooled = EndCustomer(name=uid("池业主"), in_pool=True)
    db.session.add(pooled)
    db.session.commit()
    resp = client.post(
        "/api/v1/sales_order/", json=order_body(sales_world, end_customer=pooled.id), headers=api_token("manager")
    )
    assert resp.status_code == 409  # “in the public pool; claim it first” (services._validate_header)
    assert db.session.query(SalesOrder).filter_by(end_customer_id=pooled.id).count() == 0


def test_sales_invoices_for_several_orders_never_beyond_the_total(app, client, db, api_token, sales_world, uid):
    sales1, finance = api_token("sales1"), api_token("finance")
    first = create_order(
        client, sales1, sales_world, lines=[{"product_id": sales_world["p1"], "qty": "1", "unit_price": "1130"}]
    )
    second = create_order(
        client, sales1, sales_world, lines=[{"product_id": sales_world["p2"], "qty": "1", "unit_price": "200"}]
    )
    approve_order(client, api_token, first)
    approve_order(client, api_token, second)
    number = uid("FP")
    body = {
        "invoice_no": number,
        "invoice_date": "2026-11-25",
        "end_customer": sales_world["customer"],
        "tax_rate": "13",
        "lines": [{"order_id": first}, {"order_id": second, "amount": "100.00"}],
    }
    assert client.post("/api/v1/sales_invoice/", json=body, headers=sales1).status_code == 403  # finance issues
    resp = client.post("/api/v1/sales_invoice/", json=body, headers=finance)
    assert resp.status_code == 201, resp.json
    invoice_id = resp.json["id"]
    shown = client.get(f"/api/v1/sales_invoice/{invoice_id}", headers=finance).json["result"]
    # 1,230.00 with tax at 13%: 1,088.50 without (1230 / 1.13 = 1088.495…), tax 141.50
    assert (D(str(shown["amount"])), D(str(shown["net_amount"])), D(str(shown["tax_amount"]))) == (
        D("1230.00"),
        D("1088.50"),
        D("141.50"),
    )
    assert (fresh_order(db, first).uninvoiced_amount, fresh_order(db, second).uninvoiced_amount) == (D("0"), D("100"))
    # beyond what is left, a draft order, another customer's order, the same number twice: refused, nothing written
    over = {**body, "invoice_no": uid("FP"), "lines": [{"order_id": second, "amount": "100.01"}]}
    resp = client.post("/api/v1/sales_invoice/", json=over, headers=finance)
    assert resp.status_code == 409 and "¥100.00" in resp.json["message"]
    draft = create_order(client, sales1, sales_world)
    resp = client.post(
        "/api/v1/sales_invoice/",
        json={**body, "invoice_no": uid("FP"), "lines": [{"order_id": draft}]},
        headers=finance,
    )
    assert resp.status_code == 409
    stranger = EndCustomer(name=uid("别家"), owner_id=user_id(app, "sales1"))
    db.session.add(stranger)
    db.session.commit()
    resp = client.post("/api/v1/sales_invoice/", json={**over, "end_customer": stranger.id}, headers=finance)
    assert resp.status_code == 400
    assert (  # the same invoice number twice: the unique constraint refuses it (errors.refused_by_database)
        client.post(
            "/api/v1/sales_invoice/", json={**body, "lines": [{"order_id": second, "amount": "1"}]}, headers=finance
        ).status_code
        == 422
    )
    assert fresh_order(db, second).invoiced_amount == D("100.00")
    # voided by finance: the orders can be invoiced again
    assert client.delete(f"/api/v1/sales_invoice/{invoice_id}", headers=finance).status_code == 200
    assert (fresh_order(db, first).invoiced_amount, fresh_order(db, second).invoiced_amount) == (D("0"), D("0"))
    # the page: add with order lines, the list totals
    page = login_page(app, "finance")
    form = {
        "invoice_no": uid("FP"),
        "invoice_date": "2026-11-26",
        "end_customer": str(sales_world["customer"]),
        "tax_rate": "6",
        "note": "",
        "lines-0-order_id": str(second),
        "lines-0-amount": "106.00",
        "lines-0-note": "",
    }
    resp = page.post("/salesinvoiceview/add", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-800:]
    assert fresh_order(db, second).invoiced_amount == D("106.00")
    assert 'id="list-totals"' in page.get("/salesinvoiceview/list/").get_data(as_text=True)


def test_statement_of_account_balances_to_the_cent(app, client, db, api_token, sales_world):
    """对账单: opening balance from before the period, the period's orders, receipts and refunds, closing balance."""
    from io import BytesIO

    from openpyxl import load_workbook

    sales1, finance = api_token("sales1"), api_token("finance")

    def order(day, price):
        oid = create_order(
            client,
            sales1,
            sales_world,
            doc_date=day,
            lines=[{"product_id": sales_world["p2"], "qty": "1", "unit_price": price}],
        )
        approve_order(client, api_token, oid)
        return oid

    before = order("2042-12-20", "1000.10")
    inside = order("2043-01-05", "250.25")
    create_order(client, sales1, sales_world, doc_date="2043-01-06")  # a draft: not on the statement
    for oid, day, amount in (
        (before, "2042-12-30", "300.00"),
        (before, "2043-01-10", "200.05"),
        (inside, "2043-01-31", "250.25"),
        (before, "2043-02-01", "0.01"),
    ):
        receipt = {"order": oid, "amount": amount, "method": "bank", "doc_date": day}
        assert client.post("/api/v1/receipt/", json=receipt, headers=finance).status_code == 201
    refund = {"order": before, "amount": "50.00", "reason": "退差价", "doc_date": "2043-01-20"}
    assert client.post("/api/v1/refund/", json=refund, headers=finance).status_code == 201
    page = login_page(app, "sales1")
    url = f"/receivableview/statement/{sales_world['customer']}?start=2043-01-01&end=2043-01-31"
    html = page.get(url).get_data(as_text=True)
    assert page.get(url).status_code == 200
    # opening 1000.10 − 300.00 = 700.10; + 250.25 − 200.05 + 50.00 − 250.25 = closing 550.05 (the 1 Feb receipt is out)
    assert "¥700.10" in html and "¥550.05" in html
    xlsx = page.get(url + "&format=xlsx")
    rows = list(load_workbook(BytesIO(xlsx.data), read_only=True).active.iter_rows(min_row=2, values_only=True))
    balances = [D(str(r[5])).quantize(D("0.01")) for r in rows]
    assert balances == [D("700.10"), D("950.35"), D("750.30"), D("800.30"), D("550.05"), D("550.05")]
    assert [r[2] for r in rows][0] == "期初余额" and rows[-1][2] == "期末余额"
    # another salesperson cannot open it
    assert login_page(app, "sales2").get(url).status_code == 404


def test_payment_reminder_in_one_click(app, client, db, api_token, sales_world):
    """催款 from the receivables list: a follow-up on the customer with the amount and days overdue."""
    from app.crm.models import Followup

    sales1 = api_token("sales1")
    order_id = create_order(client, sales1, sales_world, doc_date="2026-01-05", payment_days=30)  # due 2026-02-04
    approve_order(client, api_token, order_id)
    number = fresh_order(db, order_id).number
    before = db.session.query(Followup).count()
    # another salesperson's click reaches nothing
    login_page(app, "sales2").post("/receivableview/action_post", data={"action": "dun", "rowid": str(order_id)})
    db.session.rollback()
    assert db.session.query(Followup).count() == before
    resp = login_page(app, "sales1").post("/receivableview/action_post", data={"action": "dun", "rowid": str(order_id)})
    assert resp.status_code == 302
    db.session.rollback()
    followup = db.session.query(Followup).order_by(Followup.id.desc()).first()
    assert number in followup.content and "¥409.97" in followup.content
    assert followup.end_customer_id == sales_world["customer"] and followup.owner_id == user_id(app, "sales1")
    assert followup.next_date is not None and followup.status == "open"
    # once paid there is nothing to chase
    receipt = {"order": order_id, "amount": "409.97", "method": "bank", "doc_date": "2026-11-20"}
    assert client.post("/api/v1/receipt/", json=receipt, headers=api_token("finance")).status_code == 201
    count = db.session.query(Followup).count()
    login_page(app, "sales1").post("/receivableview/action_post", data={"action": "dun", "rowid": str(order_id)})
    db.session.rollback()
    assert db.session.query(Followup).count() == count


@pytest.mark.every_database(
    "ids past 32 and 64 bits must never reach the driver: SQLite overflows past 64 bits, PostgreSQL and MariaDB "
    "integer columns past 32"
)
@pytest.mark.parametrize("big", ["99999999999999999999999", "2147483648", "-1", "1.5"])
def test_ids_beyond_any_record_are_refused_not_500(app, client, db, api_token, sales_world, big):
    """Ids from the user that no record can have (SQLite cannot even bind past 64 bits) answer 4xx."""
    sales1 = api_token("sales1")
    resp = client.post(
        "/api/v1/sales_order/", json=order_body(sales_world, lines=[{"product_id": big, "qty": "1"}]), headers=sales1
    )
    assert resp.status_code == 400 and "第 1 行" in resp.json["message"]
    page = login_page(app, "sales1")
    assert page.get(f"/salesorderview/price?product={big}&qty=1").status_code == 400
    assert page.get(f"/salesorderview/price?product={sales_world['p1']}&qty=1&end_customer={big}").status_code == 200
    assert (
        client.get(f"/api/v1/report/sales_amount?salesperson_id={big}", headers=api_token("manager")).status_code == 400
    )
    keeper = login_page(app, "keeper")
    assert keeper.get(f"/stockbalanceview/list/?category={big}").status_code == 200
    assert keeper.get(f"/stockoutview/add?_flt_0_order={big}").status_code == 200  # an empty form: no such order
    invoice = {"invoice_no": "X" + big[-8:], "end_customer": sales_world["customer"], "lines": [{"order_id": big}]}
    assert client.post("/api/v1/sales_invoice/", json=invoice, headers=api_token("finance")).status_code == 400
