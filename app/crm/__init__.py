"""CRM area: registers pages, APIs and who may use them."""

from flask_babel import lazy_gettext as _

from app.core.roles import READ, WRITE, register_resource
from app.core.usage import register_table_label
from app.crm import api, views

CUSTOMER_ACCESS = {
    "Admin": {WRITE, "transfer"},
    "SalesManager": {WRITE, "transfer"},
    "Salesperson": WRITE,
    "Finance": READ,
    "Executive": READ,
}
POOL_ACCESS = {"Admin": WRITE, "SalesManager": WRITE, "Salesperson": {READ, "claim"}, "Executive": READ}
CLAIM_ACCESS = {"Admin": {READ, "approve"}, "SalesManager": {READ, "approve"}, "Salesperson": READ}
CHURN_ACCESS = {"Admin": {READ, "review"}, "SalesManager": READ, "Executive": READ}
TRAIL_ACCESS = {"Admin": READ, "SalesManager": READ, "Executive": READ}

TABLE_LABELS = {
    "channel_customer": _("Channel Customer Info"),
    "end_customer": _("End Customer Info"),
    "contact": _("Contacts"),
    "delivery_address": _("Delivery Addresses"),
    "followup": _("Follow-ups"),
    "pool_claim": _("Customer Claims"),
}


def register(appbuilder) -> None:
    for table, label in TABLE_LABELS.items():
        register_table_label(table, label)
    wm = {"category": "Work Management", "category_label": _("Work Management"), "category_icon": "fa-briefcase"}
    ch = {"category": "Channel Customers", "category_label": _("Channel Customers"), "category_icon": "fa-handshake-o"}
    en = {"category": "End Customers", "category_label": _("End Customers"), "category_icon": "fa-user-circle"}

    register_resource(
        appbuilder,
        views.FollowupDueView,
        name="Follow-up Reminders",
        label=_("Follow-up Reminders"),
        icon="fa-bell",
        access=CUSTOMER_ACCESS,
        **wm,
    )
    register_resource(
        appbuilder,
        views.FollowupView,
        name="Follow-ups",
        label=_("Follow-ups"),
        icon="fa-comments",
        access=CUSTOMER_ACCESS,
        api=api.FollowupApi,
        **wm,
    )

    register_resource(
        appbuilder,
        views.ChannelCustomerView,
        name="Channel Customer Info",
        label=_("Channel Customer Info"),
        icon="fa-address-book",
        access=CUSTOMER_ACCESS,
        api=api.ChannelCustomerApi,
        **ch,
    )
    register_resource(
        appbuilder,
        views.ChannelPoolView,
        name="Public Customer Pool",
        label=_("Public Customer Pool"),
        icon="fa-inbox",
        access=POOL_ACCESS,
        **ch,
    )
    register_resource(
        appbuilder,
        views.PoolClaimView,
        name="Customer Claims",
        label=_("Customer Claims"),
        icon="fa-check-square-o",
        access=CLAIM_ACCESS,
        api=api.PoolClaimApi,
        **ch,
    )
    register_resource(
        appbuilder,
        views.ChannelChurnView,
        name="Channel Churn",
        label=_("Channel Churn"),
        icon="fa-sign-out",
        access=CHURN_ACCESS,
        **ch,
    )
    register_resource(
        appbuilder,
        views.CustomerEventView,
        name="Customer Trail",
        label=_("Customer Trail"),
        icon="fa-history",
        access=TRAIL_ACCESS,
        **ch,
    )

    register_resource(
        appbuilder,
        views.EndCustomerView,
        name="End Customer Info",
        label=_("End Customer Info"),
        icon="fa-users",
        access=CUSTOMER_ACCESS,
        api=api.EndCustomerApi,
        **en,
    )
    register_resource(
        appbuilder,
        views.EndPoolView,
        name="End Customer Pool",
        label=_("End Customer Pool"),
        icon="fa-inbox",
        access=POOL_ACCESS,
        **en,
    )
    register_resource(
        appbuilder,
        views.EndChurnView,
        name="End Customer Churn",
        label=_("End Customer Churn"),
        icon="fa-sign-out",
        access=CHURN_ACCESS,
        **en,
    )
    register_resource(
        appbuilder,
        views.EndChurnReviewView,
        name="End Customer Churn Review",
        label=_("End Customer Churn Review"),
        icon="fa-gavel",
        access=CHURN_ACCESS,
        **en,
    )

    register_resource(
        appbuilder,
        views.ContactView,
        name="Contacts",
        label=_("Contacts"),
        access=CUSTOMER_ACCESS,
        api=api.ContactApi,
        menu=False,
        **ch,
    )
    register_resource(
        appbuilder,
        views.DeliveryAddressView,
        name="Delivery Addresses",
        label=_("Delivery Addresses"),
        access=CUSTOMER_ACCESS,
        menu=False,
        **en,
    )
