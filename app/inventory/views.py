"""Warehouse pages: stock documents (draft → 确定), stock on hand with reservations, the ledger, alerts.
Rules live in services.py; these classes declare columns and wire buttons."""

from decimal import ROUND_HALF_UP, Decimal

from flask import g, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext, lazy_gettext as _

from app.core.documents import DocumentViewMixin, LineColumn, LinesFormMixin
from app.core.formatting import format_date, format_money, format_qty
from app.core.models import CENT
from app.core.printing import (
    MONEY,
    QTY,
    PrintableMixin,
    PrintColumn,
    PrintDocument,
    party_contact,
    person,
    product_cells,
    product_columns,
)
from app.core.scope import get_in_scope
from app.core.validation import parse_id
from app.core.views import BaseModelView
from app.extensions import db
from app.inventory import models as m, services

LABELS = {
    "number": _("Document No."),
    "doc_date": _("Date"),
    "warehouse": _("Warehouse Name"),
    "warehouse.name": _("Warehouse Name"),
    "from_warehouse": _("From Warehouse"),
    "to_warehouse": _("To Warehouse"),
    "move_type": _("Stock Move Type"),
    "contract": _("Purchase Contract"),
    "order": _("Sales Order"),
    "status": _("Status"),
    "status_label": _("Status"),
    "invoice_no": _("Invoice No."),
    "note": _("Note"),
    "posted_at": _("Confirmed At"),
    "posted_by": _("Confirmed By"),
}
QTY_LINES = [
    LineColumn("product_id", _("Product"), "product"),
    LineColumn("qty", _("Quantity"), "qty"),
    LineColumn("note", _("Note"), "text"),
]
COST_LINES = [
    LineColumn("product_id", _("Product"), "product"),
    LineColumn("qty", _("Quantity"), "qty"),
    LineColumn("unit_cost", _("Unit Cost"), "money"),
    LineColumn("note", _("Note"), "text"),
]


class StockDocumentView(LinesFormMixin, DocumentViewMixin, BaseModelView):
    """Shared by the four stock documents: drafts are edited, 确定 posts, posted ones only take an invoice no."""

    base_order = ("id", "desc")
    order_columns = ["number", "doc_date"]
    label_columns = LABELS
    line_columns = QTY_LINES
    show_line_columns = [
        ("product", _("Product"), ""),
        ("qty", _("Quantity"), "text-right"),
        ("note", _("Note"), ""),
    ]
    confirm_label = _("Confirm")
    save_service = None  # services function(session, doc, rows)

    def save_document(self, item, rows, is_new):
        type(self).save_service(db.session, item, rows)

    def ensure_editable(self, item):
        services.ensure_draft(item)

    def pre_delete(self, item):
        services.ensure_deletable(item)
        super().pre_delete(item)

    def document_buttons(self, item):
        buttons = []
        if item.status == m.DRAFT:
            if self.may("write"):
                buttons.append(self.button("edit", _("Edit"), "fa-edit", post=False, url=url_for(".edit", pk=item.id)))
            if self.may("confirm"):
                buttons.append(
                    self.button(
                        "confirm",
                        self.confirm_label,
                        "fa-check",
                        url=self.action_url("confirm", item.id),
                        style="primary",
                        confirm=_("Confirm this document? Stock changes at once and it can no longer be edited."),
                    )
                )
        elif self.may("write"):
            buttons.append(
                self.button(
                    "invoice",
                    _("Change invoice no."),
                    "fa-file-text-o",
                    post=False,
                    url=url_for(".invoice", pk=item.id),
                )
            )
        return buttons

    @fab_action("confirm", _("Confirm"), _("Confirm the selected documents? Stock changes at once."), "fa-check")
    def confirm(self, items):
        return self.run_action(
            items, lambda doc: services.confirm(db.session, doc, g.user), gettext("Confirmed; stock updated.")
        )

    @expose("/invoice/<int:pk>", methods=["GET", "POST"])
    @has_access
    def invoice(self, pk):
        """修改发票号: the only change a confirmed document takes."""
        return self.comment_action(
            pk,
            lambda doc, value: services.set_invoice_no(db.session, doc, value),
            title=gettext("Change invoice no."),
            done=gettext("Invoice number saved."),
            required=False,
            comment_label=gettext("Invoice No."),
        )

    def line_cell(self, line, key):
        if key in ("unit_cost", "book_qty", "difference"):
            value = getattr(line, key)
            return format_money(value) if key == "unit_cost" and value is not None else format_qty(value)
        return super().line_cell(line, key)

    def document_sections(self, item):
        return [ledger_section(db.session, item)] if item.status == m.POSTED else []


def ledger_section(session, doc) -> dict:
    moves = (
        session.query(m.StockMove)
        .filter(m.StockMove.doc_type == type(doc).__doc_type__, m.StockMove.doc_id == doc.id)
        .order_by(m.StockMove.id)
    )
    return {
        "id": "doc-moves",
        "title": gettext("Stock Moves"),
        "headers": [
            gettext("Product"),
            gettext("Warehouse Name"),
            gettext("Quantity"),
            gettext("Unit Cost"),
            gettext("Amount"),
            gettext("Balance After"),
        ],
        "rows": [
            [
                str(mv.product),
                mv.warehouse.name,
                format_qty(mv.qty),
                format_money(mv.unit_cost),
                format_money(mv.amount),
                format_qty(mv.balance_after),
            ]
            for mv in moves
        ],
    }


class StockInView(StockDocumentView):
    datamodel = SQLAInterface(m.StockIn)
    class_permission_name = "StockIn"
    title = _("Stock In")
    confirm_label = _("Confirm In")
    list_columns = ["number", "doc_date", "warehouse", "move_type", "contract", "order", "invoice_no", "status_label"]
    add_columns = edit_columns = ["warehouse", "move_type", "contract", "order", "doc_date", "invoice_no", "note"]
    show_columns = [
        "number",
        "doc_date",
        "warehouse",
        "move_type",
        "contract",
        "order",
        "invoice_no",
        "status_label",
        "posted_by",
        "posted_at",
        "note",
    ]
    search_columns = ["number", "doc_date", "warehouse", "move_type", "contract", "order", "status", "invoice_no"]
    line_columns = COST_LINES
    show_line_columns = [
        ("product", _("Product"), ""),
        ("qty", _("Quantity"), "text-right"),
        ("unit_cost", _("Unit Cost"), "text-right"),
        ("note", _("Note"), ""),
    ]
    save_service = staticmethod(services.save_stock_in)

    def initial_rows(self):
        from app.purchase.models import PurchaseContract
        from app.sales.models import SalesOrder

        contract_id, order_id = (
            parse_id(request.args.get("_flt_0_contract")),
            parse_id(request.args.get("_flt_0_order")),
        )
        if contract_id:
            contract = db.session.get(PurchaseContract, contract_id)
            if contract is not None:
                return [
                    {
                        "product_id": str(ln.product_id),
                        "qty": str(ln.remaining_qty),
                        "unit_cost": str(ln.net_price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
                    }
                    for ln in contract.lines
                    if ln.remaining_qty > 0
                ]
        if order_id:
            order = get_in_scope(db.session, SalesOrder, order_id)
            if order is not None:
                return [
                    {"product_id": str(ln.product_id), "qty": str(ln.shipped_qty)}
                    for ln in order.lines
                    if Decimal(ln.shipped_qty) > 0
                ]
        return []


class StockOutView(PrintableMixin, StockDocumentView):
    datamodel = SQLAInterface(m.StockOut)
    class_permission_name = "StockOut"
    title = _("Stock Out")
    confirm_label = _("Confirm Out")
    list_columns = ["number", "doc_date", "warehouse", "move_type", "order", "invoice_no", "status_label"]
    add_columns = edit_columns = ["warehouse", "move_type", "order", "doc_date", "invoice_no", "note"]
    show_columns = [
        "number",
        "doc_date",
        "warehouse",
        "move_type",
        "order",
        "invoice_no",
        "status_label",
        "posted_by",
        "posted_at",
        "note",
    ]
    search_columns = ["number", "doc_date", "warehouse", "move_type", "order", "status", "invoice_no"]
    show_line_columns = [
        ("product", _("Product"), ""),
        ("qty", _("Quantity"), "text-right"),
        ("unit_cost", _("Unit Cost"), "text-right"),
        ("note", _("Note"), ""),
    ]
    save_service = staticmethod(services.save_stock_out)

    def print_content(self, item):
        """出库单: shipped against an order, each line is priced at its order line's net price."""
        order = item.order
        customer = order.end_customer if order else None
        contact, phone = party_contact(customer)
        warehouse = item.warehouse.name if item.warehouse else ""
        rows = []
        for line in item.lines:
            price = amount = None
            if line.order_line is not None:
                net = line.order_line.net_price
                price = net.quantize(CENT, ROUND_HALF_UP)
                amount = (Decimal(line.qty) * net).quantize(CENT, ROUND_HALF_UP)
            rows.append([*product_cells(line.product), warehouse, line.qty, price, amount, line.note])
        priced = any(row[-2] is not None for row in rows)
        return PrintDocument(
            title=_("Delivery Note"),
            number=item.number,
            doc_date=item.doc_date,
            columns=[
                *product_columns(),
                PrintColumn(_("Warehouse Name")),
                PrintColumn(_("Quantity"), QTY, total=True),
                PrintColumn(_("Unit Price"), MONEY),
                PrintColumn(_("Amount"), MONEY, total=True),
                PrintColumn(_("Note")),
            ],
            rows=rows,
            fields=[
                (_("End Customer"), customer.name if customer else None),
                (_("Contacts"), contact),
                (_("Phone"), phone),
                (_("Address"), customer.address if customer else None),
                (_("Sales Order"), order.number if order else None),
                (_("Project"), order.project_name if order else None),
                (_("Salesperson"), person(order.owner) if order else None),
                (_("Stock Move Type"), item.move_type.name if item.move_type else None),
                (_("Invoice No."), item.invoice_no),
            ],
            amount=sum((row[-2] or Decimal(0) for row in rows), Decimal(0)) if priced else None,
            signatures=[_("Prepared by"), _("Shipped by"), _("Received by (signature)")],
            note=item.note,
        )

    def initial_rows(self):
        from app.sales.models import SalesOrder

        order_id = parse_id(request.args.get("_flt_0_order"))
        order = get_in_scope(db.session, SalesOrder, order_id) if order_id else None
        if order is None:
            return []
        return [
            {"product_id": str(ln.product_id), "qty": str(ln.remaining_qty)}
            for ln in order.lines
            if ln.remaining_qty > 0
        ]


class StockTakeView(StockDocumentView):
    datamodel = SQLAInterface(m.StockTake)
    class_permission_name = "StockTake"
    title = _("Stock Taking")
    confirm_label = _("Confirm Count")
    list_columns = ["number", "doc_date", "warehouse", "status_label", "posted_by"]
    add_columns = edit_columns = ["warehouse", "doc_date", "note"]
    show_columns = ["number", "doc_date", "warehouse", "status_label", "posted_by", "posted_at", "note"]
    search_columns = ["number", "doc_date", "warehouse", "status"]
    line_columns = [
        LineColumn("product_id", _("Product"), "product"),
        LineColumn("qty", _("Counted Quantity"), "qty"),
        LineColumn("note", _("Note"), "text"),
    ]
    show_line_columns = [
        ("product", _("Product"), ""),
        ("book_qty", _("Book Quantity"), "text-right"),
        ("qty", _("Counted Quantity"), "text-right"),
        ("difference", _("Difference"), "text-right"),
        ("note", _("Note"), ""),
    ]
    save_service = staticmethod(services.save_stock_take)

    def initial_rows(self):
        """Counting a warehouse starts from everything its ledger holds (?_flt_0_warehouse=<id> fixes the field)."""
        wid = parse_id(request.args.get("_flt_0_warehouse"))
        if not wid:
            return []
        rows = (
            db.session.query(m.StockBalance)
            .filter(m.StockBalance.warehouse_id == wid, m.StockBalance.qty != 0)
            .order_by(m.StockBalance.product_id)
        )
        return [{"product_id": str(b.product_id), "qty": ""} for b in rows]


class StockTransferView(StockDocumentView):
    datamodel = SQLAInterface(m.StockTransfer)
    class_permission_name = "StockTransfer"
    title = _("Stock Transfers")
    confirm_label = _("Confirm Transfer")
    list_columns = ["number", "doc_date", "from_warehouse", "to_warehouse", "status_label", "posted_by"]
    add_columns = edit_columns = ["from_warehouse", "to_warehouse", "doc_date", "note"]
    show_columns = [
        "number",
        "doc_date",
        "from_warehouse",
        "to_warehouse",
        "status_label",
        "posted_by",
        "posted_at",
        "note",
    ]
    search_columns = ["number", "doc_date", "from_warehouse", "to_warehouse", "status"]
    save_service = staticmethod(services.save_stock_transfer)


class FilterStockQuery(BaseFilter):
    """The stock page's own search box: 型号 or name contains ?q=, product category ?category= (with its children).
    FAB's search form cannot reach the product's columns from a balance row."""

    name = ""

    def apply(self, query, value):
        from app.base_data.models import Product, ProductCategory

        text = (request.args.get("q") or "").strip()
        if text:
            like = f"%{text}%"
            query = query.filter(self.model.product.has(Product.model_no.ilike(like) | Product.name.ilike(like)))
        category = parse_id(request.args.get("category"))
        if category:
            ids = {category}
            frontier = set(ids)
            while frontier:  # the category tree is small; walk it down
                children = {
                    c for (c,) in db.session.query(ProductCategory.id).filter(ProductCategory.parent_id.in_(frontier))
                }
                frontier = children - ids
                ids |= children
            query = query.filter(self.model.product.has(Product.category_id.in_(ids)))
        return query


class StockBalanceView(BaseModelView):
    """产品库存: on hand per product and warehouse, with what approved orders reserve and what is available."""

    datamodel = SQLAInterface(m.StockBalance)
    class_permission_name = "StockBalance"  # not "Stock": that is the menu item's name
    title = _("Stock")
    base_permissions = ["can_read"]
    list_columns = ["product.model_no", "product.name", "product.category", "warehouse", "qty", "reserved", "available"]
    show_columns = list_columns
    search_columns = ["product", "warehouse", "qty"]
    order_columns = ["qty"]
    label_columns = {
        "product": _("Product"),
        "product.model_no": _("Model No."),
        "product.name": _("Product Name"),
        "product.category": _("Product Category"),
        "warehouse": _("Warehouse Name"),
        "qty": _("On Hand"),
        "reserved": _("Reserved (all warehouses)"),
        "available": _("Available (all warehouses)"),
    }
    export_columns = ["product.model_no", "product.name", "product.category.name", "warehouse.name", "qty"]
    base_filters = [["id", FilterStockQuery, None]]
    list_template = "inventory/stock_list.html"
    list_totals = ["qty"]

    def categories(self):
        from app.base_data.models import ProductCategory

        return db.session.query(ProductCategory).filter(ProductCategory.enabled.is_(True)).order_by("name").all()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns.update({"reserved": format_qty, "available": format_qty})


class StockMoveView(BaseModelView):
    """库存流水: the ledger, newest first; read-only."""

    datamodel = SQLAInterface(m.StockMove)
    class_permission_name = "StockMove"
    title = _("Stock Ledger")
    base_permissions = ["can_read"]
    list_columns = [
        "at",
        "doc_date",
        "doc_number",
        "kind_label",
        "product",
        "warehouse",
        "qty",
        "unit_cost",
        "amount",
        "balance_after",
        "user",
    ]
    show_columns = list_columns
    search_columns = ["product", "warehouse", "doc_date", "doc_number", "kind"]
    order_columns = ["at", "doc_date"]
    base_order = ("id", "desc")
    label_columns = {
        "at": _("Time"),
        "doc_date": _("Date"),
        "doc_number": _("Document No."),
        "kind": _("Move Kind"),
        "kind_label": _("Move Kind"),
        "product": _("Product"),
        "warehouse": _("Warehouse Name"),
        "qty": _("Quantity"),
        "unit_cost": _("Unit Cost"),
        "amount": _("Amount"),
        "balance_after": _("Balance After"),
        "user": _("By"),
    }
    list_totals = ["qty", "amount"]
    export_columns = [
        "at",
        "doc_date",
        "doc_number",
        "kind_label",
        "product.model_no",
        "product.name",
        "warehouse.name",
        "qty",
        "unit_cost",
        "amount",
        "balance_after",
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns["unit_cost"] = format_money
        self.formatters_columns["at"] = format_date

    @expose("/alerts/")
    @has_access
    def alerts(self):
        """库存预警: below the safety minimum or above the maximum (all warehouses together)."""
        return self.render_template(
            "inventory/alerts.html", title=gettext("Stock Alerts"), rows=services.stock_alerts(db.session)
        )


def received_goods(session, contract) -> dict:
    """收货明细 of a contract: its posted stock-in lines."""
    lines = (
        session.query(m.StockInLine)
        .join(m.StockIn, m.StockIn.id == m.StockInLine.doc_id)
        .filter(m.StockIn.contract_id == contract.id, m.StockIn.status == m.POSTED)
        .order_by(m.StockIn.doc_date, m.StockInLine.id)
    )
    return {
        "id": "received-goods",
        "title": gettext("Received Goods"),
        "headers": [
            gettext("Document No."),
            gettext("Date"),
            gettext("Warehouse Name"),
            gettext("Product"),
            gettext("Quantity"),
            gettext("Unit Cost"),
            gettext("Invoice No."),
        ],
        "rows": [
            [
                ln.doc.number,
                format_date(ln.doc.doc_date),
                ln.doc.warehouse.name,
                str(ln.product),
                format_qty(ln.qty),
                format_money(ln.unit_cost),
                ln.doc.invoice_no or "",
            ]
            for ln in lines
        ],
    }


def shipments(session, order) -> dict:
    """发货明细 of a sales order: posted stock-outs and returns; short lines flagged."""
    out = (
        session.query(m.StockOutLine)
        .join(m.StockOut, m.StockOut.id == m.StockOutLine.doc_id)
        .filter(m.StockOut.order_id == order.id, m.StockOut.status == m.POSTED)
    )
    back = (
        session.query(m.StockInLine)
        .join(m.StockIn, m.StockIn.id == m.StockInLine.doc_id)
        .filter(m.StockIn.order_id == order.id, m.StockIn.status == m.POSTED)
    )
    rows = [
        [ln.doc.number, format_date(ln.doc.doc_date), ln.doc.warehouse.name, str(ln.product), format_qty(ln.qty)]
        for ln in out
    ] + [
        [ln.doc.number, format_date(ln.doc.doc_date), ln.doc.warehouse.name, str(ln.product), format_qty(-ln.qty)]
        for ln in back
    ]
    short = services.short_lines(session, order)
    title = gettext("Shipments")
    if short:
        title += " — " + gettext("Short: %(p)s", p="、".join(f"{ln.product.model_no}" for ln in short))
    return {
        "id": "shipments",
        "title": title,
        "headers": [
            gettext("Document No."),
            gettext("Date"),
            gettext("Warehouse Name"),
            gettext("Product"),
            gettext("Quantity"),
        ],
        "rows": sorted(rows, key=lambda r: (r[1], r[0])),
    }
