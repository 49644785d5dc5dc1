"""How money, quantities, dates and times are shown: ¥1,234.50, YYYY-MM-DD, Asia/Shanghai."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from markupsafe import Markup

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def to_local(value: dt.datetime) -> dt.datetime:
    """Times are stored naive in UTC; show them in China time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LOCAL_TZ)


def local_today() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()


def format_money(value) -> str:
    if value is None or value == "":
        return ""
    value = Decimal(value)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def format_qty(value) -> str:
    if value is None or value == "":
        return ""
    text = f"{Decimal(value):,.3f}".rstrip("0").rstrip(".")
    return text or "0"


def format_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return to_local(value).strftime("%Y-%m-%d %H:%M")
    return value.strftime("%Y-%m-%d")


def format_bool(value) -> Markup:
    from flask_babel import gettext

    if value is None:
        return Markup("")
    css = "success" if value else "default"
    return Markup('<span class="label label-%s">%s</span>') % (css, gettext("Yes") if value else gettext("No"))


def register_filters(app) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["qty"] = format_qty
    app.jinja_env.filters["ymd"] = format_date
