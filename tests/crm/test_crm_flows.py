"""CRM rules through the pages, the API and the CLI: pool claim/approve/release/transfer with its trail, churn at the
edges of its thresholds, follow-up reminders, and who sees what."""

import datetime as dt

import pytest

from app.base_data.models import ChannelLevel
from app.crm.models import ChannelCustomer, CustomerEvent, EndCustomer, Followup, PoolClaim
from tests.support.users import user_id

pytestmark = pytest.mark.every_database(
    "claims, transfers and churn are guarded UPDATEs and date comparisons in SQL, seen through owner-scoped queries"
)


def _events(db, customer):
    kind = "channel" if isinstance(customer, ChannelCustomer) else "end"
    rows = db.session.query(CustomerEvent).filter_by(kind=kind, customer_id=customer.id).order_by(CustomerEvent.id)
    return [(e.action, e.counts_as_churn) for e in rows]


def _pool_channel(db, name):
    c = ChannelCustomer(name=name, in_pool=True)
    db.session.add(c)
    db.session.commit()
    return c


def test_claim_approve_release_transfer_trail(app, db, client, api_token, as_user, uid):
    c = _pool_channel(db, uid("池客户"))
    sales1, sales2, manager = api_token("sales1"), api_token("sales2"), api_token("manager")
    # a salesperson sees the pool but not another's private customers
    assert c.name in as_user("sales1").get("/channelpoolview/list/").get_data(as_text=True)
    resp = client.post(f"/api/v1/channel_customer/{c.id}/claim", json={"comment": "熟人介绍"}, headers=sales1)
    assert resp.status_code == 201
    claim_id = resp.json["id"]
    assert client.post(f"/api/v1/channel_customer/{c.id}/claim", json={}, headers=sales2).status_code == 409
    assert client.post(f"/api/v1/pool_claim/{claim_id}/approve", json={}, headers=sales1).status_code == 403
    assert client.post(f"/api/v1/pool_claim/{claim_id}/reject", json={}, headers=manager).status_code == 400
    assert (
        client.post(f"/api/v1/pool_claim/{claim_id}/approve", json={"comment": "同意"}, headers=manager).status_code
        == 200
    )
    assert client.post(f"/api/v1/pool_claim/{claim_id}/approve", json={}, headers=manager).status_code == 409
    db.session.expire_all()
    c = db.session.get(ChannelCustomer, c.id)
    assert c.owner_id == user_id(app, "sales1") and not c.in_pool
    assert db.session.get(PoolClaim, claim_id).status == "approved"
    # claiming a customer that is no longer in the pool changes nothing
    assert client.post(f"/api/v1/channel_customer/{c.id}/claim", json={}, headers=sales2).status_code == 404
    # sales2 can neither see nor release it
    assert client.get(f"/api/v1/channel_customer/{c.id}", headers=sales2).status_code == 404
    assert client.post(f"/api/v1/channel_customer/{c.id}/release", json={}, headers=sales2).status_code == 404
    # transfer: only managers, only to a salesperson
    assert (
        client.post(
            f"/api/v1/channel_customer/{c.id}/transfer", json={"owner_id": user_id(app, "sales2")}, headers=sales1
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/channel_customer/{c.id}/transfer", json={"owner_id": user_id(app, "finance")}, headers=manager
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/api/v1/channel_customer/{c.id}/transfer", json={"owner_id": user_id(app, "sales2")}, headers=manager
        ).status_code
        == 200
    )
    db.session.expire_all()
    assert db.session.get(ChannelCustomer, c.id).owner_id == user_id(app, "sales2")
    # the new owner releases it through the page action: back in the pool, not churn
    resp = as_user("sales2").post("/channelcustomerview/action_post", data={"action": "release", "rowid": str(c.id)})
    assert resp.status_code == 302
    db.session.expire_all()
    c = db.session.get(ChannelCustomer, c.id)
    assert c.in_pool and c.owner_id is None
    assert _events(db, c) == [
        ("claim_request", False),
        ("claim_approved", False),
        ("transfer", False),
        ("release", False),
    ]


def test_holding_limit_refuses_with_numbers(app, db, client, api_token, uid):
    c = _pool_channel(db, uid("上限"))
    old = app.config.get("CRM_HOLDING_LIMIT")
    app.config["CRM_HOLDING_LIMIT"] = 0
    try:
        resp = client.post(f"/api/v1/channel_customer/{c.id}/claim", json={}, headers=api_token("sales1"))
        assert resp.status_code == 409 and "上限为 0" in resp.json["message"]
    finally:
        app.config["CRM_HOLDING_LIMIT"] = old
    assert db.session.query(PoolClaim).filter_by(customer_id=c.id, kind="channel").count() == 0


def _run_churn(app, day: dt.date):
    result = app.test_cli_runner().invoke(args=["churn", "--date", day.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.every_database("the churn command compares assigned_at with the 30-day threshold in SQL, at its edge")
@pytest.mark.parametrize("days,goes", [(29, False), (30, False), (31, True)])
def test_low_level_channel_churn_edges(app, db, uid, days, goes):
    today = dt.date(2031, 3, 15)
    level_d = db.session.query(ChannelLevel).filter_by(name="D").one()
    c = ChannelCustomer(
        name=uid("D级"),
        level=level_d,
        owner_id=user_id(app, "sales1"),
        assigned_at=dt.datetime.combine(today - dt.timedelta(days=days), dt.time(3)),
    )
    db.session.add(c)
    db.session.commit()
    _run_churn(app, today)
    _run_churn(app, today)  # a second run the same day changes nothing more
    db.session.expire_all()
    c = db.session.get(ChannelCustomer, c.id)
    assert c.in_pool is goes and (c.owner_id is None) is goes
    assert _events(db, c) == ([("churn", True)] if goes else [])


@pytest.mark.every_database("the churn command compares last_deal_at with the 90-day threshold in SQL, at its edge")
@pytest.mark.parametrize("days,goes", [(90, False), (91, True)])
def test_high_level_channel_churn_edges(app, db, uid, days, goes):
    today = dt.date(2031, 6, 1)
    level_b = db.session.query(ChannelLevel).filter_by(name="B").one()
    c = ChannelCustomer(
        name=uid("B级"),
        level=level_b,
        owner_id=user_id(app, "sales1"),
        assigned_at=dt.datetime(2030, 1, 1),
        last_deal_at=today - dt.timedelta(days=days),
    )
    db.session.add(c)
    db.session.commit()
    _run_churn(app, today)
    db.session.expire_all()
    assert db.session.get(ChannelCustomer, c.id).in_pool is goes


def test_end_customer_churn_waits_for_admin_review(app, db, as_user, uid):
    today = dt.date(2032, 1, 10)
    e = EndCustomer(
        name=uid("业主"),
        owner_id=user_id(app, "sales1"),
        assigned_at=dt.datetime(2030, 1, 1),
        last_followup_at=today - dt.timedelta(days=181),
    )
    db.session.add(e)
    db.session.commit()
    _run_churn(app, today)
    db.session.expire_all()
    e = db.session.get(EndCustomer, e.id)
    assert e.churn_pending and e.owner_id == user_id(app, "sales1") and not e.in_pool
    # a sales manager may look but not decide
    resp = as_user("manager").post("/endchurnreviewview/action_post", data={"action": "review_churn", "rowid": e.id})
    assert resp.status_code == 403
    as_user("admin").post("/endchurnreviewview/action_post", data={"action": "review_churn", "rowid": e.id})
    db.session.expire_all()
    e = db.session.get(EndCustomer, e.id)
    assert e.in_pool and e.owner_id is None and e.churned and not e.churn_pending
    assert _events(db, e)[-1] == ("churn", True)


def test_followup_reminders(app, db, as_user, uid):
    from app.core.formatting import local_today

    today = local_today()
    mine = ChannelCustomer(name=uid("提醒"), owner_id=user_id(app, "sales1"))
    theirs = ChannelCustomer(name=uid("提醒"), owner_id=user_id(app, "sales2"))
    db.session.add_all([mine, theirs])
    db.session.flush()
    rows = {
        "due": Followup(
            channel_customer=mine,
            owner_id=mine.owner_id,
            followup_date=today,
            content=uid("三天内"),
            next_date=today + dt.timedelta(days=3),
        ),
        "later": Followup(
            channel_customer=mine,
            owner_id=mine.owner_id,
            followup_date=today,
            content=uid("太远"),
            next_date=today + dt.timedelta(days=4),
        ),
        "overdue": Followup(
            channel_customer=mine,
            owner_id=mine.owner_id,
            followup_date=today - dt.timedelta(days=9),
            content=uid("逾期"),
            next_date=today - dt.timedelta(days=5),
        ),
        "other": Followup(
            channel_customer=theirs,
            owner_id=theirs.owner_id,
            followup_date=today - dt.timedelta(days=9),
            content=uid("别人的"),
            next_date=today - dt.timedelta(days=2),
        ),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    html = as_user("sales1").get("/followupdueview/list/?psize_FollowupDueView=100").get_data(as_text=True)
    assert rows["due"].content in html and rows["overdue"].content in html
    assert rows["later"].content not in html and rows["other"].content not in html
    manager = as_user("manager").get("/followupdueview/list/?psize_FollowupDueView=100").get_data(as_text=True)
    assert rows["overdue"].content in manager and rows["other"].content in manager
    assert db.session.get(Followup, rows["overdue"].id).days_overdue == 5


def test_followup_updates_customer_and_refuses_bad_dates(app, db, client, api_token, uid):
    c = ChannelCustomer(name=uid("跟单"), owner_id=user_id(app, "sales1"))
    db.session.add(c)
    db.session.commit()
    sales1 = api_token("sales1")
    bad = client.post(
        "/api/v1/followup/",
        json={"channel_customer": c.id, "content": "x", "followup_date": "2026-11-20", "next_date": "2026-11-19"},
        headers=sales1,
    )
    assert bad.status_code == 400 and "下次跟单日期不能早于" in bad.json["message"]
    ok = client.post(
        "/api/v1/followup/",
        json={
            "channel_customer": c.id,
            "content": "电话沟通",
            "followup_date": "2026-11-20",
            "next_date": "2026-11-23",
        },
        headers=sales1,
    )
    assert ok.status_code == 201
    db.session.expire_all()
    assert db.session.get(ChannelCustomer, c.id).last_followup_at == dt.date(2026, 11, 20)


def test_duplicate_name_in_region_names_owner_only_when_visible(app, db, client, api_token, uid):
    from app.base_data.models import Region

    region = db.session.query(Region).filter_by(code="440100").one()
    name = uid("重名")
    first = client.post("/api/v1/end_customer/", json={"name": name, "region": region.id}, headers=api_token("sales1"))
    assert first.status_code == 201
    by_sales2 = client.post(
        "/api/v1/end_customer/", json={"name": name, "region": region.id}, headers=api_token("sales2")
    )
    assert by_sales2.status_code == 409 and name in by_sales2.json["message"]
    assert "业务员" not in by_sales2.json["message"]
    by_manager = client.post(
        "/api/v1/end_customer/", json={"name": name, "region": region.id}, headers=api_token("manager")
    )
    assert by_manager.status_code == 409 and "业务员" in by_manager.json["message"]
    other_region = db.session.query(Region).filter_by(code="440300").one()
    assert (
        client.post(
            "/api/v1/end_customer/", json={"name": name, "region": other_region.id}, headers=api_token("sales2")
        ).status_code
        == 201
    )


def test_pool_import_reports_unknown_references_per_row(app, db, as_user, uid):
    import io

    import openpyxl

    client = as_user("admin")
    template = openpyxl.load_workbook(io.BytesIO(client.get("/channelpoolview/import_template/").data))
    ws = template.worksheets[0]
    header = [c.value for c in ws[1]]
    good, bad_level, bad_region = uid("导入"), uid("导入"), uid("导入")
    for row in (
        {"客户名称": good, "地区": "广州市", "渠道等级": "C"},
        {"客户名称": bad_level, "渠道等级": "Z"},
        {"客户名称": bad_region, "地区": "火星市"},
    ):
        ws.append([row.get(h) for h in header])
    buf = io.BytesIO()
    template.save(buf)
    resp = client.post(
        "/channelpoolview/import_xlsx/",
        data={"file": (io.BytesIO(buf.getvalue()), "c.xlsx")},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert "没有这个渠道等级" in html and "火星市" in html
    assert (
        db.session.query(ChannelCustomer).filter(ChannelCustomer.name.in_([good, bad_level, bad_region])).count() == 0
    )
    # without the bad rows everything lands in the pool, unowned
    ws.delete_rows(3, 2)
    buf = io.BytesIO()
    template.save(buf)
    client.post(
        "/channelpoolview/import_xlsx/",
        data={"file": (io.BytesIO(buf.getvalue()), "c.xlsx")},
        content_type="multipart/form-data",
    )
    imported = db.session.query(ChannelCustomer).filter_by(name=good).one()
    assert imported.in_pool and imported.owner_id is None and imported.region.name == "广州市"


@pytest.mark.sqlite_only("the owner field is left off the add form in Python from the user's role; no query decides it")
def test_salesperson_forms_offer_no_owner_field(as_user):
    assert 'name="owner"' not in as_user("sales1").get("/channelcustomerview/add").get_data(as_text=True)
    assert 'name="owner"' in as_user("manager").get("/channelcustomerview/add").get_data(as_text=True)


def test_salesperson_adds_a_customer_through_the_form(app, db, as_user, uid):
    name = uid("表单客户")
    resp = as_user("sales1").post("/channelcustomerview/add", data={"name": name, "credit_limit": "1000"})
    assert resp.status_code == 302
    c = db.session.query(ChannelCustomer).filter_by(name=name).one()
    assert c.owner_id == user_id(app, "sales1") and not c.in_pool and c.assigned_at is not None
    assert _events(db, c) == [("created", False)]
