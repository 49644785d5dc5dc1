"""How money, quantities, dates and times are shown: ¥1,234.50, YYYY-MM-DD, Asia/Shanghai."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
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


CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"
CN_PLACES = ("", "拾", "佰", "仟")  # within a group of four digits
CN_GROUPS = ("", "万", "亿")  # groups of four digits, lowest first
CN_MAX = Decimal("999999999999.99")  # 玖仟玖佰玖拾玖亿…: the largest amount the 亿 unit spells without 万亿
CN_LIMIT = Decimal("1000000000000")


def amount_in_chinese(value) -> str:
    """大写金额 as written on Chinese invoices and cheques: 1234.50 → 壹仟贰佰叁拾肆元伍角整.

    Rounded half up to the cent. One 零 stands for each run of zeros between two non-zero digits, except zeros
    closing a 万/亿 group, whose unit marks the place (107000 → 壹拾万柒仟元); 元 is followed by 零 when 角 is
    zero and 分 is not (1000.05 → 壹仟元零伍分); 整 closes an amount without 分. Negative amounts start with 负.
    """
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    # checked before rounding as well: quantizing a huge number would overflow the decimal context
    if abs(amount) >= CN_LIMIT:
        raise ValueError(f"amount beyond 9999亿: {value!r}")
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if abs(amount) > CN_MAX:
        raise ValueError(f"amount beyond 9999亿: {value!r}")
    cents = int(abs(amount) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    text = "负" if amount < 0 else ""
    if yuan:
        text += _chinese_integer(yuan) + "元"
    if jiao:
        text += CN_DIGITS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    text += CN_DIGITS[fen] + "分" if fen else "整"
    return text


def _chinese_integer(number: int) -> str:
    digits = str(number)
    out = []
    zeros_pending = False  # a zero was passed since the last digit written
    for i, ch in enumerate(digits):
        place = len(digits) - 1 - i  # 0 = units
        digit = int(ch)
        if digit == 0:
            zeros_pending = bool(out)
        else:
            if zeros_pending:
                out.append("零")
                zeros_pending = False
            out.append(CN_DIGITS[digit] + CN_PLACES[place % 4])
        if place % 4 == 0 and place:
            group = digits[max(0, i - 3) : i + 1]
            if int(group):
                out.append(CN_GROUPS[place // 4])
                zeros_pending = False  # the group's unit holds its trailing zeros' place
    return "".join(out)
