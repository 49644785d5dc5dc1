"""Apps beside the session's: the same code on a database of the test's choosing, with settings of its own (CSRF on,
the login rate limit on, errors answered as in production …)."""

from tests.support import owned
from tests.support.databases import make_config


def build_app(url: str, instance_dir: str, *, scope_tests: bool = True, **settings):
    """An app on `url` with the test configuration and `settings` over it; `scope_tests` adds the scope tests'
    own pages (tests/support/owned.py), as the session app has them."""
    from app import create_app

    cfg = make_config(url, instance_dir)
    for name, value in settings.items():
        setattr(cfg, name, value)
    return create_app(cfg, register_extra=owned.register if scope_tests else None)


def dispose_app(app) -> None:
    """Give back the app's connections (a PostgreSQL database with a connection left open cannot be cloned)."""
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
