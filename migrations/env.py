"""Alembic environment: the schema is FAB's Model.metadata (our models and FAB's security tables)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from flask_appbuilder import Model

config = context.config
if config.config_file_name and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_metadata = Model.metadata


def _engine():
    return current_app.extensions["migrate"].db.engine


def _options(dialect_name: str) -> dict:
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        # SQLite alters tables by copy-and-move
        "render_as_batch": dialect_name == "sqlite",
    }


def run_migrations_offline() -> None:
    url = _engine().url
    context.configure(url=url, literal_binds=True, **_options(url.get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table (copy, drop the old one, rename the copy); with foreign keys enforced
            # the drop fails, or cascades into the child rows, as soon as rows refer to the table. SQLite's own
            # recipe: keys off for the rebuild (the pragma is ignored inside a transaction), checked afterwards.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        applied = []
        try:
            context.configure(
                connection=connection,
                process_revision_directives=process_revision_directives,
                on_version_apply=lambda **kw: applied.append(kw["step"]),
                **_options(connection.dialect.name),
            )
            with context.begin_transaction():
                context.run_migrations()
            # only after a migration ran: the check reads every reference, too slow for each start of a large database
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() if sqlite and applied else []
            if broken:
                raise RuntimeError(f"rows refer to missing rows after the migration: {broken[:10]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
