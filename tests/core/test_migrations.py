"""Migrations: the fixture upgrades each database from empty to head; here the models and migrations must agree."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_appbuilder import Model

pytestmark = pytest.mark.every_database(
    "each database is migrated from nothing by its own dialect's DDL: schema, revision and indexes differ per server"
)


def _include(obj, name, type_, reflected, compare_to):
    # tables of the tests' own fixture models are created by the fixtures, not by migrations
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not str(table or "").startswith("test_")


def test_no_drift_between_models_and_migrations(app):
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include, "target_metadata": Model.metadata}
        )
        diff = compare_metadata(ctx, Model.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_database_is_at_head(app):
    from app.extensions import db

    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_heads()
        assert set(current) == set(script.get_heads())


def test_customer_owner_and_referrer_indexes_leave_out_nulls_and_serve_lookups(app):
    """Migration 0014: on PostgreSQL and SQLite the indexes hold no NULL (a pool customer costs no entry) and a
    lookup by owner or referrer still goes through them; MariaDB/MySQL keep the full index."""
    from sqlalchemy import text

    from app.extensions import db

    lookups = {  # index → (its table, a lookup through it)
        "ix_channel_customer_owner_id": ("channel_customer", "SELECT id FROM channel_customer WHERE owner_id = 1"),
        "ix_end_customer_owner_id": ("end_customer", "SELECT id FROM end_customer WHERE owner_id = 1"),
        "ix_end_customer_referrer_id": ("end_customer", "SELECT id FROM end_customer WHERE referrer_id = 1"),
    }
    with app.app_context(), db.engine.connect() as conn:
        kind = conn.dialect.name
        for name, (table, lookup) in lookups.items():
            if kind == "postgresql":
                definition = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name})
                assert "IS NOT NULL" in definition.scalar_one(), name
                conn.exec_driver_sql("SET enable_seqscan = off")  # a test database's tables are too small to tell
                plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {lookup}"))
            elif kind == "sqlite":
                sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}).scalar_one()
                assert "IS NOT NULL" in sql, name
                plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {lookup}"))
            else:
                rows = conn.exec_driver_sql(f"SHOW INDEX FROM {table}").all()
                assert any(r[2] == name for r in rows), name
                continue
            assert name in plan, (name, plan)
