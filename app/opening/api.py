"""REST resource `opening_balance` (read-only; importing is a page with an Excel file)."""

from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.core.api import BaseApi
from app.opening import models as m


class OpeningBalanceApi(BaseApi):
    datamodel = SQLAInterface(m.OpeningBalance)
    resource_name = "opening_balance"
    class_permission_name = "OpeningBalance"
    include_route_methods = {"get", "get_list", "info"}
    list_columns = show_columns = [
        "id",
        "kind",
        "as_of",
        "doc_number",
        "product.id",
        "warehouse.id",
        "qty",
        "unit_cost",
        "end_customer.id",
        "supplier.id",
        "amount",
        "due_date",
    ]
    search_columns = ["kind", "as_of", "doc_number"]
    order_columns = ["id", "as_of", "amount"]
