"""售后服务: service requests and complaints of an end customer, optionally about one of its sales orders.

A request belongs to the customer's salesperson (data scope); its assignee handles it and sees it too. Each one has a
due time set from its priority; past it, the alert centre raises an alert for the salesperson and escalates it.
Times are stored in UTC and shown in Asia/Shanghai.
"""

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _
from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

import app.base_data.models  # noqa: F401 - customers and orders name its dictionaries; mapped before they are
from app.core.models import Model, OwnedMixin, TimestampMixin, utcnow
from app.core.numbering import NumberedMixin
from app.crm.models import EndCustomer
from app.sales.models import SalesOrder

REPAIR, COMPLAINT, CONSULTATION, INSTALLATION, RETURN = "repair", "complaint", "consultation", "installation", "return"
KINDS = {
    REPAIR: _("Repair"),
    COMPLAINT: _("Complaint"),
    CONSULTATION: _("Consultation"),
    INSTALLATION: _("Installation"),
    RETURN: _("Return/Exchange"),
}
LOW, NORMAL, HIGH, URGENT = "low", "normal", "high", "urgent"
PRIORITIES = {NORMAL: _("Normal"), HIGH: _("High"), URGENT: _("Urgent"), LOW: _("Low")}
OPEN, IN_PROGRESS, RESOLVED, CLOSED = "open", "in_progress", "resolved", "closed"
STATUSES = {OPEN: _("Pending"), IN_PROGRESS: _("Processing"), RESOLVED: _("Resolved"), CLOSED: _("Closed")}
ACTIVE = (OPEN, IN_PROGRESS)  # the due time still runs


class ServiceRequest(NumberedMixin, OwnedMixin, TimestampMixin, Model):
    """服务单: created_at is when it was received; due_at when it must be resolved."""

    __tablename__ = "service_request"
    __doc_prefix__ = "SH"
    __audit__ = True
    __scope_also__ = ("assignee_id",)
    id = Column(Integer, primary_key=True)
    end_customer_id = Column(Integer, ForeignKey("end_customer.id"), nullable=False, index=True)
    end_customer = relationship(EndCustomer, lazy="joined")
    sales_order_id = Column(Integer, ForeignKey("sales_order.id"), nullable=True, index=True)
    sales_order = relationship(SalesOrder)
    kind = Column(String(16), nullable=False, default=REPAIR)
    content = Column(Text, nullable=False)
    priority = Column(String(8), nullable=False, default=NORMAL)
    assignee_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    assignee = relationship(User, foreign_keys=[assignee_id])
    status = Column(String(16), nullable=False, default=OPEN)
    due_at = Column(DateTime, nullable=False)
    started_at = Column(DateTime)  # first taken up: the response time
    resolution = Column(Text)
    resolved_at = Column(DateTime)
    satisfaction = Column(Integer)  # 1–5, given once resolved
    closed_at = Column(DateTime)
    # the alert centre reads active requests by due time
    __table_args__ = (
        Index("ix_service_request_status_due", "status", "due_at"),
        CheckConstraint(
            "satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)", name="ck_service_request_satisfaction"
        ),
    )

    def __repr__(self) -> str:
        return self.number or ""

    @property
    def kind_label(self):
        return KINDS.get(self.kind, self.kind)

    @property
    def priority_label(self):
        return PRIORITIES.get(self.priority, self.priority)

    @property
    def status_label(self):
        return STATUSES.get(self.status, self.status)

    @property
    def is_overdue(self) -> bool:
        return self.status in ACTIVE and self.due_at is not None and self.due_at < utcnow()
