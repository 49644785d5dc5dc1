"""Where is this record used? Computed from the foreign keys in the schema, so later modules get it for free."""

from flask_babel import lazy_gettext as _
from sqlalchemy import func, inspect, select

from app.core.errors import BusinessError
from app.core.models import Model

# Human names of tables for the "used in" message; areas add theirs with register_table_label().
TABLE_LABELS: dict[str, object] = {}
# Referencing tables that do not block a delete (e.g. the audit of the row itself).
IGNORED = {"audit_log"}


def register_table_label(table: str, label) -> None:
    TABLE_LABELS[table] = label


def usages(session, item) -> list[tuple[object, int]]:
    """(table label, row count) for every table holding a foreign key to this record."""
    mapper = inspect(item).mapper
    table = mapper.local_table
    pk_value = inspect(item).identity[0]
    # a document's own lines (relationship with delete cascade) go with it; they are not "uses"
    owned = {rel.mapper.local_table for rel in mapper.relationships if rel.cascade.delete}
    found = []
    for other in Model.metadata.sorted_tables:
        if other.name in IGNORED or other in owned:
            continue
        for fk in other.foreign_keys:
            if fk.column.table is not table:
                continue
            count = session.execute(select(func.count()).select_from(other).where(fk.parent == pk_value)).scalar_one()
            if count:
                found.append((TABLE_LABELS.get(other.name, other.name), count))
    return found


def ensure_deletable(session, item) -> None:
    used = usages(session, item)
    if used:
        where = "、".join(f"{label}（{count}）" for label, count in used)
        raise BusinessError(
            _("“%(name)s” is in use by %(where)s and cannot be deleted; disable it instead.", name=item, where=where),
            409,
        )
