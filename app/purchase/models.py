"""Purchasing: suppliers and their contacts, purchase contracts with lines and approval, payments with the finance
audit, received invoices. Goods received come from posted stock-in documents (inventory area)."""

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
from sqlalchemy.orm import relationship

from app.core.formatting import local_today
from app.core.models import ZERO, Model, Money, Quantity, TimestampMixin
from app.core.numbering import NumberedMixin
from app.core.workflow import STATUS_LABELS, WorkflowMixin
from app.sales.models import PAYMENT_METHODS, LineMixin

NOT_RECEIVED, PART_RECEIVED, RECEIVED = "none", "partial", "done"
RECEIPT_STATUS = {
    NOT_RECEIVED: _("Not received"),
    PART_RECEIVED: _("Partially received"),
    RECEIVED: _("Fully received"),
}


class Supplier(TimestampMixin, Model):
    """供货商信息."""

    __tablename__ = "supplier"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False, unique=True)
    region_id = Column(Integer, ForeignKey("region.id"), nullable=True)
    region = relationship("Region")
    contact_name = Column(String(64), index=True)  # 主要联系人
    phone = Column(String(32))
    address = Column(String(255))
    bank_name = Column(String(128))
    bank_account = Column(String(64))
    tax_no = Column(String(32))  # 纳税人识别号
    enabled = Column(Boolean, nullable=False, default=True)
    note = Column(Text)

    def __repr__(self) -> str:
        return self.name or ""


class SupplierContact(TimestampMixin, Model):
    __tablename__ = "supplier_contact"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    supplier_id = Column(Integer, ForeignKey("supplier.id", ondelete="CASCADE"), nullable=False, index=True)
    supplier = relationship("Supplier", backref="contacts")
    name = Column(String(64), nullable=False)
    title = Column(String(64))
    mobile = Column(String(32))
    phone = Column(String(32))
    email = Column(String(128))
    is_primary = Column(Boolean, nullable=False, default=False)
    note = Column(Text)

    def __repr__(self) -> str:
        return self.name or ""


class PurchaseContract(NumberedMixin, WorkflowMixin, TimestampMixin, Model):
    """采购合同: approval through the shared workflow; payments and received goods never exceed it."""

    __tablename__ = "purchase_contract"
    __doc_prefix__ = "CG"
    __doc_type__ = "purchase_contract"
    __default_approvers__ = ("Admin",)  # purchasing is approved by the administrator unless rules say otherwise
    __audit__ = True
    id = Column(Integer, primary_key=True)
    supplier_id = Column(Integer, ForeignKey("supplier.id"), nullable=False, index=True)
    supplier = relationship("Supplier", lazy="joined")
    purchaser_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    purchaser = relationship(User, foreign_keys=[purchaser_id])
    doc_date = Column(Date, nullable=False, index=True, default=local_today)  # the day in China
    delivery_date = Column(Date, index=True)  # 确定出货日期
    total_amount = Money(nullable=False, default=ZERO)
    paid_amount = Money(nullable=False, default=ZERO)  # Σ payments
    invoiced_amount = Money(nullable=False, default=ZERO, server_default="0")  # Σ received invoices 收票
    is_opening = Column(Boolean, nullable=False, default=False, server_default=false())  # 期初应付, not a purchase
    due_date = Column(Date)  # when the money is owed (opening payables)
    receipt_status = Column(String(8), nullable=False, default=NOT_RECEIVED, index=True)
    approved_at = Column(DateTime)
    note = Column(Text)
    __table_args__ = (Index("ix_purchase_contract_status_date", "status", "doc_date"),)
    lines = relationship(
        "PurchaseContractLine",
        back_populates="contract",
        cascade="all, delete-orphan",
        order_by="PurchaseContractLine.line_no",
    )

    def approval_amount(self) -> Decimal:
        return Decimal(self.total_amount or 0)

    @property
    def unpaid_amount(self) -> Decimal:
        return Decimal(self.total_amount or 0) - Decimal(self.paid_amount or 0)

    @property
    def uninvoiced_amount(self) -> Decimal:
        return Decimal(self.total_amount or 0) - Decimal(self.invoiced_amount or 0)

    @property
    def rejection_reason(self) -> str | None:
        """审批不通过原因: the latest rejection's comment."""
        from sqlalchemy.orm import object_session

        from app.core.workflow import history

        rejections = [r for r in history(object_session(self), self) if r.action == "reject"]
        return rejections[-1].comment if rejections else None

    @property
    def receipt_status_label(self):
        return RECEIPT_STATUS.get(self.receipt_status, self.receipt_status)

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return self.number or ""


class PurchaseContractLine(LineMixin, Model):
    __tablename__ = "purchase_contract_line"
    __audit__ = True
    contract_id = Column(Integer, ForeignKey("purchase_contract.id", ondelete="CASCADE"), nullable=False, index=True)
    contract = relationship("PurchaseContract", back_populates="lines")
    received_qty = Quantity(nullable=False, default=Decimal("0"))  # kept by posted stock-in lines

    @property
    def remaining_qty(self) -> Decimal:
        return Decimal(self.qty) - Decimal(self.received_qty or 0)

    def __repr__(self) -> str:
        return f"{self.contract.number if self.contract else ''} #{self.line_no} {self.product}"


class Payment(NumberedMixin, TimestampMixin, Model):
    """付款: many per contract, their sum never above the contract total; Finance audits each (财务审核)."""

    __tablename__ = "payment"
    __doc_prefix__ = "FK"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    contract_id = Column(Integer, ForeignKey("purchase_contract.id"), nullable=False, index=True)
    contract = relationship("PurchaseContract", lazy="joined")
    doc_date = Column(Date, nullable=False, index=True, default=local_today)  # the day in China
    amount = Money(nullable=False)
    method = Column(String(16), nullable=False, default="bank")
    audited = Column(Boolean, nullable=False, default=False, index=True)
    audited_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    audited_by = relationship(User, foreign_keys=[audited_by_id])
    audited_at = Column(DateTime)
    note = Column(Text)

    @property
    def method_label(self):
        return PAYMENT_METHODS.get(self.method, self.method)

    def __repr__(self) -> str:
        return self.number or ""


class PurchaseInvoice(TimestampMixin, Model):
    """收票明细: a supplier invoice received against a contract."""

    __tablename__ = "purchase_invoice"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    contract_id = Column(Integer, ForeignKey("purchase_contract.id"), nullable=False, index=True)
    contract = relationship("PurchaseContract", backref="invoices")
    invoice_no = Column(String(64), nullable=False)
    invoice_date = Column(Date, nullable=False)
    tax_rate = Column(Numeric(5, 2, asdecimal=True), nullable=False, default=Decimal("13"), server_default="13")
    amount = Money(nullable=False)  # with tax
    net_amount = Money(nullable=False, default=ZERO, server_default="0")  # without tax
    tax_amount = Money(nullable=False, default=ZERO, server_default="0")
    note = Column(Text)
    __table_args__ = (UniqueConstraint("contract_id", "invoice_no", name="uq_purchase_invoice_no"),)

    def __repr__(self) -> str:
        return self.invoice_no or ""
