"""期初数据: what a company brings in when it starts using the system — stock on hand, what customers owe and what
it owes suppliers. Each imported row is kept here with the document it was posted as (source "opening")."""

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from app.core.models import Model, Money, Quantity, utcnow

STOCK, RECEIVABLE, PAYABLE = "stock", "receivable", "payable"
KINDS = {STOCK: _("Opening stock"), RECEIVABLE: _("Opening receivable"), PAYABLE: _("Opening payable")}


class OpeningBalance(Model):
    __tablename__ = "opening_balance"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    kind = Column(String(12), nullable=False, index=True)
    # one opening per product and warehouse, per customer, per supplier: importing twice is refused, also in a race
    key = Column(String(64), nullable=False, unique=True)
    as_of = Column(Date, nullable=False)
    product_id = Column(Integer, ForeignKey("product.id"), nullable=True)
    product = relationship("Product")
    warehouse_id = Column(Integer, ForeignKey("warehouse.id"), nullable=True)
    warehouse = relationship("Warehouse")
    qty = Quantity(nullable=True)
    unit_cost = Money(nullable=True)
    end_customer_id = Column(Integer, ForeignKey("end_customer.id"), nullable=True, index=True)
    end_customer = relationship("EndCustomer")
    supplier_id = Column(Integer, ForeignKey("supplier.id"), nullable=True)
    supplier = relationship("Supplier")
    amount = Money(nullable=True)
    due_date = Column(Date)
    doc_number = Column(String(20), index=True)  # the stock-in, sales order or contract it was posted as
    created_at = Column(DateTime, nullable=False, default=utcnow)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    created_by = relationship(User)

    @property
    def kind_label(self):
        return KINDS.get(self.kind, self.kind)
