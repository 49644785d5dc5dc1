"""Purchasing area: registers pages, APIs and who may use them."""

from flask_babel import lazy_gettext as _

from app.core.roles import READ, WRITE, register_resource
from app.core.usage import register_table_label
from app.purchase import api, views

SUPPLIER_ACCESS = {
    "Admin": WRITE,
    "Purchaser": WRITE,
    "SalesManager": READ,
    "WarehouseKeeper": READ,
    "Finance": READ,
    "Executive": READ,
}
CONTRACT_ACCESS = {
    "Admin": {WRITE, "approve"},
    "Purchaser": WRITE,
    "WarehouseKeeper": READ,
    "Finance": READ,
    "Executive": READ,
}
LINE_ACCESS = {role: READ for role in CONTRACT_ACCESS}
PAYMENT_ACCESS = {
    "Admin": {WRITE, "audit"},
    "Finance": {WRITE, "audit"},
    "Purchaser": WRITE,
    "Executive": READ,
}

INVOICE_ACCESS = {"Admin": WRITE, "Finance": WRITE, "Purchaser": WRITE, "Executive": READ}

TABLE_LABELS = {
    "supplier": _("Suppliers"),
    "supplier_contact": _("Supplier Contacts"),
    "purchase_contract": _("Purchase Contracts"),
    "purchase_contract_line": _("Purchase Contracts"),
    "payment": _("Payments"),
    "purchase_invoice": _("Received Invoices"),
}


def register(appbuilder) -> None:
    for table, label in TABLE_LABELS.items():
        register_table_label(table, label)
    cat = {"category": "Purchasing", "category_label": _("Purchasing"), "category_icon": "fa-truck"}
    pages = [
        (views.PaymentView, "Payments", _("Payments"), "fa-money", PAYMENT_ACCESS, api.PaymentApi),
        (views.SupplierView, "Suppliers", _("Suppliers"), "fa-industry", SUPPLIER_ACCESS, api.SupplierApi),
        (
            views.PurchaseContractView,
            "Purchase Contracts",
            _("Purchase Contracts"),
            "fa-file-text-o",
            CONTRACT_ACCESS,
            api.PurchaseContractApi,
        ),
        (
            views.PurchaseInvoiceView,
            "Received Invoices",
            _("Received Invoices"),
            "fa-ticket",
            INVOICE_ACCESS,
            api.PurchaseInvoiceApi,
        ),
    ]
    for view, name, label, icon, access, view_api in pages:
        register_resource(appbuilder, view, name=name, label=label, icon=icon, access=access, api=view_api, **cat)
    register_resource(
        appbuilder,
        views.SupplierContactView,
        name="Supplier Contacts",
        label=_("Supplier Contacts"),
        access=SUPPLIER_ACCESS,
        api=api.SupplierContactApi,
        menu=False,
        **cat,
    )
    from app.core.roles import declare

    appbuilder.add_api(api.PurchaseContractLineApi)
    declare("PurchaseContractLine", LINE_ACCESS)
