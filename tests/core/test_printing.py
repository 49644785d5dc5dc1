"""打印: the A4 pages of the sales order, the delivery note (出库单), the purchase contract and the receipt — who may
open them (read permission, same scope as the show page), what is on the paper (letterhead, number, lines, total,
the amount in Chinese capitals), that they are pages of their own (no menus) — and amount_in_chinese itself,
checked against a parser written here that reads the capitals back."""

import html as html_lib
import random
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from app.base_data.models import Product, Unit, Warehouse
from app.core.formatting import amount_in_chinese, format_money
from app.crm.models import Contact, EndCustomer
from app.purchase.models import Supplier
from tests.support.users import user_id

D = Decimal
DAY = "2030-07-01"

pytestmark = pytest.mark.every_database(
    "the papers show quantities, prices and totals read back from NUMERIC columns to the cent, and find the "
    "document through the reader's data scope in SQL"
)


# ---------------------------------------------------------------- amount_in_chinese

CASES = [
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
    ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
    ("1000.05", "壹仟元零伍分"),
    ("100000000", "壹亿元整"),
    ("10010", "壹万零壹拾元整"),
    ("0.5", "伍角整"),
    ("0.05", "伍分"),
    ("0.55", "伍角伍分"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("15", "壹拾伍元整"),
    ("101", "壹佰零壹元整"),
    ("1001", "壹仟零壹元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1100", "壹仟壹佰元整"),
    ("1409.50", "壹仟肆佰零玖元伍角整"),  # 支付结算办法's examples
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    ("10000", "壹万元整"),
    ("100000", "壹拾万元整"),
    ("100001", "壹拾万零壹元整"),
    ("1000010", "壹佰万零壹拾元整"),
    ("20000000.10", "贰仟万元壹角整"),
    ("100010000", "壹亿零壹万元整"),
    ("100000001", "壹亿零壹元整"),
    ("100100100", "壹亿零壹拾万零壹佰元整"),
    ("1000000000", "壹拾亿元整"),
    ("100000000000", "壹仟亿元整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("-12.3", "负壹拾贰元叁角整"),
    ("-0.01", "负壹分"),
    ("-1000.05", "负壹仟元零伍分"),
    ("12.345", "壹拾贰元叁角伍分"),  # rounded half up to the cent
    ("0.004", "零元整"),
    ("-0.004", "零元整"),  # no 负 for what rounds to nothing
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_amount_in_chinese(amount, words):
    assert amount_in_chinese(D(amount)) == words


def test_amount_in_chinese_takes_ints_and_text_too():
    assert amount_in_chinese(1234) == "壹仟贰佰叁拾肆元整"
    assert amount_in_chinese("0.5") == "伍角整"


@pytest.mark.parametrize(
    "amount", [D("1000000000000"), D("-1000000000000"), D("999999999999.995"), D("1E+30"), D("-1E+30")]
)
def test_amount_in_chinese_refuses_beyond_9999_yi(amount):
    with pytest.raises(ValueError):
        amount_in_chinese(amount)


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), D("-Infinity"), "abc", "", None, object()])
def test_amount_in_chinese_refuses_what_is_not_an_amount(value):
    with pytest.raises(ValueError):
        amount_in_chinese(value)


DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACES = {"拾": 10, "佰": 100, "仟": 1000}


def parse_capitals(text: str) -> Decimal:
    """The amount written in capitals, read back: an independent reading, unit by unit, of what was written."""
    sign = 1
    if text.startswith("负"):
        sign, text = -1, text[1:]
    if text.endswith("整"):
        text = text[:-1]
    yuan_text, _, small = text.rpartition("元") if "元" in text else ("", "", text)
    total = section = digit = 0
    for ch in yuan_text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in PLACES:
            assert digit, f"a place without its digit in {text}"
            section += digit * PLACES[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif ch == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text}")
    total += section + digit
    cents = 0
    for value, unit in re.findall(r"([零壹贰叁肆伍陆柒捌玖])([角分])", small.lstrip("零")):
        cents += DIGITS[value] * (10 if unit == "角" else 1)
    assert re.fullmatch(r"零?(?:[壹贰叁肆伍陆柒捌玖]角)?(?:[壹贰叁肆伍陆柒捌玖]分)?", small), f"cents {small!r}"
    return sign * (D(total) + D(cents) / 100)


def _random_amount(rnd: random.Random) -> Decimal:
    """Amounts of every size, with many zeros (they are what the rules are about)."""
    length = rnd.randint(1, 12)
    digits = "".join(rnd.choice("0000123456789") for _ in range(length))
    cents = rnd.choice(["00", "50", "05", "01", "10", f"{rnd.randint(0, 99):02d}"])
    amount = D(f"{int(digits)}.{cents}")
    return -amount if rnd.random() < 0.1 else amount


def test_amount_in_chinese_reads_back_for_1000_random_amounts():
    rnd = random.Random(20300701)
    for _ in range(1000):
        amount = _random_amount(rnd)
        words = amount_in_chinese(amount)
        assert parse_capitals(words) == amount, (amount, words)
        if amount == 0:
            assert words == "零元整"
            continue
        # the writing rules a reader relies on
        body = words.removeprefix("负")
        assert "零零" not in words and not re.search("零[万亿元]", words), words
        assert not body.startswith("零"), words
        assert not body.endswith("零"), words
        assert body.endswith("整") == (amount % D("0.1") == 0), words
        assert "亿万" not in words, words
        assert words.startswith("负") == (amount < 0), words


def test_parser_reads_the_fixed_cases():
    for amount, words in CASES:
        assert parse_capitals(words) == D(amount).quantize(D("0.01"), rounding=ROUND_HALF_UP), amount


# ---------------------------------------------------------------- the documents


def _act(client, headers, resource, pk, action):
    resp = client.post(f"/api/v1/{resource}/{pk}/{action}", json={}, headers=headers)
    assert resp.status_code == 200, resp.json
    return resp


def _token(app, username):
    resp = app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": "Test-Passw0rd!", "provider": "db", "refresh": False},
    )
    assert resp.status_code == 200, resp.data
    return {"Authorization": f"Bearer {resp.json['access_token']}"}


def _post(client, url, body, headers):
    resp = client.post(url, json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


@pytest.fixture(scope="module")
def docs(app):
    """One of each printed document, made through the API as people would: an approved order of sales1, shipped
    in part; a receipt on it; an approved purchase contract."""
    import uuid

    from app.extensions import db

    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        unit = db.session.query(Unit).filter_by(name="台").one_or_none() or Unit(name="台")
        warehouse = Warehouse(name=f"印仓{tag}")
        p1 = Product(
            model_no=f"PR-{tag}-1", name=f"打印交换机{tag}", spec="24口千兆", unit=unit, sale_price=D("1234.50")
        )
        p2 = Product(model_no=f"PR-{tag}-2", name=f"打印网线{tag}", sale_price=D("25.00"))
        customer = EndCustomer(
            name=f"打印业主{tag}", address="上海市浦东新区测试路1号", owner_id=user_id(app, "sales1")
        )
        supplier = Supplier(name=f"打印供货商{tag}", contact_name="钱经理", phone="021-5555", address="苏州工业园区")
        db.session.add_all([unit, warehouse, p1, p2, customer, supplier])
        db.session.flush()
        db.session.add(
            Contact(
                end_customer_id=customer.id,
                name="张联系",
                mobile="13800000000",
                is_primary=True,
                owner_id=customer.owner_id,
            )
        )
        db.session.commit()
        ids = {"w": warehouse.id, "p1": p1.id, "p2": p2.id, "customer": customer.id, "supplier": supplier.id}
        names = {"p1": p1.name, "p2": p2.name, "customer": customer.name, "supplier": supplier.name}
        db.session.remove()

    client = app.test_client()
    sales1, manager, keeper = _token(app, "sales1"), _token(app, "manager"), _token(app, "keeper")
    purchaser, admin = _token(app, "purchaser"), _token(app, "admin")
    stock_in = {
        "warehouse": ids["w"],
        "doc_date": DAY,
        "lines": [
            {"product_id": ids["p1"], "qty": "10", "unit_cost": "800"},
            {"product_id": ids["p2"], "qty": "50", "unit_cost": "5"},
        ],
    }
    _act(client, keeper, "stock_in", _post(client, "/api/v1/stock_in/", stock_in, keeper), "confirm")
    order = {
        "end_customer": ids["customer"],
        "doc_date": DAY,
        "project_name": "打印项目",
        "lines": [
            {"product_id": ids["p1"], "qty": "3", "unit_price": "1234.50"},
            {"product_id": ids["p2"], "qty": "4", "unit_price": "25.00", "discount": "10"},
        ],
    }
    order_id = _post(client, "/api/v1/sales_order/", order, sales1)
    _act(client, sales1, "sales_order", order_id, "submit")
    _act(client, manager, "sales_order", order_id, "approve")
    ship = {
        "warehouse": ids["w"],
        "order": order_id,
        "doc_date": DAY,
        "lines": [{"product_id": ids["p1"], "qty": "2"}, {"product_id": ids["p2"], "qty": "4"}],
    }
    stock_out_id = _post(client, "/api/v1/stock_out/", ship, keeper)
    _act(client, keeper, "stock_out", stock_out_id, "confirm")
    receipt = {"order": order_id, "amount": "1000.05", "method": "bank", "doc_date": DAY, "note": "首付款"}
    receipt_id = _post(client, "/api/v1/receipt/", receipt, sales1)
    contract = {
        "supplier": ids["supplier"],
        "doc_date": DAY,
        "lines": [
            {"product_id": ids["p1"], "qty": "10", "unit_price": "1000.00"},
            {"product_id": ids["p2"], "qty": "1", "unit_price": "10.00"},
        ],
    }
    contract_id = _post(client, "/api/v1/purchase_contract/", contract, purchaser)
    _act(client, purchaser, "purchase_contract", contract_id, "submit")
    _act(client, admin, "purchase_contract", contract_id, "approve")

    from app.inventory.models import StockOut
    from app.purchase.models import PurchaseContract
    from app.sales.models import Receipt, SalesOrder

    with app.app_context():
        numbers = {
            "order": db.session.get(SalesOrder, order_id).number,
            "stock_out": db.session.get(StockOut, stock_out_id).number,
            "receipt": db.session.get(Receipt, receipt_id).number,
            "contract": db.session.get(PurchaseContract, contract_id).number,
        }
        db.session.remove()
    return {
        "ids": ids,
        "names": names,
        # view, pk, number, products, total, reader, another salesperson's answer, a role without read
        "order": ("SalesOrderView", order_id, numbers["order"], ["p1", "p2"], D("3793.50"), "sales1", 404, "purchaser"),
        "stock_out": (
            "StockOutView",
            stock_out_id,
            numbers["stock_out"],
            ["p1", "p2"],
            D("2559.00"),
            "keeper",
            403,
            "purchaser",
        ),
        "receipt": ("ReceiptView", receipt_id, numbers["receipt"], [], D("1000.05"), "sales1", 404, "keeper"),
        "contract": (
            "PurchaseContractView",
            contract_id,
            numbers["contract"],
            ["p1", "p2"],
            D("10010.00"),
            "purchaser",
            403,
            "sales1",
        ),
    }


DOCS = ["order", "stock_out", "receipt", "contract"]


def _text(page: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def _t(app, msgid) -> str:
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid)


@pytest.mark.parametrize("kind", DOCS)
def test_print_page_of_each_document(app, as_user, docs, kind):
    view, pk, number, products, total, reader, _other, _denied = docs[kind]
    resp = as_user(reader).get(f"/{view.lower()}/print/{pk}")
    assert resp.status_code == 200, resp.status_code
    page = resp.get_data(as_text=True)
    text = _text(page)
    assert number in text
    for key in products:
        assert docs["names"][key] in text
    assert format_money(total) in text
    assert amount_in_chinese(total) in text
    assert _t(app, "Amount in words") in text
    # a page of its own: no FAB layout, no menus; the paper's stylesheet and the print button's script
    assert "navbar" not in page and "dropdown-menu" not in page and "<nav" not in page
    assert "/static/css/print.css" in page and "/static/js/print.js" in page
    assert 'id="print-now"' in page
    assert "onclick" not in page.lower() and "javascript:" not in page.lower()
    assert "script-src 'self' 'nonce-" in resp.headers["Content-Security-Policy"]
    assert _t(app, "Printed at") in text


def test_sales_order_paper_shows_customer_contact_lines_and_signatures(app, as_user, docs):
    view, pk, *_ = docs["order"]
    page = as_user("sales1").get(f"/{view.lower()}/print/{pk}").get_data(as_text=True)
    text = _text(page)
    assert docs["names"]["customer"] in text and "张联系" in text and "13800000000" in text
    assert "上海市浦东新区测试路1号" in text and "打印项目" in text
    assert "24口千兆" in text and "台" in text  # model / spec and unit of the product
    lines = re.search(r'<table class="doc-lines" id="print-lines">(.*?)</table>', page, re.S).group(1)
    rows = [
        [_text(c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
        for r in re.findall(r"<tr[^>]*>(.*?)</tr>", lines.split("<tbody>")[1], re.S)
    ]
    assert rows[0][4:] == ["3", "¥1,234.50", "", "¥3,703.50", ""]
    assert rows[1][4:] == ["4", "¥25.00", "10%", "¥90.00", ""]
    assert rows[2][0] == _t(app, "Total") and rows[2][3] == "7" and rows[2][6] == "¥3,793.50"
    assert "叁仟柒佰玖拾叁元伍角整" in rows[3][1]
    for label in ("Prepared by", "Reviewed by", "Customer (signature and seal)"):
        assert _t(app, label) in text


def test_delivery_note_prices_lines_from_the_order_and_names_the_warehouse(app, as_user, docs):
    view, pk, *_ = docs["stock_out"]
    text = _text(as_user("keeper").get(f"/{view.lower()}/print/{pk}").get_data(as_text=True))
    assert "印仓" in text and docs["order"][2] in text  # the warehouse and the order shipped
    assert "¥2,469.00" in text and "¥22.50" in text and "¥90.00" in text
    assert "贰仟伍佰伍拾玖元整" in text
    assert _t(app, "Received by (signature)") in text


def test_receipt_and_contract_papers(app, as_user, docs):
    text = _text(as_user("sales1").get(f"/receiptview/print/{docs['receipt'][1]}").get_data(as_text=True))
    assert "壹仟元零伍分" in text and docs["order"][2] in text and "首付款" in text
    text = _text(as_user("purchaser").get(f"/purchasecontractview/print/{docs['contract'][1]}").get_data(as_text=True))
    assert docs["names"]["supplier"] in text and "钱经理" in text and "021-5555" in text and "苏州工业园区" in text
    assert "壹万零壹拾元整" in text
    assert _t(app, "Supplier (signature and seal)") in text


@pytest.mark.parametrize("kind", DOCS)
def test_print_page_follows_scope_and_permission(as_user, client, docs, kind):
    view, pk, _number, _p, _t, _reader, other_salesperson, denied = docs[kind]
    url = f"/{view.lower()}/print/{pk}"
    assert as_user("sales2").get(url).status_code == other_salesperson
    assert as_user(denied).get(url).status_code == 403
    assert as_user("admin").get(url).status_code == 200
    assert as_user("admin").get(f"/{view.lower()}/print/999999999").status_code == 404
    resp = client.get(url)
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]  # not signed in: to the login page
    assert as_user("exec").get(url).status_code == 200  # read-only roles print too


@pytest.mark.sqlite_only("the print button is a link the show template writes from the view and the id")
@pytest.mark.parametrize("kind", DOCS)
def test_show_page_has_the_print_button(as_user, docs, kind):
    view, pk, _number, _p, _t, reader, *_ = docs[kind]
    page = as_user(reader).get(f"/{view.lower()}/show/{pk}").get_data(as_text=True)
    button = re.search(r'<a[^>]*id="print-document"[^>]*>', page)
    assert button, "no print button"
    assert f'href="/{view.lower()}/print/{pk}"' in button.group(0) and 'target="_blank"' in button.group(0)


@pytest.mark.sqlite_only("whether a view has a paper, and so a print button, is declared in Python")
def test_documents_without_paper_have_no_print_button(app, as_user, docs):
    from app.extensions import db
    from app.inventory.models import StockIn

    with app.app_context():
        stock_in_id = db.session.query(StockIn.id).filter_by(warehouse_id=docs["ids"]["w"]).first()[0]
        db.session.remove()
    page = as_user("keeper").get(f"/stockinview/show/{stock_in_id}").get_data(as_text=True)
    assert "print-document" not in page


@pytest.mark.sqlite_only("the letterhead is read from app.config by the print template; no query gives it")
def test_letterhead_comes_from_the_configuration(app, as_user, docs):
    view, pk, *_ = docs["order"]
    url = f"/{view.lower()}/print/{pk}"
    saved = {k: app.config.get(k) for k in ("COMPANY_NAME", "COMPANY_ADDRESS", "COMPANY_PHONE")}
    try:
        app.config.update(COMPANY_NAME="", COMPANY_ADDRESS="", COMPANY_PHONE="")
        text = _text(as_user("sales1").get(url).get_data(as_text=True))
        assert _t(app, "Company Name") in text  # a neutral placeholder until it is configured
        app.config.update(COMPANY_NAME="测试科技有限公司", COMPANY_ADDRESS="北京市海淀区1号", COMPANY_PHONE="010-1234")
        text = _text(as_user("sales1").get(url).get_data(as_text=True))
        assert "测试科技有限公司" in text and "北京市海淀区1号" in text and "010-1234" in text
    finally:
        app.config.update(saved)


@pytest.mark.sqlite_only("print.css and print.js are static files")
def test_print_stylesheet_is_for_a4_paper(client):
    css = client.get("/static/css/print.css").get_data(as_text=True)
    assert "size: A4" in css and "margin: 12mm" in css
    assert "display: table-header-group" in css and "page-break-inside: avoid" in css
    assert re.search(r"@media print\s*{[^}]*\.print-toolbar\s*{\s*display:\s*none", css)
    js = client.get("/static/js/print.js").get_data(as_text=True)
    assert "window.print()" in js


def test_delivery_note_without_an_order_prints_quantities_only(app, as_user, docs):
    """Another out-type (no order): nothing to price, so no money and no amount in words on the paper."""
    keeper = _token(app, "keeper")
    client = app.test_client()
    body = {"warehouse": docs["ids"]["w"], "doc_date": DAY, "lines": [{"product_id": docs["ids"]["p2"], "qty": "5"}]}
    pk = _post(client, "/api/v1/stock_out/", body, keeper)
    page = as_user("keeper").get(f"/stockoutview/print/{pk}").get_data(as_text=True)
    text = _text(page)
    assert docs["names"]["p2"] in text and "¥" not in text
    assert 'id="print-amount-words"' not in page
    totals = re.search(r'<tr class="totals" id="print-totals">(.*?)</tr>', page, re.S).group(1)
    assert "5" in _text(totals)
