"""The approval workflow every approvable document shares.

draft → submitted → approved | rejected (reason required) → back to draft. Approval levels are data
(ApprovalRule: per document type, an amount threshold maps to an ordered list of approver roles); each level's
decision is an ApprovalRecord. Transitions use a guarded UPDATE (status and level must still be what the actor
saw), so two people approving at the same moment cannot both succeed.
"""

from decimal import Decimal

from flask_babel import lazy_gettext as _
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, update
from sqlalchemy.orm import relationship

from app.core import audit
from app.core.errors import BusinessError, Forbidden
from app.core.models import Model, utcnow

DRAFT, SUBMITTED, APPROVED, REJECTED, CANCELLED = "draft", "submitted", "approved", "rejected", "cancelled"
STATUS_LABELS = {
    DRAFT: _("Draft"),
    SUBMITTED: _("Submitted"),
    APPROVED: _("Approved"),
    REJECTED: _("Rejected"),
    CANCELLED: _("Cancelled"),
}
ACTION_LABELS = {
    "submit": _("Submit"),
    "approve": _("Approve"),
    "reject": _("Reject"),
    "reopen": _("Back to draft"),
    "cancel": _("Cancel"),
    "credit_override": _("Credit override"),
    "clawback": _("Clawback"),
    "pay": _("Paid out"),
}
DEFAULT_APPROVERS = ("SalesManager",)

# doc_type → functions(session, doc, from_status, to_status) run inside the transition's transaction, e.g. the
# statistics keeping their summaries in step with what is approved (registered by the area that needs it)
TRANSITION_HOOKS: dict[str, list] = {}


def on_transition(doc_type: str, fn) -> None:
    hooks = TRANSITION_HOOKS.setdefault(doc_type, [])
    if fn not in hooks:
        hooks.append(fn)


class ApprovalRule(Model):
    """For a document type, amounts ≥ min_amount need these roles, level by level (level 1 first)."""

    __tablename__ = "approval_rule"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    doc_type = Column(String(40), nullable=False, index=True)
    min_amount = Column(Numeric(14, 2), nullable=False, default=Decimal("0"))
    level = Column(Integer, nullable=False, default=1)
    role_name = Column(String(64), nullable=False)

    def __repr__(self) -> str:
        return f"{self.doc_type} ≥{self.min_amount} L{self.level} {self.role_name}"


class ApprovalRecord(Model):
    __tablename__ = "approval_record"
    id = Column(Integer, primary_key=True)
    doc_type = Column(String(40), nullable=False)
    doc_id = Column(Integer, nullable=False)
    level = Column(Integer, nullable=False, default=0)
    action = Column(String(16), nullable=False)
    from_status = Column(String(16), nullable=False)
    to_status = Column(String(16), nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    user = relationship("User")
    at = Column(DateTime, default=utcnow, nullable=False)
    comment = Column(Text)

    __table_args__ = (Index("ix_approval_record_doc", "doc_type", "doc_id"),)

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, self.action)


class WorkflowMixin:
    """Columns of an approvable document. The model sets __doc_type__ and defines approval_amount()."""

    __doc_type__ = ""
    __default_approvers__ = DEFAULT_APPROVERS
    status = Column(String(16), nullable=False, default=DRAFT, index=True)
    approval_level = Column(Integer, nullable=False, default=0)

    def approval_amount(self) -> Decimal:
        return Decimal("0")

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)


def approver_roles(session, doc_type: str, amount: Decimal, default=DEFAULT_APPROVERS) -> list[str]:
    """Ordered roles that must approve a document of this type and amount (without rules: the type's default,
    one SalesManager level unless the model says otherwise)."""
    rules = session.query(ApprovalRule).filter(ApprovalRule.doc_type == doc_type).all()
    applicable = [r for r in rules if Decimal(amount) >= r.min_amount]
    if not applicable:
        return list(default)
    threshold = max(r.min_amount for r in applicable)
    chosen = sorted((r for r in applicable if r.min_amount == threshold), key=lambda r: r.level)
    return [r.role_name for r in chosen]


def _roles_for(session, doc) -> list[str]:
    model = type(doc)
    return approver_roles(session, model.__doc_type__, doc.approval_amount(), model.__default_approvers__)


def _user_roles(user) -> set[str]:
    return {r.name for r in user.roles}


def _transition(session, doc, user, action: str, expect: str, to: str, level_to: int, comment) -> None:
    model = type(doc)
    result = session.execute(
        update(model)
        .where(model.id == doc.id, model.status == expect, model.approval_level == doc.approval_level)
        .values(status=to, approval_level=level_to)
        .execution_options(synchronize_session=False, audit=False)  # recorded below, as the transition it is
    )
    if result.rowcount != 1:
        session.rollback()
        raise BusinessError(_("This document was changed by someone else meanwhile; reload and try again."), 409)
    audit.record(
        session,
        action,
        doc,
        {"status": expect, "approval_level": doc.approval_level},
        {"status": to, "approval_level": level_to, **({"comment": str(comment)} if comment else {})},
    )
    session.add(
        ApprovalRecord(
            doc_type=model.__doc_type__,
            doc_id=doc.id,
            level=doc.approval_level if action in ("approve", "reject") else 0,
            action=action,
            from_status=expect,
            to_status=to,
            user_id=user.id if user is not None else None,
            comment=comment or None,
        )
    )
    session.flush()
    session.expire(doc, ["status", "approval_level"])
    for hook in TRANSITION_HOOKS.get(model.__doc_type__, ()):
        hook(session, doc, expect, to)


def submit(session, doc, user, comment: str | None = None) -> None:
    if doc.status not in (DRAFT, REJECTED):
        raise BusinessError(_("Only a draft or rejected document can be submitted."), 409)
    _transition(session, doc, user, "submit", doc.status, SUBMITTED, 1, comment)


def can_approve(session, doc, user) -> bool:
    if doc.status != SUBMITTED:
        return False
    roles = _roles_for(session, doc)
    level = doc.approval_level
    if level < 1 or level > len(roles):
        return False
    mine = _user_roles(user)
    return "Admin" in mine or roles[level - 1] in mine


def approve(session, doc, user, comment: str | None = None) -> None:
    if doc.status != SUBMITTED:
        raise BusinessError(_("Only a submitted document can be approved."), 409)
    if getattr(doc, "owner_id", None) == user.id and "Admin" not in _user_roles(user):
        raise Forbidden(_("You cannot approve your own document."))
    if not can_approve(session, doc, user):
        raise Forbidden(_("You are not an approver at this level."))
    roles = _roles_for(session, doc)
    last = doc.approval_level >= len(roles)
    _transition(
        session,
        doc,
        user,
        "approve",
        SUBMITTED,
        APPROVED if last else SUBMITTED,
        doc.approval_level if last else doc.approval_level + 1,
        comment,
    )


def reject(session, doc, user, comment: str | None) -> None:
    if not (comment or "").strip():
        raise BusinessError(_("A reason is required to reject."), 400)
    if doc.status != SUBMITTED:
        raise BusinessError(_("Only a submitted document can be rejected."), 409)
    if not can_approve(session, doc, user):
        raise Forbidden(_("You are not an approver at this level."))
    _transition(session, doc, user, "reject", SUBMITTED, REJECTED, 0, comment.strip())


def reopen(session, doc, user, comment: str | None = None) -> None:
    if doc.status != REJECTED:
        raise BusinessError(_("Only a rejected document can go back to draft."), 409)
    _transition(session, doc, user, "reopen", REJECTED, DRAFT, 0, comment)


def cancel(session, doc, user, comment: str | None = None) -> None:
    """Cancel a document that is not cancelled yet; the area's service checks what must not exist first."""
    if doc.status == CANCELLED:
        raise BusinessError(_("This document is already cancelled."), 409)
    _transition(session, doc, user, "cancel", doc.status, CANCELLED, 0, comment)


def note(session, doc, user, action: str, comment: str | None = None) -> None:
    """Record a decision on a document that does not change its status (credit override, payout …)."""
    audit.record(
        session,
        action,
        doc,
        {"status": doc.status},
        {"status": doc.status, **({"comment": str(comment)} if comment else {})},
    )
    session.add(
        ApprovalRecord(
            doc_type=type(doc).__doc_type__,
            doc_id=doc.id,
            level=doc.approval_level or 0,
            action=action,
            from_status=doc.status,
            to_status=doc.status,
            user_id=user.id if user is not None else None,
            comment=str(comment) if comment else None,  # lazy strings are stored in the actor's language
        )
    )


def owner_may_edit(doc, user) -> bool:
    """Owner edits/deletes only in draft or rejected; after submission only SalesManager/Admin."""
    if _user_roles(user) & {"Admin", "SalesManager"}:
        return True
    return doc.status in (DRAFT, REJECTED) and getattr(doc, "owner_id", None) == user.id


def history(session, doc) -> list[ApprovalRecord]:
    return (
        session.query(ApprovalRecord)
        .filter(ApprovalRecord.doc_type == type(doc).__doc_type__, ApprovalRecord.doc_id == doc.id)
        .order_by(ApprovalRecord.id)
        .all()
    )
