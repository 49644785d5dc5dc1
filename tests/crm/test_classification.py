"""ABC分类 of end customers: the share thresholds at their exact edges, the first customer always A, the frequency
lift at exactly ABC_FREQUENT_ORDERS, the window's first and last day, refunds netted and cancelled orders left out; the
`flask classify` command; the class on the customer list (filter, API, export, scope), page and top-10 report; and the
churn-risk alert of the alert centre.

Classification ranks every end customer of the database, so each test puts its money in a year no other test uses
(2045–2052, one year per test) and classifies as of the last day of that year: only its own customers have money in
the window, and the expected classes are exact."""

import ast
import datetime as dt
import re
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from app.base_data.models import Product
from app.core.formatting import format_date, local_today
from app.crm.classification import classify_customers, window
from app.crm.models import EndCustomer, Followup
from app.reports.alerts import KINDS, Alert
from app.sales import services as sales
from app.sales.models import Receipt, Refund, SalesOrder
from tests.support.users import user_id
from tests.support.workflow import move_to

D = Decimal

pytestmark = pytest.mark.every_database(
    "receipts minus refunds (NUMERIC) are summed per customer over a date window in SQL and ranked; lists are scoped"
)


@pytest.fixture
def product(db, uid):
    item = Product(model_no=uid("ABC"), name="分类测试产品", sale_price=D("1"))
    db.session.add(item)
    db.session.commit()
    return item


@pytest.fixture
def make(app, db, uid, product):
    """make.customer(owner) / make.order(customer, day, amount, status) / make.receipt(order, day, amount) /
    make.refund(order, day, amount), all through the sales services."""

    class Make:
        @staticmethod
        def customer(owner="sales1", prefix="分类客户"):
            customer = EndCustomer(name=uid(prefix), owner_id=user_id(app, owner))
            db.session.add(customer)
            db.session.commit()
            return customer

        @staticmethod
        def order(customer, day, amount, status="approved"):
            order = SalesOrder(end_customer=customer, end_customer_id=customer.id, doc_date=day)
            order.owner_id = customer.owner_id
            line = {"product_id": product.id, "qty": "1", "unit_price": str(amount)}
            sales.save_order(db.session, order, [line], None)
            db.session.add(order)
            db.session.flush()
            move_to(app, db, order, status)
            db.session.commit()
            return order

        @staticmethod
        def receipt(order, day, amount):
            receipt = Receipt(order=order, doc_date=day, amount=D(amount), method="bank")
            sales.post_receipt(db.session, receipt)
            db.session.add(receipt)
            db.session.commit()
            return receipt

        @staticmethod
        def refund(order, day, amount):
            refund = Refund(order=order, doc_date=day, amount=D(amount), reason="退货退款")
            sales.post_refund(db.session, refund, app.appbuilder.sm.find_user(username="finance"))
            db.session.add(refund)
            db.session.commit()
            return refund

        def paid(self, customer, day, amount):
            """An approved order of `amount`, fully received the same day."""
            order = self.order(customer, day, amount)
            self.receipt(order, day, amount)
            return order

    return Make()


def classes(db, *customers):
    db.session.rollback()  # see what the command or the service committed
    return [db.session.get(EndCustomer, c.id).abc_class for c in customers]


def figures(db, customer):
    db.session.rollback()
    c = db.session.get(EndCustomer, customer.id)
    return c.abc_class, c.abc_amount, c.abc_orders


def test_the_window_is_the_12_months_ending_today():
    assert window(dt.date(2046, 6, 30)) == (dt.date(2045, 7, 1), dt.date(2046, 6, 30))
    assert window(dt.date(2045, 12, 31)) == (dt.date(2045, 1, 1), dt.date(2045, 12, 31))
    assert window(dt.date(2048, 2, 29)) == (dt.date(2047, 3, 1), dt.date(2048, 2, 29))


def test_exactly_70_percent_is_a_and_exactly_90_percent_is_b(db, make):
    day = dt.date(2045, 5, 10)
    big, second, third, last = (make.customer() for _ in range(4))
    make.paid(big, day, "250.00")
    make.paid(big, day, "150.00")  # 400.00 in two orders: 40 %
    make.paid(second, day, "300.00")  # cumulative 700.00 = 70 % exactly
    make.paid(third, day, "200.00")  # 900.00 = 90 % exactly
    make.paid(last, day, "100.00")  # 100 %
    counts = classify_customers(db.session, dt.date(2045, 12, 31))
    assert classes(db, big, second, third, last) == ["A", "A", "B", "C"]
    assert counts["A"] == 2 and counts["B"] == 1  # nobody else has money in 2045
    assert figures(db, big) == ("A", D("400.00"), 2)


def test_just_above_70_percent_is_b(db, make):
    day = dt.date(2046, 3, 1)
    big, second, third, last = (make.customer() for _ in range(4))
    make.paid(big, day, "400.00")
    make.paid(second, day, "300.01")  # cumulative 700.01 of 1000.00: just above 70 %
    make.paid(third, day, "199.99")  # 900.00: 90 % exactly
    make.paid(last, day, "100.00")
    classify_customers(db.session, dt.date(2046, 12, 31))
    assert classes(db, big, second, third, last) == ["A", "B", "B", "C"]


def test_frequent_buyers_go_up_one_class_from_6_orders(db, make):
    day = dt.date(2047, 4, 1)
    big, frequent_b, frequent_c, unpaid_six, five = (make.customer() for _ in range(5))
    make.paid(big, day, "700.00")  # 70 %: A
    for i in range(6):  # B by money (cumulative 90 %), 6 approved orders: A
        order = make.order(frequent_b, day + dt.timedelta(days=i), "100.00")
        if i < 2:
            make.receipt(order, day, "100.00")
    for i in range(6):  # C by money (100 %), 6 approved orders: B
        order = make.order(frequent_c, day + dt.timedelta(days=i), "50.00")
        if i < 2:
            make.receipt(order, day, "50.00")
    for i in range(6):  # nothing received, 6 approved orders: B
        make.order(unpaid_six, day + dt.timedelta(days=i), "10.00")
    for i in range(5):  # 5 approved orders: stays C; orders not approved or outside the window do not count
        make.order(five, day + dt.timedelta(days=i), "10.00")
    make.order(five, day, "10.00", status="submitted")
    make.order(five, day, "10.00", status="draft")
    make.order(five, day, "10.00", status="cancelled")
    make.order(five, dt.date(2046, 12, 31), "10.00")
    make.order(five, dt.date(2048, 1, 1), "10.00")
    classify_customers(db.session, dt.date(2047, 12, 31))
    assert classes(db, big, frequent_b, frequent_c, unpaid_six, five) == ["A", "A", "B", "B", "C"]
    assert figures(db, frequent_c) == ("B", D("100.00"), 6)
    assert figures(db, unpaid_six) == ("B", D("0.00"), 6)
    assert figures(db, five) == ("C", D("0.00"), 5)


def test_window_edges_refunds_and_cancelled_orders(app, db, make):
    today = dt.date(2049, 12, 31)
    top, netted, refund_only, cancelled = (make.customer() for _ in range(4))
    order = make.order(top, dt.date(2049, 12, 31), "800.00")
    make.receipt(order, dt.date(2049, 12, 31), "800.00")  # today is in the window
    # 500 on the first day outside the window (2048-12-31) does not count; 300 on its first day does; 100 refunded
    order = make.order(netted, dt.date(2048, 12, 1), "900.00")
    make.receipt(order, dt.date(2048, 12, 31), "500.00")
    make.receipt(order, dt.date(2049, 1, 1), "300.00")
    make.refund(order, dt.date(2049, 6, 1), "100.00")
    # received before the window, refunded in it: -100 in the window, not ranked, C
    order = make.order(refund_only, dt.date(2048, 6, 1), "300.00")
    make.receipt(order, dt.date(2048, 6, 1), "300.00")
    make.refund(order, dt.date(2049, 2, 1), "100.00")
    # money on an order later cancelled does not count, even when the refund falls after the window
    order = make.order(cancelled, dt.date(2049, 2, 1), "100.00")
    make.receipt(order, dt.date(2049, 2, 1), "100.00")
    make.refund(order, dt.date(2050, 1, 5), "100.00")
    sales.cancel_order(db.session, order, app.appbuilder.sm.find_user(username="manager"), "客户取消")
    db.session.commit()

    classify_customers(db.session, today)
    # 800 of 1000 is 80 %: above 70 %, yet the first customer is always A; the other 200 reach 100 %: C
    assert figures(db, top) == ("A", D("800.00"), 1)
    assert figures(db, netted) == ("C", D("200.00"), 0)  # its order is dated before the window
    assert figures(db, refund_only) == ("C", D("-100.00"), 0)
    assert figures(db, cancelled) == ("C", D("0.00"), 0)
    # a day later the 800 is still in, the 300 of 2049-01-01 is out
    classify_customers(db.session, dt.date(2050, 1, 1))
    assert figures(db, netted)[1] == D("-100.00")


def run_classify(app, *args):
    result = app.test_cli_runner().invoke(args=["classify", *args])
    assert result.exit_code == 0, result.output
    return ast.literal_eval(result.output.strip().splitlines()[-1])  # the command prints its counts


def test_the_classify_command(app, db, make):
    first, second, third = (make.customer() for _ in range(3))
    day = dt.date(2051, 8, 8)
    make.paid(first, day, "600.00")
    make.paid(second, day, "300.00")
    make.paid(third, day, "100.00")
    before = dt.datetime.utcnow().replace(microsecond=0)
    counts = run_classify(app, "--date", "2051-12-31")
    assert (counts["A"], counts["B"]) == (1, 1)  # every other end customer has nothing in 2051: C
    assert counts["C"] == db.session.query(EndCustomer).count() - 2
    assert classes(db, first, second, third) == ["A", "B", "C"]
    assert db.session.get(EndCustomer, first.id).abc_at >= before
    assert run_classify(app, "--date", "2051-12-31") == counts  # safe to repeat
    bad = app.test_cli_runner().invoke(args=["classify", "--date", "31/12/2051"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output  # click's usage error, saying what to write
    # a customer with no money in the window falls back to C on the next run
    run_classify(app, "--date", "2053-06-30")
    assert classes(db, first, second) == ["C", "C"]


def _names(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_the_class_on_the_list_api_export_page_and_report(app, db, make, as_user, client, api_token):
    day = dt.date(2052, 5, 20)
    mine_a, mine_c = make.customer("sales1", "分类甲"), make.customer("sales1", "分类丙")
    theirs_a = make.customer("sales2", "分类乙")
    make.paid(mine_a, day, "350.00")
    make.paid(theirs_a, day, "350.00")  # equal amounts: both within 70 %
    make.paid(mine_c, day, "300.00")
    classify_customers(db.session, dt.date(2052, 12, 31))
    assert classes(db, mine_a, theirs_a, mine_c) == ["A", "A", "C"]

    # the list's filter (FAB "equal to", the 4th filter of a text column) with the data scope
    flt = "/endcustomerview/list/?_flt_3_abc_class=A"
    page = _names(as_user("sales1").get(flt))
    assert mine_a.name in page and mine_c.name not in page and theirs_a.name not in page
    page = _names(as_user("manager").get(flt))
    assert mine_a.name in page and theirs_a.name in page and mine_c.name not in page

    # the API: the same filter, the same scope, the figures
    query = "(filters:!((col:abc_class,opr:eq,value:A)),page_size:100)"
    resp = client.get(f"/api/v1/end_customer/?q={query}", headers=api_token("sales1"))
    assert resp.status_code == 200, resp.json
    rows = {r["name"]: r for r in resp.json["result"]}
    assert set(rows) == {mine_a.name}
    assert (
        rows[mine_a.name]["abc_class"],
        D(str(rows[mine_a.name]["abc_amount"])),
        rows[mine_a.name]["abc_orders"],
    ) == (
        "A",
        D("350.00"),
        1,
    )
    resp = client.get(f"/api/v1/end_customer/?q={query}", headers=api_token("manager"))
    assert {r["name"] for r in resp.json["result"]} == {mine_a.name, theirs_a.name}

    # the export: the filtered list, with class, amount and orders
    resp = as_user("sales1").get("/endcustomerview/export_xlsx/?_flt_3_abc_class=A")
    assert resp.status_code == 200
    sheet = load_workbook(BytesIO(resp.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    exported = [row for row in values if mine_a.name in row]
    assert len(exported) == 1 and "A" in exported[0] and 350 in exported[0]  # money is written as a number cell
    assert not any(theirs_a.name in row or mine_c.name in row for row in values)

    # the customer page shows the class, the amount, the orders and when it was classified
    page = _names(as_user("sales1").get(f"/endcustomerview/show/{mine_a.id}"))
    classified_at = format_date(db.session.get(EndCustomer, mine_a.id).abc_at)
    assert "¥350.00" in page and classified_at in page and re.search(r">\s*A\s*<", page)
    assert as_user("sales2").get(f"/endcustomerview/show/{mine_a.id}").status_code == 404

    # the top-10 report carries the class in its rows (the table and the Excel file come from the same rows)
    resp = client.get(
        "/api/v1/report/top_customers",
        query_string={"start": "2052-01-01", "end": "2052-12-31"},
        headers=api_token("manager"),
    )
    assert resp.status_code == 200, resp.json
    assert "abc_class" in [c["key"] for c in resp.json["columns"]]
    by_name = {r["customer"]: r["abc_class"] for r in resp.json["rows"]}
    assert by_name == {mine_a.name: "A", theirs_a.name: "A", mine_c.name: "C"}


def run_alerts(app):
    now = dt.datetime.utcnow()
    result = app.test_cli_runner().invoke(args=["alerts", "--now", now.strftime("%Y-%m-%dT%H:%M")])
    assert result.exit_code == 0, result.output


def churn_alerts(db, customer):
    db.session.rollback()
    return (
        db.session.query(Alert)
        .filter(Alert.fingerprint == f"churn_risk:{customer.id}", Alert.active.is_(True))
        .order_by(Alert.id)
        .all()
    )


def test_key_customers_at_risk_of_churning_are_alerted_to_their_owner(app, db, make, as_user):
    today = local_today()

    def ago(days):
        return today - dt.timedelta(days=days)

    def followup(customer, day):
        db.session.add(
            Followup(
                end_customer=customer, followup_date=day, content="回访", status="done", owner_id=customer.owner_id
            )
        )
        db.session.commit()

    quiet = make.customer("sales1", "沉默A")  # order and follow-up 61 days ago: alert
    make.order(quiet, ago(61), "10.00")
    followup(quiet, ago(61))
    recent_followup = make.customer("sales1", "跟进B")  # follow-up 60 days ago: not yet
    make.order(recent_followup, ago(90), "10.00")
    followup(recent_followup, ago(60))
    recent_order = make.customer("sales1", "下单A")  # approved order 60 days ago, never followed up: not yet
    make.order(recent_order, ago(60), "10.00")
    make.order(recent_order, ago(1), "10.00", status="draft")  # only approved orders count …
    never = make.customer("sales2", "从未B")  # no order, no follow-up: alert for sales2
    small = make.customer("sales1", "小客户C")  # C class: no alert
    pooled = make.customer("sales1", "池中A")  # in the pool: nobody to alert
    for customer, cls in (
        (quiet, "A"),
        (recent_followup, "B"),
        (recent_order, "A"),
        (never, "B"),
        (small, "C"),
        (pooled, "A"),
    ):
        db.session.get(EndCustomer, customer.id).abc_class = cls  # as `flask classify` left them
    row = db.session.get(EndCustomer, pooled.id)
    row.in_pool, row.owner_id = True, None
    db.session.commit()

    run_alerts(app)
    [alert] = churn_alerts(db, quiet)
    assert (alert.kind, alert.level, alert.owner_id, alert.status) == (
        "churn_risk",
        "Salesperson",
        user_id(app, "sales1"),
        "open",
    )
    assert quiet.name in alert.title and ago(61).isoformat() in alert.title
    assert str(alert.kind_label) == str(KINDS["churn_risk"])  # labelled, not shown as the raw kind
    [other] = churn_alerts(db, never)
    assert other.owner_id == user_id(app, "sales2")
    for customer in (recent_followup, recent_order, small, pooled):
        assert churn_alerts(db, customer) == [], customer.name
    assert quiet.name in _names(as_user("sales1").get("/alertview/list/"))
    assert quiet.name not in _names(as_user("sales2").get("/alertview/list/"))

    # a follow-up today ends the condition: the alert clears on the next run
    followup(quiet, today)
    run_alerts(app)
    assert churn_alerts(db, quiet) == []
    db.session.rollback()
    cleared = db.session.query(Alert).filter(Alert.fingerprint == f"churn_risk:{quiet.id}").one()
    assert cleared.status == "cleared"

    # leave no A/B customers behind for other tests' alert runs
    for customer in (quiet, recent_followup, recent_order, never, small, pooled):
        db.session.get(EndCustomer, customer.id).abc_class = None
    db.session.commit()
    run_alerts(app)
