"""REST resources of base data (API.md): same permission names as the pages, so the same roles apply."""

from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.base_data import models as m, services
from app.core.api import BaseApi

DICTIONARY_RESOURCES = {
    m.CustomerNature: "customer_nature",
    m.ProductCategory: "product_category",
    m.Unit: "unit",
    m.CustomerType: "customer_type",
    m.CustomerSource: "customer_source",
    m.FollowupMethod: "followup_method",
    m.Warehouse: "warehouse",
    m.StockMoveType: "stock_move_type",
    m.ChannelType: "channel_type",
    m.ChannelLevel: "channel_level",
    m.ExpenseType: "expense_type",
    m.OrderType: "order_type",
    m.PaymentTerm: "payment_term",
}


def dictionary_api(model, perm: str):
    extra = {
        m.StockMoveType: ["direction"],
        m.Warehouse: ["address", "keeper", "phone"],
        m.ProductCategory: ["parent"],
    }.get(model, [])
    cols = ["id", "name", *extra, "sort_order", "enabled", "note"]
    shown = [("parent.id" if c == "parent" else c) for c in cols]
    return type(
        f"{model.__name__}Api",
        (BaseApi,),
        {
            "datamodel": SQLAInterface(model),
            "resource_name": DICTIONARY_RESOURCES[model],
            "class_permission_name": perm,
            "list_columns": shown,
            "show_columns": shown + ["created_at", "updated_at"],
            "add_columns": cols[1:],
            "edit_columns": cols[1:],
            "order_columns": ["id", "name", "sort_order"],
            "search_columns": ["name", "enabled"],
            "validator": staticmethod(services.validate_dictionary),
        },
    )


class RegionApi(BaseApi):
    datamodel = SQLAInterface(m.Region)
    resource_name = "region"
    class_permission_name = "Region"
    list_columns = show_columns = ["id", "code", "name", "parent.id", "parent.name", "level", "sort_order", "enabled"]
    add_columns = edit_columns = ["code", "name", "parent", "level", "sort_order", "enabled"]
    search_columns = ["code", "name", "parent", "level", "enabled"]
    order_columns = ["id", "code", "name"]
    validator = staticmethod(services.validate_region)


class ProductApi(BaseApi):
    datamodel = SQLAInterface(m.Product)
    resource_name = "product"
    class_permission_name = "Product"
    list_columns = [
        "id",
        "model_no",
        "name",
        "spec",
        "category.id",
        "category.name",
        "unit.id",
        "unit.name",
        "purchase_price",
        "sale_price",
        "floor_price",
        "safety_min",
        "safety_max",
        "enabled",
    ]
    show_columns = list_columns + ["note", "created_at", "updated_at"]
    add_columns = edit_columns = [
        "model_no",
        "name",
        "spec",
        "category",
        "unit",
        "purchase_price",
        "sale_price",
        "floor_price",
        "safety_min",
        "safety_max",
        "enabled",
        "note",
    ]
    search_columns = ["model_no", "name", "category", "unit", "enabled"]
    order_columns = ["id", "model_no", "name", "sale_price"]
    validator = staticmethod(services.validate_product)
