"""Small validation helpers shared by every area's services."""

from decimal import Decimal

from flask_babel import lazy_gettext as _
from sqlalchemy import func, inspect
from werkzeug.routing import IntegerConverter

from app.core.errors import BusinessError
from app.extensions import db


def ensure_unique(item, attr: str, label, case_insensitive: bool = True) -> None:
    """Refuse a duplicate value with a message naming it (checked before the database's UNIQUE constraint)."""
    model = type(item)
    value = getattr(item, attr)
    if value is None:
        return
    column = getattr(model, attr)
    query = db.session.query(model.id)
    if case_insensitive and isinstance(value, str):
        query = query.filter(func.lower(column) == value.strip().lower())
    else:
        query = query.filter(column == value)
    ident = inspect(item).identity
    if ident:
        query = query.filter(model.id != ident[0])
    with db.session.no_autoflush:
        exists = query.first()
    if exists:
        raise BusinessError(_("%(label)s “%(value)s” already exists.", label=label, value=value), 409, field=label)


def ensure_non_negative(value, label) -> None:
    if value is not None and Decimal(value) < 0:
        raise BusinessError(_("%(label)s cannot be negative.", label=label), 400, field=label)


def strip_text(item, *attrs) -> None:
    for attr in attrs:
        value = getattr(item, attr, None)
        if isinstance(value, str):
            setattr(item, attr, value.strip() or None)


MAX_ID = 2**31 - 1


def parse_id(raw) -> int | None:
    """A record id from user input, or None: never a value the database driver cannot bind (SQLite overflows past
    64 bits, which would be a 500)."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= MAX_ID else None


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in every route is a record id: past MAX_ID no route matches (a 404) instead of the value reaching
    the database driver (OverflowError on SQLite, "integer out of range" on PostgreSQL: a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
