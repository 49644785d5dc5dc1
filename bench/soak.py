"""Soak (issue 8): gunicorn (4 workers) on PostgreSQL on loopback under mixed clerks' traffic for a bounded time.

    python bench/soak.py                          # 600 s, 8 clients, database bench_soak (generated once)
    python bench/soak.py --seconds 30 --clients 4 --url postgresql+psycopg://postgres@127.0.0.1:5432/test_soak

Clients, each a thread with its own page session and API token:
- salespeople list their customers and orders (pages and API), add customers, enter orders and submit them (a few
  orders of ¥100,000 or more wait for the manager and then the administrator);
- warehouse keepers ship approved orders (stock-out, confirm), post other stock-outs and top up stock (stock-in);
- finance records receipts on approved orders and lists receipts;
- managers approve what waits, open the statistics (pages and API) and export lists and reports to Excel.

The report: requests by kind and status, 5xx (must be 0) and dropped connections (must be 0), the stock ledger
(balances = Σ moves, no negative stock, every posted document has exactly its moves, no move without one, the cost
quantities and shipped quantities in step), and the RSS of each gunicorn worker every 30 s: at start, at half time
and at the end. The first half is the warm-up: a worker's RSS rises in steps to the high-water mark of the largest
page or export it has built (two at once, with 2 threads per worker) and stays there, since freed memory stays with
the process; one export repeated on one worker levels off after two or three rounds. A leak goes on growing through
the second half, which must stay within --max-growth-mb. Exit status 1 when any of these fails.

The database is made once by bench/generate.py (--orders), plus a keeper and a finance user; `--fresh` regenerates.
`ledger_problems` and `Server` are used by tests/core/test_faults.py as well.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from queue import Empty, Queue

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
DEFAULT_URL = f"{PG_BASE}/bench_soak"
PASSWORD = "Bench-Passw0rd!"  # bench/generate.py's password for every user it makes
SECRET = "soak-secret-key-of-at-least-32-bytes!!"
QTY = Decimal("0.001")


# ------------------------------------------------------------------ the stock ledger


def ledger_problems(session, allow_negative: bool = False, limit: int = 50) -> list[str]:
    """Everything that would make the stock ledger untrustworthy; [] when sound. Reads the whole ledger."""
    from sqlalchemy import func, select

    from app.inventory import models as m
    from app.inventory.services import check_invariants
    from app.sales.models import SalesOrderLine

    def d(value) -> Decimal:
        return Decimal(str(value or 0)).quantize(QTY)

    problems = list(check_invariants(session))  # balance = Σ moves per product and warehouse
    if not allow_negative:
        for p, w, q in session.execute(
            select(m.StockBalance.product_id, m.StockBalance.warehouse_id, m.StockBalance.qty).where(
                m.StockBalance.qty < 0
            )
        ):
            problems.append(f"negative stock: product {p} in warehouse {w}: {q}")
    # the cost ledger's quantity per product = Σ its moves in every warehouse
    moved = {
        p: d(q)
        for p, q in session.execute(
            select(m.StockMove.product_id, func.sum(m.StockMove.qty)).group_by(m.StockMove.product_id)
        )
    }
    costs = {p: d(q) for p, q in session.execute(select(m.ProductCost.product_id, m.ProductCost.qty))}
    for p in set(moved) | set(costs):
        if moved.get(p, d(0)) != costs.get(p, d(0)):
            problems.append(f"product {p}: cost quantity {costs.get(p)} != moves {moved.get(p)}")
    # each move's balance_after = the running sum of its product and warehouse
    running: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for mid, p, w, q, after in session.execute(
        select(
            m.StockMove.id, m.StockMove.product_id, m.StockMove.warehouse_id, m.StockMove.qty, m.StockMove.balance_after
        )
        .order_by(m.StockMove.id)
        .execution_options(yield_per=20_000)
    ):
        running[(p, w)] += d(q)
        if running[(p, w)] != d(after):
            problems.append(f"move {mid}: balance_after {after} != running sum {running[(p, w)]}")
            running[(p, w)] = d(after)  # one report per break, not one per later move
    # a posted document has exactly its moves; a draft has none; no move without its document
    docs = [
        (m.StockIn, m.StockInLine, lambda q, _b: [q]),
        (m.StockOut, m.StockOutLine, lambda q, _b: [-q]),
        (m.StockTransfer, m.StockTransferLine, lambda q, _b: sorted([-q, q])),
        (m.StockTake, m.StockTakeLine, lambda q, b: [q - b] if q != b else []),
    ]
    for doc, line, expected in docs:
        doc_type = doc.__doc_type__
        book = line.book_qty if hasattr(line, "book_qty") else line.qty
        lines = {
            lid: (doc_id, status, d(q), d(b))
            for lid, doc_id, status, q, b in session.execute(
                select(line.id, line.doc_id, doc.status, line.qty, book).join(doc, doc.id == line.doc_id)
            )
        }
        moves: dict[int | None, list[Decimal]] = defaultdict(list)
        move_doc: dict[int | None, int] = {}
        for doc_id, lid, q in session.execute(
            select(m.StockMove.doc_id, m.StockMove.line_id, m.StockMove.qty).where(m.StockMove.doc_type == doc_type)
        ):
            moves[lid].append(d(q))
            move_doc[lid] = doc_id
        for lid, (doc_id, status, q, b) in lines.items():
            want = expected(q, b) if status == m.POSTED else []
            if sorted(moves.get(lid, [])) != want:
                problems.append(f"{doc_type} {doc_id} ({status}) line {lid}: moves {moves.get(lid, [])} != {want}")
        for lid in set(moves) - set(lines):
            problems.append(f"{doc_type} {move_doc[lid]}: moves of line {lid}, which is not on a posted document")
    # shipped on an order line = Σ its posted stock-out lines − Σ its posted returns; returned = Σ posted returns
    out = dict(
        session.execute(
            select(m.StockOutLine.order_line_id, func.sum(m.StockOutLine.qty))
            .join(m.StockOut, m.StockOut.id == m.StockOutLine.doc_id)
            .where(m.StockOut.status == m.POSTED, m.StockOutLine.order_line_id.isnot(None))
            .group_by(m.StockOutLine.order_line_id)
        ).all()
    )
    back = dict(
        session.execute(
            select(m.StockInLine.order_line_id, func.sum(m.StockInLine.qty))
            .join(m.StockIn, m.StockIn.id == m.StockInLine.doc_id)
            .where(m.StockIn.status == m.POSTED, m.StockInLine.order_line_id.isnot(None))
            .group_by(m.StockInLine.order_line_id)
        ).all()
    )
    for lid, shipped, returned in session.execute(
        select(SalesOrderLine.id, SalesOrderLine.shipped_qty, SalesOrderLine.returned_qty).where(
            (SalesOrderLine.shipped_qty != 0)
            | (SalesOrderLine.returned_qty != 0)
            | SalesOrderLine.id.in_(set(out) | set(back))
        )
    ):
        if d(shipped) != d(out.get(lid)) - d(back.get(lid)) or d(returned) != d(back.get(lid)):
            problems.append(
                f"order line {lid}: shipped {shipped} / returned {returned}, documents say "
                f"{d(out.get(lid)) - d(back.get(lid))} / {d(back.get(lid))}"
            )
    return problems[:limit]


# ------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 with the production configuration, in a process group of its own so that a fault can
    kill the master and every worker at once (kill -9), as a crash of the machine's app server would."""

    def __init__(self, url: str, workers: int = 4, log_path: str | None = None) -> None:
        self.url, self.workers = url, workers
        self.log_path = log_path or tempfile.mktemp(prefix="soak-gunicorn-", suffix=".log")
        self.instance = tempfile.mkdtemp(prefix="soak-instance-")
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> Server:
        import requests

        self.port = free_port()
        env = dict(
            os.environ,
            DATABASE_URL=self.url,
            SECRET_KEY=SECRET,
            APP_ENV="production",
            INSTANCE_DIR=self.instance,
            SKIP_PREPARE="1",  # the database is migrated and seeded already
        )
        log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it until it stops
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
            + ["-w", str(self.workers), "-b", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if (
                    requests.get(self.base + "/health", timeout=2).status_code == 200
                    and len(self.worker_pids()) == self.workers
                ):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.kill9()
        raise RuntimeError(f"gunicorn did not answer /health within {timeout} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return sorted(int(pid) for pid in text.split())

    @staticmethod
    def rss_mb(pid: int) -> float | None:
        """VmRSS of a process in MB, None when it is gone."""
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def kill9(self) -> None:
        """SIGKILL to the master and its workers (the process group this server was started in)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """A graceful stop (SIGTERM to the master), then SIGKILL to whatever is left of the group."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def tracebacks(self) -> list[str]:
        """Tracebacks the workers logged (a 500 is logged with one)."""
        try:
            text = Path(self.log_path).read_text(errors="replace")
        except OSError:
            return []
        return re.findall(r"Traceback \(most recent call last\):.*?(?=\n\S|\Z)", text, flags=re.S)


# ------------------------------------------------------------------ clients


class Clerk:
    """One user at a browser (page session with its CSRF token) and in an integration (JWT), over HTTP."""

    def __init__(self, base: str, username: str, password: str = PASSWORD) -> None:
        import requests

        self.base, self.username, self.password = base, username, password
        self.http = requests.Session()
        self.token = ""

    def _send(self, method: str, url: str, **kw):
        # the production cookies are Secure (HTTPS at nginx); on loopback HTTP the client sends them all the same
        for cookie in self.http.cookies:
            cookie.secure = False
        return self.http.request(method, url, **kw)

    def login(self) -> None:
        page = self._send("GET", self.base + "/login/", timeout=60)
        page.raise_for_status()
        resp = self._send(
            "POST",
            self.base + "/login/",
            data={"username": self.username, "password": self.password, "csrf_token": csrf_token(page.text)},
            allow_redirects=False,
            timeout=60,
        )
        if resp.status_code != 302:
            raise RuntimeError(f"page login of {self.username}: {resp.status_code}")
        self.api_login()

    def api_login(self) -> None:
        resp = self._send(
            "POST",
            self.base + "/api/v1/security/login",
            json={"username": self.username, "password": self.password, "provider": "db", "refresh": False},
            timeout=60,
        )
        if resp.status_code != 200:
            raise RuntimeError(f"API login of {self.username}: {resp.status_code} {resp.text[:200]}")
        self.token = resp.json()["access_token"]

    def page(self, path: str, **kw):
        return self._send("GET", self.base + path, timeout=120, **kw)

    def post_form(self, path: str, data: dict):
        return self._send("POST", self.base + path, data=data, allow_redirects=False, timeout=120)

    def api(self, method: str, path: str, body=None, params=None):
        def call():
            return self._send(
                method,
                self.base + "/api/v1" + path,
                json=body,
                params=params,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=120,
            )

        resp = call()
        if resp.status_code == 401:  # the access token expired: log in again, as an integration would
            self.api_login()
            resp = call()
        return resp


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not found:
        raise RuntimeError("no csrf_token on the page")
    return found.group(1)


def _json(resp) -> dict:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class Traffic:
    """The clerks' threads, what they did, and the orders passed from one desk to the next."""

    REPORTS = ["sales_amount", "receivables_aging", "top_customers", "target_achievement", "stock_in_out", "profit"]

    def __init__(self, base: str, world: dict, seconds: float, clients: int, seed: int | None = None) -> None:
        self.base, self.world, self.seconds, self.clients = base, world, seconds, clients
        self.rnd = random.Random(seed)  # unseeded by default: a rerun on the same database makes new names
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.by_kind: dict[str, Counter] = defaultdict(Counter)
        self.errors: list[str] = []  # 5xx and dropped connections, with what was asked
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.to_approve: Queue = Queue()
        self.to_ship: Queue = Queue()
        self.to_collect: Queue = Queue()
        self.stop_at = 0.0
        self.today = dt.date.today()

    # ---- bookkeeping
    def record(self, kind: str, do):
        t0 = time.perf_counter()
        try:
            resp = do()
        except Exception as exc:  # noqa: BLE001 - a dropped connection or timeout is a failure to report, not a crash
            with self.lock:
                self.statuses["error"] += 1
                self.by_kind[kind]["error"] += 1
                self.errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
            return None
        seconds = time.perf_counter() - t0
        with self.lock:
            self.statuses[resp.status_code] += 1
            self.by_kind[kind][resp.status_code] += 1
            self.latency[kind].append(seconds)
            if resp.status_code >= 500:
                self.errors.append(f"{kind}: {resp.status_code} {resp.request.method} {resp.url} {resp.text[:200]}")
        return resp

    # ---- the desks
    def salesperson(self, clerk: Clerk, rnd: random.Random) -> None:
        mine = list(self.world["customers"].get(clerk.username, []))
        products = self.world["products"]
        actions = [
            (3, "page: my customers", lambda: clerk.page("/endcustomerview/list/")),
            (3, "page: my orders", lambda: clerk.page("/salesorderview/list/")),
            (1, "page: home", lambda: clerk.page("/")),
            (2, "api: my customers", lambda: clerk.api("GET", "/end_customer/", params={"q": "(page_size:20)"})),
            (1, "api: my orders", lambda: clerk.api("GET", "/sales_order/", params={"q": "(page_size:20)"})),
        ]
        while time.monotonic() < self.stop_at:
            roll = rnd.random()
            if roll < 0.12:
                name = f"浸泡客户{clerk.username}-{rnd.getrandbits(40):x}"
                resp = self.record("api: add customer", lambda n=name: clerk.api("POST", "/end_customer/", {"name": n}))
                if resp is not None and resp.status_code == 201:
                    mine.append(_json(resp).get("id"))
            elif roll < 0.17:
                self._form(
                    clerk,
                    "add customer",
                    "/endcustomerview/add",
                    {"name": f"浸泡页面客户-{rnd.getrandbits(40):x}", "stars": "3", "credit_limit": "0"},
                )
            elif roll < 0.22 and mine:
                pid, _price = rnd.choice(products)
                fields = {
                    "end_customer": rnd.choice(mine),
                    "doc_date": self.today.isoformat(),
                    "lines-0-product_id": pid,
                    "lines-0-qty": str(rnd.randint(1, 3)),
                }
                self._form(clerk, "add order", "/salesorderview/add", fields)
            elif roll < 0.37 and mine:
                self._order(clerk, rnd, rnd.choice(mine), products)
            else:
                weights, kinds, calls = zip(*actions, strict=True)
                i = rnd.choices(range(len(actions)), weights=weights)[0]
                self.record(kinds[i], calls[i])

    def _form(self, clerk: Clerk, what: str, path: str, fields: dict) -> None:
        """A page form as a browser sends it: the form, then the POST with its CSRF token; success redirects."""
        page = self.record(f"page: {what} form", lambda: clerk.page(path))
        if page is None or page.status_code != 200:
            return
        data = {"csrf_token": csrf_token(page.text), **fields}
        resp = self.record(f"page: {what}", lambda: clerk.post_form(path, data))
        if resp is not None and resp.status_code == 200:  # the form again, with what was wrong
            with self.lock:
                self.by_kind[f"page: {what}"]["refused"] += 1

    def _order(self, clerk: Clerk, rnd: random.Random, customer: int, products: list[tuple[int, Decimal]]) -> None:
        big = rnd.random() < 0.1  # ¥100,000 or more: the manager, then the administrator
        lines = []
        for pid, price in rnd.sample(products, rnd.randint(1, 3)):
            qty = max(1, int(120_000 / float(price or 1)) + 1) if big else rnd.randint(1, 3)
            lines.append({"product_id": pid, "qty": str(qty)})
        body = {
            "end_customer": customer,
            "doc_date": self.today.isoformat(),
            "project_name": "浸泡测试",
            "lines": lines,
        }
        resp = self.record("api: add order", lambda: clerk.api("POST", "/sales_order/", body))
        if resp is None or resp.status_code != 201:
            return
        oid = _json(resp).get("id")
        resp = self.record("api: submit order", lambda: clerk.api("POST", f"/sales_order/{oid}/submit", {}))
        if resp is None or resp.status_code != 200:
            return
        status = _json(resp).get("status")
        if status == "approved":
            self.to_ship.put((oid, lines))
            self.to_collect.put(oid)
        elif status == "submitted":
            self.to_approve.put((oid, lines))

    def manager(self, clerk: Clerk, rnd: random.Random, admin: Clerk) -> None:
        start = (self.today - dt.timedelta(days=365)).isoformat()
        end = self.today.isoformat()
        while time.monotonic() < self.stop_at:
            try:
                oid, lines = self.to_approve.get_nowait()
            except Empty:
                oid = None
            if oid is not None:
                for who in (clerk, admin):  # level 1 the sales manager, level 2 the administrator
                    resp = self.record(
                        "api: approve order", lambda w=who, o=oid: w.api("POST", f"/sales_order/{o}/approve", {})
                    )
                    if resp is None or resp.status_code != 200:
                        break
                    if _json(resp).get("status") == "approved":
                        self.to_ship.put((oid, lines))
                        self.to_collect.put(oid)
                        break
                continue
            roll = rnd.random()
            name = rnd.choice(self.REPORTS)
            if roll < 0.35:
                self.record("page: report", lambda n=name: clerk.page(f"/reports/{n}/"))
            elif roll < 0.65:
                params = {"period": rnd.choice(["day", "month", "quarter"]), "start": start, "end": end}
                self.record("api: report", lambda n=name, p=params: clerk.api("GET", f"/report/{n}", params=p))
            elif roll < 0.75:
                params = {"period": "month", "start": start, "end": end, "format": "xlsx"}
                self.record("api: report xlsx", lambda n=name, p=params: clerk.api("GET", f"/report/{n}", params=p))
            elif roll < 0.85:
                path = rnd.choice(
                    ["/endcustomerview/export_xlsx/", "/salesorderview/export_xlsx/", "/receiptview/export_xlsx/"]
                )
                self.record("page: export xlsx", lambda p=path: clerk.page(p))
            else:
                self.record("page: orders", lambda: clerk.page("/salesorderview/list/"))

    def keeper(self, clerk: Clerk, rnd: random.Random) -> None:
        warehouse, products = self.world["warehouse"], self.world["products"]
        while time.monotonic() < self.stop_at:
            try:
                oid, lines = self.to_ship.get_nowait()
            except Empty:
                oid = None
            roll = rnd.random()
            if oid is not None:
                body = {"warehouse": warehouse, "order": oid, "lines": lines}
                self._post_stock(clerk, "stock_out", "ship order", body)
            elif roll < 0.25:
                lines = [{"product_id": pid, "qty": str(rnd.randint(1, 2))} for pid, _ in rnd.sample(products, 2)]
                self._post_stock(clerk, "stock_out", "other stock-out", {"warehouse": warehouse, "lines": lines})
            elif roll < 0.40:
                lines = [
                    {
                        "product_id": pid,
                        "qty": str(rnd.randint(20, 60)),
                        "unit_cost": str((price * Decimal("0.6")).quantize(Decimal("0.01"))),
                    }
                    for pid, price in rnd.sample(products, 3)
                ]
                self._post_stock(clerk, "stock_in", "stock-in", {"warehouse": warehouse, "lines": lines})
            elif roll < 0.70:
                self.record("page: stock", lambda: clerk.page("/stockbalanceview/list/"))
            elif roll < 0.85:
                self.record("page: stock-outs", lambda: clerk.page("/stockoutview/list/"))
            else:
                self.record("api: ledger", lambda: clerk.api("GET", "/stock_move/", params={"q": "(page_size:50)"}))

    def _post_stock(self, clerk: Clerk, resource: str, what: str, body: dict) -> None:
        resp = self.record(f"api: add {what}", lambda: clerk.api("POST", f"/{resource}/", body))
        if resp is not None and resp.status_code == 201:
            doc = _json(resp).get("id")
            self.record(f"api: confirm {what}", lambda: clerk.api("POST", f"/{resource}/{doc}/confirm", {}))

    def finance(self, clerk: Clerk, rnd: random.Random) -> None:
        while time.monotonic() < self.stop_at:
            try:
                oid = self.to_collect.get_nowait()
            except Empty:
                oid = None
            if oid is not None:
                resp = self.record("api: read order", lambda o=oid: clerk.api("GET", f"/sales_order/{o}"))
                total = Decimal(str(_json(resp).get("result", {}).get("total_amount") or 0)) if resp is not None else 0
                if total > 0:
                    amount = total if rnd.random() < 0.6 else (total / 2).quantize(Decimal("0.01"))
                    body = {"order": oid, "amount": str(amount), "method": "bank", "doc_date": self.today.isoformat()}
                    self.record("api: add receipt", lambda b=body: clerk.api("POST", "/receipt/", b))
                continue
            roll = rnd.random()
            if roll < 0.4:
                self.record("page: receipts", lambda: clerk.page("/receiptview/list/"))
            elif roll < 0.7:
                self.record("api: receipts", lambda: clerk.api("GET", "/receipt/", params={"q": "(page_size:20)"}))
            else:
                self.record("page: report", lambda: clerk.page("/reports/receivables_aging/"))
            time.sleep(0.05)

    # ---- the run
    def desks(self) -> list[tuple[str, str]]:
        """(desk, username) for each client: about half salespeople, then keepers, finance, managers."""
        plan = ["sales", "keeper", "manager", "sales", "finance", "sales", "keeper", "manager"]
        sales = iter(self.world["salespeople"])
        out = []
        for i in range(self.clients):
            desk = plan[i % len(plan)]
            user = next(sales) if desk == "sales" else self.world[desk]
            out.append((desk, user))
        return out

    def run(self) -> None:
        self.stop_at = time.monotonic() + self.seconds
        threads = []
        for i, (desk, user) in enumerate(self.desks()):
            rnd = random.Random(self.rnd.random())

            def work(desk=desk, user=user, rnd=rnd):
                clerk = Clerk(self.base, user)
                try:
                    clerk.login()
                    if desk == "manager":
                        admin = Clerk(self.base, self.world["admin"])
                        admin.login()
                        self.manager(clerk, rnd, admin)
                    else:
                        getattr(self, {"sales": "salesperson"}.get(desk, desk))(clerk, rnd)
                except Exception as exc:  # noqa: BLE001 - reported with the others; the soak goes on
                    with self.lock:
                        self.errors.append(f"{desk} {user} stopped: {type(exc).__name__}: {exc}"[:300])

            threads.append(threading.Thread(target=work, name=f"clerk-{i}", daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join()


# ------------------------------------------------------------------ the database


def ensure_database(url: str, orders: int, fresh: bool) -> None:
    """Create the database on the server when missing and fill it once with bench/generate.py."""
    import sqlalchemy as sa

    u = sa.engine.make_url(url)
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        filled = (
            sa.inspect(conn).has_table("sales_order")
            and conn.execute(sa.text("SELECT 1 FROM sales_order LIMIT 1")).first()
        )
    engine.dispose()
    if filled and not fresh:
        from flask_migrate import upgrade

        app = make_app(url)
        with app.app_context():  # a release since the last soak: its migrations, as a deploy runs them
            from app.extensions import db

            upgrade()
            db.engine.dispose()
        return
    from bench.generate import generate

    generate(url, orders, salespeople=20, reset=True, quiet=True)


def make_app(url: str):
    from app import create_app
    from config import TestConfig

    cfg = TestConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.SECRET_KEY = SECRET
    return create_app(cfg)


def prepare_world(app) -> dict:
    """Users for every desk, stock to work with in one warehouse, and what the clients pick from."""
    from sqlalchemy import func

    from app.base_data.models import Product, Warehouse
    from app.crm.models import EndCustomer
    from app.extensions import db
    from app.inventory.models import StockIn, StockInLine
    from app.inventory.services import confirm_stock_in
    from app.sales.models import SalesOrder

    sm = app.appbuilder.sm
    with app.app_context():
        for username, role in (("soak_keeper", "WarehouseKeeper"), ("soak_finance", "Finance")):
            if not sm.find_user(username=username):
                sm.add_user(username, "浸泡", "测试", f"{username}@soak.invalid", sm.find_role(role), PASSWORD)
        admin = sm.find_user(username="admin")
        sm.reset_password(admin.id, PASSWORD)
        manager = sm.find_user(username="bench_manager")
        salespeople = sorted(u.username for u in sm.get_all_users() if u.username.startswith("bench_sp") and u.active)
        customers: dict[str, list[int]] = {}
        for username in salespeople:
            uid = sm.find_user(username=username).id
            customers[username] = [
                i
                for (i,) in db.session.query(EndCustomer.id)
                .filter(EndCustomer.owner_id == uid)
                .order_by(EndCustomer.id)
                .limit(200)
            ]
        products = (
            db.session.query(Product)
            .filter(Product.enabled.is_(True), Product.sale_price > 0)
            .order_by(Product.id)
            .limit(40)
            .all()
        )
        warehouse = db.session.query(Warehouse).order_by(Warehouse.sort_order, Warehouse.id).first()
        doc = StockIn(warehouse=warehouse, doc_date=dt.date.today(), note="浸泡测试备货")
        doc.lines = [
            StockInLine(line_no=i + 1, product=p, qty=Decimal(500), unit_cost=(p.purchase_price or Decimal("10.00")))
            for i, p in enumerate(products)
        ]
        db.session.add(doc)
        db.session.flush()
        confirm_stock_in(db.session, doc, admin)
        db.session.commit()
        world = {
            "admin": "admin",
            "manager": manager.username if manager else "admin",
            "keeper": "soak_keeper",
            "finance": "soak_finance",
            "salespeople": salespeople,
            "customers": customers,
            "products": [(p.id, Decimal(p.sale_price)) for p in products],
            "warehouse": warehouse.id,
            "orders": db.session.query(func.count(SalesOrder.id)).scalar(),
        }
        db.session.remove()
    return world


def check_ledger(app) -> list[str]:
    from app.extensions import db

    with app.app_context():
        try:
            return ledger_problems(db.session, allow_negative=app.config.get("STOCK_ALLOW_NEGATIVE", False))
        finally:
            db.session.remove()


# ------------------------------------------------------------------ the run


def soak(
    url: str,
    seconds: float,
    clients: int,
    workers: int = 4,
    orders: int = 2000,
    fresh: bool = False,
    warmup: float | None = None,
    max_growth_mb: float = 20.0,
    sample_every: float = 30.0,
    out=print,
) -> dict:
    """Run the soak; returns the figures and `ok`."""
    ensure_database(url, orders, fresh)
    app = make_app(url)
    world = prepare_world(app)
    before = check_ledger(app)
    server = Server(url, workers=workers).start()
    warmup = seconds / 2 if warmup is None else warmup
    every = min(sample_every, max(1.0, seconds / 10))
    pids = server.worker_pids()
    rss_start = {pid: server.rss_mb(pid) for pid in pids}
    samples: list[tuple[float, dict]] = [(0.0, rss_start)]
    traffic = Traffic(server.base, world, seconds, clients)
    stop = threading.Event()

    def sampler():
        t0 = time.monotonic()
        next_at = every
        while not stop.wait(max(0.0, next_at - (time.monotonic() - t0))):
            samples.append((round(time.monotonic() - t0, 1), {pid: server.rss_mb(pid) for pid in pids}))
            next_at += every

    out(
        f"soak: {seconds:.0f} s, {clients} clients, gunicorn {workers} workers on {_safe(url)} "
        f"({world['orders']} orders), log {server.log_path}"
    )
    watcher = threading.Thread(target=sampler, daemon=True)
    t0 = time.monotonic()
    watcher.start()
    try:
        traffic.run()
        elapsed = time.monotonic() - t0
        rss_end = {pid: server.rss_mb(pid) for pid in pids}
        pids_end = server.worker_pids()
    finally:
        stop.set()
        server.stop()
    after = check_ledger(app)
    warm = next((s for t, s in samples if t >= warmup), rss_start)
    growth = {pid: (rss_end.get(pid) or 0) - (warm.get(pid) or 0) for pid in pids}
    total = sum(v for k, v in traffic.statuses.items() if k != "error")
    five = sum(v for k, v in traffic.statuses.items() if k != "error" and k >= 500)
    result = {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "requests": total,
        "per_second": round(total / elapsed, 1) if elapsed else 0,
        "by_status": {str(k): v for k, v in sorted(traffic.statuses.items(), key=lambda kv: str(kv[0]))},
        "by_kind": {kind: {str(k): v for k, v in counts.items()} for kind, counts in sorted(traffic.by_kind.items())},
        "5xx": five,
        "connection_errors": traffic.statuses.get("error", 0),
        "errors": traffic.errors[:20],
        "ledger_before": before,
        "ledger_after": after,
        "workers": pids,
        "workers_replaced": pids_end != pids,
        "rss_start_mb": {pid: _r(v) for pid, v in rss_start.items()},
        "rss_warm_mb": {pid: _r(v) for pid, v in warm.items()},
        "rss_end_mb": {pid: _r(v) for pid, v in rss_end.items()},
        "rss_growth_mb": {pid: _r(v) for pid, v in growth.items()},
        "rss_samples": [(t, [_r(s.get(pid)) for pid in pids]) for t, s in samples],
        "tracebacks": server.tracebacks()[:3],
    }
    failures = []
    if five:
        failures.append(f"{five} responses 5xx")
    if result["connection_errors"] or traffic.errors:
        failures.append(f"{len(traffic.errors)} errors")
    if after:
        failures.append(f"{len(after)} ledger problems")
    if result["workers_replaced"]:
        failures.append(f"workers replaced during the run: {pids} → {pids_end}")
    if seconds >= 120 and any(v > max_growth_mb for v in growth.values()):
        failures.append(f"worker memory grew by more than {max_growth_mb} MB in the second half")
    result["failures"] = failures
    result["ok"] = not failures
    _print(result, traffic, out)
    return result


def _r(value) -> float | None:
    return round(value, 1) if value is not None else None


def _safe(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _print(result: dict, traffic: Traffic, out) -> None:
    out(
        f"requests {result['requests']} in {result['seconds']} s ({result['per_second']}/s); "
        f"by status {result['by_status']}"
    )
    out(f"5xx {result['5xx']}, dropped connections {result['connection_errors']}")
    width = max(len(k) for k in traffic.by_kind) if traffic.by_kind else 10
    for kind in sorted(traffic.by_kind):
        lat = sorted(traffic.latency.get(kind) or [0])
        p50, p95 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(traffic.by_kind[kind].items(), key=lambda kv: str(kv[0])))
        out(f"  {kind:<{width}}  {counts:<28} p50 {p50 * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms")
    out(f"stock ledger before: {len(result['ledger_before'])} problems, after: {len(result['ledger_after'])} problems")
    for problem in result["ledger_after"][:10]:
        out(f"  {problem}")
    out("worker RSS MB (start → half time → end; growth in the second half):")
    for pid in result["workers"]:
        out(
            f"  pid {pid}: {result['rss_start_mb'][pid]} → {result['rss_warm_mb'].get(pid)} → "
            f"{result['rss_end_mb'][pid]} ({result['rss_growth_mb'][pid]:+})"
        )
    out("RSS samples (s: MB per worker): " + "; ".join(f"{t}: {v}" for t, v in result["rss_samples"]))
    for error in result["errors"][:10]:
        out(f"  error: {error}")
    for tb in result["tracebacks"]:
        out(tb[-2000:])
    out("OK" if result["ok"] else "FAILED: " + "; ".join(result["failures"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak: mixed clerks' traffic against gunicorn on PostgreSQL.")
    parser.add_argument("--url", default=os.environ.get("SOAK_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--orders", type=int, default=2000, help="size of the generated history (first run)")
    parser.add_argument("--fresh", action="store_true", help="regenerate the database first")
    parser.add_argument("--max-growth-mb", type=float, default=20.0, help="per worker, second half")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = soak(
        args.url, args.seconds, args.clients, args.workers, args.orders, args.fresh, max_growth_mb=args.max_growth_mb
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
