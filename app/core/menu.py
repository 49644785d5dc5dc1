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
