"""Base data area: registers its pages, APIs and who may use them (Admin edits, every other role reads)."""

from flask_babel import lazy_gettext as _

from app.base_data import api, models as m, views
from app.core.roles import READ, STAFF_ROLES, WRITE, register_resource
from app.core.usage import register_table_label

READ_ALL = {"Admin": WRITE, **{role: READ for role in STAFF_ROLES}}

# Menu order follows GLOSSARY.md.
DICTIONARY_MENU = [
    (m.CustomerNature, "Customer Nature", "fa-building"),
    (m.ProductCategory, "Product Category", "fa-sitemap"),
    (m.Unit, "Unit", "fa-balance-scale"),
    (m.CustomerType, "Customer Type", "fa-users"),
    (m.CustomerSource, "Customer Source", "fa-share-alt"),
    (m.FollowupMethod, "Follow-up Method", "fa-phone"),
    (m.Warehouse, "Warehouse Name", "fa-home"),
    (m.StockMoveType, "Stock Move Type", "fa-exchange"),
    (m.ChannelType, "Channel Type", "fa-random"),
    (m.ChannelLevel, "Channel Level", "fa-signal"),
    (m.ExpenseType, "Expense Type", "fa-money"),
    (m.OrderType, "Order Type", "fa-list-alt"),
    (m.PaymentTerm, "Payment Terms", "fa-calendar-o"),
]

TABLE_LABELS = {
    "product": _("Products"),
    "region": _("Province & City"),
    "salesperson_profile": _("Salesperson Profiles"),
}


def register(appbuilder) -> None:
    from app.base_data.services import DICTIONARY_LABELS

    for model, label in DICTIONARY_LABELS.items():
        register_table_label(model.__tablename__, label)
    for table, label in TABLE_LABELS.items():
        register_table_label(table, label)

    register_resource(
        appbuilder,
        views.ProductView,
        name="Products",
        label=_("Products"),
        category="Warehouse",
        category_label=_("Warehouse"),
        category_icon="fa-cubes",
        icon="fa-cube",
        access=READ_ALL,
        api=api.ProductApi,
    )
    for model, name, icon in DICTIONARY_MENU:
        perm = f"{model.__name__}Dict"
        register_resource(
            appbuilder,
            views.dictionary_view(model, perm),
            name=name,
            label=_(name),
            category="Base Data",
            category_label=_("Base Data"),
            category_icon="fa-database",
            icon=icon,
            access=READ_ALL,
            api=api.dictionary_api(model, perm),
        )
        if model is m.StockMoveType:
            register_resource(
                appbuilder,
                views.RegionView,
                name="Province & City",
                label=_("Province & City"),
                category="Base Data",
                category_label=_("Base Data"),
                icon="fa-map-marker",
                access=READ_ALL,
                api=api.RegionApi,
            )
    register_resource(
        appbuilder,
        views.SalespersonProfileView,
        name="Salesperson Profiles",
        label=_("Salesperson Profiles"),
        category="Security",
        category_label=_("Security"),
        icon="fa-id-card",
        access={"Admin": WRITE, "SalesManager": READ, "Executive": READ},
    )
