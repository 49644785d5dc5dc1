"""Promotions area 促销: time-limited prices on products or categories for some customer types, applied on lines."""

from flask_babel import lazy_gettext as _

from app.core.roles import READ, WRITE, register_resource
from app.core.usage import register_table_label

ACCESS = {
    "Admin": WRITE,
    "SalesManager": WRITE,
    "Salesperson": READ,
    "Finance": READ,
    "Executive": READ,
}


def register(appbuilder) -> None:
    from app.promotions import api, views

    register_table_label("promotion", _("Promotions"))
    register_resource(
        appbuilder,
        views.PromotionView,
        name="Promotions",
        label=_("Promotions"),
        icon="fa-tags",
        access=ACCESS,
        api=api.PromotionApi,
        category="Sales",
        category_label=_("Sales"),
        category_icon="fa-shopping-cart",
    )
