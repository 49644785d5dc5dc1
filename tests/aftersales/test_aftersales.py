"""售后服务 through the pages and the REST API: requests received with a due time from their priority, handled
pending → processing → resolved → closed (and reopened), refusals that change nothing, the satisfaction score, the
customer's order only, data scope (the customer's salesperson and the assignee), the overdue filter, and overdue
requests raised and escalated by the alert centre."""

import datetime as dt
import html as html_lib
import io
import re
from decimal import Decimal

import prison
import pytest
from openpyxl import load_workbook

from app.aftersales.models import ServiceRequest
from app.base_data.models import Product
from app.core.formatting import local_today, to_local
from app.core.models import utcnow
from app.crm.models import EndCustomer
from app.reports.alerts import Alert
from app.sales import services as sales
from app.sales.models import SalesOrder
from tests.support.pages import alerts as _alerts, message as _t
from tests.support.users import user_id
from tests.support.workflow import move_to

API = "/api/v1/service_request/"

pytestmark = pytest.mark.every_database(
    "requests are scoped to the customer's owner and assignee in SQL, steps are guarded UPDATEs, and due times are "
    "DATETIME columns compared in SQL"
)


# ------------------------------------------------------------------ helpers


def _buttons(html: str) -> set[str]:
    actions = re.search(r'<div class="doc-actions" id="doc-actions"[^>]*>(.*?)</div>', html, re.S)
    assert actions, "no action bar on the show page"
    return set(re.findall(r'id="doc-([a-z_]+)"', actions.group(1)))


def fresh(db, pk) -> ServiceRequest | None:
    db.session.rollback()  # see what the requests committed
    return db.session.get(ServiceRequest, pk)


def count(db, customer_id) -> int:
    db.session.rollback()
    return db.session.query(ServiceRequest).filter_by(end_customer_id=customer_id).count()


def create(client, headers, **body) -> int:
    resp = client.post(API, json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def act(client, headers, pk, action, **body):
    return client.post(f"{API}{pk}/{action}", json=body, headers=headers)


def snapshot(db, pk) -> tuple:
    r = fresh(db, pk)
    return (r.status, r.resolution, r.satisfaction, r.resolved_at, r.closed_at, r.due_at, r.owner_id)


@pytest.fixture
def svc(app, db, uid):
    """Two end customers of sales1 (the first with an approved order), one of sales2."""
    sales1, sales2 = user_id(app, "sales1"), user_id(app, "sales2")
    product = Product(model_no=uid("SH"), name="交换机", sale_price=Decimal("100"))
    mine = EndCustomer(name=uid("售后客户"), owner_id=sales1)
    other_mine = EndCustomer(name=uid("售后客户乙"), owner_id=sales1)
    theirs = EndCustomer(name=uid("别人的客户"), owner_id=sales2)
    db.session.add_all([product, mine, other_mine, theirs])
    db.session.commit()
    order = SalesOrder(end_customer=mine, end_customer_id=mine.id, doc_date=local_today(), owner_id=sales1)
    sales.save_order(db.session, order, [{"product_id": product.id, "qty": "1", "unit_price": "100"}], None)
    db.session.add(order)
    move_to(app, db, order, "approved")
    db.session.commit()
    return {
        "customer": mine.id,
        "other_customer": other_mine.id,
        "their_customer": theirs.id,
        "order": order.id,
        "order_no": order.number,
        "sales1": sales1,
        "sales2": sales2,
        "tag": uid("TAG"),
    }


# ------------------------------------------------------------------ receiving


def test_create_via_page_numbers_it_and_sets_owner_and_due_time(app, db, as_user, svc):
    client = as_user("sales1")
    form = client.get(f"/servicerequestview/add?_flt_0_end_customer={svc['customer']}")
    assert form.status_code == 200
    before = utcnow()
    resp = client.post(
        "/servicerequestview/add",
        data={
            "end_customer": svc["customer"],
            "sales_order": svc["order"],
            "kind": "complaint",
            "priority": "urgent",
            "content": f"{svc['tag']} 安装后噪音大",
            "due_at": "",
        },
    )
    assert resp.status_code == 302, _alerts(client.get("/").get_data(as_text=True))
    db.session.rollback()
    item = db.session.query(ServiceRequest).filter_by(end_customer_id=svc["customer"]).one()
    assert item.number.startswith("SH") and item.status == "open" and item.owner_id == svc["sales1"]
    assert item.sales_order_id == svc["order"] and item.kind == "complaint"
    # urgent: due 4 hours after it was received, to the minute
    assert before.replace(second=0, microsecond=0) + dt.timedelta(hours=4) <= item.due_at
    assert item.due_at <= utcnow() + dt.timedelta(hours=4)
    page = client.get(f"/servicerequestview/show/{item.id}").get_data(as_text=True)
    assert item.number in page and _buttons(page) == {"edit", "start", "resolve"}
    assert to_local(item.due_at).strftime("%Y-%m-%d %H:%M") in page  # shown in China time
    assert item.number in client.get(f"/servicerequestview/list/?_flt_0_content={svc['tag']}").get_data(as_text=True)


@pytest.mark.sqlite_only("the owner is copied in Python from the customer's salesperson; no query decides it")
def test_a_manager_files_it_for_the_customers_salesperson(app, db, api_token, client, svc):
    pk = create(client, api_token("manager"), end_customer=svc["customer"], kind="repair", content="网口损坏")
    assert fresh(db, pk).owner_id == svc["sales1"]


@pytest.mark.every_database("due_at and created_at are DATETIME columns, compared as each database reads them back")
@pytest.mark.parametrize("priority, hours", [("urgent", 4), ("high", 24), ("normal", 72), ("low", 168)])
def test_due_time_follows_the_priority(app, db, api_token, client, svc, priority, hours):
    pk = create(
        client, api_token("sales1"), end_customer=svc["customer"], kind="repair", content="x", priority=priority
    )
    item = fresh(db, pk)
    assert item.due_at == (item.created_at + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


def test_due_hours_are_configurable(app, db, api_token, client, svc):
    app.config["SERVICE_DUE_HOURS"] = {"urgent": 2}
    try:
        pk = create(
            client, api_token("sales1"), end_customer=svc["customer"], kind="repair", content="x", priority="urgent"
        )
    finally:
        app.config.pop("SERVICE_DUE_HOURS")
    item = fresh(db, pk)
    assert item.due_at == (item.created_at + dt.timedelta(hours=2)).replace(second=0, microsecond=0)


def test_due_time_entered_in_china_time_is_stored_in_utc(app, db, as_user, api_token, client, svc):
    page = as_user("sales1")
    resp = page.post(
        "/servicerequestview/add",
        data={
            "end_customer": svc["customer"],
            "kind": "installation",
            "priority": "normal",
            "content": f"{svc['tag']} 预约安装",
            "due_at": "2031-01-02 10:00:00",
        },
    )
    assert resp.status_code == 302
    db.session.rollback()
    item = db.session.query(ServiceRequest).filter_by(end_customer_id=svc["customer"]).one()
    assert item.due_at == dt.datetime(2031, 1, 2, 2, 0)
    # searched in China time too: due after 09:00 and before 11:00 on that day
    found = page.get(
        f"/servicerequestview/list/?_flt_0_content={svc['tag']}"
        "&_flt_0_due_at=2031-01-02 09:00:00&_flt_1_due_at=2031-01-02 11:00:00"
    ).get_data(as_text=True)
    assert item.number in found
    later = page.get(f"/servicerequestview/list/?_flt_0_content={svc['tag']}&_flt_0_due_at=2031-01-02 10:30:00")
    assert item.number not in later.get_data(as_text=True)
    edit = page.get(f"/servicerequestview/edit/{item.id}").get_data(as_text=True)
    assert "2031-01-02 10:00:00" in edit
    # changing the priority keeps a due time set by hand
    page.post(
        f"/servicerequestview/edit/{item.id}",
        data={"kind": "installation", "priority": "high", "content": "预约安装", "due_at": "2031-01-02 10:00:00"},
    )
    assert fresh(db, item.id).due_at == dt.datetime(2031, 1, 2, 2, 0) and fresh(db, item.id).priority == "high"
    # the API takes ISO times with their offset
    pk = create(
        client,
        api_token("sales1"),
        end_customer=svc["customer"],
        kind="repair",
        content="x",
        due_at="2031-03-04T09:30:00+08:00",
    )
    assert fresh(db, pk).due_at == dt.datetime(2031, 3, 4, 1, 30)


def test_a_due_time_from_the_priority_follows_a_new_priority(app, db, api_token, as_user, client, svc):
    headers = api_token("sales1")
    pk = create(client, headers, end_customer=svc["customer"], kind="repair", content="x", priority="low")
    resp = client.put(f"{API}{pk}", json={"priority": "urgent"}, headers=headers)
    assert resp.status_code == 200, resp.json
    item = fresh(db, pk)
    assert item.due_at == (item.created_at + dt.timedelta(hours=4)).replace(second=0, microsecond=0)
    # the same on the form, which sends the due time it showed
    page = as_user("sales1")
    shown = re.search(
        r'name="due_at"[^>]*value="([^"]+)"', page.get(f"/servicerequestview/edit/{pk}").get_data(as_text=True)
    )
    data = {"kind": "repair", "priority": "high", "content": "x", "due_at": shown.group(1)}
    assert page.post(f"/servicerequestview/edit/{pk}", data=data).status_code == 302
    item = fresh(db, pk)
    assert item.due_at == (item.created_at + dt.timedelta(hours=24)).replace(second=0, microsecond=0)


@pytest.mark.sqlite_only("each body is refused by a Python rule of the service before anything is written")
@pytest.mark.parametrize(
    "body, msgid",
    [
        ({"content": "   "}, "Describe the request."),
        ({"kind": "warranty"}, "Choose a service type."),
        ({"priority": "asap"}, "Choose a priority."),
        ({"due_at": "2001-01-01T00:00:00"}, "The due time cannot be before the request was received."),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(app, db, api_token, client, svc, body, msgid):
    before = count(db, svc["customer"])
    resp = client.post(
        API,
        json={"end_customer": svc["customer"], "kind": "repair", "content": "x", **body},
        headers=api_token("sales1"),
    )
    assert resp.status_code == 400, resp.json
    assert resp.json["message"] == _t(app, msgid)
    assert count(db, svc["customer"]) == before


def test_the_order_must_be_the_customers(app, db, api_token, as_user, client, svc):
    before = count(db, svc["other_customer"])
    resp = client.post(
        API,
        json={"end_customer": svc["other_customer"], "sales_order": svc["order"], "kind": "return", "content": "退货"},
        headers=api_token("sales1"),
    )
    with app.app_context():
        name = db.session.get(EndCustomer, svc["other_customer"]).name
    expected = _t(app, "Sales order %(no)s is not %(c)s's.", no=svc["order_no"], c=name)
    assert resp.status_code == 400 and resp.json["message"] == expected
    page = as_user("sales1")
    page.post(
        "/servicerequestview/add",
        data={"end_customer": svc["other_customer"], "sales_order": svc["order"], "kind": "return", "content": "退货"},
    )
    assert expected in _alerts(page.get("/servicerequestview/list/").get_data(as_text=True))
    assert count(db, svc["other_customer"]) == before


def test_an_assignee_who_cannot_handle_requests_is_refused(app, db, api_token, client, svc):
    resp = client.post(
        API,
        json={"end_customer": svc["customer"], "kind": "repair", "content": "x", "assignee": user_id(app, "keeper")},
        headers=api_token("sales1"),
    )
    assert resp.status_code == 400


# ------------------------------------------------------------------ data scope


def test_a_salesperson_reaches_only_their_customers_requests(app, db, api_token, as_user, client, svc):
    pk = create(
        client, api_token("sales1"), end_customer=svc["customer"], kind="complaint", content=f"{svc['tag']} 投诉"
    )
    number = fresh(db, pk).number
    s2, page2 = api_token("sales2"), as_user("sales2")
    # list, show, export, API: nothing of sales1's customer
    assert number not in page2.get(f"/servicerequestview/list/?_flt_0_content={svc['tag']}").get_data(as_text=True)
    assert page2.get(f"/servicerequestview/show/{pk}").status_code == 404
    assert page2.get(f"/servicerequestview/edit/{pk}").status_code == 404
    export = page2.get("/servicerequestview/export_xlsx/")
    assert export.status_code == 200
    cells = {str(c) for row in load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True) for c in row}
    assert number not in cells
    mine = as_user("sales1").get("/servicerequestview/export_xlsx/")
    assert number in {
        str(c) for row in load_workbook(io.BytesIO(mine.data)).active.iter_rows(values_only=True) for c in row
    }
    assert client.get(f"{API}{pk}", headers=s2).status_code == 404
    q = prison.dumps({"filters": [{"col": "content", "opr": "sw", "value": svc["tag"]}]})
    assert client.get(f"{API}?q={q}", headers=s2).json["count"] == 0
    # nor act on it
    before = snapshot(db, pk)
    assert act(client, s2, pk, "start").status_code == 404
    assert act(client, s2, pk, "resolve", resolution="已处理").status_code == 404
    assert client.put(f"{API}{pk}", json={"content": "改"}, headers=s2).status_code == 404
    assert client.delete(f"{API}{pk}", headers=s2).status_code == 404
    assert page2.post(f"/servicerequestview/action/start/{pk}").status_code == 404
    assert page2.post(f"/servicerequestview/resolve/{pk}", data={"comment": "x"}).status_code == 404
    assert page2.post(f"/servicerequestview/close/{pk}", data={"satisfaction": "5"}).status_code == 404
    assert snapshot(db, pk) == before
    # nor file one for a customer that is not theirs
    before_count = count(db, svc["customer"])
    resp = client.post(API, json={"end_customer": svc["customer"], "kind": "repair", "content": "x"}, headers=s2)
    assert resp.status_code == 404 and count(db, svc["customer"]) == before_count  # not in sales2's scope
    page2.post(
        f"/servicerequestview/add?_flt_0_end_customer={svc['customer']}",
        data={"kind": "repair", "priority": "normal", "content": "x"},
    )
    assert count(db, svc["customer"]) == before_count
    # sales1, the manager and finance (read-only) see it
    assert number in as_user("sales1").get(f"/servicerequestview/list/?_flt_0_content={svc['tag']}").get_data(
        as_text=True
    )
    assert client.get(f"{API}{pk}", headers=api_token("manager")).status_code == 200
    assert client.get(f"{API}{pk}", headers=api_token("finance")).status_code == 200
    assert act(client, api_token("finance"), pk, "start").status_code == 403
    assert client.get(f"{API}{pk}", headers=api_token("keeper")).status_code == 403


def test_the_assignee_sees_and_handles_it_but_it_stays_the_owners(app, db, api_token, as_user, client, svc):
    pk = create(
        client,
        api_token("sales1"),
        end_customer=svc["customer"],
        kind="repair",
        content=f"{svc['tag']} 上门维修",
        assignee=svc["sales2"],
    )
    s2 = api_token("sales2")
    assert client.get(f"{API}{pk}", headers=s2).status_code == 200
    page = as_user("sales2").get(f"/servicerequestview/list/?_flt_0_content={svc['tag']}").get_data(as_text=True)
    assert fresh(db, pk).number in page
    assert client.put(f"{API}{pk}", json={"content": "上门维修，带备件"}, headers=s2).status_code == 200
    assert act(client, s2, pk, "start").status_code == 200
    assert act(client, s2, pk, "resolve", resolution="更换电源模块").status_code == 200
    item = fresh(db, pk)
    assert (item.status, item.owner_id, item.assignee_id) == ("resolved", svc["sales1"], svc["sales2"])


def test_open_requests_follow_a_customer_transfer(app, db, api_token, client, svc):
    headers = api_token("sales1")
    open_pk = create(client, headers, end_customer=svc["customer"], kind="repair", content="x")
    done_pk = create(client, headers, end_customer=svc["customer"], kind="consultation", content="y")
    assert act(client, headers, done_pk, "resolve", resolution="已答复").status_code == 200
    assert act(client, headers, done_pk, "close").status_code == 200
    app.config["CRM_HOLDING_LIMIT"] = 10**6
    try:
        resp = client.post(
            f"/api/v1/end_customer/{svc['customer']}/transfer",
            json={"owner_id": svc["sales2"]},
            headers=api_token("manager"),
        )
    finally:
        app.config.pop("CRM_HOLDING_LIMIT")
    assert resp.status_code == 200, resp.json
    assert fresh(db, open_pk).owner_id == svc["sales2"]
    assert fresh(db, done_pk).owner_id == svc["sales1"]  # closed history stays with who handled it


# ------------------------------------------------------------------ handling


def test_handling_steps_and_refusals(app, db, api_token, client, svc):
    headers = api_token("sales1")
    pk = create(client, headers, end_customer=svc["customer"], kind="complaint", content="送货延误", priority="high")
    number = fresh(db, pk).number

    def refused(resp, status, msgid, **kw):
        assert resp.status_code == status, resp.json
        assert resp.json["message"] == _t(app, msgid, **kw)

    # pending: cannot be closed or reopened
    before = snapshot(db, pk)
    refused(
        act(client, headers, pk, "close", satisfaction=5),
        409,
        "Only a resolved service request can be closed; %(no)s is %(s)s.",
        no=number,
        s=_t(app, "Pending"),
    )
    refused(
        act(client, headers, pk, "reopen", comment="x"),
        409,
        "Only a resolved or closed service request can be reopened; %(no)s is %(s)s.",
        no=number,
        s=_t(app, "Pending"),
    )
    assert snapshot(db, pk) == before
    # start: processing, the caller becomes the assignee
    resp = act(client, headers, pk, "start", comment="已联系客户")
    assert resp.status_code == 200 and resp.json["status"] == "in_progress"
    item = fresh(db, pk)
    assert item.started_at is not None and item.assignee_id == svc["sales1"]
    refused(
        act(client, headers, pk, "start"),
        409,
        "Only a pending service request can be started; %(no)s is %(s)s.",
        no=number,
        s=_t(app, "Processing"),
    )
    # resolve needs what was done
    before = snapshot(db, pk)
    refused(act(client, headers, pk, "resolve"), 400, "Describe how the request was resolved.")
    refused(act(client, headers, pk, "resolve", resolution="   "), 400, "Describe how the request was resolved.")
    assert snapshot(db, pk) == before
    assert act(client, headers, pk, "resolve", resolution="加急补发").json["status"] == "resolved"
    # satisfaction only 1–5
    before = snapshot(db, pk)
    for bad in (0, 6, -1, "x", 4.5, True, "3.0"):
        refused(
            act(client, headers, pk, "close", satisfaction=bad),
            400,
            "The satisfaction score must be a whole number from 1 to 5.",
        )
    assert snapshot(db, pk) == before
    # a resolved request is not edited any more
    refused(
        client.put(f"{API}{pk}", json={"content": "改"}, headers=headers),
        409,
        "A resolved or closed service request cannot be changed; reopen it first.",
    )
    assert act(client, headers, pk, "close", satisfaction="4", comment="客户认可").status_code == 200
    item = fresh(db, pk)
    assert (item.status, item.satisfaction) == ("closed", 4) and item.closed_at is not None
    refused(
        act(client, headers, pk, "resolve", resolution="x"),
        409,
        "Only a pending or processing service request can be resolved; %(no)s is %(s)s.",
        no=number,
        s=_t(app, "Closed"),
    )
    # reopen needs a reason; it starts over with a new due time
    refused(act(client, headers, pk, "reopen"), 400, "Say why the request is reopened.")
    assert fresh(db, pk).status == "closed"
    assert act(client, headers, pk, "reopen", comment="问题复现").json["status"] == "open"
    item = fresh(db, pk)
    assert (item.resolution, item.satisfaction, item.resolved_at, item.closed_at) == (None, None, None, None)
    assert item.due_at > utcnow() + dt.timedelta(hours=23)


def test_history_and_buttons_on_the_show_page(app, db, as_user, svc):
    client = as_user("sales1")
    client.post(
        "/servicerequestview/add",
        data={"end_customer": svc["customer"], "kind": "repair", "priority": "normal", "content": f"{svc['tag']} 坏了"},
    )
    db.session.rollback()
    pk = db.session.query(ServiceRequest).filter_by(end_customer_id=svc["customer"]).one().id
    show = f"/servicerequestview/show/{pk}"
    assert client.post(f"/servicerequestview/action/start/{pk}", data={"next": show}).status_code == 302
    assert _buttons(client.get(show).get_data(as_text=True)) == {"edit", "resolve"}
    # resolving without saying what was done is refused on the page too
    resp = client.post(f"/servicerequestview/resolve/{pk}", data={"comment": ""})
    assert resp.status_code == 200 and fresh(db, pk).status == "in_progress"
    assert _t(app, "Describe how the request was resolved.") in _alerts(resp.get_data(as_text=True))
    assert client.post(f"/servicerequestview/resolve/{pk}", data={"comment": "更换主板"}).status_code == 302
    assert _buttons(client.get(show).get_data(as_text=True)) == {"close", "reopen"}
    # resolved: the edit page is not offered
    resp = client.get(f"/servicerequestview/edit/{pk}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(show)
    # close with an out-of-range score: refused, nothing changes; then with 5 stars
    resp = client.post(f"/servicerequestview/close/{pk}", data={"satisfaction": "9"})
    assert _t(app, "The satisfaction score must be a whole number from 1 to 5.") in _alerts(resp.get_data(as_text=True))
    assert fresh(db, pk).status == "resolved"
    assert client.get(f"/servicerequestview/close/{pk}").status_code == 200
    assert (
        client.post(f"/servicerequestview/close/{pk}", data={"satisfaction": "5", "comment": "满意"}).status_code == 302
    )
    assert client.post(f"/servicerequestview/reopen/{pk}", data={"comment": "再次故障"}).status_code == 302
    page = client.get(show).get_data(as_text=True)
    history = re.search(r'<table[^>]*id="service-history">(.*?)</table>', page, re.S).group(1)
    for text in (
        _t(app, "Request received"),
        _t(app, "Start Handling"),
        _t(app, "Resolve"),
        _t(app, "Close"),
        _t(app, "Reopen"),
        "更换主板",
        "满意",
        "再次故障",
    ):
        assert text in html_lib.unescape(history), text
    assert _buttons(page) == {"edit", "start", "resolve"}
    # finance reads, without buttons
    assert _buttons(as_user("finance").get(show).get_data(as_text=True)) == set()


def test_only_a_pending_request_nobody_started_can_be_deleted(app, db, api_token, client, svc):
    headers = api_token("sales1")
    pk = create(client, headers, end_customer=svc["customer"], kind="repair", content="x")
    assert act(client, headers, pk, "start").status_code == 200
    resp = client.delete(f"{API}{pk}", headers=headers)
    assert resp.status_code == 409
    assert resp.json["message"] == _t(app, "Only a pending service request that nobody has started can be deleted.")
    assert fresh(db, pk) is not None
    other = create(client, headers, end_customer=svc["customer"], kind="repair", content="录错了")
    assert client.delete(f"{API}{other}", headers=headers).status_code == 200
    assert fresh(db, other) is None


def test_the_customer_and_order_pages_list_their_requests(app, db, api_token, as_user, client, svc):
    pk = create(
        client, api_token("sales1"), end_customer=svc["customer"], sales_order=svc["order"], kind="repair", content="x"
    )
    number = fresh(db, pk).number
    page = as_user("sales1")
    assert number in page.get(f"/endcustomerview/show/{svc['customer']}").get_data(as_text=True)
    assert number in page.get(f"/salesorderview/show/{svc['order']}").get_data(as_text=True)


# ------------------------------------------------------------------ overdue and the alert centre


def run_alerts(app, when: dt.datetime) -> dict:
    result = app.test_cli_runner().invoke(args=["alerts", "--now", when.strftime("%Y-%m-%dT%H:%M")])
    assert result.exit_code == 0, result.output
    return eval(result.output.strip().splitlines()[-1])


def service_alerts(db, pk) -> list[Alert]:
    db.session.rollback()
    return db.session.query(Alert).filter(Alert.fingerprint == f"service:{pk}").order_by(Alert.id).all()


def test_an_overdue_request_raises_an_alert_that_escalates(app, db, api_token, client, svc):
    headers = api_token("sales1")
    pk = create(client, headers, end_customer=svc["customer"], kind="complaint", content="x", priority="urgent")
    due = fresh(db, pk).due_at
    run_alerts(app, due - dt.timedelta(minutes=5))
    assert service_alerts(db, pk) == []  # not yet due
    counts = run_alerts(app, due + dt.timedelta(minutes=5))
    assert counts["raised"] >= 1
    (alert,) = service_alerts(db, pk)
    assert (alert.kind, alert.level, alert.owner_id, alert.status) == ("service", "Salesperson", svc["sales1"], "open")
    assert alert.url == f"/servicerequestview/show/{pk}" and fresh(db, pk).number in alert.title
    run_alerts(app, due + dt.timedelta(minutes=10))
    assert len(service_alerts(db, pk)) == 1  # cron-safe: a second run adds nothing
    # nobody handles it: sales manager after the escalation deadline, then administrator
    later = due + dt.timedelta(minutes=5, hours=49)
    run_alerts(app, later)
    assert service_alerts(db, pk)[0].level == "SalesManager"
    run_alerts(app, later + dt.timedelta(hours=49))
    assert service_alerts(db, pk)[0].level == "Admin"
    # resolved: the condition ends, the alert is cleared
    assert act(client, headers, pk, "resolve", resolution="已处理").status_code == 200
    run_alerts(app, later + dt.timedelta(hours=50))
    (alert,) = service_alerts(db, pk)
    assert (alert.active, alert.status) == (False, "cleared")


def test_the_overdue_filter_on_the_list_and_the_api(app, db, api_token, as_user, client, svc):
    headers = api_token("sales1")
    late = create(client, headers, end_customer=svc["customer"], kind="repair", content=f"{svc['tag']} 迟了")
    on_time = create(client, headers, end_customer=svc["customer"], kind="repair", content=f"{svc['tag']} 未到期")
    item = fresh(db, late)
    item.created_at = utcnow() - dt.timedelta(days=5)
    item.due_at = utcnow() - dt.timedelta(hours=1)
    db.session.commit()
    numbers = {pk: fresh(db, pk).number for pk in (late, on_time)}
    page = as_user("sales1")
    listing = page.get("/servicerequestview/list/").get_data(as_text=True)
    link = re.search(r'href="([^"]*_flt_\d_due_at=[^"]*)"', listing)
    assert link, "no overdue quick filter"
    overdue = page.get(html_lib.unescape(link.group(1)) + f"&_flt_0_content={svc['tag']}").get_data(as_text=True)
    assert numbers[late] in overdue and numbers[on_time] not in overdue
    q = prison.dumps(
        {
            "filters": [
                {"col": "due_at", "opr": "overdue", "value": 1},
                {"col": "content", "opr": "sw", "value": svc["tag"]},
            ]
        }
    )
    resp = client.get(f"{API}?q={q}", headers=headers)
    assert resp.status_code == 200, resp.json
    assert {row["number"] for row in resp.json["result"]} == {numbers[late]}
