"""Base data through the pages and the REST API: validation, in-use entries, dropdowns, regions, categories."""

from decimal import Decimal

import pytest

from app.base_data.models import Product, ProductCategory, Region, Unit

pytestmark = pytest.mark.every_database(
    "products and units are written to NUMERIC and foreign-key columns and read back; uniqueness follows the collation"
)


def _product_form(**over):
    form = {
        "model_no": "",
        "name": "测试产品",
        "spec": "",
        "purchase_price": "10",
        "sale_price": "20",
        "floor_price": "15",
        "safety_min": "",
        "safety_max": "",
        "enabled": "y",
        "note": "",
    }
    form.update(over)
    return form


def test_add_product_through_the_form(db, as_user, uid):
    no = uid("F")
    resp = as_user("admin").post("/productview/add", data=_product_form(model_no=no, sale_price="1234.5"))
    assert resp.status_code == 302
    p = db.session.query(Product).filter_by(model_no=no).one()
    assert p.sale_price == Decimal("1234.50") and p.floor_price == Decimal("15.00")


def test_invalid_products_are_refused_with_chinese_messages(db, as_user, uid):
    no = uid("V")
    client = as_user("admin")
    assert client.post("/productview/add", data=_product_form(model_no=no)).status_code == 302
    cases = [
        # ours names the value; FAB's form check ("已经存在") answers first where the collation ignores case
        (_product_form(model_no=no.lower()), ("已存在", "已经存在")),
        (_product_form(model_no=uid("V"), sale_price="-1", floor_price="0"), "不能为负数"),
        (_product_form(model_no=uid("V"), floor_price="30"), "红线价不能高于销售价"),
        (_product_form(model_no=uid("V"), safety_min="10", safety_max="5"), "安全库存下限不能大于上限"),
    ]
    before = db.session.query(Product).count()
    for form, message in cases:
        html = client.post("/productview/add", data=form, follow_redirects=True).get_data(as_text=True)
        assert any(m in html for m in ((message,) if isinstance(message, str) else message)), message
    assert db.session.query(Product).count() == before


def test_unit_in_use_cannot_be_deleted_but_can_be_disabled(db, as_user, uid):
    unit = Unit(name=uid("U"))
    spare = Unit(name=uid("U"))
    db.session.add_all([unit, spare])
    db.session.flush()
    db.session.add(Product(model_no=uid("P"), name="x", unit=unit))
    db.session.commit()
    client = as_user("admin")
    html = client.post(f"/unitview/delete/{unit.id}", follow_redirects=True).get_data(as_text=True)
    assert "不能删除" in html and "产品信息" in html
    assert db.session.get(Unit, unit.id) is not None
    client.post(f"/unitview/delete/{spare.id}")
    db.session.expire_all()
    assert db.session.get(Unit, spare.id) is None
    client.post(f"/unitview/edit/{unit.id}", data={"name": unit.name, "sort_order": "0", "note": ""})
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).enabled is False
    form = client.get("/productview/add").get_data(as_text=True)
    assert unit.name not in form


@pytest.mark.sqlite_only("the cycle is found by walking the parent chain in Python before the edit is saved")
def test_category_tree_refuses_cycles(db, as_user, uid):
    parent, child = ProductCategory(name=uid("C")), None
    db.session.add(parent)
    db.session.flush()
    child = ProductCategory(name=uid("C"), parent=parent)
    db.session.add(child)
    db.session.commit()
    assert child.path == f"{parent.name} / {child.name}"
    html = (
        as_user("admin")
        .post(
            f"/productcategoryview/edit/{parent.id}",
            data={"name": parent.name, "parent": str(child.id), "sort_order": "0", "enabled": "y"},
            follow_redirects=True,
        )
        .get_data(as_text=True)
    )
    assert "不能放在自身或其下级分类之下" in html
    db.session.expire_all()
    assert db.session.get(ProductCategory, parent.id).parent_id is None


@pytest.mark.every_database("the region seed is bulk-inserted per database; Chinese names must survive its charset")
def test_all_provinces_and_their_cities_are_seeded(db):
    provinces = {r.name: r for r in db.session.query(Region).filter_by(level="province")}
    assert len(provinces) == 34
    assert {"北京市", "广东省", "新疆维吾尔自治区", "香港特别行政区", "台湾省"} <= set(provinces)
    cities = db.session.query(Region).filter_by(level="city").all()
    assert len(cities) >= 340 and all(c.parent is not None and c.parent.level == "province" for c in cities)
    guangzhou = next(c for c in cities if c.name == "广州市")
    assert guangzhou.parent.name == "广东省" and guangzhou.code == "440100"


def test_product_api_round_trip(db, api_token, uid):
    from flask import current_app

    client = current_app.test_client()
    admin, sales = api_token("admin"), api_token("sales1")
    no = uid("A")
    resp = client.post(
        "/api/v1/product/",
        json={"model_no": no, "name": "接口产品", "sale_price": "88.80", "floor_price": "80", "purchase_price": "60"},
        headers=admin,
    )
    assert resp.status_code == 201, resp.json
    pid = resp.json["id"]
    got = client.get(f"/api/v1/product/{pid}", headers=sales).json["result"]
    assert got["sale_price"] == "88.80" and got["model_no"] == no
    assert client.put(f"/api/v1/product/{pid}", json={"sale_price": "70"}, headers=admin).status_code == 400
    assert "红线价" in client.put(f"/api/v1/product/{pid}", json={"sale_price": "70"}, headers=admin).json["message"]
    assert client.put(f"/api/v1/product/{pid}", json={"sale_price": "99"}, headers=sales).status_code == 403
    assert client.delete(f"/api/v1/product/{pid}", headers=sales).status_code == 403
    db.session.expire_all()
    assert db.session.get(Product, pid).sale_price == Decimal("88.80")
    assert client.delete(f"/api/v1/product/{pid}", headers=admin).status_code == 200
    assert client.get(f"/api/v1/product/{pid}", headers=admin).status_code == 404


@pytest.mark.sqlite_only("the page and sort arguments are checked in Python before the list query runs")
def test_bad_list_arguments_get_a_400_not_an_error(as_user):
    client = as_user("admin")
    for query, message in (
        ("_oc_ProductView=nonexistent&_od_ProductView=asc", "不能按"),  # an unknown sort column
        ("page_ProductView=abc", "不正确"),  # page or page size not a number, or too large
        ("psize_ProductView=100000", "不正确"),
    ):
        resp = client.get(f"/productview/list/?{query}")
        assert resp.status_code == 400, query
        assert message in resp.get_data(as_text=True), query
    assert client.get("/productview/list/?_oc_ProductView=sale_price&_od_ProductView=desc").status_code == 200


@pytest.mark.sqlite_only("marshmallow refuses each body (length, unknown field, number) in Python before any SQL runs")
def test_api_validation_messages_are_chinese(client, api_token):
    admin = api_token("admin")
    too_long = client.post("/api/v1/product/", json={"model_no": "X" * 100, "name": "y"}, headers=admin)
    assert too_long.status_code == 422 and too_long.json["message"] == {"model_no": ["最多 64 个字符。"]}
    unknown = client.post("/api/v1/product/", json={"model_no": "Y1", "name": "y", "colour": "red"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json["message"] == {"colour": ["不能设置这个字段。"]}
    not_number = client.post(
        "/api/v1/product/", json={"model_no": "Y2", "name": "y", "sale_price": "abc"}, headers=admin
    )
    assert not_number.status_code == 422 and "不是有效的数字" in str(not_number.json["message"])
