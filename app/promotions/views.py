"""Promotion pages: list, form (products, categories, customer types as multi-selects), export."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _

from app.core.views import BaseModelView
from app.extensions import db
from app.promotions import models as m, services

LABELS = {
    "name": _("Name"),
    "start_date": _("Start Date"),
    "end_date": _("End Date"),
    "rule": _("Rule"),
    "rule_label": _("Rule"),
    "rule_text": _("Offer"),
    "percent": _("Percentage Off"),
    "price": _("Promotion Price"),
    "buy_qty": _("Buy Quantity"),
    "free_qty": _("Free Quantity"),
    "products": _("Products"),
    "categories": _("Product Categories"),
    "customer_types": _("Customer Types"),
    "enabled": _("Enabled"),
    "note": _("Note"),
    "created_at": _("Created At"),
    "updated_at": _("Updated At"),
}
FORM = [
    "name",
    "start_date",
    "end_date",
    "rule",
    "percent",
    "price",
    "buy_qty",
    "free_qty",
    "products",
    "categories",
    "customer_types",
    "enabled",
    "note",
]


def _validate(item) -> None:
    services.validate_promotion(db.session, item)


class PromotionView(BaseModelView):
    datamodel = SQLAInterface(m.Promotion)
    class_permission_name = "Promotion"
    title = _("Promotions")
    list_columns = ["name", "start_date", "end_date", "rule_label", "rule_text", "enabled"]
    add_columns = edit_columns = FORM
    show_columns = FORM[:4] + ["rule_text"] + FORM[8:] + ["created_at", "updated_at"]
    search_columns = ["name", "start_date", "end_date", "rule", "products", "categories", "customer_types", "enabled"]
    order_columns = ["name", "start_date", "end_date"]
    base_order = ("start_date", "desc")
    label_columns = LABELS
    choice_fields = {"rule": m.RULES}
    description_columns = {
        "customer_types": _("Empty: for every customer."),
        "categories": _("A category includes its sub-categories."),
        "percent": _("For the rule “Percentage off”: percent off the sale price."),
        "buy_qty": _("For the rule “Buy N get M free”: of every N + M units, M are free."),
    }
    export_columns = ["name", "start_date", "end_date", "rule_label", "rule_text", "enabled", "note"]
    validator = staticmethod(_validate)
