"""Fixtures: the real app on SQLite always, and on each database listed in TEST_DATABASE_URLS (comma-separated).

Each database is emptied, migrated from nothing to head with `flask db upgrade`, seeded, and given one user per role.
"""

import os
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests import owned_fixture

PASSWORD = "Test-Passw0rd!"
USERS = {
    "admin": "Admin",
    "sales1": "Salesperson",
    "sales2": "Salesperson",
    "manager": "SalesManager",
    "purchaser": "Purchaser",
    "keeper": "WarehouseKeeper",
    "finance": "Finance",
    "exec": "Executive",
}


class FreshUserClient(FlaskClient):
    """Tests that hold an app context (the `db` fixture) make Flask reuse it, and its `g`, for every request;
    Flask-Login caches the user in `g`, so clear it so that each client is seen as its own user."""

    def open(self, *args, **kwargs):
        from flask import g, has_app_context

        if has_app_context():
            # the logged-in user (Flask-Login), the JWT and its user (flask-jwt-extended), FAB's g.user
            for key in [k for k in vars(g) if k in ("user", "_login_user") or k.startswith("_jwt_extended")]:
                g.pop(key, None)
        return super().open(*args, **kwargs)


def database_urls(tmp_root) -> list[str]:
    urls = [f"sqlite:///{tmp_root}/test.db"]
    extra = os.environ.get("TEST_DATABASE_URLS", "")
    urls += [u.strip() for u in extra.split(",") if u.strip()]
    return urls


def _ids():
    extra = [u for u in os.environ.get("TEST_DATABASE_URLS", "").split(",") if u.strip()]
    return ["sqlite"] + [sa.engine.make_url(u.strip()).get_backend_name() for u in extra]


def empty_database(url: str) -> None:
    """Drop everything in a server database so that migrations start from nothing."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        elif engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
            for (name,) in conn.execute(sa.text("SHOW TABLES")).fetchall():
                conn.execute(sa.text(f"DROP TABLE `{name}`"))
            conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


def make_config(url: str, instance_dir: str):
    os.environ.setdefault("INSTANCE_DIR", instance_dir)
    from config import TestConfig

    cfg = TestConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.SECRET_KEY = "test-secret-key-of-at-least-32-bytes!!"
    return cfg


@pytest.fixture(scope="session", params=range(len(_ids())), ids=_ids())
def app(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("db")
    url = database_urls(root)[request.param]
    if not url.startswith("sqlite"):
        try:
            empty_database(url)
        except sa.exc.OperationalError as exc:
            pytest.skip(f"database {url} not reachable: {exc}")
    from flask_migrate import upgrade

    from app import create_app
    from app.cli import seed_all
    from app.extensions import db

    application = create_app(make_config(url, str(root)), register_extra=owned_fixture.register)
    application.test_client_class = FreshUserClient
    with application.app_context():
        upgrade()
        for table in owned_fixture.TEST_TABLES:
            table.create(db.engine, checkfirst=True)
        seed_all(verbose=False)
        sm = application.appbuilder.sm
        for username, role in USERS.items():
            if not sm.find_user(username=username):
                sm.add_user(
                    username=username,
                    first_name=username,
                    last_name="测试",
                    email=f"{username}@t.invalid",
                    role=sm.find_role(role),
                    password=PASSWORD,
                )
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db(app):
    from app.extensions import db as _db

    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username: str, password: str = PASSWORD):
    resp = client.post("/login/", data={"username": username, "password": password}, follow_redirects=False)
    assert resp.status_code == 302, resp.data[:500]
    return client


@pytest.fixture
def as_user(app):
    """as_user('sales1') → a test client logged in as that user."""

    def make(username: str):
        return login(app.test_client(), username)

    return make


@pytest.fixture
def api_token(app):
    def make(username: str, password: str = PASSWORD) -> dict:
        client = app.test_client()
        resp = client.post(
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
        )
        assert resp.status_code == 200, resp.data
        return {"Authorization": f"Bearer {resp.json['access_token']}"}

    return make


@pytest.fixture
def uid():
    return lambda prefix="T": f"{prefix}{uuid.uuid4().hex[:8]}"


def user_id(app, username: str) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=username).id
