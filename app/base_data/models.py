"""Base data: dictionaries, regions, product categories, products, warehouses, salesperson profiles."""

from flask_babel import lazy_gettext as _
from sqlalchemy import Boolean, Column, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import relationship

from app.core.models import DictionaryMixin, Model, Money, Quantity, TimestampMixin


class CustomerNature(DictionaryMixin, Model):
    __tablename__ = "customer_nature"


class Unit(DictionaryMixin, Model):
    __tablename__ = "unit"


class CustomerType(DictionaryMixin, Model):
    __tablename__ = "customer_type"


class CustomerSource(DictionaryMixin, Model):
    __tablename__ = "customer_source"


class FollowupMethod(DictionaryMixin, Model):
    __tablename__ = "followup_method"


class ChannelType(DictionaryMixin, Model):
    __tablename__ = "channel_type"


class ChannelLevel(DictionaryMixin, Model):
    __tablename__ = "channel_level"


class ExpenseType(DictionaryMixin, Model):
    __tablename__ = "expense_type"


class OrderType(DictionaryMixin, Model):
    __tablename__ = "order_type"


TERM_CASH, TERM_CREDIT, TERM_PREPAID = "cash", "credit", "prepaid"
TERM_KINDS = {TERM_CASH: _("Cash on delivery"), TERM_CREDIT: _("On account"), TERM_PREPAID: _("Prepayment")}


class PaymentTerm(DictionaryMixin, Model):
    """付款条件: 现结 / 月结30天 / 预付款 …; the due date is the order date + days, and an optional cash discount
    现金折扣 (e.g. 2% when paid within 10 days of the order date)."""

    __tablename__ = "payment_term"
    kind = Column(String(8), nullable=False, default=TERM_CREDIT)
    days = Column(Integer, nullable=False, default=0)
    discount_percent = Column(Numeric(5, 2, asdecimal=True), nullable=False, default=0)
    discount_days = Column(Integer, nullable=False, default=0)

    @property
    def kind_label(self):
        return TERM_KINDS.get(self.kind, self.kind)


MOVE_IN, MOVE_OUT = "in", "out"
MOVE_DIRECTIONS = {MOVE_IN: _("Stock in"), MOVE_OUT: _("Stock out")}


class StockMoveType(DictionaryMixin, Model):
    __tablename__ = "stock_move_type"
    direction = Column(String(8), nullable=False, default=MOVE_IN)

    @property
    def direction_label(self):
        return MOVE_DIRECTIONS.get(self.direction, self.direction)


class Warehouse(DictionaryMixin, Model):
    __tablename__ = "warehouse"
    address = Column(String(255))
    keeper = Column(String(64))
    phone = Column(String(32))


REGION_LEVELS = {"province": _("Province"), "city": _("City")}


class Region(TimestampMixin, Model):
    """Provinces and prefecture-level cities of China (seeded from data/regions.csv)."""

    __tablename__ = "region"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    code = Column(String(12), unique=True, nullable=False)
    name = Column(String(64), nullable=False, index=True)
    parent_id = Column(Integer, ForeignKey("region.id"), nullable=True, index=True)
    parent = relationship("Region", remote_side=[id], backref="children")
    level = Column(String(16), nullable=False, default="province")
    sort_order = Column(Integer, default=0, nullable=False)
    enabled = Column(Boolean, default=True, nullable=False)

    @property
    def level_label(self):
        return REGION_LEVELS.get(self.level, self.level)

    @property
    def full_name(self) -> str:
        return (
            f"{self.parent.name} {self.name}"
            if self.parent is not None and self.parent.name != self.name
            else self.name
        )

    def __repr__(self) -> str:
        return self.full_name


class ProductCategory(DictionaryMixin, Model):
    """A tree: each category may have a parent; names are unique across the tree."""

    __tablename__ = "product_category"
    parent_id = Column(Integer, ForeignKey("product_category.id"), nullable=True, index=True)
    parent = relationship("ProductCategory", remote_side="ProductCategory.id", backref="children")

    @property
    def path(self) -> str:
        names, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def __repr__(self) -> str:
        return self.path


class Product(TimestampMixin, Model):
    __tablename__ = "product"
    __audit__ = True
    __picker_search__ = ("model_no", "name")  # picked on demand (app/core/pickers.py)
    id = Column(Integer, primary_key=True)
    model_no = Column(String(64), unique=True, nullable=False)  # 型号
    name = Column(String(128), nullable=False, index=True)
    spec = Column(String(255))
    category_id = Column(Integer, ForeignKey("product_category.id"), nullable=True, index=True)
    category = relationship("ProductCategory")
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=True)
    unit = relationship("Unit")
    purchase_price = Money(nullable=False, default=0)
    sale_price = Money(nullable=False, default=0)
    floor_price = Money(nullable=False, default=0)  # 红线价
    safety_min = Quantity(nullable=True)
    safety_max = Quantity(nullable=True)
    enabled = Column(Boolean, default=True, nullable=False)
    note = Column(Text)

    def __repr__(self) -> str:
        return f"{self.model_no} {self.name}"


class SalespersonProfile(TimestampMixin, Model):
    """Business details of a user: phone, region, department."""

    __tablename__ = "salesperson_profile"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), unique=True, nullable=False)
    user = relationship("User", backref="profile_rows")
    phone = Column(String(32))
    region_id = Column(Integer, ForeignKey("region.id"), nullable=True)
    region = relationship("Region")
    department = Column(String(64))
    holding_limit = Column(Integer, nullable=True)  # 客户保有上限 override; empty → the role default
    reminder_days = Column(Integer, nullable=True)  # follow-up reminder window in days; empty → 3

    def __repr__(self) -> str:
        return str(self.user) if self.user else ""


DICTIONARIES = [
    CustomerNature,
    ProductCategory,
    Unit,
    CustomerType,
    CustomerSource,
    FollowupMethod,
    Warehouse,
    StockMoveType,
    ChannelType,
    ChannelLevel,
    ExpenseType,
    OrderType,
]
