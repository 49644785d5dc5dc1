"""The fixtures every test shares: the real app on SQLite always, and on each database of TEST_DATABASE_URLS.

Which databases a test runs on is said next to it, with a one-line reason a reader can check:
- `@pytest.mark.every_database("…")`: its outcome can depend on the database (SQL dates and GROUP BY, locking,
  bulk writes, migrations, backup, constraints and overflow, scope queries, money stored in NUMERIC columns);
- `@pytest.mark.sqlite_only("…")`: logic no database can change (rendering, translations, headers, Python rules).
A test that uses the `app` fixture without either marker (on itself, its class or its module) is a usage error.

Each kind is migrated once per run into a template that every fresh database is cloned from (tests/support/
databases.py). Each user signs in through the login form, and through the API, once per database per run; later
clients carry that session (a second tab) or that token. A test about signing in itself calls `login()`.
"""

import gc
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import owned
from tests.support.apps import build_app, dispose_app, freeze_heap
from tests.support.databases import (
    PASSWORD,
    USERS,
    clone_database,
    create_database,
    kinds,
    server_url,
    worker_name,
)
from tests.support.pages import base_data_views, csrf_token, send
from tests.support.users import FreshUserClient, add_user, login, user_id

DATABASE_MARKERS = ("every_database", "sqlite_only")


def pytest_collection_finish(session):
    freeze_heap()


def pytest_unconfigure(config):
    gc.freeze()  # nothing is freed one by one at exit


def pytest_configure(config):
    config.addinivalue_line("markers", "every_database(reason): runs on SQLite and every TEST_DATABASE_URLS server")
    config.addinivalue_line("markers", "sqlite_only(reason): runs on SQLite only: no database can change the outcome")


def _database_marker(definition):
    for marker in definition.iter_markers():  # closest first: a test's own marker wins over its module's
        if marker.name in DATABASE_MARKERS:
            return marker
    return None


def pytest_generate_tests(metafunc):
    if "db_kind" not in metafunc.fixturenames:
        return
    marker = _database_marker(metafunc.definition)
    if marker is None or not (marker.args or marker.kwargs.get("reason")):
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: say which databases it runs on, with a reason: "
            "@pytest.mark.every_database('…') or @pytest.mark.sqlite_only('…') (see tests/conftest.py)"
        )
    chosen = ["sqlite"] if marker.name == "sqlite_only" else kinds()
    metafunc.parametrize("db_kind", chosen, indirect=True, scope="session")


# ------------------------------------------------------------------ databases and the app


class Templates:
    """One database per kind, migrated from nothing, seeded and given USERS (and the scope tests' tables), built the
    first time a test needs that kind; nobody stays connected to it, so that it can be cloned."""

    def __init__(self, root: Path):
        self.root = root
        self.urls: dict[str, str] = {}

    def url(self, kind: str) -> str:
        if kind not in self.urls:
            self.urls[kind] = self._build(kind)
        return self.urls[kind]

    def clone(self, kind: str, url: str) -> str:
        clone_database(self.url(kind), url)
        return url

    def _build(self, kind: str) -> str:
        if kind == "sqlite":
            url = f"sqlite:///{self.root}/template.db"
        else:
            url = server_url(kind, worker_name(f"{sa.engine.make_url(server_url(kind)).database}_template"))
            try:
                create_database(url)
            except sa.exc.OperationalError as exc:
                pytest.skip(f"{kind} server of TEST_DATABASE_URLS not reachable: {exc}")
        from flask_migrate import upgrade

        from app.cli import seed_all
        from app.extensions import db

        application = build_app(url, str(self.root))
        with application.app_context():
            upgrade()
            for table in owned.TEST_TABLES:
                table.create(db.engine, checkfirst=True)
            seed_all(verbose=False)
            sm = application.appbuilder.sm
            for username, role in USERS.items():
                add_user(sm, username, role)
            db.session.remove()
            db.engine.dispose()
        return url


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def fresh_database(templates, tmp_path_factory):
    """fresh_database(kind, name) → the URL of a database of that kind, named `name` on the server (with the
    worker's suffix under xdist; a file on SQLite), holding what a fresh start holds: the migrated schema, the seed
    and USERS."""

    def make(kind: str, name: str) -> str:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp(name)}/{name}.db"
        else:
            url = server_url(kind, worker_name(name))
            if url is None:
                pytest.skip(f"no {kind} URL in TEST_DATABASE_URLS")
        try:
            return templates.clone(kind, url)
        except sa.exc.OperationalError as exc:
            pytest.skip(f"{kind} server of TEST_DATABASE_URLS not reachable: {exc}")

    return make


@pytest.fixture(scope="session")
def db_kind(request) -> str:
    """The database kind of this test's session app, set by pytest_generate_tests from the test's marker."""
    return request.param


@pytest.fixture(scope="session")
def app(db_kind, fresh_database, tmp_path_factory):
    """The session's app on a fresh database of db_kind: the configured one on a server, a file on SQLite."""
    if db_kind == "sqlite":
        url = fresh_database("sqlite", "test")
    else:
        url = fresh_database(db_kind, sa.engine.make_url(server_url(db_kind)).database)
    application = build_app(url, str(tmp_path_factory.mktemp("instance")))
    application.test_client_class = FreshUserClient
    yield application
    dispose_app(application)


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


# ------------------------------------------------------------------ signing in

_page_sessions: dict[tuple[str, str], str] = {}  # (database, username) → the session cookie of a form login
_api_tokens: dict[tuple[str, str, str], tuple[float, str]] = {}  # (database, username, password) → (when, token)
TOKEN_REUSE_SECONDS = 600  # well within the access token's 15 minutes


@pytest.fixture
def as_user(app):
    """as_user('sales1') → a new test client logged in as that user."""
    database = app.config["SQLALCHEMY_DATABASE_URI"]

    def make(username: str):
        client = app.test_client()
        cookie = _page_sessions.get((database, username))
        if cookie is None:
            login(client, username)
            _page_sessions[(database, username)] = client.get_cookie("session").value
        else:
            client.set_cookie("session", cookie)
        return client

    return make


@pytest.fixture
def api_token(app):
    """api_token('sales1') → the Authorization header of an access token of that user."""
    database = app.config["SQLALCHEMY_DATABASE_URI"]

    def make(username: str, password: str = PASSWORD) -> dict:
        key = (database, username, password)
        known = _api_tokens.get(key)
        if known is None or time.monotonic() - known[0] > TOKEN_REUSE_SECONDS:
            resp = app.test_client().post(
                "/api/v1/security/login",
                json={"username": username, "password": password, "provider": "db", "refresh": False},
            )
            assert resp.status_code == 200, resp.data
            known = _api_tokens[key] = (time.monotonic(), resp.json["access_token"])
        return {"Authorization": f"Bearer {known[1]}"}

    return make


@pytest.fixture
def sales_world(app, db, uid):
    """A product pair, an end customer and a level-B channel owned by sales1, and a 5% rate for level B."""
    from app.base_data.models import ChannelLevel, Product
    from app.crm.models import ChannelCustomer, EndCustomer
    from app.sales.models import CommissionRate

    sales1 = user_id(app, "sales1")
    level = db.session.query(ChannelLevel).filter_by(name="B").one()
    rate = db.session.query(CommissionRate).filter_by(level_id=level.id).one_or_none()
    if rate is None:
        db.session.add(CommissionRate(level_id=level.id, rate=Decimal("5.00")))
    else:
        rate.rate = Decimal("5.00")
    p1 = Product(model_no=uid("M"), name="网关", sale_price=Decimal("120.00"), floor_price=Decimal("100.00"))
    p2 = Product(model_no=uid("M"), name="传感器", sale_price=Decimal("19.99"), floor_price=Decimal("0"))
    customer = EndCustomer(name=uid("业主"), owner_id=sales1, credit_limit=Decimal("0"))
    channel = ChannelCustomer(name=uid("渠道"), owner_id=sales1, level_id=level.id)
    db.session.add_all([p1, p2, customer, channel])
    db.session.commit()
    return {"p1": p1.id, "p2": p2.id, "customer": customer.id, "channel": channel.id, "level": level.id}


@pytest.fixture
def uid():
    return lambda prefix="T": f"{prefix}{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------ the app as production runs it


@pytest.fixture(scope="module")
def csrf_app(app, tmp_path_factory):
    """A second app on the session's database with CSRF protection on, as in production."""
    application = build_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        str(tmp_path_factory.mktemp("csrf")),
        WTF_CSRF_ENABLED=True,
        PROPAGATE_EXCEPTIONS=False,  # answer errors as production does, instead of raising into the test
    )
    yield application
    dispose_app(application)


@pytest.fixture
def csrf_admin(csrf_app):
    """A client of the CSRF app logged in as admin through the real login form (which needs its token)."""
    client = csrf_app.test_client()
    resp = send(client, "POST", "/login/", data={"username": "admin", "password": PASSWORD})
    assert resp.status_code != 302, "the login form accepted a post without a CSRF token"
    token = csrf_token(client.get("/login/").get_data(as_text=True))
    resp = client.post("/login/", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return client


@pytest.fixture
def page_urls(app, uid):
    """Every menu page, the login and Swagger pages, and list/add/show of each base-data view."""
    from app.base_data.models import Product, SalespersonProfile
    from app.extensions import db

    with app.app_context():
        if db.session.query(Product).count() == 0:
            db.session.add(Product(model_no=uid("M"), name="离线测试"))
        if db.session.query(SalespersonProfile).count() == 0:
            user = app.appbuilder.sm.find_user(username="keeper")
            db.session.add(SalespersonProfile(user_id=user.id, phone="13800000000"))
        db.session.commit()
        db.session.remove()
    urls = {"/", "/swagger/v1"}
    with app.test_request_context():
        for item in app.appbuilder.menu.get_list():
            for child in [item, *(item.childs or [])]:
                if child.name != "-" and child.get_url() not in ("", "#"):
                    urls.add(child.get_url())
        for view in base_data_views(app):
            urls.add(f"/{view.route_base.strip('/')}/list/")
            urls.add(f"/{view.route_base.strip('/')}/add")
            first = db.session.query(view.datamodel.obj.id).order_by(view.datamodel.obj.id).first()
            assert first is not None, f"no row to show for {view.__class__.__name__}"
            urls.add(f"/{view.route_base.strip('/')}/show/{first[0]}")
        db.session.remove()
    return sorted(urls)


# ------------------------------------------------------------------ how long each group took

GROUP = "test group"  # the user property that carries it to the reports (and from pytest-xdist's workers)
_spent: dict[str, list] = {}  # group → [tests, seconds summed, first start, last stop]


def _group(item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "db_kind" in callspec.params:
        return callspec.params["db_kind"]
    if "/e2e/" in item.nodeid:
        return "e2e (Chromium)"
    return "own databases and servers"


def pytest_collection_modifyitems(items):
    for item in items:
        item.user_properties.append((GROUP, _group(item)))


def pytest_runtest_logreport(report):
    group = dict(report.user_properties).get(GROUP)
    if group is None:
        return
    spent = _spent.setdefault(group, [0, 0.0, report.start, report.stop])
    spent[1] += report.duration
    spent[2], spent[3] = min(spent[2], report.start), max(spent[3], report.stop)
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        spent[0] += 1


def pytest_terminal_summary(terminalreporter):
    if not _spent:
        return
    terminalreporter.section("time per test group")
    terminalreporter.write_line(f"{'group':28} {'tests':>5} {'seconds':>9} {'first start → last end':>24}")
    for group, (tests, seconds, first, last) in sorted(_spent.items(), key=lambda kv: -kv[1][1]):
        terminalreporter.write_line(f"{group:28} {tests:5} {seconds:9.1f} {last - first:22.1f} s")
