"""Menu order of the modules (GLOSSARY.md) and Chinese-style display of people's names."""

import unicodedata

from flask_appbuilder.security.sqla.models import User

# Top-level menu categories in the order users know them; FAB itself registers Security first.
CATEGORY_ORDER = [
    "Work Management",
    "Channel Customers",
    "End Customers",
    "Sales",
    "Purchasing",
    "Warehouse",
    "Statistics",
    "Base Data",
    "Security",
]


def order_menu(appbuilder) -> None:
    rank = {name: i for i, name in enumerate(CATEGORY_ORDER)}
    appbuilder.menu.menu.sort(key=lambda item: rank.get(item.name, len(rank)))


def _is_cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith("CJK") for ch in text or "")


def full_name(user) -> str:
    """张伟 for Chinese names (family name first, no space); 'John Smith' otherwise."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if _is_cjk(first) or _is_cjk(last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def install_name_format() -> None:
    User.get_full_name = full_name


# ------------------------------------------------------------------ the navbar, rendered once per visible menu

MENU_CACHE_SIZE = 256  # distinct (visible entries, language) combinations kept per app: a handful of roles in use


def visible_menu(appbuilder) -> list[tuple]:
    """(category, entries) the current user may open, in menu order; entries is None for a category without
    children, and holds None for a divider (FAB's markup keeps every divider but a trailing one)."""
    sm = appbuilder.sm
    shown = []
    for category in appbuilder.menu.get_list():
        if not sm.has_access("menu_access", category.name):
            continue
        if not category.childs:
            shown.append((category, None))
            continue
        last = len(category.childs) - 1
        entries = []
        for i, item in enumerate(category.childs):
            if not item:
                continue
            if item.name == "-":
                if i != last:
                    entries.append(None)
            elif sm.has_access("menu_access", item.name):
                entries.append(item)
        shown.append((category, entries))
    return shown


def navbar_menu():
    """The navbar's menu entries as HTML. Rendering them (a translation and a URL per entry) was a third of a list
    page's time; the markup depends only on which entries the user may open, the language and the URL prefix, so
    it is rendered once per such combination and kept. Who may open what is still asked on every request."""
    from flask import current_app, render_template, request
    from markupsafe import Markup

    appbuilder = current_app.appbuilder
    shown = visible_menu(appbuilder)
    key = (
        str(appbuilder.bm.get_locale()),
        request.script_root,
        tuple((c.name, None if e is None else tuple(i.name if i else "-" for i in e)) for c, e in shown),
    )
    cache = current_app.extensions.setdefault("navbar_menu", {})
    html = cache.get(key)
    if html is None:
        if len(cache) >= MENU_CACHE_SIZE:
            cache.clear()
        html = cache[key] = Markup(render_template("core/navbar_menu.html", shown=shown))
    return html
