"""预警中心: alerts raised from the data (stock below safety, customers over credit, receivables overdue by aging
bucket, follow-ups overdue, approvals waiting too long), handled by a person, and escalated when nobody handles
them in time: Salesperson → SalesManager → Admin.

`flask alerts` raises, clears and escalates; it is safe to run from cron any number of times (an open alert is
unique per condition, so a second run adds nothing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text, update
from sqlalchemy.orm import relationship

from app.core import workflow
from app.core.errors import BusinessError
from app.core.formatting import format_money, format_qty, to_local
from app.core.models import Model, utcnow

OPEN, HANDLED, CLEARED = "open", "handled", "cleared"
ALERT_STATUS = {OPEN: _("Open"), HANDLED: _("Handled"), CLEARED: _("Cleared")}
LEVELS = ("Salesperson", "SalesManager", "Admin")
LEVEL_LABELS = {"Salesperson": _("Salesperson"), "SalesManager": _("Sales Manager"), "Admin": _("Administrator")}
KINDS = {
    "stock_low": _("Stock below safety minimum"),
    "credit": _("Customer over credit limit"),
    "overdue": _("Receivable overdue"),
    "followup": _("Follow-up overdue"),
    "approval": _("Approval waiting"),
    "service": _("Service request overdue"),
    "churn_risk": _("Key customer at risk of churning"),
}


class Alert(Model):
    __tablename__ = "alert"
    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False, index=True)
    fingerprint = Column(String(96), nullable=False, index=True)  # the condition; one open alert per condition
    title = Column(String(255), nullable=False)
    level = Column(String(16), nullable=False, default="Salesperson", index=True)  # the role that must act now
    owner_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)  # the salesperson concerned
    owner = relationship(User, foreign_keys=[owner_id])
    status = Column(String(8), nullable=False, default=OPEN, index=True)
    active = Column(Boolean, nullable=False, default=True, index=True)  # the condition still holds
    raised_at = Column(DateTime, nullable=False, default=utcnow)
    deadline_at = Column(DateTime, nullable=False)
    escalations = Column(Integer, nullable=False, default=0)
    handled_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    handled_by = relationship(User, foreign_keys=[handled_by_id])
    handled_at = Column(DateTime)
    note = Column(Text)
    url = Column(String(255))

    @property
    def kind_label(self):
        return KINDS.get(self.kind, self.kind)

    @property
    def level_label(self):
        return LEVEL_LABELS.get(self.level, self.level)

    @property
    def status_label(self):
        return ALERT_STATUS.get(self.status, self.status)


def setting(key: str, default):
    return current_app.config.get(key, default)


def _deadline(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(hours=float(setting("ALERT_ESCALATE_HOURS", 48)))


# ------------------------------------------------------------------ conditions


def conditions(session, today: dt.date, now: dt.datetime) -> list[dict]:
    """Every alert condition true now: {kind, fingerprint, title, owner_id, level, url}."""
    from app.crm.models import Followup
    from app.inventory.services import stock_alerts
    from app.sales.models import SalesOrder
    from app.sales.services import credit_position

    found = []
    for row in stock_alerts(session):
        if row["kind"] != "low":
            continue
        p = row["product"]
        found.append(
            {
                "kind": "stock_low",
                "fingerprint": f"stock_low:{p.id}",
                "title": str(
                    _(
                        "%(p)s: on hand %(q)s, safety minimum %(m)s",
                        p=str(p),
                        q=format_qty(row["on_hand"]),
                        m=format_qty(row["limit"]),
                    )
                ),
                "owner_id": None,
                "level": "SalesManager",
                "url": "/stockmoveview/alerts/",
            }
        )
    outstanding = SalesOrder.outstanding_amount
    owed = (
        session.query(SalesOrder)
        .filter(SalesOrder.status == workflow.APPROVED, outstanding > Decimal("0.005"))
        .order_by(SalesOrder.id)
        .all()
    )
    seen_customers = set()
    for order in owed:
        customer = order.end_customer
        if customer.id not in seen_customers and customer.credit_limit and customer.credit_limit > 0:
            seen_customers.add(customer.id)
            limit, exposure = credit_position(session, order)  # all the customer's approved orders still owed
            if exposure > limit:
                found.append(
                    {
                        "kind": "credit",
                        "fingerprint": f"credit:{customer.id}",
                        "title": str(
                            _(
                                "%(c)s: exposure %(e)s over the credit limit %(l)s",
                                c=customer.name,
                                e=format_money(exposure),
                                l=format_money(limit),
                            )
                        ),
                        "owner_id": customer.owner_id,
                        "level": "Salesperson",
                        "url": f"/endcustomerview/show/{customer.id}",
                    }
                )
        if order.due_date is not None and order.due_date < today:
            days = (today - order.due_date).days
            bucket = "0-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "90+"
            found.append(
                {
                    "kind": "overdue",
                    "fingerprint": f"overdue:{order.id}:{bucket}",
                    "title": str(
                        _(
                            "%(no)s %(c)s: %(a)s overdue %(d)s days (%(b)s)",
                            no=order.number,
                            c=customer.name,
                            a=format_money(order.outstanding_amount),
                            d=days,
                            b=bucket,
                        )
                    ),
                    "owner_id": order.owner_id,
                    "level": "Salesperson",
                    "url": f"/salesorderview/show/{order.id}",
                }
            )
    late = session.query(Followup).filter(
        Followup.status == "open", Followup.next_date.isnot(None), Followup.next_date < today
    )
    for f in late:
        found.append(
            {
                "kind": "followup",
                "fingerprint": f"followup:{f.id}",
                "title": str(
                    _(
                        "Follow-up of %(c)s due %(d)s",
                        c=f.customer.name if f.customer else "",
                        d=f.next_date.isoformat(),
                    )
                ),
                "owner_id": f.owner_id,
                "level": "Salesperson",
                "url": f"/followupview/show/{f.id}",
            }
        )
    found += _waiting_approvals(session, now)
    found += _overdue_service_requests(session, now)
    found += _churn_risks(session, today)
    return found


def _churn_risks(session, today: dt.date) -> list[dict]:
    """A/B customers (ABC分类) whose last approved order and last follow-up are both older than ABC_CHURN_WARN_DAYS."""
    from app.crm.classification import churn_risks

    return [
        {
            "kind": "churn_risk",
            "fingerprint": f"churn_risk:{customer.id}",
            "title": str(
                _(
                    "Class %(cls)s customer %(c)s: last approved order %(o)s, last follow-up %(f)s",
                    cls=customer.abc_class,
                    c=customer.name,
                    o=order_day.isoformat() if order_day else "—",
                    f=followup_day.isoformat() if followup_day else "—",
                )
            ),
            "owner_id": customer.owner_id,
            "level": "Salesperson",
            "url": f"/endcustomerview/show/{customer.id}",
        }
        for customer, order_day, followup_day in churn_risks(session, today)
    ]


def _overdue_service_requests(session, now: dt.datetime) -> list[dict]:
    """售后服务: pending or processing requests past their due time, for the customer's salesperson."""
    from app.aftersales.services import overdue_requests

    return [
        {
            "kind": "service",
            "fingerprint": f"service:{r.id}",
            "title": str(
                _(
                    "Service request %(no)s of %(c)s was due %(at)s",
                    no=r.number,
                    c=r.end_customer.name,
                    at=to_local(r.due_at).strftime("%Y-%m-%d %H:%M"),
                )
            ),
            "owner_id": r.owner_id,
            "level": "Salesperson",
            "url": f"/servicerequestview/show/{r.id}",
        }
        for r in overdue_requests(session, now)
    ]


def _waiting_approvals(session, now: dt.datetime) -> list[dict]:
    from app.core.workflow import ApprovalRecord
    from app.crm.models import PoolClaim
    from app.purchase.models import PurchaseContract
    from app.sales.models import Commission, Expense, SalesOrder

    limit = now - dt.timedelta(hours=float(setting("ALERT_APPROVAL_HOURS", 24)))
    out = []
    for model, endpoint in (
        (SalesOrder, "salesorderview"),
        (PurchaseContract, "purchasecontractview"),
        (Commission, "commissionview"),
        (Expense, "expenseview"),
        (PoolClaim, "poolclaimview"),
    ):
        for doc in session.query(model).filter(model.status == workflow.SUBMITTED):
            since = (
                session.query(ApprovalRecord.at)
                .filter(ApprovalRecord.doc_type == model.__doc_type__, ApprovalRecord.doc_id == doc.id)
                .order_by(ApprovalRecord.id.desc())
                .limit(1)
                .scalar()
            )
            if since is not None and since < limit:
                label = getattr(doc, "number", None) or getattr(doc, "customer_name", "") or doc.id
                out.append(
                    {
                        "kind": "approval",
                        "fingerprint": f"approval:{model.__doc_type__}:{doc.id}:{doc.approval_level}",
                        "title": str(
                            _(
                                "%(doc)s has waited for approval since %(at)s",
                                doc=label,
                                at=since.strftime("%Y-%m-%d %H:%M"),
                            )
                        ),
                        "owner_id": None,
                        "level": "SalesManager",
                        "url": f"/{endpoint}/show/{doc.id}",
                    }
                )
    return out


# ------------------------------------------------------------------ the cron command


def run_alerts(session, now: dt.datetime | None = None) -> dict:
    """Raise new alerts, clear those whose condition ended, escalate those past their deadline. Idempotent.

    One alert per condition while it lasts: handling an alert does not raise it again the next night; when the
    condition ends the alert is closed, and if it comes back later it is a new alert."""
    now = now or utcnow()
    today = to_local(now).date()
    current = {c["fingerprint"]: c for c in conditions(session, today, now)}
    active = {a.fingerprint: a for a in session.query(Alert).filter(Alert.active.is_(True))}
    raised = cleared = escalated = 0
    for fingerprint, c in current.items():
        if fingerprint in active:
            continue
        session.add(
            Alert(
                kind=c["kind"],
                fingerprint=fingerprint,
                title=c["title"][:255],
                # an alert with nobody's name on it starts with the managers
                level=c["level"] if c["owner_id"] or c["level"] != "Salesperson" else "SalesManager",
                owner_id=c["owner_id"],
                raised_at=now,
                deadline_at=_deadline(now),
                url=c["url"],
            )
        )
        raised += 1
    for fingerprint, alert in active.items():
        if fingerprint not in current:
            alert.active = False
            if alert.status == OPEN:
                alert.status, alert.handled_at = CLEARED, now
                cleared += 1
        elif alert.status == OPEN and alert.deadline_at <= now and alert.level != LEVELS[-1]:
            alert.level = LEVELS[LEVELS.index(alert.level) + 1]
            alert.escalations += 1
            alert.deadline_at = _deadline(now)
            escalated += 1
    session.commit()
    return {"raised": raised, "cleared": cleared, "escalated": escalated, "open": len(current)}


# ------------------------------------------------------------------ who sees and handles


def open_alerts_for(session, user):
    """Open alerts at the user's level: a salesperson their own; a manager the manager level and every
    salesperson's (they may step in); an administrator all."""
    roles = {r.name for r in user.roles}
    query = session.query(Alert).filter(Alert.status == OPEN)
    if "Admin" in roles:
        return query
    if "SalesManager" in roles:
        return query.filter(Alert.level.in_(("Salesperson", "SalesManager")))
    return query.filter(Alert.level == "Salesperson", Alert.owner_id == user.id)


def visible_alerts(query, user):
    """The list's scope: what open_alerts_for() allows, plus the user's own alerts already handled or cleared."""
    roles = {r.name for r in user.roles}
    if "Admin" in roles or {"Finance", "Executive"} & roles:
        return query
    if "SalesManager" in roles:
        return query.filter(Alert.level.in_(("Salesperson", "SalesManager")))
    return query.filter(Alert.owner_id == user.id, Alert.level == "Salesperson")


def handle(session, alert: Alert, user, note: str | None) -> None:
    if not (note or "").strip():
        raise BusinessError(_("Say what was done about the alert."), 400)
    if open_alerts_for(session, user).filter(Alert.id == alert.id).first() is None:
        raise BusinessError(_("This alert is not yours to handle (or it is no longer open)."), 409)
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status == OPEN)
        .values(status=HANDLED, handled_by_id=user.id, handled_at=utcnow(), note=note.strip())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BusinessError(_("This alert is not yours to handle (or it is no longer open)."), 409)
