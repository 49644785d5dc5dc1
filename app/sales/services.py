"""Sales rules: prices, lines and totals, order approval with red-line prices and credit control, receipts,
refunds, commissions and expense claims. Pages, the REST API and the CLI all call these functions."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _
from sqlalchemy import case, func, or_, update

from app.base_data.models import TERM_CREDIT
from app.core import workflow
from app.core.errors import BusinessError, Forbidden, NotFound
from app.core.formatting import format_money, format_qty, local_today
from app.core.models import CENT, ZERO, utcnow
from app.core.scope import ensure_visible, scope_query
from app.core.validation import parse_id, strip_text
from app.promotions import services as promotions
from app.sales.models import (
    CASH_DISCOUNT,
    CLAIM,
    CLAWBACK,
    CONVERTED,
    OPEN,
    PAID,
    PARTIAL,
    PAYMENT_METHODS,
    REBATE,
    UNPAID,
    Commission,
    CommissionRate,
    CustomerPrice,
    Expense,
    PriceBreak,
    Quotation,
    QuotationLine,
    Rebate,
    RebateAgreement,
    Receipt,
    ReceivableCredit,
    Refund,
    SalesOrder,
    SalesOrderLine,
)

MANAGER_ROLES = {"Admin", "SalesManager"}
PAYOUT_ROLES = {"Admin", "Finance"}
HUNDRED = Decimal(100)
# money columns may come back from SQLite as binary floats; compare against half a cent, never exactly
HALF_CENT = Decimal("0.005")


def roles_of(user) -> set[str]:
    return {r.name for r in user.roles} if user is not None else set()


def is_manager(user) -> bool:
    return bool(roles_of(user) & MANAGER_ROLES)


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------ prices


def base_price(session, end_customer_id: int | None, product, qty) -> tuple[Decimal, bool]:
    """(price, agreed): the customer's own price (agreed), else the product's volume price break, else its sale
    price."""
    if end_customer_id:
        agreed = (
            session.query(CustomerPrice.price)
            .filter(CustomerPrice.end_customer_id == end_customer_id, CustomerPrice.product_id == product.id)
            .scalar()
        )
        if agreed is not None:
            return money(agreed), True
    qty = Decimal(qty or 0)
    tier = (
        session.query(PriceBreak.unit_price)
        .filter(PriceBreak.product_id == product.id, PriceBreak.min_qty <= qty)
        .order_by(PriceBreak.min_qty.desc())
        .first()
    )
    if tier is not None and qty > 0:
        return money(tier[0]), False
    return money(product.sale_price or 0), False


def suggested_price(session, end_customer_id: int | None, product, qty) -> Decimal:
    """Customer price list first, then the product's volume price breaks, then its sale price."""
    return base_price(session, end_customer_id, product, qty)[0]


def line_pricing(session, customer, product, qty, day: dt.date) -> promotions.Pricing:
    """The automatic line: customer price, or the cheaper of a promotion and the volume price (see promotions)."""
    price, agreed = base_price(session, customer.id if customer else None, product, qty)
    return promotions.price_line(session, customer, product, Decimal(qty), day, base_price=price, agreed=agreed)


def validate_customer_price(item: CustomerPrice) -> None:
    strip_text(item, "note")
    if item.end_customer is None or item.product is None:
        raise BusinessError(_("Choose a customer and a product."), 400)
    ensure_visible(item.end_customer)
    _positive(item.price, _("Price"))
    item.owner_id = item.end_customer.owner_id  # the price list follows the customer
    item.owner = item.end_customer.owner


def validate_price_break(item: PriceBreak) -> None:
    if item.product is None:
        raise BusinessError(_("Choose a product."), 400)
    _positive(item.min_qty, _("From Quantity"))
    _positive(item.unit_price, _("Unit Price"))


def _positive(value, label) -> None:
    if value is None or Decimal(value) <= 0:
        raise BusinessError(_("%(label)s must be greater than 0.", label=label), 400, field=label)


# ------------------------------------------------------------------ lines


def _decimal(raw, label, line_no: int) -> Decimal:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise BusinessError(_("Line %(n)s: %(label)s is required.", n=line_no, label=label), 400)
    if isinstance(raw, bool):
        raise BusinessError(_("Line %(n)s: %(label)s is not a number.", n=line_no, label=label), 400)
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise BusinessError(_("Line %(n)s: %(label)s is not a number.", n=line_no, label=label), 400) from None
    if not value.is_finite() or abs(value) >= Decimal("1e11"):
        raise BusinessError(_("Line %(n)s: %(label)s is not a number.", n=line_no, label=label), 400)
    return value


def build_lines(session, doc, rows: list[dict], line_cls, price_for=None) -> list:
    """Validate submitted lines and return new line objects; a missing price comes from price_for(product, qty),
    by default suggested_price() for the document's customer."""
    from app.base_data.models import Product

    if not isinstance(rows, list) or not rows:
        raise BusinessError(_("An order needs at least one line."), 400)
    lines = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise BusinessError(_("Line %(n)s is not valid.", n=n), 400)
        product_id = parse_id(row.get("product_id"))
        product = session.get(Product, product_id) if product_id else None
        if product is None:
            raise BusinessError(_("Line %(n)s: choose a product.", n=n), 400)
        if not product.enabled:
            raise BusinessError(_("Line %(n)s: product “%(p)s” is disabled.", n=n, p=str(product)), 400)
        qty = _decimal(row.get("qty"), _("Quantity"), n)
        if qty <= 0:
            raise BusinessError(_("Line %(n)s: the quantity must be greater than 0.", n=n), 400)
        if qty != qty.quantize(Decimal("0.001")):
            raise BusinessError(_("Line %(n)s: at most 3 decimals in the quantity.", n=n), 400)
        raw_price = row.get("unit_price")
        pricing = None
        promotion_id = parse_id(row.get("promotion_id")) if price_for is None else None
        day = getattr(doc, "doc_date", None) or local_today()
        if promotion_id:
            pricing = promotions.named_promotion(session, promotion_id, doc.end_customer, product, qty, day, n)
            price = pricing.unit_price
        elif raw_price is None or (isinstance(raw_price, str) and not raw_price.strip()):
            if price_for is not None:
                price = price_for(product, qty)
            else:
                pricing = line_pricing(session, doc.end_customer, product, qty, day)
                price = pricing.unit_price
        else:
            price = _decimal(raw_price, _("Unit Price"), n)
        if price <= 0:
            raise BusinessError(_("Line %(n)s: the unit price must be greater than 0.", n=n), 400)
        if price != price.quantize(CENT):
            raise BusinessError(_("Line %(n)s: at most 2 decimals in the unit price.", n=n), 400)
        raw_discount = row.get("discount")
        discount = ZERO if raw_discount in (None, "") else _decimal(raw_discount, _("Discount %"), n)
        if discount < 0 or discount > 100:
            raise BusinessError(_("Line %(n)s: the discount must be between 0 and 100%%.", n=n), 400)
        amount = money(qty * price * (HUNDRED - discount) / HUNDRED)
        if pricing is not None and pricing.promotion is not None:
            # the promotion decides the line (a buy-N-get-M amount is exact; its discount % only shows it)
            discount, amount = pricing.discount, pricing.amount
        note = row.get("note")
        line = line_cls(
            line_no=n,
            product=product,
            product_id=product.id,
            qty=qty,
            unit_price=price,
            discount=discount.quantize(CENT),
            amount=amount,
            note=(str(note).strip()[:255] or None) if note else None,
        )
        if pricing is not None and pricing.promotion is not None:
            line.promotion = pricing.promotion
            line.promotion_id = pricing.promotion.id
        lines.append(line)
    return lines


def _validate_header(doc) -> None:
    strip_text(doc, "project_name", "note")
    if doc.end_customer is None:
        raise BusinessError(_("Choose a customer."), 400, field=_("End Customer"))
    if doc.doc_date is None:
        doc.doc_date = local_today()
    ensure_visible(doc.end_customer)
    if doc.end_customer.in_pool:
        raise BusinessError(_("“%(name)s” is in the public pool; claim it first.", name=doc.end_customer.name), 409)
    if doc.channel is not None:
        ensure_visible(doc.channel)
    if doc.end_customer_id is None:
        doc.end_customer_id = doc.end_customer.id
    if doc.owner is None:
        # the customer's salesperson unless someone is chosen (set through the relationship: a blank form field
        # has already set it to None, and that would win over a bare owner_id at flush)
        doc.owner = doc.end_customer.owner


# ------------------------------------------------------------------ quotations


def save_quotation(session, quotation: Quotation, rows: list[dict]) -> None:
    if quotation.id is not None:
        ensure_quotation_open(quotation)
    _validate_header(quotation)
    if quotation.valid_until and quotation.valid_until < quotation.doc_date:
        raise BusinessError(_("The validity date cannot be before the quotation date."), 400)
    lines = build_lines(session, quotation, rows, QuotationLine)
    quotation.lines = lines
    quotation.total_amount = sum((line.amount for line in lines), ZERO)


def ensure_quotation_open(quotation: Quotation) -> None:
    if quotation.status != OPEN:
        raise BusinessError(_("Only an open quotation can be changed."), 409)


def ensure_quotation_deletable(quotation: Quotation) -> None:
    if quotation.status == CONVERTED:
        raise BusinessError(_("A converted quotation is kept with its order."), 409)


def convert_quotation(session, quotation: Quotation, user) -> SalesOrder:
    """转为订单: a draft order with the quotation's customer, channel and lines (prices as quoted)."""
    if quotation.status != OPEN:
        raise BusinessError(_("Quotation %(no)s is not open.", no=quotation.number), 409)
    # guarded: two clicks at the same moment make one order
    claimed = session.execute(
        update(Quotation)
        .where(Quotation.id == quotation.id, Quotation.status == OPEN)
        .values(status=CONVERTED)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise BusinessError(_("Quotation %(no)s is not open.", no=quotation.number), 409)
    order = SalesOrder(
        end_customer=quotation.end_customer,
        end_customer_id=quotation.end_customer_id,
        channel=quotation.channel,
        doc_date=local_today(),
        project_name=quotation.project_name,
        owner_id=quotation.owner_id,
        note=quotation.note,
    )
    rows = [
        {
            "product_id": line.product_id,
            "qty": line.qty,
            "unit_price": line.unit_price,
            "discount": line.discount,
            # the quoted promotion carries over while it still runs; otherwise the quoted price stands
            "promotion_id": line.promotion_id
            if line.promotion is not None
            and line.promotion in promotions.matching(session, line.product, quotation.end_customer, order.doc_date)
            else None,
        }
        for line in quotation.lines
    ]
    save_order(session, order, rows, user)
    session.add(order)
    session.flush()
    session.expire(quotation, ["status"])
    quotation.order_id = order.id
    return order


# ------------------------------------------------------------------ orders


def ensure_editable(order: SalesOrder, user) -> None:
    """Owner edits only in draft/rejected; after submission only SalesManager/Admin; approved orders are locked."""
    if order.status in (workflow.APPROVED, workflow.CANCELLED):
        raise BusinessError(_("An approved or cancelled order cannot be changed."), 409)
    if user is not None and not workflow.owner_may_edit(order, user):
        raise Forbidden(_("After submission only a sales manager or an administrator can change this order."))


def save_order(session, order: SalesOrder, rows: list[dict] | None, user) -> None:
    """Validate the header, replace the lines (when given) and compute totals, red-line flag and due date."""
    if order.id is not None:
        ensure_editable(order, user)
    _validate_header(order)
    apply_payment_term(order)
    if order.order_type is not None and not order.order_type.enabled:
        raise BusinessError(_("Order type “%(name)s” is disabled.", name=order.order_type.name), 400)
    old_total = Decimal(order.total_amount or 0)
    if rows is not None:
        lines = build_lines(session, order, rows, SalesOrderLine)
        for line in lines:
            line.floor_price = line.product.floor_price
        order.lines = lines
    total = sum((Decimal(line.amount) for line in order.lines), ZERO)
    if not order.lines:
        raise BusinessError(_("An order needs at least one line."), 400)
    if total < order.net_received - HALF_CENT:
        raise BusinessError(
            _(
                "The order total %(total)s cannot be less than the %(received)s already received.",
                total=format_money(total),
                received=format_money(order.net_received),
            ),
            409,
        )
    order.total_amount = total
    order.price_exception = any(line.below_floor for line in order.lines)
    if order.id is not None and money(old_total) != money(total):
        order.credit_override_reason = None  # an override covered the old amount only
        order.credit_override_amount = None
        order.credit_override_by_id = None
    if order.received_amount is None:
        order.received_amount = ZERO
        order.refunded_amount = ZERO
        order.commission_base = ZERO
        order.credited_amount = ZERO
    order.payment_status = payment_status(order.total_amount, order.net_received, order.credited_amount)


def apply_payment_term(order: SalesOrder) -> None:
    """付款条件: the order's term (the customer's by default on a new order) gives the days to the due date; cash and
    prepayment are due on the order date. Without a term the days entered on the order count."""
    if order.payment_term is None and order.id is None and order.payment_term_id is None:
        order.payment_term = order.end_customer.payment_term
    term = order.payment_term
    if term is not None:
        if not term.enabled and (order.id is None or {"payment_term", "payment_term_id"} & _changed(order)):
            raise BusinessError(_("Payment term “%(name)s” is disabled.", name=term.name), 400)
        order.payment_days = term.days if term.kind == TERM_CREDIT else 0
    if order.payment_days is None:
        order.payment_days = 0
    if order.payment_days < 0 or order.payment_days > 3650:
        raise BusinessError(_("Payment terms must be between 0 and 3650 days."), 400)
    order.due_date = order.doc_date + dt.timedelta(days=order.payment_days)
    if term is not None and Decimal(term.discount_percent or 0) > 0:
        order.discount_percent = Decimal(term.discount_percent)
        order.discount_until = order.doc_date + dt.timedelta(days=term.discount_days)
    else:
        order.discount_percent, order.discount_until = ZERO, None


def _changed(item) -> set[str]:
    from sqlalchemy import inspect

    state = inspect(item)
    return {a.key for a in state.attrs if a.history.has_changes()}


def payment_status(total, net_received, credited=ZERO) -> str:
    """未收款 / 部分收款 / 已收款; credits (cash discount, rebate) settle the rest of an order like money."""
    settled = Decimal(net_received) + Decimal(credited or 0)
    if settled <= HALF_CENT:
        return UNPAID
    if settled >= Decimal(total) - HALF_CENT:
        return PAID
    return PARTIAL


def ensure_deletable(order: SalesOrder, user) -> None:
    ensure_editable(order, user)
    if order.net_received > 0 or Decimal(order.received_amount or 0) > 0:
        raise BusinessError(_("Money was received on order %(no)s; it cannot be deleted.", no=order.number), 409)


# ---- credit control


def credit_position(session, order: SalesOrder) -> tuple[Decimal, Decimal]:
    """(limit, exposure): outstanding of the customer's other approved orders + what this order still owes."""
    customer = order.end_customer
    others = (
        session.query(func.coalesce(func.sum(SalesOrder.outstanding_amount), 0))
        .filter(
            SalesOrder.end_customer_id == customer.id,
            SalesOrder.status == workflow.APPROVED,
            SalesOrder.id != (order.id or 0),
        )
        .scalar()
    )
    exposure = money(Decimal(str(others))) + money(order.outstanding_amount)
    return money(customer.credit_limit or 0), exposure


def shipped_not_invoiced(session, end_customer_id: int) -> Decimal:
    """已发货未开票: goods delivered on the customer's approved orders beyond what was invoiced. It is part of the
    exposure (the order total is counted until paid), shown on its own because it is not yet a claim on paper."""
    from sqlalchemy import select

    shipped = (
        select(
            func.coalesce(
                func.sum(
                    SalesOrderLine.shipped_qty * SalesOrderLine.unit_price * (100 - SalesOrderLine.discount) / 100
                ),
                0,
            )
        )
        .where(SalesOrderLine.order_id == SalesOrder.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(shipped - SalesOrder.invoiced_amount).where(
            SalesOrder.end_customer_id == end_customer_id,
            SalesOrder.status == workflow.APPROVED,
            SalesOrder.outstanding_amount > HALF_CENT,
        )
    )
    return money(sum((max(Decimal(str(v)), ZERO) for (v,) in rows), ZERO))


def check_credit(session, order: SalesOrder) -> None:
    """Refuse when the exposure passes the customer's credit limit (0 = no limit), unless a manager overrode it."""
    limit, exposure = credit_position(session, order)
    if limit <= 0 or exposure <= limit:
        return
    if order.credit_override_reason and exposure <= money(order.credit_override_amount or 0):
        return
    raise BusinessError(
        _(
            "Over the credit limit of %(customer)s: limit %(limit)s, exposure %(exposure)s (of which shipped but "
            "not invoiced %(uninvoiced)s), over by %(excess)s.",
            customer=order.end_customer.name,
            limit=format_money(limit),
            exposure=format_money(exposure),
            uninvoiced=format_money(shipped_not_invoiced(session, order.end_customer_id)),
            excess=format_money(exposure - limit),
        ),
        409,
    )


def check_prepayment(order: SalesOrder) -> None:
    """预付款: goods of a prepaid order leave only once it is paid in full."""
    from app.base_data.models import TERM_PREPAID

    term = order.payment_term
    if term is not None and term.kind == TERM_PREPAID and order.outstanding_amount > HALF_CENT:
        raise BusinessError(
            _(
                "Order %(no)s is on prepayment: it ships once paid in full (%(left)s still to receive).",
                no=order.number,
                left=format_money(order.outstanding_amount),
            ),
            409,
        )


def override_credit(session, order: SalesOrder, user, reason: str | None) -> None:
    """A sales manager accepts the current exposure for this order, with a reason kept in the trail."""
    if not is_manager(user):
        raise Forbidden(_("Only a sales manager can override the credit limit."))
    if not (reason or "").strip():
        raise BusinessError(_("A reason is required to override the credit limit."), 400)
    if order.status in (workflow.CANCELLED,):
        raise BusinessError(_("This order is cancelled."), 409)
    limit, exposure = credit_position(session, order)
    order.credit_override_reason = reason.strip()
    order.credit_override_amount = exposure
    order.credit_override_by_id = user.id
    workflow.note(
        session,
        order,
        user,
        "credit_override",
        _(
            "%(reason)s (limit %(limit)s, exposure %(exposure)s)",
            reason=reason.strip(),
            limit=format_money(limit),
            exposure=format_money(exposure),
        ),
    )


# ---- workflow


def submit_order(session, order: SalesOrder, user, comment: str | None = None) -> None:
    if not workflow.owner_may_edit(order, user):
        raise Forbidden(_("Only the owner or a sales manager can submit this order."))
    if not order.lines:
        raise BusinessError(_("An order needs at least one line."), 400)
    disabled = [str(line.product) for line in order.lines if not line.product.enabled]
    if disabled:
        raise BusinessError(_("Disabled products on this order: %(p)s.", p="、".join(disabled)), 409)
    check_credit(session, order)
    workflow.submit(session, order, user, comment)


def approve_order(session, order: SalesOrder, user, comment: str | None = None) -> None:
    if order.price_exception and not is_manager(user):
        raise Forbidden(_("Prices below the red-line price can only be approved by a sales manager."))
    accepted = [line for line in order.lines if line.below_floor]
    if accepted:
        prices = "; ".join(
            f"{line.product.model_no} {format_money(line.net_price)} < {format_money(line.floor_price)}"
            for line in accepted
        )
        accepted_text = str(_("Red-line prices accepted: %(prices)s", prices=prices))
        comment = f"{comment} | {accepted_text}" if comment else accepted_text
    workflow.approve(session, order, user, comment)
    for line in accepted:
        if line.price_accepted_by_id is None:
            line.price_accepted_by_id = user.id
    if order.status == workflow.APPROVED:
        order.approved_at = utcnow()
        _mark_deal(order)


def _mark_deal(order: SalesOrder) -> None:
    """Churn rules count from the customers' last deal."""
    for customer in (order.end_customer, order.channel):
        if customer is not None and (customer.last_deal_at is None or customer.last_deal_at < order.doc_date):
            customer.last_deal_at = order.doc_date


def reject_order(session, order: SalesOrder, user, comment: str | None) -> None:
    workflow.reject(session, order, user, comment)


def reopen_order(session, order: SalesOrder, user, comment: str | None = None) -> None:
    if not workflow.owner_may_edit(order, user):
        raise Forbidden(_("Only the owner or a sales manager can do this."))
    workflow.reopen(session, order, user, comment)


def cancel_order(session, order: SalesOrder, user, comment: str | None = None) -> None:
    """Cancel an order nothing was shipped or kept money against (refund first)."""
    if order.status == workflow.APPROVED and not is_manager(user):
        raise Forbidden(_("Only a sales manager can cancel an approved order."))
    if not workflow.owner_may_edit(order, user) and order.status != workflow.APPROVED:
        raise Forbidden(_("Only the owner or a sales manager can do this."))
    if any(Decimal(line.shipped_qty or 0) > 0 for line in order.lines):  # shipped is net of returns
        raise BusinessError(_("Goods were shipped on order %(no)s; return them first.", no=order.number), 409)
    if order.net_received > HALF_CENT:
        raise BusinessError(
            _(
                "%(amount)s was received on order %(no)s; refund it first.",
                amount=format_money(order.net_received),
                no=order.number,
            ),
            409,
        )
    workflow.cancel(session, order, user, comment)


# ------------------------------------------------------------------ receipts and refunds


def _order_for_money(item) -> SalesOrder:
    order = item.order
    if order is None:
        raise BusinessError(_("Choose an order."), 400, field=_("Sales Order"))
    ensure_visible(order)
    if order.status == workflow.CANCELLED:
        raise BusinessError(_("Order %(no)s is cancelled.", no=order.number), 409)
    item.order_id = order.id
    item.owner_id = order.owner_id  # the money belongs to the order's salesperson
    item.owner = order.owner
    if item.doc_date is None:
        item.doc_date = local_today()
    return order


def _refresh_payment_status(session, order_id: int) -> None:
    net = SalesOrder.received_amount - SalesOrder.refunded_amount + SalesOrder.credited_amount
    session.execute(
        update(SalesOrder)
        .where(SalesOrder.id == order_id)
        .values(
            payment_status=case(
                (net <= HALF_CENT, UNPAID),
                (net >= SalesOrder.total_amount - HALF_CENT, PAID),
                else_=PARTIAL,
            )
        )
        .execution_options(synchronize_session=False)
    )


def post_receipt(session, receipt: Receipt) -> None:
    """收款: many per order, each > 0, their sum never above the order total (one guarded UPDATE decides)."""
    strip_text(receipt, "note")
    _positive(receipt.amount, _("Amount"))
    if receipt.amount != money(receipt.amount):
        raise BusinessError(_("At most 2 decimals in the amount."), 400)
    if receipt.method not in PAYMENT_METHODS:
        raise BusinessError(_("Choose a payment method."), 400)
    order = _order_for_money(receipt)
    amount = Decimal(receipt.amount)
    discount = cash_discount(order, receipt)
    result = session.execute(
        update(SalesOrder)
        .where(
            SalesOrder.id == order.id,
            SalesOrder.outstanding_amount - amount - discount > -HALF_CENT,
        )
        .values(
            received_amount=SalesOrder.received_amount + amount,
            credited_amount=SalesOrder.credited_amount + discount,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(order)
        raise BusinessError(
            _(
                "Receipts would exceed the order total: total %(total)s, received %(received)s, at most %(left)s more.",
                total=format_money(order.total_amount),
                received=format_money(order.net_received),
                left=format_money(max(order.outstanding_amount - discount, ZERO)),
            ),
            409,
        )
    receipt.discount_amount = discount
    if discount > 0:
        receipt.cash_discount = True
        receipt.credits.append(
            ReceivableCredit(
                kind=CASH_DISCOUNT,
                order_id=order.id,
                owner_id=order.owner_id,
                doc_date=receipt.doc_date,
                amount=discount,
                note=str(_("%(p)s%% for payment by %(d)s", p=order.discount_percent, d=order.discount_until)),
            )
        )
    _refresh_payment_status(session, order.id)
    session.expire(order, ["received_amount", "credited_amount", "payment_status"])


def cash_discount(order: SalesOrder, receipt: Receipt) -> Decimal:
    """现金折扣 earned by this receipt: with a term like 2/10, money received up to and including the last discount day
    settles amount / (1 − 2%). Asked for (the receipt's box ticked) it must qualify; not asked for, it is taken only
    when the receipt pays the whole balance less the discount — the usual way customers use it."""
    pct = Decimal(order.discount_percent or 0)
    amount = Decimal(receipt.amount)
    in_time = order.discount_until is not None and receipt.doc_date <= order.discount_until
    if receipt.cash_discount:
        if pct <= 0:
            raise BusinessError(_("Order %(no)s has no cash discount in its payment terms.", no=order.number), 400)
        if not in_time:
            raise BusinessError(
                _(
                    "The cash discount of order %(no)s was for payment by %(until)s; this receipt is dated %(day)s.",
                    no=order.number,
                    until=order.discount_until.isoformat(),
                    day=receipt.doc_date.isoformat(),
                ),
                409,
            )
        return money(amount * pct / (HUNDRED - pct))
    if pct <= 0 or not in_time:
        return ZERO
    rest = money(order.outstanding_amount - amount)
    return rest if rest > 0 and abs(rest - amount * pct / (HUNDRED - pct)) <= CENT else ZERO


def delete_receipt(session, receipt: Receipt, user) -> None:
    """A wrong receipt is taken back by Finance/Admin; not below what was refunded or claimed as commission."""
    if not roles_of(user) & PAYOUT_ROLES:
        raise Forbidden(_("Only finance or an administrator can delete a receipt."))
    amount = Decimal(receipt.amount)
    discount = Decimal(receipt.discount_amount or 0)
    result = session.execute(
        update(SalesOrder)
        .where(
            SalesOrder.id == receipt.order_id,
            SalesOrder.received_amount - SalesOrder.refunded_amount - SalesOrder.commission_base - amount > -HALF_CENT,
        )
        .values(
            received_amount=SalesOrder.received_amount - amount,
            credited_amount=SalesOrder.credited_amount - discount,  # its cash discount goes with it
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BusinessError(
            _("This receipt is already refunded or paid out as commission; post a refund instead."), 409
        )
    _refresh_payment_status(session, receipt.order_id)
    session.expire(receipt.order, ["received_amount", "credited_amount", "payment_status"])


def post_refund(session, refund: Refund, user) -> Commission | None:
    """退款: amount ≤ what was received (net); commission already claimed above the new net is clawed back."""
    strip_text(refund, "reason")
    if not refund.reason:
        raise BusinessError(_("A reason is required for a refund."), 400, field=_("Reason"))
    _positive(refund.amount, _("Amount"))
    if refund.amount != money(refund.amount):
        raise BusinessError(_("At most 2 decimals in the amount."), 400)
    order = _order_for_money(refund)
    amount = Decimal(refund.amount)
    result = session.execute(
        update(SalesOrder)
        .where(
            SalesOrder.id == order.id,
            SalesOrder.received_amount - SalesOrder.refunded_amount - amount > -HALF_CENT,
        )
        .values(refunded_amount=SalesOrder.refunded_amount + amount)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(order)
        raise BusinessError(
            _(
                "A refund cannot exceed what was received: received %(received)s, refund %(amount)s.",
                received=format_money(order.net_received),
                amount=format_money(amount),
            ),
            409,
        )
    _refresh_payment_status(session, order.id)
    session.flush()
    session.refresh(order)
    return clawback(session, order, user, _("Refund %(reason)s", reason=refund.reason))


# ------------------------------------------------------------------ commissions


def commission_rate(session, channel) -> Decimal:
    if channel.level_id is None:
        raise BusinessError(_("Channel “%(name)s” has no level; no commission rate applies.", name=channel.name), 409)
    rate = session.query(CommissionRate.rate).filter(CommissionRate.level_id == channel.level_id).scalar()
    if rate is None:
        raise BusinessError(_("No commission rate is set for channel level %(level)s.", level=channel.level.name), 409)
    return Decimal(rate)


def apply_commission(session, order: SalesOrder, user, comment: str | None = None) -> Commission:
    """申请佣金: rate of the channel's level × received money not yet claimed, then submitted for approval."""
    ensure_visible(order)
    if order.channel is None:
        raise BusinessError(_("Order %(no)s has no channel; no commission applies.", no=order.number), 409)
    if order.status != workflow.APPROVED:
        raise BusinessError(_("Commission is claimed on approved orders only."), 409)
    rate = commission_rate(session, order.channel)
    session.refresh(order)
    old_base = Decimal(order.commission_base or 0)
    base = money(commissionable_base(order) - old_base)
    if base <= 0:
        raise BusinessError(
            _("No received money on order %(no)s is left to claim commission on.", no=order.number), 409
        )
    result = session.execute(
        update(SalesOrder)
        .where(SalesOrder.id == order.id, SalesOrder.commission_base == old_base)
        .values(commission_base=SalesOrder.commission_base + base)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BusinessError(_("This document was changed by someone else meanwhile; reload and try again."), 409)
    item = Commission(
        doc_date=local_today(),
        kind=CLAIM,
        channel_id=order.channel_id,
        order_id=order.id,
        owner_id=order.owner_id,
        base_amount=base,
        rate=rate,
        amount=money(base * rate / HUNDRED),
        note=comment,
    )
    session.add(item)
    session.flush()
    workflow.submit(session, item, user, comment)
    session.expire(order, ["commission_base"])
    return item


def commissionable_base(order: SalesOrder) -> Decimal:
    """Commission is earned on money received, and not on goods that came back."""
    returned = sum((Decimal(line.returned_qty or 0) * line.net_price for line in order.lines), Decimal(0))
    return max(min(order.net_received, Decimal(order.total_amount) - money(returned)), ZERO)


def clawback(session, order: SalesOrder, user, reason) -> Commission | None:
    """A negative commission for claimed bases above what is still earned (after a refund or a return)."""
    excess = money(Decimal(order.commission_base or 0) - commissionable_base(order))
    if order.channel_id is None or excess <= 0:
        return None
    last = (
        session.query(Commission)
        .filter(Commission.order_id == order.id, Commission.kind == CLAIM, Commission.status != workflow.REJECTED)
        .order_by(Commission.id.desc())
        .first()
    )
    rate = Decimal(last.rate) if last is not None else commission_rate(session, order.channel)
    session.execute(
        update(SalesOrder)
        .where(SalesOrder.id == order.id)
        .values(commission_base=SalesOrder.commission_base - excess)
        .execution_options(synchronize_session=False)
    )
    item = Commission(
        doc_date=local_today(),
        kind=CLAWBACK,
        channel_id=order.channel_id,
        order_id=order.id,
        owner_id=order.owner_id,
        base_amount=-excess,
        rate=rate,
        amount=-money(excess * rate / HUNDRED),
        status=workflow.APPROVED,
        note=str(reason),
    )
    session.add(item)
    session.flush()
    workflow.note(session, item, user, "clawback", str(reason))
    session.expire(order, ["commission_base"])
    return item


def approve_commission(session, item: Commission, user, comment: str | None = None) -> None:
    workflow.approve(session, item, user, comment)


def reject_commission(session, item: Commission, user, comment: str | None) -> None:
    """A rejected claim frees its base, so the salesperson can claim again (rejections are final)."""
    workflow.reject(session, item, user, comment)
    session.execute(
        update(SalesOrder)
        .where(SalesOrder.id == item.order_id)
        .values(commission_base=SalesOrder.commission_base - Decimal(item.base_amount))
        .execution_options(synchronize_session=False)
    )


def pay_commission(session, item: Commission, user, note: str | None = None) -> None:
    """发放: Finance records the payout of an approved commission (a clawback is recorded as deducted)."""
    if not roles_of(user) & PAYOUT_ROLES:
        raise Forbidden(_("Only finance or an administrator can record a payout."))
    if item.status != workflow.APPROVED:
        raise BusinessError(_("Only an approved commission can be paid out."), 409)
    result = session.execute(
        update(Commission)
        .where(Commission.id == item.id, Commission.paid_at.is_(None))
        .values(paid_at=local_today(), paid_by_id=user.id, payout_note=(note or "").strip() or None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BusinessError(_("Commission %(no)s is already paid out.", no=item.number), 409)
    workflow.note(session, item, user, "pay", note)
    session.expire(item, ["paid_at", "paid_by_id", "payout_note"])


def validate_commission_rate(item: CommissionRate) -> None:
    strip_text(item, "note")
    if item.level is None:
        raise BusinessError(_("Choose a channel level."), 400)
    if item.rate is None or Decimal(item.rate) < 0 or Decimal(item.rate) > 100:
        raise BusinessError(_("The rate must be between 0 and 100%%."), 400, field=_("Rate %"))


# ------------------------------------------------------------------ expenses


def validate_expense(item: Expense) -> None:
    strip_text(item, "note")
    if item.expense_type is None:
        raise BusinessError(_("Choose an expense type."), 400, field=_("Expense Type"))
    if not item.expense_type.enabled:
        raise BusinessError(_("Expense type “%(name)s” is disabled.", name=item.expense_type.name), 400)
    _positive(item.amount, _("Amount"))
    if item.amount != money(item.amount):
        raise BusinessError(_("At most 2 decimals in the amount."), 400)
    if item.doc_date is None:
        item.doc_date = local_today()
    if item.channel is not None:
        ensure_visible(item.channel)


def ensure_expense_editable(item: Expense, user) -> None:
    if item.status in (workflow.APPROVED, workflow.CANCELLED):
        raise BusinessError(_("An approved claim cannot be changed."), 409)
    if user is not None and not workflow.owner_may_edit(item, user):
        raise Forbidden(_("After submission only a sales manager or an administrator can change this claim."))


def submit_expense(session, item: Expense, user, comment: str | None = None) -> None:
    if not workflow.owner_may_edit(item, user):
        raise Forbidden(_("Only the owner or a sales manager can submit this claim."))
    workflow.submit(session, item, user, comment)


# ------------------------------------------------------------------ sales invoices


def tax_split(amount: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """(without tax, tax) of an amount with tax: the tax is what is left after rounding the net to the cent."""
    net = money(Decimal(amount) * HUNDRED / (HUNDRED + Decimal(rate)))
    return net, money(amount) - net


def issue_invoice(session, invoice, rows: list[dict], user) -> None:
    """销售发票 for one customer's approved orders; no order is invoiced beyond its total (guarded UPDATE)."""
    from app.sales.models import SalesInvoiceLine

    strip_text(invoice, "invoice_no", "note")
    if not invoice.invoice_no:
        raise BusinessError(_("The invoice number is required."), 400, field=_("Invoice No."))
    if invoice.end_customer is None:
        raise BusinessError(_("Choose a customer."), 400, field=_("End Customer"))
    ensure_visible(invoice.end_customer)
    invoice.end_customer_id = invoice.end_customer.id
    if invoice.owner is None:
        invoice.owner = invoice.end_customer.owner
    if invoice.invoice_date is None:
        invoice.invoice_date = local_today()
    rate = Decimal(invoice.tax_rate if invoice.tax_rate is not None else 13)
    if rate < 0 or rate > 100:
        raise BusinessError(_("The tax rate must be between 0 and 100%%."), 400)
    invoice.tax_rate = rate
    if not isinstance(rows, list) or not rows:
        raise BusinessError(_("A document needs at least one line."), 400)
    lines, seen = [], set()
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise BusinessError(_("Line %(n)s is not valid.", n=n), 400)
        try:
            order = get_order(session, parse_id(row.get("order_id")) or 0)
        except NotFound:
            raise BusinessError(_("Line %(n)s: choose an order.", n=n), 400) from None
        if order.end_customer_id != invoice.end_customer_id:
            raise BusinessError(
                _("Line %(n)s: order %(no)s is not %(c)s's.", n=n, no=order.number, c=invoice.end_customer.name), 400
            )
        if order.status != workflow.APPROVED:
            raise BusinessError(_("Line %(n)s: order %(no)s is not approved.", n=n, no=order.number), 409)
        if order.id in seen:
            raise BusinessError(_("Line %(n)s: order %(no)s is on the invoice twice.", n=n, no=order.number), 400)
        seen.add(order.id)
        raw = row.get("amount")
        amount = order.uninvoiced_amount if raw in (None, "") else _decimal(raw, _("Amount"), n)
        if amount <= 0 or amount != money(amount):
            raise BusinessError(_("Line %(n)s: the amount must be greater than 0, with at most 2 decimals.", n=n), 400)
        result = session.execute(
            update(SalesOrder)
            .where(
                SalesOrder.id == order.id, SalesOrder.total_amount - SalesOrder.invoiced_amount - amount > -HALF_CENT
            )
            .values(invoiced_amount=SalesOrder.invoiced_amount + amount)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.refresh(order)
            raise BusinessError(
                _(
                    "Line %(n)s: order %(no)s has only %(left)s left to invoice.",
                    n=n,
                    no=order.number,
                    left=format_money(max(order.uninvoiced_amount, ZERO)),
                ),
                409,
            )
        lines.append(
            SalesInvoiceLine(order_id=order.id, amount=amount, note=(str(row.get("note") or "").strip() or None))
        )
    invoice.lines = lines
    invoice.amount = sum((line.amount for line in lines), ZERO)
    invoice.net_amount, invoice.tax_amount = tax_split(invoice.amount, rate)


def void_invoice(session, invoice, user) -> None:
    """作废: Finance/Admin take an invoice back; its orders can be invoiced again."""
    if not roles_of(user) & PAYOUT_ROLES:
        raise Forbidden(_("Only finance or an administrator can void an invoice."))
    for line in invoice.lines:
        session.execute(
            update(SalesOrder)
            .where(SalesOrder.id == line.order_id)
            .values(invoiced_amount=SalesOrder.invoiced_amount - Decimal(line.amount))
            .execution_options(synchronize_session=False)
        )


# ------------------------------------------------------------------ dunning


def record_dunning(session, order: SalesOrder, user, days_to_next: int = 3):
    """催款 in one click: a follow-up on the order's customer saying what is owed since when, due again in N days."""
    from app.crm.models import Followup

    ensure_visible(order)
    if order.status != workflow.APPROVED or order.outstanding_amount <= HALF_CENT:
        raise BusinessError(_("Order %(no)s owes nothing; there is nothing to chase.", no=order.number), 409)
    today = local_today()
    overdue = (today - order.due_date).days if order.due_date else 0
    content = str(
        _(
            "Payment reminder for order %(no)s: %(amount)s outstanding, due %(due)s (%(days)s days overdue).",
            no=order.number,
            amount=format_money(order.outstanding_amount),
            due=order.due_date.isoformat() if order.due_date else "—",
            days=max(overdue, 0),
        )
    )
    followup = Followup(
        end_customer_id=order.end_customer_id,
        followup_date=today,
        content=content,
        status="open",
        next_date=today + dt.timedelta(days=days_to_next),
        next_plan=str(_("Check that the payment arrived.")),
        owner_id=order.owner_id,
    )
    session.add(followup)
    order.end_customer.last_followup_at = today
    return followup


# ------------------------------------------------------------------ rebates 返利

REBATE_ROLES = {"Admin", "SalesManager", "Finance"}


def validate_rebate_agreement(item: RebateAgreement) -> None:
    strip_text(item, "name", "note")
    if not item.name:
        raise BusinessError(_("Name is required."), 400)
    if (item.end_customer is None) == (item.channel is None):
        raise BusinessError(_("A rebate agreement is with one end customer or one channel: choose exactly one."), 400)
    party = item.party
    ensure_visible(party)
    if item.rate is None or not ZERO < Decimal(item.rate) <= HUNDRED:
        raise BusinessError(_("The rate must be above 0 and at most 100%%."), 400, field=_("Rate %"))
    if item.threshold is None:
        item.threshold = ZERO
    if Decimal(item.threshold) < 0 or Decimal(item.threshold) != money(item.threshold):
        raise BusinessError(_("The threshold cannot be negative and has at most 2 decimals."), 400)
    item.owner_id = party.owner_id  # the agreement follows its customer's salesperson
    item.owner = party.owner


def _party_orders(agreement: RebateAgreement):
    if agreement.end_customer_id:
        return SalesOrder.end_customer_id == agreement.end_customer_id
    return SalesOrder.channel_id == agreement.channel_id


def rebate_base(session, agreement: RebateAgreement, start: dt.date, end: dt.date) -> Decimal:
    """Received − refunded in the period on the party's orders (a channel: the orders it brought)."""

    def summed(model):
        return money(
            session.query(func.coalesce(func.sum(model.amount), 0))
            .join(SalesOrder, SalesOrder.id == model.order_id)
            .filter(_party_orders(agreement), model.doc_date >= start, model.doc_date <= end)
            .scalar()
        )

    return summed(Receipt) - summed(Refund)


def compute_rebate(session, agreement: RebateAgreement, start, end, user, note: str | None = None) -> Rebate:
    """返利单 for one period: rate × received when the received amount reaches the threshold; submitted for approval.
    Periods of one agreement never overlap (rejected and cancelled ones do not count)."""
    if not roles_of(user) & REBATE_ROLES:
        raise Forbidden(_("Only a sales manager, finance or an administrator can compute rebates."))
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise BusinessError(_("Dates are written YYYY-MM-DD."), 400)
    if end < start:
        raise BusinessError(_("The end date cannot be before the start date."), 400)
    if not agreement.enabled:
        raise BusinessError(_("Rebate agreement “%(name)s” is disabled.", name=agreement.name), 409)
    ensure_visible(agreement)
    # one at a time per agreement, so that two clicks cannot both pass the overlap check
    # (the id alone: FOR UPDATE cannot lock the outer-joined customer/channel rows that the entity loads)
    session.query(RebateAgreement.id).filter(RebateAgreement.id == agreement.id).with_for_update().one()
    clash = (
        session.query(Rebate)
        .filter(
            Rebate.agreement_id == agreement.id,
            Rebate.status.notin_((workflow.REJECTED, workflow.CANCELLED)),
            Rebate.period_start <= end,
            Rebate.period_end >= start,
        )
        .first()
    )
    if clash is not None:
        raise BusinessError(
            _(
                "Rebate %(no)s already covers %(start)s to %(end)s of this agreement; periods may not overlap.",
                no=clash.number,
                start=clash.period_start.isoformat(),
                end=clash.period_end.isoformat(),
            ),
            409,
        )
    base = rebate_base(session, agreement, start, end)
    threshold = money(agreement.threshold or 0)
    if base <= 0 or base < threshold:
        raise BusinessError(
            _(
                "Received in the period %(base)s, below the rebate threshold %(threshold)s: no rebate is due.",
                base=format_money(base),
                threshold=format_money(threshold),
            ),
            409,
        )
    rate = Decimal(agreement.rate)
    rebate = Rebate(
        agreement_id=agreement.id,
        agreement=agreement,
        period_start=start,
        period_end=end,
        base_amount=base,
        rate=rate,
        amount=money(base * rate / HUNDRED),
        settled_amount=ZERO,
        owner_id=agreement.owner_id,
        doc_date=local_today(),
        note=(note or "").strip() or None,
    )
    session.add(rebate)
    session.flush()
    workflow.submit(session, rebate, user, note)
    return rebate


def approve_rebate(session, rebate: Rebate, user, comment: str | None = None) -> None:
    """The last approval settles the rebate as credits on what the party owes."""
    workflow.approve(session, rebate, user, comment)
    if rebate.status == workflow.APPROVED:
        settle_rebate(session, rebate, user)


def reject_rebate(session, rebate: Rebate, user, comment: str | None) -> None:
    workflow.reject(session, rebate, user, comment)


def settle_rebate(session, rebate: Rebate, user) -> Decimal:
    """冲抵应收: the unsettled part of an approved rebate becomes credits on the party's approved orders that still
    owe money, earliest due first; what no order owes now stays unsettled until this is run again."""
    if rebate.status != workflow.APPROVED:
        raise BusinessError(_("Only an approved rebate can be settled."), 409)
    left = money(rebate.unsettled_amount)
    if left <= 0:
        raise BusinessError(_("Rebate %(no)s is fully settled.", no=rebate.number), 409)
    owed = (
        session.query(SalesOrder)
        .filter(
            _party_orders(rebate.agreement),
            SalesOrder.status == workflow.APPROVED,
            SalesOrder.outstanding_amount > HALF_CENT,
        )
        .order_by(SalesOrder.due_date, SalesOrder.id)
        .all()
    )
    applied = ZERO
    for order in owed:
        if left <= 0:
            break
        part = min(left, money(order.outstanding_amount))
        result = session.execute(
            update(SalesOrder)
            .where(SalesOrder.id == order.id, SalesOrder.outstanding_amount - part > -HALF_CENT)
            .values(credited_amount=SalesOrder.credited_amount + part)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue  # paid meanwhile; the rest goes to the next order
        session.add(
            ReceivableCredit(
                kind=REBATE,
                order_id=order.id,
                owner_id=order.owner_id,
                doc_date=local_today(),
                amount=part,
                rebate=rebate,
                note=str(_("Rebate %(no)s", no=rebate.number)),
            )
        )
        _refresh_payment_status(session, order.id)
        session.expire(order, ["credited_amount", "payment_status"])
        left -= part
        applied += part
    result = session.execute(
        update(Rebate)
        .where(Rebate.id == rebate.id, Rebate.amount - Rebate.settled_amount - applied > -HALF_CENT)
        .values(settled_amount=Rebate.settled_amount + applied)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BusinessError(_("This document was changed by someone else meanwhile; reload and try again."), 409)
    session.expire(rebate, ["settled_amount"])
    if applied > 0:
        workflow.note(session, rebate, user, "settle", str(_("Credited %(a)s", a=format_money(applied))))
    return applied


# ------------------------------------------------------------------ statement of account


def statement(session, customer, start: dt.date, end: dt.date) -> dict:
    """对账单: the balance a customer owes at the start, every approved order, receipt, refund and credit (cash
    discount, rebate) of the period in date order with the running balance, and the balance at the end
    (approved orders − receipts + refunds − credits)."""
    from app.sales.models import Receipt, Refund

    if end < start:
        raise BusinessError(_("The end date cannot be before the start date."), 400)
    ensure_visible(customer)

    def orders(*where):
        return session.query(SalesOrder).filter(
            SalesOrder.end_customer_id == customer.id, SalesOrder.status == workflow.APPROVED, *where
        )

    def money_docs(model, *where):
        return (
            session.query(model)
            .join(SalesOrder, SalesOrder.id == model.order_id)
            .filter(SalesOrder.end_customer_id == customer.id, *where)
        )

    def total(query, column):
        return money(query.with_entities(func.coalesce(func.sum(column), 0)).scalar())

    opening = (
        total(orders(SalesOrder.doc_date < start), SalesOrder.total_amount)
        - total(money_docs(Receipt, Receipt.doc_date < start), Receipt.amount)
        + total(money_docs(Refund, Refund.doc_date < start), Refund.amount)
        - total(money_docs(ReceivableCredit, ReceivableCredit.doc_date < start), ReceivableCredit.amount)
    )
    entries = [
        (
            o.doc_date,
            0,
            o.number,
            _("Opening receivable") if o.is_opening else _("Sales order"),
            money(o.total_amount),
            ZERO,
        )
        for o in orders(SalesOrder.doc_date >= start, SalesOrder.doc_date <= end)
    ]
    entries += [
        (c.doc_date, 3, c.number, c.kind_label, ZERO, money(c.amount))
        for c in money_docs(ReceivableCredit, ReceivableCredit.doc_date >= start, ReceivableCredit.doc_date <= end)
    ]
    entries += [
        (r.doc_date, 1, r.number, _("Receipt"), ZERO, money(r.amount))
        for r in money_docs(Receipt, Receipt.doc_date >= start, Receipt.doc_date <= end)
    ]
    entries += [
        (r.doc_date, 2, r.number, _("Refund"), money(r.amount), ZERO)
        for r in money_docs(Refund, Refund.doc_date >= start, Refund.doc_date <= end)
    ]
    rows, balance = [], opening
    for day, _order, number, kind, debit, credit in sorted(entries, key=lambda e: (e[0], e[1], e[2])):
        balance += debit - credit
        rows.append(
            {"date": day, "number": number, "kind": str(kind), "debit": debit, "credit": credit, "balance": balance}
        )
    return {
        "customer": customer,
        "start": start,
        "end": end,
        "opening": opening,
        "rows": rows,
        "closing": balance,
        "debit": sum((r["debit"] for r in rows), ZERO),
        "credit": sum((r["credit"] for r in rows), ZERO),
    }


# ------------------------------------------------------------------ defaults


# DOMAIN.md: sales orders from ¥100,000 need a sales manager, then an administrator (approval levels are data:
# the administrator changes them on the 审批级别 page; this is only the first default).
DEFAULT_ORDER_RULES = [("100000.00", 1, "SalesManager"), ("100000.00", 2, "Admin")]


def seed_approval_rules(session) -> int:
    from app.core.workflow import ApprovalRule

    if session.query(ApprovalRule).filter(ApprovalRule.doc_type == SalesOrder.__doc_type__).first():
        return 0
    for amount, level, role in DEFAULT_ORDER_RULES:
        session.add(
            ApprovalRule(doc_type=SalesOrder.__doc_type__, min_amount=Decimal(amount), level=level, role_name=role)
        )
    return len(DEFAULT_ORDER_RULES)


# ------------------------------------------------------------------ roll-ups


def accumulated_costs(session, by: str) -> list[dict]:
    """累计费用: approved commissions (clawbacks included) + approved expenses, per salesperson or per channel."""
    from flask_appbuilder.security.sqla.models import User

    from app.crm.models import ChannelCustomer

    key_c = Commission.owner_id if by == "owner" else Commission.channel_id
    key_e = Expense.owner_id if by == "owner" else Expense.channel_id
    commissions = dict(
        scope_query(session.query(key_c, func.sum(Commission.amount)), Commission)
        .filter(Commission.status == workflow.APPROVED)
        .group_by(key_c)
        .all()
    )
    expenses = dict(
        scope_query(session.query(key_e, func.sum(Expense.amount)), Expense)
        .filter(Expense.status == workflow.APPROVED, key_e.isnot(None))
        .group_by(key_e)
        .all()
    )
    model = User if by == "owner" else ChannelCustomer
    rows = []
    for key in sorted(set(commissions) | set(expenses), key=lambda k: k or 0):
        if key is None:
            continue
        who = session.get(model, key)
        c = money(Decimal(str(commissions.get(key) or 0)))
        e = money(Decimal(str(expenses.get(key) or 0)))
        rows.append({"id": key, "name": str(who) if who else "", "commission": c, "expense": e, "total": c + e})
    rows.sort(key=lambda r: r["total"], reverse=True)
    return rows


def achieved_amount(session, owner_id: int, start: dt.date, end: dt.date) -> Decimal:
    """Targets count approved order amounts dated in the period."""
    total = (
        session.query(func.coalesce(func.sum(SalesOrder.total_amount), 0))
        .filter(
            SalesOrder.owner_id == owner_id,
            SalesOrder.status == workflow.APPROVED,
            SalesOrder.is_opening.is_(False),
            SalesOrder.doc_date >= start,
            SalesOrder.doc_date <= end,
        )
        .scalar()
    )
    return money(Decimal(str(total)))


def referred_deals(session, channel) -> int:
    """Approved orders placed through the channel or by end customers it referred."""
    from app.crm.models import EndCustomer

    return (
        session.query(func.count(SalesOrder.id))
        .outerjoin(EndCustomer, EndCustomer.id == SalesOrder.end_customer_id)
        .filter(
            SalesOrder.status == workflow.APPROVED,
            SalesOrder.is_opening.is_(False),
            or_(SalesOrder.channel_id == channel.id, EndCustomer.referrer_id == channel.id),
        )
        .scalar()
    )


def get_order(session, pk) -> SalesOrder:
    """An order in the current user's scope, or 404."""
    order = scope_query(session.query(SalesOrder), SalesOrder).filter(SalesOrder.id == pk).one_or_none()
    if order is None:
        raise NotFound(_("Not found."))
    return order


def describe_line(line) -> str:
    return f"{line.product.model_no} × {format_qty(line.qty)}"
