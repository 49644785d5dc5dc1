"""Statistics: known documents → exact figures at month, quarter and year (empty periods, 29 February 2032, a
quarter across the year boundary); page table, JSON and Excel agree; a Salesperson sees only their own figures; the
chart page loads nothing from outside; randomized orders match a recomputation from the documents."""

import datetime as dt
import random
import re
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from app.base_data.models import ProductCategory
from app.core import workflow
from app.crm.models import EndCustomer, SalesTarget
from app.reports import periods, services as reports
from app.sales import services as sales
from app.sales.models import Receipt, SalesOrder
from tests.support.users import user_id
from tests.support.workflow import move_to

D = Decimal

pytestmark = pytest.mark.every_database(
    "every figure is computed in SQL: GROUP BY day, month, quarter and year of SQL dates, NUMERIC sums, aging from "
    "date differences, ordering, and the salesperson's scope filter"
)


def make_order(db, app, owner, customer, day, lines, status="approved"):
    """An order through the sales services (amounts computed there), then moved to `status`."""
    order = SalesOrder(end_customer=customer, end_customer_id=customer.id, doc_date=day)
    order.owner_id = user_id(app, owner)
    sales.save_order(db.session, order, lines, None)
    db.session.add(order)
    db.session.flush()
    move_to(app, db, order, status)
    db.session.commit()
    return order


@pytest.fixture(scope="module")
def known(app):
    """Orders in 2032–2033, far from other tests' dates; two salespeople, two product categories."""
    from app.base_data.models import Product
    from app.extensions import db

    with app.app_context():
        tag = random.Random().randrange(10**6)
        c1, c2 = ProductCategory(name=f"报表类A{tag}"), ProductCategory(name=f"报表类B{tag}")
        x = Product(model_no=f"RX{tag}", name="报表产品X", sale_price=D("100"), category=c1)
        y = Product(model_no=f"RY{tag}", name="报表产品Y", sale_price=D("20"), category=c2)
        a = EndCustomer(name=f"报表客户A{tag}", owner_id=user_id(app, "sales1"))
        b = EndCustomer(name=f"报表客户B{tag}", owner_id=user_id(app, "sales2"))
        db.session.add_all([c1, c2, x, y, a, b])
        db.session.commit()

        def line(p, q, price, disc="0"):
            return {"product_id": p.id, "qty": q, "unit_price": price, "discount": disc}

        o1 = make_order(db, app, "sales1", a, dt.date(2032, 2, 29), [line(x, "10", "100")])  # 1000.00
        o2 = make_order(db, app, "sales1", a, dt.date(2032, 3, 15), [line(y, "3", "33.33", "10")])  # 89.99
        make_order(db, app, "sales1", a, dt.date(2032, 12, 31), [line(x, "1", "500")])  # 500.00
        make_order(db, app, "sales1", a, dt.date(2033, 1, 1), [line(x, "2", "250")])  # 500.00
        make_order(db, app, "sales2", b, dt.date(2032, 2, 1), [line(y, "5", "20")])  # 100.00
        make_order(db, app, "sales1", a, dt.date(2032, 2, 10), [line(x, "99", "101")], status="draft")
        make_order(db, app, "sales1", a, dt.date(2032, 2, 11), [line(x, "7", "100")], status=workflow.CANCELLED)
        db.session.add_all(
            [
                Receipt(order_id=o1.id, owner_id=o1.owner_id, doc_date=dt.date(2032, 3, 1), amount=D("400.00")),
                Receipt(order_id=o2.id, owner_id=o2.owner_id, doc_date=dt.date(2032, 3, 20), amount=D("89.99")),
                # after the as-of date of the aging test: must not count there
                Receipt(order_id=o1.id, owner_id=o1.owner_id, doc_date=dt.date(2033, 1, 5), amount=D("100.00")),
            ]
        )
        db.session.add(SalesTarget(owner_id=user_id(app, "sales1"), year=2032, month=2, amount=D("2000")))
        db.session.commit()
        return {"a": a.name, "b": b.name, "c1": c1.id, "c2": c2.id}


def api(client, headers, name, **query):
    resp = client.get(f"/api/v1/report/{name}", query_string=query, headers=headers)
    assert resp.status_code == 200, resp.json
    return resp.json


def column(result, key):
    return {row["period"]: D(row[key]) for row in result["rows"]}


def test_sales_amount_by_month_quarter_year(client, api_token, known):
    manager = api_token("manager")
    months = api(client, manager, "sales_amount", period="month", start="2032-01-01", end="2033-01-31")
    amounts = column(months, "amount")
    assert len(amounts) == 13  # every month present, the empty ones as 0
    assert amounts["2032-01"] == 0
    assert amounts["2032-02"] == D("1100.00")  # 29 February counted; draft and cancelled orders not
    assert amounts["2032-03"] == D("89.99")
    assert amounts["2032-12"] == D("500.00") and amounts["2033-01"] == D("500.00")
    assert {row["period"]: row["orders"] for row in months["rows"]}["2032-02"] == 2
    assert D(months["totals"]["amount"]) == D("2189.99")
    quarters = column(
        api(client, manager, "sales_amount", period="quarter", start="2032-10-01", end="2033-03-31"), "amount"
    )
    assert quarters == {"2032Q4": D("500.00"), "2033Q1": D("500.00")}  # the boundary splits correctly
    q1 = column(api(client, manager, "sales_amount", period="quarter", start="2032-01-01", end="2032-06-30"), "amount")
    assert q1 == {"2032Q1": D("1189.99"), "2032Q2": D("0.00")}
    years = column(api(client, manager, "sales_amount", period="year", start="2032-01-01", end="2033-12-31"), "amount")
    assert years == {"2032": D("1689.99"), "2033": D("500.00")}
    days = column(api(client, manager, "sales_amount", period="day", start="2032-02-28", end="2032-03-01"), "amount")
    assert days == {"2032-02-28": 0, "2032-02-29": D("1000.00"), "2032-03-01": 0}


def test_filters_and_salesperson_scope(app, client, api_token, known):
    sales1, manager = api_token("sales1"), api_token("manager")
    query = {"period": "year", "start": "2032-01-01", "end": "2032-12-31"}
    assert column(api(client, sales1, "sales_amount", **query), "amount") == {"2032": D("1589.99")}
    # asking for someone else's figures changes nothing for a salesperson
    other = api(client, sales1, "sales_amount", salesperson_id=user_id(app, "sales2"), **query)
    assert column(other, "amount") == {"2032": D("1589.99")}
    assert column(api(client, manager, "sales_amount", salesperson_id=user_id(app, "sales2"), **query), "amount") == {
        "2032": D("100.00")
    }
    assert column(api(client, manager, "sales_amount", category_id=known["c1"], **query), "amount") == {
        "2032": D("1500.00")
    }
    top = api(client, sales1, "top_customers", **query)["rows"]
    assert [(r["customer"], D(r["amount"]), r["orders"]) for r in top] == [(known["a"], D("1589.99"), 3)]
    top = api(client, manager, "top_customers", **query)["rows"]
    names = [r["customer"] for r in top]
    assert known["a"] in names and known["b"] in names


def test_growth_with_bases_and_division_by_zero(client, api_token, known):
    manager = api_token("manager")
    rows = {
        r["period"]: r
        for r in api(client, manager, "sales_growth", period="month", start="2032-02-01", end="2032-03-31")["rows"]
    }
    assert rows["2032-02"]["change"] is None  # January had nothing: "—", not an error
    assert D(rows["2032-03"]["previous"]) == D("1100.00")
    assert D(rows["2032-03"]["change"]) == D("-91.8")
    yoy = {
        r["period"]: r
        for r in api(client, manager, "sales_growth", period="year", start="2033-01-01", end="2033-12-31")["rows"]
    }
    assert D(yoy["2033"]["last_year"]) == D("1689.99") and D(yoy["2033"]["yoy"]) == D("-70.4")


def test_receivables_aging_as_of_the_end_date(client, api_token, known):
    manager = api_token("manager")
    result = api(client, manager, "receivables_aging", start="2032-01-01", end="2032-12-31")
    rows = {r["customer"]: r for r in result["rows"]}
    a = rows[known["a"]]
    # 1000 − 400 received by then, 306 days past due; the order of 31 December is due that day; 89.99 paid
    assert D(a["d90_plus"]) == D("600.00") and D(a["d0_30"]) == D("500.00") and D(a["total"]) == D("1100.00")
    assert D(rows[known["b"]]["d90_plus"]) == D("100.00")


def test_target_achievement(app, client, api_token, known):
    rows = api(client, api_token("sales1"), "target_achievement", period="month", start="2032-02-01", end="2032-03-31")[
        "rows"
    ]
    feb = [r for r in rows if r["period"] == "2032-02"][0]
    assert (D(feb["target"]), D(feb["achieved"]), D(feb["rate"])) == (D("2000.00"), D("1000.00"), D("50.0"))
    mar = [r for r in rows if r["period"] == "2032-03"][0]
    assert mar["rate"] is None  # no target: —


def test_page_json_and_excel_agree_and_nothing_loads_from_outside(client, as_user, api_token, known):
    query = "period=quarter&start=2032-01-01&end=2033-03-31"
    page = as_user("manager").get(f"/reports/sales_amount/?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    table = html[html.index('id="report-table"') :]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
    assert "¥1,189.99" in cells and "¥500.00" in cells
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
        local = src.startswith("/") and not src.startswith("//")
        assert local or src.startswith("data:"), src  # data: URLs are inline, nothing is fetched
    assert "/vendor/echarts.min.js" in html
    data = api(client, api_token("manager"), "sales_amount", period="quarter", start="2032-01-01", end="2033-03-31")
    xlsx = as_user("manager").get(f"/reports/sales_amount/?{query}&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(BytesIO(xlsx.data), read_only=True).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[0], D(str(r[2])).quantize(D("0.01"))) for r in rows[:-1]] == [
        (row["period"], D(row["amount"])) for row in data["rows"]
    ]
    assert rows[-1][0] == "合计" and D(str(rows[-1][2])).quantize(D("0.01")) == D(data["totals"]["amount"])
    api_xlsx = client.get(
        "/api/v1/report/sales_amount",
        query_string={"period": "quarter", "start": "2032-01-01", "end": "2033-03-31", "format": "xlsx"},
        headers=api_token("manager"),
    )
    assert api_xlsx.status_code == 200 and api_xlsx.data[:2] == b"PK"


@pytest.mark.sqlite_only(
    "the query string is parsed and refused in Python (services.parse_params, periods.check_range) before any report "
    "SQL runs"
)
@pytest.mark.parametrize(
    "query, status",
    [
        ({"period": "week"}, 400),
        ({"start": "2032-13-01"}, 400),
        ({"start": "2032-02-01", "end": "2032-01-01"}, 400),
        ({"salesperson_id": "abc"}, 400),
        ({"period": "day", "start": "2000-01-01", "end": "2032-01-01"}, 400),
    ],
)
def test_bad_parameters_are_400(client, api_token, query, status):
    resp = client.get("/api/v1/report/sales_amount", query_string=query, headers=api_token("manager"))
    assert resp.status_code == status and resp.json["message"]


@pytest.mark.sqlite_only(
    "who may read which report is decided in Python from the user's roles (services.may_see); the one report it runs, "
    "stock_in_out, is checked on every database by test_stock_reports_profit_and_shipments"
)
def test_report_access_by_role(client, api_token, as_user):
    assert client.get("/api/v1/report/nothing", headers=api_token("manager")).status_code == 404
    assert client.get("/api/v1/report/purchase_amount", headers=api_token("sales1")).status_code == 403
    assert client.get("/api/v1/report/sales_amount", headers=api_token("purchaser")).status_code == 403
    assert client.get("/api/v1/report/stock_in_out", headers=api_token("keeper")).status_code == 200
    assert as_user("sales1").get("/reports/purchase_amount/").status_code == 403
    assert client.get("/api/v1/report/sales_amount").status_code == 401


def test_randomized_orders_match_a_recomputation(app, db, client, api_token):
    """Random approved, draft and cancelled orders in 2034; each month's figure equals Σ of the approved orders."""
    from app.base_data.models import Product

    rng = random.Random(34)
    product = Product(model_no=f"RAND{rng.randrange(10**6)}", name="随机", sale_price=D("10"))
    customer = EndCustomer(name=f"随机客户{rng.randrange(10**6)}", owner_id=user_id(app, "sales1"))
    db.session.add_all([product, customer])
    db.session.commit()
    expected: dict[str, D] = {}
    for _ in range(60):
        day = dt.date(2034, 1, 1) + dt.timedelta(days=rng.randrange(365))
        status = rng.choice(["approved", "approved", "approved", "draft", workflow.CANCELLED, workflow.SUBMITTED])
        lines = [
            {
                "product_id": product.id,
                "qty": str(rng.randint(1, 40)),
                "unit_price": f"{rng.randint(1, 99999) / 100:.2f}",
                "discount": str(rng.choice([0, 5, 12.5, 33.33])),
            }
            for _ in range(rng.randint(1, 3))
        ]
        order = make_order(db, app, "sales1", customer, day, lines, status=status)
        if status == "approved":
            key = periods.key_of(day, periods.QUARTER)
            expected[key] = expected.get(key, D(0)) + order.total_amount
    result = api(client, api_token("manager"), "sales_amount", period="quarter", start="2034-01-01", end="2034-12-31")
    got = column(result, "amount")
    assert got == {k: expected.get(k, D("0.00")) for k in got}
    # the same through the services, as the CLI or another report would call them
    with app.test_request_context():
        direct = reports.run(
            db.session,
            "sales_amount",
            reports.Params(period="year", start=dt.date(2034, 1, 1), end=dt.date(2034, 12, 31)),
        )
    assert direct.rows[0]["amount"] == sum(expected.values(), D(0))


def test_stock_reports_profit_and_shipments(app, client, db, api_token, uid):
    """Goods in at 60, four shipped at a net price of 100, one returned: profit and the 12-month pivot."""
    from app.base_data.models import Product, Warehouse

    keeper, manager = api_token("keeper"), api_token("manager")
    wh = Warehouse(name=uid("报表仓"))
    product = Product(model_no=uid("RP"), name="报表利润", sale_price=D("100"))
    customer = EndCustomer(name=uid("报表发货客户"), owner_id=user_id(app, "sales1"))
    db.session.add_all([wh, product, customer])
    db.session.commit()

    def post(resource, body):
        resp = client.post(f"/api/v1/{resource}/", json=body, headers=keeper)
        assert resp.status_code == 201, resp.json
        assert client.post(f"/api/v1/{resource}/{resp.json['id']}/confirm", json={}, headers=keeper).status_code == 200

    post(
        "stock_in",
        {
            "warehouse": wh.id,
            "doc_date": "2035-03-01",
            "lines": [{"product_id": product.id, "qty": "10", "unit_cost": "60"}],
        },
    )
    order = make_order(
        db,
        app,
        "sales1",
        customer,
        dt.date(2035, 3, 2),
        [{"product_id": product.id, "qty": "5", "unit_price": "125", "discount": "20"}],
    )
    post(
        "stock_out",
        {
            "warehouse": wh.id,
            "order": order.id,
            "doc_date": "2035-03-05",
            "lines": [{"product_id": product.id, "qty": "4"}],
        },
    )
    post(
        "stock_in",
        {
            "warehouse": wh.id,
            "order": order.id,
            "doc_date": "2035-04-02",
            "lines": [{"product_id": product.id, "qty": "1"}],
        },
    )
    query = {"start": "2035-01-01", "end": "2035-12-31"}
    profit = {r["model_no"]: r for r in api(client, manager, "profit", **query)["rows"]}[product.model_no]
    assert (D(profit["qty"]), D(profit["revenue"]), D(profit["cost"]), D(profit["profit"]), D(profit["margin"])) == (
        D("3.000"),
        D("300.00"),
        D("180.00"),
        D("120.00"),
        D("40.0"),
    )
    pivot = {r["customer"]: r for r in api(client, manager, "monthly_shipments", **query)["rows"]}[customer.name]
    # months run January … December 2035 (the 12 months ending with the end date)
    assert (D(pivot["m3"]), D(pivot["m4"]), D(pivot["total"])) == (D("400.00"), D("-100.00"), D("300.00"))
    moves = {r["model_no"]: r for r in api(client, manager, "stock_in_out", **query)["rows"]}[product.model_no]
    assert (D(moves["in_qty"]), D(moves["out_qty"]), D(moves["in_amount"]), D(moves["out_amount"])) == (
        D("11.000"),
        D("4.000"),
        D("660.00"),
        D("240.00"),
    )
    sales_side = {r["model_no"]: r for r in api(client, manager, "product_sales_purchase", **query)["rows"]}
    assert D(sales_side[product.model_no]["sales_amount"]) == D("500.00")
    # a salesperson's pivot holds only their own customers
    other = api(client, api_token("sales2"), "monthly_shipments", **query)["rows"]
    assert customer.name not in {r["customer"] for r in other}


def test_forecast_is_shown_with_its_backtest(app, db, client, api_token):
    """Twelve steady months → the forecast equals the moving average; the backtest error is 0 for steady data."""
    from app.base_data.models import Product

    rng = random.Random(36)
    product = Product(model_no=f"FC{rng.randrange(10**6)}", name="预测", sale_price=D("10"))
    customer = EndCustomer(name=f"预测客户{rng.randrange(10**6)}", owner_id=user_id(app, "sales2"))
    db.session.add_all([product, customer])
    db.session.commit()
    for month in range(1, 13):
        make_order(
            db,
            app,
            "sales2",
            customer,
            dt.date(2036, month, 5),
            [{"product_id": product.id, "qty": "1", "unit_price": "1000"}],
        )
    result = api(client, api_token("sales2"), "sales_amount", period="month", start="2036-01-01", end="2037-01-15")
    assert [f["period"] for f in result["forecast"]] == ["2037-01", "2037-02", "2037-03"]
    assert all(D(f["amount"]) == D("1000.00") for f in result["forecast"])
    assert result["backtest"]["mae"] == "0.00"
    assert str(result["backtest"]["months"]) == "6"
    assert any("预测" in note for note in result["notes"])


def test_purchase_receipts_payments_and_customer_counts(app, db, client, api_token, uid):
    """Known purchase contracts, receipts, refunds and payments in 2038; customer events of one salesperson."""
    from app.base_data.models import Product
    from app.crm.models import ChannelCustomer, CustomerEvent
    from app.purchase.models import Payment, PurchaseContract, PurchaseContractLine, Supplier
    from app.sales.models import Refund

    manager, finance = api_token("manager"), api_token("finance")
    product = Product(model_no=uid("PC"), name="采购报表", purchase_price=D("10"))
    supplier = Supplier(name=uid("报表供货商"))
    db.session.add_all([product, supplier])
    db.session.commit()
    contracts = []
    for day, q, status in (
        (dt.date(2038, 1, 31), "10", "approved"),
        (dt.date(2038, 4, 1), "5", "approved"),
        (dt.date(2038, 4, 2), "99", "draft"),
    ):
        contract = PurchaseContract(
            supplier_id=supplier.id, doc_date=day, status=status, total_amount=D(q) * 10, paid_amount=0
        )
        contract.lines = [
            PurchaseContractLine(
                line_no=1, product_id=product.id, qty=D(q), unit_price=D("10"), discount=D("0"), amount=D(q) * 10
            )
        ]
        db.session.add(contract)
        contracts.append(contract)
    db.session.commit()
    by_quarter = api(
        client, api_token("purchaser"), "purchase_amount", period="quarter", start="2038-01-01", end="2038-12-31"
    )
    assert column(by_quarter, "amount") == {"2038Q1": D("100.00"), "2038Q2": D("50.00"), "2038Q3": 0, "2038Q4": 0}
    assert {r["period"]: r["contracts"] for r in by_quarter["rows"]}["2038Q2"] == 1  # the draft is not counted
    # money in and out by month
    customer = EndCustomer(name=uid("收付客户"), owner_id=user_id(app, "sales1"))
    db.session.add(customer)
    db.session.commit()
    order = make_order(
        db, app, "sales1", customer, dt.date(2038, 1, 5), [{"product_id": product.id, "qty": "1", "unit_price": "1000"}]
    )
    db.session.add_all(
        [
            Receipt(order_id=order.id, owner_id=order.owner_id, doc_date=dt.date(2038, 2, 3), amount=D("700.00")),
            Refund(
                order_id=order.id,
                owner_id=order.owner_id,
                doc_date=dt.date(2038, 2, 20),
                amount=D("50.00"),
                reason="少发",
            ),
            Payment(contract_id=contracts[0].id, doc_date=dt.date(2038, 2, 10), amount=D("80.00")),
        ]
    )
    db.session.commit()
    feb = {
        r["period"]: r
        for r in api(client, finance, "receipts_payments", period="month", start="2038-02-01", end="2038-03-31")["rows"]
    }
    assert (
        D(feb["2038-02"]["receipts"]),
        D(feb["2038-02"]["refunds"]),
        D(feb["2038-02"]["payments"]),
        D(feb["2038-02"]["net"]),
    ) == (D("700.00"), D("50.00"), D("80.00"), D("570.00"))
    assert D(feb["2038-03"]["net"]) == 0
    # customer counts: sales2 gains a channel in 2038 by a claim and loses one to churn
    sales2 = user_id(app, "sales2")
    channel = ChannelCustomer(name=uid("计数渠道"), owner_id=sales2)
    db.session.add(channel)
    db.session.commit()
    db.session.add_all(
        [
            CustomerEvent(
                kind="channel",
                customer_id=channel.id,
                action="claim_approved",
                to_owner_id=sales2,
                at=dt.datetime(2038, 6, 1, 3, 0),
            ),
            CustomerEvent(
                kind="channel",
                customer_id=channel.id,
                action="churn",
                from_owner_id=sales2,
                at=dt.datetime(2038, 7, 1, 3, 0),
                counts_as_churn=True,
            ),
            CustomerEvent(
                kind="channel",
                customer_id=channel.id,
                action="churn",
                from_owner_id=sales2,
                at=dt.datetime(2039, 7, 1, 3, 0),
                counts_as_churn=True,
            ),  # outside the range
        ]
    )
    db.session.commit()
    rows = api(client, manager, "customer_counts", start="2038-01-01", end="2038-12-31", salesperson_id=str(sales2))[
        "rows"
    ]
    assert len(rows) == 1
    assert (rows[0]["channel_converted"], rows[0]["channel_churned"]) == (1, 1)
    assert rows[0]["channel_held"] >= 1
    # a salesperson's receipts report is not theirs to read (finance report), and their counts are their own
    assert client.get("/api/v1/report/receipts_payments", headers=api_token("sales1")).status_code == 403
    mine = api(client, api_token("sales2"), "customer_counts", start="2038-01-01", end="2038-12-31")["rows"]
    assert len(mine) <= 1 and all(r["channel_churned"] == 1 for r in mine)


def test_daily_sales_report(app, db, client, api_token, uid):
    """销售日报 of one day: orders taken (submitted or approved), shipped value and receipts per salesperson."""
    from app.base_data.models import Product, Warehouse

    keeper, manager = api_token("keeper"), api_token("manager")
    wh = Warehouse(name=uid("日报仓"))
    product = Product(model_no=uid("DR"), name="日报产品", sale_price=D("50"))
    customer = EndCustomer(name=uid("日报客户"), owner_id=user_id(app, "sales1"))
    db.session.add_all([wh, product, customer])
    db.session.commit()
    day = dt.date(2039, 5, 6)
    line = [{"product_id": product.id, "qty": "4", "unit_price": "50"}]
    shipped = make_order(db, app, "sales1", customer, day, line)  # approved: 200.00
    make_order(db, app, "sales1", customer, day, line, status=workflow.SUBMITTED)  # 200.00
    make_order(db, app, "sales1", customer, day, line, status="draft")  # not taken yet
    db.session.add(Receipt(order_id=shipped.id, owner_id=shipped.owner_id, doc_date=day, amount=D("120.00")))
    db.session.commit()
    for resource, body in (
        (
            "stock_in",
            {
                "warehouse": wh.id,
                "doc_date": "2039-05-01",
                "lines": [{"product_id": product.id, "qty": "9", "unit_cost": "20"}],
            },
        ),
        (
            "stock_out",
            {
                "warehouse": wh.id,
                "order": shipped.id,
                "doc_date": "2039-05-06",
                "lines": [{"product_id": product.id, "qty": "3"}],
            },
        ),
    ):
        doc_id = client.post(f"/api/v1/{resource}/", json=body, headers=keeper).json["id"]
        assert client.post(f"/api/v1/{resource}/{doc_id}/confirm", json={}, headers=keeper).status_code == 200
    rows = api(client, manager, "daily_sales", end="2039-05-06", start="2039-05-06")["rows"]
    mine = [r for r in rows if r["salesperson"] == db.session.get(EndCustomer, customer.id).owner.get_full_name()]
    assert len(mine) == 1
    assert (mine[0]["orders"], D(mine[0]["ordered"]), D(mine[0]["shipped"]), D(mine[0]["received"])) == (
        2,
        D("400.00"),
        D("150.00"),
        D("120.00"),
    )
    assert api(client, api_token("sales2"), "daily_sales", end="2039-05-06", start="2039-05-06")["rows"] == []
