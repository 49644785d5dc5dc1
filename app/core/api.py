"""Base REST API: same permissions and data scope as the pages; errors as JSON {"message"} in Chinese, never 500."""

from flask import g, request
from flask_appbuilder.api import ModelRestApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from marshmallow import fields as mm_fields
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from app.core import workflow
from app.core.errors import BusinessError
from app.core.roles import METHOD_PERMISSIONS
from app.core.usage import ensure_deletable
from app.core.views import ScopedViewMixin
from app.extensions import db


def translate_marshmallow_messages() -> None:
    """marshmallow's default field errors, in the request's language (lazy: evaluated when the error is built)."""
    from flask_babel import lazy_gettext as _

    mm_fields.Field.default_error_messages = {
        "required": _("This field is required."),
        "null": _("This field may not be empty."),
        "validator_failed": _("Invalid value."),
    }
    mm_fields.String.default_error_messages = {"invalid": _("Not a valid text."), "invalid_utf8": _("Not valid text.")}
    mm_fields.Integer.default_error_messages = {"invalid": _("Not a valid whole number.")}
    mm_fields.Number.default_error_messages = {
        "invalid": _("Not a valid number."),
        "too_large": _("Number too large."),
    }
    mm_fields.Decimal.default_error_messages = {"special": _("Not a valid number.")}
    mm_fields.Boolean.default_error_messages = {"invalid": _("Not a valid true/false value.")}
    mm_fields.Date.default_error_messages = {
        "invalid": _("Not a valid date (YYYY-MM-DD)."),
        "format": _("Not a valid date (YYYY-MM-DD)."),
    }
    from marshmallow import Schema, validate

    validate.Length.message_max = _("At most {max} characters.")
    validate.Length.message_min = _("At least {min} characters.")
    validate.Length.message_all = _("Between {min} and {max} characters.")
    validate.Length.message_equal = _("Exactly {equal} characters.")
    Schema._default_error_messages = {
        **Schema._default_error_messages,
        "unknown": _("This field cannot be set."),
        "type": _("The request body must be a JSON object."),
    }
    mm_fields.DateTime.default_error_messages = {
        "invalid": _("Not a valid date and time."),
        "format": _("Not a valid date and time."),
    }


class BaseApi(ScopedViewMixin, ModelRestApi):
    method_permission_name = METHOD_PERMISSIONS
    allow_browser_login = True
    page_size = 20
    max_page_size = 100

    def __init__(self):
        self._declare()
        super().__init__()

    # ---- Chinese messages instead of FAB's English ones
    def response_400(self, message=None):
        return self.response(400, message=message or gettext("The request is not correct."))

    def response_401(self):
        return self.response(401, message=gettext("Please log in."))

    def response_403(self):
        return self.response(403, message=gettext("You do not have permission for this."))

    def response_404(self):
        return self.response(404, message=gettext("Not found."))

    def response_422(self, message=None):
        return self.response(422, message=message or gettext("The data could not be processed."))

    def response_500(self, message=None):
        return self.response(500, message=gettext("Internal error; the change was not saved."))

    # ---- the same rules as the pages
    def pre_add(self, item):
        self._check(item)

    def pre_update(self, item):
        self._check(item)

    def pre_delete(self, item):
        ensure_deletable(db.session, item)

    def _guard(self, call):
        if request.method in ("POST", "PUT") and not isinstance(request.get_json(silent=True), dict):
            return self.response_400(gettext("The request body must be a JSON object."))
        try:
            return call()
        except BusinessError as e:
            db.session.rollback()
            return self.response(e.status_code, message=str(e))
        except IntegrityError:
            db.session.rollback()
            return self.response_422(
                gettext("This conflicts with an existing record (a duplicate or an entry in use).")
            )
        except OperationalError:  # a deadlock or lock timeout: the other change won, this one changed nothing
            db.session.rollback()
            return self.response(409, message=gettext("Someone else was changing the same data; try again."))
        except SQLAlchemyError:
            db.session.rollback()
            return self.response_422()

    def post_headless(self):
        return self._guard(super().post_headless)

    def put_headless(self, pk):
        return self._guard(lambda: super(BaseApi, self).put_headless(pk))

    def delete_headless(self, pk):
        return self._guard(lambda: super(BaseApi, self).delete_headless(pk))


class ActionApiMixin:
    """Business actions as POST /<resource>/<id>/<action> with an optional JSON body; one transaction each."""

    def _body(self) -> dict:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}

    def _comment(self):
        comment = self._body().get("comment")
        return comment if isinstance(comment, str) else None

    def _run(self, fn):
        try:
            result = fn()
            db.session.commit()
            return result if result is not None else self.response(200, message=gettext("OK"))
        except BusinessError as e:
            db.session.rollback()
            return self.response(e.status_code, message=str(e))
        except OperationalError:  # a deadlock or lock timeout: nothing was changed
            db.session.rollback()
            return self.response(409, message=gettext("Someone else was changing the same data; try again."))

    def _item(self, pk):
        """The document in the caller's scope, or a 404 refusal."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            raise BusinessError(gettext("Not found."), 404)
        return item

    def _apply(self, pk, service):
        """Run service(session, item, user, comment) on one document in scope; answer its new status."""

        def run():
            item = self._item(pk)
            service(db.session, item, g.user, self._comment())
            db.session.commit()
            return self._state(item)

        return self._run(run)

    def _state(self, item):
        db.session.refresh(item)
        return self.response(200, message=gettext("OK"), id=item.id, status=item.status)


class WorkflowApiMixin(ActionApiMixin):
    """submit / approve / reject (comment required) through the area's services (API.md)."""

    workflow_services: dict = {}

    def _workflow(self, name):
        return self.workflow_services.get(name) or getattr(workflow, name)

    def _transition(self, name, pk):
        return self._apply(pk, self._workflow(name))

    @expose("/<int:pk>/submit", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_submit")
    def api_submit(self, pk):
        """Submit for approval (提交审核); optional {"comment"}."""
        return self._transition("submit", pk)

    @expose("/<int:pk>/approve", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_approve")
    def api_approve(self, pk):
        """Approve at the current level (审核通过); optional {"comment"}."""
        return self._transition("approve", pk)

    @expose("/<int:pk>/reject", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_reject")
    def api_reject(self, pk):
        """Reject (驳回); {"comment"} — the reason — is required."""
        return self._transition("reject", pk)

    @expose("/<int:pk>/reopen", methods=["POST"])
    @protect()
    @safe
    @permission_name("api_reopen")
    def api_reopen(self, pk):
        """A rejected document back to draft."""
        return self._transition("reopen", pk)


class LinesApiMixin:
    """A document posted with its lines: {"...header...", "lines": [{"product_id", "qty", "unit_price",
    "discount", "note"}]}. The lines leave the body before FAB's schema sees it and are saved by the area's
    service in the same transaction; on PUT, leaving "lines" out keeps the current lines."""

    def save_document(self, item, rows, is_new: bool) -> None:
        raise NotImplementedError

    def _take_lines(self) -> None:
        body = request.get_json(silent=True)
        g.api_lines = body.pop("lines", None) if isinstance(body, dict) else None

    def post_headless(self):
        self._take_lines()
        return super().post_headless()

    def put_headless(self, pk):
        self._take_lines()
        return super().put_headless(pk)

    def pre_add(self, item):
        if g.api_lines is None:
            raise BusinessError(gettext("“lines” is required: at least one line."), 400)
        self.save_document(item, g.api_lines, True)
        super().pre_add(item)

    def pre_update(self, item):
        self.save_document(item, g.api_lines, False)
        super().pre_update(item)
