"""Opening balance pages: what was imported (read-only), and one import page per kind with its template."""

import datetime as dt
from io import BytesIO

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext, lazy_gettext as _
from sqlalchemy.exc import IntegrityError

from app.core import excel
from app.core.errors import BusinessError
from app.core.formatting import local_today
from app.core.views import BaseModelView
from app.extensions import db
from app.opening import models as m, services


class OpeningBalanceView(BaseModelView):
    datamodel = SQLAInterface(m.OpeningBalance)
    class_permission_name = "OpeningBalance"
    title = _("Opening Balances")
    exclude_route_methods = {"add", "edit", "delete"}
    base_permissions = ["can_read", "can_write"]
    list_columns = [
        "kind_label",
        "as_of",
        "doc_number",
        "product",
        "warehouse",
        "qty",
        "unit_cost",
        "end_customer",
        "supplier",
        "amount",
        "due_date",
        "created_by",
    ]
    show_columns = list_columns + ["created_at"]
    search_columns = ["kind", "as_of", "doc_number", "product", "warehouse", "end_customer", "supplier"]
    order_columns = ["as_of", "doc_number", "amount"]
    base_order = ("id", "desc")
    choice_fields = {"kind": m.KINDS}
    list_totals = ["amount"]
    label_columns = {
        "kind": _("Kind"),
        "kind_label": _("Kind"),
        "as_of": _("Opening Date"),
        "doc_number": _("Document No."),
        "product": _("Product"),
        "warehouse": _("Warehouse Name"),
        "qty": _("Quantity"),
        "unit_cost": _("Unit Cost"),
        "end_customer": _("End Customer"),
        "supplier": _("Supplier"),
        "amount": _("Amount"),
        "due_date": _("Due Date"),
        "created_by": _("Imported By"),
        "created_at": _("Created At"),
    }

    def quick_filters(self):
        return [
            (gettext("Import %(kind)s", kind=label), url_for(".import_opening", kind=kind))
            for kind, label in m.KINDS.items()
        ]

    @staticmethod
    def _as_of(raw) -> dt.date:
        try:
            return dt.date.fromisoformat(raw) if raw else local_today()
        except ValueError:
            raise BusinessError(gettext("Dates are written YYYY-MM-DD."), 400) from None

    @expose("/template/<kind>")
    @has_access
    def opening_template(self, kind):
        if kind not in m.KINDS:
            abort(404)
        spec = services.import_spec(kind, local_today(), g.user)
        return send_file(
            BytesIO(excel.template_bytes(spec)),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{spec.title}_{gettext('template')}.xlsx",
        )

    @expose("/import/<kind>", methods=["GET", "POST"])
    @has_access
    def import_opening(self, kind):
        from app.core.imports import ImportJob, handle_upload

        if kind not in m.KINDS:
            abort(404)
        job, as_of = None, request.form.get("as_of") or local_today().isoformat()
        if request.method == "POST":
            try:
                day = self._as_of(request.form.get("as_of"))
                services.ensure_may_import(db.session, g.user, request.form.get("confirm") == "1")
                job = handle_upload(services.import_spec(kind, day, g.user), request.files.get("file"))
            except BusinessError as e:
                db.session.rollback()
                job = ImportJob(target=f"opening_{kind}", status="refused", message=str(e))
            except IntegrityError:
                db.session.rollback()
                job = ImportJob(
                    target=f"opening_{kind}",
                    status="refused",
                    message=gettext("Someone else imported the same opening balances meanwhile; nothing was imported."),
                )
            if job is not None and job.status == "done":
                flash(gettext("Imported %(n)s rows.", n=job.created_rows), "success")
                return redirect(url_for(".list"))
        return self.render_template(
            "opening/import.html",
            kind=kind,
            job=job,
            as_of=as_of,
            documents=services.regular_documents(db.session),
            title=gettext("Import from Excel") + " - " + str(m.KINDS[kind]),
        )
