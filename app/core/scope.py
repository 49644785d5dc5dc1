"""Data scope: a Salesperson sees and changes only records they own.

Declared once on the model (OwnedMixin); every entry point applies it through this module: list/show/edit/delete
and bulk actions of the pages, the REST API, Excel export, related-field dropdowns and the picker search.
"""

from flask import g, has_request_context
from flask_appbuilder.models.filters import BaseFilter
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect, or_

# Roles whose holders see every owner's records; a user with none of them is limited to their own.
ALL_DATA_ROLES = frozenset({"Admin", "SalesManager", "Finance", "Executive", "Purchaser", "WarehouseKeeper"})


def _user():
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user
    return None


def current_user_id() -> int | None:
    user = _user()
    return user.id if user is not None else None


def sees_all(user=None) -> bool:
    """True outside a request (CLI, seeding) and for users holding any all-data role."""
    if user is None:
        if not has_request_context():
            return True
        user = _user()
        if user is None:
            return False
    return any(role.name in ALL_DATA_ROLES for role in user.roles)


def is_owned(model) -> bool:
    return bool(getattr(model, "__owned__", False))


def scope_query(query, model):
    """Restrict a query on an owned model to the current user's records unless they see all.

    A model may name further user columns in `__scope_also__` that bring a record into that user's scope too (the
    assignee of a service request sees it although the customer is someone else's)."""
    if not is_owned(model) or sees_all():
        return query
    uid = current_user_id()
    also = getattr(model, "__scope_also__", ())
    if also:
        return query.filter(or_(model.owner_id == uid, *(getattr(model, column) == uid for column in also)))
    return query.filter(model.owner_id == uid)


class FilterInScope(BaseFilter):
    """FAB base filter applying scope_query; usable in base_filters and *_query_rel_fields."""

    name = ""

    def apply(self, query, value):
        return scope_query(query, self.model)


class FilterEnabled(BaseFilter):
    """Dropdowns offer only enabled dictionary entries."""

    name = ""

    def apply(self, query, value):
        return query.filter(self.model.enabled.is_(True))


# Roles whose holders can own customers and sales documents (the owner dropdown offers only them).
OWNER_ROLES = ("Salesperson", "SalesManager")


class FilterOwnerCandidates(BaseFilter):
    """Owner dropdowns offer active salespeople and sales managers, not every account."""

    name = ""

    def apply(self, query, value):
        from flask_appbuilder.security.sqla.models import Role

        user = self.model
        return query.filter(user.active.is_(True), user.roles.any(Role.name.in_(OWNER_ROLES)))


def related_models(model, to_many: bool = False) -> dict[str, type]:
    """Many-to-one relations (dropdowns); with `to_many`, the one-to-many and many-to-many ones (multi-selects) too."""
    return {
        rel.key: rel.mapper.class_
        for rel in sa_inspect(model).relationships
        if to_many or rel.direction.name == "MANYTOONE"
    }


def declare_scope(view) -> None:
    """Set base filters and dropdown filters on a ModelView or ModelRestApi from the model's declarations."""
    model = view.datamodel.obj
    base = list(view.base_filters or [])
    # a view may replace owner scope by a filter of its own (the public pool shows unowned customers to all)
    if is_owned(model) and getattr(view, "owner_scope", True) and not any(f[1] is FilterInScope for f in base):
        base.append(["id", FilterInScope, None])
    view.base_filters = base
    # pages (ModelView) and the REST API (ModelRestApi) name their dropdown filters differently
    is_page = hasattr(view, "add_form_query_rel_fields")
    names = {
        "add": "add_form_query_rel_fields" if is_page else "add_query_rel_fields",
        "edit": "edit_form_query_rel_fields" if is_page else "edit_query_rel_fields",
        "search": "search_form_query_rel_fields" if is_page else "search_query_rel_fields",
    }
    to_one = related_models(model)
    for kind, attr in names.items():
        rel_fields = dict(getattr(view, attr, None) or {})
        # every relation, lists too: FAB offers their values (the API's _info, multi-selects) through these filters
        for key, target in related_models(model, to_many=True).items():
            filters = list(rel_fields.get(key, []))
            if is_owned(target):
                filters.append(["id", FilterInScope, None])
            if kind != "search" and key in to_one and hasattr(target, "enabled"):
                filters.append(["id", FilterEnabled, None])
            if kind != "search" and key == "owner" and is_owned(model):
                filters.append(["id", FilterOwnerCandidates, None])
            if filters:
                rel_fields[key] = filters
        setattr(view, attr, rel_fields)


def enforce_owner(item) -> None:
    """New owned records belong to their creator; a scoped user cannot hand a record to someone else.

    Edits reach here only for records already in scope, so forcing the owner back to the user is enough.
    """
    if not is_owned(type(item)):
        return
    user = _user()
    if user is None:
        return
    if not sees_all(user):
        if getattr(type(item), "__scope_also__", ()) and sa_inspect(item).persistent and item.owner_id != user.id:
            return  # reached through another column (e.g. as its assignee): the record stays its owner's
        item.owner = user
        item.owner_id = user.id
    elif item.owner_id is None and getattr(item, "owner", None) is None:
        item.owner = user
        item.owner_id = user.id


def get_in_scope(session, model, pk):
    """Fetch one record by id within scope; None when it does not exist or is not visible."""
    query = scope_query(session.query(model), model).filter(sa_inspect(model).primary_key[0] == pk)
    return query.one_or_none()


def ensure_visible(obj) -> None:
    """Refuse a reference to a record outside the user's scope (e.g. an API body naming another's customer)."""
    if obj is None or not is_owned(type(obj)) or sees_all():
        return
    from app.core.errors import NotFound

    uid = current_user_id()
    if obj.owner_id != uid and all(getattr(obj, c) != uid for c in getattr(type(obj), "__scope_also__", ())):
        raise NotFound(_not_found())


def _not_found():
    from flask_babel import lazy_gettext

    return lazy_gettext("Not found.")
