"""Opening balances area 期初数据: Excel import of opening stock, receivables and payables, posted once."""

from flask_babel import lazy_gettext as _

from app.core.roles import READ, WRITE, register_resource
from app.core.usage import register_table_label

ACCESS = {"Admin": WRITE, "Finance": WRITE, "WarehouseKeeper": READ, "Executive": READ}


def register(appbuilder) -> None:
    from app.opening import api, views

    register_table_label("opening_balance", _("Opening Balances"))
    register_resource(
        appbuilder,
        views.OpeningBalanceView,
        name="Opening Balances",
        label=_("Opening Balances"),
        icon="fa-flag-checkered",
        access=ACCESS,
        api=api.OpeningBalanceApi,
        category="Base Data",
        category_label=_("Base Data"),
        category_icon="fa-database",
    )
