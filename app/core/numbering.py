"""Document numbers: prefix + date + daily sequence (XS20261123-0001), unique under concurrent creation.

The counter row per (prefix, day) is incremented with a single upsert, so two transactions never read the same
value (the second waits on the first's row lock); the document's own `number` column is UNIQUE as a last guard.
"""

import datetime as dt

from sqlalchemy import Column, Date, Integer, String, func, select, text
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import declared_attr

from app.core.formatting import local_today
from app.core.models import Model

PREFIXES = {
    "BJ": "quotation",
    "XS": "sales_order",
    "SK": "receipt",
    "TK": "refund",
    "CG": "purchase_contract",
    "FK": "payment",
    "RK": "stock_in",
    "CK": "stock_out",
    "PD": "stock_take",
    "DB": "stock_transfer",
    "BX": "expense",
    "YJ": "commission",
    "SH": "service_request",
    "CJ": "receivable_credit",
    "FL": "rebate",
}


class DocumentSequence(Model):
    __tablename__ = "doc_sequence"
    prefix = Column(String(8), primary_key=True)
    day = Column(Date, primary_key=True)
    last_value = Column(Integer, nullable=False, default=0)


def next_number(session, prefix: str, day: dt.date | None = None) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown document prefix {prefix}")
    day = day or local_today()
    table = DocumentSequence.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        # LAST_INSERT_ID(expr) hands the new value back on this connection for both branches of the upsert.
        stmt = mysql.insert(table).values(prefix=prefix, day=day, last_value=func.last_insert_id(1))
        stmt = stmt.on_duplicate_key_update(last_value=func.last_insert_id(table.c.last_value + 1))
        session.execute(stmt)
        value = session.execute(text("SELECT LAST_INSERT_ID()")).scalar_one()
    else:
        ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        stmt = (
            ins.values(prefix=prefix, day=day, last_value=1)
            .on_conflict_do_update(
                index_elements=[table.c.prefix, table.c.day], set_={"last_value": table.c.last_value + 1}
            )
            .returning(table.c.last_value)
        )
        value = session.execute(stmt).scalar_one()
    return f"{prefix}{day:%Y%m%d}-{value:04d}"


def current_value(session, prefix: str, day: dt.date) -> int:
    return (
        session.execute(
            select(DocumentSequence.last_value).where(DocumentSequence.prefix == prefix, DocumentSequence.day == day)
        ).scalar_one_or_none()
        or 0
    )


class NumberedMixin:
    """A document with a human number, assigned on first flush from __doc_prefix__ and the document date."""

    __doc_prefix__: str = ""

    @declared_attr
    def number(cls):
        return Column(String(20), unique=True, nullable=False)

    def document_day(self) -> dt.date | None:
        return getattr(self, "doc_date", None)
