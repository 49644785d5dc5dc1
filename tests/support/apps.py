"""Apps beside the session's: the same code on a database of the test's choosing, with settings of its own (CSRF on,
the login rate limit on, errors answered as in production …)."""

import gc

from tests.support import owned
from tests.support.databases import make_config


def build_app(url: str, instance_dir: str, *, scope_tests: bool = True, **settings):
    """An app on `url` with the test configuration and `settings` over it; `scope_tests` adds the scope tests'
    own pages (tests/support/owned.py), as the session app has them."""
    from app import create_app

    cfg = make_config(url, instance_dir)
    for name, value in settings.items():
        setattr(cfg, name, value)
    app = create_app(cfg, register_extra=owned.register if scope_tests else None)
    freeze_heap()
    return app


def freeze_heap() -> None:
    """What lives now (modules, apps: millions of objects that stay) is kept out of the cyclic garbage collector's
    full passes, each of which walked all of it: a sixth of the suite's time, and a minute at exit. Frozen objects
    are still freed when nothing refers to them; only cycles among them would stay."""
    gc.collect()
    gc.freeze()


def dispose_app(app) -> None:
    """Give back the app's connections (a PostgreSQL database with a connection left open cannot be cloned)."""
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
