"""FAB's security manager with our Chinese titles; roles come from app.core.roles."""

from flask import jsonify
from flask_appbuilder.security.sqla.manager import SecurityManager
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
