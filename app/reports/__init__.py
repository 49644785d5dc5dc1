"""Statistics area: the report pages (one menu entry per report, for the roles that may read it) and the API."""

from flask_babel import lazy_gettext as _

from app.core.roles import READ, register_link
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
]


def register(appbuilder) -> None:
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
