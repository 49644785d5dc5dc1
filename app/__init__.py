"""Application factory: config, database, CSRF, Flask-AppBuilder, then each business area."""

import os

from flask import Flask
from flask_appbuilder import AppBuilder

from app.extensions import csrf, db, migrate


def create_app(config: object | None = None, register_extra=None) -> Flask:
    """Build the app; `register_extra(appbuilder)` lets tests add views of their own before permissions sync."""
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_DIR") or None)
    if config is None:
        from config import Config, ProductionConfig

        config = ProductionConfig() if os.environ.get("APP_ENV") == "production" else Config()
    app.config.from_object(config)
    from app.core.validation import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter  # before any route is added: ids past the columns' range 404

    from app.core.i18n import compile_catalogs

    compile_catalogs(app.config["BABEL_TRANSLATION_DIRECTORIES"])

    from app.core import db_setup

    db.init_app(app)
    db_setup.register(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    # Before AppBuilder, so that the REST API stays exempt and every form/delete/action is protected.
    csrf.init_app(app)

    from flask_login import user_logged_in, user_logged_out

    from app.core import hardening, production
    from app.core.security import forget_permissions

    production.install(app)
    hardening.install(app)  # security headers with a CSP nonce, password policy, login lockout settings

    app.before_request(forget_permissions)  # permissions are cached per request (see SalesSecurityManager)
    user_logged_in.connect(forget_permissions, app)
    user_logged_out.connect(forget_permissions, app)
    appbuilder = AppBuilder(update_perms=False)
    with app.app_context():
        appbuilder.init_app(app, db.session)
        from app import aftersales, base_data, core, crm, inventory, opening, promotions, purchase, reports, sales

        core.register(app, appbuilder)
        from app.core import backup_views

        backup_views.register(appbuilder)
        base_data.register(appbuilder)
        crm.register(appbuilder)
        sales.init_app(app)
        sales.register(appbuilder)
        aftersales.register(appbuilder)
        promotions.register(appbuilder)
        purchase.register(appbuilder)
        inventory.init_app(app)
        inventory.register(appbuilder)
        opening.register(appbuilder)
        reports.init_app(app)
        reports.register(appbuilder)
        if register_extra is not None:
            register_extra(appbuilder)
        from app.core.menu import navbar_menu, order_menu

        order_menu(appbuilder)
        app.add_template_global(navbar_menu)
        appbuilder.post_init()

    from app.cli import register_cli

    register_cli(app)
    return app
