"""Audit trail: who changed what, when, from where, with the values before and after.

Models opt in with `__audit__ = True`. A session hook records every insert, update and delete of those models in
the same transaction as the change itself, so the trail cannot miss a committed change or keep a rolled-back one.
"""

import datetime as dt
import json
from decimal import Decimal

from flask import has_request_context, request
from sqlalchemy import Column, DateTime, Index, Integer, String, Text, event, inspect
from sqlalchemy.orm import Session

from app.core.models import Model, utcnow

SKIP_COLUMNS = {"created_at", "updated_at", "password", "changed_on", "created_on"}


class AuditLog(Model):
    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, default=utcnow, nullable=False, index=True)
    user_id = Column(Integer, nullable=True)
    username = Column(String(128))
    ip = Column(String(64))
    action = Column(String(16), nullable=False)  # create / update / delete / or a workflow action
    table_name = Column(String(64), nullable=False)
    row_id = Column(String(64))
    before = Column(Text)
    after = Column(Text)

    __table_args__ = (Index("ix_audit_log_row", "table_name", "row_id"),)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _columns(obj):
    return [c for c in inspect(obj).mapper.column_attrs if c.key not in SKIP_COLUMNS]


def _snapshot(obj) -> dict:
    return {c.key: _jsonable(getattr(obj, c.key)) for c in _columns(obj)}


def _actor() -> tuple[int | None, str, str | None]:
    if not has_request_context():
        return None, "system", None
    from app.core.scope import _user

    user = _user()
    ip = request.headers.get("X-Forwarded-For", request.remote_addr or "").split(",")[0].strip() or None
    if user is None:
        return None, "anonymous", ip
    return user.id, user.username, ip


def _pk(obj) -> str:
    # identity is still None in after_flush for new rows; the mapper reads the freshly assigned key
    ident = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join(str(v) for v in ident if v is not None)


def record(session, action: str, obj, before: dict | None = None, after: dict | None = None) -> None:
    """Record a business action (e.g. a workflow transition) that is not a plain column change."""
    uid, uname, ip = _actor()
    session.add(
        AuditLog(
            user_id=uid,
            username=uname,
            ip=ip,
            action=action,
            table_name=obj.__tablename__,
            row_id=_pk(obj),
            before=json.dumps(before, ensure_ascii=False) if before else None,
            after=json.dumps(after, ensure_ascii=False) if after else None,
        )
    )


def _before_flush(session: Session, flush_context, instances) -> None:
    pending = session.info.setdefault("audit_pending", [])
    for obj in session.new:
        if getattr(obj, "__audit__", False):
            pending.append(("create", obj, None))
    for obj in session.dirty:
        if not getattr(obj, "__audit__", False) or not session.is_modified(obj, include_collections=False):
            continue
        state = inspect(obj)
        before, after = {}, {}
        for col in _columns(obj):
            hist = state.attrs[col.key].history
            if hist.has_changes() and hist.deleted:
                before[col.key] = _jsonable(hist.deleted[0])
                after[col.key] = _jsonable(hist.added[0] if hist.added else None)
        if before:
            pending.append(("update", obj, (before, after)))
    for obj in session.deleted:
        if getattr(obj, "__audit__", False):
            pending.append(("delete", obj, (_snapshot(obj), None)))


def _after_flush(session: Session, flush_context) -> None:
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    uid, uname, ip = _actor()
    rows = []
    for action, obj, values in pending:
        if action == "create":
            before, after = None, _snapshot(obj)
        else:
            before, after = values
        rows.append(
            {
                "at": utcnow(),
                "user_id": uid,
                "username": uname,
                "ip": ip,
                "action": action,
                "table_name": obj.__tablename__,
                "row_id": _pk(obj),
                "before": json.dumps(before, ensure_ascii=False) if before else None,
                "after": json.dumps(after, ensure_ascii=False) if after else None,
            }
        )
    session.connection().execute(AuditLog.__table__.insert(), rows)


def record_bulk(session: Session, table_name: str, count: int, source: str) -> None:
    """One entry for rows written in bulk (an Excel import): who, when, how many, from what."""
    uid, uname, ip = _actor()
    session.connection().execute(
        AuditLog.__table__.insert(),
        [
            {
                "at": utcnow(),
                "user_id": uid,
                "username": uname,
                "ip": ip,
                "action": "import",
                "table_name": table_name,
                "row_id": None,
                "before": None,
                "after": json.dumps({"rows": count, "source": source}, ensure_ascii=False),
            }
        ],
    )


def _after_rollback(session: Session) -> None:
    session.info.pop("audit_pending", None)


def install(session_class) -> None:
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "after_soft_rollback", lambda s, prev: _after_rollback(s))
