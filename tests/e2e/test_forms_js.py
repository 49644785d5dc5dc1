"""The form scripts in a real browser: document lines (lines.js) with live totals, pickers on added rows and prices
from the customer's price list; questions before destructive actions (confirm.js, FAB's delete dialog); the busy
indication of exports and imports (progress.js and the download cookie)."""

import re
import uuid

import pytest

from tests.e2e import ui

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

HOSPITAL = "上海市第六人民医院"  # the demo's customer with an agreed price for the 48-port switch
SWITCH = ("S5735-L48", "S5735-L48T4X 48口千兆交换机")  # list price 5,680.00, agreed 5,400.00
ROUTER = ("AR6120", "AR6120 企业级路由器")  # 4,980.00, no price list, volume price or promotion

# records what progress.js shows while a request runs (kept in sessionStorage: an import replaces the page)
RECORD_BUSY = """() => {
  const seen = () => JSON.parse(sessionStorage.getItem('busy') || '[]');
  new MutationObserver(() => {
    const status = document.getElementById('app-progress');
    const busy = [...document.querySelectorAll('.is-busy')].map((el) => el.textContent.trim());
    if (status && !status.hidden) { busy.push('status: ' + status.textContent.trim()); }
    if (busy.length) { sessionStorage.setItem('busy', JSON.stringify([...new Set([...seen(), ...busy])])); }
  }).observe(document.body, { subtree: true, childList: true, attributes: true });
  sessionStorage.removeItem('busy');
}"""


def _t(live_server, msgid: str) -> str:
    from flask_babel import gettext

    with live_server.app.test_request_context():
        return gettext(msgid)


def _row(page, i: int):
    return page.locator("#doc-lines tbody tr").nth(i)


def test_order_lines_total_live_and_prices_follow_the_customer(browse, live_server):
    page = browse("zhangwei")
    page.goto("/salesorderview/add")
    # a product before the customer: the list price, then the customer's agreed price once they are chosen
    first = _row(page, 0)
    ui.pick(page, first.locator("select.line-product"), SWITCH[1], search=SWITCH[0])
    first.locator(".line-qty").fill("2")
    first.locator(".line-qty").press("Tab")
    expect(first.locator(".line-money")).to_have_value("5680.00")
    expect(page.locator("#doc-total")).to_have_text("¥11,360.00")
    ui.pick(page, "#end_customer", HOSPITAL, search="第六人民")
    expect(first.locator(".line-money")).to_have_value("5400.00")
    expect(first.locator(".line-amount")).to_have_text("¥10,800.00")

    # an added row has a picker of its own, and its price is suggested too
    page.click("#line-add")
    second = _row(page, 1)
    expect(second.locator(".line-no")).to_have_text("2")
    ui.pick(page, second.locator("select.line-product"), ROUTER[1], search=ROUTER[0])
    expect(second.locator(".line-money")).to_have_value("4980.00")
    expect(second.locator(".line-qty")).to_have_value("1")  # a chosen product counts once until typed
    expect(page.locator("#doc-total")).to_have_text("¥15,780.00")
    second.locator(".line-qty").fill("3")
    second.locator(".line-percent").fill("10")  # typed: kept, whatever a suggestion says
    expect(second.locator(".line-amount")).to_have_text("¥13,446.00")
    expect(page.locator("#doc-total")).to_have_text("¥24,246.00")
    page.wait_for_timeout(800)  # a late suggestion for the new quantity must not undo the typed discount
    expect(second.locator(".line-percent")).to_have_value("10")

    # removing the first row renumbers the rest and the total follows
    first.locator(".line-remove").click()
    expect(page.locator("#doc-lines tbody tr")).to_have_count(1)
    expect(_row(page, 0).locator(".line-no")).to_have_text("1")
    expect(_row(page, 0).locator(".line-qty")).to_have_attribute("name", "lines-0-qty")
    expect(page.locator("#doc-total")).to_have_text("¥13,446.00")
    page.click("#line-add")
    ui.pick(page, _row(page, 1).locator("select.line-product"), SWITCH[1], search=SWITCH[0])
    expect(_row(page, 1).locator(".line-money")).to_have_value("5400.00")
    expect(page.locator("#doc-total")).to_have_text("¥18,846.00")

    # the saved order has the server's amounts, the same as the preview
    ui.submit_form(page)
    expect(page.locator(".alert-success")).to_be_visible()
    assert ui.money(ui.show_field(page, "合同金额")) == ui.money("¥18,846.00")
    amount = _t(live_server, "Amount")
    assert [ui.cell(page, "#doc-lines", i, amount) for i in range(2)] == ["¥13,446.00", "¥5,400.00"]


def test_purchase_contract_lines_show_the_purchase_price_and_total(browse, live_server):
    from app.base_data.models import Product
    from app.extensions import db

    with live_server.app.app_context():
        price = db.session.query(Product.purchase_price).filter_by(model_no=ROUTER[0]).scalar()
    page = browse("liuyang")
    page.goto("/purchasecontractview/add")
    row = _row(page, 0)
    ui.pick(page, row.locator("select.line-product"), ROUTER[1], search=ROUTER[0])
    expect(row.locator(".line-money")).to_have_value(f"{price:.2f}")
    row.locator(".line-qty").fill("4")
    expect(page.locator("#doc-total")).to_have_text(f"¥{4 * price:,.2f}")


def test_cancelling_an_order_asks_first(browse, live_server):
    page = browse("zhangwei")
    page.goto("/salesorderview/add")
    ui.pick(page, "#end_customer", HOSPITAL, search="第六人民")
    ui.pick(page, _row(page, 0).locator("select.line-product"), ROUTER[1], search=ROUTER[0])
    expect(_row(page, 0).locator(".line-money")).to_have_value("4980.00")
    ui.submit_form(page)
    show = page.url

    # the user says no: nothing happens (confirm.js refuses the submit)
    page.locator("#doc-cancel").click()
    page.wait_for_url(re.compile(r"/salesorderview/cancel/"))
    page.evaluate("() => { window.confirm = () => false; }")
    page.locator("#action-form button[type=submit]").click()
    page.wait_for_timeout(300)
    assert "/cancel/" in page.url
    # the user agrees (the fixture accepts every question and keeps it)
    page.reload()
    with page.expect_navigation():
        page.locator("#action-form button[type=submit]").click()
    assert page.watch.dialogs[-1] == _t(live_server, "Cancel this order? This cannot be undone.")
    assert page.url == show
    expect(page.locator(".alert-success")).to_contain_text(_t(live_server, "Order cancelled."))
    expect(page.locator("#doc-cancel")).to_have_count(0)


def test_fab_delete_asks_in_chinese_and_cancel_keeps_the_record(browse, live_server):
    from app.base_data.models import Warehouse
    from app.extensions import db

    name = f"临时仓{uuid.uuid4().hex[:6]}"
    with live_server.app.app_context():
        db.session.add(Warehouse(name=name))
        db.session.commit()
    page = browse("admin")
    page.goto("/warehouseview/list/")
    row = page.locator("table tr", has_text=name)
    row.locator("a[id^=btn-delete-]").click()
    dialog = page.locator("#modal-confirm")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".modal-body")).to_have_text(_t(live_server, "Are you sure you want to delete this item?"))
    expect(dialog.locator("[data-dismiss=modal]")).to_have_text(_t(live_server, "Cancel"))
    dialog.locator("[data-dismiss=modal]").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(1)
    row.locator("a[id^=btn-delete-]").click()
    with page.expect_navigation():
        dialog.locator("#modal-confirm-ok").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("table tr", has_text=name)).to_have_count(0)


def test_export_shows_progress_until_the_file_arrives(browse, live_server):
    page = browse("wangfang")
    page.goto("/salesorderview/list/")
    page.evaluate(RECORD_BUSY)
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    exporting = _t(live_server, "Exporting…")
    # the button is back and the status gone once the download's cookie came
    expect(page.locator("#app-progress")).to_be_hidden()
    expect(page.locator("#export-xlsx")).not_to_have_class(re.compile("is-busy"))
    expect(page.locator("#export-xlsx")).to_have_text(re.compile("导出"))
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('busy') || '[]')")
    assert exporting in seen and f"status: {exporting}" in seen, seen
    assert not [c for c in page.context.cookies() if c["name"].startswith("dl_")]  # cleaned up


def test_import_shows_progress_until_the_answer(browse, live_server, tmp_path):
    page = browse("admin")
    page.goto("/regionview/import_xlsx/")
    with page.expect_download() as download:
        page.click("#download-template")
    template = tmp_path / "regions.xlsx"
    download.value.save_as(template)
    page.set_input_files("#import-form input[type=file]", str(template))
    page.evaluate(RECORD_BUSY)
    with page.expect_navigation():
        page.locator("#import-form button[type=submit]").click()
    importing = _t(live_server, "Importing, please wait…")
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('busy') || '[]')")
    assert importing in seen and f"status: {importing}" in seen, seen
    expect(page.locator("#import-form button[type=submit]")).to_be_enabled()  # the answer's page, ready again
