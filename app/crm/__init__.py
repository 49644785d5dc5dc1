"""CRM area: registers pages, APIs and who may use them."""

from flask_babel import lazy_gettext as _

from app.core.roles import READ, WRITE, register_link, register_resource
from app.core.usage import register_table_label
from app.crm import api, views

CUSTOMER_ACCESS = {
    "Admin": {WRITE, "transfer"},
    "SalesManager": {WRITE, "transfer"},
    "Salesperson": {WRITE, "claim"},  # claim: the API's pool action on this resource
    "Finance": READ,
    "Executive": READ,
}
# records kept about customers (plans, follow-ups, opportunities, contacts): the pool actions are the customers' own
WORK_ACCESS = {"Admin": WRITE, "SalesManager": WRITE, "Salesperson": WRITE, "Finance": READ, "Executive": READ}
POOL_ACCESS = {"Admin": WRITE, "SalesManager": WRITE, "Salesperson": {READ, "claim"}, "Executive": READ}
CLAIM_ACCESS = {"Admin": {READ, "approve"}, "SalesManager": {READ, "approve"}, "Salesperson": READ}
CHURN_ACCESS = {"Admin": {READ, "review"}, "SalesManager": READ, "Executive": READ}
TRAIL_ACCESS = {"Admin": READ, "SalesManager": READ, "Executive": READ}
TARGET_ACCESS = {"Admin": WRITE, "SalesManager": WRITE, "Salesperson": READ, "Finance": READ, "Executive": READ}

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

    # (view, menu name, label, icon, access, api, category), in menu order (GLOSSARY.md first)
    pages = [
        (
            views.SalesTargetView,
            "Targets & Progress",
            _("Targets & Progress"),
            "fa-bullseye",
            TARGET_ACCESS,
            api.SalesTargetApi,
            wm,
        ),
        (views.PlanReminderView, "Plan Reminders", _("Plan Reminders"), "fa-clock-o", WORK_ACCESS, None, wm),
        (views.WorkPlanView, "Work Plans", _("Work Plans"), "fa-calendar", WORK_ACCESS, api.WorkPlanApi, wm),
        (views.FollowupDueView, "Follow-up Reminders", _("Follow-up Reminders"), "fa-bell", WORK_ACCESS, None, wm),
        (views.FollowupView, "Follow-ups", _("Follow-ups"), "fa-comments", WORK_ACCESS, api.FollowupApi, wm),
        (
            views.OpportunityView,
            "Sales Opportunities",
            _("Sales Opportunities"),
            "fa-lightbulb-o",
            WORK_ACCESS,
            api.OpportunityApi,
            wm,
        ),
        (
            views.ChannelCustomerView,
            "Channel Customer Info",
            _("Channel Customer Info"),
            "fa-address-book",
            CUSTOMER_ACCESS,
            api.ChannelCustomerApi,
            ch,
        ),
        (views.ChannelPoolView, "Public Customer Pool", _("Public Customer Pool"), "fa-inbox", POOL_ACCESS, None, ch),
        (
            views.PoolClaimView,
            "Customer Claims",
            _("Customer Claims"),
            "fa-check-square-o",
            CLAIM_ACCESS,
            api.PoolClaimApi,
            ch,
        ),
        (views.ChannelChurnView, "Channel Churn", _("Channel Churn"), "fa-sign-out", CHURN_ACCESS, None, ch),
        (views.CustomerEventView, "Customer Trail", _("Customer Trail"), "fa-history", TRAIL_ACCESS, None, ch),
        (
            views.EndCustomerView,
            "End Customer Info",
            _("End Customer Info"),
            "fa-users",
            CUSTOMER_ACCESS,
            api.EndCustomerApi,
            en,
        ),
        (views.EndPoolView, "End Customer Pool", _("End Customer Pool"), "fa-inbox", POOL_ACCESS, None, en),
        (views.EndChurnView, "End Customer Churn", _("End Customer Churn"), "fa-sign-out", CHURN_ACCESS, None, en),
        (
            views.EndChurnReviewView,
            "End Customer Churn Review",
            _("End Customer Churn Review"),
            "fa-gavel",
            CHURN_ACCESS,
            None,
            en,
        ),
    ]
    for view, name, label, icon, access, view_api, category in pages:
        register_resource(appbuilder, view, name=name, label=label, icon=icon, access=access, api=view_api, **category)
    # pages without a menu entry of their own: shown as related lists on the customer pages
    register_resource(
        appbuilder,
        views.ContactView,
        name="Contacts",
        label=_("Contacts"),
        access=WORK_ACCESS,
        api=api.ContactApi,
        menu=False,
        **ch,
    )
    register_resource(
        appbuilder,
        views.DeliveryAddressView,
        name="Delivery Addresses",
        label=_("Delivery Addresses"),
        access=WORK_ACCESS,
        menu=False,
        **en,
    )
    # extra pages of the views above
    for name, label, endpoint, resource, access, icon in (
        ("Target Progress", _("Target Progress"), "SalesTargetView.progress", "SalesTarget", TARGET_ACCESS, "fa-tasks"),
        ("Weekly Plans", _("Weekly Plans"), "WorkPlanView.week", "WorkPlan", WORK_ACCESS, "fa-calendar-o"),
        ("Sales Funnel", _("Sales Funnel"), "OpportunityView.funnel", "Opportunity", WORK_ACCESS, "fa-filter"),
    ):
        register_link(
            appbuilder, name=name, label=label, endpoint=endpoint, resource=resource, access=access, icon=icon, **wm
        )
