"""Home page tiles per role, the alert centre (raise, handle, clear, escalate Salesperson → SalesManager → Admin, a
second run adds nothing) through the CLI and the pages, and the chart library served by the app itself."""

import datetime as dt
import os
from decimal import Decimal

import pytest

from app.core.formatting import local_today
from app.crm.models import EndCustomer, Followup
from app.reports.alerts import Alert
from app.sales import services as sales
from app.sales.models import SalesOrder
from tests.support import ROOT
from tests.support.users import user_id
from tests.support.workflow import move_to

D = Decimal

pytestmark = pytest.mark.every_database(
    "the tiles and alerts are computed in SQL: receivables summed from NUMERIC columns, approvals counted, overdue "
    "days from dates, each through the owner's data scope"
)


def run_alerts(app, when: dt.datetime):
    result = app.test_cli_runner().invoke(args=["alerts", "--now", when.strftime("%Y-%m-%dT%H:%M")])
    assert result.exit_code == 0, result.output
    return eval(result.output.strip().splitlines()[-1])  # the command prints its counts as a dict


def alerts_for(db, fingerprint_prefix):
    db.session.rollback()
    return db.session.query(Alert).filter(Alert.fingerprint.like(f"{fingerprint_prefix}%")).order_by(Alert.id).all()


@pytest.fixture
def overdue_order(app, db, uid):
    """An approved order of sales1, 10 days past due with nothing received."""
    from app.base_data.models import Product

    product = Product(model_no=uid("AL"), name="预警产品", sale_price=D("100"))
    customer = EndCustomer(name=uid("预警客户"), owner_id=user_id(app, "sales1"))
    db.session.add_all([product, customer])
    db.session.commit()
    order = SalesOrder(
        end_customer=customer,
        end_customer_id=customer.id,
        doc_date=local_today() - dt.timedelta(days=40),
        payment_days=30,
    )
    order.owner_id = user_id(app, "sales1")
    sales.save_order(db.session, order, [{"product_id": product.id, "qty": "2", "unit_price": "150"}], None)
    db.session.add(order)
    move_to(app, db, order, "approved")
    db.session.commit()
    return order


def test_alerts_raise_handle_escalate_and_clear(app, db, as_user, overdue_order):
    now = dt.datetime.utcnow()
    counts = run_alerts(app, now)
    assert counts["raised"] >= 1
    assert run_alerts(app, now)["raised"] == 0  # cron-safe: a second run adds nothing
    alert = [a for a in alerts_for(db, f"overdue:{overdue_order.id}:")][0]
    assert (alert.level, alert.owner_id, alert.status) == ("Salesperson", user_id(app, "sales1"), "open")
    assert "0-30" in alert.fingerprint and overdue_order.number in alert.title
    # sales1 sees it on the page, sales2 does not
    assert overdue_order.number in as_user("sales1").get("/alertview/list/").get_data(as_text=True)
    assert overdue_order.number not in as_user("sales2").get("/alertview/list/").get_data(as_text=True)
    assert as_user("sales2").get(f"/alertview/handle/{alert.id}").status_code == 404
    # nobody handles it: after the deadline it goes to the sales manager, then to the administrator
    later = now + dt.timedelta(hours=49)
    assert run_alerts(app, later)["escalated"] >= 1
    assert alerts_for(db, f"overdue:{overdue_order.id}:")[0].level == "SalesManager"
    page = as_user("sales1").get("/alertview/list/").get_data(as_text=True)
    assert overdue_order.number not in page  # no longer the salesperson's to handle
    run_alerts(app, later + dt.timedelta(hours=49))
    assert alerts_for(db, f"overdue:{overdue_order.id}:")[0].level == "Admin"
    run_alerts(app, later + dt.timedelta(hours=200))
    top = alerts_for(db, f"overdue:{overdue_order.id}:")[0]
    assert top.level == "Admin" and top.escalations == 2  # the top stays the top
    # the administrator handles it with a note; handled alerts are not raised again while the debt lasts
    admin = as_user("admin")
    assert admin.post(f"/alertview/handle/{top.id}", data={"comment": ""}).status_code == 200  # a note is required
    assert alerts_for(db, f"overdue:{overdue_order.id}:")[0].status == "open"
    assert admin.post(f"/alertview/handle/{top.id}", data={"comment": "已电话催款，月底付"}).status_code == 302
    handled = alerts_for(db, f"overdue:{overdue_order.id}:")[0]
    assert (handled.status, handled.note, handled.handled_by_id) == (
        "handled",
        "已电话催款，月底付",
        user_id(app, "admin"),
    )
    run_alerts(app, later + dt.timedelta(hours=250))
    assert len(alerts_for(db, f"overdue:{overdue_order.id}:")) == 1
    # paid: the condition ends; the alert is closed and stays handled
    order = db.session.get(SalesOrder, overdue_order.id)
    order.received_amount = order.total_amount
    db.session.commit()
    run_alerts(app, later + dt.timedelta(hours=260))
    closed = alerts_for(db, f"overdue:{overdue_order.id}:")
    assert len(closed) == 1 and closed[0].active is False and closed[0].status == "handled"


def test_an_unhandled_alert_clears_when_its_condition_ends(app, db, uid):
    customer = EndCustomer(name=uid("跟单客户"), owner_id=user_id(app, "sales2"))
    db.session.add(customer)
    db.session.commit()
    followup = Followup(
        end_customer=customer,
        followup_date=local_today() - dt.timedelta(days=5),
        content="报价",
        status="open",
        next_date=local_today() - dt.timedelta(days=1),
        owner_id=user_id(app, "sales2"),
    )
    db.session.add(followup)
    db.session.commit()
    now = dt.datetime.utcnow()
    run_alerts(app, now)
    alert = alerts_for(db, f"followup:{followup.id}")[0]
    assert (alert.kind, alert.owner_id, alert.status) == ("followup", user_id(app, "sales2"), "open")
    db.session.get(Followup, followup.id).status = "done"
    db.session.commit()
    assert run_alerts(app, now)["cleared"] >= 1
    alert = alerts_for(db, f"followup:{followup.id}")[0]
    assert (alert.status, alert.active) == ("cleared", False)


def test_home_page_tiles_follow_the_role(app, db, as_user, overdue_order):
    sales1 = as_user("sales1").get("/").get_data(as_text=True)
    for tile in ("tile-sales", "tile-receivables", "tile-followups", "tile-alerts", "tile-trend", "tile-top"):
        assert f'id="{tile}"' in sales1, tile
    assert 'id="tile-stock"' not in sales1 and 'id="tile-approvals"' not in sales1
    # a salesperson's receivables are their own; the manager's include everyone's
    assert "¥300.00" in sales1
    sales2 = as_user("sales2").get("/").get_data(as_text=True)
    assert overdue_order.end_customer.name not in sales2
    keeper = as_user("keeper").get("/").get_data(as_text=True)
    assert 'id="tile-stock"' in keeper and 'id="tile-sales"' not in keeper and 'id="tile-receivables"' not in keeper
    # every tile links to a page the user may open
    import re

    client = as_user("sales1")
    for href in re.findall(r'class="home-tile[^"]*"[^>]*href="([^"#]+)"', sales1):
        assert client.get(href).status_code == 200, href


def test_approvals_waiting_for_me(app, db, as_user, api_token, overdue_order, client):
    from app.base_data.models import Product

    product = db.session.query(Product).filter_by(name="预警产品").first()
    body = {
        "end_customer": overdue_order.end_customer_id,
        "doc_date": local_today().isoformat(),
        "lines": [{"product_id": product.id, "qty": "1", "unit_price": "100"}],
    }
    order_id = client.post("/api/v1/sales_order/", json=body, headers=api_token("sales1")).json["id"]
    assert (
        client.post(f"/api/v1/sales_order/{order_id}/submit", json={}, headers=api_token("sales1")).status_code == 200
    )
    page = as_user("manager").get("/").get_data(as_text=True)
    assert 'id="tile-approvals"' in page and "_flt_0_status=submitted" in page
    assert 'id="tile-approvals"' not in as_user("sales1").get("/").get_data(as_text=True)


@pytest.mark.sqlite_only("echarts.min.js is a static file served from node_modules")
def test_the_chart_library_is_served_by_the_app(client):
    from app.core import charts

    resp = client.get("/vendor/echarts.min.js")
    folder = os.path.join(ROOT, "node_modules", "echarts", "dist")
    if not os.path.exists(os.path.join(folder, "echarts.min.js")):
        assert resp.status_code == 404
        pytest.skip("ECharts is not installed here (npm ci); the 404 path was checked instead")
    assert resp.status_code == 200 and resp.mimetype == "application/javascript"
    assert b"echarts" in resp.data[:2000].lower()
    with client.application.app_context():
        assert charts.echarts_installed()


def test_admin_sees_a_submitted_purchase_contract_waiting(app, db, as_user, api_token, client, uid):
    """Contracts have no owner: the approvals tile must still count them for the administrator."""
    from app.base_data.models import Product
    from app.purchase.models import Supplier

    supplier, product = Supplier(name=uid("待批供货商")), Product(model_no=uid("WB"), name="待批")
    db.session.add_all([supplier, product])
    db.session.commit()
    purchaser = api_token("purchaser")
    body = {"supplier": supplier.id, "lines": [{"product_id": product.id, "qty": "1", "unit_price": "10"}]}
    cid = client.post("/api/v1/purchase_contract/", json=body, headers=purchaser).json["id"]
    assert client.post(f"/api/v1/purchase_contract/{cid}/submit", json={}, headers=purchaser).status_code == 200
    page = as_user("admin").get("/")
    assert page.status_code == 200
    assert "/purchasecontractview/list/?_flt_0_status=submitted" in page.get_data(as_text=True)
