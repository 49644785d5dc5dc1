"""What a user does on the pages, in the words the pages use (Chinese labels), for the end-to-end tests."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts" / "e2e"  # screenshots (git-ignored)
PASSWORD = "E2e-Passw0rd-42"  # the admin's and every demo user's (app/base_data/demo.py reads DEMO_PASSWORD)
# the demo company's staff (app/base_data/demo.py) and the admin, one per role
USERS = {
    "admin": "Admin",
    "wangfang": "SalesManager",
    "zhangwei": "Salesperson",
    "lina": "Salesperson",
    "liuyang": "Purchaser",
    "chenjing": "WarehouseKeeper",
    "zhaomin": "Finance",
    "sunqiang": "Executive",
}


def open_menu(page, category: str, entry: str) -> None:
    """Click a top-menu category, then one of its entries."""
    page.locator("ul.navbar-nav > li.dropdown > a.dropdown-toggle", has_text=category).first.click()
    link = page.locator("ul.navbar-nav > li.dropdown.open ul.dropdown-menu a", has_text=re.compile(rf"^\s*{entry}\s*$"))
    with page.expect_navigation():
        link.click()


def pick(page, select, text: str, search: str | None = None) -> None:
    """Choose `text` in a Select2 picker (the app's ajax pickers and FAB's dropdowns alike): open it, type,
    click the result. `select` is the <select> element's locator or its CSS selector."""
    select = page.locator(select) if isinstance(select, str) else select
    select.locator("xpath=following-sibling::span[contains(@class,'select2-container')][1]").click()
    field = page.locator(".select2-container--open .select2-search__field")
    field.fill(search or text)
    option = page.locator(
        ".select2-container--open .select2-results__option:not(.loading-results)", has_text=text
    ).first
    option.click()
    page.locator(".select2-container--open .select2-dropdown").wait_for(state="detached")


def type_date(page, selector: str, day) -> None:
    """Type a date the way a user does: the date picker reads keystrokes (a value set without them is dropped
    when the calendar closes); Escape closes the calendar."""
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(day.isoformat())
    field.press("Escape")


def flash(page) -> str:
    """The messages FAB shows at the top of the page after an action."""
    return " ".join(page.locator(".alert").all_inner_texts())


def submit_form(page) -> None:
    """The form's 保存 button, and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator("#model_form button[type=submit]").click()


def click_doc_button(page, name: str) -> None:
    """A button of a document page (提交审核, 审核通过, 确定出库 …) by its id doc-<name>; follows the redirect."""
    with page.expect_navigation():
        page.locator(f"#doc-{name}").click()


def show_field(page, label: str) -> str:
    """A value on a FAB show page, by its row label."""
    row = page.locator("table tr", has=page.locator("th", has_text=re.compile(rf"^\s*{label}\s*$"))).first
    return row.locator("td").last.inner_text().strip()


def cell(page, table: str, row: int, header: str) -> str:
    """The text of a table's body cell, by row number (from 0) and column header."""
    headers = [h.strip() for h in page.locator(f"{table} thead th").all_inner_texts()]
    column = headers.index(header)
    return page.locator(f"{table} tbody tr").nth(row).locator("td").nth(column).inner_text().strip()


def money(text: str) -> Decimal:
    """'¥26,400.00' → Decimal('26400.00')"""
    cleaned = re.sub(r"[^\d.\-]", "", text)
    return Decimal(cleaned) if cleaned else Decimal(0)


def today() -> dt.date:
    """The app's today: dates are shown and defaulted in Asia/Shanghai whatever the machine's time zone."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
