"""The databases the tests run on: SQLite always, and each server of TEST_DATABASE_URLS (comma-separated).

Each kind is migrated from nothing once per run, into a template (`<database>_template` on a server, a file on
SQLite), seeded and given one user per role; every database a test needs fresh — the session's own, backup round
trips, fault injection — is a clone of it: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL, the
tables' own DDL and rows on MariaDB (which has no templates). Migrating again cost 7–14 s per database.
"""

import os
import sqlite3
from pathlib import Path

import sqlalchemy as sa

PASSWORD = "Test-Passw0rd!"
USERS = {
    "admin": "Admin",
    "sales1": "Salesperson",
    "sales2": "Salesperson",
    "manager": "SalesManager",
    "purchaser": "Purchaser",
    "keeper": "WarehouseKeeper",
    "finance": "Finance",
    "exec": "Executive",
}


def worker_name(name: str) -> str:
    """A database name of this test process: under pytest-xdist each worker (gw0, gw1 …) works on databases of its
    own, so `test` becomes `test_gw0`; outside xdist the name stays."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{name}_{worker}" if worker else name


def server_urls() -> list[str]:
    return [u.strip() for u in os.environ.get("TEST_DATABASE_URLS", "").split(",") if u.strip()]


def kind_of(url: str) -> str:
    """sqlite, postgresql or mysql (MariaDB's SQLAlchemy backend name)."""
    return sa.engine.make_url(url).get_backend_name()


def kinds() -> list[str]:
    return ["sqlite", *(kind_of(u) for u in server_urls())]


def server_url(kind: str, database: str | None = None) -> str | None:
    """The TEST_DATABASE_URLS entry of that kind, pointing at `database` when given (taken as it is: see
    worker_name); None when that kind is not configured."""
    for url in server_urls():
        if kind_of(url) == kind:
            u = sa.engine.make_url(url)
            return (u.set(database=database) if database else u).render_as_string(hide_password=False)
    return None


def make_config(url: str, instance_dir: str):
    os.environ.setdefault("INSTANCE_DIR", instance_dir)
    from config import TestConfig

    cfg = TestConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.SECRET_KEY = "test-secret-key-of-at-least-32-bytes!!"
    return cfg


def empty_database(url: str) -> None:
    """Drop everything in a server database so that migrations start from nothing."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        elif engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
            for (name,) in conn.execute(sa.text("SHOW TABLES")).fetchall():
                conn.execute(sa.text(f"DROP TABLE `{name}`"))
            conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


def _admin_engine(url: str) -> sa.Engine:
    """A connection to the server itself, outside the database `url` names (which may not exist yet)."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "postgresql":
        return sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    # URL.set(database=None) keeps the name: build the URL without one
    bare = sa.engine.URL.create(u.drivername, u.username, u.password, u.host, u.port, None, u.query)
    return sa.create_engine(bare, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def create_database(url: str) -> None:
    """The database `url` names, made when missing, then emptied."""
    name = sa.engine.make_url(url).database
    engine = _admin_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"))
    engine.dispose()
    empty_database(url)


def clone_database(template: str, url: str) -> None:
    """`url` becomes a copy of `template` (same kind, same server), whatever it held before. Nobody may be connected
    to the template (PostgreSQL refuses to copy one in use), nor to `url` on PostgreSQL (it is dropped)."""
    kind = kind_of(template)
    if kind == "sqlite":
        target = Path(sa.engine.make_url(url).database)
        target.unlink(missing_ok=True)
        with sqlite3.connect(sa.engine.make_url(template).database) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return
    source, name = sa.engine.make_url(template).database, sa.engine.make_url(url).database
    if kind == "postgresql":
        engine = _admin_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        engine.dispose()
        return
    create_database(url)
    _copy_mariadb(template, source, url, name)


def _copy_mariadb(template: str, source: str, url: str, name: str) -> None:
    """Every table (its DDL with keys, foreign keys and AUTO_INCREMENT) and every sequence (FAB's ids), with rows."""
    src = sa.create_engine(template, poolclass=sa.pool.NullPool)
    with src.connect() as conn:
        objects = conn.execute(sa.text("SHOW FULL TABLES")).all()
        tables = [
            (t, conn.execute(sa.text(f"SHOW CREATE TABLE `{t}`")).one()[1])
            for t, kind in objects
            if kind == "BASE TABLE"
        ]
        sequences = [
            (
                s,
                conn.execute(sa.text(f"SHOW CREATE SEQUENCE `{s}`")).one()[1],
                conn.execute(sa.text(f"SELECT next_not_cached_value FROM `{s}`")).scalar(),
            )
            for s, kind in objects
            if kind == "SEQUENCE"
        ]
    src.dispose()
    dst = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with dst.begin() as conn:
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table, ddl in tables:
            conn.execute(sa.text(ddl))
            conn.execute(sa.text(f"INSERT INTO `{name}`.`{table}` SELECT * FROM `{source}`.`{table}`"))
        for sequence, ddl, next_value in sequences:
            conn.execute(sa.text(ddl))
            # ids are never given twice: the copy starts where the template's cache ends
            conn.execute(sa.text(f"SELECT SETVAL(`{sequence}`, {int(next_value)})"))
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    dst.dispose()


def drop_database(url: str) -> None:
    if kind_of(url) == "sqlite":
        Path(sa.engine.make_url(url).database).unlink(missing_ok=True)
        return
    name = sa.engine.make_url(url).database
    engine = _admin_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    engine.dispose()
