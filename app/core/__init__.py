"""Shared mechanisms: scope, roles, numbering, workflow, audit, Excel, formatting, base views and APIs."""

from flask_babel import lazy_gettext as _

from app.core import fab_strings  # noqa: F401 - FAB strings our catalog translates
from app.core.api import translate_marshmallow_messages
from app.core.formatting import register_filters


def register(app, appbuilder) -> None:
    register_filters(app)
    from app.core.menu import install_name_format

    install_name_format()
    from app.core import http_errors

    http_errors.register(app)
    from app.core.views import download_handshake

    app.after_request(download_handshake)  # exports tell the page when the file has arrived (progress.js)
    from app.core.charts import vendor

    app.register_blueprint(vendor)
    from app.core.health import health

    app.register_blueprint(health)
    translate_marshmallow_messages()
    from app.core.admin_views import register_admin_views

    register_admin_views(appbuilder)


# msgids used by http_errors (kept literal here so that extraction sees them)
HTTP_ERROR_STRINGS = [
    _("This action is not allowed this way."),
    _("Too many attempts; please wait a moment and try again."),
    _("Home"),
]
