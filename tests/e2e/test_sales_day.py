"""A sales department's day, in Chinese, through the pages only: a salesperson wins a customer and sells below the
red-line price, the sales manager approves the exception, the warehouse ships, finance records the money, and the
manager's 销售额统计 (chart, table, Excel download) shows the sale. Also: each role's menu, and a salesperson who
cannot open a colleague's order.

Set E2E_SCREENSHOTS=1 to refresh the README's screenshots (docs/screenshots/*.png) from this run.
"""

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e import ui

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CUSTOMER = "上海浦江智慧园区管理有限公司"
PROJECT = "浦江园区监控与网络改造"
# (search text, picker label, quantity, unit price or None for the suggested one, the price we expect)
LINES = [
    ("S5735-L24", "S5735-L24T4X 24口千兆交换机", "5", None, Decimal("3280.00")),
    ("DS-2CD3T46", "DS-2CD3T46 400万筒型网络摄像机", "20", "500", Decimal("500.00")),  # 红线价 520.00
]
TOTAL = Decimal("26400.00")  # 5 × 3,280 + 20 × 500
RECEIPTS = [Decimal("10000.00"), Decimal("16400.00")]


def readme_screenshot(page, name: str, *, full_page: bool = False) -> None:
    if os.environ.get("E2E_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1500)  # the charts' grow-in animation has ended
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def report_table(page) -> tuple[list[str], list[list[str]]]:
    """Header and body rows (the total row last) of a statistics page's table, as shown."""
    table = page.locator("#report-table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    rows = [
        [c.strip() for c in row.locator("td, th").all_inner_texts()]
        for row in table.locator("tbody tr, tfoot tr").all()
    ]
    return headers, rows


def open_order(page, number: str) -> None:
    """销售管理 › 销售订单, then the order's 查看 link."""
    ui.open_menu(page, "销售管理", "销售订单")
    row = page.locator("table tr", has_text=number)
    with page.expect_navigation():
        row.locator("a[href*='/show/']").first.click()
    expect(page.locator("#doc-actions")).to_be_attached()


def stock_on_hand(page) -> dict[str, Decimal]:
    """仓库管理 › 产品库存: model no. → quantity on hand (all in the main warehouse here)."""
    ui.open_menu(page, "仓库管理", "产品库存")
    table = "table:has(th:has-text('现有库存'))"
    count = page.locator(f"{table} tbody tr").count()
    return {
        ui.cell(page, table, i, "型号"): Decimal(ui.cell(page, table, i, "现有库存").replace(",", ""))
        for i in range(count)
    }


def this_month_row(page) -> list[str]:
    month = ui.today().strftime("%Y-%m")
    _headers, rows = report_table(page)
    return next((r for r in rows if r[0] == month), [month, "0", "¥0.00"])


def test_a_sales_day(browse, live_server, tmp_path):
    manager = browse("wangfang")

    # the manager's morning: this month's sales before the day's order
    manager.goto("/")
    ui.open_menu(manager, "统计报表", "销售额统计")
    before = this_month_row(manager)

    # --- Salesperson: a new end customer, a follow-up, a quotation turned into an order, submitted
    sales = browse("zhangwei")
    sales.goto("/")
    ui.open_menu(sales, "业主管理", "业主信息")
    sales.locator("a[href$='/endcustomerview/add']").first.click()
    sales.fill("#name", CUSTOMER)
    ui.pick(sales, "#region", "上海市")
    sales.fill("#phone", "021-64001234")
    sales.fill("#address", "上海市闵行区浦江镇联航路 1188 号")
    ui.submit_form(sales)
    expect(sales.locator(".alert-success")).to_be_visible()
    expect(sales.locator("table", has_text=CUSTOMER)).to_be_visible()

    ui.open_menu(sales, "工作管理", "跟单记录")
    sales.locator("a[href$='/followupview/add']").first.click()
    ui.pick(sales, "#end_customer", CUSTOMER, search="浦江")
    today = ui.today()
    ui.type_date(sales, "#followup_date", today)
    ui.pick(sales, "#method", "上门拜访")
    sales.fill("#content", "拜访信息中心主任，确认园区监控与网络改造需求，对方要求本周内报价。")
    ui.type_date(sales, "#next_date", today + dt.timedelta(days=3))
    sales.fill("#next_plan", "发送报价并约技术交流")
    ui.submit_form(sales)
    expect(sales.locator(".alert-success")).to_be_visible()
    expect(sales.locator("table", has_text="拜访信息中心主任")).to_be_visible()

    ui.open_menu(sales, "销售管理", "报价单")
    sales.locator("a[href$='/quotationview/add']").first.click()
    ui.pick(sales, "#end_customer", CUSTOMER, search="浦江")
    sales.fill("#project_name", PROJECT)
    for i, (search, label, qty, price, expected) in enumerate(LINES):
        if i:
            sales.click("#line-add")
        row = sales.locator("#doc-lines tbody tr").nth(i)
        row.locator(".line-qty").fill(qty)
        ui.pick(sales, row.locator("select.line-product"), label, search=search)
        # the suggested price arrives first; a price typed over it is kept (lines.js)
        expect(row.locator(".line-money")).not_to_have_value("")
        if price:
            row.locator(".line-money").fill(price)
        expect(row.locator(".line-money")).to_have_value(re.compile(rf"^{expected:.0f}(\.0+)?$"))
    expect(sales.locator("#doc-total")).to_have_text("¥26,400.00")
    ui.submit_form(sales)
    expect(sales.locator("#doc-convert")).to_be_visible()
    assert ui.money(ui.show_field(sales, "报价金额")) == TOTAL

    ui.click_doc_button(sales, "convert")
    expect(sales.locator(".alert-success")).to_contain_text("报价单")
    number = ui.show_field(sales, "单号")
    assert number.startswith("XS"), number
    assert ui.money(ui.show_field(sales, "合同金额")) == TOTAL
    lines = sales.locator("#doc-lines tbody tr")
    expect(lines).to_have_count(2)
    ui.click_doc_button(sales, "submit")
    expect(sales.locator(".alert-success")).to_contain_text("已提交")
    expect(sales.locator("#doc-approve")).to_have_count(0)  # a salesperson does not approve

    # --- SalesManager: the price exception waits for them; approving accepts the price below 红线价
    open_order(manager, number)
    assert ui.show_field(manager, "状态") == "待审核"
    assert ui.show_field(manager, "低于红线价") == "是"
    ui.click_doc_button(manager, "approve")
    expect(manager.locator(".alert-success")).to_contain_text("审核通过")
    assert ui.show_field(manager, "状态") == "已审核"
    # the price below 红线价 is recorded as accepted by the manager, the other line needed no acceptance
    assert [ui.cell(manager, "#doc-lines", i, "低价批准人") for i in range(2)] == ["", "王芳"]

    # --- WarehouseKeeper: ship the order from the main warehouse and confirm the stock out
    keeper = browse("chenjing")
    keeper.goto("/")
    stock_before = stock_on_hand(keeper)
    open_order(keeper, number)
    keeper.locator("#doc-ship").click()
    keeper.wait_for_url(re.compile(r"/stockoutview/add"))
    expect(keeper.locator("#doc-lines tbody tr")).to_have_count(2)  # the order's lines, to ship in full
    ui.submit_form(keeper)
    ui.click_doc_button(keeper, "confirm")
    expect(keeper.locator(".alert-success")).to_contain_text("库存")
    open_order(keeper, number)
    assert [ui.cell(keeper, "#doc-lines", i, "已发货") for i in range(2)] == [line[2] for line in LINES]
    expect(keeper.locator("#doc-ship")).to_have_count(0)  # nothing left to ship
    assert ui.show_field(keeper, "状态") == "已发货"
    stock_after = stock_on_hand(keeper)
    for search, _label, qty, _price, _expected in LINES:
        model_no = next(m for m in stock_before if m.startswith(search))
        assert stock_before[model_no] - stock_after[model_no] == Decimal(qty), model_no

    # --- Finance: two receipts against the order
    finance = browse("zhaomin")
    finance.goto("/")
    for amount in RECEIPTS:
        open_order(finance, number)
        finance.locator("#doc-receive").click()
        finance.wait_for_url(re.compile(r"/receiptview/add"))
        finance.fill("#amount", str(amount))
        ui.submit_form(finance)
        expect(finance.locator(".alert-success")).to_be_visible()
    open_order(finance, number)
    assert ui.money(ui.show_field(finance, "已收金额")) == TOTAL
    assert ui.money(ui.show_field(finance, "未收款金额")) == 0
    assert (ui.show_field(finance, "收款状态"), ui.show_field(finance, "状态")) == ("已收款", "已完成")
    expect(finance.locator("#doc-receive")).to_have_count(0)

    # --- SalesManager: 销售额统计 shows the day's order; the chart drew; the Excel file has the page's figures
    manager.goto("/")
    readme_screenshot(manager, "home")
    open_order(manager, number)
    readme_screenshot(manager, "order", full_page=True)  # its lines, shipments and approval trail too
    ui.open_menu(manager, "统计报表", "销售额统计")
    after = this_month_row(manager)
    assert int(after[1]) == int(before[1]) + 1
    assert ui.money(after[2]) - ui.money(before[2]) == TOTAL
    if live_server.echarts:
        canvas = manager.locator("#report-chart canvas").first
        expect(canvas).to_be_visible()
        manager.wait_for_function(
            """() => { const c = document.querySelector('#report-chart canvas');
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       let drawn = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) drawn++; }
                       return drawn > 1000; }"""
        )
    readme_screenshot(manager, "chart")

    with manager.expect_download() as download:
        manager.click("#report-xlsx")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.endswith(".xlsx") and "销售额统计" in path.name
    assert_excel_matches_page(path, *report_table(manager))


def assert_excel_matches_page(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True) if any(v not in (None, "") for v in r)]
    start = next(i for i, r in enumerate(values) if [str(v or "").strip() for v in r[: len(headers)]] == headers)
    body = values[start + 1 :]
    assert rows and len(body) == len(rows), (body, rows)  # every period, then the total row
    for shown, cells in zip(rows, body):
        for text, value in zip(shown, cells):
            if isinstance(value, (int, float, Decimal)):
                assert ui.money(text) == Decimal(str(value)).quantize(ui.money(text)), (text, value)
            else:
                assert text == str(value or "").strip(), (text, value)


def test_each_role_sees_its_menu(browse, live_server):
    """The top menu of every role is what app/core/roles.py grants it: the same categories and entries, in order."""
    from flask_babel import force_locale

    from app.core.roles import role_permissions

    app = live_server.app
    for username, role in ui.USERS.items():
        with app.test_request_context(), force_locale("zh"):
            granted = None if role == "Admin" else {v for p, v in role_permissions(role) if p == "menu_access"}
            expected = []
            for category in app.appbuilder.menu.get_list():
                entries = [
                    str(c.label) for c in category.childs if c.name != "-" and (granted is None or c.name in granted)
                ]
                if entries and (granted is None or category.name in granted):
                    expected.append((str(category.label), entries))
        assert expected, f"{role} is granted no menu"
        page = browse(username)
        page.goto("/")
        shown = []
        for category in page.locator("ul.navbar-nav").first.locator(":scope > li.dropdown").all():
            label = category.locator(":scope > a").inner_text().strip()
            entries = [e.strip() for e in category.locator("ul.dropdown-menu a").all_inner_texts() if e.strip()]
            shown.append((label, entries))
        assert shown == expected, f"{username} ({role})"
        page.context.close()


def test_salesperson_cannot_open_a_colleagues_order(browse, live_server):
    from app.extensions import db
    from app.sales.models import SalesOrder

    with live_server.app.app_context():
        owners = {o.owner.username: o.id for o in db.session.query(SalesOrder).order_by(SalesOrder.id)}
        db.session.remove()
    theirs, mine = owners["zhangwei"], owners["lina"]
    page = browse("lina")
    page.watch.allow(r"status of 404")  # the browser logs the refused page's status
    response = page.goto(f"/salesorderview/show/{theirs}")
    assert response.status == 404
    expect(page.locator("#error-message")).to_contain_text("404")
    response = page.goto(f"/salesorderview/edit/{theirs}")
    assert response.status == 404
    response = page.goto(f"/salesorderview/show/{mine}")
    assert response.status == 200
    expect(page.locator("#doc-actions")).to_be_attached()
