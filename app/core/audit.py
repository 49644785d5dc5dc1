"""Audit trail (操作日志): who changed what, when, from where, with the values before and after.

Models opt in with `__audit__ = True` (FAB's user table, whose source is not ours, through `audited()` below). Two
hooks record every change of those models in the same transaction as the change itself, so the trail cannot miss a
committed change or keep a rolled-back one:

- the session's unit of work: add / edit / delete of objects, many-to-many collections (a user's roles) included;
- UPDATE/DELETE statements on a model (`session.execute(update(Model)...)`, the guarded updates of the services):
  the rows they match are read before (locked, as the UPDATE would) and after, and each changed row gets an entry.
  A caller that records the step itself says `execution_options(audit=False)`; statements on the bare table
  (`update(Model.__table__)`) are for derived columns such as the ABC class and are not edits of the record.

Workflow transitions and other business actions call `record()` with their own action name. The log itself is
append-only: changing or deleting an entry through the ORM or an UPDATE/DELETE statement (ORM or Core) raises
`AuditLogReadOnly`; the page and the API offer no way to do either.
"""

import datetime as dt
import json
from decimal import Decimal

from flask import has_request_context, request
from sqlalchemy import Column, DateTime, Index, Integer, String, Text, and_, event, inspect, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.sql.dml import Delete, Update

from app.core.models import Model, utcnow

# bookkeeping every row has; the entry's own time and user say the same
SKIP_COLUMNS = {"created_at", "updated_at", "changed_on", "created_on"}
# recorded as changed, never with their value (password hashes)
SECRET_COLUMNS = {"password"}
HIDDEN, SET, CHANGED = "[hidden]", "[set]", "[changed]"
CHUNK = 500  # primary keys per IN (…) when rows matched by a statement are read back


class AuditLogReadOnly(PermissionError):
    """An attempt to change or delete an audit entry."""


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


def audited(model, skip: tuple = ()) -> None:
    """Audit a model whose class we do not write (FAB's); `skip` names columns whose changes are not worth an entry."""
    model.__audit__ = True
    model.__audit_skip__ = frozenset(skip)


def is_audited(model) -> bool:
    return bool(getattr(model, "__audit__", False))


def _register_fab_models() -> None:
    from flask_appbuilder.security.sqla.models import User

    # login bookkeeping (FAB writes it on every login; failed logins have entries of their own, app/core/hardening)
    # and FAB's created_by/changed_by, which the entry's user already says
    audited(User, skip=("last_login", "login_count", "fail_login_count", "created_by_fk", "changed_by_fk"))


_register_fab_models()


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _skipped(model) -> set:
    return SKIP_COLUMNS | set(getattr(model, "__audit_skip__", ()))


def _column_keys(mapper) -> list[str]:
    """Attributes of the table's own columns (not computed column properties), minus the skipped ones."""
    skip = _skipped(mapper.class_)
    return [
        prop.key
        for prop in mapper.column_attrs
        if prop.key not in skip and isinstance(prop.columns[0], Column) and prop.columns[0].table is mapper.local_table
    ]


def _columns(obj):
    mapper = inspect(obj).mapper
    keys = set(_column_keys(mapper))
    return [c for c in mapper.column_attrs if c.key in keys]


def _stored(prop, value):
    """A value as its column keeps it: 80 typed into a money field is recorded as the 80.00 the row holds."""
    scale = getattr(prop.columns[0].type, "scale", None)
    if scale is not None and isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        try:
            return Decimal(str(value)).quantize(Decimal(1).scaleb(-scale))
        except ArithmeticError:
            return value
    return value


def _value(key: str, value, masked: str = HIDDEN):
    if key in SECRET_COLUMNS:
        return masked if value is not None else None
    return _jsonable(value)


def _collections(mapper) -> list:
    """Many-to-many relationships (a user's roles, a promotion's products): part of the record's content."""
    return [rel for rel in mapper.relationships if rel.secondary is not None and not rel.viewonly]


def _labels(objects) -> list[str]:
    return sorted(str(o) for o in objects)


def _snapshot(obj) -> dict:
    return {c.key: _value(c.key, _stored(c, getattr(obj, c.key)), SET) for c in _columns(obj)}


def _collection_snapshot(obj) -> dict:
    return {rel.key: _labels(getattr(obj, rel.key)) for rel in _collections(inspect(obj).mapper)}


def _actor() -> tuple[int | None, str, str | None]:
    """(user id, user name, IP). The IP is the one Werkzeug gives: the peer, or the client when the app runs behind
    a proxy through ProxyFix. A client's own X-Forwarded-For is not trusted."""
    if not has_request_context():
        return None, "system", None
    from app.core.scope import _user

    user = _user()
    ip = request.remote_addr or None
    if user is None:
        return None, "anonymous", ip
    return user.id, user.username, ip


def _pk(obj) -> str:
    # identity is still None in after_flush for new rows; the mapper reads the freshly assigned key
    ident = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join(str(v) for v in ident if v is not None)


def _dumps(values: dict | None) -> str | None:
    return json.dumps(values, ensure_ascii=False) if values else None


def _write(session: Session, entries: list) -> None:
    """Insert entries on the session's connection, in its transaction."""
    if entries:
        _insert(session.connection(), entries)


def _insert(conn, entries: list[tuple[str, str, str | None, dict | None, dict | None]]) -> None:
    """Insert (action, table, row id, before, after) entries, attributed to the request's user."""
    if not entries:
        return
    uid, uname, ip = _actor()
    now = utcnow()
    conn.execute(
        AuditLog.__table__.insert(),
        [
            {
                "at": now,
                "user_id": uid,
                "username": uname,
                "ip": ip,
                "action": action,
                "table_name": table,
                "row_id": row_id,
                "before": _dumps(before),
                "after": _dumps(after),
            }
            for action, table, row_id, before, after in entries
        ],
    )


def record(session, action: str, obj, before: dict | None = None, after: dict | None = None) -> None:
    """Record a business action (e.g. a workflow transition) that is not a plain column change."""
    record_event(session, action, obj.__tablename__, _pk(obj), before, after)


def record_event(
    session, action: str, table_name: str, row_id: str | None, before: dict | None = None, after: dict | None = None
) -> None:
    """Record an action on something that is not a mapped row (a backup file made or downloaded)."""
    uid, uname, ip = _actor()
    session.add(
        AuditLog(
            user_id=uid,
            username=uname,
            ip=ip,
            action=action,
            table_name=table_name,
            row_id=row_id,
            before=_dumps(before),
            after=_dumps(after),
        )
    )


def record_bulk(session: Session, table_name: str, count: int, source: str) -> None:
    """One entry for rows written in bulk (an Excel import): who, when, how many, from what."""
    _write(session, [("import", table_name, None, None, {"rows": count, "source": source})])


# ------------------------------------------------------------------ the unit of work


def _changes(session: Session, obj) -> tuple[dict, dict]:
    """Changed columns and collections of a dirty object: (before, after)."""
    state = inspect(obj)
    old_values, new_values, unknown = {}, {}, []
    for col in _columns(obj):
        hist = state.attrs[col.key].history
        if not hist.has_changes():
            continue
        new_values[col.key] = _stored(col, hist.added[0]) if hist.added else None
        if hist.deleted:
            old_values[col.key] = _stored(col, hist.deleted[0])
        elif state.committed_state.get(col.key, NO_VALUE) is None:  # loaded, and it was empty
            old_values[col.key] = None
        else:  # set without the old value loaded (a commit expired it): read it from the row
            unknown.append(col.key)
    if unknown and state.persistent:
        mapper = state.mapper
        ident = mapper.primary_key_from_instance(obj)
        row = session.execute(
            select(*[getattr(mapper.class_, k) for k in unknown]).where(
                *[c == v for c, v in zip(mapper.primary_key, ident)]
            )
        ).first()
        for key, old in zip(unknown, row or [None] * len(unknown)):
            if old == new_values[key] and key not in SECRET_COLUMNS:
                del new_values[key]  # set to what it already was
            else:
                old_values[key] = old
    before = {k: _value(k, old_values.get(k)) for k in new_values}
    after = {k: _value(k, v, CHANGED) for k, v in new_values.items()}
    for rel in _collections(state.mapper):
        if not state.attrs[rel.key].history.has_changes():
            continue
        hist = state.attrs[rel.key].load_history()
        old = _labels([*hist.unchanged, *hist.deleted])
        new = _labels([*hist.unchanged, *hist.added])
        if old != new:
            before[rel.key], after[rel.key] = old, new
    return before, after


def _before_flush(session: Session, flush_context, instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditLog) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogReadOnly("audit log entries cannot be changed or deleted")
    pending = session.info.setdefault("audit_pending", [])
    for obj in session.new:
        if is_audited(type(obj)):
            pending.append(("create", obj, _collection_snapshot(obj)))
    for obj in session.dirty:
        if is_audited(type(obj)):
            before, after = _changes(session, obj)
            if before or after:
                pending.append(("update", obj, (before, after)))
    for obj in session.deleted:
        if is_audited(type(obj)):
            pending.append(("delete", obj, ({**_snapshot(obj), **_collection_snapshot(obj)}, None)))


def _after_flush(session: Session, flush_context) -> None:
    pending = session.info.pop("audit_pending", [])
    entries = []
    for action, obj, values in pending:
        if action == "create":
            before, after = None, {**_snapshot(obj), **values}
        else:
            before, after = values
        entries.append((action, obj.__tablename__, _pk(obj), before, after))
    _write(session, entries)


def _after_rollback(session: Session) -> None:
    session.info.pop("audit_pending", None)


# ------------------------------------------------------------------ UPDATE / DELETE statements
# Watched on the connection (before_execute / after_execute), not with the session's do_orm_execute: any
# do_orm_execute listener breaks yield_per exports with selectin loading in SQLAlchemy 2.0.44 (sqlalchemy#13301).


def _target_model(statement):
    """The mapped class an UPDATE/DELETE is written against; None for a statement on the bare table."""
    try:
        entity = statement.entity_description.get("entity")
    except KeyError:  # a table statement whose WHERE names model attributes: SQLAlchemy finds no entity
        return None
    return entity if isinstance(entity, type) else None


def _matched_rows(conn, model, criteria, params: dict, lock: bool) -> dict[tuple, dict]:
    """{primary key: {column key: value}} of the rows `criteria` selects (with the statement's own parameters)."""
    mapper = inspect(model)
    keys = _column_keys(mapper)
    table = mapper.local_table
    pk_cols = list(mapper.primary_key)
    query = select(*pk_cols, *[mapper.get_property(k).columns[0] for k in keys])
    if criteria is not None:
        query = query.where(criteria)
    if lock:  # read what the UPDATE will change, under the lock it takes anyway (OF: that table, where supported)
        query = query.with_for_update(of=table)
    rows = {}
    for row in conn.execute(query, params) if params else conn.execute(query):
        rows[tuple(row[: len(pk_cols)])] = dict(zip(keys, row[len(pk_cols) :]))
    return rows


def _by_keys(model, idents) -> list:
    pk = inspect(model).primary_key
    if len(pk) == 1:
        return [pk[0].in_([i[0] for i in idents[n : n + CHUNK]]) for n in range(0, len(idents), CHUNK)]
    return [
        or_(*[and_(*[c == v for c, v in zip(pk, ident)]) for ident in idents[n : n + CHUNK]])
        for n in range(0, len(idents), CHUNK)
    ]


def _before_execute(conn, clauseelement, multiparams, params, execution_options) -> None:
    if not isinstance(clauseelement, (Update, Delete)):
        return
    if getattr(clauseelement.table, "name", None) == AuditLog.__tablename__:
        raise AuditLogReadOnly("audit log entries cannot be changed or deleted")
    model = _target_model(clauseelement)
    if model is None or not is_audited(model) or execution_options.get("audit") is False:
        return  # plain-table statements (derived columns such as the ABC class) are not edits of a record
    before = {}
    for each in multiparams or [params]:
        before.update(_matched_rows(conn, model, clauseelement.whereclause, each, lock=True))
    conn.info["audit_statement"] = (clauseelement, model, before)


def _after_execute(conn, clauseelement, multiparams, params, execution_options, result) -> None:
    pending = conn.info.pop("audit_statement", None)
    if pending is None or pending[0] is not clauseelement or not pending[2]:
        return
    _statement, model, before = pending
    after = {}
    if isinstance(clauseelement, Update):
        for clause in _by_keys(model, list(before)):
            after.update(_matched_rows(conn, model, clause, {}, lock=False))
    table = model.__tablename__
    entries = []
    for ident, old in before.items():
        row_id = ",".join(str(v) for v in ident)
        new = after.get(ident)
        if new is None:
            if isinstance(clauseelement, Delete):
                entries.append(("delete", table, row_id, {k: _value(k, v) for k, v in old.items()}, None))
            continue
        changed = [k for k in old if old[k] != new[k]]
        if changed:
            before_values = {k: _value(k, old[k]) for k in changed}
            entries.append(("update", table, row_id, before_values, {k: _value(k, new[k], CHANGED) for k in changed}))
    _insert(conn, entries)


def install(session_class) -> None:
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "after_soft_rollback", lambda s, prev: _after_rollback(s))
    event.listen(Engine, "before_execute", _before_execute)
    event.listen(Engine, "after_execute", _after_execute)
