"""Column types and mixins shared by every area."""

from datetime import UTC, datetime
from decimal import Decimal

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import declared_attr, relationship


def Money(**kw) -> Column:  # noqa: N802 - reads like a type in model declarations
    return Column(Numeric(14, 2, asdecimal=True), **kw)


def Quantity(**kw) -> Column:  # noqa: N802
    return Column(Numeric(14, 3, asdecimal=True), **kw)


ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def not_null_index(table: str, column: str) -> Index:
    """The index of a nullable column without its NULLs, on PostgreSQL and SQLite (MariaDB/MySQL have no partial
    indexes: theirs holds every row). Equality lookups and the key checks of deletes use it as before; a row with
    NULL costs no entry — a bulk import of 100k pool customers wrote 100k NULLs into each such index (0.15 s of its
    1.0 s COPY on PostgreSQL). Not for a column that lists sort by or that is looked up as NULL."""
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_{table}_{column}", column, postgresql_where=where, sqlite_where=where)


class TimestampMixin:
    created_at = Column(DateTime, default=utcnow, nullable=False)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class DictionaryMixin(TimestampMixin):
    """A dictionary entry: unique name, sort order, enabled flag (entries in use are disabled, not deleted)."""

    __audit__ = True
    id = Column(Integer, primary_key=True)
    name = Column(String(64), unique=True, nullable=False)
    sort_order = Column(Integer, default=0, nullable=False)
    enabled = Column(Boolean, default=True, nullable=False)
    note = Column(Text)

    def __repr__(self) -> str:
        return self.name or ""


class OwnedMixin:
    """A record that belongs to a salesperson; the data-scope filter keys on owner_id."""

    __owned__ = True

    @declared_attr
    def owner_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), index=True, nullable=True)

    @declared_attr
    def owner(cls):
        return relationship(User, foreign_keys=[cls.owner_id], lazy="joined")


__all__ = [
    "Model",
    "Money",
    "Quantity",
    "ZERO",
    "CENT",
    "utcnow",
    "TimestampMixin",
    "DictionaryMixin",
    "OwnedMixin",
    "not_null_index",
]
