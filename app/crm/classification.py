"""ABC分类 of end customers (DOMAIN.md "Customers"), recomputed by `flask classify`.

The window is the 12 months ending on `today` (a China local date): from the day after the same date one year
earlier through `today`, both included — for 2046-06-30 that is 2045-07-01 … 2046-06-30 (29 February counts from
1 March of the year before). In it, per end customer:

- received = Σ receipts − Σ refunds dated in the window, on the customer's orders that are not cancelled;
- orders = approved orders dated in the window.

Customers with received > 0 are ranked by received, largest first (equal amounts: the older customer record first).
A customer is A while the cumulative received up to and including them is ≤ ABC_A_SHARE % of the total (the first
customer is always A), B while it is ≤ ABC_B_SHARE %, C after that. Everyone else is C. Then frequency:
ABC_FREQUENT_ORDERS or more approved orders in the window lift a customer one class (C → B, B → A). Every end customer
is written on each run, so a customer whose money stopped coming falls back to C.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import bindparam, func, select, update

from app.core import workflow
from app.core.formatting import local_today
from app.core.models import CENT, utcnow
from app.crm.models import EndCustomer

A, B, C = "A", "B", "C"
ABC_CLASSES = (A, B, C)
DEFAULTS = {"ABC_A_SHARE": 70, "ABC_B_SHARE": 90, "ABC_FREQUENT_ORDERS": 6, "ABC_CHURN_WARN_DAYS": 60}
PROMOTED = {C: B, B: A, A: A}


def setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])


def window(today: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the 12 months ending today, both included."""
    try:
        year_before = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_before = today.replace(year=today.year - 1, day=28)
    return year_before + dt.timedelta(days=1), today


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def customer_figures(session, today: dt.date) -> dict[int, tuple[Decimal, int]]:
    """{end customer id: (received net of refunds, approved orders)} in the window, for customers with either."""
    from app.sales.models import Receipt, Refund, SalesOrder

    first, last = window(today)
    figures: dict[int, list] = {}
    for model, sign in ((Receipt, 1), (Refund, -1)):
        stmt = (
            select(SalesOrder.end_customer_id, func.sum(model.amount))
            .join(SalesOrder, SalesOrder.id == model.order_id)
            .where(SalesOrder.status != workflow.CANCELLED, model.doc_date >= first, model.doc_date <= last)
            .group_by(SalesOrder.end_customer_id)
        )
        for customer_id, amount in session.execute(stmt):
            figures.setdefault(customer_id, [Decimal("0.00"), 0])[0] += sign * _money(amount)
    orders = (
        select(SalesOrder.end_customer_id, func.count(SalesOrder.id))
        .where(
            SalesOrder.status == workflow.APPROVED,
            SalesOrder.is_opening.is_(False),  # an opening receivable is not a purchase
            SalesOrder.doc_date >= first,
            SalesOrder.doc_date <= last,
        )
        .group_by(SalesOrder.end_customer_id)
    )
    for customer_id, count in session.execute(orders):
        figures.setdefault(customer_id, [Decimal("0.00"), 0])[1] = int(count)
    return {cid: (amount, count) for cid, (amount, count) in figures.items()}


def rank(figures: dict[int, tuple[Decimal, int]]) -> dict[int, str]:
    """The class of every customer in `figures` (customers not in it are C)."""
    a_share, b_share = Decimal(str(setting("ABC_A_SHARE"))), Decimal(str(setting("ABC_B_SHARE")))
    frequent = int(setting("ABC_FREQUENT_ORDERS"))
    paying = sorted(((amount, cid) for cid, (amount, _n) in figures.items() if amount > 0), key=lambda r: (-r[0], r[1]))
    total = sum((amount for amount, _cid in paying), Decimal("0"))
    classes = {cid: C for cid in figures}
    cumulative = Decimal("0")
    for i, (amount, cid) in enumerate(paying):
        cumulative += amount
        # shares compared exactly: cumulative / total ≤ share % ⇔ cumulative × 100 ≤ share × total
        if i == 0 or cumulative * 100 <= a_share * total:
            classes[cid] = A
        elif cumulative * 100 <= b_share * total:
            classes[cid] = B
    for cid, (_amount, count) in figures.items():
        if count >= frequent:
            classes[cid] = PROMOTED[classes[cid]]
    return classes


def classify_customers(session, today: dt.date | None = None) -> dict[str, int]:
    """Classify every end customer as of `today` and commit. Returns {"A": n, "B": n, "C": n}. Safe to repeat."""
    today = today or local_today()
    figures = customer_figures(session, today)
    classes = rank(figures)
    now = utcnow()
    table = EndCustomer.__table__
    # a classification is not an edit of the customer: updated_at keeps its value (and the audit trail stays quiet)
    session.execute(
        update(table).values(abc_class=C, abc_amount=0, abc_orders=0, abc_at=now, updated_at=table.c.updated_at)
    )
    rows = [
        {"b_id": cid, "b_class": classes[cid], "b_amount": amount, "b_orders": count}
        for cid, (amount, count) in figures.items()
    ]
    if rows:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                abc_class=bindparam("b_class"),
                abc_amount=bindparam("b_amount", type_=table.c.abc_amount.type),
                abc_orders=bindparam("b_orders"),
                updated_at=table.c.updated_at,
            ),
            rows,
        )
    session.commit()
    counts = dict.fromkeys(ABC_CLASSES, 0)
    for cls, count in session.execute(select(table.c.abc_class, func.count()).group_by(table.c.abc_class)):
        if cls in counts:
            counts[cls] = int(count)
    return counts


def churn_risks(session, today: dt.date) -> list[tuple[EndCustomer, dt.date | None, dt.date | None]]:
    """A and B customers with an owner whose last approved order and last follow-up are both more than
    ABC_CHURN_WARN_DAYS days ago (or never happened): [(customer, last order date, last follow-up date)]."""
    from app.crm.models import Followup
    from app.sales.models import SalesOrder

    cutoff = today - dt.timedelta(days=int(setting("ABC_CHURN_WARN_DAYS")))
    last_order = (
        select(SalesOrder.end_customer_id.label("cid"), func.max(SalesOrder.doc_date).label("day"))
        .where(SalesOrder.status == workflow.APPROVED, SalesOrder.is_opening.is_(False))
        .group_by(SalesOrder.end_customer_id)
        .subquery()
    )
    last_followup = (
        select(Followup.end_customer_id.label("cid"), func.max(Followup.followup_date).label("day"))
        .where(Followup.end_customer_id.isnot(None))
        .group_by(Followup.end_customer_id)
        .subquery()
    )
    query = (
        session.query(EndCustomer, last_order.c.day, last_followup.c.day)
        .outerjoin(last_order, last_order.c.cid == EndCustomer.id)
        .outerjoin(last_followup, last_followup.c.cid == EndCustomer.id)
        .filter(
            EndCustomer.abc_class.in_((A, B)),
            EndCustomer.owner_id.isnot(None),
            EndCustomer.in_pool.is_(False),
            (last_order.c.day.is_(None)) | (last_order.c.day < cutoff),
            (last_followup.c.day.is_(None)) | (last_followup.c.day < cutoff),
        )
        .order_by(EndCustomer.id)
    )
    return [(customer, order_day, followup_day) for customer, order_day, followup_day in query]
