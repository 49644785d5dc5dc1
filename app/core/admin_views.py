"""System pages of the shared mechanisms: audit log (read-only), approval levels, import history."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _

from app.core.audit import AuditLog
from app.core.imports import ImportJob
from app.core.roles import READ, WRITE, register_resource
from app.core.views import BaseModelView
from app.core.workflow import ApprovalRule


class AuditLogView(BaseModelView):
    datamodel = SQLAInterface(AuditLog)
    class_permission_name = "AuditLog"
    title = _("Audit Log")
    base_permissions = ["can_read"]
    list_columns = ["at", "username", "ip", "action", "table_name", "row_id"]
    show_columns = ["at", "username", "ip", "action", "table_name", "row_id", "before", "after"]
    search_columns = ["at", "username", "ip", "action", "table_name", "row_id"]
    order_columns = ["at", "username", "table_name"]
    base_order = ("id", "desc")
    label_columns = {
        "at": _("Time"),
        "username": _("User"),
        "ip": _("IP Address"),
        "action": _("Action"),
        "table_name": _("Table"),
        "row_id": _("Record"),
        "before": _("Before"),
        "after": _("After"),
    }


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
    for view, name, icon, access in (
        (AuditLogView, "Audit Log", "fa-history", {"Admin": READ}),
        (ApprovalRuleView, "Approval Levels", "fa-check-square-o", {"Admin": WRITE, "SalesManager": READ}),
        (ImportJobView, "Import History", "fa-upload", {"Admin": READ}),
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
        )
