"""CRM pages. Rules live in services.py; these classes declare columns, labels and wire actions to services."""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext, lazy_gettext as _
from wtforms import SelectField

from app.core.errors import BusinessError
from app.core.views import BaseModelView, database_refusal
from app.crm import classification, models as m, services
from app.extensions import db

CUSTOMER_LABELS = {
    "name": _("Customer Name"),
    "region": _("Region"),
    "phone": _("Phone"),
    "address": _("Address"),
    "credit_limit": _("Credit Limit"),
    "payment_term": _("Payment Terms"),
    "owner": _("Salesperson"),
    "in_pool": _("In Pool"),
    "assigned_at": _("Assigned At"),
    "last_deal_at": _("Last Deal"),
    "last_followup_at": _("Last Follow-up"),
    "note": _("Note"),
    "channel_type": _("Channel Type"),
    "level": _("Channel Level"),
    "source": _("Customer Source"),
    "nature": _("Customer Nature"),
    "customer_type": _("Customer Type"),
    "stars": _("Star Rating"),
    "referrer": _("Referring Channel"),
    "created_at": _("Created At"),
    "updated_at": _("Updated At"),
    "churned": _("Churned"),
    "churn_pending": _("Churn Review"),
    "region.name": _("Region"),
    "owner.username": _("Salesperson"),
    "level.name": _("Channel Level"),
    "channel_type.name": _("Channel Type"),
    "customer_type.name": _("Customer Type"),
    "referrer.name": _("Referring Channel"),
    "abc_class": _("ABC Class"),
    "abc_amount": _("Received, Last 12 Months"),
    "abc_orders": _("Approved Orders, Last 12 Months"),
    "abc_at": _("Classified At"),
}


class ContactView(BaseModelView):
    datamodel = SQLAInterface(m.Contact)
    class_permission_name = "Contact"
    title = _("Contacts")
    list_columns = ["name", "title", "mobile", "phone", "email", "wechat", "is_primary"]
    add_columns = edit_columns = [
        "channel_customer",
        "end_customer",
        "name",
        "title",
        "mobile",
        "phone",
        "email",
        "wechat",
        "is_primary",
        "note",
    ]
    show_columns = add_columns
    search_columns = ["name", "mobile", "channel_customer", "end_customer"]
    label_columns = {
        "name": _("Contact Name"),
        "title": _("Position"),
        "mobile": _("Mobile"),
        "phone": _("Phone"),
        "email": _("Email"),
        "wechat": _("WeChat"),
        "is_primary": _("Primary Contact"),
        "note": _("Note"),
        "channel_customer": _("Channel Customer"),
        "end_customer": _("End Customer"),
    }
    validator = staticmethod(services.validate_contact)


class DeliveryAddressView(BaseModelView):
    datamodel = SQLAInterface(m.DeliveryAddress)
    class_permission_name = "Contact"
    title = _("Delivery Addresses")
    list_columns = ["receiver", "phone", "address", "is_default"]
    add_columns = edit_columns = show_columns = ["end_customer", "receiver", "phone", "address", "is_default"]
    label_columns = {
        "receiver": _("Receiver"),
        "phone": _("Phone"),
        "address": _("Address"),
        "is_default": _("Default"),
        "end_customer": _("End Customer"),
    }
    validator = staticmethod(services.validate_address)


class FollowupBase(BaseModelView):
    datamodel = SQLAInterface(m.Followup)
    class_permission_name = "Followup"
    title = _("Follow-ups")
    list_columns = ["followup_date", "customer", "method", "content", "status_label", "next_date", "next_plan", "owner"]
    add_columns = edit_columns = [
        "channel_customer",
        "end_customer",
        "followup_date",
        "method",
        "content",
        "status",
        "next_date",
        "next_plan",
    ]
    show_columns = add_columns + ["owner", "created_at"]
    search_columns = ["followup_date", "channel_customer", "end_customer", "method", "status", "next_date", "owner"]
    order_columns = ["followup_date", "next_date"]
    base_order = ("followup_date", "desc")
    label_columns = {
        "followup_date": _("Follow-up Date"),
        "customer": _("Customer"),
        "method": _("Follow-up Method"),
        "content": _("Content"),
        "status": _("Status"),
        "status_label": _("Status"),
        "next_date": _("Next Date"),
        "next_plan": _("Next Plan"),
        "owner": _("Salesperson"),
        "channel_customer": _("Channel Customer"),
        "end_customer": _("End Customer"),
        "created_at": _("Created At"),
        "days_overdue": _("Days Overdue"),
    }
    export_columns = [
        "followup_date",
        "customer",
        "method.name",
        "content",
        "status_label",
        "next_date",
        "next_plan",
        "owner.username",
    ]
    validator = staticmethod(services.validate_followup)

    choice_fields = {"status": services.FOLLOWUP_STATUS}

    def __init__(self, **kwargs):
        self.label_columns = dict(
            self.label_columns, **{"method.name": _("Follow-up Method"), "owner.username": _("Salesperson")}
        )
        super().__init__(**kwargs)


class FollowupView(FollowupBase):
    """跟单记录 of both kinds of customer."""


class FollowupDueView(FollowupBase):
    """跟单提醒: open follow-ups whose next date falls within the user's reminder window (or has passed)."""

    title = _("Follow-up Reminders")
    list_columns = ["next_date", "days_overdue", "customer", "next_plan", "followup_date", "content", "owner"]
    base_permissions = ["can_read"]
    base_order = ("next_date", "asc")
    base_filters = [["next_date", services.FilterFollowupDue, None]]


class CustomerView(BaseModelView):
    """Shared by channel and end customers: the owner's list, release to pool, transfer (managers)."""

    validator = staticmethod(services.validate_customer)
    list_template = "core/list.html"
    show_template = "crm/customer_show.html"
    base_filters = [["in_pool", FilterEqual, False]]

    def pre_add(self, item):
        item.in_pool = False
        super().pre_add(item)
        with database_refusal(db.session):  # its queries flush the form's values: the database may refuse them
            services.on_customer_saved(item)

    def trail_for(self, pk):
        item = self._scoped_get(pk)
        return services.trail(db.session, item) if item is not None else []

    def pre_update(self, item):
        super().pre_update(item)
        with database_refusal(db.session):  # its queries flush the form's values: the database may refuse them
            services.on_customer_saved(item)
            services.sync_children_owner(item)

    def post_add(self, item):
        services.record_event(db.session, item, "created", g.user, None, item.owner_id)
        db.session.commit()

    @fab_action(
        "release",
        _("Release to Pool"),
        _("Release the selected customers to the public pool?"),
        "fa-share",
        multiple=True,
        single=True,
    )
    def release(self, items):
        return self.run_action(
            items,
            lambda item: services.release(db.session, item, g.user, None),
            lambda n: gettext("%(n)s customers released to the public pool.", n=n),
        )

    @fab_action("transfer_start", _("Transfer"), None, "fa-exchange", multiple=False, single=True)
    def transfer_start(self, item):
        return redirect(url_for(f"{self.endpoint}.transfer", pk=item.id))

    @expose("/transfer/<int:pk>", methods=["GET", "POST"])
    @has_access
    def transfer(self, pk):
        item = self._scoped_get(pk)
        if item is None:
            abort(404)
        if request.method == "POST":
            try:
                target = db.session.get(self.appbuilder.sm.user_model, int(request.form.get("target") or 0))
                services.transfer(db.session, item, target, g.user, request.form.get("comment") or None)
                db.session.commit()
                flash(gettext("Transferred."), "success")
                return redirect(url_for(f"{self.endpoint}.show", pk=pk))
            except (BusinessError, ValueError) as e:
                db.session.rollback()
                flash(str(e) if isinstance(e, BusinessError) else gettext("Choose a salesperson."), "danger")
        return self.render_template(
            "core/action_form.html",
            title=gettext("Transfer"),
            subject=str(item),
            choices=services.salesperson_choices(db.session),
            choice_label=gettext("New salesperson"),
            comment_label=gettext("Reason"),
            comment_required=False,
            submit_label=gettext("Transfer"),
            back_url=url_for(f"{self.endpoint}.show", pk=pk),
        )


class ChannelCustomerView(CustomerView):
    datamodel = SQLAInterface(m.ChannelCustomer)
    class_permission_name = "ChannelCustomer"
    title = _("Channel Customer Info")
    list_columns = ["name", "region", "channel_type", "level", "phone", "credit_limit", "owner", "last_deal_at"]
    add_columns = edit_columns = [
        "name",
        "region",
        "channel_type",
        "level",
        "source",
        "nature",
        "phone",
        "address",
        "credit_limit",
        "owner",
        "note",
    ]
    show_fieldsets = [
        (
            _("Basic"),
            {
                "fields": [
                    "name",
                    "region",
                    "channel_type",
                    "level",
                    "source",
                    "nature",
                    "phone",
                    "address",
                    "credit_limit",
                    "note",
                ]
            },
        ),
        (_("Ownership"), {"fields": ["owner", "assigned_at", "last_deal_at", "last_followup_at", "churned"]}),
    ]
    search_columns = ["name", "region", "channel_type", "level", "owner", "phone"]
    order_columns = ["name", "credit_limit", "last_deal_at"]
    base_order = ("name", "asc")
    label_columns = CUSTOMER_LABELS
    export_columns = [
        "name",
        "region.name",
        "channel_type.name",
        "level.name",
        "phone",
        "address",
        "credit_limit",
        "owner.username",
        "last_deal_at",
        "note",
    ]
    import_spec = staticmethod(lambda: services.customer_import_spec(m.CHANNEL, pool=False))


class EndCustomerView(CustomerView):
    datamodel = SQLAInterface(m.EndCustomer)
    class_permission_name = "EndCustomer"
    title = _("End Customer Info")
    list_columns = [
        "name",
        "region",
        "customer_type",
        "stars",
        "abc_class",
        "referrer",
        "phone",
        "credit_limit",
        "owner",
    ]
    add_columns = edit_columns = [
        "name",
        "region",
        "customer_type",
        "source",
        "nature",
        "stars",
        "referrer",
        "phone",
        "address",
        "credit_limit",
        "payment_term",
        "owner",
        "note",
    ]
    add_form_query_rel_fields = edit_form_query_rel_fields = {"payment_term": [["enabled", FilterEqual, True]]}
    show_fieldsets = [
        (
            _("Basic"),
            {
                "fields": [
                    "name",
                    "region",
                    "customer_type",
                    "source",
                    "nature",
                    "stars",
                    "referrer",
                    "phone",
                    "address",
                    "credit_limit",
                    "payment_term",
                    "note",
                ]
            },
        ),
        (
            _("Ownership"),
            {"fields": ["owner", "assigned_at", "last_deal_at", "last_followup_at", "churned", "churn_pending"]},
        ),
        # written by `flask classify`; see app/crm/classification.py
        (_("ABC Classification"), {"fields": ["abc_class", "abc_amount", "abc_orders", "abc_at"]}),
    ]
    search_columns = ["name", "region", "customer_type", "stars", "abc_class", "referrer", "owner", "phone"]
    search_form_extra_fields = {
        "abc_class": SelectField(
            _("ABC Class"), choices=[(c, c) for c in classification.ABC_CLASSES], widget=Select2Widget()
        )
    }
    order_columns = ["name", "stars", "abc_class", "credit_limit"]
    base_order = ("name", "asc")
    label_columns = CUSTOMER_LABELS
    export_columns = [
        "name",
        "region.name",
        "customer_type.name",
        "stars",
        "abc_class",
        "abc_amount",
        "abc_orders",
        "referrer.name",
        "phone",
        "address",
        "credit_limit",
        "owner.username",
        "note",
    ]
    import_spec = staticmethod(lambda: services.customer_import_spec(m.END, pool=False))


class PoolView(BaseModelView):
    """公共客户池: unowned customers every salesperson may see and claim; Admin adds and imports."""

    owner_scope = False
    validator = staticmethod(services.validate_customer)
    base_filters = [["in_pool", FilterEqual, True]]
    base_order = ("name", "asc")
    label_columns = CUSTOMER_LABELS

    def _check(self, item):
        item.in_pool, item.owner, item.owner_id = True, None, None
        services.validate_customer(item)

    def post_add(self, item):
        services.record_event(db.session, item, "to_pool", g.user)
        db.session.commit()

    @fab_action(
        "claim", _("Claim"), _("Apply for the selected customers?"), "fa-hand-paper-o", multiple=True, single=True
    )
    def claim(self, items):
        return self.run_action(
            items,
            lambda item: services.request_claim(db.session, item, g.user, None),
            gettext("Claim submitted for approval."),
        )


class ChannelPoolView(PoolView):
    datamodel = SQLAInterface(m.ChannelCustomer)
    class_permission_name = "CustomerPool"
    title = _("Public Customer Pool") + " - " + _("Channel Customers")
    list_columns = ["name", "region", "channel_type", "level", "churned", "updated_at"]
    add_columns = edit_columns = show_columns = [
        "name",
        "region",
        "channel_type",
        "level",
        "source",
        "nature",
        "phone",
        "address",
        "credit_limit",
        "note",
    ]
    search_columns = ["name", "region", "channel_type", "level"]
    import_spec = staticmethod(lambda: services.customer_import_spec(m.CHANNEL, pool=True))


class EndPoolView(PoolView):
    datamodel = SQLAInterface(m.EndCustomer)
    class_permission_name = "CustomerPool"
    title = _("Public Customer Pool") + " - " + _("End Customers")
    list_columns = ["name", "region", "customer_type", "stars", "churned", "updated_at"]
    add_columns = edit_columns = show_columns = [
        "name",
        "region",
        "customer_type",
        "source",
        "nature",
        "stars",
        "phone",
        "address",
        "credit_limit",
        "note",
    ]
    search_columns = ["name", "region", "customer_type", "stars"]
    import_spec = staticmethod(lambda: services.customer_import_spec(m.END, pool=True))


class PoolClaimView(BaseModelView):
    datamodel = SQLAInterface(m.PoolClaim)
    class_permission_name = "PoolClaim"
    title = _("Customer Claims")
    base_permissions = ["can_read", "can_approve"]
    list_columns = ["created_at", "customer_name", "kind_label", "owner", "status_label", "reason"]
    show_columns = list_columns
    search_columns = ["customer_name", "owner", "status", "created_at"]
    base_order = ("id", "desc")
    label_columns = {
        "created_at": _("Created At"),
        "customer_name": _("Customer"),
        "kind_label": _("Customer Kind"),
        "owner": _("Applicant"),
        "status_label": _("Status"),
        "status": _("Status"),
        "reason": _("Reason"),
    }

    @fab_action("approve", _("Approve"), _("Approve the selected claims?"), "fa-check", multiple=True, single=True)
    def approve(self, items):
        return self.run_action(
            items, lambda claim: services.approve_claim(db.session, claim, g.user, None), gettext("Approved.")
        )

    @fab_action("reject_start", _("Reject"), None, "fa-times", multiple=False, single=True)
    def reject_start(self, item):
        return redirect(url_for(f"{self.endpoint}.reject", pk=item.id))

    @expose("/reject/<int:pk>", methods=["GET", "POST"])
    @has_access
    def reject(self, pk):
        claim = self._scoped_get(pk)
        if claim is None:
            abort(404)
        if request.method == "POST":
            try:
                services.reject_claim(db.session, claim, g.user, request.form.get("comment"))
                db.session.commit()
                flash(gettext("Rejected."), "success")
                return redirect(url_for(f"{self.endpoint}.list"))
            except BusinessError as e:
                db.session.rollback()
                flash(str(e), "danger")
        return self.render_template(
            "core/action_form.html",
            title=gettext("Reject"),
            subject=claim.customer_name,
            choices=None,
            choice_label="",
            comment_label=gettext("Reason"),
            comment_required=True,
            submit_label=gettext("Reject"),
            back_url=url_for(f"{self.endpoint}.list"),
            confirm=gettext("Reject this claim?"),
        )


class CustomerEventView(BaseModelView):
    datamodel = SQLAInterface(m.CustomerEvent)
    class_permission_name = "CustomerEvent"
    title = _("Customer Trail")
    base_permissions = ["can_read"]
    list_columns = [
        "at",
        "kind_label",
        "customer_name",
        "action_label",
        "from_owner",
        "to_owner",
        "user",
        "reason",
        "counts_as_churn",
    ]
    search_columns = ["at", "kind", "action", "from_owner", "to_owner", "counts_as_churn"]
    base_order = ("id", "desc")
    label_columns = {
        "at": _("Time"),
        "kind_label": _("Customer Kind"),
        "customer_name": _("Customer"),
        "action_label": _("Action"),
        "from_owner": _("From"),
        "to_owner": _("To"),
        "user": _("By"),
        "reason": _("Reason"),
        "counts_as_churn": _("Counts as Churn"),
        "kind": _("Customer Kind"),
        "action": _("Action"),
    }


class ChurnHistoryView(CustomerEventView):
    class_permission_name = "Churn"
    list_template = "crm/churn_list.html"
    churn_kind = m.CHANNEL

    def candidates(self):
        from app.core.formatting import local_today

        finder = services.channel_churn_candidates if self.churn_kind == m.CHANNEL else services.end_churn_candidates
        return finder(db.session, local_today())


class ChannelChurnView(ChurnHistoryView):
    """渠道客户流失: churn history of channel customers; current candidates shown above the list."""

    title = _("Channel Churn")
    base_filters = [["kind", FilterEqual, m.CHANNEL], ["counts_as_churn", FilterEqual, True]]
    churn_kind = m.CHANNEL


class EndChurnView(ChurnHistoryView):
    title = _("End Customer Churn")
    base_filters = [["kind", FilterEqual, m.END], ["counts_as_churn", FilterEqual, True]]
    churn_kind = m.END


class EndChurnReviewView(BaseModelView):
    """业主流失审核: end customers the churn command marked; Admin confirms or keeps them."""

    datamodel = SQLAInterface(m.EndCustomer)
    class_permission_name = "Churn"
    owner_scope = False
    title = _("End Customer Churn Review")
    base_permissions = ["can_read", "can_review"]
    base_filters = [["churn_pending", FilterEqual, True]]
    list_columns = ["name", "region", "owner", "last_followup_at", "last_deal_at", "assigned_at"]
    label_columns = CUSTOMER_LABELS

    def _review(self, items, confirm: bool):
        return self.run_action(
            items, lambda item: services.review_end_churn(db.session, item, g.user, confirm), gettext("Reviewed.")
        )

    @fab_action(
        "review_churn",
        _("Confirm churn"),
        _("Move the selected customers to the public pool as churned?"),
        "fa-sign-out",
        multiple=True,
        single=True,
    )
    def review_churn(self, items):
        return self._review(items, True)

    @fab_action("keep_customer", _("Keep with owner"), None, "fa-undo", multiple=True, single=True)
    def keep_customer(self, items):
        return self._review(items, False)


def _late_related_views():
    # defined after the customer views; related lists are matched by exact class, not subclass
    ChannelCustomerView.related_views = [ContactView, FollowupView, EndCustomerView, OpportunityView]
    EndCustomerView.related_views = [ContactView, DeliveryAddressView, FollowupView, OpportunityView]


class OpportunityView(BaseModelView):
    datamodel = SQLAInterface(m.Opportunity)
    class_permission_name = "Opportunity"
    title = _("Sales Opportunities")
    list_columns = ["name", "customer", "stage_label", "expected_amount", "expected_close", "owner"]
    add_columns = edit_columns = [
        "name",
        "end_customer",
        "channel_customer",
        "stage",
        "expected_amount",
        "expected_close",
        "note",
    ]
    show_columns = add_columns + ["owner", "created_at", "updated_at"]
    search_columns = ["name", "end_customer", "channel_customer", "stage", "expected_close", "owner"]
    order_columns = ["name", "expected_amount", "expected_close"]
    base_order = ("expected_close", "asc")
    label_columns = {
        "name": _("Opportunity"),
        "customer": _("Customer"),
        "stage": _("Stage"),
        "stage_label": _("Stage"),
        "expected_amount": _("Expected Amount"),
        "expected_close": _("Expected Close"),
        "owner": _("Salesperson"),
        "end_customer": _("End Customer"),
        "channel_customer": _("Channel Customer"),
        "note": _("Note"),
        "created_at": _("Created At"),
        "updated_at": _("Updated At"),
    }
    validator = staticmethod(services.validate_opportunity)

    choice_fields = {"stage": services.OPPORTUNITY_STAGES}

    @expose("/funnel/")
    @has_access
    def funnel(self):
        rows = services.funnel(db.session)
        top = max([r["count"] for r in rows] + [1])
        return self.render_template("crm/funnel.html", title=gettext("Sales Funnel"), rows=rows, top=top)


class WorkPlanView(BaseModelView):
    datamodel = SQLAInterface(m.WorkPlan)
    class_permission_name = "WorkPlan"
    title = _("Work Plans")
    list_columns = ["plan_date", "title", "status_label", "done_at", "owner"]
    add_columns = edit_columns = ["plan_date", "title", "content", "status"]
    show_columns = add_columns + ["done_at", "owner"]
    search_columns = ["plan_date", "title", "status", "owner"]
    order_columns = ["plan_date", "title"]
    base_order = ("plan_date", "desc")
    label_columns = {
        "plan_date": _("Plan Date"),
        "title": _("Title"),
        "content": _("Content"),
        "status": _("Status"),
        "status_label": _("Status"),
        "done_at": _("Done At"),
        "owner": _("Salesperson"),
    }
    validator = staticmethod(services.validate_plan)

    choice_fields = {"status": services.PLAN_STATUS}

    @fab_action("mark_done", _("Mark done"), None, "fa-check", multiple=True, single=True)
    def mark_done(self, items):
        return self.run_action(items, services.mark_done, lambda n: gettext("%(n)s plans marked done.", n=n))

    @expose("/week/")
    @has_access
    def week(self):
        import datetime as dt

        from app.core.formatting import local_today

        try:
            day = dt.date.fromisoformat(request.args.get("start", "")) if request.args.get("start") else local_today()
        except ValueError:
            day = local_today()
        monday = services.week_start(day)
        return self.render_template(
            "crm/week.html",
            title=gettext("Weekly Plans"),
            days=services.week_plans(db.session, monday),
            monday=monday,
            prev=monday - dt.timedelta(days=7),
            next=monday + dt.timedelta(days=7),
        )


class PlanReminderView(WorkPlanView):  # not a related list anywhere, so subclassing is safe
    title = _("Plan Reminders")
    base_permissions = ["can_read", "can_write"]
    base_filters = [["plan_date", services.FilterPlansThisWeek, None]]
    base_order = ("plan_date", "asc")


class SalesTargetView(BaseModelView):
    datamodel = SQLAInterface(m.SalesTarget)
    class_permission_name = "SalesTarget"
    title = _("Targets & Progress")
    list_columns = ["owner", "year", "month", "amount"]
    add_columns = edit_columns = show_columns = ["owner", "year", "month", "amount"]
    search_columns = ["owner", "year", "month"]
    order_columns = ["year", "month", "amount"]
    base_order = ("year", "desc")
    label_columns = {"owner": _("Salesperson"), "year": _("Year"), "month": _("Month"), "amount": _("Target Amount")}
    validator = staticmethod(services.validate_target)

    @expose("/progress/")
    @has_access
    def progress(self):
        from app.core.formatting import local_today

        try:
            year = int(request.args.get("year") or local_today().year)
        except ValueError:
            year = local_today().year
        return self.render_template(
            "crm/progress.html",
            title=gettext("Target Progress"),
            year=year,
            rows=services.target_progress(db.session, year),
        )


_late_related_views()
