"""Inventory: an append-only ledger of signed stock moves, a balance row per (product, warehouse) kept in step in the
same transaction, the moving average cost per product, and the stock documents that post moves when confirmed.

Invariant (tested): for every (product, warehouse), balance.qty = Σ move.qty.
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
from sqlalchemy.orm import declared_attr, relationship

import app.purchase.models  # noqa: F401 - stock documents refer to contracts and orders by class name
import app.sales.models  # noqa: F401
from app.core.formatting import local_today
from app.core.models import Model, Money, Quantity, TimestampMixin, utcnow
from app.core.numbering import NumberedMixin

DRAFT, POSTED = "draft", "posted"
DOC_STATUS = {DRAFT: _("Draft"), POSTED: _("Posted")}

# what a move is, whatever the user named the document's 出入库类型
MOVE_KINDS = {
    "purchase_in": _("Purchase in"),
    "return_in": _("Sales return"),
    "other_in": _("Other in"),
    "opening_in": _("Opening stock"),
    "sale_out": _("Sales out"),
    "other_out": _("Other out"),
    "take_gain": _("Stock-take gain"),
    "take_loss": _("Stock-take loss"),
    "transfer_in": _("Transfer in"),
    "transfer_out": _("Transfer out"),
}
COST_SCALE = Numeric(16, 4, asdecimal=True)


class StockBalance(Model):
    """On hand per (product, warehouse); changed only by posting, together with the move that explains it."""

    __tablename__ = "stock_balance"
    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("product.id"), nullable=False)
    product = relationship("Product", lazy="joined")
    warehouse_id = Column(Integer, ForeignKey("warehouse.id"), nullable=False, index=True)
    warehouse = relationship("Warehouse", lazy="joined")
    qty = Quantity(nullable=False, default=Decimal("0"))
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    __table_args__ = (UniqueConstraint("product_id", "warehouse_id", name="uq_stock_balance"),)

    @property
    def reserved(self) -> Decimal:
        """What approved orders still have to ship of this product (all warehouses)."""
        from sqlalchemy.orm import object_session

        from app.inventory.services import reserved_by_product

        return reserved_by_product(object_session(self), [self.product_id]).get(self.product_id, Decimal(0))

    @property
    def available(self) -> Decimal:
        """On hand in all warehouses minus what is reserved."""
        from sqlalchemy.orm import object_session

        from app.inventory.services import on_hand_by_product

        held = on_hand_by_product(object_session(self), [self.product_id]).get(self.product_id, Decimal(0))
        return held - self.reserved


class ProductCost(Model):
    """Moving weighted average cost of a product over all warehouses (the row is locked while posting)."""

    __tablename__ = "product_cost"
    product_id = Column(Integer, ForeignKey("product.id"), primary_key=True)
    qty = Quantity(nullable=False, default=Decimal("0"))
    avg_cost = Column(COST_SCALE, nullable=False, default=Decimal("0"))


class StockMove(Model):
    """库存流水: one signed quantity of one product in one warehouse, with its cost and source document."""

    __tablename__ = "stock_move"
    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("product.id"), nullable=False)
    product = relationship("Product", lazy="joined")
    warehouse_id = Column(Integer, ForeignKey("warehouse.id"), nullable=False)
    warehouse = relationship("Warehouse", lazy="joined")
    qty = Quantity(nullable=False)  # + in, − out
    unit_cost = Column(COST_SCALE, nullable=False)
    amount = Money(nullable=False)  # qty × unit_cost, signed
    balance_after = Quantity(nullable=False)  # the warehouse's on hand after this move
    kind = Column(String(16), nullable=False)
    doc_type = Column(String(16), nullable=False)
    doc_id = Column(Integer, nullable=False)
    doc_number = Column(String(20), nullable=False, index=True)
    doc_date = Column(Date, nullable=False, index=True, default=local_today)  # the day in China
    line_id = Column(Integer)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    user = relationship(User)
    at = Column(DateTime, nullable=False, default=utcnow)
    __table_args__ = (
        Index("ix_stock_move_product_wh", "product_id", "warehouse_id", "id"),
        Index("ix_stock_move_doc", "doc_type", "doc_id"),
    )

    @property
    def kind_label(self):
        return MOVE_KINDS.get(self.kind, self.kind)


class StockDocumentMixin(NumberedMixin, TimestampMixin):
    """A stock document: a draft changes nothing; confirming posts every line's moves in one transaction."""

    __audit__ = True
    id = Column(Integer, primary_key=True)
    doc_date = Column(Date, nullable=False, index=True, default=local_today)  # the day in China
    status = Column(String(8), nullable=False, default=DRAFT, index=True)
    invoice_no = Column(String(64))  # 发票号: editable after posting, quantities never
    note = Column(Text)
    posted_at = Column(DateTime)

    @declared_attr
    def posted_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def posted_by(cls):
        return relationship(User, foreign_keys=[cls.posted_by_id])

    @property
    def status_label(self):
        return DOC_STATUS.get(self.status, self.status)

    def __repr__(self) -> str:
        return self.number or ""


class StockLineMixin:
    __audit__ = True
    id = Column(Integer, primary_key=True)
    line_no = Column(Integer, nullable=False, default=1)
    qty = Quantity(nullable=False)
    note = Column(String(255))

    @declared_attr
    def product_id(cls):
        return Column(Integer, ForeignKey("product.id"), nullable=False, index=True)

    @declared_attr
    def product(cls):
        return relationship("Product", lazy="joined")


class StockIn(StockDocumentMixin, Model):
    """产品入库: goods of a purchase contract, goods a customer returns against a sales order, or other."""

    __tablename__ = "stock_in"
    __doc_prefix__ = "RK"
    __doc_type__ = "stock_in"
    warehouse_id = Column(Integer, ForeignKey("warehouse.id"), nullable=False)
    warehouse = relationship("Warehouse")
    move_type_id = Column(Integer, ForeignKey("stock_move_type.id"), nullable=True)
    move_type = relationship("StockMoveType")
    contract_id = Column(Integer, ForeignKey("purchase_contract.id"), nullable=True, index=True)
    contract = relationship("PurchaseContract", backref="stock_ins")
    order_id = Column(Integer, ForeignKey("sales_order.id"), nullable=True, index=True)  # a sales return
    order = relationship("SalesOrder", backref="returns")
    is_opening = Column(Boolean, nullable=False, default=False, server_default=false())  # 期初入库
    lines = relationship(
        "StockInLine", back_populates="doc", cascade="all, delete-orphan", order_by="StockInLine.line_no"
    )


class StockInLine(StockLineMixin, Model):
    __tablename__ = "stock_in_line"
    doc_id = Column(Integer, ForeignKey("stock_in.id", ondelete="CASCADE"), nullable=False, index=True)
    doc = relationship("StockIn", back_populates="lines")
    unit_cost = Money(nullable=False, default=Decimal("0"))
    contract_line_id = Column(Integer, ForeignKey("purchase_contract_line.id"), nullable=True)
    contract_line = relationship("PurchaseContractLine")
    order_line_id = Column(Integer, ForeignKey("sales_order_line.id"), nullable=True, index=True)
    order_line = relationship("SalesOrderLine")


class StockOut(StockDocumentMixin, Model):
    """产品出库: shipping a sales order (never beyond its remaining quantity) or another out-type."""

    __tablename__ = "stock_out"
    __doc_prefix__ = "CK"
    __doc_type__ = "stock_out"
    warehouse_id = Column(Integer, ForeignKey("warehouse.id"), nullable=False)
    warehouse = relationship("Warehouse")
    move_type_id = Column(Integer, ForeignKey("stock_move_type.id"), nullable=True)
    move_type = relationship("StockMoveType")
    order_id = Column(Integer, ForeignKey("sales_order.id"), nullable=True, index=True)
    order = relationship("SalesOrder", backref="shipments")
    lines = relationship(
        "StockOutLine", back_populates="doc", cascade="all, delete-orphan", order_by="StockOutLine.line_no"
    )


class StockOutLine(StockLineMixin, Model):
    __tablename__ = "stock_out_line"
    doc_id = Column(Integer, ForeignKey("stock_out.id", ondelete="CASCADE"), nullable=False, index=True)
    doc = relationship("StockOut", back_populates="lines")
    unit_cost = Column(COST_SCALE)  # the moving average when posted
    order_line_id = Column(Integer, ForeignKey("sales_order_line.id"), nullable=True, index=True)
    order_line = relationship("SalesOrderLine")


class StockTake(StockDocumentMixin, Model):
    """产品盘点: book quantities snapshot when counted; confirming posts the differences as gains and losses."""

    __tablename__ = "stock_take"
    __doc_prefix__ = "PD"
    __doc_type__ = "stock_take"
    warehouse_id = Column(Integer, ForeignKey("warehouse.id"), nullable=False)
    warehouse = relationship("Warehouse")
    lines = relationship(
        "StockTakeLine", back_populates="doc", cascade="all, delete-orphan", order_by="StockTakeLine.line_no"
    )


class StockTakeLine(StockLineMixin, Model):
    """qty is the counted quantity; book_qty the ledger's at the time of counting."""

    __tablename__ = "stock_take_line"
    doc_id = Column(Integer, ForeignKey("stock_take.id", ondelete="CASCADE"), nullable=False, index=True)
    doc = relationship("StockTake", back_populates="lines")
    book_qty = Quantity(nullable=False, default=Decimal("0"))

    @property
    def difference(self) -> Decimal:
        return Decimal(self.qty) - Decimal(self.book_qty or 0)


class StockTransfer(StockDocumentMixin, Model):
    """库存调拨: out of one warehouse and into another, both in one transaction."""

    __tablename__ = "stock_transfer"
    __doc_prefix__ = "DB"
    __doc_type__ = "stock_transfer"
    from_warehouse_id = Column(Integer, ForeignKey("warehouse.id"), nullable=False)
    from_warehouse = relationship("Warehouse", foreign_keys=[from_warehouse_id])
    to_warehouse_id = Column(Integer, ForeignKey("warehouse.id"), nullable=False)
    to_warehouse = relationship("Warehouse", foreign_keys=[to_warehouse_id])
    lines = relationship(
        "StockTransferLine", back_populates="doc", cascade="all, delete-orphan", order_by="StockTransferLine.line_no"
    )


class StockTransferLine(StockLineMixin, Model):
    __tablename__ = "stock_transfer_line"
    doc_id = Column(Integer, ForeignKey("stock_transfer.id", ondelete="CASCADE"), nullable=False, index=True)
    doc = relationship("StockTransfer", back_populates="lines")
