"""FAB's security manager with our Chinese titles; roles come from app.core.roles. Login lockout and the password
policy (app/core/hardening.py) are applied here, on FAB's own login and password paths."""

import logging

from flask import flash, g, has_request_context, jsonify, redirect, request
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.hooks import before_request
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_appbuilder.security.views import (
    AuthDBView,
    ResetMyPasswordView as FabResetMyPasswordView,
    ResetPasswordView as FabResetPasswordView,
    UserDBModelView,
)
from flask_appbuilder.validators import PasswordComplexityValidator
from flask_babel import gettext, lazy_gettext as _
from flask_jwt_extended import current_user as current_user_jwt
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from wtforms import PasswordField
from wtforms.validators import DataRequired

from app.core import hardening

log = logging.getLogger(__name__)


def _policy_password_field(label) -> PasswordField:
    return PasswordField(
        label,
        description=hardening.password_policy_text(),
        validators=[DataRequired(), PasswordComplexityValidator()],
        widget=BS3PasswordFieldWidget(),
    )


class SalesUserView(UserDBModelView):
    list_title = _("Users")
    show_title = _("User details")
    add_title = _("Add user")
    edit_title = _("Edit user")
    # consecutive failed logins: at LOGIN_MAX_FAILURES the account is locked (see the unlock action)
    list_columns = [*UserDBModelView.list_columns, "fail_login_count"]
    add_form_extra_fields = {
        **UserDBModelView.add_form_extra_fields,
        "password": _policy_password_field(_("Password")),
    }

    @action("unlock", _("Unlock"), _("Unlock the selected users?"), "fa-unlock")
    def unlock(self, items):
        items = [u for u in (items if isinstance(items, list) else [items]) if u is not None]
        for user in items:
            hardening.unlock(self.datamodel.session, user)
        flash(gettext("Unlocked: %(names)s", names=", ".join(u.username for u in items)), "info")
        return redirect(self.get_redirect())


class PolicyResetPasswordForm(ResetPasswordForm):
    password = _policy_password_field(_("Password"))


# Same class names as FAB's: the endpoints and permission names (SELF_SERVICE in roles.py) stay the same.
class ResetPasswordView(FabResetPasswordView):
    form = PolicyResetPasswordForm


class ResetMyPasswordView(FabResetMyPasswordView):
    form = PolicyResetPasswordForm


class SalesAuthDBView(AuthDBView):
    @property
    def invalid_login_message(self):
        """A locked account says so (and for how long) instead of FAB's "invalid login"."""
        return hardening.login_refusal() or gettext("Invalid login. Please try again.")


class SalesSecurityApi(SecurityApi):
    @before_request(only=["login"])
    def default_provider(self):
        """FAB's login schema leaves "provider" optional, then reads it unconditionally (a KeyError: a 500)."""
        try:
            body = request.get_json()  # not silent: FAB's own request.json then gets this very dict
        except HTTPException:
            return None  # not JSON: FAB answers that itself
        if isinstance(body, dict):
            body.setdefault("provider", "db")
        return None

    def response_401(self):
        return self.response(401, message=hardening.login_refusal() or gettext("Invalid login. Please try again."))


class SalesSecurityManager(SecurityManager):
    userdbmodelview = SalesUserView
    authdbview = SalesAuthDBView
    security_api = SalesSecurityApi
    resetpasswordview = ResetPasswordView
    resetmypasswordview = ResetMyPasswordView
    # FAB's user statistics chart loads Google Charts from the internet: not offline, not in mainland China
    userstatschartview = None

    def register_views(self):
        super().register_views()
        # FAB throttles only the login form; the API's login guesses passwords just as well
        if self.is_auth_limited:
            for view in self.appbuilder.baseviews:
                if isinstance(view, SecurityApi):
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)

    def auth_user_db(self, username, password):
        """FAB's check, refused up front while the account is locked (the password is not even tried)."""
        if username:
            user = self.find_user(username=username) or self.find_user(email=username)
            minutes = hardening.locked_minutes(self.session, user) if user is not None else 0
            if minutes:
                hardening.refuse_login(hardening.lockout_message(minutes))
                log.warning("login refused for locked account %s", user.username)
                return None
        return super().auth_user_db(username, password)

    def update_user_auth_stat(self, user, success=True):
        if success:
            return super().update_user_auth_stat(user, success)
        hardening.record_failed_login(self.session, user)
        minutes = hardening.locked_minutes(self.session, user)
        if minutes:  # this failure was the one that locked the account: say so now
            hardening.refuse_login(hardening.lockout_message(minutes))
        self.on_user_login_failed(user)

    def reset_password(self, userid, password):
        """A password set by an administrator also lifts a lockout."""
        user = self.get_user_by_id(userid)
        if user is not None:
            user.fail_login_count = 0
        super().reset_password(userid, password)

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
        return (view_name, permission_name) in self._granted(role_ids)

    def _granted(self, role_ids) -> set[tuple[str, str]]:
        """(view, permission) pairs held by these roles, read once per request."""
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
        return granted

    def has_access(self, permission_name: str, view_name: str) -> bool:
        """FAB's check, with the user and their roles resolved once per request instead of on every call: a page asks
        about every menu entry (eighty on the navbar), and resolving them was half of a 403 page's time. The granted
        set is _granted's, read once per request. Nothing is kept while nobody is resolved (a JWT
        is verified after the first checks may run), and login and logout drop what was kept."""
        if not has_request_context():
            return super().has_access(permission_name, view_name)
        check = g.get("_access_check")
        if check is None:
            user = self._request_user()
            if user is None:  # anonymous so far: FAB's public check, not kept
                return self.is_item_public(permission_name, view_name)
            check = g._access_check = self._access_check(user)
        return check(permission_name, view_name)

    def _request_user(self):
        """The user FAB's has_access would check: an API key's, the session's, the JWT's; False for an inactive or
        vanished user (refused everything), None when nobody is logged in."""
        if getattr(g, "_api_key_user", False) and hasattr(g, "user"):
            user = self._get_safe_user(g.user)
            if user and user.is_active:
                return user
        if current_user.is_authenticated:
            user = self._get_safe_user(g.user)
            return user if user and user.is_active else False
        if current_user_jwt and current_user_jwt.is_active:
            return current_user_jwt
        return None

    def _access_check(self, user):
        if user is False:
            return lambda _permission, _view: False
        roles = self.get_user_roles(user)
        builtin = [role for role in roles if role.name in self.builtin_roles]
        role_ids = [role.id for role in roles if role.name not in self.builtin_roles]
        granted = self._granted(role_ids) if role_ids else set()

        def check(permission_name: str, view_name: str) -> bool:
            if (view_name, permission_name) in granted:
                return True
            return any(self._has_access_builtin_roles(role, permission_name, view_name) for role in builtin)

        return check


def forget_permissions(*_args, **_kwargs) -> None:
    """before_request, and on login and logout: permissions are read afresh."""
    g.pop("_role_permissions", None)
    g.pop("_access_check", None)
