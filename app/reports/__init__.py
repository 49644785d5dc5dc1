"""Statistics area: the report pages (one menu entry per report, for the roles that may read it) and the API."""

from flask_babel import lazy_gettext as _

from app.core.roles import READ, register_link, register_resource
from app.reports import services, views

# GLOSSARY.md order; the two that are not in it follow
MENU = [
    ("sales_amount", "Sales Amount", "fa-bar-chart"),
    ("purchase_amount", "Purchase Amount", "fa-shopping-basket"),
    ("sales_growth", "Sales Growth", "fa-line-chart"),
    ("customer_counts", "Customer Counts", "fa-users"),
    ("stock_in_out", "Stock In/Out Summary", "fa-exchange"),
    ("receipts_payments", "Receipts/Payments Summary", "fa-money"),
    ("product_sales_purchase", "Product Sales/Purchase Summary", "fa-table"),
    ("monthly_shipments", "Monthly Shipments per Customer", "fa-calendar"),
    ("profit", "Profit", "fa-jpy"),
    ("receivables_aging", "Receivables Aging", "fa-hourglass-half"),
    ("top_customers", "Top 10 Customers", "fa-trophy"),
    ("target_achievement", "Target Achievement", "fa-bullseye"),
    ("daily_sales", "Daily Sales Report", "fa-calendar-check-o"),
]


ALERT_ACCESS = {
    "Admin": {READ, "handle"},
    "SalesManager": {READ, "handle"},
    "Salesperson": {READ, "handle"},
    "Finance": READ,
    "Executive": READ,
}


def init_app(app) -> None:
    from app.reports import summary
    from app.reports.dashboard import tiles

    summary.install()
    app.extensions["home_tiles"] = tiles


def register(appbuilder) -> None:
    register_resource(
        appbuilder,
        views.AlertView,
        name="Alert Centre",
        label=_("Alert Centre"),
        icon="fa-exclamation-circle",
        access=ALERT_ACCESS,
        category="Work Management",
        category_label=_("Work Management"),
        category_icon="fa-briefcase",
    )
    appbuilder.add_view_no_menu(views.ReportView)
    appbuilder.add_api(views.ReportApi)
    cat = {"category": "Statistics", "category_label": _("Statistics"), "category_icon": "fa-bar-chart"}
    for name, menu_name, icon in MENU:
        report = services.REPORTS[name]
        register_link(
            appbuilder,
            name=menu_name,
            label=report.title,
            endpoint=f"/reports/{name}/",
            resource="Reports",
            access={role: READ for role in report.access},
            icon=icon,
            **cat,
        )
