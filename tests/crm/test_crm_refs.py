"""A salesperson cannot attach records to another salesperson's customer through the API (scope on references)."""

import pytest

from app.crm.models import ChannelCustomer, Contact, EndCustomer, Followup

pytestmark = pytest.mark.every_database(
    "each referenced customer is looked up through the owner-scoped query, which must not find another's rows"
)


def test_references_to_other_owners_customers_are_refused(app, db, client, api_token, uid):
    from tests.support.users import user_id

    theirs = ChannelCustomer(name=uid("他人渠道"), owner_id=user_id(app, "sales2"))
    end = EndCustomer(name=uid("他人业主"), owner_id=user_id(app, "sales2"))
    mine = ChannelCustomer(name=uid("我的渠道"), owner_id=user_id(app, "sales1"))
    db.session.add_all([theirs, end, mine])
    db.session.commit()
    sales1 = api_token("sales1")
    before = (db.session.query(Contact).count(), db.session.query(Followup).count())
    refused = [
        client.post("/api/v1/contact/", json={"channel_customer": theirs.id, "name": "张三"}, headers=sales1),
        client.post(
            "/api/v1/followup/",
            json={"end_customer": end.id, "content": "拜访", "followup_date": "2026-11-20"},
            headers=sales1,
        ),
        client.post("/api/v1/end_customer/", json={"name": uid("新业主"), "referrer": theirs.id}, headers=sales1),
    ]
    assert [r.status_code for r in refused] == [404, 404, 404], [r.json for r in refused]
    assert all(r.json["message"] == "记录不存在。" for r in refused)
    db.session.expire_all()
    assert (db.session.query(Contact).count(), db.session.query(Followup).count()) == before
    assert db.session.get(EndCustomer, end.id).last_followup_at is None
    ok = client.post("/api/v1/contact/", json={"channel_customer": mine.id, "name": "李四"}, headers=sales1)
    assert ok.status_code == 201
    assert db.session.get(Contact, ok.json["id"]).owner_id == user_id(app, "sales1")
