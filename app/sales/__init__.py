"""Sales area: registers pages, APIs, who may use them, and what it adds to the customer and product pages."""

from flask_babel import lazy_gettext as _

from app.core.roles import READ, WRITE, register_link, register_resource
from app.core.usage import register_table_label
from app.sales import api, services, views

DOC_ACCESS = {
    "Admin": {WRITE, "approve"},
    "SalesManager": {WRITE, "approve"},
    "Salesperson": WRITE,
    "Finance": READ,
    "Executive": READ,
}
ORDER_ACCESS = {**DOC_ACCESS, "WarehouseKeeper": READ}
QUOTE_ACCESS = {**DOC_ACCESS, "Admin": WRITE, "SalesManager": WRITE}  # quotations are not approved
LINE_ACCESS = {role: READ for role in ORDER_ACCESS}
MONEY_READ = {"Admin": READ, "SalesManager": READ, "Salesperson": READ, "Finance": READ, "Executive": READ}
RECEIPT_ACCESS = {**MONEY_READ, "Admin": WRITE, "SalesManager": WRITE, "Salesperson": WRITE, "Finance": WRITE}
REFUND_ACCESS = {**MONEY_READ, "Admin": WRITE, "SalesManager": WRITE, "Finance": WRITE}
RECEIVABLE_ACCESS = {
    **MONEY_READ,
    "Admin": {READ, "dun"},
    "SalesManager": {READ, "dun"},
    "Salesperson": {READ, "dun"},
    "Finance": {READ, "dun"},
}
INVOICE_ACCESS = {**MONEY_READ, "Admin": WRITE, "Finance": WRITE}
PRICE_ACCESS = {**MONEY_READ, "Admin": WRITE, "SalesManager": WRITE}
COMMISSION_ACCESS = {
    **MONEY_READ,
    "Admin": {READ, "approve", "pay"},
    "SalesManager": {READ, "approve"},
    "Finance": {READ, "pay"},
}
RATE_ACCESS = {**MONEY_READ, "Admin": WRITE}
CREDIT_ACCESS = MONEY_READ
AGREEMENT_ACCESS = {
    **MONEY_READ,
    "Admin": {WRITE, "compute"},
    "SalesManager": {WRITE, "compute"},
    "Finance": {READ, "compute"},
}
REBATE_ACCESS = {
    **MONEY_READ,
    "Admin": {READ, "approve", "settle"},
    "SalesManager": {READ, "approve"},
    "Finance": {READ, "settle"},
}
EXPENSE_ACCESS = DOC_ACCESS

TABLE_LABELS = {
    "quotation": _("Quotations"),
    "quotation_line": _("Quotations"),
    "sales_order": _("Sales Orders"),
    "sales_order_line": _("Sales Orders"),
    "receipt": _("Receipts"),
    "refund": _("Refunds"),
    "commission": _("Commissions"),
    "expense": _("Expense Claims"),
    "customer_price": _("Customer Prices"),
    "price_break": _("Volume Prices"),
    "commission_rate": _("Commission Rates"),
    "sales_invoice": _("Sales Invoices"),
    "sales_invoice_line": _("Sales Invoices"),
    "receivable_credit": _("Receivable Credits"),
    "rebate_agreement": _("Rebate Agreements"),
    "rebate": _("Rebates"),
}


def _extend_other_pages() -> None:
    """Customer and product pages show their sales (the CRM and base-data areas know nothing of sales)."""
    from app.base_data.views import ProductView
    from app.crm.views import ChannelCustomerView, EndCustomerView

    EndCustomerView.related_views = [*EndCustomerView.related_views, views.QuotationView, views.SalesOrderView]
    ChannelCustomerView.related_views = [*ChannelCustomerView.related_views, views.SalesOrderView, views.CommissionView]
    ProductView.related_views = [*(ProductView.related_views or []), views.PriceBreakView, views.SalesOrderLineView]


def init_app(app) -> None:
    # the CRM's targets and channel upgrades count orders through these hooks
    app.extensions["sales_achievement"] = services.achieved_amount
    app.extensions["crm_referred_deals"] = services.referred_deals


def register(appbuilder) -> None:
    for table, label in TABLE_LABELS.items():
        register_table_label(table, label)
    sales = {"category": "Sales", "category_label": _("Sales"), "category_icon": "fa-shopping-cart"}
    ch = {"category": "Channel Customers", "category_label": _("Channel Customers"), "category_icon": "fa-handshake-o"}
    base = {"category": "Base Data", "category_label": _("Base Data"), "category_icon": "fa-database"}
    pages = [
        (views.QuotationView, "Quotations", _("Quotations"), "fa-file-o", QUOTE_ACCESS, api.QuotationApi, sales),
        (
            views.SalesOrderView,
            "Sales Orders",
            _("Sales Orders"),
            "fa-file-text",
            ORDER_ACCESS,
            api.SalesOrderApi,
            sales,
        ),
        (views.ReceivableView, "Receivables", _("Receivables"), "fa-clock-o", RECEIVABLE_ACCESS, None, sales),
        (views.ReceivedView, "Received", _("Received"), "fa-check-circle", MONEY_READ, None, sales),
        (views.ReceiptView, "Receipts", _("Receipts"), "fa-money", RECEIPT_ACCESS, api.ReceiptApi, sales),
        (views.RefundView, "Refunds", _("Refunds"), "fa-reply", REFUND_ACCESS, api.RefundApi, sales),
        (
            views.SalesInvoiceView,
            "Sales Invoices",
            _("Sales Invoices"),
            "fa-ticket",
            INVOICE_ACCESS,
            api.SalesInvoiceApi,
            sales,
        ),
        (
            views.ReceivableCreditView,
            "Receivable Credits",
            _("Receivable Credits"),
            "fa-minus-square",
            CREDIT_ACCESS,
            api.ReceivableCreditApi,
            sales,
        ),
        (
            views.RebateAgreementView,
            "Rebate Agreements",
            _("Rebate Agreements"),
            "fa-handshake-o",
            AGREEMENT_ACCESS,
            api.RebateAgreementApi,
            ch,
        ),
        (views.RebateView, "Rebates", _("Rebates"), "fa-gift", REBATE_ACCESS, api.RebateApi, ch),
        (
            views.CustomerPriceView,
            "Customer Prices",
            _("Customer Prices"),
            "fa-tags",
            PRICE_ACCESS,
            api.CustomerPriceApi,
            sales,
        ),
        (views.CommissionView, "Commissions", _("Commissions"), "fa-percent", COMMISSION_ACCESS, api.CommissionApi, ch),
        (
            views.ExpenseView,
            "Expense Claims",
            _("Expense Claims"),
            "fa-credit-card",
            EXPENSE_ACCESS,
            api.ExpenseApi,
            ch,
        ),
        (views.CommissionRateView, "Commission Rates", _("Commission Rates"), "fa-percent", RATE_ACCESS, None, base),
    ]
    for view, name, label, icon, access, view_api, category in pages:
        register_resource(appbuilder, view, name=name, label=label, icon=icon, access=access, api=view_api, **category)
    register_resource(
        appbuilder,
        views.PriceBreakView,
        name="Volume Prices",
        label=_("Volume Prices"),
        access=PRICE_ACCESS,
        menu=False,
        **sales,
    )
    register_resource(
        appbuilder,
        views.SalesOrderLineView,
        name="Sales Details",
        label=_("Sales Details"),
        access=LINE_ACCESS,
        api=api.SalesOrderLineApi,
        menu=False,
        **sales,
    )
    register_link(
        appbuilder,
        name="Accumulated Costs",
        label=_("Accumulated Costs"),
        endpoint="ExpenseView.costs",
        resource="Expense",
        access=EXPENSE_ACCESS,
        icon="fa-calculator",
        **ch,
    )


_extend_other_pages()
