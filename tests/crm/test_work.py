"""Work management: plans (mark done, weekly view, reminders), targets (validation, quarter/year sums), funnel scope."""

import datetime as dt
from decimal import Decimal

import pytest

from app.core.formatting import local_today
from app.crm.models import EndCustomer, Opportunity, SalesTarget, WorkPlan
from tests.support.users import user_id

pytestmark = pytest.mark.every_database(
    "plans, targets and the funnel are filtered by date and owner and their NUMERIC amounts summed in SQL"
)


def test_plans_mark_done_week_view_and_reminders(app, db, as_user, uid):
    today = local_today()
    monday = today - dt.timedelta(days=today.weekday())
    s1, s2 = user_id(app, "sales1"), user_id(app, "sales2")
    plans = {
        "today": WorkPlan(plan_date=today, title=uid("今天"), owner_id=s1),
        "next_week": WorkPlan(plan_date=monday + dt.timedelta(days=8), title=uid("下周"), owner_id=s1),
        "theirs": WorkPlan(plan_date=today, title=uid("别人"), owner_id=s2),
    }
    db.session.add_all(plans.values())
    db.session.commit()
    client = as_user("sales1")
    reminders = client.get("/planreminderview/list/?psize_PlanReminderView=100").get_data(as_text=True)
    assert plans["today"].title in reminders
    assert plans["next_week"].title not in reminders and plans["theirs"].title not in reminders
    week = client.get(f"/workplanview/week/?start={today.isoformat()}").get_data(as_text=True)
    assert plans["today"].title in week and plans["theirs"].title not in week
    nxt = client.get(f"/workplanview/week/?start={(monday + dt.timedelta(days=7)).isoformat()}").get_data(as_text=True)
    assert plans["next_week"].title in nxt
    assert client.get("/workplanview/week/?start=not-a-date").status_code == 200
    client.post(
        "/workplanview/action_post", data={"action": "mark_done", "rowid": [plans["today"].id, plans["theirs"].id]}
    )
    db.session.expire_all()
    assert db.session.get(WorkPlan, plans["today"].id).status == "done"
    assert db.session.get(WorkPlan, plans["today"].id).done_at is not None
    assert db.session.get(WorkPlan, plans["theirs"].id).status == "todo", "another's plan is out of scope"


def test_targets_validation_and_progress_sums(app, db, client, api_token, as_user, uid):
    manager = api_token("manager")
    s1 = user_id(app, "sales1")
    year = 2040
    for month, amount in ((1, "100000"), (2, "50000.50"), (4, "30000")):
        resp = client.post(
            "/api/v1/sales_target/", json={"owner": s1, "year": year, "month": month, "amount": amount}, headers=manager
        )
        assert resp.status_code == 201, resp.json
    dup = client.post(
        "/api/v1/sales_target/", json={"owner": s1, "year": year, "month": 1, "amount": "1"}, headers=manager
    )
    assert dup.status_code == 409 and "2040-01" in dup.json["message"]
    bad_month = client.post(
        "/api/v1/sales_target/", json={"owner": s1, "year": year, "month": 13, "amount": "1"}, headers=manager
    )
    assert bad_month.status_code == 400
    not_sales = client.post(
        "/api/v1/sales_target/",
        json={"owner": user_id(app, "finance"), "year": year, "month": 1, "amount": "1"},
        headers=manager,
    )
    assert not_sales.status_code == 400
    assert (
        client.post(
            "/api/v1/sales_target/",
            json={"owner": s1, "year": year, "month": 5, "amount": "1"},
            headers=api_token("sales1"),
        ).status_code
        == 403
    )
    from app.crm.services import target_progress

    with app.test_request_context():
        from flask import g

        g.user = app.appbuilder.sm.find_user(username="manager")
        rows = [r for r in target_progress(db.session, year) if r["owner"].id == s1]
    assert len(rows) == 1
    row = rows[0]
    assert row["quarters"][0]["target"] == Decimal("150000.50") and row["quarters"][1]["target"] == Decimal("30000")
    assert row["target"] == Decimal("180000.50")
    assert row["achieved"] == Decimal("0") and row["rate"] == Decimal("0.0")
    assert row["months"][2]["rate"] is None  # March has no target: shown as —
    html = as_user("sales1").get(f"/salestargetview/progress/?year={year}").get_data(as_text=True)
    assert "¥180,000.50" in html
    assert db.session.query(SalesTarget).filter_by(year=year).count() == 3


def test_funnel_counts_only_what_the_user_sees(app, db, as_user, uid):
    s1, s2 = user_id(app, "sales1"), user_id(app, "sales2")
    e1 = EndCustomer(name=uid("漏斗"), owner_id=s1)
    e2 = EndCustomer(name=uid("漏斗"), owner_id=s2)
    db.session.add_all([e1, e2])
    db.session.flush()
    db.session.add_all(
        [
            Opportunity(
                name=uid("机会"), end_customer=e1, stage="negotiation", expected_amount=Decimal("12345.60"), owner_id=s1
            ),
            Opportunity(
                name=uid("机会"), end_customer=e2, stage="negotiation", expected_amount=Decimal("99999"), owner_id=s2
            ),
        ]
    )
    db.session.commit()

    def negotiation_row(username):
        html = as_user(username).get("/opportunityview/funnel/").get_data(as_text=True)
        return html.split('data-stage="negotiation"')[1].split("</tr>")[0]

    mine = negotiation_row("sales1")
    assert "¥12,345.60" in mine and "¥99,999" not in mine
    assert "¥99,999.00" in negotiation_row("sales2") and "12,345.60" not in negotiation_row("sales2")
