"""Statistics (DOMAIN.md "Statistics"): every report aggregated in the database with GROUP BY over month (or day)
buckets, rolled up to quarter/year, with every period of the range present (empty ones as 0). The page table, the
chart, the JSON API and the Excel file all take their numbers from one Result.

Scope: a Salesperson's reports cover only their own data (the salesperson filter is forced to themselves)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext, lazy_gettext as _
from sqlalchemy import and_, case, distinct, func, select

from app.core import workflow
from app.core.errors import BusinessError
from app.core.formatting import local_today
from app.core.scope import current_user_id, sees_all
from app.core.validation import parse_id
from app.reports import periods

ZERO = Decimal("0")
CENT = Decimal("0.01")
MONEY, QTY, INT, PCT, TEXT = "money", "qty", "int", "percent", "text"


@dataclass
class Col:
    key: str
    label: object
    kind: str = TEXT


@dataclass
class Params:
    period: str = periods.MONTH
    start: dt.date = field(default_factory=lambda: local_today().replace(month=1, day=1))
    end: dt.date = field(default_factory=local_today)
    salesperson_id: int | None = None
    region_id: int | None = None
    category_id: int | None = None


@dataclass
class Result:
    columns: list[Col]
    rows: list[dict]
    chart: dict  # {"type": bar|line|pie, "x": key, "series": [keys], "extra": {...}}
    totals: dict | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    name: str
    title: object
    compute: Callable[[object, Params], Result]
    filters: tuple = ()  # which of salesperson / region / category apply
    access: tuple = ("Admin", "SalesManager", "Finance", "Executive")
    periodic: bool = True  # False: the range matters, the period does not (per-customer tables …)


REPORTS: dict[str, Report] = {}
SALES_ROLES = ("Admin", "SalesManager", "Salesperson", "Finance", "Executive")
STOCK_ROLES = ("Admin", "SalesManager", "Purchaser", "WarehouseKeeper", "Finance", "Executive")
PURCHASE_ROLES = ("Admin", "Purchaser", "Finance", "Executive")


def report(name, title, filters=(), access=SALES_ROLES, periodic=True):
    def wrap(fn):
        REPORTS[name] = Report(name, title, fn, filters, access, periodic)
        return fn

    return wrap


# ------------------------------------------------------------------ parameters and scope


def parse_params(args) -> Params:
    """Params from a query string; a wrong value is a 400 with a Chinese message, never a 500."""
    params = Params()
    period = (args.get("period") or periods.MONTH).strip()
    try:
        if args.get("start"):
            params.start = dt.date.fromisoformat(args["start"].strip())
        if args.get("end"):
            params.end = dt.date.fromisoformat(args["end"].strip())
    except ValueError:
        raise BusinessError(_("Dates are written YYYY-MM-DD."), 400) from None
    periods.check_range(params.start, params.end, period)
    params.period = period
    for key in ("salesperson_id", "region_id", "category_id"):
        raw = (args.get(key) or "").strip()
        if raw:
            if parse_id(raw) is None:
                raise BusinessError(_("%(key)s must be a number.", key=key), 400)
            setattr(params, key, parse_id(raw))
    return params


def apply_scope(params: Params) -> Params:
    """A Salesperson's figures are their own, whatever the query asks for."""
    if not sees_all():
        params.salesperson_id = current_user_id()
    return params


def may_see(report_def: Report, user) -> bool:
    return bool({r.name for r in user.roles} & set(report_def.access))


def run(session, name: str, params: Params) -> Result:
    report_def = REPORTS.get(name)
    if report_def is None:
        raise BusinessError(_("There is no report “%(name)s”.", name=name), 404)
    return report_def.compute(session, apply_scope(params))


# ------------------------------------------------------------------ helpers


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def qty(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def rate(part, base) -> Decimal | None:
    """Percent with one decimal; None (shown —) where the base is zero."""
    base = Decimal(str(base or 0))
    if base == 0:
        return None
    return (Decimal(str(part or 0)) * 100 / base).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def growth(current, base) -> Decimal | None:
    base = Decimal(str(base or 0))
    if base == 0:
        return None
    return ((Decimal(str(current or 0)) - base) * 100 / abs(base)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _tree(session, model, root_id: int | None) -> set[int] | None:
    """The id and every descendant (regions: a province's cities; categories: sub-categories)."""
    if root_id is None:
        return None
    ids, frontier = {root_id}, {root_id}
    while frontier:
        children = {i for (i,) in session.execute(select(model.id).where(model.parent_id.in_(frontier)))}
        frontier = children - ids
        ids |= children
    return ids


def _region_ids(session, params):
    from app.base_data.models import Region

    return _tree(session, Region, params.region_id)


def _category_ids(session, params):
    from app.base_data.models import ProductCategory

    return _tree(session, ProductCategory, params.category_id)


def _in_range(column, params: Params):
    return and_(column >= params.start, column <= params.end)


def _by_period(session, params: Params, date_col, measures: list, joins, where) -> dict[str, list[Decimal]]:
    """{period key: [Σ measure …]} with SQL GROUP BY on the month (or day) bucket, rolled up in Python."""
    bucket = periods.bucket_expr(session, date_col, params.period).label("bucket")
    stmt = select(bucket, *measures)
    for target, on in joins:
        stmt = stmt.join(target, on)
    stmt = stmt.where(*where).group_by(bucket)
    out: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * len(measures))
    for row in session.execute(stmt):
        key = periods.roll(row[0], params.period)
        out[key] = [a + Decimal(str(b or 0)) for a, b in zip(out[key], row[1:])]
    return out


def _period_rows(params: Params, data: dict, names: list[str], kinds: list[str]) -> list[dict]:
    rows = []
    for key in periods.periods_between(params.start, params.end, params.period):
        values = data.get(key, [ZERO] * len(names))
        row = {"period": key}
        for name, kind, value in zip(names, kinds, values):
            row[name] = money(value) if kind == MONEY else qty(value) if kind == QTY else int(value)
        rows.append(row)
    return rows


def _totals(rows: list[dict], columns: list[Col]) -> dict:
    total = {columns[0].key: gettext("Total")}
    for col in columns[1:]:
        if col.kind in (MONEY, QTY, INT):
            total[col.key] = sum((r.get(col.key) or 0 for r in rows), ZERO if col.kind != INT else 0)
    return total


# ------------------------------------------------------------------ sales


def _sales_lines_where(session, params: Params):
    from app.base_data.models import Product
    from app.crm.models import EndCustomer
    from app.sales.models import SalesOrder, SalesOrderLine

    where = [
        SalesOrder.status == workflow.APPROVED,
        SalesOrder.is_opening.is_(False),
        _in_range(SalesOrder.doc_date, params),
    ]
    joins = [(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)]
    if params.salesperson_id:
        where.append(SalesOrder.owner_id == params.salesperson_id)
    regions = _region_ids(session, params)
    if regions is not None:
        joins.append((EndCustomer, EndCustomer.id == SalesOrder.end_customer_id))
        where.append(EndCustomer.region_id.in_(regions))
    categories = _category_ids(session, params)
    if categories is not None:
        joins.append((Product, Product.id == SalesOrderLine.product_id))
        where.append(Product.category_id.in_(categories))
    return joins, where


def sales_by_period(session, params: Params) -> dict[str, list[Decimal]]:
    """{period: [amount, orders]} of approved orders: from the daily summary, or — with a region or category filter —
    from the lines (Σ line amounts, so a category filter is exact)."""
    from app.sales.models import SalesOrder, SalesOrderLine

    if _region_ids(session, params) is None and _category_ids(session, params) is None:
        from app.reports.summary import SalesDailySummary as S

        where = [_in_range(S.day, params)]
        if params.salesperson_id:
            where.append(S.owner_id == params.salesperson_id)
        return _by_period(session, params, S.day, [func.sum(S.amount), func.sum(S.orders)], [], where)
    joins, where = _sales_lines_where(session, params)
    return _by_period(
        session,
        params,
        SalesOrder.doc_date,
        [func.sum(SalesOrderLine.amount), func.count(distinct(SalesOrder.id))],
        joins,
        where,
    )


@report("sales_amount", _("Sales Amount"), filters=("salesperson", "region", "category"))
def sales_amount(session, params: Params) -> Result:
    data = sales_by_period(session, params)
    columns = [Col("period", _("Period")), Col("orders", _("Orders"), INT), Col("amount", _("Sales (¥)"), MONEY)]
    rows = _period_rows(params, {k: [v[1], v[0]] for k, v in data.items()}, ["orders", "amount"], [INT, MONEY])
    result = Result(columns, rows, {"type": "bar", "x": "period", "series": ["amount"]}, _totals(rows, columns))
    from app.reports.forecast import attach_forecast

    attach_forecast(session, params, result)
    return result


@report("sales_growth", _("Sales Growth"), filters=("salesperson", "region", "category"))
def sales_growth(session, params: Params) -> Result:
    """Each period against the one before (MoM / QoQ) and the same period a year earlier (YoY), with the bases."""
    keys = periods.periods_between(params.start, params.end, params.period)
    wide = Params(**{**params.__dict__})
    wide.start = periods.first_day(
        periods.shift(keys[0], params.period, -periods.per_year(params.period)), params.period
    )
    data = sales_by_period(session, wide)
    amount = {k: money(v[0]) for k, v in data.items()}
    rows = []
    for key in keys:
        prev, last_year = (
            periods.shift(key, params.period, -1),
            periods.shift(key, params.period, -periods.per_year(params.period)),
        )
        current = amount.get(key, ZERO)
        rows.append(
            {
                "period": key,
                "amount": current,
                "previous": amount.get(prev, ZERO),
                "change": growth(current, amount.get(prev, ZERO)),
                "last_year": amount.get(last_year, ZERO),
                "yoy": growth(current, amount.get(last_year, ZERO)),
            }
        )
    step = {periods.DAY: _("DoD %"), periods.MONTH: _("MoM %"), periods.QUARTER: _("QoQ %"), periods.YEAR: _("YoY %")}[
        params.period
    ]
    columns = [
        Col("period", _("Period")),
        Col("amount", _("Sales (¥)"), MONEY),
        Col("previous", _("Previous Period"), MONEY),
        Col("change", step, PCT),
        Col("last_year", _("Same Period Last Year"), MONEY),
        Col("yoy", _("YoY %"), PCT),
    ]
    return Result(columns, rows, {"type": "line", "x": "period", "series": ["change", "yoy"], "percent": True})


@report("top_customers", _("Top 10 Customers"), filters=("salesperson", "region", "category"), periodic=False)
def top_customers(session, params: Params) -> Result:
    from app.crm.models import EndCustomer
    from app.sales.models import SalesOrder, SalesOrderLine

    joins, where = _sales_lines_where(session, params)
    if not any(target is EndCustomer for target, _on in joins):
        joins.append((EndCustomer, EndCustomer.id == SalesOrder.end_customer_id))
    amount = func.sum(SalesOrderLine.amount).label("amount")
    stmt = select(EndCustomer.name, amount, func.count(distinct(SalesOrder.id)), EndCustomer.abc_class)
    stmt = stmt.select_from(SalesOrderLine)
    for target, on in joins:
        stmt = stmt.join(target, on)
    stmt = stmt.where(*where).group_by(EndCustomer.id, EndCustomer.name, EndCustomer.abc_class)
    stmt = stmt.order_by(amount.desc(), EndCustomer.name)
    ranked = session.execute(stmt.limit(10)).all()
    total = money(
        session.execute(
            _joined(select(func.sum(SalesOrderLine.amount)).select_from(SalesOrderLine), joins).where(*where)
        ).scalar()
    )
    rows = [
        {
            "rank": i,
            "customer": name,
            "abc_class": abc_class or "",  # ABC分类 as of the last `flask classify`
            "orders": int(count),
            "amount": money(value),
            "share": rate(value, total),
        }
        for i, (name, value, count, abc_class) in enumerate(ranked, start=1)
    ]
    columns = [
        Col("rank", _("Rank"), INT),
        Col("customer", _("End Customer")),
        Col("abc_class", _("ABC Class")),
        Col("orders", _("Orders"), INT),
        Col("amount", _("Sales (¥)"), MONEY),
        Col("share", _("Share %"), PCT),
    ]
    return Result(columns, rows, {"type": "bar", "x": "customer", "series": ["amount"], "horizontal": True})


def _joined(stmt, joins):
    for target, on in joins:
        stmt = stmt.join(target, on)
    return stmt


@report("target_achievement", _("Target Achievement"), filters=("salesperson",))
def target_achievement(session, params: Params) -> Result:
    """Per salesperson and period: the monthly targets summed, the approved order amount, the rate."""
    from flask_appbuilder.security.sqla.models import User

    from app.crm.models import SalesTarget
    from app.sales.models import SalesOrder

    targets: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    query = select(SalesTarget.owner_id, SalesTarget.year, SalesTarget.month, SalesTarget.amount)
    if params.salesperson_id:
        query = query.where(SalesTarget.owner_id == params.salesperson_id)
    for owner_id, year, month, amount in session.execute(query):
        day = dt.date(year, month, 1)
        if params.start.replace(day=1) <= day <= params.end:
            targets[(owner_id, periods.key_of(day, params.period))] += Decimal(str(amount))
    bucket = periods.bucket_expr(session, SalesOrder.doc_date, params.period)
    stmt = (
        select(SalesOrder.owner_id, bucket, func.sum(SalesOrder.total_amount))
        .where(
            SalesOrder.status == workflow.APPROVED,
            SalesOrder.is_opening.is_(False),
            _in_range(SalesOrder.doc_date, params),
        )
        .group_by(SalesOrder.owner_id, bucket)
    )
    if params.salesperson_id:
        stmt = stmt.where(SalesOrder.owner_id == params.salesperson_id)
    achieved: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for owner_id, key, amount in session.execute(stmt):
        achieved[(owner_id, periods.roll(key, params.period))] += Decimal(str(amount or 0))
    owners = sorted({o for o, _k in targets} | {o for o, _k in achieved if o is not None})
    names = {u.id: u.get_full_name() for u in session.query(User).filter(User.id.in_(owners))} if owners else {}
    rows = []
    for owner_id in owners:
        for key in periods.periods_between(params.start, params.end, params.period):
            target, done = money(targets.get((owner_id, key))), money(achieved.get((owner_id, key)))
            rows.append(
                {
                    "salesperson": names.get(owner_id, ""),
                    "period": key,
                    "target": target,
                    "achieved": done,
                    "rate": rate(done, target),
                }
            )
    columns = [
        Col("salesperson", _("Salesperson")),
        Col("period", _("Period")),
        Col("target", _("Target"), MONEY),
        Col("achieved", _("Achieved"), MONEY),
        Col("rate", _("Achievement %"), PCT),
    ]
    return Result(
        columns,
        rows,
        {"type": "bar", "x": "period", "series": ["target", "achieved"], "stack_by": "salesperson"},
        _totals(rows, columns),
    )


@report("customer_counts", _("Customer Counts"), filters=("salesperson",), periodic=False)
def customer_counts(session, params: Params) -> Result:
    """Per salesperson: customers held now; new, converted (claimed from the pool) and churned in the range."""
    from flask_appbuilder.security.sqla.models import User

    from app.crm.models import ChannelCustomer, CustomerEvent, EndCustomer

    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    start_at = dt.datetime.combine(params.start, dt.time.min)
    end_at = dt.datetime.combine(params.end, dt.time.max)
    for model, kind in ((ChannelCustomer, "channel"), (EndCustomer, "end")):
        held = select(model.owner_id, func.count()).where(model.owner_id.isnot(None), model.in_pool.is_(False))
        for owner_id, n in session.execute(held.group_by(model.owner_id)):
            counts[owner_id][f"{kind}_held"] = n
        new = select(model.owner_id, func.count()).where(
            model.owner_id.isnot(None), model.created_at >= start_at, model.created_at <= end_at
        )
        for owner_id, n in session.execute(new.group_by(model.owner_id)):
            counts[owner_id][f"{kind}_new"] = n
        for action, name in (("claim_approved", "converted"), ("churn", "churned")):
            owner_col = CustomerEvent.to_owner_id if action == "claim_approved" else CustomerEvent.from_owner_id
            events = select(owner_col, func.count()).where(
                CustomerEvent.kind == kind,
                CustomerEvent.action == action,
                CustomerEvent.at >= start_at,
                CustomerEvent.at <= end_at,
                owner_col.isnot(None),
            )
            for owner_id, n in session.execute(events.group_by(owner_col)):
                counts[owner_id][f"{kind}_{name}"] = n
    if params.salesperson_id:
        counts = {k: v for k, v in counts.items() if k == params.salesperson_id}
    names = {u.id: u.get_full_name() for u in session.query(User).filter(User.id.in_(list(counts)))} if counts else {}
    keys = [f"{k}_{m}" for k in ("channel", "end") for m in ("held", "new", "converted", "churned")]
    rows = [{"salesperson": names.get(o, ""), **{k: int(counts[o].get(k, 0)) for k in keys}} for o in sorted(counts)]
    labels = {
        "channel_held": _("Channels Held"),
        "channel_new": _("New Channels"),
        "channel_converted": _("Channels Claimed"),
        "channel_churned": _("Channels Churned"),
        "end_held": _("End Customers Held"),
        "end_new": _("New End Customers"),
        "end_converted": _("End Customers Claimed"),
        "end_churned": _("End Customers Churned"),
    }
    columns = [Col("salesperson", _("Salesperson"))] + [Col(k, labels[k], INT) for k in keys]
    return Result(
        columns,
        rows,
        {"type": "bar", "x": "salesperson", "series": ["channel_held", "end_held", "channel_new", "end_new"]},
        _totals(rows, columns),
    )


@report("receivables_aging", _("Receivables Aging"), filters=("salesperson", "region"), periodic=False)
def receivables_aging(session, params: Params) -> Result:
    """What each customer still owes on approved orders as of the end date, by days past the due date."""
    from app.crm.models import EndCustomer
    from app.sales.models import Receipt, ReceivableCredit, Refund, SalesOrder

    as_of = params.end
    received = (
        select(func.coalesce(func.sum(Receipt.amount), 0))
        .where(Receipt.order_id == SalesOrder.id, Receipt.doc_date <= as_of)
        .scalar_subquery()
    )
    refunded = (
        select(func.coalesce(func.sum(Refund.amount), 0))
        .where(Refund.order_id == SalesOrder.id, Refund.doc_date <= as_of)
        .scalar_subquery()
    )
    credited = (
        select(func.coalesce(func.sum(ReceivableCredit.amount), 0))
        .where(ReceivableCredit.order_id == SalesOrder.id, ReceivableCredit.doc_date <= as_of)
        .scalar_subquery()
    )
    stmt = (
        select(EndCustomer.name, SalesOrder.due_date, SalesOrder.total_amount - received + refunded - credited)
        .join(EndCustomer, EndCustomer.id == SalesOrder.end_customer_id)
        .where(SalesOrder.status == workflow.APPROVED, SalesOrder.doc_date <= as_of)
    )
    if params.salesperson_id:
        stmt = stmt.where(SalesOrder.owner_id == params.salesperson_id)
    regions = _region_ids(session, params)
    if regions is not None:
        stmt = stmt.where(EndCustomer.region_id.in_(regions))
    buckets = ["not_due", "d0_30", "d31_60", "d61_90", "d90_plus"]
    per_customer: dict[str, dict[str, Decimal]] = defaultdict(lambda: {b: ZERO for b in buckets})
    for name, due, outstanding in session.execute(stmt):
        outstanding = money(outstanding)
        if outstanding <= 0:
            continue
        days = (as_of - due).days if due else 0
        bucket = (
            "not_due"
            if days < 0
            else "d0_30"
            if days <= 30
            else "d31_60"
            if days <= 60
            else "d61_90"
            if days <= 90
            else "d90_plus"
        )
        per_customer[name][bucket] += outstanding
    rows = [
        {"customer": name, **values, "total": sum(values.values(), ZERO)}
        for name, values in sorted(per_customer.items())
    ]
    columns = [
        Col("customer", _("End Customer")),
        Col("not_due", _("Not Due"), MONEY),
        Col("d0_30", _("0–30 Days"), MONEY),
        Col("d31_60", _("31–60 Days"), MONEY),
        Col("d61_90", _("61–90 Days"), MONEY),
        Col("d90_plus", _("Over 90 Days"), MONEY),
        Col("total", _("Outstanding"), MONEY),
    ]
    totals = _totals(rows, columns)
    return Result(columns, rows, {"type": "pie", "from_totals": buckets}, totals)


@report(
    "receipts_payments",
    _("Receipts/Payments Summary"),
    filters=("salesperson",),
    access=("Admin", "SalesManager", "Finance", "Executive"),
)
def receipts_payments(session, params: Params) -> Result:
    from app.purchase.models import Payment
    from app.sales.models import Receipt, Refund

    def summed(model, extra=()):
        where = [_in_range(model.doc_date, params), *extra]
        if params.salesperson_id and hasattr(model, "owner_id"):
            where.append(model.owner_id == params.salesperson_id)
        return _by_period(session, params, model.doc_date, [func.sum(model.amount)], [], where)

    receipts, refunds = summed(Receipt), summed(Refund)
    payments = {} if params.salesperson_id else summed(Payment)
    data = {
        key: [receipts.get(key, [ZERO])[0], refunds.get(key, [ZERO])[0], payments.get(key, [ZERO])[0]]
        for key in set(receipts) | set(refunds) | set(payments)
    }
    rows = _period_rows(params, data, ["receipts", "refunds", "payments"], [MONEY, MONEY, MONEY])
    for row in rows:
        row["net"] = row["receipts"] - row["refunds"] - row["payments"]
    columns = [
        Col("period", _("Period")),
        Col("receipts", _("Receipts"), MONEY),
        Col("refunds", _("Refunds"), MONEY),
        Col("payments", _("Payments"), MONEY),
        Col("net", _("Net Cash In"), MONEY),
    ]
    return Result(
        columns, rows, {"type": "bar", "x": "period", "series": ["receipts", "payments"]}, _totals(rows, columns)
    )


# ------------------------------------------------------------------ purchasing and stock


@report("purchase_amount", _("Purchase Amount"), filters=("category",), access=PURCHASE_ROLES)
def purchase_amount(session, params: Params) -> Result:
    from app.base_data.models import Product
    from app.purchase.models import PurchaseContract, PurchaseContractLine

    where = [
        PurchaseContract.status == workflow.APPROVED,
        PurchaseContract.is_opening.is_(False),
        _in_range(PurchaseContract.doc_date, params),
    ]
    joins = [(PurchaseContract, PurchaseContract.id == PurchaseContractLine.contract_id)]
    categories = _category_ids(session, params)
    if categories is not None:
        joins.append((Product, Product.id == PurchaseContractLine.product_id))
        where.append(Product.category_id.in_(categories))
    data = _by_period(
        session,
        params,
        PurchaseContract.doc_date,
        [func.count(distinct(PurchaseContract.id)), func.sum(PurchaseContractLine.amount)],
        joins,
        where,
    )
    columns = [
        Col("period", _("Period")),
        Col("contracts", _("Contracts"), INT),
        Col("amount", _("Purchases (¥)"), MONEY),
    ]
    rows = _period_rows(params, data, ["contracts", "amount"], [INT, MONEY])
    return Result(columns, rows, {"type": "bar", "x": "period", "series": ["amount"]}, _totals(rows, columns))


def _products(session, ids, categories):
    from app.base_data.models import Product

    query = session.query(Product).filter(Product.id.in_(list(ids)))
    if categories is not None:
        query = query.filter(Product.category_id.in_(categories))
    return {p.id: p for p in query}


@report("stock_in_out", _("Stock In/Out Summary"), filters=("category",), access=STOCK_ROLES, periodic=False)
def stock_in_out(session, params: Params) -> Result:
    """Per product in the range: what came in and went out (transfers between warehouses left out)."""
    from app.inventory.models import StockMove

    moves = [
        StockMove.kind.notin_(("transfer_in", "transfer_out")),
        _in_range(StockMove.doc_date, params),
    ]
    stmt = (
        select(
            StockMove.product_id,
            func.sum(case((StockMove.qty > 0, StockMove.qty), else_=0)),
            func.sum(case((StockMove.qty > 0, StockMove.amount), else_=0)),
            func.sum(case((StockMove.qty < 0, -StockMove.qty), else_=0)),
            func.sum(case((StockMove.qty < 0, -StockMove.amount), else_=0)),
        )
        .where(*moves)
        .group_by(StockMove.product_id)
    )
    data = {pid: vals for pid, *vals in session.execute(stmt)}
    products = _products(session, data, _category_ids(session, params))
    rows = [
        {
            "model_no": p.model_no,
            "product": p.name,
            "in_qty": qty(data[pid][0]),
            "in_amount": money(data[pid][1]),
            "out_qty": qty(data[pid][2]),
            "out_amount": money(data[pid][3]),
        }
        for pid, p in sorted(products.items(), key=lambda kv: kv[1].model_no)
    ]
    columns = [
        Col("model_no", _("Model No.")),
        Col("product", _("Product Name")),
        Col("in_qty", _("In Qty"), QTY),
        Col("in_amount", _("In Amount"), MONEY),
        Col("out_qty", _("Out Qty"), QTY),
        Col("out_amount", _("Out Amount"), MONEY),
    ]
    return Result(
        columns, rows, {"type": "bar", "x": "model_no", "series": ["in_qty", "out_qty"]}, _totals(rows, columns)
    )


@report(
    "product_sales_purchase",
    _("Product Sales/Purchase Summary"),
    filters=("category",),
    access=STOCK_ROLES,
    periodic=False,
)
def product_sales_purchase(session, params: Params) -> Result:
    from app.purchase.models import PurchaseContract, PurchaseContractLine
    from app.sales.models import SalesOrder, SalesOrderLine

    sales = (
        select(SalesOrderLine.product_id, func.sum(SalesOrderLine.qty), func.sum(SalesOrderLine.amount))
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(
            SalesOrder.status == workflow.APPROVED,
            SalesOrder.is_opening.is_(False),
            _in_range(SalesOrder.doc_date, params),
        )
        .group_by(SalesOrderLine.product_id)
    )
    purchases = (
        select(
            PurchaseContractLine.product_id, func.sum(PurchaseContractLine.qty), func.sum(PurchaseContractLine.amount)
        )
        .join(PurchaseContract, PurchaseContract.id == PurchaseContractLine.contract_id)
        .where(
            PurchaseContract.status == workflow.APPROVED,
            PurchaseContract.is_opening.is_(False),
            _in_range(PurchaseContract.doc_date, params),
        )
        .group_by(PurchaseContractLine.product_id)
    )
    sold = {pid: (q, a) for pid, q, a in session.execute(sales)}
    bought = {pid: (q, a) for pid, q, a in session.execute(purchases)}
    products = _products(session, set(sold) | set(bought), _category_ids(session, params))
    rows = []
    for pid, p in sorted(products.items(), key=lambda kv: kv[1].model_no):
        sq, sa = sold.get(pid, (0, 0))
        pq, pa = bought.get(pid, (0, 0))
        rows.append(
            {
                "model_no": p.model_no,
                "product": p.name,
                "sales_qty": qty(sq),
                "sales_amount": money(sa),
                "purchase_qty": qty(pq),
                "purchase_amount": money(pa),
            }
        )
    columns = [
        Col("model_no", _("Model No.")),
        Col("product", _("Product Name")),
        Col("sales_qty", _("Sales Qty"), QTY),
        Col("sales_amount", _("Sales (¥)"), MONEY),
        Col("purchase_qty", _("Purchase Qty"), QTY),
        Col("purchase_amount", _("Purchases (¥)"), MONEY),
    ]
    return Result(
        columns,
        rows,
        {"type": "bar", "x": "model_no", "series": ["sales_amount", "purchase_amount"]},
        _totals(rows, columns),
    )


def _shipped_value_stmts(params: Params, salesperson_id, extra_cols, group_cols):
    """Shipments (posted stock-outs) minus returns, valued at the order line's net price and at cost."""
    from app.inventory.models import POSTED, StockIn, StockInLine, StockOut, StockOutLine
    from app.sales.models import SalesOrder, SalesOrderLine

    net_price = SalesOrderLine.unit_price * (100 - SalesOrderLine.discount) / 100
    out = (
        select(
            *extra_cols(StockOut),
            func.sum(StockOutLine.qty * net_price),
            func.sum(StockOutLine.qty * StockOutLine.unit_cost),
            func.sum(StockOutLine.qty),
        )
        .join(StockOut, StockOut.id == StockOutLine.doc_id)
        .join(SalesOrderLine, SalesOrderLine.id == StockOutLine.order_line_id)
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(StockOut.status == POSTED, _in_range(StockOut.doc_date, params))
    )
    back = (
        select(
            *extra_cols(StockIn),
            func.sum(-StockInLine.qty * net_price),
            func.sum(-StockInLine.qty * StockInLine.unit_cost),
            func.sum(-StockInLine.qty),
        )
        .join(StockIn, StockIn.id == StockInLine.doc_id)
        .join(SalesOrderLine, SalesOrderLine.id == StockInLine.order_line_id)
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(StockIn.status == POSTED, _in_range(StockIn.doc_date, params))
    )
    if salesperson_id:
        out = out.where(SalesOrder.owner_id == salesperson_id)
        back = back.where(SalesOrder.owner_id == salesperson_id)
    return out.group_by(*group_cols(StockOut)), back.group_by(*group_cols(StockIn))


@report("monthly_shipments", _("Monthly Shipments per Customer"), filters=("salesperson",), periodic=False)
def monthly_shipments(session, params: Params) -> Result:
    """每个企业每月发货统计: the value shipped to each customer in each of the 12 months ending with the end date."""
    from app.crm.models import EndCustomer
    from app.sales.models import SalesOrder

    end_month = params.end.replace(day=1)
    months = [periods.shift(periods.key_of(end_month, periods.MONTH), periods.MONTH, -i) for i in range(11, -1, -1)]
    window = Params(**{**params.__dict__})
    window.start, window.end = periods.first_day(months[0], periods.MONTH), periods.last_day(months[-1], periods.MONTH)
    window.period = periods.MONTH

    def cols(doc):
        return [SalesOrder.end_customer_id, periods.bucket_expr(session, doc.doc_date, periods.MONTH)]

    grid: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for stmt in _shipped_value_stmts(window, params.salesperson_id, cols, cols):
        for customer_id, month, value, _cost, _qty in session.execute(stmt):
            grid[customer_id][month] += Decimal(str(value or 0))
    names = (
        dict(session.execute(select(EndCustomer.id, EndCustomer.name).where(EndCustomer.id.in_(list(grid)))).all())
        if grid
        else {}
    )
    rows = []
    for customer_id in sorted(grid, key=lambda c: names.get(c, "")):
        row = {"customer": names.get(customer_id, "")}
        for i, month in enumerate(months, start=1):
            row[f"m{i}"] = money(grid[customer_id].get(month))
        row["total"] = sum((row[f"m{i}"] for i in range(1, 13)), ZERO)
        rows.append(row)
    columns = [Col("customer", _("End Customer"))] + [Col(f"m{i}", m, MONEY) for i, m in enumerate(months, start=1)]
    columns.append(Col("total", _("Total"), MONEY))
    return Result(columns, rows, {"type": "line", "pivot": True, "x_labels": months}, _totals(rows, columns))


@report("profit", _("Profit"), filters=("salesperson", "category"), periodic=False)
def profit(session, params: Params) -> Result:
    """Per product: shipped value at the order's net price − the cost the goods left at (returns netted)."""
    from app.sales.models import SalesOrderLine

    def cols(_doc):
        return [SalesOrderLine.product_id]

    totals: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for stmt in _shipped_value_stmts(params, params.salesperson_id, cols, cols):
        for product_id, value, cost, count in session.execute(stmt):
            acc = totals[product_id]
            acc[0] += Decimal(str(value or 0))
            acc[1] += Decimal(str(cost or 0))
            acc[2] += Decimal(str(count or 0))
    products = _products(session, totals, _category_ids(session, params))
    rows = []
    for pid, p in sorted(products.items(), key=lambda kv: kv[1].model_no):
        revenue, cost, count = money(totals[pid][0]), money(totals[pid][1]), qty(totals[pid][2])
        rows.append(
            {
                "model_no": p.model_no,
                "product": p.name,
                "qty": count,
                "revenue": revenue,
                "cost": cost,
                "profit": revenue - cost,
                "margin": rate(revenue - cost, revenue),
            }
        )
    columns = [
        Col("model_no", _("Model No.")),
        Col("product", _("Product Name")),
        Col("qty", _("Shipped Qty"), QTY),
        Col("revenue", _("Revenue"), MONEY),
        Col("cost", _("Cost"), MONEY),
        Col("profit", _("Gross Profit"), MONEY),
        Col("margin", _("Margin %"), PCT),
    ]
    totals_row = _totals(rows, columns)
    totals_row["margin"] = rate(totals_row["profit"], totals_row["revenue"])
    return Result(columns, rows, {"type": "bar", "x": "model_no", "series": ["revenue", "profit"]}, totals_row)


@report("daily_sales", _("Daily Sales Report"), filters=("salesperson",), periodic=False)
def daily_sales(session, params: Params) -> Result:
    """销售日报: per salesperson, the orders taken (submitted or approved), goods shipped and money received on the
    end date (the start date is not used)."""
    from flask_appbuilder.security.sqla.models import User

    from app.inventory.models import POSTED, StockOut, StockOutLine
    from app.sales.models import Receipt, SalesOrder, SalesOrderLine

    day = params.end
    taken = select(SalesOrder.owner_id, func.count(SalesOrder.id), func.sum(SalesOrder.total_amount)).where(
        SalesOrder.doc_date == day,
        SalesOrder.status.in_((workflow.SUBMITTED, workflow.APPROVED)),
        SalesOrder.is_opening.is_(False),
    )
    net_price = SalesOrderLine.unit_price * (100 - SalesOrderLine.discount) / 100
    shipped = (
        select(SalesOrder.owner_id, func.sum(StockOutLine.qty * net_price))
        .join(StockOut, StockOut.id == StockOutLine.doc_id)
        .join(SalesOrderLine, SalesOrderLine.id == StockOutLine.order_line_id)
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(StockOut.status == POSTED, StockOut.doc_date == day)
    )
    received = select(Receipt.owner_id, func.sum(Receipt.amount)).where(Receipt.doc_date == day)
    if params.salesperson_id:
        taken = taken.where(SalesOrder.owner_id == params.salesperson_id)
        shipped = shipped.where(SalesOrder.owner_id == params.salesperson_id)
        received = received.where(Receipt.owner_id == params.salesperson_id)
    rows_by: dict[int, dict] = defaultdict(lambda: {"orders": 0, "ordered": ZERO, "shipped": ZERO, "received": ZERO})
    for owner_id, count, amount in session.execute(taken.group_by(SalesOrder.owner_id)):
        rows_by[owner_id].update(orders=int(count), ordered=money(amount))
    for owner_id, amount in session.execute(shipped.group_by(SalesOrder.owner_id)):
        rows_by[owner_id]["shipped"] = money(amount)
    for owner_id, amount in session.execute(received.group_by(Receipt.owner_id)):
        rows_by[owner_id]["received"] = money(amount)
    rows_by.pop(None, None)
    names = {u.id: u.get_full_name() for u in session.query(User).filter(User.id.in_(list(rows_by)))} if rows_by else {}
    rows = [
        {"salesperson": names.get(o, ""), **v} for o, v in sorted(rows_by.items(), key=lambda kv: names.get(kv[0], ""))
    ]
    columns = [
        Col("salesperson", _("Salesperson")),
        Col("orders", _("Orders"), INT),
        Col("ordered", _("Orders Taken (¥)"), MONEY),
        Col("shipped", _("Shipped (¥)"), MONEY),
        Col("received", _("Received (¥)"), MONEY),
    ]
    result = Result(
        columns,
        rows,
        {"type": "bar", "x": "salesperson", "series": ["ordered", "shipped", "received"]},
        _totals(rows, columns),
    )
    result.notes.append(gettext("Figures of %(day)s.", day=day.isoformat()))
    return result


def visible_reports(user) -> list[Report]:
    return [r for r in REPORTS.values() if may_see(r, user)]
