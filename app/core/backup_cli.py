"""`flask backup create|list|restore`: the operator's side of 数据备份 (rules in app/core/backup.py)."""

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext

from app.core import backup
from app.core.errors import BusinessError
from app.core.formatting import format_date

backup_group = AppGroup("backup", help="数据备份: back up the whole database, list backups, restore one.")


def _describe(info_or_manifest) -> str:
    manifest = info_or_manifest if isinstance(info_or_manifest, dict) else info_or_manifest.manifest
    info = backup.BackupInfo(path=Path("."), size=0, manifest=manifest)
    return gettext(
        "made %(time)s, %(database)s, migration %(revision)s, %(rows)s rows in %(tables)s tables",
        time=format_date(info.created_at) if info.created_at else "?",
        database=backup.KIND_LABELS.get(info.kind, "?"),
        revision=info.revision,
        rows=info.rows,
        tables=len(manifest.get("tables") or {}),
    )


@backup_group.command("create")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the backup to this file instead of a new file in BACKUP_DIR.",
)
def create_command(output):
    """Back up the whole database into one file with its SHA-256 checksum (safe while the server runs)."""
    try:
        info = backup.create_backup(output)
    except BusinessError as e:
        raise click.ClickException(str(e)) from None
    click.echo(gettext("Backup written: %(path)s (%(size)s bytes)", path=str(info.path), size=info.size))
    click.echo(_describe(info))
    click.echo(f"SHA-256: {info.manifest['sha256']}")


@backup_group.command("list")
def list_command():
    """The backups in BACKUP_DIR, newest first, each checked against its checksum."""
    for info in backup.list_backups():
        state = gettext("checksum OK") if info.ok else str(info.problem)
        details = _describe(info) if info.ok else ""
        click.echo(f"{info.name}\t{info.size}\t{state}\t{details}")


@backup_group.command("restore")
@click.argument("file")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-safety-backup", is_flag=True, help="Do not back up the current content first.")
def restore_command(file, yes, no_safety_backup):
    """Replace ALL data with the backup FILE (a path, or a file name in BACKUP_DIR); migrations run afterwards."""

    def confirm(manifest: dict) -> bool:
        click.echo(gettext("Checksum verified: %(file)s", file=file))
        click.echo(_describe(manifest))
        if yes:
            return True
        return click.confirm(gettext("Replace ALL data of the current database with this backup?"), default=False)

    try:
        result = backup.restore_backup(file, confirm=confirm, safety_backup=not no_safety_backup)
    except backup.BackupCancelled as e:
        click.echo(str(e))
        raise SystemExit(1) from None
    except BusinessError as e:
        raise click.ClickException(str(e)) from None
    if result.safety_backup is not None:
        click.echo(gettext("The previous content was backed up to %(path)s", path=str(result.safety_backup.path)))
    for table, (expected, found) in result.differences.items():
        click.echo(
            gettext(
                "Warning: table %(table)s has %(found)s rows, the backup listed %(expected)s",
                table=table,
                found=found,
                expected=expected,
            )
        )
    if result.upgraded_to:
        click.echo(
            gettext("Migrated from %(old)s to %(new)s.", old=result.manifest["revision"], new=result.upgraded_to)
        )
    click.echo(gettext("Restore finished."))
