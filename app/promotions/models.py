"""促销: a promotion names its products and/or categories, the customer types it is for (none = everyone), a date
range and one rule: percentage off the sale price, a fixed price, or buy N get M free."""

from decimal import Decimal

from flask_babel import lazy_gettext as _
from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, Numeric, String, Table, Text
from sqlalchemy.orm import relationship

from app.core.models import Model, Money, Quantity, TimestampMixin

PERCENT, FIXED_PRICE, BUY_GET = "percent", "fixed_price", "buy_get"
RULES = {PERCENT: _("Percentage off"), FIXED_PRICE: _("Fixed price"), BUY_GET: _("Buy N get M free")}

promotion_product = Table(
    "promotion_product",
    Model.metadata,
    Column("promotion_id", Integer, ForeignKey("promotion.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", Integer, ForeignKey("product.id"), primary_key=True),
)
promotion_category = Table(
    "promotion_category",
    Model.metadata,
    Column("promotion_id", Integer, ForeignKey("promotion.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", Integer, ForeignKey("product_category.id"), primary_key=True),
)
promotion_customer_type = Table(
    "promotion_customer_type",
    Model.metadata,
    Column("promotion_id", Integer, ForeignKey("promotion.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_type_id", Integer, ForeignKey("customer_type.id"), primary_key=True),
)


class Promotion(TimestampMixin, Model):
    __tablename__ = "promotion"
    __audit__ = True
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False, unique=True)
    start_date = Column(Date, nullable=False, index=True)
    end_date = Column(Date, nullable=False, index=True)
    rule = Column(String(16), nullable=False, default=PERCENT)
    percent = Column(Numeric(5, 2, asdecimal=True))  # percentage off the sale price
    price = Money(nullable=True)  # the fixed unit price
    buy_qty = Quantity(nullable=True)  # buy N …
    free_qty = Quantity(nullable=True)  # … get M free
    enabled = Column(Boolean, nullable=False, default=True)
    note = Column(Text)
    products = relationship("Product", secondary=promotion_product)
    categories = relationship("ProductCategory", secondary=promotion_category)
    customer_types = relationship("CustomerType", secondary=promotion_customer_type)

    @property
    def rule_label(self):
        return RULES.get(self.rule, self.rule)

    @property
    def rule_text(self) -> str:
        if self.rule == PERCENT:
            return str(_("%(p)s%% off", p=Decimal(self.percent or 0).normalize()))
        if self.rule == FIXED_PRICE:
            return str(_("Unit price %(p)s", p=self.price))
        return str(
            _(
                "Buy %(n)s get %(m)s free",
                n=Decimal(self.buy_qty or 0).normalize(),
                m=Decimal(self.free_qty or 0).normalize(),
            )
        )

    def __repr__(self) -> str:
        return self.name or ""
