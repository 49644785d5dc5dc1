"""After-sales rules: what a service request needs, its due time, and its handling
pending → processing → resolved → closed (and back by reopening). Pages, the REST API, the alert centre and the demo
data all call these functions.

Transitions use a guarded UPDATE (the status must still be the one the actor saw), so two people acting on the same
request at once cannot both succeed; each one is written to the audit trail with its comment, which is the request's
processing history.
"""

from __future__ import annotations

import datetime as dt
import json

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _
from sqlalchemy import inspect, or_, update

from app.aftersales.models import (
    ACTIVE,
    CLOSED,
    IN_PROGRESS,
    KINDS,
    NORMAL,
    OPEN,
    PRIORITIES,
    RESOLVED,
    ServiceRequest,
)
from app.core import audit
from app.core.audit import AuditLog
from app.core.errors import BusinessError
from app.core.formatting import format_date
from app.core.models import utcnow
from app.core.scope import ensure_visible
from app.core.validation import strip_text

# hours from receipt to the due time, per priority; config SERVICE_DUE_HOURS overrides any of them
DEFAULT_DUE_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}
# roles that may handle a request (those with write access to it)
HANDLER_ROLES = ("Admin", "SalesManager", "Salesperson")
TRANSITIONS = ("start", "resolve", "close", "reopen")
HISTORY_LABELS = {
    "create": _("Request received"),
    "start": _("Start Handling"),
    "resolve": _("Resolve"),
    "close": _("Close"),
    "reopen": _("Reopen"),
}


# ------------------------------------------------------------------ due time


def due_hours(priority: str) -> float:
    configured = current_app.config.get("SERVICE_DUE_HOURS") if has_app_context() else None
    hours = {**DEFAULT_DUE_HOURS, **(configured or {})}
    return float(hours.get(priority, hours[NORMAL]))


def default_due_at(priority: str, received_at: dt.datetime) -> dt.datetime:
    """The due time a priority gives, to the minute."""
    return (received_at + dt.timedelta(hours=due_hours(priority))).replace(second=0, microsecond=0)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Stored times are naive UTC; a time given with its offset (API) is converted, a naive one is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


# ------------------------------------------------------------------ saving


def _changed(item, *attrs) -> bool:
    state = inspect(item)
    if not state.persistent:
        return True
    return any(state.attrs[attr].history.has_changes() for attr in attrs)


def validate_request(item: ServiceRequest) -> None:
    """The form's and the API's rule for a new or edited request; the owner follows the customer."""
    strip_text(item, "content")
    if not item.content:
        raise BusinessError(_("Describe the request."), 400, field=_("Content"))
    if item.kind not in KINDS:
        raise BusinessError(_("Choose a service type."), 400, field=_("Service Type"))
    item.priority = item.priority or NORMAL
    if item.priority not in PRIORITIES:
        raise BusinessError(_("Choose a priority."), 400, field=_("Priority"))
    if inspect(item).persistent and item.status in (RESOLVED, CLOSED):
        raise BusinessError(_("A resolved or closed service request cannot be changed; reopen it first."), 409)
    customer = item.end_customer
    if customer is None:
        raise BusinessError(_("Choose a customer."), 400, field=_("End Customer"))
    if _changed(item, "end_customer", "end_customer_id"):
        ensure_visible(customer)
    item.end_customer_id = customer.id
    order = item.sales_order
    if order is not None:
        if _changed(item, "sales_order", "sales_order_id"):
            ensure_visible(order)
        if order.end_customer_id != customer.id:
            raise BusinessError(
                _("Sales order %(no)s is not %(c)s's.", no=order.number, c=customer.name), 400, field=_("Sales Order")
            )
    item.sales_order_id = order.id if order is not None else None
    assignee = item.assignee
    if assignee is not None and _changed(item, "assignee", "assignee_id"):
        if not assignee.active or not {r.name for r in assignee.roles} & set(HANDLER_ROLES):
            raise BusinessError(
                _("%(name)s cannot handle service requests.", name=assignee.get_full_name()), 400, field=_("Assignee")
            )
    if item.satisfaction is not None:
        raise BusinessError(_("The satisfaction score is given when the request is closed."), 400)
    _set_due_at(item)
    item.owner = customer.owner
    item.owner_id = customer.owner_id


def _follows_priority(item: ServiceRequest) -> bool:
    """An edit changed the priority, and the due time is still the one the old priority gave (not set by hand)."""
    state = inspect(item)
    if not state.persistent or _changed(item, "due_at"):
        return False
    old = state.attrs.priority.history.deleted
    return bool(old) and item.due_at == default_due_at(old[0], item.created_at)


def _set_due_at(item: ServiceRequest) -> None:
    """Empty: from the priority. A priority changed later moves a due time that came from the old priority."""
    if item.created_at is None:
        # whole seconds, so that the due time computed from it is the same after any database stored it
        item.created_at = utcnow().replace(microsecond=0)
    received = item.created_at
    follows_priority = _follows_priority(item)
    item.due_at = as_utc(item.due_at)
    if item.due_at is None or follows_priority:
        item.due_at = default_due_at(item.priority, received)
    if item.due_at < received.replace(second=0, microsecond=0):
        raise BusinessError(_("The due time cannot be before the request was received."), 400, field=_("Due At"))


def ensure_editable(item: ServiceRequest) -> None:
    if item.status in (RESOLVED, CLOSED):
        raise BusinessError(_("A resolved or closed service request cannot be changed; reopen it first."), 409)


def ensure_deletable(item: ServiceRequest) -> None:
    """A request is history once someone took it up; only a pending one nobody started may be deleted."""
    if item.status != OPEN or item.started_at is not None:
        raise BusinessError(_("Only a pending service request that nobody has started can be deleted."), 409)


# ------------------------------------------------------------------ handling


def _move(session, item: ServiceRequest, action: str, allowed: tuple, values: dict, refusal, comment=None) -> None:
    """Move the request on with a guarded UPDATE and record the step (who, when, comment) in the audit trail."""
    if item.status not in allowed:
        raise BusinessError(refusal(item), 409)
    before = {key: audit._jsonable(getattr(item, key)) for key in values if getattr(item, key) is not None}
    before["status"] = item.status
    result = session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == item.id, ServiceRequest.status == item.status)
        .values(**values)
        .execution_options(synchronize_session=False, audit=False)  # the step is recorded below, with its comment
    )
    session.refresh(item)
    if result.rowcount != 1:
        raise BusinessError(refusal(item), 409)
    after = {"status": item.status, **({"comment": comment} if comment else {})}
    audit.record(session, action, item, before, after)


def _text(value) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _not_startable(item):
    return _("Only a pending service request can be started; %(no)s is %(s)s.", no=item.number, s=item.status_label)


def start(session, item: ServiceRequest, user, comment: str | None = None) -> None:
    """开始处理: the assignee (the user, if nobody was assigned) takes the request up."""
    now = utcnow()
    values = {"status": IN_PROGRESS, "started_at": item.started_at or now}
    if item.assignee_id is None and user is not None:
        values["assignee_id"] = user.id
    _move(session, item, "start", (OPEN,), values, _not_startable, _text(comment))


def resolve(session, item: ServiceRequest, user, resolution: str | None) -> None:
    """已解决: what was done is required."""
    resolution = _text(resolution)
    if not resolution:
        raise BusinessError(_("Describe how the request was resolved."), 400, field=_("Resolution"))
    now = utcnow()
    values = {"status": RESOLVED, "resolution": resolution, "resolved_at": now, "started_at": item.started_at or now}
    if item.assignee_id is None and user is not None:
        values["assignee_id"] = user.id

    def refusal(it):
        return _(
            "Only a pending or processing service request can be resolved; %(no)s is %(s)s.",
            no=it.number,
            s=it.status_label,
        )

    _move(session, item, "resolve", ACTIVE, values, refusal, resolution)


def parse_satisfaction(raw) -> int | None:
    """A score 1–5 from a form or JSON (a number or its text); empty means not rated."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.strip().isdecimal():
        value = int(raw.strip())
    if value is None or not 1 <= value <= 5:
        raise BusinessError(
            _("The satisfaction score must be a whole number from 1 to 5."), 400, field=_("Satisfaction")
        )
    return value


def close(session, item: ServiceRequest, user, satisfaction=None, comment: str | None = None) -> None:
    """已关闭: the customer confirmed; their satisfaction score (1–5) may be recorded."""
    score = parse_satisfaction(satisfaction)

    def refusal(it):
        return _("Only a resolved service request can be closed; %(no)s is %(s)s.", no=it.number, s=it.status_label)

    values = {"status": CLOSED, "closed_at": utcnow(), "satisfaction": score}
    _move(session, item, "close", (RESOLVED,), values, refusal, _text(comment))


def reopen(session, item: ServiceRequest, user, reason: str | None) -> None:
    """The problem came back: pending again, with a new due time from now; the reason is required."""
    reason = _text(reason)
    if not reason:
        raise BusinessError(_("Say why the request is reopened."), 400, field=_("Reason"))

    def refusal(it):
        return _(
            "Only a resolved or closed service request can be reopened; %(no)s is %(s)s.",
            no=it.number,
            s=it.status_label,
        )

    values = {
        "status": OPEN,
        "resolution": None,
        "resolved_at": None,
        "closed_at": None,
        "satisfaction": None,
        "due_at": default_due_at(item.priority, utcnow()),
    }
    _move(session, item, "reopen", (RESOLVED, CLOSED), values, refusal, reason)


def history(session, item: ServiceRequest) -> list[list]:
    """The processing history shown on the request: received, then each step with who did it and the comment."""
    rows = (
        session.query(AuditLog)
        .filter(
            AuditLog.table_name == ServiceRequest.__tablename__,
            AuditLog.row_id == str(item.id),
            AuditLog.action.in_(("create", *TRANSITIONS)),
        )
        .order_by(AuditLog.id)
        .all()
    )
    out = []
    for row in rows:
        after = json.loads(row.after) if row.after and row.action != "create" else {}
        before = json.loads(row.before) if row.before else {}
        comment = after.get("comment", "")
        if row.action == "reopen" and before.get("resolution"):
            previous = _("Previous resolution")
            comment = f"{comment}（{previous}：{before['resolution']}）"
        out.append([format_date(row.at), str(HISTORY_LABELS.get(row.action, row.action)), row.username or "", comment])
    return out


# ------------------------------------------------------------------ alert centre


def overdue_requests(session, now: dt.datetime) -> list[ServiceRequest]:
    """Pending or processing requests whose due time has passed."""
    return (
        session.query(ServiceRequest)
        .filter(ServiceRequest.status.in_(ACTIVE), ServiceRequest.due_at < now)
        .order_by(ServiceRequest.id)
        .all()
    )


# ------------------------------------------------------------------ the customer's salesperson


def follow_customer_owner(session, flush_context, instances) -> None:
    """A customer transferred, claimed or released takes its requests not yet closed with it (owner = the
    customer's salesperson); closed ones stay with whoever handled the customer then."""
    from app.crm.models import EndCustomer

    for customer in [obj for obj in session.dirty if isinstance(obj, EndCustomer)]:
        state = inspect(customer)
        if state.attrs.owner.history.has_changes():
            owner_id = customer.owner.id if customer.owner is not None else None
        elif state.attrs.owner_id.history.has_changes():
            owner_id = customer.owner_id
        else:
            continue
        requests = session.query(ServiceRequest).filter(
            ServiceRequest.end_customer_id == customer.id,
            ServiceRequest.status != CLOSED,
            ServiceRequest.owner_id.isnot(None)
            if owner_id is None
            else or_(ServiceRequest.owner_id.is_(None), ServiceRequest.owner_id != owner_id),
        )
        for request in requests:
            request.owner_id = owner_id


_installed = False


def install_owner_sync() -> None:
    global _installed
    if not _installed:
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        event.listen(Session, "before_flush", follow_customer_owner)
        _installed = True
