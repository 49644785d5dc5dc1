"""Purchasing pages. Rules live in services.py; these classes declare columns and labels and wire buttons."""

from flask import g, jsonify, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext, lazy_gettext as _

from app.core import workflow
from app.core.documents import LinesFormMixin, WorkflowViewMixin
from app.core.formatting import format_money
from app.core.printing import PrintableMixin, PrintDocument, party_contact, person, priced_lines
from app.core.views import BaseModelView
from app.extensions import db
from app.purchase import models as m, services
from app.sales.models import PAYMENT_METHODS

LABELS = {
    "invoiced_amount": _("Invoiced"),
    "uninvoiced_amount": _("Not Yet Invoiced"),
    "number": _("Document No."),
    "doc_date": _("Date"),
    "supplier": _("Supplier"),
    "supplier.name": _("Supplier"),
    "purchaser": _("Purchaser"),
    "purchaser.username": _("Purchaser"),
    "delivery_date": _("Agreed Delivery Date"),
    "total_amount": _("Contract Amount"),
    "paid_amount": _("Paid Amount"),
    "unpaid_amount": _("Unpaid Amount"),
    "receipt_status": _("Goods Received"),
    "receipt_status_label": _("Goods Received"),
    "status": _("Status"),
    "status_label": _("Status"),
    "rejection_reason": _("Rejection Reason"),
    "approved_at": _("Approved At"),
    "note": _("Note"),
    "contract": _("Purchase Contract"),
    "contract.number": _("Purchase Contract"),
    "contract.supplier.name": _("Supplier"),
    "amount": _("Amount"),
    "method": _("Payout Method"),
    "method_label": _("Payout Method"),
    "audited": _("Finance Audited"),
    "audited_by": _("Audited By"),
    "audited_at": _("Audited At"),
    "invoice_no": _("Invoice No."),
    "invoice_date": _("Invoice Date"),
}


class SupplierContactView(BaseModelView):
    datamodel = SQLAInterface(m.SupplierContact)
    class_permission_name = "Supplier"
    title = _("Supplier Contacts")
    list_columns = ["name", "title", "mobile", "phone", "email", "is_primary"]
    add_columns = edit_columns = show_columns = [
        "supplier",
        "name",
        "title",
        "mobile",
        "phone",
        "email",
        "is_primary",
        "note",
    ]
    search_columns = ["supplier", "name", "mobile"]
    label_columns = {
        "supplier": _("Supplier"),
        "name": _("Contact Name"),
        "title": _("Position"),
        "mobile": _("Mobile"),
        "phone": _("Phone"),
        "email": _("Email"),
        "is_primary": _("Primary Contact"),
        "note": _("Note"),
    }
    validator = staticmethod(services.validate_supplier_contact)


class SupplierView(BaseModelView):
    datamodel = SQLAInterface(m.Supplier)
    class_permission_name = "Supplier"
    title = _("Suppliers")
    list_columns = ["name", "contact_name", "phone", "region", "address", "enabled"]
    add_columns = edit_columns = [
        "name",
        "region",
        "contact_name",
        "phone",
        "address",
        "bank_name",
        "bank_account",
        "tax_no",
        "enabled",
        "note",
    ]
    show_columns = add_columns
    search_columns = ["name", "contact_name", "phone", "region", "enabled"]
    order_columns = ["name"]
    base_order = ("name", "asc")
    label_columns = {
        "name": _("Supplier Name"),
        "region": _("Region"),
        "contact_name": _("Main Contact"),
        "phone": _("Phone"),
        "address": _("Address"),
        "bank_name": _("Bank"),
        "bank_account": _("Bank Account"),
        "tax_no": _("Tax No."),
        "enabled": _("Enabled"),
        "note": _("Note"),
        "region.name": _("Region"),
    }
    export_columns = ["name", "contact_name", "phone", "region.name", "address", "bank_name", "bank_account", "tax_no"]
    validator = staticmethod(services.validate_supplier)
    related_views = [SupplierContactView]
    show_template = "appbuilder/general/model/show_cascade.html"
    edit_template = "appbuilder/general/model/edit_cascade.html"


class PaymentView(BaseModelView):
    datamodel = SQLAInterface(m.Payment)
    class_permission_name = "Payment"
    title = _("Payments")
    exclude_route_methods = {"edit"}
    list_columns = [
        "number",
        "doc_date",
        "contract",
        "contract.supplier.name",
        "amount",
        "method_label",
        "audited",
        "audited_by",
        "note",
    ]
    add_columns = ["contract", "doc_date", "amount", "method", "note"]
    show_columns = [
        "number",
        "doc_date",
        "contract",
        "amount",
        "method_label",
        "audited",
        "audited_by",
        "audited_at",
        "note",
    ]
    search_columns = ["number", "contract", "doc_date", "method", "audited", "amount"]
    order_columns = ["number", "doc_date", "amount"]
    base_order = ("id", "desc")
    label_columns = LABELS
    list_totals = ["amount"]
    choice_fields = {"method": PAYMENT_METHODS}
    export_columns = [
        "number",
        "doc_date",
        "contract.number",
        "contract.supplier.name",
        "amount",
        "method_label",
        "audited",
        "note",
    ]

    def pre_add(self, item):
        super().pre_add(item)
        self._refuse_cleanly(lambda i: services.post_payment(db.session, i), item)

    def pre_delete(self, item):
        services.delete_payment(db.session, item)

    @fab_action("audit", _("Finance audit"), _("Mark the selected payments as audited?"), "fa-check-square-o")
    def audit(self, items):
        return self.run_action(
            items, lambda p: services.audit_payment(db.session, p, g.user), gettext("Payments audited.")
        )


class PurchaseInvoiceView(BaseModelView):
    datamodel = SQLAInterface(m.PurchaseInvoice)
    class_permission_name = "PurchaseInvoice"
    title = _("Received Invoices")
    exclude_route_methods = {"edit"}
    list_columns = ["invoice_no", "invoice_date", "contract", "amount", "net_amount", "tax_amount", "note"]
    add_columns = ["contract", "invoice_no", "invoice_date", "tax_rate", "amount", "note"]
    show_columns = ["contract", "invoice_no", "invoice_date", "tax_rate", "amount", "net_amount", "tax_amount", "note"]
    search_columns = ["invoice_no", "contract", "invoice_date"]
    label_columns = {
        **LABELS,
        "tax_rate": _("Tax Rate %"),
        "amount": _("Amount with Tax"),
        "net_amount": _("Amount without Tax"),
        "tax_amount": _("Tax"),
    }
    list_totals = ["amount", "net_amount", "tax_amount"]
    export_columns = ["invoice_no", "invoice_date", "contract.number", "tax_rate", "amount", "net_amount", "tax_amount"]

    def pre_add(self, item):
        super().pre_add(item)
        self._refuse_cleanly(lambda i: services.receive_invoice(db.session, i), item)

    def pre_delete(self, item):
        super().pre_delete(item)
        services.void_received_invoice(db.session, item, g.user)


class PurchaseContractView(PrintableMixin, LinesFormMixin, WorkflowViewMixin, BaseModelView):
    datamodel = SQLAInterface(m.PurchaseContract)
    class_permission_name = "PurchaseContract"
    title = _("Purchase Contracts")
    list_columns = [
        "number",
        "doc_date",
        "supplier",
        "total_amount",
        "paid_amount",
        "delivery_date",
        "receipt_status_label",
        "status_label",
        "purchaser",
    ]
    add_columns = edit_columns = ["supplier", "doc_date", "delivery_date", "purchaser", "note"]
    show_columns = [
        "number",
        "doc_date",
        "supplier",
        "purchaser",
        "delivery_date",
        "total_amount",
        "paid_amount",
        "unpaid_amount",
        "invoiced_amount",
        "uninvoiced_amount",
        "receipt_status_label",
        "status_label",
        "rejection_reason",
        "approved_at",
        "note",
    ]
    search_columns = ["number", "supplier", "doc_date", "delivery_date", "status", "receipt_status", "purchaser"]
    order_columns = ["number", "doc_date", "delivery_date", "total_amount"]
    base_order = ("id", "desc")
    label_columns = LABELS
    list_totals = [
        "total_amount",
        "paid_amount",
        ("unpaid_amount", _("Unpaid Amount"), lambda c: c.total_amount - c.paid_amount),
    ]
    export_columns = [
        "number",
        "doc_date",
        "supplier.name",
        "total_amount",
        "paid_amount",
        "unpaid_amount",
        "delivery_date",
        "receipt_status_label",
        "status_label",
        "purchaser.username",
    ]
    show_line_columns = [
        ("product", _("Product"), ""),
        ("qty", _("Quantity"), "text-right"),
        ("unit_price", _("Unit Price"), "text-right"),
        ("discount", _("Discount %"), "text-right"),
        ("amount", _("Amount"), "text-right"),
        ("received_qty", _("Received Qty"), "text-right"),
    ]
    workflow_services = {
        "submit": services.submit_contract,
        "approve": services.approve_contract,
    }
    related_views = [PaymentView, PurchaseInvoiceView]
    price_endpoint = "price"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns["unpaid_amount"] = format_money
        self.formatters_columns["uninvoiced_amount"] = format_money

    @expose("/price")
    @has_access
    def price(self):
        """The price a blank line will get (lines.js shows it while the form is filled in)."""
        from app.base_data.models import Product
        from app.core.validation import parse_id

        product_id = parse_id(request.args.get("product"))
        if product_id is None:
            return jsonify(message=gettext("The request is not correct.")), 400
        product = db.session.get(Product, product_id)
        if product is None or not product.enabled:
            return jsonify(message=gettext("Not found.")), 404
        return jsonify(price=str(services.contract_price(product)), discount="0", promotion_id=None)

    def save_document(self, item, rows, is_new):
        services.save_contract(db.session, item, rows, g.user)

    def ensure_editable(self, item):
        services.ensure_contract_editable(item, g.user)

    def pre_delete(self, item):
        services.ensure_contract_editable(item, g.user)
        super().pre_delete(item)

    def line_cell(self, line, key):
        if key == "received_qty":
            from app.core.formatting import format_qty

            return format_qty(line.received_qty)
        return super().line_cell(line, key)

    def document_buttons(self, item):
        buttons = []
        if item.status in (workflow.DRAFT, workflow.REJECTED) and self.may("write"):
            buttons.append(self.button("edit", _("Edit"), "fa-edit", post=False, url=url_for(".edit", pk=item.id)))
        buttons += self.workflow_buttons(item)
        sm = self.appbuilder.sm
        if item.status == workflow.APPROVED and item.unpaid_amount > 0 and sm.has_access("can_write", "Payment"):
            buttons.append(
                self.button(
                    "pay",
                    _("Add Payment"),
                    "fa-money",
                    post=False,
                    url=url_for("PaymentView.add", _flt_0_contract=item.id),
                )
            )
        if item.status == workflow.APPROVED and sm.has_access("can_write", "StockIn"):
            buttons.append(
                self.button(
                    "receive_goods",
                    _("Receive goods"),
                    "fa-sign-in",
                    post=False,
                    url=url_for("StockInView.add", _flt_0_contract=item.id),
                )
            )
        return buttons

    def document_sections(self, item):
        from app.inventory.views import received_goods

        return [received_goods(db.session, item)]

    def print_content(self, item):
        supplier = item.supplier
        contact, phone = party_contact(supplier)
        columns, rows = priced_lines(item.lines)
        return PrintDocument(
            title=_("Purchase Contract"),
            number=item.number,
            doc_date=item.doc_date,
            columns=columns,
            rows=rows,
            fields=[
                (_("Supplier"), supplier.name if supplier else None),
                (_("Contacts"), contact),
                (_("Phone"), phone),
                (_("Address"), supplier.address if supplier else None),
                (_("Purchaser"), person(item.purchaser)),
                (_("Agreed Delivery Date"), item.delivery_date.isoformat() if item.delivery_date else None),
            ],
            amount=item.total_amount,
            signatures=[_("Prepared by"), _("Reviewed by"), _("Supplier (signature and seal)")],
            note=item.note,
        )
