"""数据备份: backup → change → restore gives back every row of every table (SQLite here; PostgreSQL and MariaDB on
their own `test_backup` databases when their tools and servers are there); damaged or foreign files are refused
with nothing changed; an older backup is migrated to head; the page is Admin-only and serves only its own files."""

import hashlib
import io
import json
import shutil
import sqlite3
import threading
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.apps import build_app, dispose_app
from tests.support.databases import make_config
from tests.support.pages import csrf_token
from tests.support.users import FreshUserClient, login

# ------------------------------------------------------------------ helpers


def table_contents(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    from app.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            contents = {}
            for table in meta.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                contents[table.name] = [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]
        db.session.remove()
    return contents


def assert_same_contents(found: dict, expected: dict) -> None:
    assert sorted(found) == sorted(expected), "not the same tables"
    assert {t: len(r) for t, r in found.items()} == {t: len(r) for t, r in expected.items()}
    for table in expected:
        assert found[table] == expected[table], f"rows of {table} differ"


def cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def message_start(app, msgid: str, **params) -> str:
    """The opening words of a message in the app's language, before its first parameter."""
    from flask_babel import gettext

    with app.app_context():
        marker = "\x00"
        return gettext(msgid, **{k: marker for k in params}).split(marker)[0]


def nothing_changed(app) -> str:
    """The closing words every refused restore ends with."""
    from flask_babel import gettext

    with app.app_context():
        return gettext("%(problem)s Nothing was changed.", problem="\x00").split("\x00")[1].strip()


def add_unit(client, name: str) -> int:
    from app.base_data.models import Unit
    from app.extensions import db

    resp = client.post("/unitview/add", data={"name": name, "sort_order": "0", "enabled": "y"})
    assert resp.status_code == 302, resp.data[:300]
    return db.session.query(Unit.id).filter(Unit.name == name).scalar()


def change_data(app, client, uid, kept_id: int, dropped_id: int) -> None:
    """Edits and deletes through the pages, plus a whole table emptied underneath."""
    resp = client.post(f"/unitview/edit/{kept_id}", data={"name": uid("改名"), "sort_order": "5", "enabled": "y"})
    assert resp.status_code == 302
    assert client.post(f"/unitview/delete/{dropped_id}").status_code == 302
    with app.app_context():
        add_unit(client, uid("新增"))
        from app.extensions import db

        db.session.execute(sa.text("DELETE FROM audit_log"))
        db.session.commit()
        db.session.remove()


def round_trip(app, directory: Path, uid) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    app.config["BACKUP_DIR"] = str(directory / "backups")
    admin = login(app.test_client(), "admin")
    with app.app_context():
        kept_id = add_unit(admin, uid("备份"))
        dropped_id = add_unit(admin, uid("删除"))
        from app.extensions import db

        db.session.remove()
    before = table_contents(app)
    target = directory / "snapshot.zip"

    result = cli(app, "backup", "create", "--output", str(target))
    assert result.exit_code == 0, result.output
    manifest = json.loads(zipfile.ZipFile(target).read("manifest.json"))
    assert manifest["tables"] == {t: len(r) for t, r in before.items()}
    assert manifest["sha256"] in result.output

    change_data(app, admin, uid, kept_id, dropped_id)
    changed = table_contents(app)
    assert changed != before and not changed["audit_log"]

    result = cli(app, "backup", "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert_same_contents(table_contents(app), before)
    # what was replaced was kept: the safety backup holds the changed content
    (safety,) = [p for p in (directory / "backups").iterdir() if p.name.endswith("-before-restore.zip")]
    assert str(safety) in result.output
    assert json.loads(zipfile.ZipFile(safety).read("manifest.json"))["tables"] == {
        t: len(r) for t, r in changed.items()
    }
    assert (
        message_start(
            app,
            "Warning: table %(table)s has %(found)s rows, the backup listed %(expected)s",
            table=1,
            found=1,
            expected=1,
        )
        not in result.output
    )
    # the restored database still works through the app, new rows included (sequences came back too)
    admin = login(app.test_client(), "admin")
    assert admin.get(f"/unitview/show/{dropped_id}").status_code == 200
    with app.app_context():
        assert add_unit(admin, uid("恢复后")) > max(r[0] for r in before["unit"])


def make_backup(app, directory: Path) -> Path:
    app.config["BACKUP_DIR"] = str(directory)
    result = cli(app, "backup", "create")
    assert result.exit_code == 0, result.output
    (path,) = [p for p in directory.iterdir() if p.suffix == ".zip"]
    return path


def rezip(source: Path, target: Path, *, manifest=None, data: bytes | None = None) -> Path:
    """A well-formed zip (valid CRCs) with the manifest and/or the data replaced."""
    with zipfile.ZipFile(source) as zf:
        old_manifest = json.loads(zf.read("manifest.json"))
        member = old_manifest["data"]
        old_data = zf.read(member)
    manifest = old_manifest if manifest is None else manifest
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr(member, old_data if data is None else data)
    return target


# ------------------------------------------------------------------ round trips


@pytest.mark.sqlite_only("the SQLite file copy; each server's dump and restore is test_round_trip_server_database")
def test_round_trip_sqlite(app, tmp_path, uid):
    round_trip(app, tmp_path, uid)


@pytest.mark.parametrize("kind", ["postgresql", "mysql"], ids=["postgresql", "mariadb"])
def test_round_trip_server_database(kind, fresh_database, tmp_path, uid):
    """On a database of its own (`test_backup`, a clone of the fresh template): the round trip restores over it."""
    from app.core import backup

    missing = backup.missing_tools(kind)
    if missing:
        pytest.skip(f"{', '.join(missing)} not on PATH (Debian: apt-get install {backup.PACKAGES[kind]})")
    application = build_app(fresh_database(kind, "test_backup"), str(tmp_path))
    application.test_client_class = FreshUserClient
    try:
        round_trip(application, tmp_path, uid)
    finally:
        dispose_app(application)


def test_older_backup_is_migrated_to_head(tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    from app.core import backup
    from app.extensions import db

    cfg = make_config(f"sqlite:///{tmp_path}/old.db", str(tmp_path))
    cfg.BACKUP_DIR = str(tmp_path / "backups")
    application = create_app(cfg)
    with application.app_context():
        heads = backup.migration_heads()
        scripts = backup._scripts()
        older = scripts.get_revision(heads[0]).down_revision
        upgrade(revision=older)
    target = tmp_path / "old.zip"
    result = cli(application, "backup", "create", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(zipfile.ZipFile(target).read("manifest.json"))["revision"] == older
    with application.app_context():
        upgrade()
        from app.base_data.models import Unit

        db.session.add(Unit(name="新单位"))
        db.session.commit()
        db.session.remove()

    result = cli(application, "backup", "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    with application.app_context():
        assert db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == list(heads)
        assert db.session.execute(sa.text("SELECT count(*) FROM unit WHERE name = '新单位'")).scalar() == 0
        db.session.remove()
        db.engine.dispose()


@pytest.mark.sqlite_only(
    "SQLite's online backup under concurrent writers; servers dump in one transaction (pg_dump/mysqldump)"
)
def test_backup_while_the_server_writes_is_consistent(app, tmp_path):
    """Writers keep committing pairs of rows during the backup: the snapshot holds whole pairs only."""
    from app.extensions import db

    with app.app_context():
        path = db.engine.url.database
    stop = threading.Event()
    marker = f"pair-{tmp_path.name}"

    def write_pairs():
        conn = sqlite3.connect(path, timeout=30)
        while not stop.is_set():
            with conn:
                for _ in range(2):
                    conn.execute(
                        "INSERT INTO audit_log (at, action, table_name) VALUES (CURRENT_TIMESTAMP, 'test', ?)",
                        (marker,),
                    )
        conn.close()

    writer = threading.Thread(target=write_pairs)
    writer.start()
    try:
        backup_file = make_backup(app, tmp_path / "backups")
    finally:
        stop.set()
        writer.join()
    with zipfile.ZipFile(backup_file) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        (tmp_path / "snap.db").write_bytes(zf.read("database.sqlite3"))
    snap = sqlite3.connect(tmp_path / "snap.db")
    pairs = snap.execute("SELECT count(*) FROM audit_log WHERE table_name = ?", (marker,)).fetchone()[0]
    total = snap.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    snap.close()
    assert pairs % 2 == 0
    assert manifest["tables"]["audit_log"] == total
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM audit_log WHERE table_name = :m"), {"m": marker})
        db.session.commit()
        db.session.remove()


# ------------------------------------------------------------------ refusals: nothing changes


@pytest.mark.sqlite_only("the file is refused by its zip, manifest and SHA-256 checks before any database is touched")
def test_damaged_backup_is_refused_and_nothing_changes(app, tmp_path):
    good = make_backup(app, tmp_path / "backups")
    raw = good.read_bytes()
    with zipfile.ZipFile(good) as zf:
        data_offset = zf.getinfo("database.sqlite3").header_offset + 200
    flipped = bytearray(raw)
    flipped[data_offset] ^= 0xFF
    damaged = {
        "truncated": raw[: len(raw) // 2],
        "tail cut": raw[:-10],
        "byte flipped": bytes(flipped),
        "empty": b"",
    }
    for name, content in damaged.items():
        (tmp_path / f"{name.replace(' ', '-')}.zip").write_bytes(content)
    # a valid zip whose data no longer matches the manifest's SHA-256
    with zipfile.ZipFile(good) as zf:
        data = bytearray(zf.read("database.sqlite3"))
    data[5000] ^= 0x01
    rezip(good, tmp_path / "altered.zip", data=bytes(data))

    before = table_contents(app)
    expected = message_start(app, "The backup file is damaged or incomplete (%(detail)s).", detail=1)
    for path in sorted(tmp_path.glob("*.zip")):
        result = cli(app, "backup", "restore", str(path), "--yes")
        assert result.exit_code == 1, (path.name, result.output)
        assert expected in result.output and nothing_changed(app) in result.output, (path.name, result.output)
        assert "Traceback" not in result.output
    assert "SHA-256" in cli(app, "backup", "restore", str(tmp_path / "altered.zip"), "--yes").output
    assert_same_contents(table_contents(app), before)
    # not even the safety backup was written
    assert [p.name for p in (tmp_path / "backups").iterdir()] == [good.name]


@pytest.mark.sqlite_only("a foreign or missing file is refused by its manifest before any database is touched")
def test_foreign_files_are_refused(app, tmp_path):
    from app.extensions import db

    good = make_backup(app, tmp_path / "backups")
    manifest = json.loads(zipfile.ZipFile(good).read("manifest.json"))
    with zipfile.ZipFile(tmp_path / "no-manifest.zip", "w") as zf:
        zf.writestr("database.sqlite3", b"x")
    rezip(good, tmp_path / "other-format.zip", manifest={**manifest, "format": "someone-else"})
    with app.app_context():
        shutil.copy(db.engine.url.database, tmp_path / "raw-database.zip")  # a bare database file is no backup
    before = table_contents(app)
    not_ours = message_start(app, "This file is not a backup of this system.")
    for name in ("no-manifest.zip", "other-format.zip"):
        result = cli(app, "backup", "restore", str(tmp_path / name), "--yes")
        assert result.exit_code == 1 and not_ours in result.output, result.output
        assert nothing_changed(app) in result.output
    result = cli(app, "backup", "restore", str(tmp_path / "raw-database.zip"), "--yes")
    assert result.exit_code == 1 and "Traceback" not in result.output

    # well-formed backups, checksum right, that this database cannot take
    data = zipfile.ZipFile(good).read("database.sqlite3")
    digest = hashlib.sha256(b"pg").hexdigest()
    with zipfile.ZipFile(tmp_path / "pg.zip", "w") as zf:
        pg_manifest = {**manifest, "database": "postgresql", "data": "database.pgdump", "sha256": digest, "size": 2}
        zf.writestr("manifest.json", json.dumps(pg_manifest))
        zf.writestr("database.pgdump", b"pg")
    rezip(good, tmp_path / "future.zip", manifest={**manifest, "revision": "9999_from_the_future"}, data=data)
    result = cli(app, "backup", "restore", str(tmp_path / "pg.zip"), "--yes")
    assert result.exit_code == 1 and "PostgreSQL" in result.output, result.output
    result = cli(app, "backup", "restore", str(tmp_path / "future.zip"), "--yes")
    assert result.exit_code == 1 and "9999_from_the_future" in result.output, result.output
    result = cli(app, "backup", "restore", str(tmp_path / "missing.zip"), "--yes")
    assert result.exit_code == 1 and "missing.zip" in result.output
    assert_same_contents(table_contents(app), before)


@pytest.mark.sqlite_only("the CLI's confirmation prompt decides before any restore command runs")
def test_restore_asks_first(app, tmp_path, uid):
    good = make_backup(app, tmp_path / "backups")
    admin = login(app.test_client(), "admin")
    with app.app_context():
        add_unit(admin, uid("保留"))
        from app.extensions import db

        db.session.remove()
    before = table_contents(app)
    # a plain file name is looked up in BACKUP_DIR
    result = cli(app, "backup", "restore", good.name, input="n\n")
    assert result.exit_code == 1
    assert message_start(app, "Cancelled; nothing was changed.") in result.output
    assert_same_contents(table_contents(app), before)
    assert len(list((tmp_path / "backups").iterdir())) == 1


@pytest.mark.sqlite_only("looks for pg_dump and mysqldump on PATH; no database is asked")
def test_missing_tools_are_named_with_their_package(app, monkeypatch, tmp_path):
    from app.core import backup
    from app.core.errors import BusinessError

    monkeypatch.setenv("PATH", str(tmp_path))
    with app.app_context():
        for kind, tool, package in (
            ("postgresql", "pg_dump", "postgresql-client"),
            ("mysql", "mysqldump", "mariadb-client"),
        ):
            with pytest.raises(BusinessError) as refused:
                backup.require_tools(kind)
            assert tool in str(refused.value) and package in str(refused.value)


# ------------------------------------------------------------------ the page


@pytest.fixture
def backup_dir(app, tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    old = app.config["BACKUP_DIR"]
    app.config["BACKUP_DIR"] = str(directory)
    yield directory
    app.config["BACKUP_DIR"] = old


def audit_entries(app, action: str) -> list[tuple]:
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(
            sa.text("SELECT username, row_id, after FROM audit_log WHERE table_name = 'backup' AND action = :a"),
            {"a": action},
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


@pytest.mark.every_database("the page runs the real backup of the session database: a file copy, pg_dump or mysqldump")
def test_admin_creates_lists_and_downloads(app, as_user, backup_dir):
    admin = as_user("admin")
    page = admin.get("/backups/")
    assert page.status_code == 200
    assert 'id="backup-create"' in page.get_data(as_text=True)
    resp = admin.post("/backups/create")
    assert resp.status_code == 302
    (made,) = list(backup_dir.iterdir())
    assert (made.name,) == tuple(r[1] for r in audit_entries(app, "backup") if r[1] == made.name)
    (entry,) = [r for r in audit_entries(app, "backup") if r[1] == made.name]
    assert entry[0] == "admin" and json.loads(entry[2])["sha256"]
    (backup_dir / "broken.zip").write_bytes(b"PK\x03\x04 not really")

    html = admin.get("/backups/").get_data(as_text=True)
    rows = html.split('id="backup-list"', 1)[1]
    assert made.name in rows and "broken.zip" in rows
    assert rows.count("label-success") == 1 and rows.count("label-danger") == 1

    resp = admin.get(f"/backups/download/{made.name}")
    assert resp.status_code == 200
    assert resp.data == made.read_bytes()
    assert f"filename={made.name}" in resp.headers["Content-Disposition"]
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert any(r[1] == made.name and r[0] == "admin" for r in audit_entries(app, "download"))


@pytest.mark.sqlite_only("FAB refuses by the role's permissions, decided in Python before the page runs")
@pytest.mark.parametrize("username", ["sales1", "manager", "finance", "exec", "keeper", "purchaser"])
def test_only_admin_reaches_backups(app, as_user, backup_dir, username):
    made = make_backup(app, backup_dir)
    client = as_user(username)
    assert client.get("/backups/").status_code == 403
    assert client.get(f"/backups/download/{made.name}").status_code == 403
    assert client.post("/backups/create").status_code == 403
    assert list(backup_dir.iterdir()) == [made]
    assert "/backups/" not in client.get("/").get_data(as_text=True)
    anonymous = app.test_client().get(f"/backups/download/{made.name}")
    assert anonymous.status_code == 302 and "/login/" in anonymous.headers["Location"]  # to the login page


@pytest.mark.sqlite_only("the file name is checked against the backup folder; no query decides it")
def test_download_accepts_only_backup_names(app, as_user, backup_dir, tmp_path):
    made = make_backup(app, backup_dir)
    (tmp_path / "secret.zip").write_bytes(b"PK secret")
    (backup_dir / "notes.txt").write_text("not a backup")
    (backup_dir / ".hidden.zip").write_bytes(b"PK hidden")
    (backup_dir / "link.zip").symlink_to(tmp_path / "secret.zip")
    admin = as_user("admin")
    for name in (
        "..%2Fsecret.zip",
        "%2E%2E%2Fsecret.zip",
        "..%5Csecret.zip",
        "../secret.zip",
        "..",
        ".hidden.zip",
        "link.zip",
        "notes.txt",
        "nothing.zip",
        f"{made.name}%00.txt",
        "%2Fetc%2Fpasswd",
    ):
        resp = admin.get(f"/backups/download/{name}")
        assert resp.status_code == 404, (name, resp.status_code)
        assert b"secret" not in resp.data and b"hidden" not in resp.data
    assert admin.get(f"/backups/download/{made.name}").data == made.read_bytes()


@pytest.mark.sqlite_only("Flask-WTF refuses a post without its token before the backup runs")
def test_backup_button_needs_the_csrf_token(csrf_app, csrf_admin, tmp_path):
    csrf_app.config["BACKUP_DIR"] = str(tmp_path)
    assert csrf_admin.post("/backups/create").status_code == 400
    assert list(tmp_path.iterdir()) == []
    page = csrf_admin.get("/backups/").get_data(as_text=True)
    assert csrf_admin.post("/backups/create", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.every_database("makes a real backup of the session database (file copy, pg_dump or mysqldump) to list")
def test_listing_names_unverified_files(app, backup_dir):
    from app.core import backup

    made = make_backup(app, backup_dir)
    with app.app_context():
        (info,) = backup.list_backups()
        assert info.ok and info.name == made.name and info.rows > 0 and info.revision
        with zipfile.ZipFile(made) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        parts["manifest.json"] = parts["manifest.json"].replace(b'"sha256": "', b'"sha256": "0')
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for n, content in parts.items():
                zf.writestr(n, content)
        made.write_bytes(buffer.getvalue())
        (info,) = backup.list_backups()
        assert not info.ok and "SHA-256" in str(info.problem)


def test_passwords_go_through_the_environment_only():
    from sqlalchemy.engine import make_url

    from app.core import backup

    env = backup._pg_env(make_url("postgresql+psycopg://sales:s3cret%40x@db.local:5433/sales?sslmode=require"))
    assert (env["PGPASSWORD"], env["PGUSER"], env["PGHOST"], env["PGPORT"]) == ("s3cret@x", "sales", "db.local", "5433")
    assert (env["PGDATABASE"], env["PGSSLMODE"]) == ("sales", "require")
    args, env = backup._mysql_args(make_url("mysql+pymysql://sales:s3cret@db.local:3307/sales?charset=utf8mb4"))
    assert env["MYSQL_PWD"] == "s3cret"
    assert not [a for a in args if "s3cret" in a]
    assert "--host=db.local" in args and "--port=3307" in args and "--user=sales" in args


@pytest.mark.sqlite_only("an unusable folder is refused before any dump tool or query runs")
def test_unusable_backup_directory_is_a_message(app, as_user, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    old = app.config["BACKUP_DIR"]
    app.config["BACKUP_DIR"] = str(blocker / "backups")
    try:
        admin = as_user("admin")
        page = admin.get("/backups/")
        assert page.status_code == 200 and "alert-danger" in page.get_data(as_text=True)
        resp = admin.post("/backups/create", follow_redirects=True)
        assert resp.status_code == 200 and "alert-danger" in resp.get_data(as_text=True)
        assert admin.get("/backups/download/x.zip").status_code == 404
        result = cli(app, "backup", "create")
        assert result.exit_code == 1 and "Traceback" not in result.output
    finally:
        app.config["BACKUP_DIR"] = old
