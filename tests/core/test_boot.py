"""The app boots with the pinned packages, migrates from nothing, and serves the Chinese login page."""

from importlib.metadata import version

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.sqlite_only(
    "the login page, the language switch and the menus are rendered in Python from the message catalogue and the "
    "role tables; no query decides what they show"
)

REQUIREMENTS = ROOT / "requirements.txt"


def test_installed_versions_match_pins():
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, ver = line.split("==")
            pins[name.split("[")[0]] = ver
    assert pins["Flask-AppBuilder"].startswith("5.")
    assert pins["marshmallow"].startswith("3."), "FAB 5.3.0 dies at start-up with marshmallow 4"
    for name, ver in pins.items():
        assert version(name) == ver, f"{name} installed {version(name)} but pinned {ver}"


def test_login_page_is_chinese(client):
    resp = client.get("/login/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "销售管理系统" in html
    assert "用户名" in html and "密码" in html


def test_english_switch(as_user):
    c = as_user("admin")
    resp = c.get("/lang/en", follow_redirects=True)
    assert resp.status_code == 200
    html = c.get("/productview/list/").get_data(as_text=True)
    assert "Products" in html and "Model No." in html
    c.get("/lang/zh")
    html = c.get("/productview/list/").get_data(as_text=True)
    assert "产品信息" in html and "型号" in html


def test_admin_sees_all_menus(as_user):
    html = as_user("admin").get("/").get_data(as_text=True)
    for label in ("仓库管理", "基础数据", "系统管理", "产品信息", "客户性质", "省份市级", "操作日志"):
        assert label in html, label


def test_menus_follow_roles(as_user):
    html = as_user("sales1").get("/").get_data(as_text=True)
    assert "产品信息" in html and "基础数据" in html
    assert "操作日志" not in html and "审批级别" not in html and "用户列表" not in html
    assert as_user("sales1").get("/auditlogview/list/").status_code == 403
    assert as_user("sales1").get("/users/list/").status_code == 403


@pytest.mark.every_database(
    "the seed finds existing roles, dictionary entries and regions by name in SQL (collations differ): a rerun must "
    "insert nothing"
)
def test_seed_is_idempotent(app):
    from app.base_data.models import Region, Unit
    from app.cli import seed_all
    from app.extensions import db

    with app.app_context():
        before = (db.session.query(Unit).count(), db.session.query(Region).count())
        result = seed_all(verbose=False)
        assert result["dictionaries"] == 0 and result["regions"] == 0
        assert (db.session.query(Unit).count(), db.session.query(Region).count()) == before


@pytest.mark.every_database("the probe answers ok only when its SELECT 1 succeeds on the configured database")
def test_health_answers_without_login(app):
    resp = app.test_client().get("/health")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}
