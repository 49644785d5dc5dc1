"""Pickers for relations to large tables: the page carries only the chosen option, the rest is searched on demand.

FAB's form dropdowns load every row of the related table, and its Select2 AJAX endpoint is gone in 5.x. Here a model
whose rows run into the thousands declares the columns people search it by:

    __picker_search__ = ("model_no", "name")
    __picker_order__ = "-id"  # optional: the order of the results (default: the first search column)

and then, with nothing declared on any view,

- every add/edit form of a BaseModelView offers its many-to-one relations to that model as a picker (PickerField);
- document lines (LinesFormMixin) pick their products the same way;
- `GET /<view>/picker/<name>?form=add|edit&q=&page=` answers Select2's ajax requests, 20 rows a page.

The search, the label of a chosen id and the check of a posted id all go through one PickerSource: the data scope
(scope_query) plus the filters the form declares in add_form_query_rel_fields / edit_form_query_rel_fields (not in
the pool, enabled only …). A posted id is loaded by primary key through it, never by listing the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from flask import jsonify, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext, lazy_gettext as _
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect, or_
from sqlalchemy.orm import lazyload
from wtforms import widgets
from wtforms.fields import SelectFieldBase
from wtforms.validators import DataRequired, Optional, StopValidation

from app.core.scope import scope_query
from app.core.validation import parse_id
from app.extensions import db

PAGE_SIZE = 20
MAX_PAGE = 500  # 10,000 rows in: people type rather than scroll further
MAX_QUERY = 100
BLANK = ("", "__None")  # what a cleared picker posts (FAB's blank option is "__None")
LINE_PREFIX = "line-"  # picker names of document line columns: line-product_id

NOT_AVAILABLE = _("The chosen record does not exist or is not available here; choose one from the list.")


def search_columns(model) -> tuple[str, ...]:
    return tuple(getattr(model, "__picker_search__", None) or ())


def is_large(model) -> bool:
    """Models declaring search columns are picked on demand, never listed whole."""
    return bool(search_columns(model))


def _pk_column(model):
    return sa_inspect(model).primary_key[0]


def pk_of(obj):
    identity = sa_inspect(obj).identity
    return identity[0] if identity else None


class PickerSource:
    """The rows a picker may offer: the model within the user's scope, narrowed by the form's own filters."""

    def __init__(self, model, narrow: Callable | None = None):
        self.model = model
        self.narrow = narrow  # query -> query: the form's filters (FAB Filters.apply_all, or a function)

    def visible(self):
        """Scope only: what the user may see (labels of values already on a document)."""
        return scope_query(db.session.query(self.model), self.model)

    def offered(self):
        """Scope and the form's filters: what the user may choose."""
        query = self.visible()
        return self.narrow(query) if self.narrow is not None else query

    def get(self, raw):
        """The offered row with this id, or None; one query by primary key."""
        pk = parse_id(raw)
        if pk is None:
            return None
        return self.offered().filter(_pk_column(self.model) == pk).one_or_none()

    def labels(self, ids: Iterable) -> dict[str, str]:
        """{str(id): label} of visible rows, for the options a page shows already chosen."""
        wanted = {pk for pk in (parse_id(i) for i in ids if i not in (None, "")) if pk is not None}
        if not wanted:
            return {}
        rows = self.visible().options(lazyload("*")).filter(_pk_column(self.model).in_(wanted)).all()
        return {str(pk_of(row)): str(row) for row in rows}

    def _order(self):
        declared = getattr(self.model, "__picker_order__", None) or search_columns(self.model)[0]
        column = getattr(self.model, declared.lstrip("-"))
        return column.desc() if declared.startswith("-") else column.asc()

    def search(self, text: str, page: int) -> dict:
        """One page of Select2's ajax answer: every word of the text must match one of the search columns."""
        query = self.offered().options(lazyload("*"))  # a label needs the row's own columns, not its relations
        columns = [getattr(self.model, c) for c in search_columns(self.model)]
        for word in text.split():
            query = query.filter(or_(*(c.icontains(word, autoescape=True) for c in columns)))
        pk = _pk_column(self.model)
        rows = query.order_by(self._order(), pk).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1).all()
        return {
            "results": [{"id": pk_of(row), "text": str(row)} for row in rows[:PAGE_SIZE]],
            "pagination": {"more": len(rows) > PAGE_SIZE},
        }


class PickerWidget(widgets.Select):
    """A <select> holding the chosen option only; pickers.js turns it into a Select2 searching the endpoint."""

    def __call__(self, field, **kwargs):
        kwargs["class"] = f"{kwargs.get('class', '')} form-control app-picker".strip()
        kwargs["data-picker-url"] = field.search_url()
        return super().__call__(field, **kwargs)


class PickerField(SelectFieldBase):
    """A many-to-one field whose posted id is loaded by primary key through the view's PickerSource."""

    widget = PickerWidget()

    def __init__(self, label=None, validators=None, view=None, column: str = "", form_kind: str = "add", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.view, self.column, self.form_kind = view, column, form_kind
        self._data = None
        self._posted = None  # an id as posted, looked up on first use
        self._checked = True  # False while the value was set by the page (obj, URL filter) and not yet checked

    def source(self) -> PickerSource:
        return self.view.picker_source(self.column, self.form_kind)

    def search_url(self) -> str:
        return url_for(f"{self.view.endpoint}.picker", name=self.column, form=self.form_kind)

    def _get_data(self):
        if self._posted is not None:
            self._data = self.source().get(self._posted)
            self._checked = self._data is not None
            if self._data is not None:
                self._posted = None
        return self._data

    def _set_data(self, value):
        self._data, self._posted = value, None
        self._checked = value is None

    data = property(_get_data, _set_data)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip()
        if raw in BLANK:
            self.data = None
        else:
            self._data, self._posted = None, raw

    def pre_validate(self, form):
        data = self.data
        # StopValidation: one message, not "required" as well
        if self._posted is not None:  # posted, but not among the rows the user may choose
            raise StopValidation(str(NOT_AVAILABLE))
        if data is not None and not self._checked:
            if self.source().get(pk_of(data)) is None:
                raise StopValidation(str(NOT_AVAILABLE))
            self._checked = True

    def iter_choices(self):
        data = self.data
        yield ("", "", data is None, {})
        if data is not None:
            yield (str(pk_of(data)), str(data), True, {})


class SearchPickerField(PickerField):
    """The list's filter on a large relation: options only for the filters in force (FAB's filter script sets the
    value of the copy it makes of this select; pickers.js turns the copy into a search)."""

    def active_values(self) -> list[str]:
        pattern = re.compile(rf"^_flt_[0-9]+_{re.escape(self.column)}$")
        return [v for k, values in request.args.lists() if pattern.match(k) for v in values if v.strip()]

    def iter_choices(self):
        yield ("", "", True, {})
        labels = self.source().labels(self.active_values())
        for pk, label in labels.items():
            yield (pk, label, False, {})

    def pre_validate(self, form):
        return None


class PickerViewMixin:
    """Part of BaseModelView: large relations of the add/edit forms and of the list's filters become pickers,
    searched at /picker/<name>?form=add|edit|search."""

    FORM_KINDS = ("add", "edit", "search")

    def _init_forms(self):
        # before FAB builds the forms: the picker fields go in as extra fields, which FAB uses as they are
        self._picker_columns = {kind: self._large_relations(kind) for kind in self.FORM_KINDS}
        self._picker_sources = {}
        for kind, columns in self._picker_columns.items():
            extra = dict(getattr(self, f"{kind}_form_extra_fields", None) or {})
            for column in columns:
                extra[column] = self._picker_field(kind, column)
            setattr(self, f"{kind}_form_extra_fields", extra)
        super()._init_forms()

    def _large_relations(self, kind) -> list[str]:
        extra = getattr(self, f"{kind}_form_extra_fields", None) or {}
        return [
            column
            for column in getattr(self, f"{kind}_columns", None) or []
            if column not in extra
            and self.datamodel.is_relation_many_to_one(column)
            and is_large(self.datamodel.get_related_model(column))
        ]

    def _picker_field(self, kind, column) -> PickerField:
        if kind == "search":
            label = (self.label_columns or {}).get(column, column)
            return SearchPickerField(label, view=self, column=column, form_kind=kind)
        validators = list((self.validators_columns or {}).get(column, []))
        validators.append(Optional() if self.datamodel.is_nullable(column) else DataRequired())
        return PickerField(
            (self.label_columns or {}).get(column, column),
            validators=validators,
            description=(self.description_columns or {}).get(column, ""),
            view=self,
            column=column,
            form_kind=kind,
        )

    def picker_source(self, name: str, kind: str) -> PickerSource | None:
        """The source of a form relation named `name` on the add or edit form, or None."""
        if name not in self._picker_columns.get(kind, ()):
            return None
        key = (kind, name)
        if key not in self._picker_sources:
            related = self.datamodel.get_related_interface(name)
            declared = (getattr(self, f"{kind}_form_query_rel_fields", None) or {}).get(name)
            narrow = related.get_filters().add_filter_list(declared).apply_all if declared else None
            self._picker_sources[key] = PickerSource(related.obj, narrow)
        return self._picker_sources[key]

    def _may_use_form(self, kind: str) -> bool:
        if kind == "search":  # whoever may read the list may filter it
            return self.appbuilder.sm.has_access(
                f"can_{self.get_method_permission('list')}", self.class_permission_name
            )
        if kind in self.exclude_route_methods:
            return False
        if self.include_route_methods is not None and kind not in self.include_route_methods:
            return False
        return self.appbuilder.sm.has_access(f"can_{self.get_method_permission(kind)}", self.class_permission_name)

    @expose("/picker/<name>")
    def picker(self, name):
        """Select2's ajax search: {"results": [{"id", "text"}], "pagination": {"more"}}; errors as {"message"}."""
        if not current_user.is_authenticated:
            return jsonify(message=gettext("Please log in.")), 401
        kind = request.args.get("form", "add")
        if kind not in self.FORM_KINDS:
            return jsonify(message=gettext("The request is not correct.")), 400
        # the search serves the form: whoever may not fill in the form may not search through it
        if not self._may_use_form(kind):
            return jsonify(message=gettext("You do not have permission for this.")), 403
        source = self.picker_source(name, kind)
        if source is None:
            return jsonify(message=gettext("Not found.")), 404
        raw_page = request.args.get("page") or "1"
        page = int(raw_page) if re.fullmatch(r"[0-9]{1,6}", raw_page) else 0
        if not 1 <= page <= MAX_PAGE:
            return jsonify(message=gettext("The page must be a whole number from 1 to %(n)s.", n=MAX_PAGE)), 400
        text = request.args.get("q", "").strip()
        if len(text) > MAX_QUERY:
            return jsonify(message=gettext("The search text is too long (at most %(n)s characters).", n=MAX_QUERY)), 400
        return jsonify(source.search(text, page))
