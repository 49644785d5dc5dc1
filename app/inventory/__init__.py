"""Inventory area: registers pages, APIs, who may use them, and what it adds to the sales order page."""

from flask import url_for
from flask_babel import lazy_gettext as _

from app.core.roles import READ, WRITE, declare, register_link, register_resource
from app.core.usage import register_table_label
from app.inventory import api, views

KEEPER = {"Admin": {WRITE, "confirm"}, "WarehouseKeeper": {WRITE, "confirm"}, "Finance": READ, "Executive": READ}
STOCK_IN_ACCESS = {**KEEPER, "Purchaser": WRITE}  # purchasing drafts stock-in requests, the keeper confirms
STOCK_OUT_ACCESS = {**KEEPER, "SalesManager": READ}
STOCK_READ = {
    role: READ
    for role in ("Admin", "WarehouseKeeper", "Purchaser", "SalesManager", "Salesperson", "Finance", "Executive")
}
LEDGER_READ = {role: READ for role in ("Admin", "WarehouseKeeper", "Purchaser", "SalesManager", "Finance", "Executive")}

TABLE_LABELS = {
    "stock_in": _("Stock In"),
    "stock_out": _("Stock Out"),
    "stock_take": _("Stock Taking"),
    "stock_transfer": _("Stock Transfers"),
    "stock_balance": _("Stock"),
    "stock_move": _("Stock Ledger"),
}


def _order_buttons(view, order):
    """Ship and return buttons on a sales order page."""
    from decimal import Decimal

    from app.core import workflow

    sm = view.appbuilder.sm
    buttons = []
    if order.status == workflow.APPROVED and sm.has_access("can_write", "StockOut"):
        if any(line.remaining_qty > 0 for line in order.lines):
            buttons.append(
                view.button(
                    "ship", _("Ship"), "fa-truck", post=False, url=url_for("StockOutView.add", _flt_0_order=order.id)
                )
            )
    if sm.has_access("can_write", "StockIn") and any(Decimal(line.shipped_qty) > 0 for line in order.lines):
        buttons.append(
            view.button(
                "return_goods",
                _("Sales return"),
                "fa-undo",
                post=False,
                url=url_for("StockInView.add", _flt_0_order=order.id),
            )
        )
    return buttons


def init_app(app) -> None:
    app.extensions.setdefault("sales_order_sections", []).append(views.shipments)
    app.extensions.setdefault("sales_order_buttons", []).append(_order_buttons)


def register(appbuilder) -> None:
    for table, label in TABLE_LABELS.items():
        register_table_label(table, label)
    cat = {"category": "Warehouse", "category_label": _("Warehouse"), "category_icon": "fa-cubes"}
    # GLOSSARY order after 产品信息 (registered by base data)
    pages = [
        (views.StockTakeView, "Stock Taking", _("Stock Taking"), "fa-check-square-o", KEEPER, api.StockTakeApi),
        (views.StockInView, "Stock In", _("Stock In"), "fa-sign-in", STOCK_IN_ACCESS, api.StockInApi),
        (views.StockOutView, "Stock Out", _("Stock Out"), "fa-sign-out", STOCK_OUT_ACCESS, api.StockOutApi),
        (views.StockBalanceView, "Stock", _("Stock"), "fa-archive", STOCK_READ, api.StockApi),
    ]
    for view, name, label, icon, access, view_api in pages:
        register_resource(appbuilder, view, name=name, label=label, icon=icon, access=access, api=view_api, **cat)
    register_link(
        appbuilder,
        name="Stock Alerts",
        label=_("Stock Alerts"),
        endpoint="StockMoveView.alerts",
        resource="StockMove",
        access=LEDGER_READ,
        icon="fa-exclamation-triangle",
        **cat,
    )
    for view, name, label, icon, access, view_api in [
        (views.StockTransferView, "Stock Transfers", _("Stock Transfers"), "fa-exchange", KEEPER, api.StockTransferApi),
        (views.StockMoveView, "Stock Ledger", _("Stock Ledger"), "fa-list", LEDGER_READ, api.StockMoveApi),
    ]:
        register_resource(appbuilder, view, name=name, label=label, icon=icon, access=access, api=view_api, **cat)
    for line_api, access in (
        (api.StockInLineApi, STOCK_IN_ACCESS),
        (api.StockOutLineApi, STOCK_OUT_ACCESS),
        (api.StockTakeLineApi, KEEPER),
        (api.StockTransferLineApi, KEEPER),
    ):
        appbuilder.add_api(line_api)
        declare(line_api.class_permission_name, {role: READ for role in access})
