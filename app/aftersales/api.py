"""The `service_request` REST resource (API.md): CRUD plus handling steps, with the pages' services, permissions and
data scope.

Times are UTC in ISO 8601; a time sent with an offset (`+08:00`) is converted. Filter overdue requests with
`(col:due_at,opr:overdue,value:1)`.
"""

from flask import g
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name

from app.aftersales import models as m, services, views
from app.core.api import ActionApiMixin, BaseApi
from app.core.roles import METHOD_PERMISSIONS, WRITE
from app.extensions import db


class ServiceRequestApi(ActionApiMixin, BaseApi):
    """服务单: {"end_customer", "sales_order", "kind", "priority", "content", "assignee", "due_at"}."""

    datamodel = SQLAInterface(m.ServiceRequest)
    resource_name = "service_request"
    class_permission_name = "ServiceRequest"
    method_permission_name = {
        **METHOD_PERMISSIONS,
        "api_start": WRITE,
        "api_resolve": WRITE,
        "api_close": WRITE,
        "api_reopen": WRITE,
    }
    list_columns = show_columns = [
        "id",
        "number",
        "created_at",
        "end_customer.id",
        "end_customer.name",
        "sales_order.id",
        "sales_order.number",
        "kind",
        "priority",
        "content",
        "assignee.id",
        "assignee.username",
        "status",
        "due_at",
        "started_at",
        "resolution",
        "resolved_at",
        "satisfaction",
        "closed_at",
        "owner.id",
        "owner.username",
    ]
    add_columns = views.ServiceRequestView.add_columns
    edit_columns = views.ServiceRequestView.edit_columns
    search_columns = views.ServiceRequestView.search_columns
    search_filters = {"due_at": [views.FilterOverdue]}
    order_columns = ["id", "number", "created_at", "due_at"]
    add_query_rel_fields = views.PICKERS
    edit_query_rel_fields = {"assignee": views.HANDLERS}
    validator = staticmethod(services.validate_request)

    def _init_model_schemas(self):
        super()._init_model_schemas()
        # the column is NOT NULL, yet left out (or null) it is set from the priority by the service
        for schema in (self.add_model_schema, self.edit_model_schema):
            schema.fields["due_at"].required = False
            schema.fields["due_at"].allow_none = True

    def pre_delete(self, item):
        services.ensure_deletable(item)
        super().pre_delete(item)

    def _step(self, pk, run):
        def step():
            item = self._item(pk)
            run(item, self._body())
            db.session.commit()
            return self._state(item)

        return self._run(step)

    @expose("/<int:pk>/start", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_start")
    def api_start(self, pk):
        """开始处理; optional {"comment"}. Without an assignee, the caller becomes it."""
        return self._step(pk, lambda item, body: services.start(db.session, item, g.user, body.get("comment")))

    @expose("/<int:pk>/resolve", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_resolve")
    def api_resolve(self, pk):
        """已解决; {"resolution"} (or {"comment"}) — what was done — is required."""
        return self._step(
            pk,
            lambda item, body: services.resolve(
                db.session, item, g.user, body.get("resolution") or body.get("comment")
            ),
        )

    @expose("/<int:pk>/close", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_close")
    def api_close(self, pk):
        """关闭 a resolved request; optional {"satisfaction": 1–5, "comment"}."""
        return self._step(
            pk,
            lambda item, body: services.close(db.session, item, g.user, body.get("satisfaction"), body.get("comment")),
        )

    @expose("/<int:pk>/reopen", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_reopen")
    def api_reopen(self, pk):
        """重新打开 a resolved or closed request; {"comment"} — the reason — is required."""
        return self._step(pk, lambda item, body: services.reopen(db.session, item, g.user, body.get("comment")))
