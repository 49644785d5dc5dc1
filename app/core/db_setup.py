"""Engine and session hooks installed once: SQLite pragmas, document numbers, the audit trail."""

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.core import audit
from app.core.numbering import NumberedMixin, next_number

_installed = False


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_conn, connection_record) -> None:
    if type(dbapi_conn).__module__.startswith("sqlite3"):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()


def _assign_numbers(session: Session, flush_context, instances) -> None:
    for obj in session.new:
        if isinstance(obj, NumberedMixin) and not obj.number:
            obj.number = next_number(session, obj.__doc_prefix__, obj.document_day())


def register(app) -> None:
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _assign_numbers)
        audit.install(Session)
        _installed = True
