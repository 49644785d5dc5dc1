"""Permission matrix: every page and API endpoint the app registers, requested as every role (and as nobody), is
allowed or refused exactly as app.core.roles.permission_matrix() — the table the roles are built from — says.

Each url_map rule is mapped onto (resource, permission) the way FAB checks it: the view's class_permission_name and
the method's permission name through its method_permission_name. A rule that cannot be mapped fails the test by name,
unless it is listed below with the reason it stays outside the table. Nothing is created or changed: read endpoints
are fetched, write endpoints get an empty or invalid body, and every id in a URL is one that does not exist (a 404
proves as well as a 200 that the permission check let the request through)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from werkzeug.routing import IntegerConverter

from tests.support.databases import USERS

pytestmark = pytest.mark.sqlite_only(
    "the url rules, the views' permission names and the declared table are Python: no query builds the plan"
)

MISSING = 999999999
ANONYMOUS = "anonymous"
ROLE_USERS = {role: username for username, role in USERS.items() if username != "sales2"}

# Rules outside the matrix, each with the reason: by endpoint, or by the FAB class the view extends and its method.
NOT_IN_MATRIX = {
    "static": "the app's own css/js: public assets",
    "appbuilder.static": "FAB's css/js: public assets",
    "vendor.echarts_js": "the chart library: a public asset",
    "health.check": "load-balancer probe: public by design, answers only ok/unavailable",
}
NOT_IN_MATRIX_METHODS = {
    ("AuthView", "login"): "the login form itself",
    ("AuthView", "logout"): "ends the session the other checks run in",
    ("SecurityApi", "login"): "the API login itself",
    ("SecurityApi", "refresh"): "takes a refresh token, issued only by the login",
}
# Pages without a permission: every visitor, signed in or not, reaches them (checked below).
PUBLIC = {
    "HomeView.index": "the home page; its tiles follow the user's permissions and scope",
    "UtilView.back": "a redirect to the previous page",
    "LocaleView.index": "the language switch",
}
# Pickers and actions check a permission that depends on a URL part (the form, the action) inside the view; they
# are expanded below, one check per form or action. Reports likewise, one per report:
REPORT_ENDPOINTS = {"ReportView.report", "ReportApi.get"}  # plus the report's own role list (reports.services)
# Values for URL parts that name no record.
URL_VALUES = {"version": "v1", "locale": "zh", "filename": "missing.xlsx", "kind": "missing", "name": "missing"}


@dataclass
class Check:
    rule: str
    method: str
    url: str
    resource: str | None  # None: a public page
    permission: str | None
    api: bool
    declared: bool = True  # False: the view's base_permissions lack it, so nobody passes (FAB's rule)
    roles: tuple | None = None  # a further role list the endpoint applies (reports)
    data: dict = field(default_factory=dict)
    fab_admin: bool = False  # on FAB's own security pages (users, roles …): see _verdict

    def allowed(self, matrix: dict, role: str) -> bool:
        if self.resource is None:
            return True
        if role == ANONYMOUS or not self.declared:
            return False
        if self.roles is not None and role not in self.roles:
            return False
        return self.permission in matrix.get((role, self.resource), ())


def _path(rule, **values) -> str:
    out = {}
    for arg in rule.arguments:
        if arg in values:
            out[arg] = values[arg]
        elif isinstance(rule._converters[arg], IntegerConverter) or arg in ("pk", "job_id", "customer_id"):
            out[arg] = MISSING
        elif arg in URL_VALUES:
            out[arg] = URL_VALUES[arg]
        else:
            raise LookupError(f"no value for <{arg}>")
    return rule.build(out, append_unknown=False)[1]


def _http_method(rule, name: str) -> str:
    methods = rule.methods - {"HEAD", "OPTIONS"}
    # GET shows a form or a record; deletes and actions run on POST (FAB refuses GET mutations with CSRF on)
    if "GET" in methods and name not in ("delete", "action"):
        return "GET"
    for method in ("POST", "PUT", "DELETE"):
        if method in methods:
            return method
    return sorted(methods)[0]


def _decorated_permission(view, name: str) -> str | None:
    """What @has_access / @protect check for this method, or None when it has neither."""
    func = getattr(view, name, None)
    raw = getattr(func, "_permission_name", None)
    if raw is None:
        return None
    mapped = (view.method_permission_name or {}).get(name)
    return f"can_{mapped or raw}"


def build_plan(app) -> tuple[list[Check], list[str]]:
    """Every rule as the checks that cover it; and the rules that could not be mapped."""
    from app.reports import services as reports

    views = {view.endpoint: view for view in app.appbuilder.baseviews}
    checks: list[Check] = []
    unmapped: list[str] = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint in NOT_IN_MATRIX:
            continue
        label = f"{endpoint} {rule.rule}"
        blueprint, _, name = endpoint.rpartition(".")
        view = views.get(blueprint)
        if view is None:
            unmapped.append(f"{label}: no registered view")
            continue
        if any((c.__name__, name) in NOT_IN_MATRIX_METHODS for c in type(view).__mro__):
            continue
        api = rule.rule.startswith("/api/")
        fab_admin = any(c.__module__ == "flask_appbuilder.security.views" for c in type(view).__mro__)
        method = _http_method(rule, name)
        resource = view.class_permission_name
        try:
            if endpoint in PUBLIC:
                checks.append(Check(label, method, _path(rule), None, None, api))
            elif name == "picker":
                for kind in view.FORM_KINDS:
                    # the search serves the form: the form's permission (list for the search form)
                    form_route = "list" if kind == "search" else kind
                    routed = form_route not in view.exclude_route_methods and (
                        view.include_route_methods is None or form_route in view.include_route_methods
                    )
                    perm = f"can_{view.get_method_permission(form_route)}"
                    url = _path(rule, name="missing") + f"?form={kind}"
                    checks.append(Check(f"{label} form={kind}", method, url, resource, perm, api, declared=routed))
            elif name in ("action", "action_post"):
                for action in view.actions:
                    perm = view.get_action_permission_name(action)
                    kwargs = {"fab_admin": fab_admin}
                    if name == "action":
                        url = _path(rule, name=action)
                    else:
                        url = _path(rule)
                        kwargs["data"] = {"action": action, "rowid": [str(MISSING)]}
                    checks.append(Check(f"{label} {action}", "POST", url, resource, perm, api, **kwargs))
            elif endpoint in REPORT_ENDPOINTS:
                perm = _decorated_permission(view, name)
                for report_name, report in reports.REPORTS.items():
                    url = _path(rule, name=report_name)
                    checks.append(
                        Check(f"{label} {report_name}", method, url, resource, perm, api, roles=tuple(report.access))
                    )
            else:
                perm = _decorated_permission(view, name)
                if perm is None:
                    unmapped.append(f"{label}: {type(view).__name__}.{name} has no @has_access/@protect")
                    continue
                declared = perm in (view.base_permissions or ())
                checks.append(
                    Check(label, method, _path(rule), resource, perm, api, declared=declared, fab_admin=fab_admin)
                )
        except LookupError as e:
            unmapped.append(f"{label}: {e}")
    return checks, unmapped


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def plan(app):
    with app.test_request_context():
        return build_plan(app)


@pytest.fixture(scope="module")
def matrix(app):
    from app.core.roles import permission_matrix

    return permission_matrix(app.appbuilder)


# ------------------------------------------------------------------ tests


def test_every_rule_maps_onto_the_matrix(plan):
    checks, unmapped = plan
    assert not unmapped, "rules outside the permission matrix:\n" + "\n".join(sorted(unmapped))
    assert len(checks) > 500


@pytest.mark.every_database(
    "the seed writes the roles' grants into FAB's ab_* tables on each database (unique pairs, VARCHAR names); they "
    "are read back here"
)
def test_roles_in_the_database_are_the_matrix(app, matrix):
    """The seeded roles hold exactly what the table declares (Admin: at least all of it)."""
    from app.core.roles import ALL_ROLES, role_permissions

    with app.app_context():
        sm = app.appbuilder.sm
        for role_name in ALL_ROLES:
            held = {(pv.permission.name, pv.view_menu.name) for pv in sm.find_role(role_name).permissions}
            declared = {(perm, res) for (role, res), perms in matrix.items() if role == role_name for perm in perms}
            assert declared <= held, (role_name, sorted(declared - held))
            if role_name != "Admin":
                extra = {p for p in held - role_permissions(role_name) if p[0] != "menu_access"}
                assert not extra, (role_name, sorted(extra))


def test_no_declared_permission_is_unused(plan, matrix):
    """A grant no endpoint checks is a mistake in the table (a misspelt resource or a view renamed)."""
    checks, _ = plan
    used = {(c.resource, c.permission) for c in checks if c.resource is not None and c.declared}
    dead = sorted({(res, perm) for (role, res), perms in matrix.items() if role != "Admin" for perm in perms} - used)
    assert not dead, f"declared but checked by no endpoint: {dead}"


def _request(client, check: Check, headers: dict | None):
    kwargs = {"headers": headers or {}}
    if check.method in ("POST", "PUT") and check.api:
        kwargs["json"] = []  # not an object: refused before anything is read or written
    elif check.data:
        kwargs["data"] = check.data
    return client.open(check.url, method=check.method, **kwargs)


def _is_login_redirect(resp) -> bool:
    """Any redirect to the login page: an allowed request may meet none of them."""
    return resp.status_code in (301, 302, 303) and "/login" in resp.headers.get("Location", "")


def _sent_to_login(resp) -> bool:
    """How FAB's pages answer an anonymous visitor: 302 to the login page."""
    return resp.status_code == 302 and "/login" in resp.headers.get("Location", "")


def _fab_refusal(resp) -> bool:
    """FAB's own actions refuse with a flash and a redirect to "." rather than a 403."""
    return resp.status_code == 302 and resp.headers.get("Location") == "."


def _verdict(check: Check, role: str, allowed: bool, resp) -> str | None:
    if isinstance(resp, Exception):
        # FAB's security pages assume the id (or UPLOAD_FOLDER) exists: they fail only once the check let them run
        if check.fab_admin and allowed:
            return None
        return f"exception {type(resp).__name__}: {resp}"
    status = resp.status_code
    if status >= 500:
        return f"{status} (server error)"
    # A signed-in role is refused with a 403 (pages and API alike), or on FAB's own security pages (users, roles …)
    # by their actions' flash and 302 to "." (the other security pages answer 403).
    refused = status == 403 or (check.fab_admin and _fab_refusal(resp))
    if allowed:
        # let through, the answer is the endpoint's own: 200; a 302 from actions that find no row, /back, /lang and
        # the backup's create; a 400 for the API's non-object body and the price page's missing arguments; a 404 for
        # the missing id
        if refused or status == 401 or _is_login_redirect(resp):
            return f"{status}, expected access"
        return None
    if role == ANONYMOUS:
        # pages send to the login page (302); the API and the pages' pickers answer 401; POSTed actions (action,
        # action_post) and API methods the view does not declare answer 403; FAB's security actions 302 to "."
        return None if refused or status == 401 or _sent_to_login(resp) else f"{status}, expected a refusal"
    return None if refused else f"{status}, expected 403"


@pytest.mark.sqlite_only(
    "walked once, on SQLite: FAB decides allow/deny in Python from the same role tables on every database "
    "(the roles-equal-the-matrix test runs here; the scope SQL runs per database in test_scope/test_no_leaks)"
)
def test_every_endpoint_as_every_role(plan, matrix, as_user, api_token, client, capsys):
    checks, _ = plan
    clients = {ANONYMOUS: (client, None)}
    for role, username in ROLE_USERS.items():
        clients[role] = (as_user(username), api_token(username))
    failures, total = [], 0
    for check in checks:
        for role, (page_client, token) in clients.items():
            try:
                resp = _request(page_client, check, token if check.api else None)
            except Exception as e:  # the app under TESTING raises what would be a 500
                resp = e
            total += 1
            problem = _verdict(check, role, check.allowed(matrix, role), resp)
            if problem:
                failures.append(
                    f"{role:15} {check.method:6} {check.rule}  [{check.resource}:{check.permission}]: {problem}"
                )
    with capsys.disabled():
        print(f"\npermission matrix: {total} role × endpoint checks ({len(checks)} endpoints × {len(clients)} roles)")
    assert not failures, f"{len(failures)} of {total} checks failed:\n" + "\n".join(failures)
