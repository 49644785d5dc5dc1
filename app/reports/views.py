"""统计报表 pages and the report API: one chart page and one JSON/Excel endpoint serve every report."""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as gettext_lazy

from app.core import charts
from app.core.errors import BusinessError
from app.core.formatting import format_money, format_qty
from app.core.roles import METHOD_PERMISSIONS
from app.core.views import BaseModelView
from app.extensions import db
from app.reports import alerts, periods, services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def format_cell(value, kind: str):
    if value is None:
        return "—" if kind == services.PCT else ""
    if kind == services.MONEY:
        return format_money(value)
    if kind == services.QTY:
        return format_qty(value)
    if kind == services.PCT:
        return f"{value}%"
    return value


def serialise(result) -> dict:
    """JSON: exact decimal strings, the same numbers as the page and the Excel file."""

    def plain(value):
        return str(value) if hasattr(value, "quantize") else value

    return {
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in result.columns],
        "rows": [{k: plain(v) for k, v in row.items()} for row in result.rows],
        "totals": {k: plain(v) for k, v in (result.totals or {}).items()} or None,
        "notes": result.notes,
        "forecast": result.chart.get("forecast"),
        "backtest": result.chart.get("backtest"),
    }


class ReportView(charts.ChartView):
    route_base = "/reports"
    class_permission_name = "Reports"
    method_permission_name = METHOD_PERMISSIONS
    default_view = "index"

    def _report(self, name):
        report = services.REPORTS.get(name)
        if report is None:
            abort(404)
        if not services.may_see(report, g.user):
            abort(403)
        return report

    @expose("/")
    @has_access
    def index(self):
        """The reports this user may open."""
        return self.render_template(
            "reports/index.html", title=gettext("Statistics"), reports=services.visible_reports(g.user)
        )

    @expose("/<name>/")
    @has_access
    def report(self, name):
        report = self._report(name)
        try:
            params = services.parse_params(request.args)
            result = services.run(db.session, name, params)
        except BusinessError as e:
            abort(e.status_code, description=str(e))
        return self.chart_response(
            str(report.title),
            result.columns,
            result.rows,
            result.totals,
            result.chart,
            as_xlsx=request.args.get("format") == "xlsx",
            params=params,
            periodic=report.periodic,
            period_choices=[(k, str(v)) for k, v in periods.PERIODS.items()],
            filter_fields=self._filters(report, params),
            notes=result.notes,
            fmt=format_cell,
            xlsx_url=url_for(".report", name=name, **{**request.args.to_dict(), "format": "xlsx"}),
        )

    def _filters(self, report, params):
        from app.base_data.models import ProductCategory, Region
        from app.core.scope import sees_all
        from app.crm.services import salesperson_choices

        fields = []
        if "salesperson" in report.filters and sees_all():
            fields.append(
                ("salesperson_id", gettext("Salesperson"), salesperson_choices(db.session), params.salesperson_id)
            )
        if "region" in report.filters:
            provinces = db.session.query(Region).filter(Region.level == "province").order_by(Region.code)
            fields.append(("region_id", gettext("Region"), [(r.id, r.name) for r in provinces], params.region_id))
        if "category" in report.filters:
            cats = db.session.query(ProductCategory).filter(ProductCategory.enabled.is_(True)).order_by("name")
            fields.append(
                ("category_id", gettext("Product Category"), [(c.id, str(c)) for c in cats], params.category_id)
            )
        return fields


class ReportApi(BaseApi):
    """GET /api/v1/report/<name>?period=&start=&end=[&salesperson_id=&region_id=&category_id=][&format=xlsx]"""

    resource_name = "report"
    class_permission_name = "Reports"
    method_permission_name = METHOD_PERMISSIONS
    allow_browser_login = True
    openapi_spec_tag = "Reports"

    def add_api_spec(self, api_spec) -> None:
        super().add_api_spec(api_spec)
        # the report names, so that clients (and the API fuzz test) see which exist
        for parameter in api_spec._paths[f"/api/{self.version}/report/{{name}}"]["get"]["parameters"]:
            if parameter["name"] == "name":
                parameter["schema"]["enum"] = sorted(services.REPORTS)

    @api_expose("/<name>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get(self, name):
        """A report as {"columns", "rows", "totals"}; with format=xlsx the Excel file of the same figures.
        ---
        get:
          summary: A statistics report (API.md, Statistics)
          parameters:
          - {in: path, name: name, required: true, schema: {type: string}}
          - {in: query, name: period, schema: {type: string, enum: [day, month, quarter, year]}}
          - {in: query, name: start, schema: {type: string, format: date}}
          - {in: query, name: end, schema: {type: string, format: date}}
          - {in: query, name: salesperson_id, schema: {type: integer, minimum: 1}}
          - {in: query, name: region_id, schema: {type: integer, minimum: 1}}
          - {in: query, name: category_id, schema: {type: integer, minimum: 1}}
          - {in: query, name: format, schema: {type: string, enum: [xlsx]}}
          responses:
            200:
              description: The figures; money and quantities as decimal text
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      columns: {type: array, items: {type: object}}
                      rows: {type: array, items: {type: object}}
                      totals: {type: object, nullable: true}
                      notes: {type: array, items: {type: string}}
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema: {type: string, format: binary}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        report = services.REPORTS.get(name)
        if report is None:
            return self.response(404, message=gettext("There is no report “%(name)s”.", name=name))
        if not services.may_see(report, g.user):
            return self.response(403, message=gettext("You do not have permission for this."))
        try:
            result = services.run(db.session, name, services.parse_params(request.args))
        except BusinessError as e:
            return self.response(e.status_code, message=str(e))
        if request.args.get("format") == "xlsx":
            return charts.xlsx_response(str(report.title), result.columns, result.rows, result.totals)
        return self.response(200, **serialise(result))


class FilterAlertScope(BaseFilter):
    """Each user sees the alerts of their level (a salesperson their own)."""

    name = ""

    def apply(self, query, value):
        from app.core.scope import _user

        user = _user()
        return alerts.visible_alerts(query, user) if user is not None else query.filter(alerts.Alert.id < 0)


class AlertView(BaseModelView):
    """预警中心: open alerts first; 处理 records what was done; the nightly `flask alerts` raises and escalates."""

    datamodel = SQLAInterface(alerts.Alert)
    class_permission_name = "Alert"
    title = gettext_lazy("Alert Centre")
    base_permissions = ["can_read", "can_handle"]
    base_filters = [["id", FilterAlertScope, None]]
    base_order = ("raised_at", "desc")
    list_columns = [
        "raised_at",
        "kind_label",
        "title",
        "level_label",
        "owner",
        "status_label",
        "deadline_at",
        "escalations",
        "handled_by",
        "note",
    ]
    show_columns = list_columns + ["url", "handled_at"]
    search_columns = ["kind", "status", "level", "owner", "raised_at"]
    order_columns = ["raised_at", "deadline_at"]
    label_columns = {
        "raised_at": gettext_lazy("Raised At"),
        "kind": gettext_lazy("Alert Kind"),
        "kind_label": gettext_lazy("Alert Kind"),
        "title": gettext_lazy("Alert"),
        "level": gettext_lazy("Level"),
        "level_label": gettext_lazy("Level"),
        "owner": gettext_lazy("Salesperson"),
        "status": gettext_lazy("Status"),
        "status_label": gettext_lazy("Status"),
        "deadline_at": gettext_lazy("Escalates At"),
        "escalations": gettext_lazy("Escalations"),
        "handled_by": gettext_lazy("Handled By"),
        "handled_at": gettext_lazy("Handled At"),
        "note": gettext_lazy("What was done"),
        "url": gettext_lazy("Link"),
    }
    choice_fields = {}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        from markupsafe import Markup, escape

        self.formatters_columns["url"] = lambda v: Markup(f'<a href="{escape(v)}">{escape(v)}</a>') if v else ""

    @fab_action("handle_start", gettext_lazy("Handle"), None, "fa-check", multiple=False, single=True)
    def handle_start(self, item):
        item = item[0] if isinstance(item, list) else item
        return redirect(url_for(".handle", pk=item.id))

    @expose("/handle/<int:pk>", methods=["GET", "POST"])
    @has_access
    def handle(self, pk):
        item = self._scoped_get(pk)
        if item is None:
            abort(404)
        if request.method == "POST":
            try:
                alerts.handle(db.session, item, g.user, request.form.get("comment"))
                db.session.commit()
                flash(gettext("Alert handled."), "success")
                return redirect(url_for(".list"))
            except BusinessError as e:
                db.session.rollback()
                flash(str(e), "danger")
        return self.render_template(
            "core/action_form.html",
            title=gettext("Handle"),
            subject=item.title,
            choices=None,
            choice_label="",
            comment_label=gettext("What was done"),
            comment_required=True,
            submit_label=gettext("Handle"),
            back_url=url_for(".list"),
        )
