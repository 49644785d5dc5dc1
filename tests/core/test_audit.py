"""操作日志: every change of documents, customers, prices and users is recorded (who, when, IP, before/after), workflow
transitions with their from/to state; Admin searches and exports the log; nobody else sees it and nobody edits it."""

import datetime as dt
import html
import io
import json
import re
from decimal import Decimal

import openpyxl
import prison
import pytest
from sqlalchemy import Numeric, delete, func, update

from app.core import audit
from app.core.audit import AuditLog, AuditLogReadOnly
from app.core.formatting import to_local
from app.core.models import utcnow
from tests.support.databases import PASSWORD
from tests.support.users import login, user_id

pytestmark = pytest.mark.every_database(
    "entries are written in the changing transaction and read back: NUMERIC amounts to the cent, statements' row "
    "counts, rollbacks, and the log's LIKE and time-range filters run in SQL"
)

D = Decimal
CLIENT_IP = "10.20.30.40"

# Tables of a category (below) that are deliberately not audited, each with its reason.
NOT_AUDITED = {
    "stock_move": "the append-only stock ledger: each line is written by posting an audited stock document and is "
    "never edited",
    "stock_balance": "running totals derived from the stock ledger",
    "product_cost": "the moving-average cost derived from the stock ledger",
    "sales_daily_summary": "a statistics cache rebuilt from the approved orders",
}


# ------------------------------------------------------------------ helpers


def categories(app) -> dict[str, str]:
    """table → why it holds business documents, customers, prices or users, derived from the mapped models: the
    user table; numbered or approvable documents; owned records (customers, contacts, customer prices …); anything
    with a money/quantity/rate column (prices, price breaks, promotions, lines, invoices); and rows that belong to a
    document or owned record (a foreign key to one) without being one themselves."""
    from flask_appbuilder import Model

    from app.core.numbering import NumberedMixin
    from app.core.workflow import WorkflowMixin

    user_table = app.appbuilder.sm.user_model.__tablename__
    models = [
        m.class_
        for m in Model.registry.mappers
        if m.class_.__module__.startswith("app.") or m.class_.__tablename__ == user_table
    ]
    found = {}
    for model in models:
        table = model.__table__
        if table.name == user_table:
            found[table.name] = "user"
        elif issubclass(model, (NumberedMixin, WorkflowMixin)):
            found[table.name] = "document"
        elif getattr(model, "__owned__", False):
            found[table.name] = "owned record"
        elif any(isinstance(col.type, Numeric) for col in table.columns):
            found[table.name] = "price or amount"
    core = {name for name, why in found.items() if why in ("document", "owned record")}
    for model in models:
        parents = {fk.column.table.name for fk in model.__table__.foreign_keys} & core
        if model.__tablename__ not in found and parents:
            found[model.__tablename__] = f"detail of {', '.join(sorted(parents))}"
    return found


def mark(db) -> int:
    db.session.rollback()
    return db.session.query(func.coalesce(func.max(AuditLog.id), 0)).scalar()


def entries(db, since: int, table: str | None = None, row_id=None, action: str | None = None) -> list[AuditLog]:
    db.session.rollback()  # see what the requests committed
    query = db.session.query(AuditLog).filter(AuditLog.id > since)
    if table:
        query = query.filter(AuditLog.table_name == table)
    if row_id is not None:
        query = query.filter(AuditLog.row_id == str(row_id))
    if action:
        query = query.filter(AuditLog.action == action)
    return query.order_by(AuditLog.id).all()


def values(entry, side: str) -> dict:
    text = getattr(entry, side)
    return json.loads(text) if text else {}


def from_ip(client, ip: str = CLIENT_IP):
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def page_client(app, username: str):
    return from_ip(login(app.test_client(), username))


def token(app, username: str) -> dict:
    resp = app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": PASSWORD, "provider": "db", "refresh": False},
    )
    assert resp.status_code == 200
    return {"Authorization": f"Bearer {resp.json['access_token']}"}


def assert_by(entry, app, username: str, ip: str = CLIENT_IP) -> None:
    """Who, from where and when, in the table and as the administrator sees it on the page and through the API."""
    assert entry.username == username and entry.user_id == user_id(app, username)
    assert entry.ip == ip
    assert entry.at is not None and abs(utcnow() - entry.at) < dt.timedelta(minutes=5)
    shown = app.test_client().get(f"/api/v1/audit_log/{entry.id}", headers=token(app, "admin")).json["result"]
    assert (shown["user_id"], shown["username"], shown["ip"]) == (entry.user_id, username, ip)
    assert (shown["action"], shown["before"], shown["after"]) == (entry.action, entry.before, entry.after)
    page = html.unescape(login(app.test_client(), "admin").get(f"/auditlogview/show/{entry.id}").get_data(as_text=True))
    assert username in page and ip in page and f"{to_local(entry.at):%Y-%m-%d %H:%M:%S}" in page
    for side in ("before", "after"):
        for key in values(entry, side):
            assert f'"{key}":' in page


def audit_view(app):
    return next(v for v in app.appbuilder.baseviews if type(v).__name__ == "AuditLogView")


def flt(app, column: str, arg_name: str) -> str:
    """The list URL argument of a search filter of the 操作日志 page (FAB numbers them per column)."""
    for i, f in enumerate(audit_view(app)._filters.get_search_filters()[column]):
        if f.arg_name == arg_name:
            return f"_flt_{i}_{column}"
    raise LookupError(column, arg_name)


def listed_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r"/auditlogview/show/(\d+)", page)}


def api_search(client, headers, filters: list[tuple[str, str, object]]):
    q = prison.dumps({"filters": [{"col": c, "opr": o, "value": v} for c, o, v in filters], "page_size": 100})
    return client.get("/api/v1/audit_log/", query_string={"q": q}, headers=headers)


@pytest.fixture
def world(app, db, uid):
    from app.base_data.models import Product
    from app.crm.models import EndCustomer

    sales1 = user_id(app, "sales1")
    product = Product(model_no=uid("AM"), name=uid("审计产品"), sale_price=D("120.00"), floor_price=D("100.00"))
    customer = EndCustomer(name=uid("审计业主"), owner_id=sales1, credit_limit=D("0"))
    db.session.add_all([product, customer])
    db.session.commit()
    return {"product": product.id, "customer": customer.id}


def new_order(client, headers, world) -> int:
    body = {
        "end_customer": world["customer"],
        "doc_date": "2026-11-20",
        "project_name": "审计项目",
        "lines": [{"product_id": world["product"], "qty": "2", "unit_price": "150.00"}],
    }
    resp = client.post("/api/v1/sales_order/", json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


# ------------------------------------------------------------------ what is audited


@pytest.mark.sqlite_only("the categories come from the mapped models and the audit registry in Python; no query")
def test_every_document_customer_price_and_user_table_is_audited(app):
    found = categories(app)
    # the classification finds each kind (a guard against a rule that silently matches nothing)
    for table in ("ab_user", "sales_order", "purchase_contract", "stock_in", "receipt", "end_customer", "contact"):
        assert table in found, table
    for table in ("product", "customer_price", "price_break", "promotion", "sales_order_line", "opening_balance"):
        assert table in found, table
    from flask_appbuilder import Model

    models = {m.class_.__tablename__: m.class_ for m in Model.registry.mappers}
    missing = sorted(
        f"{table} ({why})"
        for table, why in found.items()
        if table not in NOT_AUDITED and not audit.is_audited(models[table])
    )
    assert missing == [], "not in the audit trail: " + ", ".join(missing)
    # the exclusions are real, still in a category, and indeed left out (no stale or contradictory entries)
    for table, reason in NOT_AUDITED.items():
        assert table in found and reason and not audit.is_audited(models[table]), table


@pytest.mark.sqlite_only("the categories come from the mapped models and the audit registry in Python; no query")
def test_log_tables_are_not_in_a_category(app):
    """The log, the workflow's own history, counters and import records are bookkeeping, not business data."""
    found = categories(app)
    for table in ("audit_log", "approval_record", "doc_sequence", "import_job"):
        assert table not in found


# ------------------------------------------------------------------ documents, through the API


def test_document_created_through_the_api_and_its_workflow_are_recorded(app, db, world):
    since = mark(db)
    sales1 = from_ip(app.test_client())
    order_id = new_order(sales1, token(app, "sales1"), world)
    (created,) = entries(db, since, "sales_order", order_id, "create")
    assert_by(created, app, "sales1")
    after = values(created, "after")
    assert created.before is None
    assert after["status"] == "draft" and after["owner_id"] == user_id(app, "sales1") and after["number"]
    assert after["total_amount"] == "300.00"
    (line,) = entries(db, since, "sales_order_line", action="create")
    assert values(line, "after")["unit_price"] == "150.00" and values(line, "after")["order_id"] == order_id

    # submit (sales1), reject with a reason and approve (manager): each with its from/to state
    manager = from_ip(app.test_client(), "10.20.30.41")
    resp = sales1.post(f"/api/v1/sales_order/{order_id}/submit", json={}, headers=token(app, "sales1"))
    assert resp.status_code == 200, resp.json
    resp = manager.post(
        f"/api/v1/sales_order/{order_id}/reject", json={"comment": "价格再议"}, headers=token(app, "manager")
    )
    assert resp.status_code == 200, resp.json
    assert (
        sales1.post(f"/api/v1/sales_order/{order_id}/reopen", json={}, headers=token(app, "sales1")).status_code == 200
    )
    assert (
        sales1.post(f"/api/v1/sales_order/{order_id}/submit", json={}, headers=token(app, "sales1")).status_code == 200
    )
    resp = manager.post(
        f"/api/v1/sales_order/{order_id}/approve", json={"comment": "同意"}, headers=token(app, "manager")
    )
    assert resp.status_code == 200, resp.json

    steps = [e for e in entries(db, since, "sales_order", order_id) if e.action not in ("create", "update")]
    assert [e.action for e in steps] == ["submit", "reject", "reopen", "submit", "approve"]
    assert [(values(e, "before")["status"], values(e, "after")["status"]) for e in steps] == [
        ("draft", "submitted"),
        ("submitted", "rejected"),
        ("rejected", "draft"),
        ("draft", "submitted"),
        ("submitted", "approved"),
    ]
    assert values(steps[1], "after")["comment"] == "价格再议" and values(steps[4], "after")["comment"] == "同意"
    assert_by(steps[0], app, "sales1")
    assert_by(steps[4], app, "manager", "10.20.30.41")
    # the transition itself is one entry, not also a column "update"; what approving sets besides is one
    (approved_at,) = entries(db, since, "sales_order", order_id, "update")
    assert values(approved_at, "before") == {"approved_at": None} and list(values(approved_at, "after")) == [
        "approved_at"
    ]


def test_a_services_guarded_update_is_recorded_with_the_values_it_changed(app, db, world):
    """收款 moves the order's received amount and then its payment status with UPDATE statements, not through an
    edited object: each statement's change is an entry."""
    sales1 = from_ip(app.test_client())
    headers = token(app, "sales1")
    order_id = new_order(sales1, headers, world)
    since = mark(db)
    body = {"order": order_id, "amount": "100.00", "method": "bank", "doc_date": "2026-11-22"}
    resp = sales1.post("/api/v1/receipt/", json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    (receipt,) = entries(db, since, "receipt", resp.json["id"], "create")
    assert values(receipt, "after")["amount"] == "100.00"
    amount, status = entries(db, since, "sales_order", order_id, "update")
    assert_by(amount, app, "sales1")
    assert_by(status, app, "sales1")
    assert (values(amount, "before"), values(amount, "after")) == (
        {"received_amount": "0.00"},
        {"received_amount": "100.00"},
    )
    assert (values(status, "before"), values(status, "after")) == (
        {"payment_status": "unpaid"},
        {"payment_status": "partial"},
    )


def test_statements_are_recorded_and_a_refused_or_rolled_back_one_leaves_nothing(app, db, uid):
    from app.base_data.models import Unit

    unit = Unit(name=uid("U"), sort_order=1)
    db.session.add(unit)
    db.session.commit()
    since = mark(db)
    # a guard that matches nothing changes nothing, records nothing and still reports its row count
    assert (
        db.session.execute(update(Unit).where(Unit.id == unit.id, Unit.sort_order == 99).values(sort_order=2)).rowcount
        == 0
    )
    # one that is rolled back leaves no entry
    db.session.execute(update(Unit).where(Unit.id == unit.id).values(sort_order=3))
    db.session.rollback()
    assert entries(db, since, "unit", unit.id) == []
    result = db.session.execute(update(Unit).where(Unit.id == unit.id).values(sort_order=Unit.sort_order + 4))
    assert result.rowcount == 1
    db.session.execute(update(Unit).execution_options(audit=False).where(Unit.id == unit.id).values(note="quiet"))
    db.session.execute(delete(Unit).where(Unit.id == unit.id))
    db.session.commit()
    rows = entries(db, since, "unit", unit.id)
    assert [r.action for r in rows] == ["update", "delete"]
    assert (values(rows[0], "before"), values(rows[0], "after")) == ({"sort_order": 1}, {"sort_order": 5})
    assert values(rows[1], "before")["note"] == "quiet" and rows[1].after is None
    assert rows[0].username == "system" and rows[0].ip is None  # outside a request: the system did it


# ------------------------------------------------------------------ customers and prices, through the pages


def test_customer_edited_on_its_page_is_recorded(app, db, world, uid):
    sales1 = page_client(app, "sales1")
    since = mark(db)
    phone = "13900001234"
    resp = sales1.post(
        f"/endcustomerview/edit/{world['customer']}",
        data={"name": uid("改名业主"), "stars": "4", "phone": phone, "credit_limit": "0"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    (entry,) = entries(db, since, "end_customer", world["customer"], "update")
    assert_by(entry, app, "sales1")
    assert values(entry, "before")["phone"] is None and values(entry, "after")["phone"] == phone
    assert (values(entry, "before")["stars"], values(entry, "after")["stars"]) == (3, 4)


def test_prices_changed_on_the_pages_and_the_api_are_recorded(app, db, world, uid):
    from app.base_data.models import Product

    admin = page_client(app, "admin")
    product = db.session.get(Product, world["product"])
    form = {"model_no": product.model_no, "name": product.name, "purchase_price": "80", "sale_price": "130.50"}
    form.update(floor_price="100", enabled="y")
    since = mark(db)
    resp = admin.post(f"/productview/edit/{world['product']}", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    (entry,) = entries(db, since, "product", world["product"], "update")
    assert_by(entry, app, "admin")
    assert values(entry, "before")["sale_price"] == "120.00" and values(entry, "after")["sale_price"] == "130.50"
    assert values(entry, "before")["purchase_price"] == "0.00" and values(entry, "after")["purchase_price"] == "80.00"

    # a customer price through the API, by the sales manager
    client = from_ip(app.test_client(), "10.20.30.42")
    body = {"end_customer": world["customer"], "product": world["product"], "price": "118.00"}
    resp = client.post("/api/v1/customer_price/", json=body, headers=token(app, "manager"))
    assert resp.status_code == 201, resp.json
    (entry,) = entries(db, since, "customer_price", resp.json["id"], "create")
    assert_by(entry, app, "manager", "10.20.30.42")
    assert values(entry, "after")["price"] == "118.00" and values(entry, "after")["product_id"] == world["product"]


def test_a_promotions_products_are_part_of_its_record(app, db, world, uid):
    """Many-to-many collections (the promotion's products, a user's roles) are recorded as what they list."""
    from app.base_data.models import Product
    from app.promotions.models import Promotion

    client = from_ip(app.test_client())
    body = {"name": uid("促销"), "start_date": "2044-09-01", "end_date": "2044-09-30", "rule": "percent"}
    body.update(percent="10", products=[world["product"]], enabled=True)
    since = mark(db)
    resp = client.post("/api/v1/promotion/", json=body, headers=token(app, "manager"))
    assert resp.status_code == 201, resp.json
    promo_id = resp.json["id"]
    product = db.session.get(Product, world["product"])
    (created,) = entries(db, since, "promotion", promo_id, "create")
    assert values(created, "after")["products"] == [str(product)] and values(created, "after")["percent"] == "10.00"
    other = Product(model_no=uid("AM"), name=uid("第二产品"))
    db.session.add(other)
    db.session.commit()
    since = mark(db)
    promotion = db.session.get(Promotion, promo_id)
    promotion.products.append(other)
    db.session.commit()
    (changed,) = entries(db, since, "promotion", promo_id, "update")
    assert values(changed, "before") == {"products": [str(product)]}
    assert values(changed, "after") == {"products": sorted([str(product), str(other)])}


# ------------------------------------------------------------------ users


def test_user_creation_role_change_and_passwords_are_recorded_without_the_hash(app, db, uid):
    from flask_appbuilder.security.sqla.models import User

    sm = app.appbuilder.sm
    salesperson, manager_role = sm.find_role("Salesperson").id, sm.find_role("SalesManager").id
    admin = page_client(app, "admin")
    name = uid("au")
    first_password, second_password, own_password = "Lantern-7Harbor", "Meadow-42Quartz", "Copper-93Violet"
    since = mark(db)
    form = {"first_name": "审", "last_name": "计", "username": name, "active": "y", "email": f"{name}@t.invalid"}
    resp = admin.post(
        "/users/add", data={**form, "roles": [salesperson], "password": first_password, "conf_password": first_password}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    new_id = db.session.query(User.id).filter_by(username=name).scalar()
    (created,) = entries(db, since, "ab_user", new_id, "create")
    assert_by(created, app, "admin")
    after = values(created, "after")
    assert after["username"] == name and after["roles"] == ["Salesperson"] and after["password"] == "[set]"

    # role assignment on the user's edit page
    resp = admin.post(f"/users/edit/{new_id}", data={**form, "roles": [manager_role]})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    (role_change,) = entries(db, since, "ab_user", new_id, "update")
    assert (values(role_change, "before"), values(role_change, "after")) == (
        {"roles": ["Salesperson"]},
        {"roles": ["SalesManager"]},
    )

    # the administrator resets the password, then the user changes their own
    resp = admin.post(
        f"/resetpassword/form?pk={new_id}", data={"password": second_password, "conf_password": second_password}
    )
    assert resp.status_code == 302
    own = from_ip(login(app.test_client(), name, second_password), "10.20.30.43")
    resp = own.post("/resetmypassword/form", data={"password": own_password, "conf_password": own_password})
    assert resp.status_code == 302
    changes = [e for e in entries(db, since, "ab_user", new_id, "update") if "password" in values(e, "after")]
    assert [(e.username, e.ip) for e in changes] == [("admin", CLIENT_IP), (name, "10.20.30.43")]
    for entry in changes:
        assert values(entry, "before") == {"password": "[hidden]"}
        assert values(entry, "after") == {"password": "[changed]"}
    # logging in is not a change of the user: FAB's login counters leave no entry
    assert len(entries(db, since, "ab_user", new_id, "update")) == 3
    # no password hash anywhere in the log
    password_hash = db.session.query(User.password).filter_by(id=new_id).scalar()
    texts = [e.before or "" for e in entries(db, since)] + [e.after or "" for e in entries(db, since)]
    assert password_hash and not any(password_hash in t for t in texts)
    assert not any(re.search(r"(pbkdf2|scrypt):", t) for t in texts)
    assert not any(p in t for t in texts for p in (first_password, second_password, own_password))


# ------------------------------------------------------------------ where the change came from


@pytest.mark.sqlite_only(
    "the recorded address is taken in Python from the WSGI environ (through ProxyFix when trusted); the entry is an "
    "ordinary insert"
)
def test_ip_is_the_peer_unless_the_app_trusts_a_proxy(app, db, uid):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from app.base_data.models import Unit

    admin = page_client(app, "admin")
    name = uid("IP")
    since = mark(db)
    # a client's own X-Forwarded-For is not believed
    resp = admin.post(
        "/unitview/add", data={"name": name, "sort_order": "0", "enabled": "y"}, headers={"X-Forwarded-For": "6.6.6.6"}
    )
    assert resp.status_code == 302
    unit_id = db.session.query(Unit.id).filter_by(name=name).scalar()
    (entry,) = entries(db, since, "unit", unit_id, "create")
    assert entry.ip == CLIENT_IP
    # behind a proxy the app is told to trust (ProxyFix), the client's address is the one recorded
    original = app.wsgi_app
    app.wsgi_app = ProxyFix(original, x_for=1)
    try:
        resp = admin.post(
            f"/unitview/edit/{unit_id}",
            data={"name": name, "sort_order": "7", "enabled": "y"},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert resp.status_code == 302
    finally:
        app.wsgi_app = original
    (entry,) = entries(db, since, "unit", unit_id, "update")
    assert entry.ip == "203.0.113.9"


# ------------------------------------------------------------------ the 操作日志 page and API


@pytest.fixture
def logged(app, db, uid):
    """Entries that share a text marker: admin creates three units on their page and renames one; the manager creates
    a promotion through the API."""
    from app.base_data.models import Product, Unit

    marker = uid("查找")
    admin = page_client(app, "admin")
    since = mark(db)
    ids = []
    for i in range(3):
        resp = admin.post("/unitview/add", data={"name": f"{marker}-{i}", "sort_order": "0", "enabled": "y"})
        assert resp.status_code == 302
        ids.append(db.session.query(Unit.id).filter_by(name=f"{marker}-{i}").scalar())
    resp = admin.post(f"/unitview/edit/{ids[0]}", data={"name": f"{marker}-0x", "sort_order": "5", "enabled": "y"})
    assert resp.status_code == 302
    product = Product(model_no=uid("AM"), name=uid("促销产品"))
    db.session.add(product)
    db.session.commit()
    body = {"name": f"{marker}-促销", "start_date": "2044-10-01", "end_date": "2044-10-31", "rule": "percent"}
    body.update(percent="5", products=[product.id])
    resp = from_ip(app.test_client()).post("/api/v1/promotion/", json=body, headers=token(app, "manager"))
    assert resp.status_code == 201, resp.json
    rows = [e for e in entries(db, since) if marker in (e.before or "") + (e.after or "")]
    assert len(rows) == 5
    return {"ids": ids, "marker": marker, "rows": rows, "promotion": resp.json["id"]}


def test_admin_searches_the_log_by_table_record_user_action_time_and_text(app, db, logged):
    admin = page_client(app, "admin")
    headers = token(app, "admin")
    ids, marker, rows = logged["ids"], logged["marker"], logged["rows"]

    def ids_of(**match) -> set[int]:
        return {e.id for e in rows if all(getattr(e, k) == v for k, v in match.items())}

    def page(args: dict) -> set[int]:
        resp = admin.get("/auditlogview/list/", query_string={**args, "psize_AuditLogView": 100})
        assert resp.status_code == 200
        return listed_ids(resp.get_data(as_text=True))

    def api(*filters) -> set[int]:
        resp = api_search(app.test_client(), headers, list(filters))
        assert resp.status_code == 200, resp.json
        return {row["id"] for row in resp.json["result"]}

    # table and record
    expected = ids_of(table_name="unit", row_id=str(ids[0]))
    assert len(expected) == 2
    assert page({flt(app, "table_name", "eq"): "unit", flt(app, "row_id", "eq"): str(ids[0])}) == expected
    assert api(("table_name", "eq", "unit"), ("row_id", "eq", str(ids[0]))) == expected
    # text in the values, and the action
    expected = ids_of(action="create")
    assert len(expected) == 4
    assert page({flt(app, "after", "ct"): marker, flt(app, "action", "eq"): "create"}) == expected
    assert api(("after", "ct", marker), ("action", "eq", "create")) == expected
    expected = ids_of(action="update")
    assert page({flt(app, "before", "ct"): f"{marker}-0"}) == expected and len(expected) == 1
    # the user, by name or id
    expected = ids_of(username="manager")
    assert len(expected) == 1
    assert page({flt(app, "username", "eq"): "manager", flt(app, "after", "ct"): marker}) == expected
    assert api(("user_id", "eq", user_id(app, "manager")), ("after", "ct", marker)) == expected
    assert api(("username", "eq", "admin"), ("after", "ct", marker)) == ids_of(username="admin")

    # a time range, typed in China time
    everything = ids_of()
    local = to_local(min(e.at for e in rows)).replace(tzinfo=None)
    text = {flt(app, "after", "ct"): marker}
    minute_before = f"{local - dt.timedelta(minutes=1):%Y-%m-%d %H:%M:%S}"
    assert page({**text, flt(app, "at", "not_before"): minute_before}) == everything
    assert page({**text, flt(app, "at", "not_after"): minute_before}) == set()
    hour_after = f"{local + dt.timedelta(hours=1):%Y-%m-%d %H:%M}"
    assert (
        page({**text, flt(app, "at", "not_before"): minute_before, flt(app, "at", "not_after"): hour_after})
        == everything
    )
    assert api(("after", "ct", marker), ("at", "not_after", hour_after)) == everything
    # the same clock time read as UTC would be 8 hours later and find them: China time it is
    utc_clock = f"{min(e.at for e in rows) + dt.timedelta(minutes=1):%Y-%m-%d %H:%M:%S}"
    assert api(("after", "ct", marker), ("at", "not_after", utc_clock)) == set()
    # with an offset, the API takes the time as given
    with_offset = (min(e.at for e in rows) - dt.timedelta(minutes=1)).replace(tzinfo=dt.UTC).isoformat()
    assert api(("after", "ct", marker), ("at", "not_before", with_offset)) == everything
    # a time filter left empty restricts nothing; an unreadable one finds nothing instead of failing
    assert page({**text, flt(app, "at", "not_before"): ""}) == everything
    assert page({**text, flt(app, "at", "not_before"): "明天"}) == set()

    # the details page shows the values before and after
    (renamed,) = ids_of(action="update")
    shown = html.unescape(admin.get(f"/auditlogview/show/{renamed}").get_data(as_text=True))
    assert f"{marker}-0x" in shown and '"sort_order": 5' in shown and '"sort_order": 0' in shown


def test_export_holds_exactly_the_filtered_rows(app, db, logged):
    admin = page_client(app, "admin")
    marker, rows = logged["marker"], logged["rows"]

    def export(args: dict) -> list[dict]:
        resp = admin.get("/auditlogview/export_xlsx/", query_string=args)
        assert resp.status_code == 200
        header, *lines = list(openpyxl.load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
        return [dict(zip(header, line)) for line in lines]

    got = export({flt(app, "after", "ct"): marker})
    labels = ("时间", "用户", "IP 地址", "操作", "数据表", "记录", "修改前", "修改后")
    assert all(label in got[0] for label in labels)
    assert sorted((r["操作"], r["数据表"], r["记录"], r["用户"], r["修改前"], r["修改后"]) for r in got) == sorted(
        (e.action, e.table_name, e.row_id, e.username, e.before, e.after) for e in rows
    )
    assert {r["IP 地址"] for r in got} == {CLIENT_IP}
    assert all(isinstance(r["时间"], dt.datetime) for r in got)
    # narrowed further: the manager's promotion only
    got = export({flt(app, "after", "ct"): marker, flt(app, "username", "eq"): "manager"})
    assert [(r["用户"], r["操作"], r["数据表"], r["记录"]) for r in got] == [
        ("manager", "create", "promotion", str(logged["promotion"]))
    ]


# ------------------------------------------------------------------ who may see it, and that it cannot change


@pytest.mark.sqlite_only(
    "who reaches the log is FAB's permission check in Python from the role tables; the entry id only has to exist"
)
@pytest.mark.parametrize("username", ["sales1", "manager", "finance", "exec"])
def test_only_admin_reaches_the_log(app, db, username):
    entry_id = mark(db) or 1
    client = page_client(app, username)
    for url in ("/auditlogview/list/", "/auditlogview/export_xlsx/", f"/auditlogview/show/{entry_id}"):
        assert client.get(url).status_code == 403, url
    headers = token(app, username)
    for url in ("/api/v1/audit_log/", f"/api/v1/audit_log/{entry_id}", "/api/v1/audit_log/_info"):
        assert app.test_client().get(url, headers=headers).status_code == 403, url
    admin = page_client(app, "admin")
    assert admin.get("/auditlogview/list/").status_code == 200
    assert app.test_client().get(f"/api/v1/audit_log/{entry_id}", headers=token(app, "admin")).status_code == 200


@pytest.mark.sqlite_only("the 404s and 405s come from the routes the views register in Python; nothing is written")
def test_no_route_edits_or_deletes_the_log(app, db):
    rules = {
        r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint.startswith(("AuditLogView.", "AuditLogApi."))
    }
    names = {e.split(".")[1] for e in rules}
    assert names & {"add", "edit", "delete", "import_xlsx", "post", "put", "delete_headless"} == set()
    for endpoint, rule in rules.items():
        if endpoint.startswith("AuditLogApi."):
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, endpoint
    entry_id = mark(db)
    admin = page_client(app, "admin")
    for method, url in (
        ("get", f"/auditlogview/edit/{entry_id}"),
        ("post", f"/auditlogview/edit/{entry_id}"),
        ("post", f"/auditlogview/delete/{entry_id}"),
        ("post", "/auditlogview/add"),
    ):
        assert getattr(admin, method)(url).status_code == 404, url
    # the only bulk action is the export
    resp = admin.post("/auditlogview/action_post", data={"action": "delete", "rowid": [entry_id]})
    assert resp.status_code == 404
    headers = token(app, "admin")
    client = app.test_client()
    assert client.put(f"/api/v1/audit_log/{entry_id}", json={"after": "{}"}, headers=headers).status_code == 405
    assert client.delete(f"/api/v1/audit_log/{entry_id}", headers=headers).status_code == 405
    assert (
        client.post("/api/v1/audit_log/", json={"action": "create", "table_name": "x"}, headers=headers).status_code
        == 405
    )
    db.session.rollback()
    entry = db.session.get(AuditLog, entry_id)
    assert entry is not None


@pytest.mark.sqlite_only(
    "the flush and before-execute hooks raise in Python before an UPDATE or DELETE of the log reaches the database"
)
def test_the_orm_and_sql_statements_refuse_to_change_the_log(app, db, uid):
    from app.base_data.models import Unit

    db.session.add(Unit(name=uid("U")))
    db.session.commit()
    entry_id = mark(db)
    original = db.session.get(AuditLog, entry_id)
    kept = (original.action, original.after, original.at)

    def refused(change) -> None:
        with pytest.raises(AuditLogReadOnly):
            change()
            db.session.flush()
        db.session.rollback()

    refused(lambda: setattr(db.session.get(AuditLog, entry_id), "after", "{}"))
    refused(lambda: db.session.delete(db.session.get(AuditLog, entry_id)))
    refused(lambda: db.session.execute(update(AuditLog).where(AuditLog.id == entry_id).values(action="x")))
    refused(lambda: db.session.execute(delete(AuditLog).where(AuditLog.id == entry_id)))
    refused(lambda: db.session.query(AuditLog).filter(AuditLog.id == entry_id).delete())
    refused(lambda: db.session.connection().execute(AuditLog.__table__.update().values(ip="1.1.1.1")))
    refused(lambda: db.session.connection().execute(AuditLog.__table__.delete()))
    entry = db.session.get(AuditLog, entry_id)
    assert (entry.action, entry.after, entry.at) == kept
    # writing new entries is what the log is for
    db.session.add(AuditLog(action="test", table_name="unit"))
    db.session.commit()
