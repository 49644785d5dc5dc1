"""Periods of a report: day / month / quarter / year keys, the list of every period in a range (empty ones too),
and the SQL expression that buckets a date column by month or day on each database."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _
from sqlalchemy import func, literal_column

from app.core.errors import BusinessError

DAY, MONTH, QUARTER, YEAR = "day", "month", "quarter", "year"
PERIODS = {DAY: _("Day"), MONTH: _("Month"), QUARTER: _("Quarter"), YEAR: _("Year")}
MAX_DAYS = 3700  # a day report over ten years is a mistake, not a request


def bucket_expr(session, column, period: str):
    """SQL text key of the date column: YYYY-MM-DD for days, YYYY-MM for everything coarser (rolled up after)."""
    dialect = session.get_bind().dialect.name
    daily = period == DAY
    # the format is a literal, not a bound parameter: PostgreSQL only matches the SELECT and GROUP BY expressions
    # when their text is identical
    if dialect == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM-DD'" if daily else "'YYYY-MM'"))
    if dialect in ("mysql", "mariadb"):
        return func.date_format(column, literal_column("'%Y-%m-%d'" if daily else "'%Y-%m'"))
    return func.strftime(literal_column("'%Y-%m-%d'" if daily else "'%Y-%m'"), column)


def key_of(day: dt.date, period: str) -> str:
    if period == DAY:
        return day.isoformat()
    if period == MONTH:
        return f"{day.year}-{day.month:02d}"
    if period == QUARTER:
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def roll(bucket: str, period: str) -> str:
    """A month (YYYY-MM) or day (YYYY-MM-DD) bucket from SQL → the report's period key."""
    year, month = int(bucket[:4]), int(bucket[5:7])
    if period in (DAY, MONTH):
        return bucket
    return key_of(dt.date(year, month, 1), period)


def periods_between(start: dt.date, end: dt.date, period: str) -> list[str]:
    """Every period key from start to end, in order."""
    keys: list[str] = []
    if period == DAY:
        day = start
        while day <= end:
            keys.append(day.isoformat())
            day += dt.timedelta(days=1)
        return keys
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        key = key_of(dt.date(year, month, 1), period)
        if not keys or keys[-1] != key:
            keys.append(key)
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return keys


def shift(key: str, period: str, steps: int) -> str:
    """The period `steps` before (negative) or after a key: the base of MoM / QoQ / YoY growth."""
    if period == DAY:
        return (dt.date.fromisoformat(key) + dt.timedelta(days=steps)).isoformat()
    if period == MONTH:
        index = int(key[:4]) * 12 + int(key[5:7]) - 1 + steps
        return f"{index // 12}-{index % 12 + 1:02d}"
    if period == QUARTER:
        index = int(key[:4]) * 4 + int(key[5]) - 1 + steps
        return f"{index // 4}Q{index % 4 + 1}"
    return str(int(key) + steps)


def per_year(period: str) -> int:
    return {DAY: 365, MONTH: 12, QUARTER: 4, YEAR: 1}[period]


def first_day(key: str, period: str) -> dt.date:
    if period == DAY:
        return dt.date.fromisoformat(key)
    if period == MONTH:
        return dt.date(int(key[:4]), int(key[5:7]), 1)
    if period == QUARTER:
        return dt.date(int(key[:4]), (int(key[5]) - 1) * 3 + 1, 1)
    return dt.date(int(key), 1, 1)


def last_day(key: str, period: str) -> dt.date:
    following = first_day(shift(key, period, 1), period)
    return following - dt.timedelta(days=1)


def check_range(start: dt.date, end: dt.date, period: str) -> None:
    if period not in PERIODS:
        raise BusinessError(_("The period must be day, month, quarter or year."), 400)
    if end < start:
        raise BusinessError(_("The end date cannot be before the start date."), 400)
    if period == DAY and (end - start).days > MAX_DAYS:
        raise BusinessError(_("A daily report covers at most ten years; choose months instead."), 400)
