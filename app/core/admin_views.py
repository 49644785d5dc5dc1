"""System pages of the shared mechanisms: audit log (read-only page and API), approval levels, import history."""

import datetime as dt
import json

from flask_appbuilder.fieldwidgets import DateTimePickerWidget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _
from markupsafe import Markup
from sqlalchemy import false
from wtforms import DateTimeField

from app.core.api import BaseApi
from app.core.audit import AuditLog
from app.core.formatting import LOCAL_TZ, to_local
from app.core.imports import ImportJob
from app.core.roles import READ, WRITE, register_resource
from app.core.views import BaseModelView
from app.core.workflow import ACTION_LABELS, ApprovalRule


class _LocalTimeFilter(BaseFilter):
    """A time typed in China time (or with its offset) compared with the UTC the log stores; the page and the API
    share it (API: {"col": "at", "opr": "not_before", "value": "2026-05-01 08:00"})."""

    def bound(self, column, at):
        raise NotImplementedError

    def apply(self, query, value):
        if value is None or not str(value).strip():  # a filter row left empty restricts nothing
            return query
        at = self._utc(value)
        # an unreadable time matches nothing rather than everything
        return query.filter(self.bound(getattr(self.model, self.column_name), at) if at is not None else false())

    @staticmethod
    def _utc(value):
        from dateutil import parser

        try:
            typed = value if isinstance(value, dt.datetime) else parser.parse(str(value))
        except (ValueError, OverflowError):
            return None
        if typed.tzinfo is None:
            typed = typed.replace(tzinfo=LOCAL_TZ)
        return typed.astimezone(dt.UTC).replace(tzinfo=None)


class FilterNotBefore(_LocalTimeFilter):
    name = _("Not before")
    arg_name = "not_before"

    def bound(self, column, at):
        return column >= at


class FilterNotAfter(_LocalTimeFilter):
    name = _("Not after")
    arg_name = "not_after"

    def bound(self, column, at):
        return column <= at


def _time_filters(view) -> None:
    """The log's time is searched as a range in China time instead of FAB's UTC comparisons."""
    filters = [flt("at", view.datamodel) for flt in (FilterNotBefore, FilterNotAfter)]
    view._filters.get_search_filters()["at"] = filters
    view._filters._all_filters["at"] = filters


# what the unit of work records; workflow steps have their labels in app/core/workflow.py
ENTRY_ACTIONS = {"create": _("Add"), "update": _("Edit"), "delete": _("Delete"), "import": _("Import")}


def _action_label(code) -> str:
    label = {**ENTRY_ACTIONS, **ACTION_LABELS}.get(code)
    return f"{label} ({code})" if label is not None else (code or "")


def _json_block(text) -> Markup:
    """before/after as indented JSON on the details page."""
    if not text:
        return Markup("")
    try:
        text = json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        pass
    return Markup('<pre class="audit-json">%s</pre>') % text


def _seconds(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


AUDIT_COLUMNS = ["at", "user_id", "username", "ip", "action", "table_name", "row_id", "before", "after"]
AUDIT_SEARCH = ["at", "username", "user_id", "ip", "action", "table_name", "row_id", "before", "after"]
AUDIT_LABELS = {
    "at": _("Time"),
    "user_id": _("User ID"),
    "username": _("User"),
    "ip": _("IP Address"),
    "action": _("Action"),
    "table_name": _("Table"),
    "row_id": _("Record"),
    "before": _("Before"),
    "after": _("After"),
}


class AuditLogView(BaseModelView):
    """操作日志: read and search only. No add/edit/delete routes exist; the log refuses changes itself too
    (app/core/audit.py)."""

    datamodel = SQLAInterface(AuditLog)
    class_permission_name = "AuditLog"
    title = _("Audit Log")
    base_permissions = ["can_read"]
    exclude_route_methods = {"add", "edit", "delete", "import_xlsx", "import_template", "import_report"}
    list_columns = ["at", "username", "ip", "action", "table_name", "row_id"]
    show_columns = AUDIT_COLUMNS
    export_columns = AUDIT_COLUMNS
    search_columns = AUDIT_SEARCH
    search_form_extra_fields = {
        "at": DateTimeField(_("Time"), format=["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"], widget=DateTimePickerWidget())
    }
    order_columns = ["at", "username", "table_name", "action"]
    base_order = ("id", "desc")
    label_columns = AUDIT_LABELS
    formatters_columns = {"at": _seconds, "action": _action_label, "before": _json_block, "after": _json_block}

    def _init_properties(self):
        super()._init_properties()
        _time_filters(self)


class AuditLogApi(BaseApi):
    """GET /api/v1/audit_log/ (search with the page's filters) and /api/v1/audit_log/<id>; nothing writes."""

    datamodel = SQLAInterface(AuditLog)
    resource_name = "audit_log"
    class_permission_name = "AuditLog"
    include_route_methods = {"get", "get_list", "info"}
    list_columns = show_columns = ["id", *AUDIT_COLUMNS]
    search_columns = AUDIT_SEARCH
    order_columns = ["id", "at", "username", "table_name", "action"]
    base_order = ("id", "desc")

    def _init_properties(self):
        super()._init_properties()
        _time_filters(self)


class ApprovalRuleView(BaseModelView):
    datamodel = SQLAInterface(ApprovalRule)
    class_permission_name = "ApprovalRule"
    title = _("Approval Levels")
    list_columns = ["doc_type", "min_amount", "level", "role_name"]
    add_columns = edit_columns = show_columns = list_columns
    search_columns = ["doc_type", "role_name"]
    base_order = ("doc_type", "asc")
    label_columns = {
        "doc_type": _("Document Type"),
        "min_amount": _("From Amount"),
        "level": _("Level"),
        "role_name": _("Approver Role"),
    }


class ImportJobView(BaseModelView):
    datamodel = SQLAInterface(ImportJob)
    class_permission_name = "ImportJob"
    title = _("Import History")
    base_permissions = ["can_read"]
    list_columns = ["created_at", "target", "filename", "status", "total_rows", "created_rows", "error_count"]
    show_columns = list_columns + ["message"]
    search_columns = ["created_at", "target", "status"]
    base_order = ("id", "desc")
    label_columns = {
        "created_at": _("Time"),
        "target": _("Data"),
        "filename": _("File"),
        "status": _("Status"),
        "total_rows": _("Rows"),
        "created_rows": _("Imported"),
        "error_count": _("Problems"),
        "message": _("Message"),
    }


def register_admin_views(appbuilder) -> None:
    for view, name, icon, access, api in (
        (AuditLogView, "Audit Log", "fa-history", {"Admin": READ}, AuditLogApi),
        (ApprovalRuleView, "Approval Levels", "fa-check-square-o", {"Admin": WRITE, "SalesManager": READ}, None),
        (ImportJobView, "Import History", "fa-upload", {"Admin": READ}, None),
    ):
        register_resource(
            appbuilder,
            view,
            name=name,
            label=_(name),
            category="Security",
            category_label=_("Security"),
            icon=icon,
            access=access,
            api=api,
        )
