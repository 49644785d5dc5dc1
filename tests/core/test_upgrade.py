"""Upgrades without loss (issue 8): a database at an older migration, holding data, is upgraded to head and every
row of every table is still there with the same values.

- from the previous head (the revision before the current one, read from the alembic script directory): the
  database is filled by bench/generate.py — a realistic history — when the generator works at that revision, and
  with Core inserts from the reflected schema when it does not (a migration the models have moved past); every table
  the generator leaves empty gets Core rows too, so that no table is upgraded empty;
- step by step from the first revision: at each revision every row written so far is checked and more rows go into
  every table (the tables and columns that revision added included), so each migration runs over data.

On SQLite always, and on each server of TEST_DATABASE_URLS in a database of its own, `test_upgrade`.
"""

import datetime as dt
import functools
import warnings
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from tests.support.apps import build_app, dispose_app
from tests.support.databases import create_database, server_urls, worker_name

DATABASE = worker_name("test_upgrade")
ROWS = 6  # rows per table and fill; every row differs from the others in every column it may be unique on
# Columns whose values a migration changes on purpose, or drops: (table, column or None for the whole table) →
# the migration and why. A change to anything not listed here is a loss.
INTENDED_CHANGES: dict[tuple[str, str | None], str] = {}
# Values a CHECK constraint requires (the reflected schema does not say which values pass)
CHECKED = {("service_request", "satisfaction"): lambda n: 1 + n % 5}


def _server_urls() -> list[str]:
    return [sa.engine.make_url(u).set(database=DATABASE).render_as_string(hide_password=False) for u in server_urls()]


@pytest.fixture(
    params=["sqlite", *_server_urls()], ids=lambda p: sa.engine.make_url(p).get_backend_name() if "://" in p else p
)
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/upgrade.db"
    try:
        create_database(request.param)
    except sa.exc.OperationalError as exc:
        pytest.skip(f"database server of {request.param} not reachable: {exc}")
    return request.param


@pytest.fixture
def empty_app(database, tmp_path):
    """The app on a database that no migration has touched yet (not the session's `app`: that one is at head)."""
    application = build_app(database, str(tmp_path), scope_tests=False)
    yield application
    dispose_app(application)


def _revisions(app) -> list[str]:
    """Every revision from the first to head (the history is one line)."""
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
        return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _upgrade(app, revision: str = "head") -> None:
    from flask_migrate import upgrade

    from app.extensions import db

    with app.app_context():
        upgrade(revision=revision)
        db.session.remove()
        db.engine.dispose()  # the next reflection sees the new schema on fresh connections


# ------------------------------------------------------------------ rows from the reflected schema


def _value(table: sa.Table, col: sa.Column, i: int, n: int):
    """Row i's value of a plain column; n is unique over every fill. Strings start with n so that they stay unique
    when cut to the column's length; they carry Chinese, quotes and (in long text) a line break and an emoji."""
    if (table.name, col.name) in CHECKED:
        return CHECKED[(table.name, col.name)](n)
    if col.nullable and i % 3 == 2:
        return None
    kind = col.type
    try:
        py = kind.python_type
    except NotImplementedError:
        py = str
    if py is bool or "TINYINT" in type(kind).__name__.upper():  # MariaDB's booleans are TINYINT(1)
        return i % 2 == 0 if py is bool else i % 2
    if py is int:
        return 1000 + n
    if py is Decimal:
        precision, scale = getattr(kind, "precision", None) or 14, getattr(kind, "scale", None) or 0
        whole = (n * 37) % min(10 ** (precision - scale) - 1, 10**6)
        value = Decimal(whole) + (Decimal(1) - Decimal(1).scaleb(-scale) if scale else 0)  # 123.99…
        return -value if i % 4 == 3 else value
    if py is float:
        return n + 0.25
    if py is dt.datetime:
        return dt.datetime(2024, 2, 29, 23, 59, 58) + dt.timedelta(days=n, seconds=n)
    if py is dt.date:
        return dt.date(2024, 2, 29) + dt.timedelta(days=n)
    if py is dt.time:
        return dt.time(n % 24, n % 60, 30)
    if py is bytes:
        return bytes(range(n % 200, n % 200 + 40)) + b"\x00\xff"
    text = f"{n}升级“测试”'{table.name}.{col.name}'"
    length = getattr(kind, "length", None)
    return text[:length] if length else text + "\n第二行 😀"


def _existing(conn, table: sa.Table) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns).limit(ROWS)).mappings()]


def _reflect(conn) -> sa.MetaData:
    meta = sa.MetaData()
    meta.reflect(conn)
    return meta


def fill(conn, label: int, only_empty: bool = False, meta: sa.MetaData | None = None) -> dict[str, int]:
    """ROWS rows into every table (only the empty ones with only_empty), parents before children; a child's
    foreign keys take its parents' rows in mixed radix (first key i % n, second i // n % n, …), so that no two rows
    share a combination of parents. Parents are this fill's rows, or with only_empty the first rows of a table that
    already held some. A key to a table not filled yet (a cycle, or the table itself) is set afterwards, when it may
    be null. Returns the rows written per table."""
    meta = meta if meta is not None else _reflect(conn)
    made: dict[str, list[dict]] = {}
    later: list[tuple[sa.Table, sa.Column, sa.Column]] = []
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        if only_empty and conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            continue
        pk = list(table.primary_key.columns)
        next_id = None
        if len(pk) == 1 and pk[0].type.python_type is int and not pk[0].foreign_keys:
            next_id = (conn.execute(sa.select(sa.func.max(pk[0]))).scalar() or 0) + 1
        parents: dict[str, list[dict]] = {}
        for col in table.columns:
            for fk in col.foreign_keys:
                target = fk.column.table
                if target is table:
                    parents[col.name] = []
                elif target.name in made:
                    parents[col.name] = made[target.name]
                else:
                    parents[col.name] = _existing(conn, target) if only_empty else []
                if not parents[col.name]:
                    if not col.nullable:
                        raise AssertionError(f"{table.name}.{col.name} needs a {target.name} row first")
                    later.append((table, col, fk.column))
        rows, count = [], ROWS
        for choices in parents.values():  # a few seeded parents allow as many distinct rows
            count = min(count, len(choices) or count)
        for i in range(count):
            n = label * 100 + i
            row, radix = {}, 1
            for col in table.columns:
                if col.name in parents:
                    choices = parents[col.name]
                    if not choices or (col.nullable and not col.primary_key and i % 3 == 2):
                        row[col.name] = None
                    else:
                        row[col.name] = choices[i // radix % len(choices)][next(iter(col.foreign_keys)).column.name]
                        radix *= len(choices)
                elif next_id is not None and col is pk[0]:
                    row[col.name] = next_id + i
                else:
                    row[col.name] = _value(table, col, i, n)
            rows.append(row)
        try:
            conn.execute(table.insert(), rows)
        except sa.exc.DBAPIError as exc:
            raise AssertionError(f"cannot fill {table.name}: {exc}") from exc
        made[table.name] = rows
    for table, col, target_col in later:  # trees and cycles: rows i ≥ 1 refer to a row of the target
        choices = made.get(target_col.table.name) or _existing(conn, target_col.table)
        pk = list(table.primary_key.columns)
        for i, row in enumerate(made.get(table.name, [])):
            if i == 0 or i % 3 == 2 or not choices:
                continue
            row[col.name] = choices[(i - 1) % len(choices)][target_col.name]
            conn.execute(table.update().where(*[c == row[c.name] for c in pk]).values({col.name: row[col.name]}))
    if conn.dialect.name == "postgresql":  # serial ids go on after the explicit ones, as after a real load
        for name in made:
            if "id" in meta.tables[name].c:
                conn.execute(
                    sa.text(
                        f"SELECT setval(s, (SELECT COALESCE(MAX(id), 1) FROM {name})) "
                        f"FROM pg_get_serial_sequence('{name}', 'id') AS s WHERE s IS NOT NULL"
                    )
                )
    return {name: len(rows) for name, rows in made.items()}


# ------------------------------------------------------------------ every row, before and after


def snapshot(conn, meta: sa.MetaData | None = None) -> dict[str, dict]:
    """Every row of every table: {table: {"columns": [...], "rows": {primary key: row}}} (rows of a table without a
    primary key are keyed by their whole value, with a count)."""
    meta = meta if meta is not None else _reflect(conn)
    tables = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        cols = [c.name for c in table.columns]
        key_cols = [c.name for c in table.primary_key.columns]
        rows: dict = {}
        for row in conn.execute(sa.select(table)).mappings():
            values = tuple(row[c] for c in cols)
            if key_cols:
                rows[tuple(row[c] for c in key_cols)] = values
            else:
                rows[values] = rows.get(values, 0) + 1
        tables[table.name] = {"columns": cols, "keys": key_cols, "rows": rows}
    return tables


def losses(before: dict, after: dict) -> list[str]:
    """What `before` held that `after` lost or changed, outside INTENDED_CHANGES."""
    problems = []
    for name, old in before.items():
        if (name, None) in INTENDED_CHANGES:
            continue
        new = after.get(name)
        if new is None:
            problems.append(f"table {name} is gone ({len(old['rows'])} rows)")
            continue
        kept = [c for c in old["columns"] if (name, c) not in INTENDED_CHANGES]
        for c in kept:
            if c not in new["columns"]:
                problems.append(f"column {name}.{c} is gone")
        kept = [c for c in kept if c in new["columns"]]
        if not old["keys"]:
            old_rows = {tuple(v[old["columns"].index(c)] for c in kept): k for v, k in old["rows"].items()}
            new_rows = {tuple(v[new["columns"].index(c)] for c in kept): k for v, k in new["rows"].items()}
            for values, count in old_rows.items():
                if new_rows.get(values, 0) < count:
                    problems.append(f"{name}: row {values} lost")
            continue
        if old["keys"] != new["keys"]:
            problems.append(f"{name}: primary key {old['keys']} became {new['keys']}")
            continue
        for key, values in old["rows"].items():
            now = new["rows"].get(key)
            if now is None:
                problems.append(f"{name} {dict(zip(old['keys'], key, strict=True))}: row lost")
                continue
            for c in kept:
                was, is_ = values[old["columns"].index(c)], now[new["columns"].index(c)]
                if was != is_:
                    problems.append(f"{name} {dict(zip(old['keys'], key, strict=True))}.{c}: {was!r} became {is_!r}")
    return problems


def _engine(app):
    from app.extensions import db

    with app.app_context():
        return sa.create_engine(db.engine.url)


def _count(snap: dict) -> int:
    return sum(len(t["rows"]) for t in snap.values())


# ------------------------------------------------------------------ the tests


def test_every_row_survives_the_upgrade_from_the_previous_head(empty_app, database, monkeypatch):
    app = empty_app
    revisions = _revisions(app)
    previous = revisions[-2]
    how = _fill_realistically(app, database, previous, monkeypatch)
    engine = _engine(app)
    try:
        with engine.begin() as conn:
            filled = fill(conn, label=1, only_empty=True)  # the tables the generator leaves empty
        with engine.connect() as conn:
            before = snapshot(conn)
        empty = [name for name, t in before.items() if not t["rows"]]
        assert not empty, f"tables left empty at {previous}: {empty}"
        engine.dispose()
        _upgrade(app)
        with engine.connect() as conn:
            after = snapshot(conn)
            head = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert head == revisions[-1]
    problems = losses(before, after)
    assert not problems, f"{previous} → {head} lost or changed {len(problems)} values: {problems[:20]}"
    print(f"{previous} → {head}: {_count(before)} rows in {len(before)} tables ({how}; Core rows in {len(filled)})")

    from app.extensions import db
    from app.inventory.services import check_invariants

    with app.app_context():  # the upgraded history still adds up
        assert check_invariants(db.session) == []


def _fill_realistically(app, url: str, revision: str, monkeypatch) -> str:
    """bench/generate.py's history at `revision` (its upgrade is made to stop there); says how the data was made.
    When the models have moved past that revision the generator cannot write it: the database is emptied and only
    Core rows follow."""
    import flask_migrate

    from bench.generate import generate, reset_database

    monkeypatch.setattr(flask_migrate, "upgrade", functools.partial(flask_migrate.upgrade, revision=revision))
    try:
        result = generate(url, 120, salespeople=4, quiet=True)
    except Exception as exc:  # noqa: BLE001 - whatever the generator trips over, the Core rows still test the upgrade
        warnings.warn(f"bench/generate.py does not work at {revision} ({exc!r}); Core rows only", stacklevel=2)
        monkeypatch.undo()
        reset_database(url)
        _upgrade(app, revision)
        return "Core rows only"
    finally:
        monkeypatch.undo()
    return f"bench/generate.py, {result['total_rows']} rows"


def test_each_migration_keeps_every_row(empty_app, database):
    app = empty_app
    """From the first revision to head one step at a time, with rows in every table at every step."""
    revisions = _revisions(app)
    engine = _engine(app)
    before: dict = {}
    steps = []
    try:
        for label, revision in enumerate(revisions, start=1):
            engine.dispose()
            _upgrade(app, revision)
            with engine.begin() as conn:
                meta = _reflect(conn)  # once per step: reflecting ~90 tables is most of a step's time on MariaDB
                problems = losses(before, snapshot(conn, meta))
                assert not problems, f"upgrade to {revision} lost or changed {len(problems)} values: {problems[:20]}"
                fill(conn, label, meta=meta)
            with engine.connect() as conn:
                before = snapshot(conn, meta)
            steps.append(f"{revision}: {_count(before)} rows")
    finally:
        engine.dispose()
    print("; ".join(steps))
