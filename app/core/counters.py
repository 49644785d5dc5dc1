"""Rows that hold running totals (stock balances, statistics summaries): insert-if-missing and add-to, safe when two
transactions touch the same row at once on SQLite, PostgreSQL and MariaDB.

The UPDATE comes first: inserting a row that may exist (INSERT IGNORE / ON CONFLICT) takes a shared lock on MariaDB,
and two shared locks upgraded at once deadlock. Only a missing row is inserted (ignoring a concurrent insert), then
updated.
"""

from sqlalchemy import and_, update
from sqlalchemy.dialects import mysql, postgresql, sqlite


def insert_ignore(session, table, values: dict, keys: list) -> None:
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        stmt = mysql.insert(table).values(**values).prefix_with("IGNORE")
    else:
        ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        stmt = ins.values(**values).on_conflict_do_nothing(index_elements=[table.c[k] for k in keys])
    session.execute(stmt)


def add_to_row(session, table, keys: dict, deltas: dict, zero: dict) -> None:
    """row[k] += delta for each delta, creating the row (keys + zero values) when it does not exist yet."""

    def bump() -> int:
        where = and_(*[table.c[k] == v for k, v in keys.items()])
        values = {k: table.c[k] + v for k, v in deltas.items()}
        return session.execute(update(table).where(where).values(**values)).rowcount

    if bump() != 1:
        insert_ignore(session, table, {**keys, **zero}, list(keys))
        bump()
