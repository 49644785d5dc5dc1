"""Rules of promotions: validation (no two promotions may cover the same product for the same customers on the
same day), which promotion applies to a line, and how a line is priced.

Line price precedence (DOMAIN.md): a customer's own price 客户价格 always wins and no promotion applies; otherwise the
line gets whichever is cheaper for the customer over the line's quantity — the promotion or the volume price break
批量报价 (or the sale price); on a tie the price break stays and no promotion is named.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _
from sqlalchemy import or_

from app.core.errors import BusinessError
from app.core.validation import ensure_unique, strip_text
from app.promotions.models import FIXED_PRICE, PERCENT, RULES, Promotion

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------ scope of a promotion


def _category_chain(category) -> set[int]:
    """The category and all its parents (a promotion on a parent category covers its sub-categories)."""
    ids, node = set(), category
    while node is not None and node.id not in ids and len(ids) < 50:
        ids.add(node.id)
        node = node.parent
    return ids


def covers_product(promotion: Promotion, product) -> bool:
    if any(p.id == product.id for p in promotion.products):
        return True
    wanted = {c.id for c in promotion.categories}
    return bool(wanted and wanted & _category_chain(product.category))


def covers_customer(promotion: Promotion, customer) -> bool:
    types = {t.id for t in promotion.customer_types}
    return not types or (customer is not None and customer.customer_type_id in types)


def covered_product_ids(session, promotion: Promotion) -> set[int]:
    from app.base_data.models import Product, ProductCategory

    ids = {p.id for p in promotion.products}
    wanted = {c.id for c in promotion.categories}
    if wanted:
        # every sub-category of the chosen ones, then their products
        children: dict[int, list[int]] = {}
        for cid, parent in session.query(ProductCategory.id, ProductCategory.parent_id):
            children.setdefault(parent, []).append(cid)
        todo, tree = list(wanted), set()
        while todo:
            cid = todo.pop()
            if cid not in tree:
                tree.add(cid)
                todo.extend(children.get(cid, []))
        ids |= {pid for (pid,) in session.query(Product.id).filter(Product.category_id.in_(tree))}
    return ids


# ------------------------------------------------------------------ validation


def validate_promotion(session, promotion: Promotion) -> None:
    strip_text(promotion, "name", "note")
    if not promotion.name:
        raise BusinessError(_("Name is required."), 400)
    ensure_unique(promotion, "name", _("Name"))
    if promotion.start_date is None or promotion.end_date is None:
        raise BusinessError(_("A promotion needs a start date and an end date."), 400)
    if promotion.end_date < promotion.start_date:
        raise BusinessError(_("The end date cannot be before the start date."), 400)
    if not promotion.products and not promotion.categories:
        raise BusinessError(_("Choose the products or product categories the promotion is for."), 400)
    if promotion.rule not in RULES:
        raise BusinessError(_("Choose the promotion rule."), 400)
    if promotion.rule == PERCENT:
        pct = Decimal(promotion.percent or 0)
        if not Decimal(0) < pct < HUNDRED:
            raise BusinessError(_("The percentage off must be above 0 and below 100."), 400)
        promotion.price = promotion.buy_qty = promotion.free_qty = None
    elif promotion.rule == FIXED_PRICE:
        if (
            promotion.price is None
            or Decimal(promotion.price) <= 0
            or Decimal(promotion.price) != money(promotion.price)
        ):
            raise BusinessError(_("The promotion price must be greater than 0, with at most 2 decimals."), 400)
        promotion.percent = promotion.buy_qty = promotion.free_qty = None
    else:
        for value in (promotion.buy_qty, promotion.free_qty):
            if value is None or Decimal(value) <= 0 or Decimal(value) != Decimal(value).to_integral_value():
                raise BusinessError(_("Buy N get M needs whole numbers greater than 0."), 400)
        promotion.percent = promotion.price = None
    if promotion.enabled:
        _refuse_overlap(session, promotion)


def _refuse_overlap(session, promotion: Promotion) -> None:
    """Two enabled promotions may not cover one product for one customer type on one day: a line must never have
    to choose between them."""
    others = (
        session.query(Promotion)
        .filter(
            Promotion.enabled.is_(True),
            Promotion.id != (promotion.id or 0),
            Promotion.start_date <= promotion.end_date,
            Promotion.end_date >= promotion.start_date,
        )
        .all()
    )
    if not others:
        return
    mine = covered_product_ids(session, promotion)
    my_types = {t.id for t in promotion.customer_types}
    for other in others:
        their_types = {t.id for t in other.customer_types}
        if my_types and their_types and not my_types & their_types:
            continue
        shared = mine & covered_product_ids(session, other)
        if shared:
            from app.base_data.models import Product

            product = session.get(Product, min(shared))
            raise BusinessError(
                _(
                    "Promotion “%(other)s” (%(start)s to %(end)s) already covers %(product)s for these customers; "
                    "promotions on one product may not overlap.",
                    other=other.name,
                    start=other.start_date.isoformat(),
                    end=other.end_date.isoformat(),
                    product=str(product),
                ),
                409,
            )


# ------------------------------------------------------------------ lines


def matching(session, product, customer, day: dt.date) -> list[Promotion]:
    candidates = (
        session.query(Promotion)
        .filter(Promotion.enabled.is_(True), Promotion.start_date <= day, Promotion.end_date >= day)
        .filter(or_(Promotion.products.any(id=product.id), Promotion.categories.any()))
        .order_by(Promotion.id)
        .all()
    )
    return [p for p in candidates if covers_product(p, product) and covers_customer(p, customer)]


@dataclass
class Pricing:
    unit_price: Decimal
    discount: Decimal  # percent
    amount: Decimal
    promotion: Promotion | None = None


def promotion_pricing(promotion: Promotion, product, qty: Decimal) -> Pricing | None:
    """The line a promotion gives for this quantity, or None when it gives nothing (e.g. too few to get one free)."""
    sale = money(product.sale_price or 0)
    if promotion.rule == PERCENT:
        pct = Decimal(promotion.percent).quantize(CENT)
        return Pricing(sale, pct, money(qty * sale * (HUNDRED - pct) / HUNDRED), promotion)
    if promotion.rule == FIXED_PRICE:
        return Pricing(money(promotion.price), Decimal("0.00"), money(qty * Decimal(promotion.price)), promotion)
    # buy N get M free: of every N + M units, M are free; the amount is exact, the discount % only shows it
    bundle = Decimal(promotion.buy_qty) + Decimal(promotion.free_qty)
    free = (qty / bundle).to_integral_value(rounding=ROUND_FLOOR) * Decimal(promotion.free_qty)
    if free <= 0 or sale <= 0:
        return None
    return Pricing(sale, (free * HUNDRED / qty).quantize(CENT), money((qty - free) * sale), promotion)


def price_line(session, customer, product, qty: Decimal, day: dt.date, *, base_price: Decimal, agreed: bool) -> Pricing:
    """The automatic price of a line: `base_price` is the customer price (agreed=True) or the volume/sale price."""
    base = Pricing(base_price, Decimal("0.00"), money(qty * base_price))
    if agreed:
        return base
    found = matching(session, product, customer, day)
    if len(found) > 1:
        raise_overlap(product, found)
    if not found:
        return base
    offer = promotion_pricing(found[0], product, qty)
    return offer if offer is not None and offer.amount < base.amount else base


def raise_overlap(product, found: list[Promotion]) -> None:
    raise BusinessError(
        _(
            "Several promotions apply to %(product)s: %(names)s; an administrator must end all but one.",
            product=str(product),
            names="、".join(p.name for p in found),
        ),
        409,
    )


def named_promotion(session, promotion_id: int, customer, product, qty: Decimal, day: dt.date, n: int) -> Pricing:
    """A line that names its promotion (chosen in the form or sent by the API) is priced by it, if it applies."""
    promotion = session.get(Promotion, promotion_id)
    if promotion is None:
        raise BusinessError(_("Line %(n)s: no such promotion.", n=n), 400)
    found = matching(session, product, customer, day)
    if len(found) > 1:
        raise_overlap(product, found)
    offer = promotion_pricing(promotion, product, qty) if promotion in found else None
    if offer is None:
        raise BusinessError(
            _(
                "Line %(n)s: promotion “%(name)s” does not apply to %(product)s for this customer on %(day)s.",
                n=n,
                name=promotion.name,
                product=str(product),
                day=day.isoformat(),
            ),
            409,
        )
    return offer


def active_promotions(session, day: dt.date) -> list[Promotion]:
    return (
        session.query(Promotion)
        .filter(Promotion.enabled.is_(True), Promotion.start_date <= day, Promotion.end_date >= day)
        .order_by(Promotion.name)
        .all()
    )
