"""Inventory REST resources (API.md): the four stock documents with their lines and `confirm`, the balances
(`stock`) and the ledger (`stock_move`), both read-only."""

from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name

from app.core.api import ActionApiMixin, BaseApi, LinesApiMixin
from app.extensions import db
from app.inventory import models as m, services, views

DOC_COLUMNS = ["id", "number", "doc_date", "status", "invoice_no", "note", "posted_at", "posted_by.id"]
LINE_COLUMNS = ["id", "line_no", "product.id", "product.model_no", "qty", "note"]


class StockDocumentApi(LinesApiMixin, ActionApiMixin, BaseApi):
    save_service = None

    def save_document(self, item, rows, is_new):
        if rows is None:  # PUT without lines keeps them
            rows = [
                {"product_id": ln.product_id, "qty": ln.qty, "unit_cost": getattr(ln, "unit_cost", None)}
                for ln in item.lines
            ]
        type(self).save_service(db.session, item, rows)

    def pre_update(self, item):
        services.ensure_draft(item)
        super().pre_update(item)

    def pre_delete(self, item):
        services.ensure_deletable(item)
        super().pre_delete(item)

    @expose("/<int:pk>/confirm", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_confirm")
    def api_confirm(self, pk):
        """Post the document: 确定入库 / 确定出库 / 确定盘点 / 确定调拨."""
        return self._apply(pk, lambda session, item, user, _comment: services.confirm(session, item, user))

    @expose("/<int:pk>/invoice_no", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_invoice")
    def api_invoice(self, pk):
        """修改发票号: {"invoice_no": "…"}; allowed on confirmed documents, quantities untouched."""

        def run():
            item = self._item(pk)
            value = self._body().get("invoice_no")
            services.set_invoice_no(db.session, item, value if isinstance(value, str) else None)
            db.session.commit()
            return self._state(item)

        return self._run(run)


class StockInApi(StockDocumentApi):
    datamodel = SQLAInterface(m.StockIn)
    resource_name = "stock_in"
    class_permission_name = "StockIn"
    list_columns = DOC_COLUMNS + ["warehouse.id", "move_type.id", "contract.id", "order.id"]
    show_columns = list_columns + [f"lines.{c}" for c in ("id", "line_no", "qty", "unit_cost")]
    add_columns = edit_columns = views.StockInView.add_columns
    search_columns = views.StockInView.search_columns
    save_service = staticmethod(services.save_stock_in)


class StockOutApi(StockDocumentApi):
    datamodel = SQLAInterface(m.StockOut)
    resource_name = "stock_out"
    class_permission_name = "StockOut"
    list_columns = DOC_COLUMNS + ["warehouse.id", "move_type.id", "order.id"]
    show_columns = list_columns + [f"lines.{c}" for c in ("id", "line_no", "qty", "unit_cost")]
    add_columns = edit_columns = views.StockOutView.add_columns
    search_columns = views.StockOutView.search_columns
    save_service = staticmethod(services.save_stock_out)


class StockTakeApi(StockDocumentApi):
    datamodel = SQLAInterface(m.StockTake)
    resource_name = "stock_take"
    class_permission_name = "StockTake"
    list_columns = DOC_COLUMNS + ["warehouse.id"]
    show_columns = list_columns + [f"lines.{c}" for c in ("id", "line_no", "qty", "book_qty")]
    add_columns = edit_columns = views.StockTakeView.add_columns
    search_columns = views.StockTakeView.search_columns
    save_service = staticmethod(services.save_stock_take)


class StockTransferApi(StockDocumentApi):
    datamodel = SQLAInterface(m.StockTransfer)
    resource_name = "stock_transfer"
    class_permission_name = "StockTransfer"
    list_columns = DOC_COLUMNS + ["from_warehouse.id", "to_warehouse.id"]
    show_columns = list_columns + [f"lines.{c}" for c in ("id", "line_no", "qty")]
    add_columns = edit_columns = views.StockTransferView.add_columns
    search_columns = views.StockTransferView.search_columns
    save_service = staticmethod(services.save_stock_transfer)


def _line_api(model, resource, permission, extra=()):
    return type(
        f"{model.__name__}Api",
        (BaseApi,),
        {
            "datamodel": SQLAInterface(model),
            "resource_name": resource,
            "class_permission_name": f"{permission}Line",  # read-only: a permission of its own
            "base_permissions": ["can_read"],
            "list_columns": ["doc.id", "doc.number", *LINE_COLUMNS, *extra],
            "show_columns": ["doc.id", "doc.number", *LINE_COLUMNS, *extra],
            "search_columns": ["doc", "product"],
        },
    )


StockInLineApi = _line_api(
    m.StockInLine, "stock_in_line", "StockIn", ("unit_cost", "contract_line.id", "order_line.id")
)
StockOutLineApi = _line_api(m.StockOutLine, "stock_out_line", "StockOut", ("unit_cost", "order_line.id"))
StockTakeLineApi = _line_api(m.StockTakeLine, "stock_take_line", "StockTake", ("book_qty",))
StockTransferLineApi = _line_api(m.StockTransferLine, "stock_transfer_line", "StockTransfer")


class StockApi(BaseApi):
    datamodel = SQLAInterface(m.StockBalance)
    resource_name = "stock"
    class_permission_name = "StockBalance"
    base_permissions = ["can_read"]
    list_columns = show_columns = [
        "id",
        "product.id",
        "product.model_no",
        "product.name",
        "warehouse.id",
        "warehouse.name",
        "qty",
        "reserved",
        "available",
    ]
    search_columns = ["product", "warehouse", "qty"]
    order_columns = ["id", "qty"]


class StockMoveApi(BaseApi):
    datamodel = SQLAInterface(m.StockMove)
    resource_name = "stock_move"
    class_permission_name = "StockMove"
    base_permissions = ["can_read"]
    list_columns = show_columns = [
        "id",
        "at",
        "doc_date",
        "doc_type",
        "doc_id",
        "doc_number",
        "kind",
        "product.id",
        "product.model_no",
        "warehouse.id",
        "qty",
        "unit_cost",
        "amount",
        "balance_after",
        "user.id",
    ]
    search_columns = ["product", "warehouse", "doc_date", "doc_number", "kind", "doc_type"]
    order_columns = ["id", "at", "doc_date"]
