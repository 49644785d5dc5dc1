"""Base page and API classes every area uses: data scope, Chinese titles, Excel export/import, safe deletes."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

from flask import abort, current_app, flash, has_request_context, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_babel import gettext, lazy_gettext as _
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from app.core import excel, scope
from app.core.errors import BusinessError, refused_by_database
from app.core.formatting import format_bool, format_date, format_money, format_qty, local_today
from app.core.pickers import PickerViewMixin
from app.core.roles import METHOD_PERMISSIONS
from app.core.usage import ensure_deletable
from app.extensions import db

MAX_PAGE_SIZE = 100
DOWNLOAD_TOKEN = re.compile(r"[A-Za-z0-9]{8,40}")


def download_handshake(response):
    """After every request: one that carried `_dl=<token>` (an export link or the export action, progress.js) is
    answered with a short-lived cookie `dl_<token>`, telling the page that its download has arrived."""
    token = request.args.get("_dl")
    if token is None and request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        try:
            token = request.form.get("_dl")
        except HTTPException:  # a body refused as too large: no form to read
            token = None
    if token and DOWNLOAD_TOKEN.fullmatch(token):
        response.set_cookie(
            f"dl_{token}", "1", max_age=120, path="/", secure=request.is_secure, httponly=False, samesite="Lax"
        )
    return response


def column_kind(datamodel, key: str) -> str:
    if "." in key or key not in datamodel.obj.__table__.columns:
        return excel.TEXT
    if datamodel.is_boolean(key):
        return excel.BOOL
    if datamodel.is_datetime(key):
        return excel.DATETIME
    if datamodel.is_date(key):
        return excel.DATE
    if datamodel.is_integer(key):
        return excel.INT
    if datamodel.is_numeric(key):
        col = datamodel.obj.__table__.columns.get(key)
        scale = getattr(col.type, "scale", 2) if col is not None else 2
        return excel.QTY if scale == 3 else excel.MONEY
    return excel.TEXT


def default_formatters(datamodel, columns) -> dict:
    """¥1,234.50 for money, trimmed quantities, YYYY-MM-DD dates, 是/否 labels."""
    out = {key: _blank_none for key in columns}
    for key in columns:
        if "." in key or not hasattr(datamodel.obj, key):
            continue
        kind = column_kind(datamodel, key)
        if kind == excel.MONEY:
            out[key] = format_money
        elif kind == excel.QTY:
            out[key] = format_qty
        elif kind in (excel.DATE, excel.DATETIME):
            out[key] = format_date
        elif kind == excel.BOOL:
            out[key] = format_bool
    return out


def stream_rows(statement):
    """Rows of an export, read in batches where the driver allows other queries meanwhile.

    PostgreSQL and SQLite stream (server-side cursor / incremental fetch) while relations and computed columns load
    on the same connection. MariaDB's streaming cursor cannot run a second query until it is drained — rows would
    be lost — so there the result is buffered by the driver.
    """
    if db.session.get_bind().dialect.name in ("mysql", "mariadb"):
        return db.session.execute(statement).scalars()
    return db.session.execute(statement.execution_options(yield_per=2000)).scalars()


def _blank_none(value):
    """Empty cells instead of FAB's literal "None"."""
    return "" if value is None else value


class AtLeast(int):
    """A record count that stopped at the limit: there are more. Paginates as the number, reads "10,000+"."""

    def __str__(self) -> str:
        return f"{int(self):,}+"


class ListInterface(SQLAInterface):
    """The pages' data model: the list's record count stops at LIST_COUNT_LIMIT (the API's counts stay exact)."""

    def query_count(self, query, filters=None, select_columns=None) -> int:
        limit = current_app.config.get("LIST_COUNT_LIMIT") or 0
        matching = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        if limit <= 0:
            return matching.count()
        # only the key, unordered, up to one past the limit: an index-only scan that stops early
        found = matching.with_entities(*self.obj.__mapper__.primary_key).limit(limit + 1).count()
        return AtLeast(limit) if found > limit else found

    # FAB's add page flashes the text of whatever the data model raises: the driver's message, SQL included (a
    # number past its column on PostgreSQL); the user reads the Chinese reason instead
    def add(self, item, commit: bool = True) -> None:
        with database_refusal(self.session):
            super().add(item, commit)

    def edit(self, item, commit: bool = True) -> None:
        with database_refusal(self.session):
            super().edit(item, commit)

    def delete(self, item, commit: bool = True) -> None:
        with database_refusal(self.session):
            super().delete(item, commit)

    def delete_all(self, items) -> None:
        with database_refusal(self.session):
            super().delete_all(items)


@contextmanager
def database_refusal(session):
    """The database's refusal as the BusinessError the user reads (errors.refused_by_database), nothing saved."""
    try:
        yield
    except (SQLAlchemyError, DatabaseException, OverflowError) as e:
        session.rollback()
        cause = e.__cause__ if isinstance(e, DatabaseException) and e.__cause__ is not None else e
        raise refused_by_database(cause) from e


class ScopedViewMixin:
    """Shared by pages and APIs: scope declarations, owner enforcement, the area's validation rule."""

    validator = None  # services function(item) raising BusinessError

    def _declare(self) -> None:
        scope.declare_scope(self)

    def _check(self, item) -> None:
        scope.enforce_owner(item)
        if self.validator is not None:
            type(self).validator(item)


class BaseModelView(PickerViewMixin, ScopedViewMixin, ModelView):
    list_template = "core/list.html"
    import_template_page = "core/import.html"
    method_permission_name = METHOD_PERMISSIONS
    page_size = 20
    export_columns: list[str] | None = None
    import_spec = None  # callable returning an excel.ImportSpec
    title = None  # lazy string: the business name of the records (e.g. 产品信息)
    choice_fields: dict = {}  # column → {stored value: lazy label}, shown as a select in the forms

    def __init__(self, **kwargs):
        if type(self.datamodel) is SQLAInterface:  # what each page declares: its list counts as above
            self.datamodel = ListInterface(self.datamodel.obj, self.datamodel._session)
        self._declare()
        # FAB's file download serves UPLOAD_FOLDER, which no model here uses: the route could only fail (a 500)
        self.exclude_route_methods = set(self.exclude_route_methods) | {"download"}
        if self.exclude_route_methods:
            # a removed route (e.g. edit of a posted receipt) keeps a permission name of its own that nobody
            # holds, so FAB neither offers its button nor maps it onto "write"
            self.method_permission_name = {
                **self.method_permission_name,
                **{m: m for m in self.exclude_route_methods},
            }
        self._optional_booleans()
        self._choice_selects()
        if self.title is not None:
            self.list_title = self.list_title or self.title
            self.show_title = self.show_title or _("Details")
            self.add_title = self.add_title or _("Add")
            self.edit_title = self.edit_title or _("Edit")
        super().__init__(**kwargs)
        formatters = default_formatters(self.datamodel, set(self.list_columns) | set(self.show_columns))
        formatters.update(self.formatters_columns or {})
        self.formatters_columns = formatters

    # related lists on a show/edit page: only those the user may read (FAB renders them without checking)
    @property
    def _related_views(self):
        views = self.__dict__.setdefault("_all_related_views", [])  # FAB appends to this very list at start-up
        if not has_request_context():
            return views
        sm = self.appbuilder.sm
        return [v for v in views if sm.has_access(f"can_{v.get_method_permission('list')}", v.class_permission_name)]

    @_related_views.setter
    def _related_views(self, value):
        self.__dict__["_all_related_views"] = value

    def _choice_selects(self):
        from wtforms import SelectField

        for key, choices in self.choice_fields.items():
            label = self.label_columns.get(key, key)
            for attr in ("add_form_extra_fields", "edit_form_extra_fields"):
                extra = dict(getattr(self, attr, None) or {})
                extra[key] = SelectField(label, choices=list(choices.items()))
                setattr(self, attr, extra)

    def _optional_booleans(self):
        """FAB makes a NOT NULL boolean "required", so an unticked box could never be saved: use a plain checkbox."""
        from wtforms import BooleanField

        table = self.datamodel.obj.__table__
        for attr in ("add", "edit"):
            columns = getattr(self, f"{attr}_columns", None) or []
            extra = dict(getattr(self, f"{attr}_form_extra_fields", None) or {})
            for key in columns:
                col = table.columns.get(key)
                if col is not None and self.datamodel.is_boolean(key) and key not in extra:
                    default = col.default.arg if col.default is not None and attr == "add" else None
                    extra[key] = BooleanField(self.label_columns.get(key, key), default=default)
            setattr(self, f"{attr}_form_extra_fields", extra)

    def _hidden_for_user(self) -> list[str]:
        """A salesperson's records are always their own: the owner field is not offered to them."""
        if scope.is_owned(self.datamodel.obj) and not scope.sees_all():
            return ["owner"]
        return []

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        return super()._get_add_widget(form, (exclude_cols or []) + self._hidden_for_user(), widgets)

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        return super()._get_edit_widget(form, (exclude_cols or []) + self._hidden_for_user(), widgets)

    def render_template(self, template, **kwargs):
        kwargs.setdefault("view", self)
        return super().render_template(template, **kwargs)

    # ---- CRUD hooks: the same rules as the API and the import. A refusal rolls the session back, so the
    # half-applied form values never reach a later flush.
    def pre_add(self, item):
        self._refuse_cleanly(self._check, item)

    def pre_update(self, item):
        self._refuse_cleanly(self._check, item)

    @staticmethod
    def _refuse_cleanly(check, item):
        # the rules' queries flush the form's values first: the database may refuse them there already
        with database_refusal(db.session):
            try:
                check(item)
            except BusinessError:
                db.session.rollback()
                raise

    def pre_delete(self, item):
        with database_refusal(db.session):
            ensure_deletable(db.session, item)

    def _list(self, **kwargs):
        for arg, value in request.args.items():
            if re.match(r"^(page|psize)_", arg):
                if not value.isdigit() or (arg.startswith("psize_") and not 0 < int(value) <= MAX_PAGE_SIZE):
                    abort(400, description=gettext("Invalid page or page size."))
            elif arg.startswith("_oc_") and value not in self.order_columns:
                abort(400, description=gettext("This list cannot be sorted by that column."))
        return super()._list(**kwargs)

    # ---- bulk actions must not escape the scope (FAB fetches their rows without base filters)
    def _scoped_get(self, pk):
        return self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if name not in self.actions:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name), self.class_permission_name):
            abort(403)
        if request.method == "GET" and not self.is_get_mutation_allowed():
            abort(405)
        item = self._scoped_get(pk)
        if item is None:
            abort(404)
        return self.actions.get(name).func(item)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name), self.class_permission_name):
            abort(403)
        if not self.actions[name].multiple:  # a one-row action expects one record, not a (maybe empty) list
            abort(404)
        items = [i for i in (self._scoped_get(pk) for pk in request.form.getlist("rowid")) if i is not None]
        return self.actions.get(name).func(items)

    def run_action(self, items, service, message):
        """Apply a service to each selected row in one transaction; any refusal rolls all of them back."""
        items = items if isinstance(items, list) else [items]
        try:
            for item in items:
                service(item)
            db.session.commit()
            flash(message(len(items)) if callable(message) else message, "success")
        except BusinessError as e:
            db.session.rollback()
            flash(str(e), "danger")
        except OperationalError:  # a deadlock or lock timeout: nothing was changed
            db.session.rollback()
            flash(gettext("Someone else was changing the same data; try again."), "danger")
        back = request.form.get("next", "")
        # only a path of this site: never an open redirect
        if back.startswith("/") and not back.startswith("//"):
            return redirect(back)
        return redirect(url_for(f"{self.endpoint}.list"))

    # ---- Excel export: whole list with the current filters, order and scope
    def _export_columns(self) -> list[excel.Column]:
        keys = self.export_columns or self.list_columns
        cols = []
        for key in keys:
            label = self.label_columns.get(key, key)
            cols.append(
                excel.Column(
                    key,
                    label,
                    column_kind(self.datamodel, key) if hasattr(self.datamodel.obj, key.split(".")[0]) else excel.TEXT,
                )
            )
        return cols

    def _filtered_query(self, selected_ids=None):
        """The list's query: its search filters, base filters (scope), order; what export and totals read."""
        get_filter_args(self._filters)
        order = get_order_args().get(self.__class__.__name__)
        order_column, order_direction = order if order else ("", "")
        if order_column and order_column not in self.order_columns:
            order_column, order_direction = "", ""
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        filters = self._filters.get_joined_filters(self._base_filters)
        model = self.datamodel.obj
        query = db.session.query(model)
        query = self.datamodel.apply_all(query, filters, order_column, order_direction)
        if selected_ids is not None:
            query = query.filter(model.id.in_(selected_ids))
        if not order_column:
            query = query.order_by(model.id)
        return query

    def _export_query(self, selected_ids=None):
        query = self._filtered_query(selected_ids)
        model = self.datamodel.obj
        for key in self.export_columns or self.list_columns:
            rel = key.split(".")[0]
            if self.datamodel.is_relation_many_to_one(rel):
                query = query.options(selectinload(getattr(model, rel)))
        return stream_rows(query.statement)

    # ---- totals of money columns over the current filter (shown above the list, last row of the export)
    list_totals: list = []  # column names, or (key, label, fn(model) -> SQL expression)

    def _total_specs(self):
        for spec in self.list_totals:
            if isinstance(spec, str):
                yield spec, self.label_columns.get(spec, spec), getattr(self.datamodel.obj, spec)
            else:
                key, label, expr = spec
                yield key, label, expr(self.datamodel.obj)

    def quick_filters(self) -> list[tuple[object, str]]:
        """(label, list URL) buttons above the list for the filters people use every day; none by default."""
        return []

    def total_labels(self) -> list[tuple[str, object]]:
        return [(key, label) for key, label, _expr in self._total_specs()]

    @expose("/totals/")
    @has_access
    def totals_json(self):
        """The list's totals for its current filters: summed over every row they select, so the page itself fetches
        them after it is shown (a page of 25 rows must not wait for a sum over a million)."""
        return jsonify(totals={key: self.format_total(key, value) for key, _label, value in self.totals()})

    def totals(self, selected_ids=None) -> list[tuple[str, object, object]]:
        """[(key, label, Decimal)] summed in SQL over the rows the list shows (all pages)."""
        from decimal import Decimal

        from sqlalchemy import func

        specs = list(self._total_specs())
        if not specs:
            return []
        query = self._filtered_query(selected_ids).order_by(None)
        sums = query.with_entities(*[func.coalesce(func.sum(expr), 0) for _k, _l, expr in specs]).one()
        return [
            (key, label, Decimal(str(value)).quantize(Decimal("0.01"))) for (key, label, _e), value in zip(specs, sums)
        ]

    def format_total(self, key, value) -> str:
        """Quantities summed are shown as quantities, everything else as money."""
        kind = column_kind(self.datamodel, key) if key in self.datamodel.obj.__table__.columns else excel.MONEY
        return format_qty(value) if kind == excel.QTY else format_money(value)

    def _totals_row(self, selected_ids=None):
        totals = {key: value for key, _label, value in self.totals(selected_ids)}
        if not totals:
            return []
        keys = self.export_columns or self.list_columns
        row = tuple(totals.get(key) for key in keys)
        return [(gettext("Total"),) + row[1:]]

    def _send_export(self, query, selected_ids=None):
        import itertools

        title = str(self.title or self.list_title or self.__class__.__name__)
        rows = itertools.chain(query, self._totals_row(selected_ids))
        file, _count = excel.xlsx_tempfile(title, self._export_columns(), rows)
        response = send_file(
            file,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{title}_{local_today():%Y%m%d}.xlsx",
        )
        response.content_length = os.fstat(file.fileno()).st_size  # the download shows its progress
        return response

    @expose("/export_xlsx/")
    @has_access
    def export_xlsx(self):
        return self._send_export(self._export_query())

    @fab_action("export_selected", _("Export to Excel"), None, "fa-file-excel-o", multiple=True, single=False)
    def export_selected(self, items):
        if not isinstance(items, list):
            items = [items]
        ids = [i.id for i in items]
        if not ids:
            flash(gettext("No rows selected."), "warning")
            return redirect(self.get_redirect())
        return self._send_export(self._export_query(selected_ids=ids), selected_ids=ids)

    # ---- Excel import: template, upload, error report
    @expose("/import_template/")
    @has_access
    def import_template(self):
        if self.import_spec is None:
            abort(404)
        from io import BytesIO

        spec = self.import_spec()
        suffix = gettext("template")
        return send_file(
            BytesIO(excel.template_bytes(spec)),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{spec.title}_{suffix}.xlsx",
        )

    @expose("/import_xlsx/", methods=["GET", "POST"])
    @has_access
    def import_xlsx(self):
        if self.import_spec is None:
            abort(404)
        from app.core.imports import handle_upload

        spec = self.import_spec()
        job = None
        if request.method == "POST":
            job = handle_upload(spec, request.files.get("file"))
            if job is not None and job.status == "done":
                flash(gettext("Imported %(n)s rows.", n=job.created_rows), "success")
                return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template(
            self.import_template_page,
            spec=spec,
            job=job,
            title=gettext("Import from Excel") + " - " + str(spec.title),
        )

    @expose("/import_report/<int:job_id>")
    @has_access
    def import_report(self, job_id):
        from io import BytesIO

        from app.core.imports import get_report

        job = get_report(job_id)
        name = gettext("Import errors")
        return send_file(
            BytesIO(job.report),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{name}_{job.id}.xlsx",
        )
