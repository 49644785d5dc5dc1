"""REST resource `promotion` (API.md): list/show/create/update/delete with the page's validation."""

from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.core.api import BaseApi
from app.promotions import models as m, views


class PromotionApi(BaseApi):
    datamodel = SQLAInterface(m.Promotion)
    resource_name = "promotion"
    class_permission_name = "Promotion"
    list_columns = [
        "id",
        "name",
        "start_date",
        "end_date",
        "rule",
        "percent",
        "price",
        "buy_qty",
        "free_qty",
        "enabled",
        "rule_text",
    ]
    show_columns = list_columns + ["products.id", "products.name", "categories.id", "customer_types.id", "note"]
    add_columns = edit_columns = views.FORM
    search_columns = ["name", "start_date", "end_date", "rule", "enabled"]
    order_columns = ["id", "name", "start_date", "end_date"]
    validator = staticmethod(views._validate)
