"""Base REST API: same permissions and data scope as the pages; errors as JSON {"message"} in Chinese, never 500."""

import json
import urllib.parse
from copy import deepcopy

import prison
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import g, request
from flask_appbuilder.api import ModelRestApi, expose, protect, safe
from flask_appbuilder.api.convert import Model2SchemaConverter
from flask_appbuilder.hooks import before_request
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from marshmallow import ValidationError, fields as mm_fields
from marshmallow_sqlalchemy import field_for
from marshmallow_sqlalchemy.fields import Related
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from app.core import workflow
from app.core.errors import BusinessError, refused_by_database
from app.core.pickers import NOT_AVAILABLE
from app.core.roles import METHOD_PERMISSIONS
from app.core.usage import ensure_deletable
from app.core.validation import MAX_ID, parse_id
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


class ExistingRecord(Related):
    """A relation given by the id of an existing record. marshmallow-sqlalchemy builds a new record from an unknown
    id or from an object (a half-empty row inserted along, or a TypeError: a 500); here both are refused."""

    def _deserialize(self, value, *args, **kwargs):
        pk = parse_id(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
        if pk is None:
            raise ValidationError(gettext("Not a valid whole number."))
        record = self.session.get(self.related_model, pk)
        if record is None:
            raise ValidationError(str(NOT_AVAILABLE))
        return record


class RecordSchemaConverter(Model2SchemaConverter):
    """FAB's schemas, with relations loaded as ExistingRecord."""

    def _column2relation(self, datamodel, column, nested=False, parent_schema_name=None):
        field = super()._column2relation(datamodel, column, nested=nested, parent_schema_name=parent_schema_name)
        if nested:  # output only (list/show)
            return field
        existing = field_for(datamodel.obj, column.name, field_class=ExistingRecord)
        existing.required, existing.unique = field.required, field.unique
        return existing


# ---- the OpenAPI document as the API really answers (FAB's generated one differs in the places below)
DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
ERROR_CODES = ("400", "401", "403", "404", "409", "422")  # API.md: every refusal is a 4xx {"message"}
ERROR_DESCRIPTIONS = {
    "400": "Bad request",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "Not found",
    "405": "Method not allowed",
    "409": "Conflict",
    "422": "Could not process entity",
    "500": "Fatal error",
}
MESSAGE_SCHEMA = {
    "type": "object",
    "properties": {
        # a sentence, or for a body that fails validation {field: [messages]} (nested for lines)
        "message": {"anyOf": [{"type": "string"}, {"type": "object"}]}
    },
}
ACTION_RESPONSE = {
    "description": "Done",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"message": {"type": "string"}, "id": {"type": "integer"}, "status": {"type": "string"}},
            }
        }
    },
}
ACTION_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"comment": {"type": "string"}}},
        }
    },
}
ID_PARAMETER = {
    "in": "path",
    "name": "pk",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}


def document_field(self, field, ret, **kwargs) -> dict:
    """apispec attribute function: the JSON a field really carries."""
    if isinstance(field, mm_fields.Decimal):  # money and quantities travel as text, never as a float
        return {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN}
    if isinstance(field, mm_fields.DateTime) and ret.get("format") == "date-time":
        ret.pop("format")  # stored in UTC without an offset, which RFC 3339 "date-time" requires
        return {"pattern": DATETIME_PATTERN}
    if isinstance(field, ExistingRecord):
        return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    if isinstance(field, mm_fields.Nested) and not field.many and not field.required and not field.allow_none:
        # an optional relation that is not set is dumped as null
        target = {"$ref": ret.pop("$ref")} if "$ref" in ret else {"allOf": ret.pop("allOf", [])}
        return {"anyOf": [{"type": "object", "nullable": True}, target]}
    return {}


def _inline_schema(response: dict) -> dict:
    return response.get("content", {}).get("application/json", {}).get("schema", {})


def correct_document(api_spec, paths: list[str]) -> None:
    """Bring FAB's document in line with what the API answers, for the given paths."""
    for code, description in ERROR_DESCRIPTIONS.items():
        api_spec.components.responses[code] = {
            "description": description,
            "content": {"application/json": {"schema": MESSAGE_SCHEMA}},
        }
    for path in paths:
        for method, operation in api_spec._paths[path].items():
            responses = operation.setdefault("responses", {})
            if "{pk}" in path:
                declared = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
                if "pk" not in declared:
                    operation.setdefault("parameters", []).append(deepcopy(ID_PARAMETER))
            if not responses:  # our business actions (submit, approve, confirm …)
                responses["200"] = deepcopy(ACTION_RESPONSE)
                operation.setdefault("security", [{"jwt": []}])
                if method == "post":
                    operation.setdefault("requestBody", deepcopy(ACTION_BODY))
            for code in ERROR_CODES:
                responses.setdefault(code, {"$ref": f"#/components/responses/{code}"})
            if method == "get" and path.endswith("{pk}"):
                # GET /<resource>/abc matches FAB's PUT/DELETE route /<pk> (ids of any text) but not GET /<int:pk>
                responses.setdefault("405", {"$ref": "#/components/responses/405"})
            for response in responses.values():
                properties = _inline_schema(response).get("properties", {})
                if "id" in properties:  # FAB declares ids as text; ours are integers
                    properties["id"] = {"type": "integer"}
                if "ids" in properties:
                    properties["ids"] = {"type": "array", "items": {"type": "integer"}}
                for key in ("add_columns", "edit_columns"):  # _info: one entry per column, not an object
                    if key in properties:
                        properties[key] = {"type": "array", "items": {"type": "object"}}
                childs = properties.get("result", {}).get("items", {}).get("properties", {}).get("childs")
                if childs:  # FAB's menu API: a separator is the string "-"
                    childs["items"] = {"anyOf": [{"type": "object"}, {"type": "string"}]}


class BaseApi(ScopedViewMixin, ModelRestApi):
    method_permission_name = METHOD_PERMISSIONS
    allow_browser_login = True
    page_size = 20
    max_page_size = 100
    model2schemaconverter = RecordSchemaConverter

    def __init__(self):
        self._declare()
        super().__init__()

    def add_api_spec(self, api_spec) -> None:
        plugin = next(p for p in api_spec.plugins if isinstance(p, MarshmallowPlugin))
        if document_field not in [getattr(f, "__func__", None) for f in plugin.converter.attribute_functions]:
            plugin.converter.add_attribute_function(document_field)
        before = set(api_spec._paths)
        super().add_api_spec(api_spec)
        ours = [p for p in api_spec._paths if p not in before]
        # FAB's own APIs (login, menu) are documented before any of ours: correct them with the first one
        fab = [] if getattr(api_spec, "_fab_corrected", False) else sorted(before)
        api_spec._fab_corrected = True
        correct_document(api_spec, fab + ours)

    # ---- a `q` argument FAB cannot read: its parser may raise (a 500) or FAB answers in English
    @before_request(only=["get", "get_list", "info"])
    def refuse_unreadable_query(self):
        raw = request.args.get("q")
        if not raw:
            return None
        try:
            prison.loads(raw)
        except prison.decoder.ParserException:
            try:  # FAB's own fallback: the argument as JSON
                json.loads(urllib.parse.parse_qs(f"q={raw}")["q"][0])
            except Exception:
                return self.response_400(gettext("The query argument “q” is not valid."))
        except Exception:  # the parser itself failing, e.g. on a number like "1e"
            return self.response_400(gettext("The query argument “q” is not valid."))
        return None

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
        except (SQLAlchemyError, OverflowError) as e:
            db.session.rollback()
            refused = refused_by_database(e)
            return self.response(refused.status_code, message=str(refused))

    def get_headless(self, pk, **kwargs):
        return self._guard(lambda: super(BaseApi, self).get_headless(pk, **kwargs))

    def get_list_headless(self, **kwargs):
        return self._guard(lambda: super(BaseApi, self).get_list_headless(**kwargs))

    def post_headless(self):
        return self._guard(super().post_headless)

    # FAB routes PUT and DELETE as /<pk> of any text: only an id may reach the database
    def put_headless(self, pk):
        if parse_id(pk) is None:
            return self.response_404()
        return self._guard(lambda: super(BaseApi, self).put_headless(pk))

    def delete_headless(self, pk):
        if parse_id(pk) is None:
            return self.response_404()
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
