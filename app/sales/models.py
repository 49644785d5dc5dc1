"""Sales documents: quotations, sales orders and their lines, receipts, refunds, commissions, expense claims.

Money is Numeric(14,2) and quantities Numeric(14,3), always Decimal. An order keeps running sums of its receipts,
refunds and claimed commission bases; they change only through guarded UPDATEs in services.py, so two people
posting at the same moment can never take an order past its total.
"""

from decimal import Decimal

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import backref, declared_attr, relationship

from app.core.formatting import local_today
from app.core.models import ZERO, Model, Money, OwnedMixin, Quantity, TimestampMixin
from app.core.numbering import NumberedMixin
from app.core.workflow import CANCELLED, STATUS_LABELS, WorkflowMixin

UNPAID, PARTIAL, PAID = "unpaid", "partial", "paid"
PAYMENT_STATUS = {UNPAID: _("Unpaid"), PARTIAL: _("Partially Paid"), PAID: _("Paid")}
PAYMENT_METHODS = {
    "bank": _("Bank transfer"),
    "cash": _("Cash"),
    "wechat": _("WeChat Pay"),
    "alipay": _("Alipay"),
    "cheque": _("Cheque"),
    "acceptance": _("Bank acceptance bill"),
}
ORDER_STATUS = STATUS_LABELS
OPEN, CONVERTED = "open", "converted"
QUOTATION_STATUS = {OPEN: _("Open"), CONVERTED: _("Converted to order"), CANCELLED: _("Cancelled")}
CLAIM, CLAWBACK = "claim", "clawback"
COMMISSION_KINDS = {CLAIM: _("Commission"), CLAWBACK: _("Clawback")}


class CustomerPrice(OwnedMixin, TimestampMixin, Model):
    """客户价格: the agreed price of a product for one end customer; follows the customer's owner."""

    __tablename__ = "customer_price"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    end_customer_id = Column(Integer, ForeignKey("end_customer.id", ondelete="CASCADE"), nullable=False, index=True)
    end_customer = relationship("EndCustomer")
    product_id = Column(Integer, ForeignKey("product.id"), nullable=False, index=True)
    product = relationship("Product")
    price = Money(nullable=False)
    note = Column(Text)
    __table_args__ = (UniqueConstraint("end_customer_id", "product_id", name="uq_customer_price"),)


class PriceBreak(TimestampMixin, Model):
    """批量报价: from min_qty upwards the product sells at unit_price (edited on the product page)."""

    __tablename__ = "price_break"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False, index=True)
    product = relationship("Product", backref="price_breaks")
    min_qty = Quantity(nullable=False)
    unit_price = Money(nullable=False)
    __table_args__ = (UniqueConstraint("product_id", "min_qty", name="uq_price_break"),)

    def __repr__(self) -> str:
        return f"≥{self.min_qty}: {self.unit_price}"


class LineMixin:
    """A priced line: amount = qty × unit_price × (1 − discount%), rounded to the cent on the server."""

    id = Column(Integer, primary_key=True)
    line_no = Column(Integer, nullable=False, default=1)
    qty = Quantity(nullable=False)
    unit_price = Money(nullable=False)
    discount = Column(Numeric(5, 2, asdecimal=True), nullable=False, default=Decimal("0"))  # percent 0–100
    amount = Money(nullable=False)
    note = Column(String(255))

    @declared_attr
    def product_id(cls):
        return Column(Integer, ForeignKey("product.id"), nullable=False, index=True)

    @declared_attr
    def product(cls):
        return relationship("Product", lazy="joined")

    @property
    def net_price(self) -> Decimal:
        return Decimal(self.unit_price) * (Decimal(100) - Decimal(self.discount or 0)) / Decimal(100)


class PromotedLineMixin(LineMixin):
    """A sales line may be priced by a promotion 促销, named on the line."""

    @declared_attr
    def promotion_id(cls):
        return Column(Integer, ForeignKey("promotion.id"), nullable=True, index=True)

    @declared_attr
    def promotion(cls):
        return relationship("Promotion", lazy="joined")


class SalesDocumentMixin(OwnedMixin, TimestampMixin):
    """What a quotation and an order share: customer, optional channel, date, total, note."""

    __audit__ = True
    id = Column(Integer, primary_key=True)
    # indexed with id (below): lists sort by date and then by id, and PostgreSQL's index on the date alone made
    # the newest page read and sort the whole newest day (6.5 ms of a page at a million orders, 0.3 ms with id)
    doc_date = Column(Date, nullable=False, default=local_today)  # the day in China
    project_name = Column(String(128), index=True)
    total_amount = Money(nullable=False, default=ZERO)
    note = Column(Text)

    @declared_attr
    def end_customer_id(cls):
        return Column(Integer, ForeignKey("end_customer.id"), nullable=False, index=True)

    @classmethod
    def date_index(cls, table: str) -> Index:
        return Index(f"ix_{table}_doc_date", "doc_date", "id")

    @declared_attr
    def end_customer(cls):
        return relationship("EndCustomer", lazy="joined")

    @declared_attr
    def channel_id(cls):
        return Column(Integer, ForeignKey("channel_customer.id"), nullable=True, index=True)

    @declared_attr
    def channel(cls):
        return relationship("ChannelCustomer", lazy="joined")

    def __repr__(self) -> str:
        return self.number or ""


class Quotation(NumberedMixin, SalesDocumentMixin, Model):
    __tablename__ = "quotation"
    __doc_prefix__ = "BJ"
    __table_args__ = (SalesDocumentMixin.date_index("quotation"),)
    valid_until = Column(Date)
    status = Column(String(16), nullable=False, default=OPEN, index=True)
    order_id = Column(Integer, ForeignKey("sales_order.id", ondelete="SET NULL"), nullable=True)
    order = relationship("SalesOrder", foreign_keys=[order_id])
    lines = relationship(
        "QuotationLine", back_populates="quotation", cascade="all, delete-orphan", order_by="QuotationLine.line_no"
    )

    @property
    def status_label(self):
        return QUOTATION_STATUS.get(self.status, self.status)


class QuotationLine(PromotedLineMixin, Model):
    __tablename__ = "quotation_line"
    __audit__ = True
    quotation_id = Column(Integer, ForeignKey("quotation.id", ondelete="CASCADE"), nullable=False, index=True)
    quotation = relationship("Quotation", back_populates="lines")


class SalesOrder(NumberedMixin, WorkflowMixin, SalesDocumentMixin, Model):
    __tablename__ = "sales_order"
    __doc_prefix__ = "XS"
    __doc_type__ = "sales_order"
    __picker_search__ = ("number", "project_name")  # picked on demand (app/core/pickers.py), newest first
    __picker_order__ = "-id"
    order_type_id = Column(Integer, ForeignKey("order_type.id"), nullable=True)
    order_type = relationship("OrderType")
    payment_term_id = Column(Integer, ForeignKey("payment_term.id"), nullable=True)  # 付款条件 (customer's default)
    payment_term = relationship("PaymentTerm")
    payment_days = Column(Integer, nullable=False, default=0)  # days after the order date (from the term)
    due_date = Column(Date, index=True)
    # 现金折扣 as agreed when the order was saved: this percent off for receipts dated up to and including that day
    discount_percent = Column(Numeric(5, 2, asdecimal=True), nullable=False, default=Decimal("0"), server_default="0")
    discount_until = Column(Date)
    is_opening = Column(Boolean, nullable=False, default=False, server_default=false())  # 期初应收, not a sale
    received_amount = Money(nullable=False, default=ZERO)  # Σ receipts
    refunded_amount = Money(nullable=False, default=ZERO)  # Σ refunds
    credited_amount = Money(nullable=False, default=ZERO, server_default="0")  # Σ credits: cash discounts, rebates
    commission_base = Money(nullable=False, default=ZERO)  # Σ bases of commissions claimed (not rejected)
    invoiced_amount = Money(nullable=False, default=ZERO, server_default="0")  # Σ sales invoice lines
    payment_status = Column(String(16), nullable=False, default=UNPAID, index=True)
    price_exception = Column(Boolean, nullable=False, default=False)  # a line below its red-line price
    credit_override_reason = Column(Text)
    credit_override_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    credit_override_by = relationship(User, foreign_keys=[credit_override_by_id])
    credit_override_amount = Money(nullable=True)  # the exposure the override accepted
    approved_at = Column(DateTime)
    # one query for the lines of a whole page of orders (the status label reads shipped quantities)
    lines = relationship(
        "SalesOrderLine",
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="SalesOrderLine.line_no",
        lazy="selectin",
    )
    # statistics read approved orders by date (and a salesperson's by owner and date)
    __table_args__ = (
        SalesDocumentMixin.date_index("sales_order"),
        Index("ix_sales_order_status_date", "status", "doc_date"),
        Index("ix_sales_order_owner_status_date", "owner_id", "status", "doc_date"),
    )

    def approval_amount(self) -> Decimal:
        return Decimal(self.total_amount or 0)

    @property
    def net_received(self) -> Decimal:
        return Decimal(self.received_amount or 0) - Decimal(self.refunded_amount or 0)

    @property
    def uninvoiced_amount(self) -> Decimal:
        return Decimal(self.total_amount or 0) - Decimal(self.invoiced_amount or 0)

    @hybrid_property
    def outstanding_amount(self) -> Decimal:
        """What the customer still owes: total − receipts + refunds − credits (the one definition, also in SQL)."""
        return Decimal(self.total_amount or 0) - self.net_received - Decimal(self.credited_amount or 0)

    @outstanding_amount.inplace.expression
    @classmethod
    def _outstanding_amount_expression(cls):
        return cls.total_amount - cls.received_amount + cls.refunded_amount - cls.credited_amount

    @property
    def status_label(self):
        ordered = sum((Decimal(line.qty) for line in self.lines), Decimal(0))
        shipped = sum((Decimal(line.shipped_qty or 0) for line in self.lines), Decimal(0))
        return order_status_label(self.status, ordered, shipped, self.payment_status)

    @property
    def payment_status_label(self):
        return PAYMENT_STATUS.get(self.payment_status, self.payment_status)

    @property
    def days_overdue(self) -> int | None:
        """Days past the due date while money is outstanding (receivables aging and dunning count from here)."""
        if self.due_date is None or self.outstanding_amount <= 0:
            return None
        days = (local_today() - self.due_date).days
        return days if days > 0 else None

    @property
    def commission_amount(self) -> Decimal:
        """Approved commission on this order, clawbacks included."""
        from sqlalchemy import func
        from sqlalchemy.orm import object_session

        total = (
            object_session(self)
            .query(func.coalesce(func.sum(Commission.amount), 0))
            .filter(Commission.order_id == self.id, Commission.status == "approved")
            .scalar()
        )
        return Decimal(str(total)).quantize(Decimal("0.01"))


NOT_SHIPPED, PART_SHIPPED, ALL_SHIPPED = "none", "part", "all"


def order_status_label(status: str, ordered, shipped, payment_status: str):
    """After approval the status follows shipments: 部分发货 → 已发货 → 已完成 (shipped and fully received)."""
    ordered, shipped = Decimal(ordered or 0), Decimal(shipped or 0)
    state = ALL_SHIPPED if ordered and shipped >= ordered else PART_SHIPPED if shipped > 0 else NOT_SHIPPED
    return status_label_for(status, state, payment_status)


def status_label_for(status: str, shipped_state: str, payment_status: str):
    if status == "approved":
        if shipped_state == ALL_SHIPPED:
            return _("Completed") if payment_status == PAID else _("Shipped")
        if shipped_state == PART_SHIPPED:
            return _("Partially Shipped")
    return ORDER_STATUS.get(status, status)


class SalesOrderLine(PromotedLineMixin, Model):
    __tablename__ = "sales_order_line"
    __audit__ = True
    order_id = Column(Integer, ForeignKey("sales_order.id", ondelete="CASCADE"), nullable=False, index=True)
    order = relationship("SalesOrder", back_populates="lines")
    floor_price = Money(nullable=True)  # the red-line price when the line was saved
    shipped_qty = Quantity(nullable=False, default=Decimal("0"))  # Σ posted stock-out − returns (inventory area)
    returned_qty = Quantity(nullable=False, default=Decimal("0"))  # Σ posted sales returns
    price_accepted_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    price_accepted_by = relationship(User, foreign_keys=[price_accepted_by_id])

    @property
    def below_floor(self) -> bool:
        return self.floor_price is not None and self.net_price < Decimal(self.floor_price)

    @property
    def remaining_qty(self) -> Decimal:
        return Decimal(self.qty) - Decimal(self.shipped_qty or 0)

    def __repr__(self) -> str:
        return f"{self.order.number if self.order else ''} #{self.line_no}"


class OrderMoneyMixin(OwnedMixin, TimestampMixin):
    """A receipt or refund against one order; the owner is the order's salesperson."""

    __audit__ = True
    id = Column(Integer, primary_key=True)
    doc_date = Column(Date, nullable=False, index=True, default=local_today)  # the day in China
    amount = Money(nullable=False)

    @declared_attr
    def order_id(cls):
        return Column(Integer, ForeignKey("sales_order.id"), nullable=False, index=True)

    @declared_attr
    def order(cls):
        return relationship("SalesOrder", lazy="joined")

    def __repr__(self) -> str:
        return self.number or ""


class Receipt(NumberedMixin, OrderMoneyMixin, Model):
    __tablename__ = "receipt"
    __doc_prefix__ = "SK"
    method = Column(String(16), nullable=False, default="bank")
    cash_discount = Column(Boolean, nullable=False, default=False, server_default=false())  # 享受现金折扣
    discount_amount = Money(nullable=False, default=ZERO, server_default="0")  # the credit posted with it
    note = Column(Text)

    @property
    def method_label(self):
        return PAYMENT_METHODS.get(self.method, self.method)


class Refund(NumberedMixin, OrderMoneyMixin, Model):
    __tablename__ = "refund"
    __doc_prefix__ = "TK"
    reason = Column(Text, nullable=False)


CASH_DISCOUNT, REBATE = "cash_discount", "rebate"
CREDIT_KINDS = {CASH_DISCOUNT: _("Cash discount"), REBATE: _("Rebate")}


class ReceivableCredit(NumberedMixin, OrderMoneyMixin, Model):
    """应收冲减: an amount the customer no longer owes on an order without paying it — a cash discount taken with a
    receipt, or a settled rebate. It lowers the outstanding amount like a receipt, but is not money received."""

    __tablename__ = "receivable_credit"
    __doc_prefix__ = "CJ"
    kind = Column(String(16), nullable=False, index=True)
    receipt_id = Column(Integer, ForeignKey("receipt.id", ondelete="CASCADE"), nullable=True, index=True)
    receipt = relationship("Receipt", backref=backref("credits", cascade="all, delete-orphan"))
    rebate_id = Column(Integer, ForeignKey("rebate.id"), nullable=True, index=True)
    rebate = relationship("Rebate", back_populates="credits")
    note = Column(String(255))

    @property
    def kind_label(self):
        return CREDIT_KINDS.get(self.kind, self.kind)


class CommissionRate(TimestampMixin, Model):
    """佣金比例 per channel level, in percent of the amount received."""

    __tablename__ = "commission_rate"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    level_id = Column(Integer, ForeignKey("channel_level.id"), nullable=False, unique=True)
    level = relationship("ChannelLevel")
    rate = Column(Numeric(5, 2, asdecimal=True), nullable=False)
    note = Column(Text)


class Commission(NumberedMixin, WorkflowMixin, OwnedMixin, TimestampMixin, Model):
    """佣金单: rate × received on one order for its channel; a clawback is a negative one (refund or return)."""

    __tablename__ = "commission"
    __doc_prefix__ = "YJ"
    __doc_type__ = "commission"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    doc_date = Column(Date, nullable=False, index=True, default=local_today)  # the day in China
    kind = Column(String(16), nullable=False, default=CLAIM)
    channel_id = Column(Integer, ForeignKey("channel_customer.id"), nullable=False, index=True)
    channel = relationship("ChannelCustomer", lazy="joined")
    order_id = Column(Integer, ForeignKey("sales_order.id"), nullable=False, index=True)
    order = relationship("SalesOrder", lazy="joined")
    base_amount = Money(nullable=False)  # the received amount it is computed on (negative for a clawback)
    rate = Column(Numeric(5, 2, asdecimal=True), nullable=False)
    amount = Money(nullable=False)
    paid_at = Column(Date)
    paid_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    paid_by = relationship(User, foreign_keys=[paid_by_id])
    payout_note = Column(Text)
    note = Column(Text)

    def approval_amount(self) -> Decimal:
        return abs(Decimal(self.amount or 0))

    @property
    def kind_label(self):
        return COMMISSION_KINDS.get(self.kind, self.kind)

    @property
    def paid_label(self):
        return _("Paid out") if self.paid_at else ""

    def __repr__(self) -> str:
        return self.number or ""


class Expense(NumberedMixin, WorkflowMixin, OwnedMixin, TimestampMixin, Model):
    """报销单: a salesperson's cost (travel, entertainment …), optionally for one channel."""

    __tablename__ = "expense"
    __doc_prefix__ = "BX"
    __doc_type__ = "expense"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    doc_date = Column(Date, nullable=False, index=True, default=local_today)  # the day in China
    expense_type_id = Column(Integer, ForeignKey("expense_type.id"), nullable=False)
    expense_type = relationship("ExpenseType", lazy="joined")
    amount = Money(nullable=False)
    channel_id = Column(Integer, ForeignKey("channel_customer.id"), nullable=True, index=True)
    channel = relationship("ChannelCustomer", lazy="joined")
    note = Column(Text)

    def approval_amount(self) -> Decimal:
        return Decimal(self.amount or 0)

    def __repr__(self) -> str:
        return self.number or ""


class SalesInvoice(OwnedMixin, TimestampMixin, Model):
    """销售发票: the tax invoice issued to one end customer, for one or several of its orders."""

    __tablename__ = "sales_invoice"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    invoice_no = Column(String(32), nullable=False, unique=True)  # the number printed on the tax invoice
    invoice_date = Column(Date, nullable=False, index=True, default=local_today)
    end_customer_id = Column(Integer, ForeignKey("end_customer.id"), nullable=False, index=True)
    end_customer = relationship("EndCustomer", lazy="joined")
    tax_rate = Column(Numeric(5, 2, asdecimal=True), nullable=False, default=Decimal("13"))  # percent
    amount = Money(nullable=False, default=ZERO)  # with tax: Σ lines
    net_amount = Money(nullable=False, default=ZERO)  # without tax
    tax_amount = Money(nullable=False, default=ZERO)
    note = Column(Text)
    lines = relationship("SalesInvoiceLine", back_populates="invoice", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return self.invoice_no or ""


class SalesInvoiceLine(Model):
    __tablename__ = "sales_invoice_line"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    invoice_id = Column(Integer, ForeignKey("sales_invoice.id", ondelete="CASCADE"), nullable=False, index=True)
    invoice = relationship("SalesInvoice", back_populates="lines")
    order_id = Column(Integer, ForeignKey("sales_order.id"), nullable=False, index=True)
    order = relationship("SalesOrder", lazy="joined")
    amount = Money(nullable=False)  # with tax
    note = Column(String(255))


class RebateAgreement(OwnedMixin, TimestampMixin, Model):
    """返利协议: a percentage of what one end customer or one channel paid in a period, once it reaches a threshold."""

    __tablename__ = "rebate_agreement"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False)
    end_customer_id = Column(Integer, ForeignKey("end_customer.id"), nullable=True, index=True)
    end_customer = relationship("EndCustomer", lazy="joined")
    channel_id = Column(Integer, ForeignKey("channel_customer.id"), nullable=True, index=True)
    channel = relationship("ChannelCustomer", lazy="joined")
    rate = Column(Numeric(5, 2, asdecimal=True), nullable=False)  # percent of the received amount
    threshold = Money(nullable=False, default=ZERO)  # the received amount from which the rebate is earned
    enabled = Column(Boolean, nullable=False, default=True)
    note = Column(Text)

    @property
    def party(self):
        return self.end_customer or self.channel

    def __repr__(self) -> str:
        return self.name or ""


class Rebate(NumberedMixin, WorkflowMixin, OwnedMixin, TimestampMixin, Model):
    """返利单: one agreement's rebate for one period, approved through the shared workflow and then settled as
    credits on the party's outstanding orders (oldest due first)."""

    __tablename__ = "rebate"
    __doc_prefix__ = "FL"
    __doc_type__ = "rebate"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    doc_date = Column(Date, nullable=False, index=True, default=local_today)
    agreement_id = Column(Integer, ForeignKey("rebate_agreement.id"), nullable=False, index=True)
    agreement = relationship("RebateAgreement", lazy="joined")
    period_start = Column(Date, nullable=False)
    period_end = Column(Date, nullable=False)
    base_amount = Money(nullable=False)  # received − refunded in the period
    rate = Column(Numeric(5, 2, asdecimal=True), nullable=False)
    amount = Money(nullable=False)
    settled_amount = Money(nullable=False, default=ZERO)  # Σ credits posted
    note = Column(Text)
    credits = relationship("ReceivableCredit", back_populates="rebate")

    def approval_amount(self) -> Decimal:
        return Decimal(self.amount or 0)

    @property
    def unsettled_amount(self) -> Decimal:
        return Decimal(self.amount or 0) - Decimal(self.settled_amount or 0)

    def __repr__(self) -> str:
        return self.number or ""
