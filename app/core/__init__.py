"""Shared mechanisms: scope, roles, numbering, workflow, audit, Excel, formatting, base views and APIs."""

from app.core import fab_strings  # noqa: F401 - FAB strings our catalog translates
from app.core.api import translate_marshmallow_messages
from app.core.formatting import register_filters


def register(app, appbuilder) -> None:
    register_filters(app)
    translate_marshmallow_messages()
    from app.core.admin_views import register_admin_views

    register_admin_views(appbuilder)
