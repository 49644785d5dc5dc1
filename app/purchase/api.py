"""Purchasing REST resources (API.md): suppliers and contacts, purchase contracts with lines and the workflow
actions, payments with the finance audit."""

from flask import g
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name

from app.core.api import ActionApiMixin, BaseApi, LinesApiMixin, WorkflowApiMixin
from app.extensions import db
from app.purchase import models as m, services, views


class SupplierApi(BaseApi):
    datamodel = SQLAInterface(m.Supplier)
    resource_name = "supplier"
    class_permission_name = "Supplier"
    list_columns = show_columns = [
        "id",
        "name",
        "region.id",
        "contact_name",
        "phone",
        "address",
        "bank_name",
        "bank_account",
        "tax_no",
        "enabled",
        "note",
    ]
    add_columns = edit_columns = views.SupplierView.add_columns
    search_columns = views.SupplierView.search_columns
    order_columns = ["id", "name"]
    validator = staticmethod(services.validate_supplier)


class SupplierContactApi(BaseApi):
    datamodel = SQLAInterface(m.SupplierContact)
    resource_name = "supplier_contact"
    class_permission_name = "Supplier"
    list_columns = show_columns = [
        "id",
        "supplier.id",
        "supplier.name",
        "name",
        "title",
        "mobile",
        "phone",
        "email",
        "is_primary",
        "note",
    ]
    add_columns = edit_columns = views.SupplierContactView.add_columns
    search_columns = views.SupplierContactView.search_columns
    validator = staticmethod(services.validate_supplier_contact)


class PurchaseContractApi(LinesApiMixin, WorkflowApiMixin, BaseApi):
    datamodel = SQLAInterface(m.PurchaseContract)
    resource_name = "purchase_contract"
    class_permission_name = "PurchaseContract"
    list_columns = [
        "id",
        "number",
        "doc_date",
        "supplier.id",
        "supplier.name",
        "purchaser.id",
        "delivery_date",
        "total_amount",
        "paid_amount",
        "receipt_status",
        "status",
        "approval_level",
        "note",
    ]
    show_columns = list_columns + [
        f"lines.{c}" for c in ("id", "line_no", "qty", "unit_price", "discount", "amount", "received_qty")
    ]
    add_columns = edit_columns = views.PurchaseContractView.add_columns
    search_columns = views.PurchaseContractView.search_columns
    order_columns = ["id", "number", "doc_date", "delivery_date", "total_amount"]
    workflow_services = views.PurchaseContractView.workflow_services

    def save_document(self, item, rows, is_new):
        services.save_contract(db.session, item, rows, g.user)

    def pre_delete(self, item):
        services.ensure_contract_editable(item, g.user)
        super().pre_delete(item)


class PurchaseContractLineApi(BaseApi):
    datamodel = SQLAInterface(m.PurchaseContractLine)
    resource_name = "purchase_contract_line"
    class_permission_name = "PurchaseContractLine"
    base_permissions = ["can_read"]
    list_columns = show_columns = [
        "id",
        "contract.id",
        "contract.number",
        "line_no",
        "product.id",
        "product.model_no",
        "qty",
        "unit_price",
        "discount",
        "amount",
        "received_qty",
    ]
    search_columns = ["contract", "product"]


class PaymentApi(ActionApiMixin, BaseApi):
    datamodel = SQLAInterface(m.Payment)
    resource_name = "payment"
    class_permission_name = "Payment"
    include_route_methods = {"get", "get_list", "info", "post", "delete", "api_audit"}
    list_columns = show_columns = [
        "id",
        "number",
        "doc_date",
        "contract.id",
        "contract.number",
        "amount",
        "method",
        "audited",
        "audited_by.id",
        "audited_at",
        "note",
    ]
    add_columns = views.PaymentView.add_columns
    search_columns = views.PaymentView.search_columns
    order_columns = ["id", "number", "doc_date", "amount"]

    def pre_add(self, item):
        super().pre_add(item)
        services.post_payment(db.session, item)

    def pre_delete(self, item):
        services.delete_payment(db.session, item)

    @expose("/<int:pk>/audit", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_audit")
    def api_audit(self, pk):
        """财务审核 (Finance)."""

        def run():
            item = self._item(pk)
            services.audit_payment(db.session, item, g.user)
            db.session.commit()
            return self.response(200, id=item.id, audited=True)

        return self._run(run)


class PurchaseInvoiceApi(BaseApi):
    """收票明细: {"contract", "invoice_no", "invoice_date", "tax_rate", "amount"}; never beyond the contract total."""

    datamodel = SQLAInterface(m.PurchaseInvoice)
    resource_name = "purchase_invoice"
    class_permission_name = "PurchaseInvoice"
    include_route_methods = {"get", "get_list", "info", "post", "delete"}
    list_columns = show_columns = [
        "id",
        "contract.id",
        "contract.number",
        "invoice_no",
        "invoice_date",
        "tax_rate",
        "amount",
        "net_amount",
        "tax_amount",
        "note",
    ]
    add_columns = views.PurchaseInvoiceView.add_columns
    search_columns = views.PurchaseInvoiceView.search_columns
    order_columns = ["id", "invoice_no", "invoice_date", "amount"]

    def pre_add(self, item):
        super().pre_add(item)
        services.receive_invoice(db.session, item)

    def pre_delete(self, item):
        super().pre_delete(item)
        services.void_received_invoice(db.session, item, g.user)
