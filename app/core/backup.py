"""数据备份: consistent backups of the whole database in one verifiable file, and restoring them.

A backup is a zip holding `manifest.json` (when, which database, which migration, rows per table, the SHA-256 of the
data) and the data itself: a SQLite snapshot taken through the online backup API (so a running server can be backed
up), a `pg_dump` custom-format archive, or a `mysqldump` script. Restoring reads and verifies the whole file before
it changes anything, and brings an older backup up to the current migration afterwards.
"""

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _

from app.core.errors import BusinessError
from app.core.formatting import LOCAL_TZ
from app.extensions import db

FORMAT = "sales-management-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump", "mysql": "database.sql"}
KIND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB"}
# the command-line tools each server database needs, and the Debian package that ships them
TOOLS = {"postgresql": ("pg_dump", "pg_restore", "psql"), "mysql": ("mysqldump", "mysql")}
PACKAGES = {"postgresql": "postgresql-client", "mysql": "mariadb-client"}
# names the page may serve: no separators, no leading dot, so nothing outside BACKUP_DIR can be named
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.zip")
CHUNK = 1024 * 1024


class BackupError(BusinessError):
    status_code = 400


class BackupCancelled(BackupError):
    pass


@dataclass
class BackupInfo:
    path: Path
    size: int
    manifest: dict | None = None
    problem: object = None  # why the file does not verify (a message), None when it does
    tables: dict = field(default_factory=dict)
    mtime: float = 0.0

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def created_at(self) -> dt.datetime | None:
        text = (self.manifest or {}).get("created_at")
        try:
            return dt.datetime.fromisoformat(text).replace(tzinfo=None) if text else None
        except (TypeError, ValueError):
            return None

    @property
    def revision(self) -> str | None:
        return (self.manifest or {}).get("revision")

    @property
    def kind(self) -> str | None:
        return (self.manifest or {}).get("database")

    @property
    def rows(self) -> int | None:
        tables = (self.manifest or {}).get("tables")
        return sum(tables.values()) if isinstance(tables, dict) else None


# ------------------------------------------------------------------ where and what


def backup_dir() -> Path:
    path = Path(current_app.config["BACKUP_DIR"])
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise BackupError(
            _("The backup directory %(path)s cannot be used: %(detail)s", path=str(path), detail=str(e))
        ) from e
    return path


def database_kind(engine=None) -> str:
    name = (engine or db.engine).dialect.name
    if name in ("mysql", "mariadb"):
        return "mysql"
    if name in ("sqlite", "postgresql"):
        return name
    raise BackupError(_("Backups of %(name)s databases are not supported.", name=name))


def missing_tools(kind: str) -> list[str]:
    return [tool for tool in TOOLS.get(kind, ()) if shutil.which(tool) is None]


def require_tools(kind: str) -> None:
    missing = missing_tools(kind)
    if missing:
        raise BackupError(
            _(
                "%(tools)s not found on this server: install the %(package)s package "
                "(for example: sudo apt-get install %(package)s) and try again.",
                tools=", ".join(missing),
                package=PACKAGES[kind],
            )
        )


def backup_file(name: str) -> Path | None:
    """The backup called `name` inside BACKUP_DIR, or None: only plain file names of files in that directory."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        return None
    directory = Path(current_app.config["BACKUP_DIR"]).resolve()
    path = directory / name
    if path.is_symlink() or not path.is_file() or path.resolve().parent != directory:
        return None
    return path


def find_backup(given: str | os.PathLike) -> Path:
    """A path, or the name of a file in BACKUP_DIR."""
    path = Path(given)
    if path.is_file():
        return path
    in_dir = backup_file(str(given))
    if in_dir is not None:
        return in_dir
    raise BackupError(_("Backup file %(name)s not found.", name=str(given)))


def migration_heads() -> tuple[str, ...]:
    return tuple(sorted(_scripts().get_heads()))


def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def _known_revision(revision: str) -> bool:
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    scripts = _scripts()
    try:
        return all(scripts.get_revision(rev) is not None for rev in revision.split(","))
    except (RevisionError, CommandError):
        return False


# ------------------------------------------------------------------ creating


def create_backup(output: str | os.PathLike | None = None, *, suffix: str = "") -> BackupInfo:
    """Back up the app's database into a new file (in BACKUP_DIR unless `output` is given); never overwrites."""
    engine = db.engine
    kind = database_kind(engine)
    require_tools(kind)
    target = Path(output) if output else None
    if target is not None and target.exists():
        raise BackupError(_("%(path)s already exists; choose another file name.", path=str(target)))
    directory = target.parent if target is not None else backup_dir()
    if not directory.is_dir():
        raise BackupError(_("Directory %(path)s does not exist.", path=str(directory)))
    with tempfile.TemporaryDirectory(dir=directory, prefix=".backup-") as tmp:
        data = Path(tmp) / DATA_MEMBERS[kind]
        revision, tables = DUMPERS[kind](engine, data)
        if not revision:
            raise BackupError(_("The database has no migration revision: it is not a database of this system."))
        digest, size = _sha256(data)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "system": str(current_app.config.get("APP_NAME", "")),
            "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
            "database": kind,
            "revision": revision,
            "tables": tables,
            "data": DATA_MEMBERS[kind],
            "size": size,
            "sha256": digest,
        }
        archive = Path(tmp) / "backup.zip"
        # a pg_dump archive is compressed already; a SQLite file or an SQL script shrinks several times
        method = zipfile.ZIP_STORED if kind == "postgresql" else zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(archive, "w", compression=method, allowZip64=True) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1), zipfile.ZIP_DEFLATED)
            zf.write(data, DATA_MEMBERS[kind])
        archive.chmod(0o600)  # the file holds every record, password hashes included
        final = _publish(archive, target, kind, suffix)
    return BackupInfo(path=final, size=final.stat().st_size, manifest=manifest, tables=tables)


def _publish(archive: Path, target: Path | None, kind: str, suffix: str) -> Path:
    """Move the finished archive to its name; a hard link fails instead of replacing a file that appeared."""
    if target is not None:
        candidates = [target]
    else:
        stamp = dt.datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
        base = f"sales-backup-{stamp}-{kind}{suffix}"
        candidates = [archive.parent.parent / f"{base}{'' if n == 1 else f'-{n}'}.zip" for n in range(1, 100)]
    for path in candidates:
        try:
            os.link(archive, path)
            return path
        except FileExistsError:
            continue
    raise BackupError(_("%(path)s already exists; choose another file name.", path=str(candidates[-1])))


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _sqlite_path(engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError(_("Only a SQLite database kept in a file can be backed up or restored."))
    return path


def _quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _describe_sqlite(conn: sqlite3.Connection) -> tuple[str | None, dict]:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    tables = {name: conn.execute(f"SELECT count(*) FROM {_quote_sqlite(name)}").fetchone()[0] for name in names}
    revision = None
    if "alembic_version" in tables:
        revision = ",".join(sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version")))
    return revision or None, tables


def _describe(conn) -> tuple[str | None, dict]:
    """Migration revision and rows per table of a server database, inside the caller's transaction."""
    names = sorted(sa.inspect(conn).get_table_names())
    tables = {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar() for name in names}
    revision = None
    if "alembic_version" in tables:
        revision = ",".join(sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()))
    return revision or None, tables


def _dump_sqlite(engine, target: Path) -> tuple[str | None, dict]:
    source_path = _sqlite_path(engine)
    if not Path(source_path).is_file():
        raise BackupError(_("Database file %(path)s not found.", path=source_path))
    source = sqlite3.connect(source_path, timeout=30)
    snapshot = sqlite3.connect(target)
    try:
        # one step copies every page inside one read transaction: a consistent snapshot while the server writes
        source.backup(snapshot)
        source.close()
        # the live database runs in WAL mode; the copy must be one self-contained file
        snapshot.execute("PRAGMA journal_mode=DELETE")
        check = snapshot.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(_("The database failed its integrity check: %(detail)s", detail=check))
        return _describe_sqlite(snapshot)
    except sqlite3.Error as e:
        raise BackupError(_("The backup failed: %(detail)s", detail=str(e))) from e
    finally:
        source.close()
        snapshot.close()


def _pg_env(url) -> dict:
    """Connection settings for the PostgreSQL tools; the password travels in the environment, never in argv."""
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[key] = str(value)
    for param, key in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        value = url.query.get(param)
        if value:
            env[key] = value if isinstance(value, str) else value[0]
    return env


def _mysql_args(url) -> tuple[list[str], dict]:
    env = dict(os.environ)
    if url.password is not None:
        env["MYSQL_PWD"] = str(url.password)
    args = ["--default-character-set=utf8mb4"]
    socket = url.query.get("unix_socket")
    if socket:
        args.append(f"--socket={socket if isinstance(socket, str) else socket[0]}")
    else:
        # the client would take "localhost" for its socket; the app connects over TCP
        args += ["--protocol=TCP", f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 3306}"]
    if url.username:
        args.append(f"--user={url.username}")
    return args, env


def _run(args: list[str], env: dict, **kwargs) -> None:
    try:
        result = subprocess.run(
            args, env=env, stdout=kwargs.pop("stdout", subprocess.DEVNULL), stderr=subprocess.PIPE, **kwargs
        )
    except OSError as e:
        raise BackupError(_("%(tool)s could not run: %(detail)s", tool=args[0], detail=str(e))) from e
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise BackupError(
            _(
                "%(tool)s failed (exit code %(code)s): %(detail)s",
                tool=Path(args[0]).name,
                code=result.returncode,
                detail=detail,
            )
        )


def _dump_postgresql(engine, target: Path) -> tuple[str | None, dict]:
    env = _pg_env(engine.url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump reads the snapshot this transaction exports, so the counts below describe exactly the dump
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar()
            _run([shutil.which("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={target}"], env)
            return _describe(conn)


def _dump_mysql(engine, target: Path) -> tuple[str | None, dict]:
    args, env = _mysql_args(engine.url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # mysqldump takes its own snapshot (--single-transaction) right after this one; rows written in between
            # make the manifest's counts differ from the dump, which a restore reports
            described = _describe(conn)
    dump = [shutil.which("mysqldump"), *args, "--single-transaction", "--quick", "--hex-blob", "--no-tablespaces"]
    _run([*dump, f"--result-file={target}", engine.url.database], env)
    return described


DUMPERS: dict[str, Callable] = {"sqlite": _dump_sqlite, "postgresql": _dump_postgresql, "mysql": _dump_mysql}


# ------------------------------------------------------------------ verifying and listing


def _not_ours():
    return BackupError(_("This file is not a backup of this system."))


def _damaged(detail: str):
    return BackupError(_("The backup file is damaged or incomplete (%(detail)s).", detail=detail))


def read_verified(path: Path, sink=None) -> dict:
    """The manifest of a backup whose data matches its SHA-256; the data is streamed to `sink` when given."""
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo(MANIFEST)
            except KeyError:
                raise _not_ours() from None
            if info.file_size > 1024 * 1024:
                raise _not_ours()
            manifest = json.loads(zf.read(info).decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise _not_ours()
            if manifest.get("format_version") != FORMAT_VERSION:
                raise BackupError(_("This backup was made by a newer version of the system."))
            member = DATA_MEMBERS.get(manifest.get("database"))
            if member is None or not isinstance(manifest.get("sha256"), str):
                raise _not_ours()
            try:
                zf.getinfo(member)
            except KeyError:
                raise _damaged(_("the data is missing")) from None
            digest, size = hashlib.sha256(), 0
            with zf.open(member) as data:
                for chunk in iter(lambda: data.read(CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    if sink is not None:
                        sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, UnicodeDecodeError, ValueError) as e:
        raise _damaged(str(e)) from e
    except OSError as e:
        raise BackupError(_("The backup file could not be read: %(detail)s", detail=str(e))) from e
    if size != manifest.get("size") or digest.hexdigest() != manifest["sha256"]:
        raise _damaged(_("SHA-256 checksum mismatch"))
    return manifest


# verification of each file is remembered while the file stays the same (size and modification time)
_verified: dict[tuple, tuple[dict | None, BackupError | None]] = {}


def inspect_backup(path: Path) -> BackupInfo:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        try:
            _verified[key] = (read_verified(path), None)
        except BackupError as e:
            _verified[key] = (None, e)
    manifest, error = _verified[key]
    return BackupInfo(
        path=path,
        size=stat.st_size,
        mtime=stat.st_mtime,
        manifest=manifest,
        problem=error.message if error else None,
        tables=(manifest or {}).get("tables") or {},
    )


def list_backups() -> list[BackupInfo]:
    """Every backup file in BACKUP_DIR, newest first, each verified against its checksum."""
    directory = backup_dir()
    found = []
    for path in directory.iterdir():
        if not NAME_PATTERN.fullmatch(path.name) or path.is_symlink() or not path.is_file():
            continue
        try:
            found.append(inspect_backup(path))
        except FileNotFoundError:  # deleted while we looked
            continue
    found.sort(key=lambda info: (info.mtime, info.name), reverse=True)
    return found


# ------------------------------------------------------------------ restoring


@dataclass
class RestoreResult:
    manifest: dict
    safety_backup: BackupInfo | None
    differences: dict  # table → (rows in the manifest, rows after restoring), only where they differ
    upgraded_to: str | None  # the head revision when migrations ran after restoring


def restore_backup(
    given: str | os.PathLike,
    *,
    confirm: Callable[[dict], bool] | None = None,
    safety_backup: bool = True,
) -> RestoreResult:
    """Replace the whole database with a verified backup.

    Nothing changes until the file has passed its checksum, belongs to this system and this kind of database, and
    `confirm(manifest)` said yes. Before replacing, the current content is itself backed up (unless told not to).
    """
    path = find_backup(given)
    engine = db.engine
    kind = database_kind(engine)
    with tempfile.TemporaryDirectory(dir=backup_dir(), prefix=".restore-") as tmp:
        data = Path(tmp) / "data"
        try:
            with open(data, "wb") as sink:
                manifest = read_verified(path, sink)
            _check_restorable(manifest, kind, data)
        except BackupError as e:
            raise BackupError(_("%(problem)s Nothing was changed.", problem=e.message)) from e
        if confirm is not None and not confirm(manifest):
            raise BackupCancelled(_("Cancelled; nothing was changed."))
        try:
            safety = create_backup(suffix="-before-restore") if safety_backup and _has_tables(engine) else None
        except BackupError as e:
            raise BackupError(
                _(
                    "The current content could not be backed up first: %(problem)s Nothing was changed.",
                    problem=e.message,
                )
            ) from e
        db.session.remove()
        engine.dispose()
        try:
            RESTORERS[kind](engine, data, Path(tmp))
        except BackupError as e:
            if kind != "mysql":  # SQLite's backup API and psql --single-transaction are all or nothing
                raise BackupError(_("%(problem)s Nothing was changed.", problem=e.message)) from e
            raise BackupError(
                _(
                    "%(problem)s The database may now be incomplete: restore again, or restore %(safety)s.",
                    problem=e.message,
                    safety=str(safety.path) if safety else "—",
                )
            ) from e
        finally:
            engine.dispose()
    differences = _compare_counts(manifest, engine, kind)
    upgraded_to = None
    heads = migration_heads()
    if manifest["revision"] != ",".join(heads):
        from flask_migrate import upgrade

        try:
            upgrade()
        except Exception as e:  # the data is back; say so, and what is left to do
            raise BackupError(
                _(
                    "The backup was restored, but migrating it to %(head)s failed: %(detail)s. Fix the cause and run "
                    "`flask db upgrade`.",
                    head=",".join(heads),
                    detail=str(e),
                )
            ) from e
        finally:
            engine.dispose()
        upgraded_to = ",".join(heads)
    return RestoreResult(manifest=manifest, safety_backup=safety, differences=differences, upgraded_to=upgraded_to)


def _check_restorable(manifest: dict, kind: str, data: Path) -> None:
    if manifest["database"] != kind:
        raise BackupError(
            _(
                "This backup comes from a %(source)s database and cannot be restored into the current %(target)s "
                "database.",
                source=KIND_LABELS[manifest["database"]],
                target=KIND_LABELS[kind],
            )
        )
    revision = manifest.get("revision")
    if not isinstance(revision, str) or not _known_revision(revision):
        raise BackupError(
            _(
                "This backup is at migration %(revision)s, which this version of the system does not know (a newer "
                "version made it).",
                revision=str(revision),
            )
        )
    require_tools(kind)
    if kind == "sqlite":
        conn = sqlite3.connect(data)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as e:
            check = str(e)
        finally:
            conn.close()
        if check != "ok":
            raise _damaged(str(check))


def _has_tables(engine) -> bool:
    with engine.connect() as conn:
        return bool(sa.inspect(conn).get_table_names())


def _compare_counts(manifest: dict, engine, kind: str) -> dict:
    if kind == "sqlite":
        conn = sqlite3.connect(_sqlite_path(engine))
        try:
            _rev, tables = _describe_sqlite(conn)
        finally:
            conn.close()
    else:
        with engine.connect() as conn:
            _rev, tables = _describe(conn)
    expected = manifest.get("tables") or {}
    return {
        name: (expected.get(name), tables.get(name))
        for name in sorted(set(expected) | set(tables))
        if expected.get(name) != tables.get(name)
    }


def _restore_sqlite(engine, data: Path, tmp: Path) -> None:
    live = sqlite3.connect(_sqlite_path(engine), timeout=30)
    snapshot = sqlite3.connect(data)
    try:
        # page by page under the live database's own locks: servers still connected see the restored content
        snapshot.backup(live)
    except sqlite3.Error as e:
        raise BackupError(_("Restoring failed: %(detail)s", detail=str(e))) from e
    finally:
        snapshot.close()
        live.close()


# Empties the current schema but keeps the schema itself (its owner and grants); runs in the restore's transaction.
_PG_EMPTY_SCHEMA = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT format('%I.%I', schemaname, viewname) AS n FROM pg_views WHERE schemaname = current_schema() LOOP
    EXECUTE 'DROP VIEW IF EXISTS ' || r.n || ' CASCADE';
  END LOOP;
  FOR r IN SELECT format('%I.%I', schemaname, tablename) AS n FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE 'DROP TABLE IF EXISTS ' || r.n || ' CASCADE';
  END LOOP;
  FOR r IN SELECT format('%I.%I', sequence_schema, sequence_name) AS n FROM information_schema.sequences
           WHERE sequence_schema = current_schema() LOOP
    EXECUTE 'DROP SEQUENCE IF EXISTS ' || r.n || ' CASCADE';
  END LOOP;
  FOR r IN SELECT format('%I.%I', n.nspname, t.typname) AS n
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd') LOOP
    EXECUTE 'DROP TYPE IF EXISTS ' || r.n || ' CASCADE';
  END LOOP;
END $$;
"""


def _restore_postgresql(engine, data: Path, tmp: Path) -> None:
    env = _pg_env(engine.url)
    script = tmp / "restore.sql"
    # the whole script first: a pg_restore that stopped half-way must not feed psql half a database
    _run([shutil.which("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(data)], env)
    prefix = tmp / "empty.sql"
    prefix.write_text(_PG_EMPTY_SCHEMA)
    # one transaction: on any error PostgreSQL rolls everything back and the database stays as it was
    psql = [shutil.which("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    _run([*psql, "-f", str(prefix), "-f", str(script)], env)


def _restore_mysql(engine, data: Path, tmp: Path) -> None:
    args, env = _mysql_args(engine.url)
    # tables that came with later migrations are not in the dump: drop everything first (MySQL DDL is not
    # transactional, so this is where the safety backup matters)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for name, table_type in conn.exec_driver_sql("SHOW FULL TABLES").fetchall():
            what = "VIEW" if table_type == "VIEW" else "TABLE"
            conn.exec_driver_sql(f"DROP {what} IF EXISTS `{name.replace('`', '``')}`")
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    with open(data, "rb") as script:
        _run([shutil.which("mysql"), *args, engine.url.database], env, stdin=script)


RESTORERS: dict[str, Callable] = {"sqlite": _restore_sqlite, "postgresql": _restore_postgresql, "mysql": _restore_mysql}


# ------------------------------------------------------------------ audit


def record_event(session, action: str, info: BackupInfo) -> None:
    """An audit entry for a backup made or downloaded from the page (restores run on the server's command line)."""
    from app.core import audit

    after = {"file": info.name, "size": info.size}
    if info.manifest:
        after.update(revision=info.manifest.get("revision"), sha256=info.manifest.get("sha256"))
    audit.record_event(session, action, "backup", info.name[:64], after=after)
