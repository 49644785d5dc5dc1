"""After-sales area (售后服务): registers the page, the API, who may use them, and its lists on the customer and
order pages."""

from flask_babel import lazy_gettext as _

from app.aftersales import api, services, views
from app.core.roles import READ, WRITE, register_resource
from app.core.usage import register_table_label

ACCESS = {"Admin": WRITE, "SalesManager": WRITE, "Salesperson": WRITE, "Finance": READ, "Executive": READ}


def _extend_other_pages() -> None:
    """The end customer's and the sales order's pages list their service requests (neither area knows of this one)."""
    from app.crm.views import EndCustomerView
    from app.sales.views import SalesOrderView

    EndCustomerView.related_views = [*(EndCustomerView.related_views or []), views.ServiceRequestView]
    SalesOrderView.related_views = [*(SalesOrderView.related_views or []), views.ServiceRequestView]


def register(appbuilder) -> None:
    services.install_owner_sync()
    register_table_label("service_request", _("Service Requests"))
    register_resource(
        appbuilder,
        views.ServiceRequestView,
        name="After-sales Service",
        label=_("After-sales Service"),
        icon="fa-wrench",
        access=ACCESS,
        api=api.ServiceRequestApi,
        category="Sales",
        category_label=_("Sales"),
        category_icon="fa-shopping-cart",
    )


_extend_other_pages()
