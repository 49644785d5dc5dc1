"""FAB's security manager with our Chinese titles; roles come from app.core.roles."""

from flask import g, has_request_context, jsonify
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import gettext, lazy_gettext as _


class SalesUserView(UserDBModelView):
    list_title = _("Users")
    show_title = _("User details")
    add_title = _("Add user")
    edit_title = _("Edit user")


class SalesSecurityManager(SecurityManager):
    userdbmodelview = SalesUserView
    # FAB's user statistics chart loads Google Charts from the internet: not offline, not in mainland China
    userstatschartview = None

    def create_jwt_manager(self, app):
        """JWT errors in the API's format: {"message": ...} in the user's language, 401."""
        jwt_manager = super().create_jwt_manager(app)

        def refuse(*_args):
            return jsonify(message=gettext("Please log in.")), 401

        jwt_manager.unauthorized_loader(refuse)
        jwt_manager.invalid_token_loader(refuse)
        jwt_manager.expired_token_loader(refuse)
        jwt_manager.revoked_token_loader(refuse)
        jwt_manager.needs_fresh_token_loader(refuse)
        return jwt_manager

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids) -> bool:
        """A page asks about a hundred permissions (menu, buttons, related views): within one request they are read
        once per set of roles, in one query, instead of one query each. The cache lives in `g` and is dropped at
        the start of every request, so a permission change counts from the next request."""
        if not has_request_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        cache = g.setdefault("_role_permissions", {})
        key = tuple(sorted(role_ids))
        granted = cache.get(key)
        if granted is None:
            pv = self.permissionview_model
            rows = (
                self.session.query(self.viewmenu_model.name, self.permission_model.name)
                .select_from(pv)
                .join(assoc_permissionview_role, pv.id == assoc_permissionview_role.c.permission_view_id)
                .join(self.viewmenu_model, pv.view_menu_id == self.viewmenu_model.id)
                .join(self.permission_model, pv.permission_id == self.permission_model.id)
                .filter(assoc_permissionview_role.c.role_id.in_(key))
            )
            granted = cache[key] = set(rows)
        return (view_name, permission_name) in granted


def forget_permissions() -> None:
    """before_request: every request reads permissions afresh."""
    g.pop("_role_permissions", None)
