"""销售日汇总: approved sales per day and salesperson, kept in step with every approval and cancellation (one row
per day and salesperson, ≈ 36k rows for 2 years and 50 salespeople instead of millions of order lines).

The sales reports, the home page and target achievement read it whenever no region or product-category filter
applies; those filters need the lines and are computed from them. `check()` compares it with the orders and
`rebuild()` recomputes it (after a bulk load, or if a check ever fails): `flask sales-summary [--check]`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Column, Date, Integer, delete, func, insert, literal_column, select

from app.core import workflow
from app.core.counters import add_to_row
from app.core.models import Model, Money

NO_OWNER = 0  # orders without a salesperson (the key cannot be NULL)


class SalesDailySummary(Model):
    __tablename__ = "sales_daily_summary"
    day = Column(Date, primary_key=True)
    owner_id = Column(Integer, primary_key=True, autoincrement=False)
    amount = Money(nullable=False, default=Decimal("0"))  # Σ approved order totals (= Σ their line amounts)
    orders = Column(Integer, nullable=False, default=0)


def _counted(order) -> bool:
    return not order.is_opening


def order_transition(session, order, from_status: str, to_status: str) -> None:
    """Workflow hook: an order entering or leaving "approved" adds or takes back its total and count."""
    if to_status == workflow.APPROVED and from_status != workflow.APPROVED:
        sign = 1
    elif from_status == workflow.APPROVED and to_status != workflow.APPROVED:
        sign = -1
    else:
        return
    if not _counted(order):
        return
    table = SalesDailySummary.__table__
    add_to_row(
        session,
        table,
        {"day": order.doc_date, "owner_id": order.owner_id or NO_OWNER},
        {"amount": sign * Decimal(order.total_amount or 0), "orders": sign},
        {"amount": Decimal("0"), "orders": 0},
    )


def _source(session):
    from app.sales.models import SalesOrder

    # a literal, not a bound parameter: PostgreSQL matches GROUP BY to the SELECT expression by its text
    owner = func.coalesce(SalesOrder.owner_id, literal_column(str(NO_OWNER)))
    return (
        select(SalesOrder.doc_date, owner, func.sum(SalesOrder.total_amount), func.count(SalesOrder.id))
        .where(SalesOrder.status == workflow.APPROVED, SalesOrder.is_opening.is_(False))
        .group_by(SalesOrder.doc_date, owner)
    )


def rebuild(session) -> int:
    """Recompute every row from the approved orders in one statement; returns the rows written."""
    table = SalesDailySummary.__table__
    session.execute(delete(table))
    session.execute(insert(table).from_select(["day", "owner_id", "amount", "orders"], _source(session)))
    return session.query(func.count()).select_from(table).scalar()


def check(session) -> list[str]:
    """Differences between the summary and the orders (empty when in step)."""
    table = SalesDailySummary.__table__
    have = {
        (r.day, r.owner_id): (Decimal(str(r.amount)).quantize(Decimal("0.01")), int(r.orders))
        for r in session.execute(select(table)).all()
        if r.orders or Decimal(str(r.amount))
    }
    want = {
        (day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)), owner): (
            Decimal(str(amount)).quantize(Decimal("0.01")),
            int(count),
        )
        for day, owner, amount, count in session.execute(_source(session))
    }
    problems = []
    for key in sorted(set(have) | set(want), key=lambda k: (k[0], k[1])):
        if have.get(key) != want.get(key):
            problems.append(f"{key[0]} owner {key[1]}: summary {have.get(key)} ≠ orders {want.get(key)}")
    return problems


def install() -> None:
    workflow.on_transition("sales_order", order_transition)
