"""数据备份 page under 系统管理: the backups with their checksum state, 立即备份, and downloads. Admin only.

Restoring is deliberately not offered here: it replaces every record, so it is done on the server with
`flask backup restore` (README "数据备份 / Backup").
"""

from flask import abort, current_app, flash, redirect, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext, lazy_gettext as _

from app.core import backup
from app.core.errors import BusinessError
from app.core.roles import READ, WRITE, register_resource
from app.extensions import db


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class BackupView(BaseView):
    route_base = "/backups"
    default_view = "index"
    class_permission_name = "Backup"
    method_permission_name = {"index": READ, "download": READ, "create": WRITE}

    @expose("/")
    @has_access
    def index(self):
        kind = backup.database_kind()
        try:
            backups = backup.list_backups()
        except BusinessError as e:
            flash(str(e), "danger")
            backups = []
        return self.render_template(
            "backups.html",
            title=gettext("Data Backup"),
            backups=backups,
            directory=current_app.config["BACKUP_DIR"],
            database=backup.KIND_LABELS[kind],
            missing_tools=backup.missing_tools(kind),
            package=backup.PACKAGES.get(kind),
            human_size=human_size,
        )

    @expose("/create", methods=["POST"])
    @has_access
    def create(self):
        try:
            info = backup.create_backup()
        except BusinessError as e:
            flash(str(e), "danger")
            return redirect(url_for(".index"))
        backup.record_event(db.session, "backup", info)
        db.session.commit()
        flash(gettext("Backup %(name)s created.", name=info.name), "success")
        return redirect(url_for(".index"))

    @expose("/download/<name>")
    @has_access
    def download(self, name):
        path = backup.backup_file(name)
        if path is None:
            abort(404)
        # who took a copy of every record is worth knowing
        backup.record_event(db.session, "download", backup.BackupInfo(path=path, size=path.stat().st_size))
        db.session.commit()
        return send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name, max_age=0)


def register(appbuilder) -> None:
    register_resource(
        appbuilder,
        BackupView,
        name="Data Backup",
        label=_("Data Backup"),
        category="Security",
        category_label=_("Security"),
        icon="fa-database",
        access={"Admin": WRITE},
    )
