"""Import jobs: every upload is recorded, and a failed one keeps its error report for download."""

import gc

from flask import abort, current_app
from flask_babel import gettext, lazy_gettext as _
from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import IntegrityError, OperationalError

from app.core import excel
from app.core.errors import BusinessError
from app.core.models import Model, utcnow
from app.core.scope import current_user_id
from app.extensions import db


class ImportJob(Model):
    __tablename__ = "import_job"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    target = Column(String(64), nullable=False)
    filename = Column(String(255))
    status = Column(String(16), nullable=False)  # done / failed / refused
    total_rows = Column(Integer, default=0, nullable=False)
    created_rows = Column(Integer, default=0, nullable=False)
    error_count = Column(Integer, default=0, nullable=False)
    message = Column(Text)
    report = Column(LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb"))

    @property
    def errors_preview(self) -> list[tuple]:
        return getattr(self, "_errors", [])


def import_file(spec: excel.ImportSpec, data: bytes, filename: str | None) -> ImportJob:
    """Validate and import; always returns a saved job (done, failed with report, or refused with message)."""
    cfg = current_app.config
    session = db.session
    job = ImportJob(target=spec.name, filename=(filename or "")[:255], user_id=current_user_id())
    try:
        if len(data) > cfg["EXCEL_IMPORT_MAX_BYTES"]:
            raise BusinessError(_("The file is too large."), 400)
        # hundreds of thousands of short-lived rows would trigger the cycle collector again and again, each pass
        # walking the whole app's heap; the rows hold no cycles, so it waits until the import is over
        collecting = gc.isenabled()
        gc.disable()
        try:
            result = excel.run_import(
                spec, data, session, cfg["EXCEL_IMPORT_MAX_ROWS"], cfg["EXCEL_IMPORT_MAX_UNZIPPED_BYTES"]
            )
        finally:
            if collecting:
                gc.enable()
    except BusinessError as e:
        session.rollback()
        job.status, job.message = "refused", str(e)
    except (IntegrityError, OperationalError):
        # another import or user saved one of these customers (or held the rows) since the file was checked:
        # nothing of this file was written; a new upload reports the rows that now exist
        session.rollback()
        job.status, job.message = "refused", gettext("Someone else was changing the same data; try again.")
    else:
        job.total_rows = result.total
        if result.ok:
            job.status, job.created_rows = "done", result.created
        else:
            job.status = "failed"
            job.error_count = len(result.errors)
            job.message = gettext(
                "%(n)s problems found in %(total)s rows; nothing was imported.",
                n=len(result.errors),
                total=result.total,
            )
            job.report = excel.report_bytes(result)
            job._errors = result.errors[:50]
    errors = getattr(job, "_errors", [])
    session.add(job)
    session.commit()
    job._errors = errors
    return job


def handle_upload(spec, upload) -> ImportJob:
    if upload is None or not upload.filename:
        job = ImportJob(target=spec.name, status="refused", message=gettext("Choose an .xlsx file first."))
        return job
    return import_file(spec, upload.read(), upload.filename)


def get_report(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None or job.report is None or job.user_id != current_user_id():
        abort(404)
    return job
