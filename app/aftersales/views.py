"""After-sales pages. Rules live in services.py; these classes declare columns and labels and wire buttons to them."""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.fieldwidgets import DateTimePickerWidget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterGreater,
    FilterRelationOneToManyEqual,
    FilterSmaller,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext, lazy_gettext as _
from markupsafe import Markup
from wtforms import DateTimeField, SelectField
from wtforms.validators import Optional

from app.aftersales import models as m, services
from app.core.documents import DocumentViewMixin
from app.core.errors import BusinessError
from app.core.formatting import LOCAL_TZ, to_local
from app.core.models import utcnow
from app.core.roles import METHOD_PERMISSIONS, WRITE
from app.core.scope import current_user_id
from app.core.views import BaseModelView
from app.crm.services import FilterNotInPool
from app.extensions import db

LABELS = {
    "number": _("Document No."),
    "created_at": _("Received At"),
    "end_customer": _("End Customer"),
    "end_customer.name": _("End Customer"),
    "sales_order": _("Sales Order"),
    "sales_order.number": _("Sales Order"),
    "kind": _("Service Type"),
    "kind_label": _("Service Type"),
    "content": _("Content"),
    "priority": _("Priority"),
    "priority_label": _("Priority"),
    "assignee": _("Assignee"),
    "assignee.username": _("Assignee"),
    "status": _("Status"),
    "status_label": _("Status"),
    "due_at": _("Due At"),
    "is_overdue": _("Overdue"),
    "started_at": _("Started At"),
    "resolution": _("Resolution"),
    "resolved_at": _("Resolved At"),
    "satisfaction": _("Satisfaction"),
    "closed_at": _("Closed At"),
    "owner": _("Salesperson"),
    "owner.username": _("Salesperson"),
    "updated_at": _("Updated At"),
}
TIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]


class FilterOverdue(BaseFilter):
    """超期: pending or processing past the due time (the value is not used)."""

    name = _("Overdue")
    arg_name = "overdue"

    def apply(self, query, value):
        return query.filter(self.model.status.in_(m.ACTIVE), self.model.due_at < utcnow())


class LocalTimeFilter:
    """A time typed in China time, compared with the UTC the column stores."""

    def apply(self, query, value):
        from dateutil import parser

        try:
            typed = parser.parse(value) if isinstance(value, str) else None
        except (ValueError, OverflowError):
            typed = None
        if typed is not None:
            value = services.as_utc(typed if typed.tzinfo else typed.replace(tzinfo=LOCAL_TZ))
        return super().apply(query, value)


class FilterAfter(LocalTimeFilter, FilterGreater):
    pass


class FilterBefore(LocalTimeFilter, FilterSmaller):
    pass


class FilterHandlers(BaseFilter):
    """The assignee dropdown offers active users who may handle requests."""

    name = ""

    def apply(self, query, value):
        from flask_appbuilder.security.sqla.models import Role

        user = self.model
        return query.filter(user.active.is_(True), user.roles.any(Role.name.in_(services.HANDLER_ROLES)))


HANDLERS = [["id", FilterHandlers, None]]
PICKERS = {"end_customer": [["id", FilterNotInPool, None]], "assignee": HANDLERS}


def _choices(labels: dict) -> list[tuple[str, object]]:
    return list(labels.items())


def _short(text) -> str:
    text = text or ""
    return text if len(text) <= 40 else text[:40] + "…"


def _overdue_mark(value) -> Markup:
    return Markup('<span class="label label-danger">%s</span>') % gettext("Overdue") if value else Markup("")


def _stars(value) -> str:
    return "★" * value + "☆" * (5 - value) if value else ""


class ServiceRequestView(DocumentViewMixin, BaseModelView):
    """售后服务: requests and complaints of the user's customers (and those assigned to them), with their handling."""

    datamodel = SQLAInterface(m.ServiceRequest)
    class_permission_name = "ServiceRequest"
    title = _("After-sales Service")
    list_template = "aftersales/list.html"
    method_permission_name = {
        **METHOD_PERMISSIONS,
        "start": WRITE,
        "resolve": WRITE,
        "close": WRITE,
        "reopen": WRITE,
    }
    list_columns = [
        "number",
        "created_at",
        "end_customer",
        "kind_label",
        "priority_label",
        "content",
        "assignee",
        "status_label",
        "due_at",
        "is_overdue",
        "owner",
    ]
    add_columns = ["end_customer", "sales_order", "kind", "priority", "content", "assignee", "due_at"]
    # the customer and order are fixed once received (a wrong one: delete the pending request and enter it again)
    edit_columns = ["kind", "priority", "content", "assignee", "due_at"]
    show_columns = [
        "number",
        "created_at",
        "end_customer",
        "sales_order",
        "kind_label",
        "priority_label",
        "content",
        "assignee",
        "status_label",
        "due_at",
        "started_at",
        "resolution",
        "resolved_at",
        "satisfaction",
        "closed_at",
        "owner",
    ]
    search_columns = [
        "number",
        "end_customer",
        "sales_order",
        "kind",
        "priority",
        "status",
        "assignee",
        "due_at",
        "created_at",
        "owner",
        "content",
    ]
    order_columns = ["number", "created_at", "due_at"]
    base_order = ("id", "desc")
    label_columns = LABELS
    export_columns = [
        "number",
        "created_at",
        "end_customer.name",
        "sales_order.number",
        "kind_label",
        "priority_label",
        "content",
        "assignee.username",
        "status_label",
        "due_at",
        "started_at",
        "resolution",
        "resolved_at",
        "satisfaction",
        "closed_at",
        "owner.username",
    ]
    add_form_query_rel_fields = PICKERS
    edit_form_query_rel_fields = {"assignee": HANDLERS}
    search_form_query_rel_fields = {"assignee": HANDLERS}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": SelectField(_("Service Type"), choices=_choices(m.KINDS), default=m.REPAIR),
        "priority": SelectField(_("Priority"), choices=_choices(m.PRIORITIES), default=m.NORMAL),
        "due_at": DateTimeField(
            _("Due At"),
            format=TIME_FORMATS,
            validators=[Optional()],
            widget=DateTimePickerWidget(),
            description=_("China time. Leave empty to set it from the priority (urgent 4 h, high 24 h, normal 72 h)."),
        ),
    }
    search_form_extra_fields = {
        "created_at": DateTimeField(_("Received At"), format=TIME_FORMATS, widget=DateTimePickerWidget()),
        "due_at": DateTimeField(_("Due At"), format=TIME_FORMATS, widget=DateTimePickerWidget()),
        "kind": SelectField(_("Service Type"), choices=_choices(m.KINDS)),
        "priority": SelectField(_("Priority"), choices=_choices(m.PRIORITIES)),
        "status": SelectField(_("Status"), choices=_choices(m.STATUSES)),
    }
    validator = staticmethod(services.validate_request)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns.update({"content": _short, "is_overdue": _overdue_mark, "satisfaction": _stars})

    def _init_properties(self):
        super()._init_properties()
        # times are searched in China time, before or after; 超期 is a filter of the due time of its own
        for column, extra in (("created_at", []), ("due_at", [FilterOverdue])):
            filters = [f(column, self.datamodel) for f in (FilterAfter, FilterBefore, *extra)]
            self._filters.get_search_filters()[column] = filters
            self._filters._all_filters[column] = filters

    # ---- times: entered and shown in China time, stored in UTC
    def process_form(self, form, is_created):
        if form.due_at.data is not None:
            form.due_at.data = services.as_utc(form.due_at.data.replace(tzinfo=LOCAL_TZ))

    def prefill_form(self, form, pk):
        if form.due_at.data is not None:
            form.due_at.data = to_local(form.due_at.data).replace(tzinfo=None)

    # ---- quick filters above the list
    def _filter_arg(self, column, filter_class) -> str:
        for i, flt in enumerate(self._filters.get_search_filters()[column]):
            if type(flt) is filter_class:
                return f"_flt_{i}_{column}"
        raise LookupError(column)

    def quick_filters(self) -> list[tuple[object, str]]:
        endpoint = f"{self.endpoint}.list"
        status = self._filter_arg("status", FilterEqual)
        links = [(_("All"), url_for(endpoint))]
        links += [(m.STATUSES[s], url_for(endpoint, **{status: s})) for s in (m.OPEN, m.IN_PROGRESS, m.RESOLVED)]
        links.append((_("Overdue"), url_for(endpoint, **{self._filter_arg("due_at", FilterOverdue): ""})))
        mine = self._filter_arg("assignee", FilterRelationOneToManyEqual)
        links.append((_("Assigned to me"), url_for(endpoint, **{mine: current_user_id() or 0})))
        return links

    # ---- state rules
    def pre_delete(self, item):
        services.ensure_deletable(item)
        super().pre_delete(item)

    def _edit(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None and item.status in (m.RESOLVED, m.CLOSED):
            flash(gettext("A resolved or closed service request cannot be changed; reopen it first."), "danger")
            return None
        return super()._edit(pk)

    def post_edit_redirect(self):
        pk = request.view_args.get("pk")
        return redirect(url_for(f"{self.endpoint}.show", pk=pk)) if pk else super().post_edit_redirect()

    # ---- show page: buttons for the request's state, and its processing history
    def document_buttons(self, item):
        if not self.may("write"):
            return []
        buttons = []
        if item.status in m.ACTIVE:
            buttons.append(self.button("edit", _("Edit"), "fa-edit", post=False, url=url_for(".edit", pk=item.id)))
        if item.status == m.OPEN:
            buttons.append(
                self.button(
                    "start", _("Start Handling"), "fa-play", url=self.action_url("start", item.id), style="primary"
                )
            )
        if item.status in m.ACTIVE:
            buttons.append(
                self.button(
                    "resolve",
                    _("Resolve"),
                    "fa-check",
                    post=False,
                    url=url_for(".resolve", pk=item.id),
                    style="success",
                )
            )
        if item.status == m.RESOLVED:
            buttons.append(
                self.button(
                    "close", _("Close"), "fa-lock", post=False, url=url_for(".close", pk=item.id), style="primary"
                )
            )
        if item.status in (m.RESOLVED, m.CLOSED):
            buttons.append(
                self.button(
                    "reopen", _("Reopen"), "fa-undo", post=False, url=url_for(".reopen", pk=item.id), style="warning"
                )
            )
        return buttons

    def document_sections(self, item):
        return [
            {
                "id": "service-history",
                "title": _("Processing History"),
                "headers": [_("Time"), _("Action"), _("By"), _("Comment")],
                "rows": services.history(db.session, item),
            }
        ]

    @fab_action("start", _("Start Handling"), _("Start handling the selected service requests?"), "fa-play")
    def start(self, items):
        return self.run_action(
            items,
            lambda item: services.start(db.session, item, g.user),
            lambda n: gettext("%(n)s service requests being handled.", n=n),
        )

    @expose("/resolve/<int:pk>", methods=["GET", "POST"])
    @has_access
    def resolve(self, pk):
        return self.comment_action(
            pk,
            lambda item, text: services.resolve(db.session, item, g.user, text),
            title=gettext("Resolve"),
            done=gettext("Service request resolved."),
            required=True,
            comment_label=gettext("Resolution"),
        )

    @expose("/reopen/<int:pk>", methods=["GET", "POST"])
    @has_access
    def reopen(self, pk):
        return self.comment_action(
            pk,
            lambda item, text: services.reopen(db.session, item, g.user, text),
            title=gettext("Reopen"),
            done=gettext("Service request reopened."),
            required=True,
        )

    @expose("/close/<int:pk>", methods=["GET", "POST"])
    @has_access
    def close(self, pk):
        """关闭, with the customer's satisfaction score when they gave one."""
        item = self._scoped_get(pk)
        if item is None:
            abort(404)
        if request.method == "POST":
            try:
                services.close(db.session, item, g.user, request.form.get("satisfaction"), request.form.get("comment"))
                db.session.commit()
                flash(gettext("Service request closed."), "success")
                return redirect(self._back(pk))
            except BusinessError as e:
                db.session.rollback()
                flash(str(e), "danger")
        return self.render_template(
            "aftersales/close.html",
            title=gettext("Close"),
            subject=f"{item.number} {item.end_customer.name}",
            scores=[(n, _stars(n)) for n in range(5, 0, -1)],
            back_url=self._back(pk),
        )
