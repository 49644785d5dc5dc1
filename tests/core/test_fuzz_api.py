"""Schemathesis against /api/v1/_openapi: every operation the document declares, as an Admin and as a Salesperson.

Zero 5xx and zero responses outside the document (status, content type, body schema). The run is bounded and seeded
so CI replays the same cases: FUZZ_MAX_EXAMPLES (default 4) per operation in each generation mode (valid data, and
data that breaks the schema), FUZZ_SEED; FUZZ_OPERATIONS (a regex) replays a few operations. A deeper run:
`FUZZ_MAX_EXAMPLES=25 .venv/bin/python -m pytest tests/core/test_fuzz_api.py -k test_api_fuzz`.

It runs on an app of its own with a fresh SQLite database holding the seed and demo data, because the fuzzer creates,
edits and deletes freely and the session database is shared with every other test. Nothing is excluded: the document
has no user or role endpoints (FAB_ADD_SECURITY_API is off), and the fuzzing users are never in reach of the API.

schemathesis' pytest plugin (`from_fixture`) does not run under pytest 9.2 (it rewrites `node._nodeid`), so each
operation is driven here with Hypothesis over the documented `operation.as_strategy()`.
"""

import logging
import os
import re
import time
import zlib

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.apps import build_app, dispose_app
from tests.support.databases import PASSWORD
from tests.support.users import add_user

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "4"))
SEED = int(os.environ.get("FUZZ_SEED", "20260105"))
ONLY = re.compile(os.environ.get("FUZZ_OPERATIONS", ""))  # to replay a few operations: a regex on "GET /api/v1/..."
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZERS = {"admin": "Admin", "fuzz_sales": "Salesperson"}


@pytest.fixture(scope="module")
def fuzz_app(fresh_database, tmp_path_factory):
    """An app of its own on a fresh SQLite database (a clone of the template) with the demo data and one user per
    fuzzing role, answering errors as production does."""
    from app.cli import load_all_demo
    from app.extensions import db

    application = build_app(
        fresh_database("sqlite", "fuzz"),
        str(tmp_path_factory.mktemp("fuzz")),
        scope_tests=False,
        PROPAGATE_EXCEPTIONS=False,  # an escaped exception becomes the 500 a client would see
    )
    with application.app_context():
        load_all_demo()
        sm = application.appbuilder.sm
        for username, role in FUZZERS.items():
            if not sm.find_user(username=username):
                add_user(sm, username, role, last_name="模糊")
        db.session.remove()
    yield application
    dispose_app(application)


def bearer(app, username: str) -> dict:
    resp = app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": PASSWORD, "provider": "db", "refresh": False},
    )
    assert resp.status_code == 200, resp.data
    # identity: the WSGI transport hands schemathesis the body as sent, and a gzip/br body is no JSON to check
    return {"Authorization": f"Bearer {resp.json['access_token']}", "Accept-Encoding": "identity"}


class ServerErrors(logging.Handler):
    """The tracebacks the app logs while answering 500, so that a failure report says where it broke."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record):
        if record.exc_info:
            self.seen.append(logging.Formatter().formatException(record.exc_info))


def fuzz_operation(operation, headers: dict, mode: GenerationMode, stats: dict, errors: ServerErrors) -> str | None:
    """Up to MAX_EXAMPLES cases of one operation; the first failure's report, or None."""
    label = operation.label

    @hypothesis.seed(SEED ^ zlib.crc32(f"{mode} {label}".encode()))
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report below already says how to replay
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        stats["examples"] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    errors.seen.clear()
    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        return None  # nothing to negate (e.g. no parameters at all)
    except (Exception, BaseExceptionGroup) as exc:  # checks failed (schemathesis' FailureGroup), or the call raised
        trace = f"\nserver traceback:\n{errors.seen[-1]}" if errors.seen else ""
        return f"{mode} {label}: {exc}{trace}"
    return None


def load_schema(app):
    # the document is the Admin's to read (a Salesperson gets 403); calls then go out as each fuzzing user
    return schemathesis.openapi.from_wsgi("/api/v1/_openapi", app, headers=bearer(app, "admin"))


def fuzz(app, username: str, schema=None) -> tuple[int, int, list[str]]:
    """Every operation of the document in both generation modes: (operations, examples, failure reports)."""
    headers = bearer(app, username)
    schema = schema or load_schema(app)
    operations = [op for op in (r.ok() for r in schema.get_all_operations()) if ONLY.search(op.label)]
    stats = {"examples": 0}
    failures = []
    errors = ServerErrors()
    logging.getLogger().addHandler(errors)
    try:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failure = fuzz_operation(operation, headers, mode, stats, errors)
                if failure:
                    failures.append(failure)
    finally:
        logging.getLogger().removeHandler(errors)
    return len(operations), stats["examples"], failures


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app):
    return load_schema(fuzz_app)


@pytest.mark.parametrize("username", list(FUZZERS))
def test_api_fuzz(fuzz_app, fuzz_schema, username, capsys):
    started = time.monotonic()
    operations, examples, failures = fuzz(fuzz_app, username, fuzz_schema)
    with capsys.disabled():
        print(
            f"\nAPI fuzz as {username}: {operations} operations, {examples} examples, "
            f"{len(failures)} failing, {time.monotonic() - started:.0f} s"
        )
    assert not failures, "\n\n".join(failures)


# ---- what the fuzz found, pinned down as plain checks on the session app (each answered 500 before)


@pytest.mark.every_database("each driver refuses an id past the column its own way (OverflowError, out of range)")
def test_ids_past_the_id_columns_are_not_found(client, api_token):
    """An id the database driver cannot bind (OverflowError on SQLite, out of range on PostgreSQL), or no number."""
    admin = api_token("admin")
    huge = 10**20
    assert client.get(f"/api/v1/product/{huge}", headers=admin).status_code == 404
    assert client.put(f"/api/v1/product/{huge}", json={"name": "x"}, headers=admin).status_code == 404
    assert client.delete(f"/api/v1/unit/{huge}", headers=admin).status_code == 404
    assert client.delete("/api/v1/unit/abc", headers=admin).status_code == 404
    assert client.post(f"/api/v1/sales_order/{huge}/approve", headers=admin).status_code == 404
    resp = client.get(f"/api/v1/product/?q=(page:{huge},page_size:10)", headers=admin)  # an OFFSET past 64 bits
    assert resp.status_code == 422 and resp.json["message"], resp.json


@pytest.mark.every_database("the related id is looked up in SQL: bound as text, a boolean, a list on each driver")
def test_a_relation_must_name_an_existing_record(app, client, db, api_token, uid):
    """marshmallow-sqlalchemy built a new record from an unknown id, and failed with a TypeError on an object."""
    from app.base_data.models import ChannelType
    from app.crm.models import ChannelCustomer

    admin = api_token("admin")
    kinds = db.session.query(ChannelType).count()
    for value in ({"bogus": 1}, 99999999, "x", True, [1]):
        name = uid("关联")
        resp = client.post("/api/v1/channel_customer/", json={"name": name, "channel_type": value}, headers=admin)
        assert resp.status_code == 422, (value, resp.json)
        assert set(resp.json["message"]) == {"channel_type"}
        assert db.session.query(ChannelCustomer).filter_by(name=name).count() == 0
    assert db.session.query(ChannelType).count() == kinds


@pytest.mark.sqlite_only("the rison argument is parsed and refused before any query")
def test_an_unreadable_query_argument_is_a_400_in_the_catalog_words(client, api_token):
    """prison raised a ValueError on a number like "1e" (FAB catches only its ParserException)."""
    resp = client.get("/api/v1/product/?q=(page:1e)", headers=api_token("admin"))
    assert resp.status_code == 400
    assert resp.json["message"] == catalog_text(client, "The query argument “q” is not valid.")


def catalog_text(client, msgid: str) -> str:
    from flask_babel import gettext

    with client.application.test_request_context():
        return gettext(msgid)


@pytest.mark.sqlite_only("the missing provider is filled in before FAB reads the body; the user lookup is by name")
def test_api_login_without_a_provider_means_the_database(client):
    resp = client.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD})
    assert resp.status_code == 200 and resp.json["access_token"]
