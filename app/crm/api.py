"""CRM REST resources (API.md) with the pool actions: claim, release, transfer; pool_claim approve/reject."""

from flask import g
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext

from app.core.api import ActionApiMixin, BaseApi
from app.core.errors import BusinessError
from app.crm import models as m, services, views
from app.extensions import db

CUSTOMER_COLUMNS = [
    "id",
    "name",
    "region.id",
    "region.name",
    "phone",
    "address",
    "credit_limit",
    "owner.id",
    "owner.username",
    "in_pool",
    "assigned_at",
    "last_deal_at",
    "last_followup_at",
    "note",
]


class CustomerApi(ActionApiMixin, BaseApi):
    validator = staticmethod(services.validate_customer)
    base_filters = [["in_pool", services.FilterNotInPool, None]]

    def pre_add(self, item):
        item.in_pool = False
        super().pre_add(item)
        services.on_customer_saved(item)

    def pre_update(self, item):
        super().pre_update(item)
        services.on_customer_saved(item)
        services.sync_children_owner(item)

    def post_add(self, item):
        services.record_event(db.session, item, "created", g.user, None, item.owner_id)
        db.session.commit()

    def _pool_item(self, pk):
        item = db.session.get(self.datamodel.obj, pk)
        if item is None or not item.in_pool:
            raise BusinessError(gettext("“%(id)s” is not in the public pool.", id=pk), 404)
        return item

    def _owned_item(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            raise BusinessError(gettext("Not found."), 404)
        return item

    @expose("/<int:pk>/claim", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_claim")
    def api_claim(self, pk):
        """Apply for a pool customer (申请客户)."""

        def run():
            claim = services.request_claim(db.session, self._pool_item(pk), g.user, self._body().get("comment"))
            db.session.commit()
            return self.response(201, id=claim.id, status=claim.status)

        return self._run(run)

    @expose("/<int:pk>/release", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_release")
    def api_release(self, pk):
        """Release an own customer to the public pool (转入公共池)."""
        return self._run(
            lambda: services.release(db.session, self._owned_item(pk), g.user, self._body().get("comment"))
        )

    @expose("/<int:pk>/transfer", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_transfer")
    def api_transfer(self, pk):
        """Transfer to another salesperson (转移): body {"owner_id": …}."""

        def run():
            owner_id = self._body().get("owner_id")
            target = db.session.get(self.appbuilder.sm.user_model, owner_id) if isinstance(owner_id, int) else None
            services.transfer(db.session, self._owned_item(pk), target, g.user, self._body().get("comment"))

        return self._run(run)


class ChannelCustomerApi(CustomerApi):
    datamodel = SQLAInterface(m.ChannelCustomer)
    resource_name = "channel_customer"
    class_permission_name = "ChannelCustomer"
    list_columns = show_columns = CUSTOMER_COLUMNS + [
        "channel_type.id",
        "channel_type.name",
        "level.id",
        "level.name",
        "source.id",
        "nature.id",
    ]
    add_columns = edit_columns = views.ChannelCustomerView.add_columns  # the same fields as the page form
    search_columns = ["name", "region", "channel_type", "level", "owner"]
    order_columns = ["id", "name", "credit_limit"]


class EndCustomerApi(CustomerApi):
    datamodel = SQLAInterface(m.EndCustomer)
    resource_name = "end_customer"
    class_permission_name = "EndCustomer"
    list_columns = show_columns = CUSTOMER_COLUMNS + [
        "customer_type.id",
        "customer_type.name",
        "stars",
        "referrer.id",
        "referrer.name",
        "source.id",
        "nature.id",
        "payment_term.id",
        "payment_term.name",
        "abc_class",
        "abc_amount",
        "abc_orders",
        "abc_at",
    ]
    add_columns = edit_columns = views.EndCustomerView.add_columns  # the same fields as the page form
    search_columns = ["name", "region", "customer_type", "stars", "abc_class", "referrer", "owner"]
    order_columns = ["id", "name", "stars", "abc_class", "credit_limit"]


class ContactApi(BaseApi):
    datamodel = SQLAInterface(m.Contact)
    resource_name = "contact"
    class_permission_name = "Contact"
    list_columns = show_columns = [
        "id",
        "channel_customer.id",
        "end_customer.id",
        "name",
        "title",
        "mobile",
        "phone",
        "email",
        "wechat",
        "is_primary",
        "note",
    ]
    add_columns = edit_columns = views.ContactView.add_columns
    search_columns = ["name", "mobile", "channel_customer", "end_customer"]
    validator = staticmethod(services.validate_contact)


class FollowupApi(BaseApi):
    datamodel = SQLAInterface(m.Followup)
    resource_name = "followup"
    class_permission_name = "Followup"
    list_columns = show_columns = [
        "id",
        "channel_customer.id",
        "end_customer.id",
        "followup_date",
        "method.id",
        "method.name",
        "content",
        "status",
        "next_date",
        "next_plan",
        "owner.id",
    ]
    add_columns = edit_columns = views.FollowupView.add_columns
    search_columns = ["followup_date", "channel_customer", "end_customer", "status", "next_date"]
    order_columns = ["id", "followup_date", "next_date"]
    validator = staticmethod(services.validate_followup)


class PoolClaimApi(ActionApiMixin, BaseApi):
    datamodel = SQLAInterface(m.PoolClaim)
    resource_name = "pool_claim"
    class_permission_name = "PoolClaim"
    base_permissions = ["can_read", "can_approve"]
    list_columns = show_columns = [
        "id",
        "kind",
        "customer_id",
        "customer_name",
        "owner.id",
        "owner.username",
        "status",
        "approval_level",
        "reason",
        "created_at",
    ]
    search_columns = ["kind", "customer_id", "status", "owner"]
    order_columns = ["id", "created_at"]

    def _claim(self, pk):
        claim = self.datamodel.get(pk, self._base_filters)
        if claim is None:
            raise BusinessError(gettext("Not found."), 404)
        return claim

    @expose("/<int:pk>/approve", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_approve")
    def api_approve(self, pk):
        """Approve a claim: the customer becomes the applicant's."""
        return self._run(
            lambda: services.approve_claim(db.session, self._claim(pk), g.user, self._body().get("comment"))
        )

    @expose("/<int:pk>/reject", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_reject")
    def api_reject(self, pk):
        """Reject a claim; {"comment"} is required."""
        return self._run(
            lambda: services.reject_claim(db.session, self._claim(pk), g.user, self._body().get("comment"))
        )


class OpportunityApi(BaseApi):
    datamodel = SQLAInterface(m.Opportunity)
    resource_name = "opportunity"
    class_permission_name = "Opportunity"
    list_columns = show_columns = [
        "id",
        "name",
        "end_customer.id",
        "channel_customer.id",
        "stage",
        "expected_amount",
        "expected_close",
        "owner.id",
        "note",
    ]
    add_columns = edit_columns = views.OpportunityView.add_columns
    search_columns = ["name", "stage", "end_customer", "channel_customer"]
    order_columns = ["id", "expected_close", "expected_amount"]
    validator = staticmethod(services.validate_opportunity)


class WorkPlanApi(BaseApi):
    datamodel = SQLAInterface(m.WorkPlan)
    resource_name = "work_plan"
    class_permission_name = "WorkPlan"
    list_columns = show_columns = ["id", "plan_date", "title", "content", "status", "done_at", "owner.id"]
    add_columns = edit_columns = views.WorkPlanView.add_columns
    search_columns = ["plan_date", "title", "status"]
    order_columns = ["id", "plan_date"]
    validator = staticmethod(services.validate_plan)


class SalesTargetApi(BaseApi):
    datamodel = SQLAInterface(m.SalesTarget)
    resource_name = "sales_target"
    class_permission_name = "SalesTarget"
    list_columns = show_columns = ["id", "owner.id", "owner.username", "year", "month", "amount"]
    add_columns = edit_columns = views.SalesTargetView.add_columns
    search_columns = ["owner", "year", "month"]
    order_columns = ["id", "year", "month"]
    validator = staticmethod(services.validate_target)
