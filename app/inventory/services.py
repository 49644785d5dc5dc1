"""Stock rules: drafts change nothing; confirming a document posts all its moves, balances, costs and the linked
order/contract quantities in one transaction, or nothing.

Concurrency: every change of a quantity that has a limit is a guarded UPDATE (`… WHERE qty + delta >= 0`,
`… WHERE ordered − shipped >= q`), which takes the row lock on PostgreSQL/MariaDB and decides in the database, so
two clerks shipping the last units at the same moment cannot both succeed. Rows are touched in (product, warehouse)
order so concurrent postings do not deadlock. The cost row of each product is locked (SELECT … FOR UPDATE) while
the moving average is recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _
from sqlalchemy import func, select, update

from app.core import workflow
from app.core.counters import insert_ignore
from app.core.errors import BusinessError
from app.core.formatting import format_qty, local_today
from app.core.models import utcnow
from app.core.validation import parse_id, strip_text
from app.inventory.models import (
    DRAFT,
    POSTED,
    ProductCost,
    StockBalance,
    StockIn,
    StockInLine,
    StockMove,
    StockOut,
    StockOutLine,
    StockTake,
    StockTakeLine,
    StockTransfer,
    StockTransferLine,
)

QTY_EPS = Decimal("0.0005")  # quantities have 3 decimals; SQLite hands back binary floats
QTY = Decimal("0.001")
CENT = Decimal("0.01")
COST = Decimal("0.0001")


def allow_negative() -> bool:
    return bool(current_app.config.get("STOCK_ALLOW_NEGATIVE", False)) if has_app_context() else False


# ------------------------------------------------------------------ low level: balances, costs, moves


def on_hand(session, product_id: int, warehouse_id: int) -> Decimal:
    qty = session.execute(
        select(StockBalance.qty).where(StockBalance.product_id == product_id, StockBalance.warehouse_id == warehouse_id)
    ).scalar_one_or_none()
    return Decimal(str(qty or 0)).quantize(QTY)


def _change_balance(session, product, warehouse, delta: Decimal) -> Decimal:
    """Add delta to the balance (refusing to go below zero unless allowed); return the new on-hand quantity.

    The UPDATE comes first: inserting a row that may exist (INSERT IGNORE / ON CONFLICT) takes a shared lock on
    MariaDB, and two shared locks upgraded at once deadlock. Only a missing row is inserted, then updated.
    """

    def guarded_update():
        stmt = update(StockBalance).where(
            StockBalance.product_id == product.id, StockBalance.warehouse_id == warehouse.id
        )
        if delta < 0 and not allow_negative():
            stmt = stmt.where(StockBalance.qty + delta > -QTY_EPS)
        return session.execute(
            stmt.values(qty=StockBalance.qty + delta, updated_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount

    changed = guarded_update()
    if changed != 1 and not _balance_exists(session, product.id, warehouse.id):
        insert_ignore(
            session,
            StockBalance.__table__,
            {"product_id": product.id, "warehouse_id": warehouse.id, "qty": Decimal("0"), "updated_at": utcnow()},
            ["product_id", "warehouse_id"],
        )
        changed = guarded_update()
    if changed != 1:
        raise BusinessError(
            _(
                "Not enough stock of %(product)s in %(warehouse)s: on hand %(on_hand)s, needed %(needed)s.",
                product=str(product),
                warehouse=warehouse.name,
                on_hand=format_qty(on_hand(session, product.id, warehouse.id)),
                needed=format_qty(-delta),
            ),
            409,
        )
    return on_hand(session, product.id, warehouse.id)


def _balance_exists(session, product_id: int, warehouse_id: int) -> bool:
    row = session.execute(
        select(StockBalance.id).where(StockBalance.product_id == product_id, StockBalance.warehouse_id == warehouse_id)
    ).first()
    return row is not None


def _lock_cost(session, product_id: int) -> ProductCost:
    """The product's cost row, locked until commit: it also serialises concurrent postings of one product."""

    def locked():
        return session.execute(
            select(ProductCost)
            .where(ProductCost.product_id == product_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()

    cost = locked()
    if cost is None:  # first posting of this product; insert only then (see _change_balance on shared locks)
        insert_ignore(
            session,
            ProductCost.__table__,
            {"product_id": product_id, "qty": Decimal("0"), "avg_cost": Decimal("0")},
            ["product_id"],
        )
        cost = locked()
    return cost


def _cost_in(session, product, qty: Decimal, unit_cost: Decimal) -> Decimal:
    """Moving weighted average after an incoming quantity at unit_cost."""
    cost = _lock_cost(session, product.id)
    held = Decimal(str(cost.qty))
    avg = Decimal(str(cost.avg_cost))
    new_qty = held + qty
    if held <= 0 or new_qty <= 0:
        cost.avg_cost = unit_cost.quantize(COST, rounding=ROUND_HALF_UP)
    else:
        cost.avg_cost = ((held * avg + qty * unit_cost) / new_qty).quantize(COST, rounding=ROUND_HALF_UP)
    cost.qty = new_qty
    return unit_cost


def _cost_out(session, product, qty: Decimal) -> Decimal:
    """An outgoing quantity leaves at the current average; the average itself does not move."""
    cost = _lock_cost(session, product.id)
    cost.qty = Decimal(str(cost.qty)) - qty
    avg = Decimal(str(cost.avg_cost))
    return avg if avg > 0 else Decimal(product.purchase_price or 0)


def _move(session, doc, line, product, warehouse, qty: Decimal, unit_cost: Decimal, kind: str, user) -> StockMove:
    balance = _change_balance(session, product, warehouse, qty)
    move = StockMove(
        product_id=product.id,
        warehouse_id=warehouse.id,
        qty=qty,
        unit_cost=unit_cost.quantize(COST, rounding=ROUND_HALF_UP),
        amount=(qty * unit_cost).quantize(CENT, rounding=ROUND_HALF_UP),
        balance_after=balance,
        kind=kind,
        doc_type=type(doc).__doc_type__,
        doc_id=doc.id,
        doc_number=doc.number,
        doc_date=doc.doc_date,
        line_id=line.id if line is not None else None,
        user_id=user.id if user is not None else None,
    )
    session.add(move)
    return move


def _claim_draft(session, doc, user) -> None:
    """draft → posted, decided by one guarded UPDATE: confirming twice (or two clerks at once) posts once."""
    model = type(doc)
    result = session.execute(
        update(model)
        .where(model.id == doc.id, model.status == DRAFT)
        .values(status=POSTED, posted_at=utcnow(), posted_by_id=user.id if user is not None else None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BusinessError(_("%(no)s is already confirmed.", no=doc.number), 409)


def _sorted(lines: Iterable, key=lambda line: line.product_id):
    return sorted(lines, key=lambda line: (key(line), line.id or 0))


# ------------------------------------------------------------------ drafts


def _lines(session, doc, rows, line_cls, *, cost: bool = False, allow_zero: bool = False) -> list:
    """Validated lines of a stock document: product enabled, quantity > 0 (3 decimals), optional unit cost."""
    from app.base_data.models import Product
    from app.sales.services import _decimal

    if not isinstance(rows, list) or not rows:
        raise BusinessError(_("A document needs at least one line."), 400)
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
        if qty < 0 or (qty == 0 and not allow_zero):
            raise BusinessError(_("Line %(n)s: the quantity must be greater than 0.", n=n), 400)
        if qty != qty.quantize(QTY):
            raise BusinessError(_("Line %(n)s: at most 3 decimals in the quantity.", n=n), 400)
        line = line_cls(line_no=n, product=product, product_id=product.id, qty=qty)
        note = row.get("note")
        line.note = (str(note).strip()[:255] or None) if note else None
        if cost:
            raw = row.get("unit_cost")
            price = None if raw in (None, "") else _decimal(raw, _("Unit Cost"), n)
            if price is not None and (price < 0 or price != price.quantize(CENT)):
                raise BusinessError(
                    _("Line %(n)s: the unit cost must be 0 or more, with at most 2 decimals.", n=n), 400
                )
            line.unit_cost = price
        lines.append(line)
    return lines


def ensure_draft(doc) -> None:
    if doc.status != DRAFT:
        raise BusinessError(_("%(no)s is confirmed; correct it with a new document.", no=doc.number), 409)


def _quiet(fn):
    """Build a draft without autoflush: the new document is not in the session yet while its lines are looked up."""

    def wrapper(session, *args, **kwargs):
        with session.no_autoflush:
            return fn(session, *args, **kwargs)

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


def _header(doc) -> None:
    strip_text(doc, "note", "invoice_no")
    if doc.doc_date is None:
        doc.doc_date = local_today()


@_quiet
def save_stock_in(session, doc: StockIn, rows: list[dict]) -> None:
    """产品入库 draft: from an approved purchase contract, a sales return against an order, or another in-type."""
    if doc.id is not None:
        ensure_draft(doc)
    _header(doc)
    if doc.warehouse is None:
        raise BusinessError(_("Choose a warehouse."), 400)
    if doc.contract is not None and doc.order is not None:
        raise BusinessError(_("A stock-in is for a purchase contract or a sales return, not both."), 400)
    if doc.move_type is not None and doc.move_type.direction != "in":
        raise BusinessError(_("“%(name)s” is not a stock-in type.", name=doc.move_type.name), 400)
    lines = _lines(session, doc, rows, StockInLine, cost=True)
    if doc.contract is not None:
        contract = doc.contract
        if contract.status != workflow.APPROVED:
            raise BusinessError(_("Contract %(no)s is not approved.", no=contract.number), 409)
        for line in lines:
            match = _match(contract.lines, line.product_id, "remaining_qty")
            if match is None:
                raise BusinessError(
                    _(
                        "Line %(n)s: %(p)s is not on contract %(no)s.",
                        n=line.line_no,
                        p=str(line.product),
                        no=contract.number,
                    ),
                    400,
                )
            line.contract_line = match
            if line.unit_cost is None:
                line.unit_cost = match.net_price.quantize(CENT, rounding=ROUND_HALF_UP)
    elif doc.order is not None:
        from app.core.scope import ensure_visible

        ensure_visible(doc.order)
        for line in lines:
            match = _match(doc.order.lines, line.product_id, "shipped_qty")
            if match is None:
                raise BusinessError(
                    _(
                        "Line %(n)s: %(p)s was not shipped on order %(no)s.",
                        n=line.line_no,
                        p=str(line.product),
                        no=doc.order.number,
                    ),
                    400,
                )
            line.order_line = match
    for line in lines:
        if line.unit_cost is None:
            line.unit_cost = Decimal(line.product.purchase_price or 0)
    doc.lines = lines


def _match(candidates, product_id: int, open_attr: str):
    """The first line of the product that still has an open quantity (else the first line of the product)."""
    same = [c for c in candidates if c.product_id == product_id]
    for c in same:
        if Decimal(getattr(c, open_attr) or 0) > 0:
            return c
    return same[0] if same else None


@_quiet
def save_stock_out(session, doc: StockOut, rows: list[dict]) -> None:
    """产品出库 draft: against an approved sales order (lines matched by product) or another out-type."""
    if doc.id is not None:
        ensure_draft(doc)
    _header(doc)
    if doc.warehouse is None:
        raise BusinessError(_("Choose a warehouse."), 400)
    if doc.move_type is not None and doc.move_type.direction != "out":
        raise BusinessError(_("“%(name)s” is not a stock-out type.", name=doc.move_type.name), 400)
    lines = _lines(session, doc, rows, StockOutLine)
    if doc.order is not None:
        from app.core.scope import ensure_visible

        ensure_visible(doc.order)
        if doc.order.status != workflow.APPROVED:
            raise BusinessError(_("Order %(no)s is not approved; it cannot be shipped.", no=doc.order.number), 409)
        for line in lines:
            match = _match(doc.order.lines, line.product_id, "remaining_qty")
            if match is None:
                raise BusinessError(
                    _(
                        "Line %(n)s: %(p)s is not on order %(no)s.",
                        n=line.line_no,
                        p=str(line.product),
                        no=doc.order.number,
                    ),
                    400,
                )
            line.order_line = match
    doc.lines = lines


@_quiet
def save_stock_take(session, doc: StockTake, rows: list[dict]) -> None:
    """产品盘点 draft: qty is the counted quantity; the book quantity is the ledger's at this moment."""
    if doc.id is not None:
        ensure_draft(doc)
    _header(doc)
    if doc.warehouse is None:
        raise BusinessError(_("Choose a warehouse."), 400)
    built = _lines(session, doc, rows, StockTakeLine, allow_zero=True)  # a count of zero is a count
    seen = set()
    for line in built:
        if line.product_id in seen:
            raise BusinessError(_("%(p)s is counted twice.", p=str(line.product)), 400)
        seen.add(line.product_id)
        line.book_qty = on_hand(session, line.product_id, doc.warehouse.id)
    doc.lines = built


@_quiet
def save_stock_transfer(session, doc: StockTransfer, rows: list[dict]) -> None:
    if doc.id is not None:
        ensure_draft(doc)
    _header(doc)
    if doc.from_warehouse is None or doc.to_warehouse is None:
        raise BusinessError(_("Choose both warehouses."), 400)
    if doc.from_warehouse.id == doc.to_warehouse.id:
        raise BusinessError(_("A transfer needs two different warehouses."), 400)
    doc.lines = _lines(session, doc, rows, StockTransferLine)


def ensure_deletable(doc) -> None:
    if doc.status != DRAFT:
        raise BusinessError(_("%(no)s is confirmed and cannot be deleted.", no=doc.number), 409)


def set_invoice_no(session, doc, invoice_no: str | None) -> None:
    """修改发票号: the only change a confirmed document accepts."""
    value = (invoice_no or "").strip() or None
    if value is not None and len(value) > 64:
        raise BusinessError(_("At most %(n)s characters.", n=64), 400)
    doc.invoice_no = value


# ------------------------------------------------------------------ posting


def _require_lines(doc) -> None:
    if not doc.lines:
        raise BusinessError(_("%(no)s has no lines; nothing to confirm.", no=doc.number), 400)


def confirm_stock_in(session, doc: StockIn, user) -> None:
    """确定入库: moves in at each line's cost; contract received / order returned quantities in step."""
    _require_lines(doc)
    _claim_draft(session, doc, user)
    if doc.contract is not None and doc.contract.status != workflow.APPROVED:
        raise BusinessError(_("Contract %(no)s is not approved.", no=doc.contract.number), 409)
    returned_value = Decimal("0")
    for line in _sorted(doc.lines):
        qty = Decimal(line.qty)
        if line.contract_line_id:
            _guarded_line(
                session,
                type(line.contract_line),
                line.contract_line_id,
                "received_qty",
                qty,
                "qty",
                lambda **kw: _("Line %(n)s: only %(left)s of %(p)s remain to be received on the contract.", **kw),
                line,
            )
            kind, unit_cost = "purchase_in", Decimal(line.unit_cost)
        elif line.order_line_id:
            unit_cost = _shipped_cost(session, line.order_line_id) or Decimal(line.unit_cost)
            line.unit_cost = unit_cost.quantize(CENT, rounding=ROUND_HALF_UP)  # back at the cost it left at
            _return_order_line(session, line, qty)
            returned_value += qty * line.order_line.net_price
            kind = "return_in"
        else:
            kind, unit_cost = "opening_in" if doc.is_opening else "other_in", Decimal(line.unit_cost)
        _cost_in(session, line.product, qty, unit_cost)
        _move(session, doc, line, line.product, doc.warehouse, qty, unit_cost, kind, user)
    session.flush()
    if doc.contract is not None:
        refresh_receipt_status(session, doc.contract)
    if doc.order is not None:
        from app.sales.services import clawback

        session.refresh(doc.order)
        for line in doc.order.lines:
            session.refresh(line)  # shipped/returned moved by guarded UPDATEs
        clawback(session, doc.order, user, _("Return %(no)s", no=doc.number))


def confirm_stock_out(session, doc: StockOut, user) -> None:
    """确定出库: never below zero stock, never beyond the order's remaining quantity; credit control applies."""
    _require_lines(doc)
    _claim_draft(session, doc, user)
    if doc.order is not None:
        from app.sales.services import check_credit, check_prepayment

        if doc.order.status != workflow.APPROVED:
            raise BusinessError(_("Order %(no)s is not approved; it cannot be shipped.", no=doc.order.number), 409)
        check_credit(session, doc.order)
        check_prepayment(doc.order)
    for line in _sorted(doc.lines):
        qty = Decimal(line.qty)
        if line.order_line_id:
            _guarded_line(
                session,
                type(line.order_line),
                line.order_line_id,
                "shipped_qty",
                qty,
                "qty",
                lambda **kw: _("Line %(n)s: only %(left)s of %(p)s remain to be shipped on the order.", **kw),
                line,
            )
            kind = "sale_out"
        else:
            kind = "other_out"
        unit_cost = _cost_out(session, line.product, qty)
        line.unit_cost = unit_cost
        _move(session, doc, line, line.product, doc.warehouse, -qty, unit_cost, kind, user)
    session.flush()


def confirm_stock_take(session, doc: StockTake, user) -> None:
    """确定盘点: each difference between counted and book quantity posts as a gain or a loss at average cost."""
    _require_lines(doc)
    _claim_draft(session, doc, user)
    for line in _sorted(doc.lines):
        diff = Decimal(line.qty) - Decimal(line.book_qty)
        if diff == 0:
            continue
        if diff > 0:
            cost = _lock_cost(session, line.product_id)
            unit_cost = Decimal(str(cost.avg_cost)) or Decimal(line.product.purchase_price or 0)
            _cost_in(session, line.product, diff, unit_cost)
            _move(session, doc, line, line.product, doc.warehouse, diff, unit_cost, "take_gain", user)
        else:
            unit_cost = _cost_out(session, line.product, -diff)
            _move(session, doc, line, line.product, doc.warehouse, diff, unit_cost, "take_loss", user)
    session.flush()


def confirm_stock_transfer(session, doc: StockTransfer, user) -> None:
    """确定调拨: out of one warehouse and into the other in the same transaction; the average cost is unchanged."""
    _require_lines(doc)
    _claim_draft(session, doc, user)
    for line in _sorted(doc.lines):
        qty = Decimal(line.qty)
        cost = _lock_cost(session, line.product_id)
        unit_cost = Decimal(str(cost.avg_cost))
        _move(session, doc, line, line.product, doc.from_warehouse, -qty, unit_cost, "transfer_out", user)
        _move(session, doc, line, line.product, doc.to_warehouse, qty, unit_cost, "transfer_in", user)
    session.flush()


def _guarded_line(session, model, line_id: int, attr: str, qty: Decimal, limit_attr: str, message, line) -> None:
    """attr += qty only while attr + qty ≤ limit_attr: the database decides, under the row's lock."""
    column, limit = getattr(model, attr), getattr(model, limit_attr)
    result = session.execute(
        update(model)
        .where(model.id == line_id, limit - column - qty > -QTY_EPS)
        .values({attr: column + qty})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        row = session.get(model, line_id)
        session.refresh(row)
        left = Decimal(getattr(row, limit_attr)) - Decimal(getattr(row, attr) or 0)
        raise BusinessError(message(n=line.line_no, left=format_qty(max(left, 0)), p=str(line.product)), 409)


def _return_order_line(session, line, qty: Decimal) -> None:
    """A return: shipped goes down, returned goes up; never more than what was shipped."""
    from app.sales.models import SalesOrderLine

    result = session.execute(
        update(SalesOrderLine)
        .where(SalesOrderLine.id == line.order_line_id, SalesOrderLine.shipped_qty - qty > -QTY_EPS)
        .values(shipped_qty=SalesOrderLine.shipped_qty - qty, returned_qty=SalesOrderLine.returned_qty + qty)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BusinessError(
            _(
                "Line %(n)s: more of %(p)s is returned than was shipped.",
                n=line.line_no,
                p=str(line.product),
            ),
            409,
        )


def _shipped_cost(session, order_line_id: int) -> Decimal | None:
    """The average cost the order line's goods left at (a return comes back at it)."""
    qty, amount = session.execute(
        select(func.sum(StockOutLine.qty), func.sum(StockOutLine.qty * StockOutLine.unit_cost))
        .join(StockOut, StockOut.id == StockOutLine.doc_id)
        .where(StockOutLine.order_line_id == order_line_id, StockOut.status == POSTED)
    ).one()
    if not qty:
        return None
    return (Decimal(str(amount)) / Decimal(str(qty))).quantize(COST, rounding=ROUND_HALF_UP)


def refresh_receipt_status(session, contract) -> None:
    from app.purchase.models import NOT_RECEIVED, PART_RECEIVED, RECEIVED

    session.refresh(contract)
    for line in contract.lines:
        session.refresh(line)  # received_qty moved by guarded UPDATEs, not through these objects
    ordered = sum((Decimal(line.qty) for line in contract.lines), Decimal(0))
    received = sum((Decimal(line.received_qty or 0) for line in contract.lines), Decimal(0))
    if received <= 0:
        contract.receipt_status = NOT_RECEIVED
    elif all(Decimal(line.received_qty or 0) >= Decimal(line.qty) for line in contract.lines) and ordered:
        contract.receipt_status = RECEIVED
    else:
        contract.receipt_status = PART_RECEIVED


CONFIRM = {
    StockIn: confirm_stock_in,
    StockOut: confirm_stock_out,
    StockTake: confirm_stock_take,
    StockTransfer: confirm_stock_transfer,
}


def confirm(session, doc, user) -> None:
    """Post a stock document (the pages' 确定入库/确定出库/确定盘点/确定调拨 and the API's confirm; who may is the
    "confirm" permission of each document's resource)."""
    CONFIRM[type(doc)](session, doc, user)


# ------------------------------------------------------------------ views of stock


def reserved_by_product(session, product_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """预留: what approved orders still have to ship, per product."""
    from app.sales.models import SalesOrder, SalesOrderLine

    left = SalesOrderLine.qty - SalesOrderLine.shipped_qty
    query = (
        select(SalesOrderLine.product_id, func.sum(left))
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(SalesOrder.status == workflow.APPROVED, left > QTY_EPS)
        .group_by(SalesOrderLine.product_id)
    )
    if product_ids is not None:
        query = query.where(SalesOrderLine.product_id.in_(list(product_ids)))
    return {pid: Decimal(str(q)).quantize(QTY) for pid, q in session.execute(query)}


def on_hand_by_product(session, product_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    query = select(StockBalance.product_id, func.sum(StockBalance.qty)).group_by(StockBalance.product_id)
    if product_ids is not None:
        query = query.where(StockBalance.product_id.in_(list(product_ids)))
    return {pid: Decimal(str(q)).quantize(QTY) for pid, q in session.execute(query)}


def short_lines(session, order) -> list:
    """缺货: lines of an approved order whose remaining quantity the stock not promised to others cannot cover."""
    if order.status != workflow.APPROVED:
        return []
    ids = {line.product_id for line in order.lines}
    held = on_hand_by_product(session, ids)
    reserved = reserved_by_product(session, ids)
    short = []
    for line in order.lines:
        mine = max(line.remaining_qty, Decimal(0))
        if mine <= 0:
            continue
        free_for_me = held.get(line.product_id, Decimal(0)) - (reserved.get(line.product_id, Decimal(0)) - mine)
        if free_for_me < mine:
            short.append(line)
    return short


def stock_alerts(session) -> list[dict]:
    """库存预警: products whose on hand (all warehouses) is below the safety minimum or above the maximum."""
    from app.base_data.models import Product

    held = on_hand_by_product(session)
    rows = []
    products = session.query(Product).filter(
        Product.enabled.is_(True), (Product.safety_min.isnot(None)) | (Product.safety_max.isnot(None))
    )
    for p in products.order_by(Product.model_no):
        qty = held.get(p.id, Decimal(0))
        if p.safety_min is not None and qty < Decimal(p.safety_min):
            rows.append({"product": p, "on_hand": qty, "kind": "low", "limit": Decimal(p.safety_min)})
        elif p.safety_max is not None and qty > Decimal(p.safety_max):
            rows.append({"product": p, "on_hand": qty, "kind": "high", "limit": Decimal(p.safety_max)})
    return rows


def check_invariants(session) -> list[str]:
    """Every balance equals the sum of its moves; every product's cost quantity equals its on hand. [] when sound."""
    problems = []
    sums = {
        (p, w): Decimal(str(q)).quantize(QTY)
        for p, w, q in session.execute(
            select(StockMove.product_id, StockMove.warehouse_id, func.sum(StockMove.qty)).group_by(
                StockMove.product_id, StockMove.warehouse_id
            )
        )
    }
    balances = {
        (p, w): Decimal(str(q)).quantize(QTY)
        for p, w, q in session.execute(select(StockBalance.product_id, StockBalance.warehouse_id, StockBalance.qty))
    }
    for key in set(sums) | set(balances):
        if sums.get(key, Decimal(0)) != balances.get(key, Decimal(0)):
            problems.append(f"balance {key}: {balances.get(key)} != moves {sums.get(key)}")
    return problems
