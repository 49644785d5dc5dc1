"""No leaks between salespeople, generated from the models rather than written per model.

Every mapped model with an owner is found in the registry. For each, one record is made for sales2 — required
fields filled from the column types, nullability and foreign keys, and every free-text column carrying a marker
unique to this run — and then sales1 tries it through every entry point the app registers for that model: list
(plain and filtered on the marker), show/edit/delete and the other pages taking its id, every bulk and one-row
action, the REST API (get, put, delete, its actions, filtered list, _info), the Excel export, the list totals, the
dropdown pickers of every form that offers the model, every parameterless page and API of the app (home tiles,
add forms with their dropdowns, charts) and every report as page, JSON and Excel. No response may hold a marker or a
record's money amount; the record pages must answer 403/404; and afterwards each record is exactly as it was.
The same probes show each record to the administrator, so they are known to reach it."""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
import prison
import pytest
import sqlalchemy as sa
from sqlalchemy import inspect as sa_inspect

from tests.support.users import user_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DAY = dt.date(2036, 6, 15)  # far from the dates other tests use, so their reports never meet these records
# Models with an owner column scoped by a rule of their own rather than OwnedMixin — walked all the same.
OWN_SCOPE = {"Alert": "its only page filters by level and owner (app.reports.alerts.visible_alerts)"}
# Models with an owner column that no user reaches as records.
NO_ENTRY_POINT = {"SalesDailySummary": "a derived table with no page or API; reports read it through apply_scope"}
# Required columns whose meaning the types alone do not give (this table only fills required fields).
REQUIRED_VALUES = {
    ("Alert", "kind"): "credit",
    ("PoolClaim", "kind"): "end",
    ("PoolClaim", "customer_id"): lambda f: f.record_of("EndCustomer").id,
    ("ReceivableCredit", "kind"): "cash_discount",
}
# URL parts naming another model's record.
ARG_MODELS = {"customer_id": "EndCustomer"}
NOT_SWEPT = {"static", "appbuilder.static", "vendor.echarts_js"}  # assets; and every */logout, which ends the session

pytestmark = pytest.mark.every_database(
    "what sales1 may see is decided by the owner filters of the data scope in SQL: lists, filters, totals, pickers, "
    "reports and lookups by id"
)


# ------------------------------------------------------------------ the records


@dataclass
class Made:
    model: type
    id: int
    marker: str
    amounts: list[Decimal] = field(default_factory=list)
    snapshot: dict = field(default_factory=dict)

    @property
    def probe(self) -> str:
        """What requests search for: the marker less its last character, so that a page echoing the search back
        does not show the marker itself, while every record whose marker starts so is found."""
        return self.marker[:-1]


def model_by_name(name: str):
    from app.core.models import Model

    return next(m.class_ for m in Model.registry.mappers if m.class_.__name__ == name)


def model_by_table(table_name: str):
    from app.core.models import Model

    return next((m.class_ for m in Model.registry.mappers if m.local_table.name == table_name), None)


def has_owner_column(model) -> bool:
    return "owner_id" in model.__table__.columns


def walked_models() -> list[type]:
    from app.core import scope
    from app.core.models import Model

    found = [m.class_ for m in Model.registry.mappers if has_owner_column(m.class_) or scope.is_owned(m.class_)]
    return sorted((m for m in found if scope.is_owned(m) or m.__name__ in OWN_SCOPE), key=lambda m: m.__name__)


def snapshot(session, made: Made) -> dict | None:
    obj = session.get(made.model, made.id)
    if obj is None:
        return None
    session.refresh(obj)
    mapper = sa_inspect(made.model)
    return {col.name: getattr(obj, mapper.get_property_by_column(col).key) for col in made.model.__table__.columns}


class Factory:
    """One record per model for one owner, required fields from the column types; owned parents are the owner's
    own records (made first), other parents existing rows (or plain new ones)."""

    def __init__(self, session, owner_id: int, prefix: str):
        self.session, self.owner_id, self.prefix = session, owner_id, prefix
        self.made: dict[type, Made] = {}
        self.objects: dict[type, object] = {}
        self.count = 0

    def record_of(self, name: str):
        return self.record(model_by_name(name))

    def record(self, model):
        from app.core import scope

        if model in self.objects:
            return self.objects[model]
        index = self.count  # taken before the parents are made, each of them numbered on its own
        self.count += 1
        marker = f"{self.prefix}{index:02d}"
        # a money amount no other test uses: found in a response only if the record leaked into it
        amount = Decimal(f"{97000 + index}.{int(self.prefix[-2:], 16) % 100:02d}")
        made = Made(model, 0, marker)
        obj = model()
        mapper = sa_inspect(model)
        for col in model.__table__.columns:
            if col.primary_key:
                continue
            value = self._value(model, col, marker, amount, made)
            if value is not None:
                setattr(obj, mapper.get_property_by_column(col).key, value)
        if scope.is_owned(model):
            obj.owner_id = self.owner_id
        if not made.amounts and not any(
            getattr(obj, mapper.get_property_by_column(c).key) == marker for c in model.__table__.columns
        ):
            # nothing to recognise it by yet (a target: year, month, amount): its money column carries the amount
            money = [c for c in model.__table__.columns if isinstance(c.type, sa.Numeric) and c.type.scale == 2]
            assert money, f"{model.__name__}: no text or money column to recognise the record by"
            setattr(obj, mapper.get_property_by_column(money[0]).key, amount)
            made.amounts.append(amount)
        self.session.add(obj)
        self.session.flush()
        made.id = obj.id
        self.made[model], self.objects[model] = made, obj
        return obj

    def _value(self, model, col, marker, amount, made):
        required = not col.nullable and col.default is None and col.server_default is None
        override = REQUIRED_VALUES.get((model.__name__, col.name))
        if override is not None:
            return override(self) if callable(override) else override
        if col.name == "owner_id":
            return self.owner_id
        if col.foreign_keys:
            target_table = next(iter(col.foreign_keys)).column.table.name
            if target_table == "ab_user":
                return self.owner_id if required else None
            target = model_by_table(target_table)
            if not required:
                return None
            return self._parent(target).id
        if col.default is not None or col.server_default is not None:
            return None
        kind = col.type
        if isinstance(kind, sa.Enum):
            return kind.enums[0] if required else None
        if isinstance(kind, sa.String):
            if kind.length is None or kind.length >= len(marker):
                return marker
            return marker[-kind.length :] if required else None
        if not required:
            return None
        if isinstance(kind, sa.Boolean):
            return False
        if isinstance(kind, sa.Integer):
            return 1
        if isinstance(kind, sa.Numeric):
            if (kind.scale or 0) == 2 and (kind.precision or 0) >= 10:
                made.amounts.append(amount)
                return amount
            return Decimal("1")
        if isinstance(kind, sa.DateTime):
            return dt.datetime.combine(DAY, dt.time(9, 0))
        if isinstance(kind, sa.Date):
            return DAY
        raise AssertionError(f"{model.__name__}.{col.name}: no value for a required {kind!r}")

    def _parent(self, target):
        from app.core import scope

        if scope.is_owned(target):
            return self.record(target)
        existing = self.session.query(target).order_by(sa_inspect(target).primary_key[0]).first()
        if existing is not None:
            return existing
        filler = target()
        mapper = sa_inspect(target)
        for col in target.__table__.columns:
            if col.primary_key or col.nullable or col.default is not None or col.server_default is not None:
                continue
            value = self._value(target, col, f"nl{uuid.uuid4().hex[:8]}", Decimal("1"), Made(target, 0, ""))
            setattr(filler, mapper.get_property_by_column(col).key, value)
        self.session.add(filler)
        self.session.flush()
        return filler


def approved_order(app, session, customer) -> tuple[int, str]:
    """An approved order of sales2 for the marked customer, through the sales services: what reports count."""
    from app.base_data.models import Product
    from app.extensions import db
    from app.sales import services as sales
    from app.sales.models import SalesOrder
    from tests.support.workflow import move_to

    product = Product(model_no=f"nl{uuid.uuid4().hex[:10]}", name="泄漏测试产品", sale_price=Decimal("10"))
    session.add(product)
    session.flush()
    order = SalesOrder(end_customer=customer, end_customer_id=customer.id, doc_date=DAY)
    order.owner_id = user_id(app, "sales2")
    sales.save_order(session, order, [{"product_id": product.id, "qty": "3", "unit_price": "1234.56"}], None)
    session.add(order)
    session.flush()
    move_to(app, db, order, "approved")
    session.commit()
    return order.id, order.number


@pytest.fixture(scope="module")
def world(app):
    """sales2's records, one per walked model, committed; their snapshots; cleaned up afterwards."""
    from app.extensions import db

    prefix = f"lk{uuid.uuid4().hex[:6]}"
    with app.app_context():
        factory = Factory(db.session, user_id(app, "sales2"), prefix)
        for model in walked_models():
            factory.record(model)
        db.session.commit()
        order_id, order_number = approved_order(app, db.session, factory.record_of("EndCustomer"))
        for made in factory.made.values():
            made.snapshot = snapshot(db.session, made)
        # sales1's own records of the same models, for edits that try to point at sales2's
        own = Factory(db.session, user_id(app, "sales1"), f"ow{uuid.uuid4().hex[:6]}")
        for model in walked_models():
            own.record(model)
        db.session.commit()
        data = {
            "prefix": prefix,
            "made": dict(factory.made),
            "own": {model: made.id for model, made in own.made.items()},
            "order": (order_id, order_number),
        }
        db.session.remove()
    yield data
    with app.app_context():
        from app.core import workflow
        from app.reports.alerts import Alert
        from app.sales.models import SalesOrder

        # other tests' alert runs and reports must not meet an approved order or an open alert of ours
        order = db.session.get(SalesOrder, order_id)
        if order is not None and order.status == workflow.APPROVED:
            workflow.cancel(db.session, order, app.appbuilder.sm.find_user(username="admin"))
        alert = data["made"].get(Alert)
        if alert is not None:
            db.session.query(Alert).filter(Alert.id == alert.id).delete()
        db.session.commit()
        db.session.remove()


# ------------------------------------------------------------------ probing


def body_text(resp) -> str:
    """What a response shows: the text, or every cell of an Excel file."""
    if resp.mimetype == XLSX or resp.data[:2] == b"PK":
        try:
            wb = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
        except (zipfile.BadZipFile, OSError, KeyError) as e:
            return f"<unreadable xlsx: {e}>"
        cells = []
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells.extend(str(v) for v in row if v is not None)
        return "\n".join(cells)
    return resp.get_data(as_text=True)


def amount_texts(amount: Decimal) -> tuple[str, ...]:
    return (f"{amount:,.2f}", f"{amount:.2f}")


class Prober:
    def __init__(self, app, world, sales1_page, sales1_api, admin_page, admin_api):
        self.app, self.world = app, world
        self.clients = {"page": sales1_page, "api": sales1_api}
        self.admin = {"page": admin_page, "api": admin_api}
        self.made: dict[type, Made] = world["made"]
        self.failures: list[str] = []
        self.seen_by_admin: dict[str, list[str]] = {}
        self.requests = 0

    def send(self, method, url, api=False, admin=False, **kwargs):
        who = self.admin if admin else self.clients
        client, headers = who["api"] if api else (who["page"], {})
        self.requests += 1
        try:
            return client.open(url, method=method, headers=headers, **kwargs)
        except Exception as e:  # the app under TESTING raises what would be a 500
            self.failures.append(f"{method} {url}: exception {type(e).__name__}: {e}")
            return None

    def leaks_in(self, resp, made_list=None) -> list[str]:
        text = body_text(resp)
        needles = []
        for made in made_list or self.made.values():
            needles.append((f"{made.model.__name__} marker", made.marker))
            needles += [(f"{made.model.__name__} amount", t) for a in made.amounts for t in amount_texts(a)]
        if made_list is None:
            needles.append(("approved order", self.world["order"][1]))
        found = []
        for what, needle in needles:
            at = text.find(needle)
            if at >= 0:
                found.append(f"{what} {needle} in …{text[max(0, at - 80) : at + 40]!r}…")
        return found

    def expect_nothing(self, method, url, api=False, refused=False, **kwargs):
        """sales1 gets no byte of sales2's records; `refused`: the answer must be 403 or 404 as well."""
        resp = self.send(method, url, api=api, **kwargs)
        if resp is None:
            return None
        if resp.status_code >= 500:
            self.failures.append(f"{method} {url}: {resp.status_code}")
        leaks = self.leaks_in(resp)
        if leaks:
            self.failures.append(f"{method} {url}: {resp.status_code} shows {', '.join(leaks)}")
        # Each endpoint has one answer, by whether sales1 holds its permission (checked before the record is looked
        # up). 403: it does not: approve, reject, transfer, pay, settle, compute, credit_override; edit/delete of
        # what a salesperson only reads (alerts, customer prices, rebate agreements, targets, invoices, pool claims,
        # the pool, receivable and follow-up-due lists); every churn review page. 404: it does, and the record is
        # outside the scope: show, edit, delete, print, statement, handle, the owner's own workflow steps (submit,
        # reopen, cancel, claim, release, convert, …), bulk export, and the API's get/put/delete of the same.
        if refused and resp.status_code not in (403, 404):
            self.failures.append(f"{method} {url}: {resp.status_code}, expected 403 or 404")
        return resp

    def admin_sees(self, made: Made, method, url, api=False, **kwargs) -> bool:
        resp = self.send(method, url, api=api, admin=True, **kwargs)
        if resp is not None and resp.status_code == 200 and self.leaks_in(resp, [made]):
            self.seen_by_admin.setdefault(made.model.__name__, []).append(url)
            return True
        return False


def rules_of(app, view):
    return [r for r in app.url_map.iter_rules() if r.endpoint.rpartition(".")[0] == view.endpoint]


def views_of(app, model):
    from flask_appbuilder import ModelView
    from flask_appbuilder.api import ModelRestApi

    views = [v for v in app.appbuilder.baseviews if getattr(getattr(v, "datamodel", None), "obj", None) is model]
    return [v for v in views if isinstance(v, ModelView)], [v for v in views if isinstance(v, ModelRestApi)]


def marked_columns(model, made: Made, columns) -> list[str]:
    """Columns of `columns` holding the marker whole (plain string columns of the model)."""
    table = model.__table__.columns
    out = []
    for key in columns or ():
        col = table.get(key)
        if col is not None and isinstance(col.type, sa.String) and made.snapshot.get(key) == made.marker:
            out.append(key)
    return out


def probe_page_view(p: Prober, view, made: Made) -> None:
    from app.core.views import BaseModelView

    app = p.app
    search = marked_columns(made.model, made, view.search_columns)
    for rule in rules_of(app, view):
        name = rule.endpoint.rpartition(".")[2]
        methods = rule.methods - {"HEAD", "OPTIONS"}
        args = set(rule.arguments)
        if not args:
            if "GET" not in methods:
                if name == "action_post":
                    for action, item in view.actions.items():
                        if item.multiple:
                            data = {"action": action, "rowid": [str(made.id)]}
                            p.expect_nothing("POST", rule.rule, data=data)
                continue
            p.expect_nothing("GET", rule.rule)
            if name in ("list", "export_xlsx", "totals_json"):
                for col in search:
                    url = f"{rule.rule}?_flt_0_{col}={made.probe}"  # filter 0 of a text column: starts with
                    resp = p.expect_nothing("GET", url)
                    if name == "totals_json" and resp is not None and resp.status_code == 200:
                        totals = (resp.get_json() or {}).get("totals", {})
                        if any(v not in ("¥0.00", "0.00", "0", "0.000") for v in totals.values()):
                            p.failures.append(f"GET {url}: totals over sales2's record: {totals}")
                    if name == "list" and isinstance(view, BaseModelView):
                        p.admin_sees(made, "GET", url)
            continue
        if args == {"pk"}:
            url = rule.build({"pk": made.id}, append_unknown=False)[1]
            if "GET" in methods and name != "delete":  # a GET delete is refused by FAB before it looks
                p.expect_nothing("GET", url, refused=True)
                if name == "show":
                    p.admin_sees(made, "GET", url)
            if "POST" in methods and name != "show":
                p.expect_nothing("POST", url, refused=True, data={})
        elif args == {"name", "pk"}:  # one-row actions
            for action in view.actions:
                url = rule.build({"name": action, "pk": made.id}, append_unknown=False)[1]
                p.expect_nothing("POST", url, refused=True)
        elif len(args) == 1 and next(iter(args)) in ARG_MODELS:
            arg = next(iter(args))
            other = p.made.get(model_by_name(ARG_MODELS[arg]))
            if other is not None:
                p.expect_nothing("GET", rule.build({arg: other.id}, append_unknown=False)[1], refused=True)


def probe_api(p: Prober, api, made: Made) -> None:
    for rule in rules_of(p.app, api):
        methods = rule.methods - {"HEAD", "OPTIONS"}
        args = set(rule.arguments)
        if args == {"pk"}:
            url = rule.build({"pk": made.id}, append_unknown=False)[1]
            for method in methods:
                kwargs = {"json": {}} if method in ("POST", "PUT") else {}
                p.expect_nothing(method, url, api=True, refused=True, **kwargs)
                if method == "GET":
                    p.admin_sees(made, "GET", url, api=True)
        elif not args and "GET" in methods:
            p.expect_nothing("GET", rule.rule, api=True)
            if rule.rule.endswith("/") and not rule.rule.endswith("_info"):
                newest = prison.dumps({"order_column": "id", "order_direction": "desc", "page_size": 100})
                p.expect_nothing("GET", f"{rule.rule}?q={newest}", api=True)
                for col in marked_columns(made.model, made, api.search_columns):
                    q = prison.dumps({"filters": [{"col": col, "opr": "sw", "value": made.probe}]})
                    resp = p.expect_nothing("GET", f"{rule.rule}?q={q}", api=True)
                    if resp is not None and resp.status_code == 200 and resp.json.get("count"):
                        p.failures.append(f"GET {rule.rule} filtered on {col}: count {resp.json['count']}")


def probe_pickers(p: Prober) -> int:
    """Every picker of every form offering a walked model, searched for its marker."""
    probed = 0
    for view in p.app.appbuilder.baseviews:
        columns_by_kind = getattr(view, "_picker_columns", None)
        if not columns_by_kind:
            continue
        for kind, columns in columns_by_kind.items():
            for column in columns:
                made = p.made.get(view.datamodel.get_related_model(column))
                if made is None:
                    continue
                base = f"/{view.route_base.strip('/')}/picker/{column}?form={kind}"
                for q in (made.probe, ""):
                    p.expect_nothing("GET", f"{base}&q={q}")
                p.admin_sees(made, "GET", f"{base}&q={made.probe}")
                probed += 1
    return probed


def sweep(p: Prober) -> int:
    """Every parameterless GET page and API of the app, and every report as page, JSON and Excel."""
    from app.reports import services as reports

    urls = []
    for rule in p.app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.endpoint in NOT_SWEPT:
            continue
        if rule.endpoint.endswith(".logout"):
            continue
        urls.append((rule.rule, rule.rule.startswith("/api/")))
    year = {"period": "year", "start": f"{DAY.year}-01-01", "end": f"{DAY.year}-12-31"}
    query = "&".join(f"{k}={v}" for k, v in year.items())
    for name in reports.REPORTS:
        for suffix in ("", f"?{query}", f"?{query}&format=xlsx"):
            urls.append((f"/reports/{name}/{suffix}", False))
            urls.append((f"/api/v1/report/{name}{suffix}", True))
    for url, api in urls:
        p.expect_nothing("GET", url, api=api)
    return len(urls)


# ------------------------------------------------------------------ tests


@pytest.mark.sqlite_only("which models are scoped is read from the mapped classes and the registered views; no query")
def test_every_model_with_an_owner_is_scoped(app):
    from app.core import scope
    from app.core.models import Model

    with app.app_context():
        unscoped = [
            m.class_.__name__
            for m in Model.registry.mappers
            if has_owner_column(m.class_)
            and not scope.is_owned(m.class_)
            and m.class_.__name__ not in OWN_SCOPE
            and m.class_.__name__ not in NO_ENTRY_POINT
        ]
        # the exceptions stay true: no view on the derived tables, a base filter on every view of the others
        for name in NO_ENTRY_POINT:
            assert views_of(app, model_by_name(name)) == ([], []), f"{name} has gained a page or API"
        for name in OWN_SCOPE:
            pages, apis = views_of(app, model_by_name(name))
            assert all(v.base_filters for v in pages + apis), f"a view of {name} has no filter of its own"
    assert not unscoped, f"models with an owner column outside the data scope: {unscoped}"


def test_salesperson_reaches_nothing_of_another(app, world, as_user, api_token, client, capsys):
    sales1_page, admin_page = as_user("sales1"), as_user("admin")
    sales1_api = (sales1_page, api_token("sales1"))
    admin_api = (admin_page, api_token("admin"))
    p = Prober(app, world, sales1_page, sales1_api, admin_page, admin_api)
    with app.test_request_context():
        walked = []
        for model, made in world["made"].items():
            pages, apis = views_of(app, model)
            for view in pages:
                probe_page_view(p, view, made)
            for api in apis:
                probe_api(p, api, made)
            walked.append(f"{model.__name__} ({len(pages)} pages, {len(apis)} APIs)")
        pickers = probe_pickers(p)
        swept = sweep(p)
    # the approved order is in the reports of those who see all: the reports were worth reading
    year = f"period=year&start={DAY.year}-01-01&end={DAY.year}-12-31"
    top = client.get(f"/api/v1/report/top_customers?{year}", headers=api_token("manager"))
    customer = world["made"][model_by_name("EndCustomer")]
    assert customer.marker in top.get_data(as_text=True), "the manager's report should show sales2's customer"
    with capsys.disabled():
        print(
            f"\nno leaks: {len(walked)} models, {p.requests} requests ({pickers} pickers, {swept} swept pages); "
            f"{', '.join(walked)}"
        )
    assert not p.failures, f"{len(p.failures)} leaks or errors:\n" + "\n".join(p.failures)
    unseen = [m.__name__ for m in world["made"] if views_of(app, m) != ([], []) and m.__name__ not in p.seen_by_admin]
    assert not unseen, f"the probes never reached these records even as admin: {unseen}"


def test_own_records_cannot_point_at_anothers(app, world, api_token, client):
    """An API edit of sales1's own record naming sales2's record in a relation is refused and stores nothing."""
    from app.extensions import db

    headers = api_token("sales1")
    tried, failures = [], []
    with app.app_context():
        for model, own_id in world["own"].items():
            for api in views_of(app, model)[1]:
                if "put" not in {r.endpoint.rpartition(".")[2] for r in rules_of(app, api)}:
                    continue
                relations = {rel.key: rel for rel in sa_inspect(model).relationships}
                for key in api.edit_columns or ():
                    rel = relations.get(key)
                    other = world["made"].get(rel.mapper.class_) if rel is not None else None
                    if other is None:
                        continue
                    value = other.id if rel.direction.name == "MANYTOONE" else [other.id]
                    url = f"/api/v1/{api.resource_name}/{own_id}"
                    resp = client.put(url, json={key: value}, headers=headers)
                    tried.append(f"{api.resource_name}.{key}")
                    obj = db.session.get(model, own_id)
                    db.session.refresh(obj)
                    linked = getattr(obj, key)
                    linked_ids = [linked.id] if rel.direction.name == "MANYTOONE" and linked else []
                    if rel.direction.name != "MANYTOONE":
                        linked_ids = [x.id for x in linked]
                    # 404 "记录不存在" for a reference outside the scope; 403 where sales1 may not write the resource
                    # at all (customer_price, rebate_agreement); 405 for a receipt, which cannot be changed once posted
                    refused = resp.status_code in (403, 404, 405)
                    if not refused or other.id in linked_ids or other.marker in resp.get_data(as_text=True):
                        failures.append(f"PUT {url} {{{key}: {value}}}: {resp.status_code}, now {linked_ids}")
        db.session.remove()
    print(f"\nno leaks through references: {len(tried)} API edits naming another's record: {', '.join(tried)}")
    assert tried, "no API edit offers a relation to a walked model: the probe found nothing to try"
    assert not failures, "\n".join(failures)


def test_records_are_intact_afterwards(app, world):
    """Run after the probes (file order): nothing sales1 posted changed or removed sales2's records."""
    from app.extensions import db

    with app.app_context():
        changed = []
        for made in world["made"].values():
            now = snapshot(db.session, made)
            if now != made.snapshot:
                diff = {
                    k: (made.snapshot.get(k), (now or {}).get(k))
                    for k in made.snapshot
                    if (now or {}).get(k) != made.snapshot.get(k)
                }
                changed.append(f"{made.model.__name__} #{made.id}: {diff if now else 'deleted'}")
        db.session.remove()
    assert not changed, "\n".join(changed)
