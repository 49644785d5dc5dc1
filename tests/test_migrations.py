"""Migrations: the fixture upgrades each database from empty to head; here the models and migrations must agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_appbuilder import Model


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
