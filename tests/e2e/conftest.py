"""End-to-end fixtures: the real app on a fresh SQLite database, prepared the way `run.py --demo` prepares it and
served by a real HTTP server on a free 127.0.0.1 port, driven by Debian's Chromium (/usr/bin/chromium) through
Playwright. No browser is downloaded: without Chromium or the playwright package the tests skip and say why.

Every page a test opens is watched: a console error (a CSP violation shows as one), an uncaught script error, a
request to anything but the loopback server (the app must load nothing from the internet) or a server error fails
the test. When a test fails, each page it had open is saved as a screenshot under tests/_artifacts/e2e/.
"""

import logging
import os
import re
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.ui import ARTIFACTS, PASSWORD

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
LOOPBACK = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 20_000  # generous: the machine is shared, and the server runs in this process


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)"
    return None


# ------------------------------------------------------------------ the server


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url
        from app.core.charts import echarts_installed

        with app.app_context():
            self.echarts = echarts_installed()  # `npm ci` was run; without it chart pages show their tables only


def _e2e_config(url: str, instance_dir: Path):
    from config import Config

    class E2EConfig(Config):
        # the real configuration (CSRF, CSP, login throttling …) except that the browser signs every role in from one
        # address within seconds, more often than the per-address login limit allows
        AUTH_RATE_LIMIT = "200 per 20 second"
        BACKUP_DIR = str(instance_dir / "backups")

        def __init__(self):  # no secret key file, no instance/sales.db: everything lives in the temp dir
            self.SECRET_KEY = secrets.token_hex(32)
            self.SQLALCHEMY_DATABASE_URI = url

    return E2EConfig()


@pytest.fixture(scope="package")  # torn down when the e2e tests are done
def live_server(tmp_path_factory):
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    from werkzeug.serving import make_server

    import run
    from app import create_app

    root = tmp_path_factory.mktemp("e2e")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("INSTANCE_DIR", str(root))
        env.setenv("ADMIN_PASSWORD", PASSWORD)
        env.setenv("DEMO_PASSWORD", PASSWORD)
        app = create_app(_e2e_config(f"sqlite:///{root}/e2e.db", root))
        run.prepare(app, demo=True)  # migrate, seed, admin, demo data: what `python run.py --demo` does
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request would drown a failure
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(10)
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


# ------------------------------------------------------------------ the browser


@pytest.fixture(scope="package")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses to run as root inside its sandbox
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        chromium.close()


class Watch:
    """What went wrong in one browser context."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """A console error the test itself provokes (e.g. the 404 of a forbidden page)."""
        self.allowed.append(re.compile(pattern))

    def _add(self, text: str) -> None:
        if not any(p.search(text) for p in self.allowed):
            self.problems.append(text)

    def attach(self, context) -> None:
        context.on("console", self._on_console)
        context.on("weberror", lambda err: self._add(f"script error: {err.error}"))
        context.on("request", self._on_request)
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "") if msg.location else ""
            self._add(f"console error: {msg.text} ({where})")

    def _on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
            self._add(f"request to the internet: {request.method} {request.url}")

    def _on_request_failed(self, request) -> None:
        if urlsplit(request.url).hostname not in LOOPBACK:
            self._add(f"failed request: {request.url} ({request.failure})")

    def _on_response(self, response) -> None:
        if response.status >= 500:
            self._add(f"server error {response.status}: {response.url}")


class Browse:
    """browse('zhangwei') → a page in a browser context of its own, signed in as that user, in Chinese."""

    def __init__(self, browser, server: LiveServer, logins: dict, name: str):
        self.browser = browser
        self.server = server
        self.logins = logins
        self.name = name
        self.contexts: list = []
        self.watches: list[Watch] = []

    def __call__(self, username: str | None = None, *, width: int = 1280, height: int = 900, **options):
        context = self.browser.new_context(
            base_url=self.server.url,
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
            accept_downloads=True,
            storage_state=self.logins.get(username),
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(2 * TIMEOUT_MS)
        watch = Watch(self.server.url)
        if not self.server.echarts:
            watch.allow(r"/vendor/echarts\.min\.js")  # its 404 says how to install it; the page copes
        watch.attach(context)
        self.contexts.append(context)
        self.watches.append(watch)
        page = context.new_page()
        page.watch = watch
        # the questions before an action (confirm.js): the user agrees; the tests may read what was asked
        page.on("dialog", lambda dialog: (watch.dialogs.append(dialog.message), dialog.accept()))
        if username and username not in self.logins:
            self.login(page, username)
            self.logins[username] = context.storage_state()
        return page

    @staticmethod
    def login(page, username: str, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.locator("#loginform [type=submit], form [type=submit]").first.click()
        page.wait_for_url(lambda url: "/login" not in url)

    def screenshots(self) -> list[Path]:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        saved = []
        for c, context in enumerate(self.contexts):
            for p, page in enumerate(context.pages):
                path = ARTIFACTS / f"{self.name}-{c}-{p}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                    saved.append(path)
                except Exception:  # a page that crashed or closed: nothing to see  # noqa: BLE001
                    pass
        return saved

    def problems(self) -> list[str]:
        return [p for w in self.watches for p in w.problems]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="package")
def _logins():
    return {}  # username → storage state: each user signs in once per run


@pytest.fixture
def browse(request, browser, live_server, _logins):
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    session = Browse(browser, live_server, _logins, safe)
    yield session
    problems = session.problems()
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if problems and not failed:
        session.screenshots()
    session.close()
    if problems and not failed:
        pytest.fail("the browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.when == "call" and report.failed:
        session = item.funcargs.get("browse")
        if isinstance(session, Browse):
            saved = session.screenshots()
            problems = session.problems()
            if saved:
                report.sections.append(("e2e screenshots", "\n".join(str(p) for p in saved)))
            if problems:
                report.sections.append(("browser problems", "\n".join(problems)))
