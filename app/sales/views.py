"""Sales pages. Rules live in services.py; these classes declare columns and labels and wire buttons to services."""

import datetime as dt
from decimal import Decimal

from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext, lazy_gettext as _
from markupsafe import Markup
from sqlalchemy import func
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from app.core import excel, workflow
from app.core.documents import (
    DEFAULT_LINE_COLUMNS,
    DocumentViewMixin,
    LineColumn,
    LinesFormMixin,
    WorkflowViewMixin,
)
from app.core.errors import BusinessError
from app.core.formatting import format_money, local_today
from app.core.printing import MONEY, PrintableMixin, PrintColumn, PrintDocument, party_contact, person, priced_lines
from app.core.scope import get_in_scope
from app.core.validation import parse_id
from app.core.views import BaseModelView
from app.extensions import db
from app.sales import models as m, services

LABELS = {
    "number": _("Document No."),
    "doc_date": _("Date"),
    "end_customer": _("End Customer"),
    "end_customer.name": _("End Customer"),
    "channel": _("Channel"),
    "channel.name": _("Channel"),
    "order_type": _("Order Type"),
    "order_type.name": _("Order Type"),
    "project_name": _("Project"),
    "payment_days": _("Payment Terms (days)"),
    "due_date": _("Due Date"),
    "total_amount": _("Contract Amount"),
    "received_amount": _("Received Amount"),
    "refunded_amount": _("Refunded"),
    "net_received": _("Received Amount"),
    "outstanding_amount": _("Outstanding"),
    "payment_status": _("Payment Status"),
    "payment_status_label": _("Payment Status"),
    "status": _("Status"),
    "status_label": _("Status"),
    "price_exception": _("Below Red-line Price"),
    "credit_override_reason": _("Credit Override Reason"),
    "credit_override_by": _("Credit Override By"),
    "owner": _("Salesperson"),
    "owner.username": _("Salesperson"),
    "note": _("Note"),
    "valid_until": _("Valid Until"),
    "order": _("Sales Order"),
    "order.number": _("Sales Order"),
    "order.end_customer.name": _("End Customer"),
    "amount": _("Amount"),
    "method": _("Payment Method"),
    "method_label": _("Payment Method"),
    "reason": _("Reason"),
    "approved_at": _("Approved At"),
    "created_at": _("Created At"),
    "commission_amount": _("Commission"),
    "days_overdue": _("Days Overdue"),
    "invoiced_amount": _("Invoiced"),
    "uninvoiced_amount": _("Not Yet Invoiced"),
    "payment_term": _("Payment Terms"),
    "credited_amount": _("Credited"),
    "discount_percent": _("Cash Discount %"),
    "discount_until": _("Cash Discount Until"),
    "cash_discount": _("Take Cash Discount"),
    "discount_amount": _("Cash Discount"),
    "is_opening": _("Opening Balance"),
    "kind_label": _("Kind"),
    "rebate": _("Rebate"),
    "receipt": _("Receipt"),
}


def _price_json():
    """Suggested unit price for a line: customer price list → volume price breaks → sale price."""
    from app.base_data.models import Product
    from app.crm.models import EndCustomer

    product_id = parse_id(request.args.get("product"))
    try:
        qty = Decimal(request.args.get("qty") or "0")
    except ArithmeticError:
        qty = None
    if product_id is None or qty is None:
        return jsonify(message=gettext("The request is not correct.")), 400
    product = db.session.get(Product, product_id)
    if product is None or not product.enabled:
        return jsonify(message=gettext("Not found.")), 404
    customer_id = parse_id(request.args.get("end_customer"))
    customer = get_in_scope(db.session, EndCustomer, customer_id) if customer_id else None
    try:
        day = dt.date.fromisoformat(request.args.get("date") or "") if request.args.get("date") else local_today()
        pricing = services.line_pricing(db.session, customer, product, qty, day)
    except ValueError:
        return jsonify(message=gettext("Dates are written YYYY-MM-DD.")), 400
    except BusinessError as e:
        return jsonify(message=str(e)), e.status_code
    promotion = pricing.promotion
    return jsonify(
        price=str(pricing.unit_price),
        discount=str(pricing.discount),
        amount=str(pricing.amount),
        promotion_id=promotion.id if promotion else None,
        promotion=f"{promotion.name}（{promotion.rule_text}）" if promotion else "",
        floor_price=str(product.floor_price),
    )


class FilterNotInPool(BaseFilter):
    """Documents are written for customers someone owns, never for pool customers."""

    name = ""

    def apply(self, query, value):
        return query.filter(self.model.in_pool.is_(False))


CUSTOMER_PICKERS = {"end_customer": [["id", FilterNotInPool, None]], "channel": [["id", FilterNotInPool, None]]}
# an order picks among the payment terms in use (the service refuses a disabled one too)
ORDER_PICKERS = {**CUSTOMER_PICKERS, "payment_term": [["enabled", FilterEqual, True]]}


class PricedLinesMixin:
    """Quotation and order lines: product, quantity, price, discount, and the promotion 促销 that priced the line
    (filled in by the price suggestion; the server checks that it applies)."""

    line_columns = [
        *DEFAULT_LINE_COLUMNS[:4],
        LineColumn("promotion_id", _("Promotion"), "choice"),
        DEFAULT_LINE_COLUMNS[4],
    ]

    def line_choices(self, column):
        if column.key != "promotion_id":
            return super().line_choices(column)
        from app.core.formatting import local_today
        from app.promotions.services import active_promotions

        return [(p.id, f"{p.name}（{p.rule_text}）") for p in active_promotions(db.session, local_today())]


class QuotationView(PricedLinesMixin, LinesFormMixin, DocumentViewMixin, BaseModelView):
    datamodel = SQLAInterface(m.Quotation)
    class_permission_name = "Quotation"
    title = _("Quotations")
    list_columns = ["number", "doc_date", "end_customer", "project_name", "total_amount", "status_label", "owner"]
    add_columns = edit_columns = ["end_customer", "channel", "doc_date", "valid_until", "project_name", "owner", "note"]
    show_columns = [
        "number",
        "doc_date",
        "end_customer",
        "channel",
        "project_name",
        "valid_until",
        "total_amount",
        "status_label",
        "order",
        "owner",
        "note",
    ]
    search_columns = ["number", "project_name", "end_customer", "doc_date", "status", "owner"]
    order_columns = ["number", "doc_date", "total_amount"]
    base_order = ("id", "desc")
    label_columns = {**LABELS, "total_amount": _("Quoted Amount"), "order": _("Converted to order")}
    export_columns = [
        "number",
        "doc_date",
        "end_customer.name",
        "project_name",
        "total_amount",
        "status_label",
        "owner.username",
    ]
    list_totals = ["total_amount"]
    price_endpoint = "price"
    add_form_query_rel_fields = edit_form_query_rel_fields = CUSTOMER_PICKERS
    show_line_columns = [
        ("product", _("Product"), ""),
        ("qty", _("Quantity"), "text-right"),
        ("unit_price", _("Unit Price"), "text-right"),
        ("discount", _("Discount %"), "text-right"),
        ("amount", _("Amount"), "text-right"),
        ("promotion", _("Promotion"), ""),
        ("note", _("Note"), ""),
    ]

    def save_document(self, item, rows, is_new):
        services.save_quotation(db.session, item, rows)

    def ensure_editable(self, item):
        services.ensure_quotation_open(item)

    def pre_delete(self, item):
        services.ensure_quotation_deletable(item)
        super().pre_delete(item)

    @expose("/price")
    @has_access
    def price(self):
        return _price_json()

    def document_buttons(self, item):
        buttons = []
        if item.status == m.OPEN and self.may("write"):
            buttons.append(self.button("edit", _("Edit"), "fa-edit", post=False, url=url_for(".edit", pk=item.id)))
            buttons.append(
                self.button(
                    "convert",
                    _("Convert to order"),
                    "fa-exchange",
                    url=self.action_url("convert", item.id),
                    style="primary",
                    confirm=_("Convert this quotation to an order? The quotation can no longer be changed."),
                )
            )
        if item.order_id:
            buttons.append(
                self.button(
                    "open_order",
                    _("Open order"),
                    "fa-file-text-o",
                    post=False,
                    url=url_for("SalesOrderView.show", pk=item.order_id),
                )
            )
        return buttons

    @fab_action("convert", _("Convert to order"), None, "fa-exchange", multiple=False)
    def convert(self, item):
        item = item[0] if isinstance(item, list) else item
        try:
            order = services.convert_quotation(db.session, item, g.user)
            db.session.commit()
        except BusinessError as e:
            db.session.rollback()
            flash(str(e), "danger")
            return redirect(url_for(".show", pk=item.id))
        flash(gettext("Order %(no)s created from the quotation.", no=order.number), "success")
        return redirect(url_for("SalesOrderView.show", pk=order.id))


class OrderColumnsMixin:
    """Columns of an order shared by the order list, receivables and received lists."""

    datamodel = SQLAInterface(m.SalesOrder)
    label_columns = LABELS
    search_columns = [
        "number",
        "project_name",
        "order_type",
        "doc_date",
        "owner",
        "end_customer",
        "channel",
        "status",
        "payment_status",
    ]
    order_columns = ["number", "doc_date", "due_date", "total_amount", "received_amount"]
    base_order = ("id", "desc")
    choice_fields = {}
    add_form_query_rel_fields = edit_form_query_rel_fields = CUSTOMER_PICKERS

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # computed amounts are shown like the money columns
        for key in ("net_received", "outstanding_amount", "commission_amount", "uninvoiced_amount"):
            self.formatters_columns[key] = format_money


class SalesOrderView(
    PrintableMixin, OrderColumnsMixin, PricedLinesMixin, LinesFormMixin, WorkflowViewMixin, BaseModelView
):
    class_permission_name = "SalesOrder"
    title = _("Sales Orders")
    list_columns = [
        "number",
        "doc_date",
        "end_customer",
        "project_name",
        "order_type",
        "total_amount",
        "net_received",
        "payment_status_label",
        "status_label",
        "owner",
    ]
    add_columns = edit_columns = [
        "end_customer",
        "channel",
        "order_type",
        "doc_date",
        "project_name",
        "payment_term",
        "payment_days",
        "owner",
        "note",
    ]
    show_columns = [
        "number",
        "doc_date",
        "end_customer",
        "channel",
        "order_type",
        "project_name",
        "payment_term",
        "payment_days",
        "due_date",
        "discount_percent",
        "discount_until",
        "credited_amount",
        "total_amount",
        "net_received",
        "outstanding_amount",
        "invoiced_amount",
        "uninvoiced_amount",
        "payment_status_label",
        "status_label",
        "price_exception",
        "credit_override_reason",
        "owner",
        "approved_at",
        "note",
    ]
    show_line_columns = [
        ("product", _("Product"), ""),
        ("qty", _("Quantity"), "text-right"),
        ("unit_price", _("Unit Price"), "text-right"),
        ("discount", _("Discount %"), "text-right"),
        ("amount", _("Amount"), "text-right"),
        ("promotion", _("Promotion"), ""),
        ("floor_price", _("Red-line Price"), "text-right"),
        ("shipped_qty", _("Shipped"), "text-right"),
        ("returned_qty", _("Returned"), "text-right"),
        ("price_accepted_by", _("Price Accepted By"), ""),
    ]
    list_totals = [
        "total_amount",
        ("net_received", _("Received Amount"), lambda o: o.received_amount - o.refunded_amount),
        ("outstanding_amount", _("Outstanding"), lambda o: o.outstanding_amount),
    ]
    price_endpoint = "price"
    add_form_query_rel_fields = edit_form_query_rel_fields = ORDER_PICKERS
    add_form_extra_fields = edit_form_extra_fields = {
        "payment_days": IntegerField(
            _("Payment Terms (days)"),
            default=0,
            validators=[Optional(), NumberRange(0, 3650)],
            description=_(
                "Days after the order date when no payment term is chosen; receivables age from the due date."
            ),
            widget=BS3TextFieldWidget(),
        )
    }
    workflow_services = {
        "submit": services.submit_order,
        "approve": services.approve_order,
        "reject": services.reject_order,
        "reopen": services.reopen_order,
    }
    # export: one row per line, the order's columns repeated (read as plain rows, see _export_query)
    export_line_columns = [
        ("number", _("Number"), excel.TEXT),
        ("doc_date", _("Date"), excel.DATE),
        ("end_customer", _("End Customer"), excel.TEXT),
        ("channel", _("Channel"), excel.TEXT),
        ("project_name", _("Project"), excel.TEXT),
        ("order_type", _("Order Type"), excel.TEXT),
        ("status", _("Status"), excel.TEXT),
        ("owner", _("Salesperson"), excel.TEXT),
        ("line_no", _("Line"), excel.INT),
        ("model_no", _("Model No."), excel.TEXT),
        ("product", _("Product"), excel.TEXT),
        ("qty", _("Quantity"), excel.QTY),
        ("unit_price", _("Unit Price"), excel.MONEY),
        ("discount", _("Discount %"), excel.DECIMAL),
        ("amount", _("Amount"), excel.MONEY),
        ("total_amount", _("Contract Amount"), excel.MONEY),
        ("net_received", _("Received Amount"), excel.MONEY),
    ]

    def save_document(self, item, rows, is_new):
        services.save_order(db.session, item, rows, g.user)

    def ensure_editable(self, item):
        services.ensure_editable(item, g.user)

    def pre_delete(self, item):
        services.ensure_deletable(item, g.user)
        super().pre_delete(item)

    @expose("/price")
    @has_access
    def price(self):
        return _price_json()

    # ---- export with lines
    def _export_columns(self):
        return [excel.Column(key, label, kind) for key, label, kind in self.export_line_columns]

    def _export_query(self, selected_ids=None):
        """Rows, not objects: a million lines are read in one streamed SELECT with the names joined in and the
        order's shipped totals as window sums, so the export runs near the speed of writing the file."""
        from flask_appbuilder.security.sqla.models import User
        from sqlalchemy import Float, cast, select, type_coerce
        from sqlalchemy.orm import aliased

        from app.base_data.models import OrderType, Product
        from app.crm.models import ChannelCustomer, EndCustomer

        o, ln = m.SalesOrder, m.SalesOrderLine
        customer, channel = aliased(EndCustomer), aliased(ChannelCustomer)
        ids = self._filtered_query(selected_ids).order_by(None).with_entities(o.id)

        def number(column):
            # numbers go into the sheet as floats anyway: sent as floats by the database, no Decimal is made for
            # each of millions of values (-7 % on PostgreSQL); SQLAlchemy cannot CAST to a float on MariaDB/MySQL,
            # where its result processor turns the driver's Decimal into a float instead
            return type_coerce(column, Float) if db.session.get_bind().dialect.name == "mysql" else cast(column, Float)

        stmt = (
            select(
                o.number,
                o.doc_date,
                customer.name,
                channel.name,
                o.project_name,
                OrderType.name,
                o.status,
                User.username,
                ln.line_no,
                Product.model_no,
                Product.name,
                number(ln.qty),
                number(ln.unit_price),
                number(ln.discount),
                number(ln.amount),
                number(o.total_amount),
                number(o.received_amount - o.refunded_amount),
                o.payment_status,
                number(ln.shipped_qty),
                ln.order_id,
            )
            .select_from(ln)
            .join(o, o.id == ln.order_id)
            .join(customer, customer.id == o.end_customer_id)
            .join(Product, Product.id == ln.product_id)
            .outerjoin(channel, channel.id == o.channel_id)
            .outerjoin(OrderType, OrderType.id == o.order_type_id)
            .outerjoin(User, User.id == o.owner_id)
            .where(ln.order_id.in_(ids.subquery().select()))
            .order_by(o.id.desc(), ln.line_no)  # the list's order; read along the keys, no sort of the lines
        )
        # nothing else is queried while these rows stream, so MariaDB may stream too
        result = db.session.execute(stmt.execution_options(yield_per=5000, stream_results=True))
        labels: dict = {}

        def order_rows(rows):
            # an order's lines arrive together: its status (shipped totals) is known before its first row is written
            ordered = sum((r[11] or 0) for r in rows)
            shipped = sum((r[18] or 0) for r in rows)
            # floats here: a thousandth below counts as equal
            state = (
                m.ALL_SHIPPED
                if ordered and shipped >= ordered - 0.0005
                else m.PART_SHIPPED
                if shipped > 0
                else m.NOT_SHIPPED
            )
            key = (rows[0][6], state, rows[0][17])
            label = labels.get(key)
            if label is None:
                label = labels[key] = str(m.status_label_for(*key))
            for i, r in enumerate(rows):
                yield (*r[:6], label, *r[7:15], None if i else r[15], None if i else r[16])

        current, pending = None, []
        for row in result:
            if row[19] != current and pending:
                yield from order_rows(pending)
                pending = []
            current = row[19]
            pending.append(row)
        if pending:
            yield from order_rows(pending)

    def _totals_row(self, selected_ids=None):
        totals = {key: value for key, _label, value in self.totals(selected_ids)}
        row = [None] * len(self.export_line_columns)
        row[0] = gettext("Total")
        for i, (key, *_rest) in enumerate(self.export_line_columns):
            if key in totals:
                row[i] = totals[key]
        lines_total = (
            self._filtered_query(selected_ids)
            .order_by(None)
            .join(m.SalesOrderLine, m.SalesOrderLine.order_id == m.SalesOrder.id)
            .with_entities(func.coalesce(func.sum(m.SalesOrderLine.amount), 0))
            .scalar()
        )
        row[[c[0] for c in self.export_line_columns].index("amount")] = Decimal(str(lines_total)).quantize(
            Decimal("0.01")
        )
        return [tuple(row)]

    # ---- buttons of the show page, by state and permission
    def document_buttons(self, item):
        buttons = []
        if item.status in (workflow.DRAFT, workflow.REJECTED, workflow.SUBMITTED) and self.may("write"):
            if workflow.owner_may_edit(item, g.user):
                buttons.append(self.button("edit", _("Edit"), "fa-edit", post=False, url=url_for(".edit", pk=item.id)))
        buttons += self.workflow_buttons(item)
        sm = self.appbuilder.sm
        if item.status != workflow.CANCELLED and item.outstanding_amount > 0 and sm.has_access("can_write", "Receipt"):
            buttons.append(
                self.button(
                    "receive",
                    _("Add Receipt"),
                    "fa-money",
                    post=False,
                    url=url_for("ReceiptView.add", _flt_0_order=item.id),
                )
            )
        if item.net_received > 0 and sm.has_access("can_write", "Refund"):
            buttons.append(
                self.button(
                    "refund", _("Refund"), "fa-reply", post=False, url=url_for("RefundView.add", _flt_0_order=item.id)
                )
            )
        if (
            item.channel_id
            and item.status == workflow.APPROVED
            and item.net_received > Decimal(item.commission_base or 0)
            and self.may("write")  # the apply_commission action's own permission
        ):
            buttons.append(
                self.button(
                    "apply_commission",
                    _("Apply for Commission"),
                    "fa-percent",
                    url=self.action_url("apply_commission", item.id),
                )
            )
        if item.status != workflow.APPROVED and item.status != workflow.CANCELLED and self.may("approve"):
            buttons.append(
                self.button(
                    "credit_override",
                    _("Credit override"),
                    "fa-unlock",
                    post=False,
                    url=url_for(".credit_override", pk=item.id),
                )
            )
        # areas that build on sales (inventory: ship, return) add their buttons and sections through hooks
        for extra in current_app.extensions.get("sales_order_buttons", []):
            buttons += extra(self, item)
        if item.status != workflow.CANCELLED and self.may("write"):
            buttons.append(
                self.button(
                    "cancel", _("Cancel"), "fa-ban", post=False, url=url_for(".cancel", pk=item.id), style="warning"
                )
            )
        return buttons

    def document_sections(self, item):
        return [section(db.session, item) for section in current_app.extensions.get("sales_order_sections", [])]

    def print_content(self, item):
        columns, rows = priced_lines(item.lines)
        return PrintDocument(
            title=_("Sales Order"),
            number=item.number,
            doc_date=item.doc_date,
            columns=columns,
            rows=rows,
            fields=customer_fields(item.end_customer)
            + [
                (_("Project"), item.project_name),
                (_("Channel"), item.channel.name if item.channel else None),
                (_("Salesperson"), person(item.owner)),
                (_("Payment Terms"), item.payment_term.name if item.payment_term else None),
                (_("Due Date"), item.due_date.isoformat() if item.due_date else None),
            ],
            amount=item.total_amount,
            signatures=[_("Prepared by"), _("Reviewed by"), _("Customer (signature and seal)")],
            note=item.note,
        )

    @fab_action("apply_commission", _("Apply for Commission"), None, "fa-percent", multiple=False)
    def apply_commission(self, item):
        item = item[0] if isinstance(item, list) else item
        try:
            commission = services.apply_commission(db.session, item, g.user)
            db.session.commit()
        except BusinessError as e:
            db.session.rollback()
            flash(str(e), "danger")
            return redirect(url_for(".show", pk=item.id))
        flash(gettext("Commission %(no)s submitted for approval.", no=commission.number), "success")
        return redirect(url_for("CommissionView.show", pk=commission.id))

    @expose("/cancel/<int:pk>", methods=["GET", "POST"])
    @has_access
    def cancel(self, pk):
        return self.comment_action(
            pk,
            lambda item, comment: services.cancel_order(db.session, item, g.user, comment),
            title=gettext("Cancel order"),
            done=gettext("Order cancelled."),
            required=False,
            confirm=gettext("Cancel this order? This cannot be undone."),
        )

    @expose("/credit_override/<int:pk>", methods=["GET", "POST"])
    @has_access
    def credit_override(self, pk):
        return self.comment_action(
            pk,
            lambda item, comment: services.override_credit(db.session, item, g.user, comment),
            title=gettext("Credit override"),
            done=gettext("Credit override recorded."),
            required=True,
        )


def customer_fields(customer) -> list[tuple]:
    """The customer block of a printed sales document: name, contact, phone, address."""
    contact, phone = party_contact(customer)
    return [
        (_("End Customer"), customer.name if customer else None),
        (_("Contacts"), contact),
        (_("Phone"), phone),
        (_("Address"), customer.address if customer else None),
    ]


class FilterReceivable(BaseFilter):
    """应收: approved orders with money still to come."""

    name = ""

    def apply(self, query, value):
        o = self.model
        return query.filter(
            o.status == workflow.APPROVED,
            o.outstanding_amount > services.HALF_CENT,
        )


class FilterReceived(BaseFilter):
    """已收: orders that received money."""

    name = ""

    def apply(self, query, value):
        o = self.model
        return query.filter(o.received_amount - o.refunded_amount > services.HALF_CENT)


class ReceivableView(OrderColumnsMixin, BaseModelView):
    """应收目录 / 催款: what customers still owe, oldest due date first; 催款 records a follow-up in one click."""

    class_permission_name = "Receivable"
    title = _("Receivables")
    base_permissions = ["can_read", "can_dun"]
    base_filters = [["id", FilterReceivable, None]]
    base_order = ("due_date", "asc")
    search_columns = [*OrderColumnsMixin.search_columns, "due_date"]
    list_columns = [
        "number",
        "doc_date",
        "due_date",
        "days_overdue",
        "end_customer",
        "project_name",
        "total_amount",
        "net_received",
        "outstanding_amount",
        "owner",
    ]
    show_columns = list_columns
    list_totals = SalesOrderView.list_totals
    export_columns = [
        "number",
        "doc_date",
        "due_date",
        "days_overdue",
        "end_customer.name",
        "project_name",
        "total_amount",
        "net_received",
        "outstanding_amount",
        "owner.username",
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns["days_overdue"] = lambda v: v or ""
        # each customer links to its statement of account
        self.formatters_columns["end_customer"] = lambda c: (
            Markup('<a href="%s" title="%s">%s</a>')
            % (url_for("ReceivableView.statement", customer_id=c.id), gettext("Statement of Account"), c.name)
            if c is not None
            else ""
        )

    def quick_filters(self):
        """催款清单: overdue, and due within 7 or 30 days (FAB filters: 1 = after, 2 = before)."""
        today = local_today()
        day = dt.timedelta(days=1)
        link = lambda **flt: url_for(".list", **flt)  # noqa: E731
        return [
            (_("Overdue"), link(_flt_2_due_date=today.isoformat())),
            (
                _("Due within 7 days"),
                link(_flt_1_due_date=(today - day).isoformat(), _flt_2_due_date=(today + 8 * day).isoformat()),
            ),
            (
                _("Due within 30 days"),
                link(_flt_1_due_date=(today - day).isoformat(), _flt_2_due_date=(today + 31 * day).isoformat()),
            ),
        ]

    @fab_action("dun", _("Payment reminder"), _("Record a payment reminder for the selected orders?"), "fa-bell")
    def dun(self, items):
        return self.run_action(
            items,
            lambda order: services.record_dunning(db.session, order, g.user),
            lambda n: gettext("%(n)s payment reminders recorded as follow-ups.", n=n),
        )

    @expose("/statement/<int:customer_id>")
    @has_access
    def statement(self, customer_id):
        """对账单 of one customer for a period (default: this year), as a page or an Excel file."""
        import datetime as dt

        from app.core.formatting import local_today
        from app.crm.models import EndCustomer

        customer = get_in_scope(db.session, EndCustomer, customer_id) if parse_id(customer_id) else None
        if customer is None:
            abort(404)
        today = local_today()
        try:
            start = dt.date.fromisoformat(request.args.get("start") or today.replace(month=1, day=1).isoformat())
            end = dt.date.fromisoformat(request.args.get("end") or today.isoformat())
            data = services.statement(db.session, customer, start, end)
        except ValueError:
            abort(400, description=gettext("Dates are written YYYY-MM-DD."))
        except BusinessError as e:
            abort(e.status_code, description=str(e))
        title = gettext("Statement of Account") + " - " + customer.name
        if request.args.get("format") == "xlsx":
            return self._statement_xlsx(title, data)
        return self.render_template("sales/statement.html", title=title, data=data)

    @staticmethod
    def _statement_xlsx(title, data):
        from io import BytesIO

        from flask import send_file

        cols = [
            excel.Column("date", gettext("Date"), excel.DATE),
            excel.Column("number", gettext("Document No."), excel.TEXT),
            excel.Column("kind", gettext("Kind"), excel.TEXT),
            excel.Column("debit", gettext("Amount Due"), excel.MONEY),
            excel.Column("credit", gettext("Amount Paid"), excel.MONEY),
            excel.Column("balance", gettext("Balance"), excel.MONEY),
        ]
        body = [(data["start"], None, gettext("Opening Balance"), None, None, data["opening"])]
        body += [(r["date"], r["number"], r["kind"], r["debit"], r["credit"], r["balance"]) for r in data["rows"]]
        body.append((data["end"], None, gettext("Closing Balance"), data["debit"], data["credit"], data["closing"]))
        return send_file(
            BytesIO(excel.xlsx_bytes(gettext("Statement of Account"), cols, body)),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{title}_{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.xlsx",
        )


class ReceivedView(OrderColumnsMixin, BaseModelView):
    """已收目录: orders that received money, with the commission on them."""

    class_permission_name = "ReceivedList"  # not "Received": that is the menu item's name
    title = _("Received")
    base_permissions = ["can_read"]
    base_filters = [["id", FilterReceived, None]]
    list_columns = [
        "number",
        "doc_date",
        "end_customer",
        "channel",
        "total_amount",
        "net_received",
        "outstanding_amount",
        "commission_amount",
        "payment_status_label",
        "owner",
    ]
    show_columns = list_columns
    list_totals = SalesOrderView.list_totals
    export_columns = [
        "number",
        "doc_date",
        "end_customer.name",
        "channel.name",
        "total_amount",
        "net_received",
        "outstanding_amount",
        "commission_amount",
        "payment_status_label",
        "owner.username",
    ]

    def total_labels(self):
        return super().total_labels() + [("commission_amount", _("Commission"))]

    def totals(self, selected_ids=None):
        rows = super().totals(selected_ids)
        ids = self._filtered_query(selected_ids).order_by(None).with_entities(m.SalesOrder.id).subquery()
        commission = (
            db.session.query(func.coalesce(func.sum(m.Commission.amount), 0))
            .filter(m.Commission.order_id.in_(db.session.query(ids.c.id)), m.Commission.status == workflow.APPROVED)
            .scalar()
        )
        return rows + [("commission_amount", _("Commission"), Decimal(str(commission)).quantize(Decimal("0.01")))]


class MoneyDocView(BaseModelView):
    """Receipts and refunds: posted when saved, corrected by a new document, never edited."""

    exclude_route_methods = {"edit"}
    label_columns = LABELS
    base_order = ("id", "desc")
    list_totals = ["amount"]

    def _hidden_for_user(self):
        return ["owner"]  # the money belongs to the order's salesperson

    def post_add_redirect(self):
        return redirect(url_for(f"{self.endpoint}.list"))


class ReceiptView(PrintableMixin, DocumentViewMixin, MoneyDocView):
    datamodel = SQLAInterface(m.Receipt)
    class_permission_name = "Receipt"
    title = _("Receipts")
    list_columns = ["number", "doc_date", "order", "order.end_customer.name", "amount", "method_label", "owner", "note"]
    add_columns = ["order", "doc_date", "amount", "method", "cash_discount", "note"]
    show_columns = [
        "number",
        "doc_date",
        "order",
        "amount",
        "method_label",
        "discount_amount",
        "owner",
        "note",
        "created_at",
    ]
    description_columns = {
        "cash_discount": _(
            "When the order's payment terms offer a cash discount and this receipt is in time: the receipt settles "
            "amount ÷ (1 − discount %). Paying the whole balance less the discount in time takes it by itself."
        )
    }
    search_columns = ["number", "order", "doc_date", "method", "owner", "amount"]
    order_columns = ["number", "doc_date", "amount"]
    choice_fields = {"method": m.PAYMENT_METHODS}
    export_columns = [
        "number",
        "doc_date",
        "order.number",
        "order.end_customer.name",
        "amount",
        "method_label",
        "discount_amount",
        "owner.username",
        "note",
    ]

    def pre_add(self, item):
        super().pre_add(item)
        self._refuse_cleanly(lambda i: services.post_receipt(db.session, i), item)

    def pre_delete(self, item):
        services.delete_receipt(db.session, item, g.user)

    def print_content(self, item):
        order = item.order
        discount = item.discount_amount or 0
        return PrintDocument(
            title=_("Receipt Slip"),
            number=item.number,
            doc_date=item.doc_date,
            columns=[
                PrintColumn(_("Sales Order")),
                PrintColumn(_("Project")),
                PrintColumn(_("Contract Amount"), MONEY),
                PrintColumn(_("Payment Method")),
                PrintColumn(_("Amount"), MONEY, total=True),
            ],
            rows=[[order.number, order.project_name, order.total_amount, item.method_label, item.amount]],
            fields=customer_fields(order.end_customer)
            + [
                (_("Salesperson"), person(item.owner)),
                (_("Cash Discount"), format_money(discount) if discount else None),
            ],
            amount=item.amount,
            signatures=[_("Prepared by"), _("Cashier"), _("Paid by (signature)")],
            note=item.note,
        )


class RefundView(MoneyDocView):
    datamodel = SQLAInterface(m.Refund)
    class_permission_name = "Refund"
    title = _("Refunds")
    exclude_route_methods = {"edit", "delete"}
    list_columns = ["number", "doc_date", "order", "order.end_customer.name", "amount", "reason", "owner"]
    add_columns = ["order", "doc_date", "amount", "reason"]
    show_columns = ["number", "doc_date", "order", "amount", "reason", "owner", "created_at"]
    search_columns = ["number", "order", "doc_date", "owner", "amount"]
    order_columns = ["number", "doc_date", "amount"]
    export_columns = [
        "number",
        "doc_date",
        "order.number",
        "order.end_customer.name",
        "amount",
        "reason",
        "owner.username",
    ]

    def pre_add(self, item):
        super().pre_add(item)
        self._refuse_cleanly(lambda i: services.post_refund(db.session, i, g.user), item)


class CustomerPriceView(BaseModelView):
    datamodel = SQLAInterface(m.CustomerPrice)
    class_permission_name = "CustomerPrice"
    title = _("Customer Prices")
    list_columns = ["end_customer", "product", "price", "owner", "note"]
    add_columns = edit_columns = ["end_customer", "product", "price", "note"]
    show_columns = ["end_customer", "product", "price", "owner", "note", "updated_at"]
    search_columns = ["end_customer", "product", "owner"]
    order_columns = ["price"]
    label_columns = {
        **LABELS,
        "product": _("Product"),
        "price": _("Price"),
        "updated_at": _("Updated At"),
    }
    validator = staticmethod(services.validate_customer_price)

    def _hidden_for_user(self):
        return ["owner"]  # follows the customer


class PriceBreakView(BaseModelView):
    datamodel = SQLAInterface(m.PriceBreak)
    class_permission_name = "PriceBreak"
    title = _("Volume Prices")
    list_columns = ["product", "min_qty", "unit_price"]
    add_columns = edit_columns = show_columns = ["product", "min_qty", "unit_price"]
    search_columns = ["product"]
    order_columns = ["min_qty"]
    base_order = ("min_qty", "asc")
    label_columns = {"product": _("Product"), "min_qty": _("From Quantity"), "unit_price": _("Unit Price")}
    validator = staticmethod(services.validate_price_break)


class SalesOrderLineView(BaseModelView):
    """销售明细: the lines of orders, read-only (shown on the product page)."""

    datamodel = SQLAInterface(m.SalesOrderLine)
    class_permission_name = "SalesOrderLine"
    title = _("Sales Details")
    base_permissions = ["can_read"]
    list_columns = [
        "order",
        "order.doc_date",
        "order.end_customer.name",
        "product",
        "qty",
        "unit_price",
        "discount",
        "amount",
        "shipped_qty",
    ]
    show_columns = list_columns
    search_columns = ["order", "product"]
    label_columns = {
        "order": _("Sales Order"),
        "order.doc_date": _("Date"),
        "order.end_customer.name": _("End Customer"),
        "product": _("Product"),
        "qty": _("Quantity"),
        "unit_price": _("Unit Price"),
        "discount": _("Discount %"),
        "amount": _("Amount"),
        "shipped_qty": _("Shipped"),
    }
    list_totals = ["amount"]

    def _declare(self):
        super()._declare()
        # lines are scoped through their order
        self.base_filters = list(self.base_filters) + [["id", FilterLineInScope, None]]


class FilterLineInScope(BaseFilter):
    name = ""

    def apply(self, query, value):
        from app.core.scope import current_user_id, sees_all

        if sees_all():
            return query
        return query.filter(self.model.order.has(m.SalesOrder.owner_id == current_user_id()))


class CommissionRateView(BaseModelView):
    datamodel = SQLAInterface(m.CommissionRate)
    class_permission_name = "CommissionRate"
    title = _("Commission Rates")
    list_columns = ["level", "rate", "note"]
    add_columns = edit_columns = show_columns = ["level", "rate", "note"]
    label_columns = {"level": _("Channel Level"), "rate": _("Rate %"), "note": _("Note")}
    validator = staticmethod(services.validate_commission_rate)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns["rate"] = lambda v: f"{v}%"


class CommissionView(WorkflowViewMixin, BaseModelView):
    datamodel = SQLAInterface(m.Commission)
    class_permission_name = "Commission"
    title = _("Commissions")
    exclude_route_methods = {"add", "edit", "delete"}
    base_permissions = ["can_read", "can_approve", "can_pay"]
    list_columns = [
        "number",
        "doc_date",
        "channel",
        "order",
        "kind_label",
        "base_amount",
        "rate",
        "amount",
        "status_label",
        "paid_at",
        "owner",
    ]
    show_columns = list_columns + ["paid_by", "payout_note", "note"]
    search_columns = ["number", "channel", "order", "doc_date", "status", "kind", "owner", "paid_at"]
    order_columns = ["number", "doc_date", "amount"]
    base_order = ("id", "desc")
    label_columns = {
        **LABELS,
        "kind": _("Kind"),
        "kind_label": _("Kind"),
        "base_amount": _("Received Base"),
        "rate": _("Rate %"),
        "amount": _("Commission"),
        "paid_at": _("Paid At"),
        "paid_by": _("Paid By"),
        "payout_note": _("Payout Note"),
    }
    list_totals = ["base_amount", "amount"]
    export_columns = [
        "number",
        "doc_date",
        "channel.name",
        "order.number",
        "kind_label",
        "base_amount",
        "rate",
        "amount",
        "status_label",
        "paid_at",
        "owner.username",
    ]
    workflow_services = {
        "reject": services.reject_commission,
        "approve": services.approve_commission,
    }

    def workflow_buttons(self, item):
        # a rejected claim frees its base for a new claim; it does not go back to draft
        return [b for b in super().workflow_buttons(item) if b["name"] not in ("reopen", "submit")]

    def document_buttons(self, item):
        buttons = self.workflow_buttons(item)
        if item.status == workflow.APPROVED and not item.paid_at and self.may("pay"):
            buttons.append(
                self.button(
                    "pay", _("Record payout"), "fa-money", post=False, url=url_for(".pay", pk=item.id), style="primary"
                )
            )
        return buttons

    # claims are submitted when applied for on the order, and a rejection is final (its base is freed)
    submit = None
    reopen = None

    @expose("/pay/<int:pk>", methods=["GET", "POST"])
    @has_access
    def pay(self, pk):
        return self.comment_action(
            pk,
            lambda item, comment: services.pay_commission(db.session, item, g.user, comment),
            title=gettext("Record payout"),
            done=gettext("Payout recorded."),
            required=False,
            comment_label=gettext("Payout Note"),
        )


class ExpenseView(WorkflowViewMixin, BaseModelView):
    datamodel = SQLAInterface(m.Expense)
    class_permission_name = "Expense"
    title = _("Expense Claims")
    list_columns = ["number", "doc_date", "expense_type", "amount", "channel", "status_label", "owner", "note"]
    add_columns = edit_columns = ["doc_date", "expense_type", "amount", "channel", "owner", "note"]
    show_columns = ["number", "doc_date", "expense_type", "amount", "channel", "status_label", "owner", "note"]
    search_columns = ["number", "doc_date", "owner", "expense_type", "status", "channel", "amount"]
    order_columns = ["number", "doc_date", "amount"]
    base_order = ("id", "desc")
    label_columns = {**LABELS, "expense_type": _("Expense Type"), "expense_type.name": _("Expense Type")}
    list_totals = ["amount"]
    export_columns = [
        "number",
        "doc_date",
        "expense_type.name",
        "amount",
        "channel.name",
        "status_label",
        "owner.username",
        "note",
    ]
    validator = staticmethod(services.validate_expense)
    workflow_services = {"submit": services.submit_expense}

    def pre_update(self, item):
        self._refuse_cleanly(lambda i: services.ensure_expense_editable(i, g.user), item)
        super().pre_update(item)

    def pre_delete(self, item):
        services.ensure_expense_editable(item, g.user)
        super().pre_delete(item)

    def document_buttons(self, item):
        buttons = []
        if item.status in (workflow.DRAFT, workflow.REJECTED) and self.may("write"):
            buttons.append(self.button("edit", _("Edit"), "fa-edit", post=False, url=url_for(".edit", pk=item.id)))
        return buttons + self.workflow_buttons(item)

    @expose("/costs/")
    @has_access
    def costs(self):
        """累计费用: commissions + expenses per salesperson and per channel."""
        return self.render_template(
            "sales/costs.html",
            title=gettext("Accumulated Costs"),
            by_owner=services.accumulated_costs(db.session, "owner"),
            by_channel=services.accumulated_costs(db.session, "channel"),
        )


class SalesInvoiceView(LinesFormMixin, DocumentViewMixin, BaseModelView):
    """销售发票: issued once for one customer's approved orders; a wrong one is voided (deleted) by Finance."""

    datamodel = SQLAInterface(m.SalesInvoice)
    class_permission_name = "SalesInvoice"
    title = _("Sales Invoices")
    exclude_route_methods = {"edit"}
    list_columns = ["invoice_no", "invoice_date", "end_customer", "amount", "net_amount", "tax_amount", "owner"]
    add_columns = ["invoice_no", "invoice_date", "end_customer", "tax_rate", "note"]
    show_columns = [
        "invoice_no",
        "invoice_date",
        "end_customer",
        "tax_rate",
        "amount",
        "net_amount",
        "tax_amount",
        "owner",
        "note",
        "created_at",
    ]
    search_columns = ["invoice_no", "invoice_date", "end_customer", "owner", "amount"]
    order_columns = ["invoice_no", "invoice_date", "amount"]
    base_order = ("invoice_date", "desc")
    label_columns = {
        **LABELS,
        "invoice_no": _("Invoice No."),
        "invoice_date": _("Invoice Date"),
        "tax_rate": _("Tax Rate %"),
        "amount": _("Amount with Tax"),
        "net_amount": _("Amount without Tax"),
        "tax_amount": _("Tax"),
    }
    list_totals = ["amount", "net_amount", "tax_amount"]
    add_form_query_rel_fields = {"end_customer": [["id", FilterNotInPool, None]]}
    line_columns = [
        LineColumn("order_id", _("Sales Order"), "choice"),
        LineColumn("amount", _("Amount with Tax"), "money"),
        LineColumn("note", _("Note"), "text"),
    ]
    show_line_columns = [
        ("order", _("Sales Order"), ""),
        ("amount", _("Amount with Tax"), "text-right"),
        ("note", _("Note"), ""),
    ]

    def line_choices(self, column):
        """Approved orders in scope with something left to invoice."""
        from app.core.scope import scope_query

        orders = (
            scope_query(db.session.query(m.SalesOrder), m.SalesOrder)
            .filter(
                m.SalesOrder.status == workflow.APPROVED,
                m.SalesOrder.total_amount - m.SalesOrder.invoiced_amount > services.HALF_CENT,
            )
            .order_by(m.SalesOrder.doc_date.desc())
            .limit(500)
        )
        return [(o.id, f"{o.number} {o.end_customer.name} {format_money(o.uninvoiced_amount)}") for o in orders]

    def save_document(self, item, rows, is_new):
        services.issue_invoice(db.session, item, rows, g.user)

    def pre_delete(self, item):
        services.void_invoice(db.session, item, g.user)


class ReceivableCreditView(BaseModelView):
    """应收冲减: cash discounts and settled rebates, read-only (they come and go with their receipt or rebate)."""

    datamodel = SQLAInterface(m.ReceivableCredit)
    class_permission_name = "ReceivableCredit"
    title = _("Receivable Credits")
    exclude_route_methods = {"add", "edit", "delete"}
    list_columns = ["number", "doc_date", "kind_label", "order", "order.end_customer.name", "amount", "owner", "note"]
    show_columns = ["number", "doc_date", "kind_label", "order", "receipt", "rebate", "amount", "owner", "note"]
    search_columns = ["number", "doc_date", "kind", "order", "owner", "amount"]
    order_columns = ["number", "doc_date", "amount"]
    base_order = ("id", "desc")
    label_columns = {**LABELS, "kind": _("Kind")}
    choice_fields = {"kind": m.CREDIT_KINDS}
    list_totals = ["amount"]
    export_columns = [
        "number",
        "doc_date",
        "kind_label",
        "order.number",
        "order.end_customer.name",
        "amount",
        "owner.username",
        "note",
    ]


REBATE_LABELS = {
    **LABELS,
    "name": _("Name"),
    "channel": _("Channel"),
    "rate": _("Rate %"),
    "threshold": _("Threshold"),
    "enabled": _("Enabled"),
    "agreement": _("Rebate Agreement"),
    "period_start": _("Period Start"),
    "period_end": _("Period End"),
    "base_amount": _("Received Base"),
    "amount": _("Rebate"),
    "settled_amount": _("Settled"),
    "unsettled_amount": _("Unsettled"),
}


class RebateAgreementView(DocumentViewMixin, BaseModelView):
    """返利协议: with one end customer or one channel; computing a period's rebate starts from here."""

    datamodel = SQLAInterface(m.RebateAgreement)
    class_permission_name = "RebateAgreement"
    title = _("Rebate Agreements")
    base_permissions = ["can_read", "can_write", "can_compute"]
    list_columns = ["name", "end_customer", "channel", "rate", "threshold", "enabled", "owner"]
    add_columns = edit_columns = ["name", "end_customer", "channel", "rate", "threshold", "enabled", "note"]
    show_columns = list_columns + ["note", "created_at"]
    search_columns = ["name", "end_customer", "channel", "enabled", "owner"]
    order_columns = ["name", "rate", "threshold"]
    base_order = ("id", "desc")
    label_columns = REBATE_LABELS
    description_columns = {
        "rate": _("Percent of what the customer paid in the period (receipts − refunds)."),
        "threshold": _("The rebate is due once the period's received amount reaches this."),
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = CUSTOMER_PICKERS
    validator = staticmethod(services.validate_rebate_agreement)
    export_columns = ["name", "end_customer.name", "channel.name", "rate", "threshold", "enabled", "owner.username"]

    def document_buttons(self, item):
        if not (item.enabled and self.may("compute")):
            return []
        return [
            self.button(
                "compute", _("Compute Rebate"), "fa-calculator", post=False, url=url_for(".compute", pk=item.id)
            )
        ]

    @expose("/compute/<int:pk>", methods=["GET", "POST"])
    @has_access
    def compute(self, pk):
        """A period's rebate: computed, submitted for approval, then shown."""
        import datetime as dt

        from app.core.formatting import local_today

        item = self._scoped_get(pk)
        if item is None:
            abort(404)
        today = local_today()
        if request.method == "POST":
            try:
                try:
                    start = dt.date.fromisoformat(request.form.get("period_start") or "")
                    end = dt.date.fromisoformat(request.form.get("period_end") or "")
                except ValueError:
                    raise BusinessError(gettext("Dates are written YYYY-MM-DD."), 400) from None
                rebate = services.compute_rebate(db.session, item, start, end, g.user, request.form.get("comment"))
                db.session.commit()
                flash(gettext("Rebate %(no)s submitted for approval.", no=rebate.number), "success")
                return redirect(url_for("RebateView.show", pk=rebate.id))
            except BusinessError as e:
                db.session.rollback()
                flash(str(e), "danger")
        last_year = today.year - 1
        return self.render_template(
            "core/action_form.html",
            title=gettext("Compute Rebate"),
            subject=str(item),
            choices=None,
            choice_label="",
            dates=[
                ("period_start", gettext("Period Start"), f"{last_year}-01-01"),
                ("period_end", gettext("Period End"), f"{last_year}-12-31"),
            ],
            comment_label=gettext("Note"),
            comment_required=False,
            submit_label=gettext("Compute Rebate"),
            back_url=self._back(pk),
        )


class RebateView(WorkflowViewMixin, BaseModelView):
    """返利单: approved through the shared workflow; approval settles it as credits on receivables."""

    datamodel = SQLAInterface(m.Rebate)
    class_permission_name = "Rebate"
    title = _("Rebates")
    exclude_route_methods = {"add", "edit", "delete"}
    base_permissions = ["can_read", "can_approve", "can_settle"]
    list_columns = [
        "number",
        "doc_date",
        "agreement",
        "period_start",
        "period_end",
        "base_amount",
        "rate",
        "amount",
        "settled_amount",
        "status_label",
        "owner",
    ]
    show_columns = list_columns + ["unsettled_amount", "note"]
    search_columns = ["number", "agreement", "doc_date", "status", "owner"]
    order_columns = ["number", "doc_date", "amount"]
    base_order = ("id", "desc")
    label_columns = REBATE_LABELS
    list_totals = ["base_amount", "amount", "settled_amount"]
    export_columns = [
        "number",
        "doc_date",
        "agreement.name",
        "period_start",
        "period_end",
        "base_amount",
        "rate",
        "amount",
        "settled_amount",
        "status_label",
        "owner.username",
    ]
    workflow_services = {"approve": services.approve_rebate, "reject": services.reject_rebate}
    submit = None
    reopen = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns["unsettled_amount"] = format_money

    def workflow_buttons(self, item):
        # computed rebates are submitted at once; a rejected one is computed again, not reopened
        return [b for b in super().workflow_buttons(item) if b["name"] not in ("reopen", "submit")]

    def document_buttons(self, item):
        buttons = self.workflow_buttons(item)
        if item.status == workflow.APPROVED and item.unsettled_amount > services.HALF_CENT and self.may("settle"):
            buttons.append(
                self.button(
                    "settle",
                    _("Credit to Receivables"),
                    "fa-check",
                    url=self.action_url("settle", item.id),
                    style="primary",
                    confirm=_("Credit this rebate to the customer's receivables? This cannot be undone."),
                )
            )
        return buttons

    @fab_action("settle", _("Credit to Receivables"), None, "fa-check", multiple=False)
    def settle(self, item):
        item = item[0] if isinstance(item, list) else item
        try:
            applied = services.settle_rebate(db.session, item, g.user)
            db.session.commit()
            flash(gettext("%(a)s credited to receivables.", a=format_money(applied)), "success")
        except BusinessError as e:
            db.session.rollback()
            flash(str(e), "danger")
        return redirect(url_for(".show", pk=item.id))
