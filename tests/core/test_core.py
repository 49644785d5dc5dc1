"""Shared mechanisms of app/core: document numbering (also under concurrent creation), the approval workflow
(levels as data, guarded transitions under concurrency), the audit trail and the in-use check."""

import datetime as dt
import json
import random
import re
import threading
from decimal import Decimal

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, Integer, Numeric
from sqlalchemy.orm import declarative_base

from app.core import workflow
from app.core.errors import BusinessError, Forbidden
from app.core.workflow import APPROVED, DRAFT, REJECTED, SUBMITTED, ApprovalRecord, ApprovalRule, WorkflowMixin

pytestmark = pytest.mark.every_database(
    "numbers come from a per-dialect upsert under row locks, workflow steps are guarded UPDATEs racing in threads, "
    "audit rows and in-use counts are written and counted in SQL inside transactions"
)

# Days of 2099 handed out once each, so no two tests (nor two runs on a kept database) share a counter.
_DAYS = iter(random.sample(range(365), 365))


def fresh_day() -> dt.date:
    return dt.date(2099, 1, 1) + dt.timedelta(days=next(_DAYS))


def run_threads(count: int, target) -> list:
    """Run target(index) in `count` real threads; return what each returned or raised."""
    results: list = [None] * count

    def wrap(i):
        try:
            results[i] = target(i)
        except BaseException as exc:  # reported to the test, which asserts on it
            results[i] = exc

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


# ================================================================== numbering


def test_numbers_count_per_day_and_prefix(db):
    from app.core.numbering import current_value, next_number

    day = fresh_day()
    ymd = f"{day:%Y%m%d}"
    assert next_number(db.session, "XS", day) == f"XS{ymd}-0001"
    assert next_number(db.session, "XS", day) == f"XS{ymd}-0002"
    assert next_number(db.session, "XS", day) == f"XS{ymd}-0003"
    # another prefix on the same day has its own counter
    assert next_number(db.session, "BJ", day) == f"BJ{ymd}-0001"
    # the next day starts again
    next_day = day + dt.timedelta(days=1)
    while True:  # the next day may already belong to another test; use the first untouched one
        if current_value(db.session, "XS", next_day) == 0:
            break
        next_day += dt.timedelta(days=1)
    assert next_number(db.session, "XS", next_day) == f"XS{next_day:%Y%m%d}-0001"
    assert next_number(db.session, "XS", day) == f"XS{ymd}-0004"
    db.session.commit()
    assert current_value(db.session, "XS", day) == 4
    assert current_value(db.session, "BJ", day) == 1


def test_numbers_rolled_back_are_not_kept(db):
    from app.core.numbering import current_value, next_number

    day = fresh_day()
    next_number(db.session, "SK", day)
    db.session.commit()
    next_number(db.session, "SK", day)
    db.session.rollback()
    assert current_value(db.session, "SK", day) == 1
    assert next_number(db.session, "SK", day) == f"SK{day:%Y%m%d}-0002"
    db.session.commit()


def test_every_prefix_numbers(db):
    from app.core.numbering import PREFIXES, next_number

    day = fresh_day()
    for prefix in PREFIXES:
        assert next_number(db.session, prefix, day) == f"{prefix}{day:%Y%m%d}-0001"
    db.session.commit()


@pytest.mark.sqlite_only("the prefix is checked against PREFIXES in Python before any SQL runs")
@pytest.mark.parametrize("prefix", ["ZZ", "xs", "", "XS "])
def test_unknown_prefix_raises(db, prefix):
    from app.core.numbering import next_number

    with pytest.raises(ValueError):
        next_number(db.session, prefix, fresh_day())


def test_numbers_unique_and_contiguous_under_concurrency(app):
    from app.core.numbering import current_value, next_number
    from app.extensions import db

    threads, per_thread = 8, 25
    day = fresh_day()
    barrier = threading.Barrier(threads)

    def work(_i):
        got = []
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                for _n in range(per_thread):
                    got.append(next_number(db.session, "XS", day))
                    db.session.commit()
            finally:
                db.session.remove()
        return got

    results = run_threads(threads, work)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} threads failed, first: {errors[0]!r}"
    numbers = [n for got in results for n in got]
    expected = [f"XS{day:%Y%m%d}-{i:04d}" for i in range(1, threads * per_thread + 1)]
    assert len(numbers) == len(set(numbers)), "duplicate document numbers"
    assert sorted(numbers) == expected
    for got in results:  # each session sees its own numbers rising
        assert got == sorted(got)
    with app.app_context():
        assert current_value(db.session, "XS", day) == threads * per_thread
        db.session.remove()


# ================================================================== workflow

WfBase = declarative_base()


class WfDoc(WorkflowMixin, WfBase):
    """A minimal approvable document on its own base (not part of the app's schema)."""

    __tablename__ = "test_wf_doc"
    __doc_type__ = "test_wf_doc"
    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, nullable=True)
    amount = Column(Numeric(14, 2), nullable=False, default=Decimal("0"))

    def approval_amount(self) -> Decimal:
        return self.amount


BIG = Decimal("150000.00")


@pytest.fixture
def wf(app):
    """An app context with the test_wf_doc table; yields helpers to make documents and load users."""
    from app.extensions import db

    with app.app_context():
        WfBase.metadata.create_all(db.engine)

        class Helpers:
            session = db.session

            @staticmethod
            def user(username: str) -> User:
                return db.session.query(User).filter(User.username == username).one()

            @staticmethod
            def doc(owner: str = "sales1", amount="5000.00") -> WfDoc:
                d = WfDoc(owner_id=Helpers.user(owner).id, amount=Decimal(amount))
                db.session.add(d)
                db.session.commit()
                return d

            @staticmethod
            def fresh(doc_id: int) -> WfDoc:
                db.session.expire_all()
                return db.session.get(WfDoc, doc_id)

        yield Helpers
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def two_levels(app):
    """Approval levels as data: test documents of ≥100,000 need SalesManager, then Admin."""
    from app.extensions import db

    with app.app_context():
        rules = [
            ApprovalRule(doc_type=WfDoc.__doc_type__, min_amount=Decimal("100000"), level=1, role_name="SalesManager"),
            ApprovalRule(doc_type=WfDoc.__doc_type__, min_amount=Decimal("100000"), level=2, role_name="Admin"),
        ]
        db.session.add_all(rules)
        db.session.commit()
        ids = [r.id for r in rules]
        db.session.remove()
    yield
    with app.app_context():
        db.session.query(ApprovalRule).filter(ApprovalRule.id.in_(ids)).delete(synchronize_session=False)
        db.session.commit()
        db.session.remove()


def records(session, doc) -> list[tuple]:
    return [
        (r.action, r.level, r.from_status, r.to_status, r.user_id, r.comment) for r in workflow.history(session, doc)
    ]


def test_submit_then_approve_one_level(wf):
    s, sales1, manager = wf.session, wf.user("sales1"), wf.user("manager")
    doc = wf.doc()
    assert doc.status == DRAFT and doc.approval_level == 0
    assert workflow.approver_roles(s, WfDoc.__doc_type__, doc.amount) == ["SalesManager"]
    workflow.submit(s, doc, sales1, "please")
    s.commit()
    doc = wf.fresh(doc.id)
    assert (doc.status, doc.approval_level) == (SUBMITTED, 1)
    assert workflow.can_approve(s, doc, manager)
    workflow.approve(s, doc, manager, "ok")
    s.commit()
    doc = wf.fresh(doc.id)
    assert doc.status == APPROVED
    assert records(s, doc) == [
        ("submit", 0, DRAFT, SUBMITTED, sales1.id, "please"),
        ("approve", 1, SUBMITTED, APPROVED, manager.id, "ok"),
    ]
    rec = workflow.history(s, doc)[-1]
    assert rec.at is not None and rec.doc_type == WfDoc.__doc_type__


def test_reject_requires_reason_and_records_it(wf):
    s, sales1, manager = wf.session, wf.user("sales1"), wf.user("manager")
    doc = wf.doc()
    workflow.submit(s, doc, sales1)
    s.commit()
    for empty in (None, "", "   "):
        with pytest.raises(BusinessError):
            workflow.reject(s, doc, manager, empty)
    assert wf.fresh(doc.id).status == SUBMITTED
    doc = wf.fresh(doc.id)
    workflow.reject(s, doc, manager, "  价格太低  ")
    s.commit()
    doc = wf.fresh(doc.id)
    assert (doc.status, doc.approval_level) == (REJECTED, 0)
    assert records(s, doc)[-1] == ("reject", 1, SUBMITTED, REJECTED, manager.id, "价格太低")


def test_reopen_and_resubmit(wf):
    s, sales1, manager = wf.session, wf.user("sales1"), wf.user("manager")
    doc = wf.doc()
    with pytest.raises(BusinessError):
        workflow.reopen(s, doc, sales1)  # a draft is not rejected
    workflow.submit(s, doc, sales1)
    with pytest.raises(BusinessError):
        workflow.submit(s, wf.fresh(doc.id), sales1)  # already submitted
    workflow.reject(s, wf.fresh(doc.id), manager, "no")
    s.commit()
    workflow.reopen(s, wf.fresh(doc.id), sales1, "fixed")
    s.commit()
    doc = wf.fresh(doc.id)
    assert (doc.status, doc.approval_level) == (DRAFT, 0)
    # a rejected document may also be submitted again directly
    workflow.submit(s, doc, sales1)
    workflow.reject(s, wf.fresh(doc.id), manager, "again")
    workflow.submit(s, wf.fresh(doc.id), sales1)
    s.commit()
    assert wf.fresh(doc.id).status == SUBMITTED
    assert [r[0] for r in records(s, doc)] == ["submit", "reject", "reopen", "submit", "reject", "submit"]


def test_two_levels_from_threshold(wf, two_levels):
    s, sales1, manager, admin = wf.session, wf.user("sales1"), wf.user("manager"), wf.user("admin")
    assert workflow.approver_roles(s, WfDoc.__doc_type__, Decimal("99999.99")) == ["SalesManager"]
    assert workflow.approver_roles(s, WfDoc.__doc_type__, Decimal("100000")) == ["SalesManager", "Admin"]
    doc = wf.doc(amount=BIG)
    workflow.submit(s, doc, sales1)
    s.commit()
    workflow.approve(s, wf.fresh(doc.id), manager, "level one")
    s.commit()
    doc = wf.fresh(doc.id)
    assert (doc.status, doc.approval_level) == (SUBMITTED, 2), "one approval is not enough above the threshold"
    # the SalesManager already decided level 1; level 2 is the Admin's
    assert not workflow.can_approve(s, doc, manager)
    with pytest.raises(Forbidden):
        workflow.approve(s, doc, manager, "again")
    workflow.approve(s, wf.fresh(doc.id), admin, "level two")
    s.commit()
    doc = wf.fresh(doc.id)
    assert doc.status == APPROVED
    approvals = [r for r in records(s, doc) if r[0] == "approve"]
    assert approvals == [
        ("approve", 1, SUBMITTED, SUBMITTED, manager.id, "level one"),
        ("approve", 2, SUBMITTED, APPROVED, admin.id, "level two"),
    ]


def test_small_amount_keeps_one_level_with_rules_present(wf, two_levels):
    s = wf.session
    doc = wf.doc(amount="500.00")
    workflow.submit(s, doc, wf.user("sales1"))
    workflow.approve(s, wf.fresh(doc.id), wf.user("manager"))
    s.commit()
    assert wf.fresh(doc.id).status == APPROVED


def test_rejection_at_second_level_returns_to_owner(wf, two_levels):
    s, sales1, manager, admin = wf.session, wf.user("sales1"), wf.user("manager"), wf.user("admin")
    doc = wf.doc(amount=BIG)
    workflow.submit(s, doc, sales1)
    workflow.approve(s, wf.fresh(doc.id), manager)
    s.commit()
    workflow.reject(s, wf.fresh(doc.id), admin, "too much")
    s.commit()
    doc = wf.fresh(doc.id)
    assert (doc.status, doc.approval_level) == (REJECTED, 0)
    assert records(s, doc)[-1] == ("reject", 2, SUBMITTED, REJECTED, admin.id, "too much")
    assert workflow.owner_may_edit(doc, sales1)


def test_salesperson_cannot_approve_or_reject(wf):
    s = wf.session
    doc = wf.doc(owner="sales1")
    workflow.submit(s, doc, wf.user("sales1"))
    s.commit()
    other = wf.user("sales2")
    assert not workflow.can_approve(s, doc, other)
    with pytest.raises(Forbidden):
        workflow.approve(s, doc, other)
    with pytest.raises(Forbidden):
        workflow.reject(s, doc, other, "no")
    for name in ("purchaser", "finance", "exec"):
        with pytest.raises(Forbidden):
            workflow.approve(s, wf.fresh(doc.id), wf.user(name))
    doc = wf.fresh(doc.id)
    assert (doc.status, doc.approval_level) == (SUBMITTED, 1)
    assert [r[0] for r in records(s, doc)] == ["submit"]


def test_owner_cannot_approve_own(wf):
    s, manager = wf.session, wf.user("manager")
    doc = wf.doc(owner="manager")
    workflow.submit(s, doc, manager)
    s.commit()
    with pytest.raises(Forbidden):
        workflow.approve(s, doc, manager, "self")
    assert wf.fresh(doc.id).status == SUBMITTED


def test_approving_twice_fails(wf):
    s, manager, admin = wf.session, wf.user("manager"), wf.user("admin")
    doc = wf.doc()
    workflow.submit(s, doc, wf.user("sales1"))
    workflow.approve(s, wf.fresh(doc.id), manager)
    s.commit()
    for user in (manager, admin):
        with pytest.raises(BusinessError):
            workflow.approve(s, wf.fresh(doc.id), user)
    with pytest.raises(BusinessError):
        workflow.reject(s, wf.fresh(doc.id), admin, "late")
    doc = wf.fresh(doc.id)
    assert doc.status == APPROVED
    assert [r[0] for r in records(s, doc)] == ["submit", "approve"]


def test_stale_copy_cannot_approve(wf):
    """The guarded UPDATE: a copy loaded before someone else's decision cannot decide again."""
    from app.extensions import db

    s, manager = wf.session, wf.user("manager")
    doc = wf.doc()
    workflow.submit(s, doc, wf.user("sales1"))
    s.commit()
    stale = wf.fresh(doc.id)
    assert stale.status == SUBMITTED
    other = db.session.get_bind()  # a second, independent connection decides first
    with other.begin() as conn:
        conn.execute(WfDoc.__table__.update().where(WfDoc.id == doc.id).values(status=APPROVED))
    with pytest.raises(BusinessError):
        workflow.approve(s, stale, manager)
    assert wf.fresh(doc.id).status == APPROVED
    assert [r[0] for r in records(s, stale)] == ["submit"]


@pytest.mark.parametrize("approvers", [("manager", "admin"), ("manager", "manager")])
def test_concurrent_approvals_exactly_one_wins(app, wf, approvers):
    from app.extensions import db

    s = wf.session
    doc = wf.doc()
    workflow.submit(s, doc, wf.user("sales1"))
    s.commit()
    doc_id = doc.id
    s.remove()
    barrier = threading.Barrier(2)

    def work(i):
        with app.app_context():
            try:
                session = db.session
                mine = session.get(WfDoc, doc_id)
                user = session.query(User).filter(User.username == approvers[i]).one()
                assert mine.status == SUBMITTED and {r.name for r in user.roles}
                barrier.wait(timeout=30)
                try:
                    workflow.approve(session, mine, user, f"thread {i}")
                    session.commit()
                    return "approved"
                except BusinessError as exc:
                    session.rollback()
                    return exc
            finally:
                db.session.remove()

    results = run_threads(2, work)
    assert results.count("approved") == 1, results
    loser = next(r for r in results if r != "approved")
    assert type(loser) is BusinessError and loser.status_code == 409
    with app.app_context():
        assert db.session.get(WfDoc, doc_id).status == APPROVED
        approvals = (
            db.session.query(ApprovalRecord)
            .filter(
                ApprovalRecord.doc_type == WfDoc.__doc_type__,
                ApprovalRecord.doc_id == doc_id,
                ApprovalRecord.action == "approve",
            )
            .count()
        )
        assert approvals == 1
        db.session.remove()


def test_owner_may_edit_by_status(wf):
    s, sales1, manager, admin = wf.session, wf.user("sales1"), wf.user("manager"), wf.user("admin")
    doc = wf.doc(owner="sales1")
    assert workflow.owner_may_edit(doc, sales1)  # draft
    workflow.submit(s, doc, sales1)
    s.commit()
    doc = wf.fresh(doc.id)
    assert not workflow.owner_may_edit(doc, sales1)  # submitted: only managers
    assert workflow.owner_may_edit(doc, manager) and workflow.owner_may_edit(doc, admin)
    workflow.reject(s, doc, manager, "fix it")
    s.commit()
    doc = wf.fresh(doc.id)
    assert workflow.owner_may_edit(doc, sales1)  # rejected: back with the owner
    workflow.submit(s, doc, sales1)
    workflow.approve(s, wf.fresh(doc.id), manager)
    s.commit()
    doc = wf.fresh(doc.id)
    assert not workflow.owner_may_edit(doc, sales1)  # approved
    assert workflow.owner_may_edit(doc, manager)


@pytest.mark.sqlite_only("owner_may_edit compares the draft's status, owner id and the user's roles in Python")
def test_owner_may_edit_is_only_for_the_owner(wf):
    """DOMAIN.md: the *owner* may edit a draft; another salesperson may not, whatever the status."""
    doc = wf.doc(owner="sales1")
    assert doc.status == DRAFT
    assert not workflow.owner_may_edit(doc, wf.user("sales2"))


# ================================================================== audit


def audit_mark(session) -> int:
    """The newest audit row id now: rows of a row id reused by SQLite after a delete stay out of the test."""
    from sqlalchemy import func

    from app.core.audit import AuditLog

    return session.query(func.coalesce(func.max(AuditLog.id), 0)).scalar()


def audit_rows(session, table: str, row_id, since: int) -> list:
    from app.core.audit import AuditLog

    return (
        session.query(AuditLog)
        .filter(AuditLog.table_name == table, AuditLog.row_id == str(row_id), AuditLog.id > since)
        .order_by(AuditLog.id)
        .all()
    )


def audit_rows_mentioning(session, table: str, text: str, since: int) -> list:
    from app.core.audit import AuditLog

    return (
        session.query(AuditLog)
        .filter(AuditLog.table_name == table, AuditLog.id > since)
        .filter((AuditLog.after.contains(text)) | (AuditLog.before.contains(text)))
        .order_by(AuditLog.id)
        .all()
    )


def test_audit_records_create_update_delete(db, uid):
    from app.base_data.models import Unit

    since = audit_mark(db.session)
    name = uid("U")
    unit = Unit(name=name, sort_order=3)
    db.session.add(unit)
    db.session.commit()
    unit_id = unit.id
    unit.name = name + "x"
    unit.sort_order = 4
    db.session.commit()
    db.session.delete(unit)
    db.session.commit()

    rows = audit_rows_mentioning(db.session, "unit", name, since)
    assert [r.action for r in rows] == ["create", "update", "delete"]
    create, update, delete = rows
    assert create.before is None
    after = json.loads(create.after)
    assert after["name"] == name and after["sort_order"] == 3 and after["id"] == unit_id
    assert json.loads(update.before) == {"name": name, "sort_order": 3}
    assert json.loads(update.after) == {"name": name + "x", "sort_order": 4}
    assert json.loads(delete.before)["name"] == name + "x" and delete.after is None
    assert all(r.username == "system" and r.at is not None for r in rows)
    # every row names the record it is about, the creation included
    assert [r.row_id for r in rows] == [str(unit_id)] * 3


def test_audit_skips_unchanged_update(db, uid):
    from app.base_data.models import Unit

    unit = Unit(name=uid("U"))
    db.session.add(unit)
    db.session.commit()
    since = audit_mark(db.session)
    unit.name = unit.name  # same value: not a change
    db.session.commit()
    assert audit_rows(db.session, "unit", unit.id, since) == []
    unit.sort_order = 7
    db.session.commit()
    assert [r.action for r in audit_rows(db.session, "unit", unit.id, since)] == ["update"]


def test_rolled_back_change_leaves_no_audit(db, uid):
    from app.base_data.models import Unit

    since = audit_mark(db.session)
    name = uid("U")
    unit = Unit(name=name)
    db.session.add(unit)
    db.session.flush()  # the audit row is written by the flush, inside the transaction
    assert len(audit_rows_mentioning(db.session, "unit", name, since)) == 1
    db.session.rollback()
    assert audit_rows_mentioning(db.session, "unit", name, since) == []
    assert db.session.query(Unit).filter(Unit.name == name).count() == 0

    kept = Unit(name=name + "k")
    db.session.add(kept)
    db.session.commit()
    since = audit_mark(db.session)
    kept.name = name + "changed"
    db.session.flush()
    db.session.rollback()
    assert audit_rows(db.session, "unit", kept.id, since) == []
    assert audit_rows_mentioning(db.session, "unit", name + "changed", since) == []
    # and a later committed change is recorded normally (the rolled-back one did not linger in the session)
    kept.sort_order = 9
    db.session.commit()
    rows = audit_rows(db.session, "unit", kept.id, since)
    assert [(r.action, json.loads(r.after)) for r in rows] == [("update", {"sort_order": 9})]


def test_audit_through_api_names_user(app, client, api_token, uid):
    from app.extensions import db

    with app.app_context():
        since = audit_mark(db.session)
        db.session.remove()
    name = uid("U")
    resp = client.post("/api/v1/unit/", json={"name": name}, headers=api_token("admin"))
    assert resp.status_code == 201, resp.data
    resp = client.put(f"/api/v1/unit/{resp.json['id']}", json={"name": name + "x"}, headers=api_token("admin"))
    assert resp.status_code == 200, resp.data
    with app.app_context():
        rows = audit_rows_mentioning(db.session, "unit", name, since)
        assert [(r.action, r.username) for r in rows] == [("create", "admin"), ("update", "admin")]
        admin_id = app.appbuilder.sm.find_user(username="admin").id
        assert all(r.user_id == admin_id and r.ip for r in rows)
        db.session.remove()


# ================================================================== in-use check


@pytest.fixture
def used_unit(app, uid):
    """A unit referenced by one product."""
    from app.base_data.models import Product, Unit
    from app.extensions import db

    with app.app_context():
        unit = Unit(name=uid("U"))
        db.session.add(unit)
        db.session.flush()
        db.session.add(Product(model_no=uid("M"), name="用途测试", unit_id=unit.id))
        db.session.commit()
        unit_id = unit.id
        db.session.remove()
    return unit_id


def test_usages_name_the_table_in_chinese(app, used_unit):
    from app.base_data.models import Unit
    from app.core.usage import ensure_deletable, usages
    from app.extensions import db

    with app.test_request_context():
        unit = db.session.get(Unit, used_unit)
        found = [(str(label), count) for label, count in usages(db.session, unit)]
        assert found == [("产品信息", 1)]
        with pytest.raises(BusinessError) as err:
            ensure_deletable(db.session, unit)
        assert "产品信息" in str(err.value) and unit.name in str(err.value)
        assert err.value.status_code == 409
        db.session.remove()


def test_unused_record_is_deletable(app, uid):
    from app.base_data.models import Unit
    from app.core.usage import ensure_deletable, usages
    from app.extensions import db

    with app.test_request_context():
        unit = Unit(name=uid("U"))
        db.session.add(unit)
        db.session.commit()
        assert usages(db.session, unit) == []
        ensure_deletable(db.session, unit)  # does not raise
        db.session.rollback()
        db.session.remove()


def test_api_delete_of_used_entry_refused_in_chinese(app, client, api_token, used_unit):
    from app.base_data.models import Unit
    from app.extensions import db

    resp = client.delete(f"/api/v1/unit/{used_unit}", headers=api_token("admin"))
    assert resp.status_code == 409
    assert "产品信息" in resp.json["message"]
    with app.app_context():
        assert db.session.get(Unit, used_unit) is not None
        db.session.remove()


def test_page_delete_of_used_entry_refused_in_chinese(app, as_user, used_unit):
    from app.base_data.models import Unit
    from app.extensions import db

    c = as_user("admin")
    resp = c.post(f"/unitview/delete/{used_unit}", follow_redirects=True)
    assert resp.status_code == 200
    assert "产品信息" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Unit, used_unit) is not None
        db.session.remove()


def test_list_count_stops_at_the_limit_and_the_api_count_stays_exact(app, db, client, as_user, api_token, uid):
    """Past LIST_COUNT_LIMIT a list page shows "N+" (and still pages); the API's count is always exact."""
    from app.base_data.models import Unit

    marker = uid("CNT")
    db.session.add_all([Unit(name=f"{marker}-{i}") for i in range(3)])
    db.session.commit()
    admin = as_user("admin")
    token = api_token("admin")
    old = app.config["LIST_COUNT_LIMIT"]

    def shown() -> str:
        page = admin.get(f"/unitview/list/?_flt_0_name={marker}&psize_UnitView=2")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert text.count(f"{marker}-") == 2  # one page of two
        return re.search(r"</strong>\s*([\d,+]+)\s*</div>", text).group(1)

    try:
        for limit, expected in ((2, "2+"), (3, "3"), (0, "3")):
            app.config["LIST_COUNT_LIMIT"] = limit
            assert shown() == expected
            answer = client.get(f"/api/v1/unit/?q=(filters:!((col:name,opr:sw,value:'{marker}')))", headers=token)
            assert answer.status_code == 200 and answer.json["count"] == 3
    finally:
        app.config["LIST_COUNT_LIMIT"] = old


def test_a_database_refusal_on_a_page_is_a_chinese_message_and_saves_nothing(app, db, as_user, uid):
    """A number past its column (Numeric(14,2)): PostgreSQL and MariaDB refuse the write. The add page flashed the
    driver's text with the SQL; now it says it in Chinese. The edit page keeps FAB's own "数据库错误". Nothing is
    saved either way."""
    import re

    from app.base_data.models import Product
    from app.crm.models import EndCustomer

    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite stores any number in a NUMERIC column: nothing is refused")
    client = as_user("admin")
    name = uid("DBR")
    expected = "有数值超出字段的范围（数字过大或文字过长）。"

    def flashed(resp) -> str:
        page = client.get(resp.headers["Location"]) if resp.status_code == 302 else resp
        return " ".join(re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', page.get_data(as_text=True), re.S))

    resp = client.post("/endcustomerview/add", data={"name": name, "credit_limit": "1000000000000000", "stars": "3"})
    text = flashed(resp)
    assert expected in text and "INSERT" not in text and "psycopg" not in text and "pymysql" not in text, text
    db.session.rollback()
    assert db.session.query(EndCustomer).filter_by(name=name).count() == 0

    saved = EndCustomer(name=name, credit_limit=Decimal("5.00"), stars=3, in_pool=False)
    db.session.add(saved)
    db.session.commit()
    resp = client.post(
        f"/endcustomerview/edit/{saved.id}", data={"name": name, "credit_limit": "1000000000000000", "stars": "3"}
    )
    text = flashed(resp)  # the customer's own save logic queries first: the refusal comes there
    assert expected in text and "UPDATE" not in text, text
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(EndCustomer, saved.id).credit_limit == Decimal("5.00")

    product = Product(model_no=uid("DBR"), name="原价", sale_price=Decimal("5.00"), purchase_price=Decimal("1.00"))
    db.session.add(product)
    db.session.commit()
    form = {
        "model_no": product.model_no,
        "name": "原价",
        "sale_price": "1000000000000000",
        "purchase_price": "1",
        "floor_price": "0",
    }
    resp = client.post(f"/productview/edit/{product.id}", data=form)
    text = flashed(resp)  # FAB's edit page shows its own message for any failed write
    assert "数据库错误" in text and "UPDATE" not in text, text
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Product, product.id).sale_price == Decimal("5.00")
