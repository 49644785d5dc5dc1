"""Sales REST resources (API.md): quotations and orders with their lines, workflow actions, receipts, refunds,
commissions and expense claims. Same services, permissions and data scope as the pages."""

from flask import g
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext

from app.core.api import ActionApiMixin, BaseApi, LinesApiMixin, WorkflowApiMixin
from app.core.errors import BusinessError
from app.extensions import db
from app.sales import models as m, services, views

LINE_COLUMNS = [
    "id",
    "line_no",
    "product.id",
    "product.model_no",
    "product.name",
    "qty",
    "unit_price",
    "discount",
    "amount",
    "promotion.id",
    "promotion.name",
    "note",
]
HEADER_COLUMNS = [
    "id",
    "number",
    "doc_date",
    "end_customer.id",
    "end_customer.name",
    "channel.id",
    "channel.name",
    "project_name",
    "total_amount",
    "owner.id",
    "owner.username",
    "note",
]


class QuotationApi(LinesApiMixin, ActionApiMixin, BaseApi):
    datamodel = SQLAInterface(m.Quotation)
    resource_name = "quotation"
    class_permission_name = "Quotation"
    list_columns = HEADER_COLUMNS + ["valid_until", "status", "order.id"]
    show_columns = list_columns + [
        f"lines.{c}" for c in ("id", "line_no", "qty", "unit_price", "discount", "amount", "promotion_id")
    ]
    add_columns = edit_columns = views.QuotationView.add_columns
    add_query_rel_fields = edit_query_rel_fields = views.CUSTOMER_PICKERS
    search_columns = ["number", "project_name", "end_customer", "doc_date", "status", "owner"]
    order_columns = ["id", "number", "doc_date", "total_amount"]

    def save_document(self, item, rows, is_new):
        if not is_new:
            services.ensure_quotation_open(item)
        if rows is None:
            rows = [
                {"product_id": ln.product_id, "qty": ln.qty, "unit_price": ln.unit_price, "discount": ln.discount}
                for ln in item.lines
            ]
        services.save_quotation(db.session, item, rows)

    def pre_delete(self, item):
        services.ensure_quotation_deletable(item)
        super().pre_delete(item)

    @expose("/<int:pk>/convert", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_convert")
    def api_convert(self, pk):
        """Convert an open quotation into a draft sales order (转为订单)."""

        def run():
            order = services.convert_quotation(db.session, self._item(pk), g.user)
            db.session.commit()
            return self.response(201, id=order.id, number=order.number)

        return self._run(run)


class SalesOrderApi(LinesApiMixin, WorkflowApiMixin, BaseApi):
    datamodel = SQLAInterface(m.SalesOrder)
    resource_name = "sales_order"
    class_permission_name = "SalesOrder"
    list_columns = HEADER_COLUMNS + [
        "order_type.id",
        "order_type.name",
        "payment_term.id",
        "payment_term.name",
        "payment_days",
        "discount_percent",
        "discount_until",
        "credited_amount",
        "is_opening",
        "due_date",
        "received_amount",
        "refunded_amount",
        "payment_status",
        "status",
        "approval_level",
        "price_exception",
        "credit_override_reason",
        "invoiced_amount",
    ]
    show_columns = list_columns + [
        f"lines.{c}"
        for c in ("id", "line_no", "qty", "unit_price", "discount", "amount", "promotion_id", "shipped_qty")
    ]
    add_columns = edit_columns = views.SalesOrderView.add_columns
    add_query_rel_fields = edit_query_rel_fields = views.ORDER_PICKERS
    search_columns = views.SalesOrderView.search_columns
    order_columns = ["id", "number", "doc_date", "due_date", "total_amount"]
    workflow_services = views.SalesOrderView.workflow_services

    def save_document(self, item, rows, is_new):
        services.save_order(db.session, item, rows, g.user)

    def pre_delete(self, item):
        services.ensure_deletable(item, g.user)
        super().pre_delete(item)

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_cancel")
    def api_cancel(self, pk):
        """Cancel an order with nothing shipped and nothing kept received."""
        return self._apply(pk, services.cancel_order)

    @expose("/<int:pk>/credit_override", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_credit_override")
    def api_credit_override(self, pk):
        """A sales manager accepts the customer's current exposure for this order; {"comment"} is the reason."""
        return self._apply(pk, services.override_credit)

    @expose("/<int:pk>/commission", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_commission")
    def api_commission(self, pk):
        """Apply for commission on the money received and not yet claimed."""

        def run():
            item = services.apply_commission(db.session, self._item(pk), g.user, self._comment())
            db.session.commit()
            return self.response(201, id=item.id, number=item.number, amount=str(item.amount))

        return self._run(run)


class SalesOrderLineApi(BaseApi):
    datamodel = SQLAInterface(m.SalesOrderLine)
    resource_name = "sales_order_line"
    class_permission_name = "SalesOrderLine"
    base_permissions = ["can_read"]
    list_columns = show_columns = [
        "order.id",
        "order.number",
        *LINE_COLUMNS,
        "floor_price",
        "shipped_qty",
        "returned_qty",
    ]
    search_columns = ["order", "product"]
    order_columns = ["id", "line_no"]
    base_filters = [["id", views.FilterLineInScope, None]]


class ReceiptApi(BaseApi):
    datamodel = SQLAInterface(m.Receipt)
    resource_name = "receipt"
    class_permission_name = "Receipt"
    base_permissions = ["can_read", "can_write"]
    list_columns = show_columns = [
        "id",
        "number",
        "doc_date",
        "order.id",
        "order.number",
        "amount",
        "method",
        "cash_discount",
        "discount_amount",
        "note",
        "owner.id",
        "owner.username",
    ]
    add_columns = views.ReceiptView.add_columns
    search_columns = views.ReceiptView.search_columns
    order_columns = ["id", "number", "doc_date", "amount"]

    def pre_add(self, item):
        super().pre_add(item)
        services.post_receipt(db.session, item)

    def pre_update(self, item):
        raise BusinessError(gettext("A posted receipt cannot be changed; delete it and enter it again."), 405)

    def pre_delete(self, item):
        services.delete_receipt(db.session, item, g.user)


class RefundApi(BaseApi):
    datamodel = SQLAInterface(m.Refund)
    resource_name = "refund"
    class_permission_name = "Refund"
    include_route_methods = {"get", "get_list", "info", "post"}
    list_columns = show_columns = [
        "id",
        "number",
        "doc_date",
        "order.id",
        "order.number",
        "amount",
        "reason",
        "owner.id",
    ]
    add_columns = views.RefundView.add_columns
    search_columns = views.RefundView.search_columns
    order_columns = ["id", "number", "doc_date", "amount"]

    def pre_add(self, item):
        super().pre_add(item)
        services.post_refund(db.session, item, g.user)


class CommissionApi(WorkflowApiMixin, BaseApi):
    datamodel = SQLAInterface(m.Commission)
    resource_name = "commission"
    class_permission_name = "Commission"
    include_route_methods = {"get", "get_list", "info", "api_approve", "api_reject", "api_pay"}
    base_permissions = ["can_read", "can_approve", "can_pay"]
    list_columns = show_columns = [
        "id",
        "number",
        "doc_date",
        "kind",
        "channel.id",
        "channel.name",
        "order.id",
        "order.number",
        "base_amount",
        "rate",
        "amount",
        "status",
        "paid_at",
        "owner.id",
        "owner.username",
    ]
    search_columns = views.CommissionView.search_columns
    order_columns = ["id", "number", "doc_date", "amount"]
    workflow_services = views.CommissionView.workflow_services

    @expose("/<int:pk>/pay", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_pay")
    def api_pay(self, pk):
        """Finance records the payout; {"comment"} is the payout note."""
        return self._apply(pk, services.pay_commission)


class ExpenseApi(WorkflowApiMixin, BaseApi):
    datamodel = SQLAInterface(m.Expense)
    resource_name = "expense"
    class_permission_name = "Expense"
    list_columns = show_columns = [
        "id",
        "number",
        "doc_date",
        "expense_type.id",
        "expense_type.name",
        "amount",
        "channel.id",
        "channel.name",
        "status",
        "owner.id",
        "owner.username",
        "note",
    ]
    add_columns = edit_columns = views.ExpenseView.add_columns
    search_columns = views.ExpenseView.search_columns
    order_columns = ["id", "number", "doc_date", "amount"]
    validator = staticmethod(services.validate_expense)
    workflow_services = views.ExpenseView.workflow_services

    def pre_update(self, item):
        services.ensure_expense_editable(item, g.user)
        super().pre_update(item)

    def pre_delete(self, item):
        services.ensure_expense_editable(item, g.user)
        super().pre_delete(item)


class CustomerPriceApi(BaseApi):
    datamodel = SQLAInterface(m.CustomerPrice)
    resource_name = "customer_price"
    class_permission_name = "CustomerPrice"
    list_columns = show_columns = [
        "id",
        "end_customer.id",
        "end_customer.name",
        "product.id",
        "product.model_no",
        "price",
        "note",
    ]
    add_columns = edit_columns = views.CustomerPriceView.add_columns
    search_columns = ["end_customer", "product"]
    validator = staticmethod(services.validate_customer_price)


class SalesInvoiceApi(LinesApiMixin, BaseApi):
    """销售发票: {"invoice_no", "invoice_date", "end_customer", "tax_rate", "lines": [{"order_id", "amount"}]}."""

    datamodel = SQLAInterface(m.SalesInvoice)
    resource_name = "sales_invoice"
    class_permission_name = "SalesInvoice"
    include_route_methods = {"get", "get_list", "info", "post", "delete"}
    list_columns = [
        "id",
        "invoice_no",
        "invoice_date",
        "end_customer.id",
        "end_customer.name",
        "tax_rate",
        "amount",
        "net_amount",
        "tax_amount",
        "owner.id",
    ]
    show_columns = list_columns + ["lines.id", "lines.amount"]
    add_columns = views.SalesInvoiceView.add_columns
    search_columns = views.SalesInvoiceView.search_columns
    order_columns = ["id", "invoice_no", "invoice_date", "amount"]
    add_query_rel_fields = views.SalesInvoiceView.add_form_query_rel_fields

    def save_document(self, item, rows, is_new):
        services.issue_invoice(db.session, item, rows, g.user)

    def pre_delete(self, item):
        services.void_invoice(db.session, item, g.user)


class ReceivableCreditApi(BaseApi):
    """应收冲减 (read-only): cash discounts and settled rebates."""

    datamodel = SQLAInterface(m.ReceivableCredit)
    resource_name = "receivable_credit"
    class_permission_name = "ReceivableCredit"
    include_route_methods = {"get", "get_list", "info"}
    list_columns = show_columns = [
        "id",
        "number",
        "doc_date",
        "kind",
        "order.id",
        "order.number",
        "amount",
        "receipt.id",
        "rebate.id",
        "owner.id",
        "note",
    ]
    search_columns = views.ReceivableCreditView.search_columns
    order_columns = ["id", "number", "doc_date", "amount"]


class RebateAgreementApi(ActionApiMixin, BaseApi):
    """返利协议; POST /<id>/compute {"period_start", "period_end", "comment"} computes and submits a period's rebate."""

    datamodel = SQLAInterface(m.RebateAgreement)
    resource_name = "rebate_agreement"
    class_permission_name = "RebateAgreement"
    base_permissions = ["can_read", "can_write", "can_compute"]
    list_columns = show_columns = [
        "id",
        "name",
        "end_customer.id",
        "end_customer.name",
        "channel.id",
        "channel.name",
        "rate",
        "threshold",
        "enabled",
        "owner.id",
        "note",
    ]
    add_columns = edit_columns = views.RebateAgreementView.add_columns
    search_columns = views.RebateAgreementView.search_columns
    order_columns = ["id", "name", "rate", "threshold"]
    add_query_rel_fields = edit_query_rel_fields = views.RebateAgreementView.add_form_query_rel_fields
    validator = staticmethod(services.validate_rebate_agreement)

    @expose("/<int:pk>/compute", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_compute")
    def api_compute(self, pk):
        import datetime as dt

        def run():
            item = self._item(pk)
            body = self._body()
            try:
                start = dt.date.fromisoformat(str(body.get("period_start") or ""))
                end = dt.date.fromisoformat(str(body.get("period_end") or ""))
            except ValueError:
                raise BusinessError(gettext("Dates are written YYYY-MM-DD."), 400) from None
            rebate = services.compute_rebate(db.session, item, start, end, g.user, self._comment())
            db.session.commit()
            return self.response(
                201, message=gettext("OK"), id=rebate.id, number=rebate.number, amount=str(rebate.amount)
            )

        return self._run(run)


class RebateApi(WorkflowApiMixin, BaseApi):
    """返利单: approve / reject through the workflow; POST /<id>/settle credits what is unsettled to receivables."""

    datamodel = SQLAInterface(m.Rebate)
    resource_name = "rebate"
    class_permission_name = "Rebate"
    include_route_methods = {"get", "get_list", "info", "api_approve", "api_reject", "api_settle"}
    base_permissions = ["can_read", "can_approve", "can_settle"]
    list_columns = show_columns = [
        "id",
        "number",
        "doc_date",
        "agreement.id",
        "agreement.name",
        "period_start",
        "period_end",
        "base_amount",
        "rate",
        "amount",
        "settled_amount",
        "status",
        "owner.id",
    ]
    search_columns = views.RebateView.search_columns
    order_columns = ["id", "number", "doc_date", "amount"]
    workflow_services = views.RebateView.workflow_services

    @expose("/<int:pk>/settle", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_settle")
    def api_settle(self, pk):
        def run():
            item = self._item(pk)
            applied = services.settle_rebate(db.session, item, g.user)
            db.session.commit()
            return self.response(200, message=gettext("OK"), id=item.id, credited=str(applied))

        return self._run(run)
