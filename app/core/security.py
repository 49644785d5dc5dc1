"""FAB's security manager with our Chinese titles; roles come from app.core.roles."""

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _


class SalesUserView(UserDBModelView):
    list_title = _("Users")
    show_title = _("User details")
    add_title = _("Add user")
    edit_title = _("Edit user")


class SalesSecurityManager(SecurityManager):
    userdbmodelview = SalesUserView
