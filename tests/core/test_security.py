"""Security and product-wide guarantees: CSRF on pages (not on the JWT API), no external assets (offline / mainland
China), a complete Chinese catalog, roles as declared data, Chinese API errors, money/date formats."""

import datetime as dt
import io
import re
from decimal import Decimal
from urllib.parse import urlsplit

import openpyxl
import pytest

from tests.support import ROOT
from tests.support.databases import PASSWORD
from tests.support.pages import base_data_views, csrf_token, read_catalog, send

CJK = re.compile(r"[\u4e00-\u9fff]")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WRITE_PERMISSIONS = ("can_write", "can_add", "can_edit", "can_delete", "can_post", "can_put", "can_import")

pytestmark = pytest.mark.sqlite_only(
    "CSRF tokens, linked assets, translations, FAB's permission checks and the API's error bodies are decided in "
    "Python before or without any query"
)


# ------------------------------------------------------------------ helpers


def make_unit(app, name: str) -> int:
    from app.base_data.models import Unit
    from app.extensions import db

    with app.app_context():
        unit = Unit(name=name)
        db.session.add(unit)
        db.session.commit()
        unit_id = unit.id
        db.session.remove()
    return unit_id


def unit_exists(app, unit_id: int) -> bool:
    from app.base_data.models import Unit
    from app.extensions import db

    with app.app_context():
        found = db.session.get(Unit, unit_id) is not None
        db.session.remove()
    return found


def make_product(app, model_no: str, **values) -> int:
    from app.base_data.models import Product
    from app.extensions import db

    with app.app_context():
        product = Product(model_no=model_no, name=values.pop("name", "测试产品"), **values)
        db.session.add(product)
        db.session.commit()
        product_id = product.id
        db.session.remove()
    return product_id


# ================================================================== CSRF


def test_delete_without_csrf_token_is_refused(app, csrf_app, csrf_admin, uid):
    unit_id = make_unit(app, uid("U"))
    resp = send(csrf_admin, "POST", f"/unitview/delete/{unit_id}")
    assert unit_exists(app, unit_id)
    assert resp.status_code == 400
    # a GET delete is no way around it
    send(csrf_admin, "GET", f"/unitview/delete/{unit_id}")
    assert unit_exists(app, unit_id)
    # with the page's token the same request goes through, so the 400 above was the missing token
    token = csrf_token(csrf_admin.get(f"/unitview/edit/{unit_id}").get_data(as_text=True))
    resp = csrf_admin.post(f"/unitview/delete/{unit_id}", data={"csrf_token": token})
    assert resp.status_code == 302
    assert not unit_exists(app, unit_id)


def test_bulk_action_without_csrf_token_is_refused(app, csrf_app, csrf_admin, uid):
    model_no = uid("M")
    product_id = make_product(app, model_no)
    data = {"action": "export_selected", "rowid": [product_id]}
    resp = send(csrf_admin, "POST", "/productview/action_post", data=data)
    assert resp.status_code == 400
    assert resp.mimetype != XLSX
    token = csrf_token(csrf_admin.get("/productview/add").get_data(as_text=True))
    resp = csrf_admin.post("/productview/action_post", data={**data, "csrf_token": token})
    assert resp.status_code == 200 and resp.mimetype == XLSX
    rows = list(openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [model_no]


def test_add_form_without_csrf_token_is_refused(app, csrf_app, csrf_admin, uid):
    from app.base_data.models import Unit
    from app.extensions import db

    name = uid("U")
    resp = send(csrf_admin, "POST", "/unitview/add", data={"name": name, "sort_order": "0", "enabled": "y"})
    with app.app_context():
        assert db.session.query(Unit).filter(Unit.name == name).count() == 0
        db.session.remove()
    assert resp.status_code == 400


def test_api_with_jwt_needs_no_csrf_token(app, csrf_app, uid):
    client = csrf_app.test_client()
    resp = client.post(
        "/api/v1/security/login", json={"username": "admin", "password": PASSWORD, "provider": "db", "refresh": False}
    )
    assert resp.status_code == 200, resp.data
    headers = {"Authorization": f"Bearer {resp.json['access_token']}"}
    resp = client.post("/api/v1/unit/", json={"name": uid("U")}, headers=headers)
    assert resp.status_code == 201, resp.data
    unit_id = resp.json["id"]
    assert unit_exists(app, unit_id)
    resp = client.delete(f"/api/v1/unit/{unit_id}", headers=headers)
    assert resp.status_code == 200, resp.data
    assert not unit_exists(app, unit_id)


# ================================================================== offline: no external assets

EXTERNAL_ATTR = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
EXTERNAL_CSS = re.compile(r"""(?:@import\s+(?:url\(\s*)?|url\(\s*)["']?\s*(?:https?:)?//""", re.I)
STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
STYLE_ATTR = re.compile(r"""\bstyle\s*=\s*("[^"]*"|'[^']*')""", re.I)
LOCAL_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']""", re.I)
# Hosts a script would fetch code, fonts or data from at run time (mentions of github.com in licences are fine).
CDN_HOSTS = re.compile(
    r"(?:gstatic\.(?:com|cn)|googleapis\.com|jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|bootcdn\.net|"
    r"staticfile\.org|code\.jquery\.com|maxcdn\.bootstrapcdn\.com)",
    re.I,
)
LOCAL_CSS = re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']([^"']+\.css(?:\?[^"']*)?)["']""", re.I)


def external_refs(html: str) -> list[str]:
    found = [html[m.start() : m.start() + 120] for m in EXTERNAL_ATTR.finditer(html)]
    for css in STYLE_BLOCK.findall(html) + STYLE_ATTR.findall(html):
        found += [css[m.start() : m.start() + 120] for m in EXTERNAL_CSS.finditer(css)]
    return found


def test_menu_has_pages_to_check(app, page_urls):
    assert len(base_data_views(app)) >= 14
    assert len(page_urls) > 40


def test_pages_load_nothing_from_outside(app, as_user, page_urls):
    admin = as_user("admin")
    anonymous = app.test_client()
    pages = {"/login/": anonymous.get("/login/")}
    for url in page_urls:
        pages[url] = admin.get(url)
    problems, css_files = {}, set()
    for url, resp in pages.items():
        assert resp.status_code == 200, f"{url} → {resp.status_code}"
        html = resp.get_data(as_text=True)
        refs = external_refs(html)
        if refs:
            problems[url] = refs
        for href in LOCAL_CSS.findall(html):
            if not re.match(r"(?:https?:)?//", href):
                css_files.add(urlsplit(href).path)
    assert problems == {}, f"external references: {problems}"
    assert css_files, "no stylesheet found at all"
    css_problems = {}
    for path in sorted(css_files):
        resp = anonymous.get(path)
        assert resp.status_code == 200, f"{path} → {resp.status_code}"
        css = resp.get_data(as_text=True)
        refs = [css[m.start() : m.start() + 120] for m in EXTERNAL_CSS.finditer(css)]
        if refs:
            css_problems[path] = refs
    assert css_problems == {}, f"stylesheets loading from outside: {css_problems}"


def test_pages_run_no_script_that_fetches_from_outside(app, as_user, page_urls):
    """A local loader that pulls code from a CDN at run time (FAB's Google Charts loader) is just as broken offline."""
    admin = as_user("admin")
    used_by: dict[str, list[str]] = {}
    for url in ["/login/", *page_urls]:
        html = (admin if url != "/login/" else app.test_client()).get(url).get_data(as_text=True)
        for src in LOCAL_SCRIPT.findall(html):
            if not re.match(r"(?:https?:)?//", src):
                used_by.setdefault(urlsplit(src).path, []).append(url)
    assert "/static/js/locale.js" in used_by
    fetching = {}
    for path, pages in sorted(used_by.items()):
        body = admin.get(path).get_data(as_text=True)
        hosts = sorted({m.group(0) for m in CDN_HOSTS.finditer(body)})
        if hosts:
            fetching[path] = {"hosts": hosts, "pages": sorted(set(pages))}
    assert fetching == {}, f"scripts fetching from outside at run time: {fetching}"


def test_external_reference_check_detects_links():
    """The checks above must be able to fail."""
    assert external_refs('<script src="https://cdn.example.com/x.js"></script>')
    assert external_refs("<link href='//fonts.googleapis.com/css' rel=stylesheet>")
    assert external_refs('<style>@import url("https://fonts.googleapis.com/css");</style>')
    assert external_refs("<div style=\"background:url('//x.example/a.png')\"></div>")
    assert not external_refs('<a href="/static/a.css">x</a><img src="data:image/png;base64,AA">')
    assert EXTERNAL_CSS.search("@import 'https://fonts.googleapis.com/css?family=Lato';")
    assert CDN_HOSTS.search('s.src = "https://www.gstatic.com/charts/loader.js"')
    assert not CDN_HOSTS.search("/*! Select2 4.0.13 | https://github.com/select2/select2/blob/master/LICENSE.md */")


# ================================================================== translations

KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None}


def test_catalog_is_complete_and_not_fuzzy():
    catalog = read_catalog()
    assert len(catalog) > 100
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if not all(s and s.strip() for s in strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == [], f"untranslated: {untranslated}"
    assert fuzzy == [], f"fuzzy: {fuzzy}"


def extracted_msgids() -> dict[str, str]:
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, (list, tuple)) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_every_string_in_the_code_is_in_the_catalog():
    extracted = extracted_msgids()
    assert "Export to Excel" in extracted and "Products" in extracted  # templates and Python both scanned
    catalog = read_catalog()
    missing = {msgid: where for msgid, where in extracted.items() if msgid not in catalog}
    assert missing == {}, f"strings missing from messages.po: {missing}"


def test_pages_show_chinese(as_user):
    html = as_user("admin").get("/unitview/list/").get_data(as_text=True)
    assert "计量单位" in html and "导出Excel" in html


# ================================================================== roles


def role_perms(app) -> dict[str, set[tuple[str, str]]]:
    sm = app.appbuilder.sm
    from app.core.roles import ROLES

    out = {}
    for name in ROLES:
        role = sm.find_role(name)
        out[name] = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
    return out


@pytest.mark.every_database("the seed writes the roles into each database and find_role looks them up by name there")
def test_every_declared_role_exists(app):
    from app.core.roles import ROLES

    with app.app_context():
        for name in ROLES:
            role = app.appbuilder.sm.find_role(name)
            assert role is not None, name
            assert role.permissions, f"{name} holds no permission"


@pytest.mark.every_database(
    "sync_roles looks permissions and views up by name (MariaDB compares case-insensitively) and rewrites the "
    "role-permission rows in a transaction"
)
def test_sync_roles_is_idempotent(app):
    from app.core.roles import sync_roles
    from app.extensions import db

    with app.app_context():
        before = role_perms(app)
        counts1 = sync_roles(app.appbuilder)
        after1 = role_perms(app)
        counts2 = sync_roles(app.appbuilder)
        after2 = role_perms(app)
        db.session.remove()
    assert counts1 == counts2
    assert after1 == after2 == before
    assert {name: len(perms) for name, perms in after2.items()} == counts2


@pytest.mark.every_database(
    "sync_roles looks permissions and views up by name (MariaDB compares case-insensitively) and rewrites the "
    "role-permission rows in a transaction"
)
def test_sync_roles_restores_a_tampered_role(app):
    from app.core.roles import sync_roles
    from app.extensions import db

    with app.app_context():
        sm = app.appbuilder.sm
        before = role_perms(app)
        admin_unit = next(
            pv
            for pv in sm.find_role("Admin").permissions
            if pv.permission.name == "can_write" and pv.view_menu.name == "UnitDict"
        )
        role = sm.find_role("Salesperson")
        role.permissions = [*role.permissions, admin_unit]
        db.session.commit()
        assert ("can_write", "UnitDict") in role_perms(app)["Salesperson"]
        sync_roles(app.appbuilder)
        assert role_perms(app) == before
        db.session.remove()


def test_salesperson_cannot_write_base_data(app, as_user, api_token, client, uid):
    with app.app_context():
        perms = role_perms(app)["Salesperson"]
        resources = {v.class_permission_name for v in base_data_views(app)}
    assert {"Product", "UnitDict", "Region"} <= resources
    writes = {(p, v) for p, v in perms if v in resources and p.startswith(WRITE_PERMISSIONS)}
    assert writes == set()
    assert {v for p, v in perms if p == "can_read"} >= resources - {"SalespersonProfile"}
    # and through the entry points
    c = as_user("sales1")
    assert c.get("/unitview/list/").status_code == 200
    assert c.get("/unitview/add").status_code == 403
    name = uid("U")
    resp = client.post("/api/v1/unit/", json={"name": name}, headers=api_token("sales1"))
    assert resp.status_code == 403


def test_executive_has_no_write_anywhere(app, client, api_token, uid):
    from app.core.roles import SELF_SERVICE

    with app.app_context():
        perms = role_perms(app)["Executive"]
    own_account = {(p, v) for v, ps in SELF_SERVICE.items() for p in ps}
    writes = {(p, v) for p, v in perms - own_account if p.startswith(WRITE_PERMISSIONS) or p.endswith("_post")}
    assert writes == set()
    assert ("can_read", "OwnedNote") in perms
    headers = api_token("exec")
    assert client.get("/api/v1/test_owned_note/", headers=headers).status_code == 200
    assert client.post("/api/v1/test_owned_note/", json={"title": uid("X")}, headers=headers).status_code == 403
    assert client.post("/api/v1/unit/", json={"name": uid("U")}, headers=headers).status_code == 403


def test_salesperson_menu_has_no_system_entries(as_user):
    admin_html = as_user("admin").get("/").get_data(as_text=True)
    system_entries = ("系统管理", "用户列表", "操作日志", "审批级别", "导入记录")
    assert "系统管理" in admin_html and "操作日志" in admin_html
    html = as_user("sales1").get("/").get_data(as_text=True)
    assert "产品信息" in html
    present = [label for label in system_entries if label in html]
    assert present == []


# ================================================================== API errors


def test_api_not_found_in_chinese(client, api_token):
    headers = api_token("admin")
    resp = client.get("/api/v1/product/999999", headers=headers)
    assert resp.status_code == 404
    assert CJK.search(resp.json["message"])
    resp = client.get("/api/v1/no_such_resource/", headers=headers)
    assert resp.status_code == 404 and resp.is_json
    assert CJK.search(resp.json["message"])


def test_api_without_token_is_401(client):
    assert client.get("/api/v1/product/").status_code == 401
    assert client.post("/api/v1/unit/", json={"name": "x"}).status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}], ids=["missing", "malformed"])
def test_api_auth_errors_follow_the_error_contract(client, headers):
    """API.md: errors are JSON {"message": ...} in the request's language (zh by default)."""
    resp = client.get("/api/v1/product/", headers=headers)
    assert resp.status_code == 401  # a missing and an unreadable token alike: app/core/security.py refuse()
    assert resp.is_json and CJK.search(resp.json.get("message") or ""), resp.json


def test_api_bad_input_is_4xx_in_chinese(client, api_token):
    resp = client.post("/api/v1/unit/", json={"name": ""}, headers=api_token("admin"))
    assert resp.status_code == 400  # validate_dictionary: "Name is required." before any INSERT
    assert CJK.search(str(resp.json["message"]))


# ================================================================== money and dates


def test_format_money():
    from app.core.formatting import format_money

    assert format_money(Decimal("1234.5")) == "¥1,234.50"
    assert format_money(Decimal("-1234.5")) == "-¥1,234.50"
    assert format_money(Decimal("0")) == "¥0.00"
    assert format_money(Decimal("-0.00")) == "¥0.00"
    assert format_money(Decimal("1234567.891")) == "¥1,234,567.89"
    assert format_money(None) == ""


def test_format_date():
    from app.core.formatting import format_date

    assert format_date(dt.date(2026, 3, 5)) == "2026-03-05"
    assert format_date(dt.date(2026, 11, 23)) == "2026-11-23"
    assert format_date(None) == ""
    # stored in UTC (naive), shown in Asia/Shanghai (UTC+8, no daylight saving)
    assert format_date(dt.datetime(2026, 12, 31, 17, 30)) == "2027-01-01 01:30"
    assert format_date(dt.datetime(2026, 7, 1, 3, 0)) == "2026-07-01 11:00"
    assert format_date(dt.datetime(2026, 7, 1, 3, 0, tzinfo=dt.UTC)) == "2026-07-01 11:00"


@pytest.mark.every_database(
    "the prices are read back from NUMERIC columns and the UTC time from a DATETIME column before they are formatted"
)
def test_pages_show_money_and_local_time(app, as_user, uid):
    from app.base_data.models import Product
    from app.extensions import db

    model_no = uid("M")
    product_id = make_product(app, model_no, sale_price=Decimal("1234.5"), purchase_price=Decimal("7"))
    with app.app_context():
        product = db.session.get(Product, product_id)
        product.created_at = dt.datetime(2030, 6, 30, 17, 5)  # UTC
        db.session.commit()
        db.session.remove()
    c = as_user("admin")
    html = c.get(f"/productview/list/?_flt_0_model_no={model_no}").get_data(as_text=True)
    assert "¥1,234.50" in html and "¥7.00" in html
    html = c.get(f"/productview/show/{product_id}").get_data(as_text=True)
    assert "2030-07-01 01:05" in html
    assert "2030-06-30 17:05" not in html
