"""CRM: channel customers, end customers, contacts, addresses, the pool trail, follow-ups, opportunities, plans,
targets. Customers, follow-ups, opportunities, plans and targets are owned (data scope); contacts and delivery
addresses carry their customer's owner so the same scope applies to them."""

from flask_babel import lazy_gettext as _
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declared_attr, relationship

from app.core.models import Model, Money, OwnedMixin, TimestampMixin, not_null_index, utcnow
from app.core.workflow import WorkflowMixin

CHANNEL, END = "channel", "end"
CUSTOMER_KINDS = {CHANNEL: _("Channel customer"), END: _("End customer")}


class CustomerMixin(OwnedMixin, TimestampMixin):
    """What both kinds of customer share. owner_id NULL + in_pool means the customer sits in the public pool."""

    __audit__ = True
    __picker_search__ = ("name",)  # picked on demand (app/core/pickers.py)
    id = Column(Integer, primary_key=True)
    # looked up and ordered through the unique key (name, region_id)
    name = Column(String(128), nullable=False)
    phone = Column(String(32))
    address = Column(String(255))
    credit_limit = Money(nullable=False, default=0)
    in_pool = Column(Boolean, nullable=False, default=False, index=True)
    assigned_at = Column(DateTime, nullable=True)  # when the current owner got it (churn counts from here)
    last_deal_at = Column(Date, nullable=True)  # the sales issue keeps it current
    last_followup_at = Column(Date, nullable=True)
    churned = Column(Boolean, nullable=False, default=False)
    note = Column(Text)

    @declared_attr
    def owner_id(cls):
        # indexed without NULLs (not_null_index in each table's arguments): the pool's customers have no owner
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    def __repr__(self) -> str:
        return self.name or ""


class ChannelCustomer(CustomerMixin, Model):
    __tablename__ = "channel_customer"
    __kind__ = CHANNEL
    region_id = Column(Integer, ForeignKey("region.id"), nullable=True, index=True)
    region = relationship("Region")
    channel_type_id = Column(Integer, ForeignKey("channel_type.id"), nullable=True)
    channel_type = relationship("ChannelType")
    level_id = Column(Integer, ForeignKey("channel_level.id"), nullable=True, index=True)
    level = relationship("ChannelLevel")
    source_id = Column(Integer, ForeignKey("customer_source.id"), nullable=True)
    source = relationship("CustomerSource")
    nature_id = Column(Integer, ForeignKey("customer_nature.id"), nullable=True)
    nature = relationship("CustomerNature")
    __table_args__ = (
        UniqueConstraint("name", "region_id", name="uq_channel_customer_name_region"),
        not_null_index("channel_customer", "owner_id"),
    )


class EndCustomer(CustomerMixin, Model):
    __tablename__ = "end_customer"
    __kind__ = END
    region_id = Column(Integer, ForeignKey("region.id"), nullable=True, index=True)
    region = relationship("Region")
    customer_type_id = Column(Integer, ForeignKey("customer_type.id"), nullable=True)
    customer_type = relationship("CustomerType")
    source_id = Column(Integer, ForeignKey("customer_source.id"), nullable=True)
    source = relationship("CustomerSource")
    nature_id = Column(Integer, ForeignKey("customer_nature.id"), nullable=True)
    nature = relationship("CustomerNature")
    payment_term_id = Column(Integer, ForeignKey("payment_term.id"), nullable=True)  # the default for new orders
    payment_term = relationship("PaymentTerm")
    stars = Column(Integer, nullable=False, default=3)  # 1–5 星级
    referrer_id = Column(Integer, ForeignKey("channel_customer.id"), nullable=True)  # indexed without NULLs
    referrer = relationship("ChannelCustomer", backref="referred_end_customers")
    churn_pending = Column(Boolean, nullable=False, default=False)  # end-customer churn waits for Admin review
    # ABC分类, written only by `flask classify` (app/crm/classification.py); NULL until the first run
    abc_class = Column(String(1), nullable=True, index=True)  # A / B / C
    abc_amount = Money(nullable=True)  # received net of refunds in the 12 months ending on the classification day
    abc_orders = Column(Integer, nullable=True)  # approved orders in the same 12 months
    abc_at = Column(DateTime, nullable=True)  # UTC time of the classification
    __table_args__ = (
        UniqueConstraint("name", "region_id", name="uq_end_customer_name_region"),
        not_null_index("end_customer", "owner_id"),
        not_null_index("end_customer", "referrer_id"),
    )


class Contact(OwnedMixin, TimestampMixin, Model):
    __tablename__ = "contact"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    channel_customer_id = Column(Integer, ForeignKey("channel_customer.id", ondelete="CASCADE"), index=True)
    channel_customer = relationship("ChannelCustomer", backref="contacts")
    end_customer_id = Column(Integer, ForeignKey("end_customer.id", ondelete="CASCADE"), index=True)
    end_customer = relationship("EndCustomer", backref="contacts")
    name = Column(String(64), nullable=False)
    title = Column(String(64))
    mobile = Column(String(32))
    phone = Column(String(32))
    email = Column(String(128))
    wechat = Column(String(64))
    is_primary = Column(Boolean, nullable=False, default=False)
    note = Column(Text)

    def __repr__(self) -> str:
        return self.name or ""


class DeliveryAddress(OwnedMixin, TimestampMixin, Model):
    __tablename__ = "delivery_address"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    end_customer_id = Column(Integer, ForeignKey("end_customer.id", ondelete="CASCADE"), nullable=False, index=True)
    end_customer = relationship("EndCustomer", backref="delivery_addresses")
    receiver = Column(String(64), nullable=False)
    phone = Column(String(32))
    address = Column(String(255), nullable=False)
    is_default = Column(Boolean, nullable=False, default=False)

    def __repr__(self) -> str:
        return f"{self.receiver} {self.address}"


class CustomerEvent(Model):
    """The trail of a customer's ownership: created, claimed, released, transferred, churned, reviewed, upgraded."""

    __tablename__ = "customer_event"
    id = Column(Integer, primary_key=True)
    kind = Column(String(8), nullable=False)  # channel / end
    customer_id = Column(Integer, nullable=False)
    action = Column(String(24), nullable=False)
    from_owner_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    from_owner = relationship("User", foreign_keys=[from_owner_id])
    to_owner_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    to_owner = relationship("User", foreign_keys=[to_owner_id])
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    user = relationship("User", foreign_keys=[user_id])
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    reason = Column(Text)
    counts_as_churn = Column(Boolean, nullable=False, default=False)


EVENT_LABELS = {
    "created": _("Created"),
    "to_pool": _("Added to pool"),
    "claim_request": _("Claim requested"),
    "claim_approved": _("Claim approved"),
    "claim_rejected": _("Claim rejected"),
    "release": _("Released to pool"),
    "transfer": _("Transferred"),
    "churn": _("Churned"),
    "churn_candidate": _("Churn candidate"),
    "churn_kept": _("Kept after churn review"),
    "upgrade": _("Level upgraded"),
}


def _kind_label(self):
    return CUSTOMER_KINDS.get(self.kind, self.kind)


def _customer_name(self):
    from app.extensions import db

    model = ChannelCustomer if self.kind == CHANNEL else EndCustomer
    customer = db.session.get(model, self.customer_id)
    return customer.name if customer is not None else ""


CustomerEvent.kind_label = property(_kind_label)
CustomerEvent.customer_name = property(_customer_name)
CustomerEvent.action_label = property(lambda self: EVENT_LABELS.get(self.action, self.action))


class PoolClaim(OwnedMixin, WorkflowMixin, TimestampMixin, Model):
    """申请客户: a salesperson asks for a pool customer; Admin/SalesManager approve or reject (shared workflow)."""

    __tablename__ = "pool_claim"
    __doc_type__ = "pool_claim"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    kind = Column(String(8), nullable=False)
    customer_id = Column(Integer, nullable=False, index=True)
    customer_name = Column(String(128), nullable=False)
    reason = Column(Text)

    kind_label = property(_kind_label)


class Followup(OwnedMixin, TimestampMixin, Model):
    __tablename__ = "followup"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    channel_customer_id = Column(Integer, ForeignKey("channel_customer.id", ondelete="CASCADE"), index=True)
    channel_customer = relationship("ChannelCustomer", backref="followups")
    end_customer_id = Column(Integer, ForeignKey("end_customer.id", ondelete="CASCADE"), index=True)
    end_customer = relationship("EndCustomer", backref="followups")
    followup_date = Column(Date, nullable=False, index=True)
    method_id = Column(Integer, ForeignKey("followup_method.id"), nullable=True)
    method = relationship("FollowupMethod")
    content = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="open")  # open / done
    next_date = Column(Date, nullable=True, index=True)
    next_plan = Column(Text)

    @property
    def customer(self):
        return self.channel_customer or self.end_customer

    @property
    def status_label(self):
        from app.crm.services import FOLLOWUP_STATUS

        return FOLLOWUP_STATUS.get(self.status, self.status)

    @property
    def days_overdue(self) -> int | None:
        from app.core.formatting import local_today

        if self.next_date is None or self.status != "open":
            return None
        days = (local_today() - self.next_date).days
        return days if days > 0 else None


class Opportunity(OwnedMixin, TimestampMixin, Model):
    __tablename__ = "opportunity"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False)
    end_customer_id = Column(Integer, ForeignKey("end_customer.id"), nullable=True, index=True)
    end_customer = relationship("EndCustomer", backref="opportunities")
    channel_customer_id = Column(Integer, ForeignKey("channel_customer.id"), nullable=True, index=True)
    channel_customer = relationship("ChannelCustomer", backref="opportunities")
    stage = Column(String(16), nullable=False, default="lead", index=True)
    expected_amount = Money(nullable=False, default=0)
    expected_close = Column(Date, nullable=True)
    note = Column(Text)

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def customer(self):
        return self.end_customer or self.channel_customer

    @property
    def stage_label(self):
        from app.crm.services import OPPORTUNITY_STAGES

        return OPPORTUNITY_STAGES.get(self.stage, self.stage)


class WorkPlan(OwnedMixin, TimestampMixin, Model):
    __tablename__ = "work_plan"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    plan_date = Column(Date, nullable=False, index=True)
    title = Column(String(128), nullable=False)
    content = Column(Text)
    status = Column(String(16), nullable=False, default="todo")  # todo / done
    done_at = Column(DateTime, nullable=True)

    def __repr__(self) -> str:
        return self.title or ""

    @property
    def status_label(self):
        from app.crm.services import PLAN_STATUS

        return PLAN_STATUS.get(self.status, self.status)


class SalesTarget(OwnedMixin, TimestampMixin, Model):
    """业绩指标: the owner is the salesperson the target is for; quarter and year are sums of months."""

    __tablename__ = "sales_target"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False)
    month = Column(Integer, nullable=False)
    amount = Money(nullable=False, default=0)
    __table_args__ = (UniqueConstraint("owner_id", "year", "month", name="uq_sales_target_owner_month"),)
