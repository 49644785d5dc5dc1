"""Phone layout: at 390 × 844 (a current iPhone) the home page, a list, a form and a chart fit the screen. Nothing
but deliberate scroll containers (tables in .table-responsive) is wider than the screen, the menu collapses behind
its button, and every form field can be reached without scrolling sideways. Screenshots of each page are kept in
tests/_artifacts/e2e/phone-*.png for a look.
"""

import pytest

from tests.e2e.ui import ARTIFACTS

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

WIDTH, HEIGHT = 390, 844

# Visible elements sticking out of the screen on the right or left, unless a scroll container holds them.
OVERFLOWING = """(width) => {
  const out = [];
  const scrolls = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (p.classList.contains('table-responsive') || ['auto', 'scroll'].includes(style.overflowX)) { return true; }
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') { continue; }
    if ((r.right > width + 1 || r.left < -1) && !scrolls(el)) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')} `
               + `[${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
  }
  return out.slice(0, 15);
}"""

# Form fields (and Select2's stand-ins for them) outside the lines table that do not lie within the screen.
FIELDS_OFF_SCREEN = """(width) => {
  const out = [];
  const fields = document.querySelectorAll(
    '#model_form input:not([type=hidden]), #model_form select:not(.select2-hidden-accessible), '
    + '#model_form textarea, #model_form .select2-container, #model_form button, .report-filters .form-control');
  for (const el of fields) {
    if (el.closest('#doc-lines')) { continue; }  // the lines table scrolls sideways on purpose
    const r = el.getBoundingClientRect();
    if (!r.width) { continue; }
    if (r.left < -1 || r.right > width + 1) {
      out.push(`${el.tagName.toLowerCase()}#${el.id || el.name || ''} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
  }
  return out;
}"""


def check_fits(page, name: str) -> None:
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH + 1, f"{name}: the page is {width}px wide: {page.evaluate(OVERFLOWING, WIDTH)}"
    assert page.evaluate(OVERFLOWING, WIDTH) == [], name
    assert page.evaluate(FIELDS_OFF_SCREEN, WIDTH) == [], name
    # the menu is folded behind its button, and opens within the screen
    toggle = page.locator(".navbar-toggle")
    expect(toggle).to_be_visible()
    expect(page.locator(".navbar-collapse")).to_be_hidden()
    toggle.click()
    expect(page.locator(".navbar-collapse.collapse.in")).to_be_visible()  # opened (its animation over)
    menu = page.locator(".navbar-collapse .navbar-nav").first
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    assert box["x"] >= -1 and box["x"] + box["width"] <= WIDTH + 1, f"{name}: the open menu is {box}"
    toggle.click()
    expect(page.locator(".navbar-collapse")).to_be_hidden()


def test_pages_fit_a_phone(browse, live_server):
    page = browse("zhangwei", width=WIDTH, height=HEIGHT, is_mobile=True, has_touch=True, device_scale_factor=2)

    page.goto("/")
    check_fits(page, "home")
    tiles = page.locator(".home-tile")
    if tiles.count():
        box = tiles.first.bounding_box()
        assert box["width"] <= WIDTH, "home tiles stack on a phone"

    page.goto("/salesorderview/list/")
    expect(page.locator("table:visible", has_text="XS").first).to_be_visible()
    check_fits(page, "order-list")

    page.goto("/salesorderview/add")
    expect(page.locator("#doc-lines")).to_be_visible()
    check_fits(page, "order-form")
    # a line can still be filled in: the lines table scrolls sideways inside its own box
    qty = page.locator("#doc-lines .line-qty").first
    qty.scroll_into_view_if_needed()
    qty.fill("2")
    expect(qty).to_have_value("2")

    page.goto("/reports/sales_amount/")
    expect(page.locator("#report-table")).to_be_visible()
    if live_server.echarts:
        canvas = page.locator("#report-chart canvas").first
        expect(canvas).to_be_visible()
        box = canvas.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 1, f"the chart is {box}"
    check_fits(page, "chart")
