"""Roles and their permissions, declared as data and synced into FAB's tables on every start (`flask seed`).

Each area registers its views through `register_resource()`, naming which role may read or write; pages and
REST APIs of one resource share one permission name (`class_permission_name`), so the same grant covers both.
"""

from collections.abc import Iterable

from flask_appbuilder.security.sqla.models import PermissionView, assoc_permissionview_role
from flask_babel import lazy_gettext as _

READ = "read"
WRITE = "write"

ROLES = {
    "Admin": _("Administrator"),
    "SalesManager": _("Sales Manager"),
    "Salesperson": _("Salesperson"),
    "Purchaser": _("Purchaser"),
    "WarehouseKeeper": _("Warehouse Keeper"),
    "Finance": _("Finance"),
    "Executive": _("Executive"),
}
ALL_ROLES = tuple(ROLES)
STAFF_ROLES = tuple(r for r in ROLES if r != "Admin")

# Pages every signed-in user needs: own profile, own password, language switch.
SELF_SERVICE = {
    "UserInfoEditView": {"can_this_form_get", "can_this_form_post"},
    "ResetMyPasswordView": {"can_this_form_get", "can_this_form_post"},
    # the user page of app.core.security (its own class name is the resource): "userinfo" and its two buttons
    "SalesUserView": {"can_userinfo", "userinfoedit", "resetmypassword"},
}

# Page/API methods mapped onto the two permissions of a resource (FAB's method_permission_name).
METHOD_PERMISSIONS = {
    "list": READ,
    "show": READ,
    "download": READ,
    "export_xlsx": READ,
    "totals_json": READ,
    "export_selected": READ,
    "print_page": READ,  # the printable page of a document (app/core/printing.py)
    "progress": READ,
    "funnel": READ,
    "week": READ,
    "api_read": READ,
    "get": READ,
    "get_list": READ,
    "info": READ,
    "add": WRITE,
    "edit": WRITE,
    "delete": WRITE,
    "import_xlsx": WRITE,
    "import_template": WRITE,
    "import_report": WRITE,
    "post": WRITE,
    "put": WRITE,
    "api_write": WRITE,
    # business actions with permissions of their own
    "release": WRITE,
    "add_followup": WRITE,
    "mark_done": WRITE,
    "claim": "claim",
    "api_claim": "claim",
    "transfer": "transfer",
    "transfer_start": "transfer",
    "reject_start": "approve",
    "api_transfer": "transfer",
    "api_release": WRITE,
    "approve": "approve",
    "reject": "approve",
    "api_approve": "approve",
    "api_reject": "approve",
    "review_churn": "review",
    "keep_customer": "review",
    "to_pool": "transfer",
    # documents (sales, purchasing, stock)
    "price": READ,
    "costs": READ,
    "submit": WRITE,
    "api_submit": WRITE,
    "api_reopen": WRITE,
    "reopen": WRITE,
    "cancel": WRITE,
    "api_cancel": WRITE,
    "convert": WRITE,
    "api_convert": WRITE,
    "apply_commission": WRITE,
    "api_commission": WRITE,
    "credit_override": "approve",
    "api_credit_override": "approve",
    "pay": "pay",
    "api_pay": "pay",
    "confirm": "confirm",
    "api_confirm": "confirm",
    "invoice": WRITE,
    "api_invoice": WRITE,
    "audit": "audit",
    "api_audit": "audit",
    "alerts": READ,
    "report": READ,
    "index": READ,
    "statement": READ,
    "dun": "dun",
    "import_opening": WRITE,
    "opening_template": WRITE,
    "compute": "compute",
    "api_compute": "compute",
    "settle": "settle",
    "api_settle": "settle",
    "handle": "handle",
    "handle_start": "handle",
}


class Resource:
    def __init__(self, name: str, menu: str | None, category: str | None, access: dict):
        self.name = name
        self.menu = menu
        self.category = category
        # every menu entry and category its pages appear under: two pages may share one resource (跟单提醒 and
        # 跟单记录, the two customer pools), and each entry needs its own menu_access
        self.menus = {entry for entry in (menu, category) if entry}
        self.access = {role: _normalise(level) for role, level in access.items()}


def _normalise(level) -> set[str]:
    if isinstance(level, str):
        level = {level}
    perms = set(level)
    if WRITE in perms:
        perms.add(READ)
    return perms


RESOURCES: dict[str, Resource] = {}


def declare(name: str, access: dict, menu: str | None = None, category: str | None = None) -> None:
    """Record who may do what on a permission resource (merged when pages and API register separately)."""
    res = RESOURCES.get(name)
    if res is None:
        RESOURCES[name] = Resource(name, menu, category, access)
        return
    res.menu = res.menu or menu
    res.category = res.category or category
    res.menus.update(entry for entry in (menu, category) if entry)
    for role, level in access.items():
        res.access.setdefault(role, set()).update(_normalise(level))


def register_resource(
    appbuilder,
    view,
    *,
    name: str,
    label,
    category: str,
    category_label,
    access: dict,
    icon: str = "fa-table",
    category_icon: str = "fa-folder",
    api=None,
    menu: bool = True,
) -> None:
    """Add a page (with its menu item) and optionally its REST API, and declare who may use them."""
    perm = view.class_permission_name or view.__name__
    if menu:
        appbuilder.add_view(
            view,
            name,
            label=label,
            icon=icon,
            category=category,
            category_label=category_label,
            category_icon=category_icon,
        )
    else:
        appbuilder.add_view_no_menu(view)
    if api is not None:
        # the API speaks the page's language: same Chinese column labels and titles
        api.label_columns = {**(getattr(view, "label_columns", None) or {}), **(api.label_columns or {})}
        if getattr(view, "title", None) is not None:
            api.list_title = api.list_title or view.title
            api.show_title = api.show_title or view.title
        appbuilder.add_api(api)
    declare(perm, access, menu=name if menu else None, category=category if menu else None)


def register_link(
    appbuilder,
    *,
    name: str,
    label,
    endpoint: str,
    resource: str,
    category: str,
    category_label,
    access: dict,
    icon: str = "fa-link",
    category_icon: str = "fa-folder",
) -> None:
    """A menu entry for an extra page of a view (e.g. a chart); shown to the roles that may read `resource`."""
    appbuilder.add_link(
        name,
        href=endpoint,
        label=label,
        icon=icon,
        category=category,
        category_label=category_label,
        category_icon=category_icon,
    )
    declare(resource, access, menu=None, category=category)
    MENU_LINKS[name] = (resource, {role: _normalise(level) for role, level in access.items()})


MENU_LINKS: dict[str, tuple[str, dict]] = {}  # menu link → (resource, the roles that see that link)


def permission_matrix(appbuilder=None) -> dict[tuple[str, str], frozenset[str]]:
    """The declared table the roles are built from: (role, resource) → FAB permission names held on it
    ("can_read", "can_write", "can_approve" …). Self-service pages are every role's. Admin holds every declared
    permission and, given `appbuilder`, every permission of every registered view (FAB's security pages, the API
    docs) — what sync_roles gives it by holding all that exist."""
    table: dict[tuple[str, str], set[str]] = {}
    for role in ALL_ROLES:
        for view_menu, perms in SELF_SERVICE.items():
            table.setdefault((role, view_menu), set()).update(perms)
    for res in RESOURCES.values():
        for role, perms in res.access.items():
            for holder in {role, "Admin"}:
                table.setdefault((holder, res.name), set()).update(f"can_{p}" for p in perms)
    if appbuilder is not None:
        for view in appbuilder.baseviews:
            table.setdefault(("Admin", view.class_permission_name), set()).update(view.base_permissions or ())
    return {key: frozenset(perms) for key, perms in table.items() if perms}


def role_permissions(role: str) -> set[tuple[str, str]]:
    """(permission, view_menu) pairs a non-admin role holds: its rows of permission_matrix() and the menu entries
    of the resources it uses."""
    wanted = {(perm, res) for (holder, res), perms in permission_matrix().items() if holder == role for perm in perms}
    for res in RESOURCES.values():
        perms = res.access.get(role)
        if not perms:
            continue
        wanted.update(("menu_access", entry) for entry in res.menus)
    for link, (_resource, access) in MENU_LINKS.items():
        if access.get(role):
            wanted.add(("menu_access", link))
    return wanted


def exposed_permissions(appbuilder) -> set[tuple[str, str]]:
    """(permission, view_menu) pairs the registered views and menus expose: each view's base permissions on its
    permission name, menu_access on every menu category and entry — what FAB's add_permissions creates."""
    pairs = set()
    for view in appbuilder.baseviews:
        pairs.update((perm, view.class_permission_name) for perm in view.base_permissions or ())
    for category in appbuilder.menu.get_list() if appbuilder.menu else ():
        pairs.add(("menu_access", category.name))
        pairs.update(("menu_access", item.name) for item in category.childs if item.name != "-")
    return pairs


def _sync_permissions(sm, wanted: set[tuple[str, str]]) -> None:
    """Make the permission tables hold exactly `wanted`, in one transaction and a few queries.

    Instead of FAB's add_permissions, which prunes each view's resource down to that view's own permissions (a
    read-only view sharing a resource with a full one deleted its sibling's, made again just after with new ids,
    on every start) and commits row by row: 5–6 s per start, most of it reloading the Admin role after each commit.
    Names are matched as the database compares them (MariaDB ignores case)."""
    session = sm.session
    fold = str.casefold if session.get_bind().dialect.name in ("mysql", "mariadb") else str
    permissions = {fold(p.name): p for p in session.query(sm.permission_model)}
    view_menus = {fold(v.name): v for v in session.query(sm.viewmenu_model)}
    for name in sorted({perm for perm, _view in wanted}):
        if fold(name) not in permissions:
            permissions[fold(name)] = sm.permission_model(name=name)
            session.add(permissions[fold(name)])
    for name in sorted({view for _perm, view in wanted}):
        if fold(name) not in view_menus:
            view_menus[fold(name)] = sm.viewmenu_model(name=name)
            session.add(view_menus[fold(name)])
    session.flush()
    held = {(pv.permission_id, pv.view_menu_id): pv for pv in session.query(PermissionView)}
    keep = set()
    for perm, view in sorted(wanted):
        key = (permissions[fold(perm)].id, view_menus[fold(view)].id)
        keep.add(key)
        if key not in held:
            held[key] = PermissionView(permission=permissions[fold(perm)], view_menu=view_menus[fold(view)])
            session.add(held[key])
    stale = [pv.id for key, pv in held.items() if key not in keep and pv.id is not None]
    if stale:  # a view or permission the code no longer has: out of every role, then gone
        session.execute(
            assoc_permissionview_role.delete().where(assoc_permissionview_role.c.permission_view_id.in_(stale))
        )
        session.query(PermissionView).filter(PermissionView.id.in_(stale)).delete(synchronize_session=False)
        session.expire_all()  # roles loaded earlier still list them
    session.flush()


def sync_roles(appbuilder) -> dict[str, int]:
    """Create missing permissions, drop those nothing exposes or declares, and make every seeded role hold exactly
    its declared set (Admin: everything). Idempotent; one transaction."""
    sm = appbuilder.sm
    session = sm.session
    for role_name in (*ALL_ROLES, "Public"):
        if not sm.find_role(role_name):
            sm.add_role(role_name)
    declared = {(perm, resource) for (_role, resource), perms in permission_matrix().items() for perm in perms}
    _sync_permissions(sm, exposed_permissions(appbuilder) | declared)
    pvms = session.query(PermissionView).all()
    index = {(pv.permission.name, pv.view_menu.name): pv for pv in pvms if pv.permission and pv.view_menu}
    counts = {}
    for role_name in ALL_ROLES:
        role = sm.find_role(role_name)
        if role_name == "Admin":
            target = list(index.values())
        else:
            target = [index[key] for key in sorted(role_permissions(role_name)) if key in index]
        if set(pv.id for pv in role.permissions) != set(pv.id for pv in target):
            role.permissions = target
        counts[role_name] = len(target)
    session.commit()
    return counts


def iter_declared(role: str) -> Iterable[str]:
    return sorted(name for name, res in RESOURCES.items() if res.access.get(role))
