"""Benchmark data: fill a database with a realistic two-year sales history at a chosen scale (issue 7).

    python bench/generate.py --orders 100000                          # SQLite file instance/bench.db
    python bench/generate.py --url sqlite:////tmp/bench.db --orders 1000000 --reset
    python bench/generate.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_gen --orders 100000

or from Python: `generate(url, orders, seed=1, customers=None, products=None, salespeople=50) -> dict`.

The schema comes from the app's migrations (upgrade on the empty database), then `seed_all` and the admin, as in a
real installation; the generator refuses a database that already holds business rows (`--reset` empties it first:
it deletes the SQLite file, or drops every table of a server database). Users are real FAB users made by the
security manager, every one with the same password, hashed once (`--password`, default Bench-Passw0rd!).

What is made (a small --orders scales the master data down, so that a smoke test runs in seconds):
- `salespeople` (50) users bench_sp01… (Salesperson) with profiles, bench_manager (SalesManager), the admin;
- end customers: min(20000, max(100, 2 × orders)); channel customers: a fortieth of that (≥ 5); owned by the
  salespeople, in the seeded cities (big cities weighted), with the seeded customer types, sources, natures and
  payment terms; a third refer from a channel. A customer is created shortly before its first order; last_deal_at
  is its last approved order. A salesperson's holding limit is raised on the profile when the book is bigger.
- products: min(2000, max(50, orders / 5)) variants of the demo catalogue in the demo category tree (created if
  missing), purchase < red-line < sale price, safety stock from the expected demand; suppliers: products / 30
  (5–60); warehouses: the seeded 主仓库 plus 北京仓, 广州仓, 成都仓 — a customer ships from its area's warehouse.
- orders over the 730 days ending today (China time), weighted by weekday, season and growth; ≈5 lines each
  (distinct products, popular ones more often), priced like app.sales.services.build_lines: amount = qty × price ×
  (100 − discount %) / 100 rounded half-up to the cent, total = Σ amounts; a line under the red-line price marks a
  price exception (accepted by the manager when approved). Status by age: ≈93 % approved, the rest cancelled,
  rejected, draft or submitted (a quarter of the last week still waits for approval); approval levels and the
  approval records follow the seeded approval rules. The payment term gives payment_days, due_date, the cash
  discount window.
- receipts on approved orders by their age (mostly paid once overdue; partial ones; prepaid orders paid before they
  ship), received_amount and payment_status in step.
- stock: an opening stock-in (期初) per warehouse; when a warehouse runs short, a purchase contract (approved,
  received, paid within 45 days) delivered by a posted stock-in, one per warehouse and week; approved orders ship after
  a few days by one posted stock-out (6 % partially, 3 % not yet); moves with the moving average cost, balance_after,
  balances = Σ moves and never negative, product_cost; shipped_qty on the order lines = Σ their stock-out lines.
- doc_sequence at the highest number used per (prefix, day), so the app numbers on after them; sales_daily_summary
  rebuilt; ids continue (PostgreSQL sequences set); ANALYZE (VACUUM ANALYZE on PostgreSQL).

Left out: quotations, refunds and returns, commissions, expenses, sales invoices, follow-ups, contacts, customer
prices, promotions, rebates, cash discounts taken, transfers and stock takes, audit-trail rows (bulk rows bypass the
ORM events).

Speed: rows are plain tuples built with `random` (fixed --seed), money in integer cents, written in chunks of
CHUNK_ORDERS orders: executemany on SQLite (journal_mode=OFF, synchronous=OFF, 1 GiB cache while loading; the
journal mode is restored) and MariaDB (foreign-key checks off while loading), COPY on PostgreSQL (foreign-key
triggers paused with session_replication_role while loading when the user may).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PASSWORD = "Bench-Passw0rd!"
DEFAULT_URL = f"sqlite:///{ROOT / 'instance' / 'bench.db'}"
DAYS = 730
CHUNK_ORDERS = 20_000
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
BEFORE, AFTER = 1200, 400  # day offsets kept from the period start backwards and past today (due dates)

# ------------------------------------------------------------------ columns written (checked against the schema)

COLUMNS = {
    "product": (
        "id model_no name spec category_id unit_id purchase_price sale_price floor_price safety_min safety_max "
        "enabled created_at updated_at"
    ),
    "channel_customer": (
        "id name phone address credit_limit in_pool assigned_at churned owner_id region_id channel_type_id level_id "
        "source_id nature_id created_at updated_at"
    ),
    "end_customer": (
        "id name phone address credit_limit in_pool assigned_at churned owner_id region_id customer_type_id source_id "
        "nature_id payment_term_id stars referrer_id churn_pending created_at updated_at"
    ),
    "salesperson_profile": "id user_id phone region_id department holding_limit created_at updated_at",
    "supplier": (
        "id name region_id contact_name phone address bank_name bank_account tax_no enabled created_at updated_at"
    ),
    "purchase_contract": (
        "id number supplier_id doc_date delivery_date total_amount paid_amount invoiced_amount is_opening "
        "receipt_status status approval_level approved_at created_at updated_at"
    ),
    "purchase_contract_line": "id contract_id line_no product_id qty unit_price discount amount received_qty",
    "payment": "id number contract_id doc_date amount method audited audited_by_id audited_at created_at updated_at",
    "stock_in": (
        "id number doc_date status posted_at posted_by_id warehouse_id move_type_id contract_id is_opening note "
        "created_at updated_at"
    ),
    "stock_in_line": "id doc_id line_no product_id qty unit_cost contract_line_id",
    "sales_order": (
        "id number doc_date project_name total_amount end_customer_id channel_id owner_id status approval_level "
        "order_type_id payment_term_id payment_days due_date discount_percent discount_until is_opening "
        "received_amount refunded_amount credited_amount commission_base invoiced_amount payment_status "
        "price_exception approved_at created_at updated_at"
    ),
    "sales_order_line": (
        "id order_id line_no product_id qty unit_price discount amount floor_price shipped_qty returned_qty "
        "price_accepted_by_id"
    ),
    "receipt": "id number doc_date amount order_id owner_id method cash_discount discount_amount created_at updated_at",
    "stock_out": (
        "id number doc_date status posted_at posted_by_id warehouse_id move_type_id order_id created_at updated_at"
    ),
    "stock_out_line": "id doc_id line_no product_id qty unit_cost order_line_id",
    "stock_move": (
        "id product_id warehouse_id qty unit_cost amount balance_after kind doc_type doc_id doc_number doc_date "
        "line_id user_id at"
    ),
    "approval_record": "id doc_type doc_id level action from_status to_status user_id at comment",
    "stock_balance": "id product_id warehouse_id qty updated_at",
    "product_cost": "product_id qty avg_cost",
    "doc_sequence": "prefix day last_value",
}
COLUMNS = {table: tuple(cols.split()) for table, cols in COLUMNS.items()}
# parents before children: PostgreSQL checks foreign keys row by row when its triggers cannot be paused
WRITE_ORDER = list(COLUMNS)
MUST_BE_EMPTY = [t for t in COLUMNS if t != "doc_sequence"]
SUMMARY_SQL = (
    "INSERT INTO sales_daily_summary (day, owner_id, amount, orders) "
    "SELECT doc_date, COALESCE(owner_id, 0), SUM(total_amount), COUNT(id) FROM sales_order "
    "WHERE status = 'approved' AND is_opening = false GROUP BY doc_date, COALESCE(owner_id, 0)"
)

# ------------------------------------------------------------------ vocabulary

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 志强 海燕 晓东 文博 子涵 浩然".split()
)
BRANDS = (
    "华信 鼎盛 恒通 中联 瑞丰 金桥 天成 宏达 新航 博远 汇智 长城 东方 远景 嘉禾 联创 永泰 盛世 卓越 华润 云帆 兴业 "
    "安和 中科 睿达 泰和 众诚 启明 海川 银河 凯盛 德信 万通 星辰 华宇 广源 明德 正通 信达 同创 力行 百川 华夏 蓝天 "
    "金鼎 荣盛 方圆 通达 天虹 弘毅 世纪 锦程 安泰 合力 宏图"
).split()
TRADES = (
    "科技 信息技术 电子 智能 网络 建设工程 实业 贸易 数码 系统工程 通信 机电 物业管理 酒店管理 医疗器械 教育科技 "
    "物流 置业 安防工程 软件"
).split()
COMPANY_FORMS = ["有限公司"] * 8 + ["股份有限公司", "集团有限公司"]
CHANNEL_FORMS = "商贸有限公司 系统集成有限公司 科技有限公司 经销部 电子商行".split()
SUPPLIER_TRADES = "电子 科技 通信设备 数码".split()
ROADS = "人民路 解放路 建设路 中山路 和平路 新华路 长江路 黄河路 科技园路 工业大道".split()
PROJECTS = (
    "弱电改造 监控升级 网络扩容 办公楼装修 数据中心建设 园区安防 学校信息化 医院网络改造 智慧社区 酒店无线覆盖 "
    "会议室改造 门店网络 厂区监控 机房搬迁"
).split()
REJECTIONS = ["价格过低，请重新报价", "客户信用待核实", "交期无法满足"]
SERIES = "标准版 增强版 Pro Plus 工业级 PoE版 2025款 企业版 精简版 高配版 Max 旗舰版".split()
BIG_CITIES = set(
    "上海市 北京市 广州市 深圳市 杭州市 南京市 苏州市 成都市 武汉市 重庆市 天津市 西安市 长沙市 郑州市 合肥市 宁波市 "
    "青岛市 济南市 厦门市 福州市".split()
)
# (name, address, department, first two digits of the region codes it serves); 主仓库 (seeded) serves the rest
WAREHOUSES = [
    ("主仓库", "上海市青浦区华新镇物流园", "华东销售部", ""),
    ("北京仓", "北京市大兴区物流基地", "华北销售部", "11 12 13 14 15 21 22 23 37 41"),
    ("广州仓", "广州市白云区空港物流园", "华南销售部", "35 36 43 44 45 46 71 81 82"),
    ("成都仓", "成都市双流区物流中心", "西南销售部", "50 51 52 53 54 61 62 63 64 65"),
]
PAYMENT_TERM_WEIGHTS = {"现结": 15, "预付款": 10, "月结30天": 45, "月结60天": 20, "2/10 月结30天": 10}
RECEIPT_METHODS = ["bank"] * 70 + ["wechat"] * 8 + ["alipay"] * 7 + ["cash"] * 5 + ["acceptance"] * 7 + ["cheque"] * 3
LINE_COUNTS = [n for n, weight in enumerate([0, 8, 10, 12, 14, 14, 12, 10, 8, 5, 4, 2, 1]) for _ in range(weight)]
DISCOUNTS = [0] * 75 + [200] * 5 + [300] * 5 + [500] * 7 + [800] * 4 + [1000] * 3 + [1500] * 1  # % × 100
MONTH_SEASON = {1: 0.85, 2: 0.55, 3: 1.0, 4: 1.0, 5: 0.95, 6: 1.1, 7: 0.9, 8: 0.9, 9: 1.05, 10: 0.8, 11: 1.1, 12: 1.3}
WEEKDAY = [1.0, 1.05, 1.05, 1.0, 0.95, 0.3, 0.12]
# order status by age, per cent: older than 30 days, 7–30 days, the last week
STATUS_OLD = ["approved"] * 93 + ["cancelled"] * 4 + ["rejected", "draft", "submitted"]
STATUS_RECENT = ["approved"] * 85 + ["submitted"] * 5 + ["draft"] * 4 + ["cancelled"] * 4 + ["rejected"] * 2
STATUS_NEW = ["approved"] * 55 + ["submitted"] * 25 + ["draft"] * 15 + ["cancelled"] * 3 + ["rejected"] * 2


def default_customers(orders: int) -> int:
    return min(20_000, max(100, orders * 2))


def default_products(orders: int) -> int:
    return min(2_000, max(50, orders // 5))


def _half_up(num: int, den: int) -> int:
    """num / den rounded half away from zero, like Decimal ROUND_HALF_UP (den > 0)."""
    if num >= 0:
        return (2 * num + den) // (2 * den)
    return -((-2 * num + den) // (2 * den))


def _cumulative(weights) -> list[float]:
    out, acc = [], 0.0
    for weight in weights:
        acc += weight
        out.append(acc)
    return out


# ------------------------------------------------------------------ writing rows


class Sink:
    """Bulk writes of tuples: COPY on PostgreSQL, executemany elsewhere; the columns are checked once against the
    migrated schema, so that a schema change shows here as a clear message rather than as bad data."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        quote = conn.dialect.identifier_preparer.quote
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.sql: dict[str, str] = {}
        inspector = sa.inspect(conn)
        for table, cols in COLUMNS.items():
            have = {c["name"]: c for c in inspector.get_columns(table)}
            missing = [c for c in cols if c not in have]
            if missing:
                raise RuntimeError(f"{table} has no column {missing}: bench/generate.py needs updating")
            pk = set(inspector.get_pk_constraint(table)["constrained_columns"])
            required = [
                name
                for name, c in have.items()
                if not c["nullable"] and c.get("default") is None and name not in cols and name not in pk
            ]
            if required:
                raise RuntimeError(f"{table}.{required} are required but not generated: update bench/generate.py")
            names = ", ".join(quote(c) for c in cols)
            if self.dialect == "postgresql":
                self.sql[table] = f"COPY {quote(table)} ({names}) FROM STDIN"
            else:
                self.sql[table] = f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join([mark] * len(cols))})"
        self.counts: dict[str, int] = defaultdict(int)

    def write(self, table: str, rows: list) -> None:
        if not rows:
            return
        if self.dialect == "postgresql":
            with self.conn.connection.driver_connection.cursor() as cur, cur.copy(self.sql[table]) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            if type(rows[0]) is not tuple:
                rows = [tuple(row) for row in rows]
            for start in range(0, len(rows), 50_000):
                self.conn.exec_driver_sql(self.sql[table], rows[start : start + 50_000])
        self.counts[table] += len(rows)


# ------------------------------------------------------------------ the app's side: schema, seed, users, summary


def make_app(url: str):
    """The app on `url` with the test configuration (no instance/ files written)."""
    from app import create_app
    from config import TestConfig

    class BenchConfig(TestConfig):
        def __init__(self) -> None:
            self.SECRET_KEY = os.environ.get("SECRET_KEY") or "bench-secret-key-only-for-benchmark-databases"
            self.SQLALCHEMY_DATABASE_URI = url

    return create_app(BenchConfig())


def reset_database(url: str) -> None:
    """Delete a SQLite file, or drop every table of a server database (like tests/conftest.empty_database)."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(u.database + suffix).unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        else:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
            for (name,) in conn.exec_driver_sql("SHOW TABLES").fetchall():
                conn.exec_driver_sql(f"DROP TABLE `{name}`")
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    engine.dispose()


_SEEDED_SQLITE: dict[str, str] = {}  # "file" → a SQLite database at the migrations' head, seeded by this process


def _copy_sqlite(source: str, target: str) -> str:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def _prepare(url: str, salespeople: int, password: str, rnd: random.Random):
    """Migrate, seed, admin; the demo category tree, the warehouses and the users (one password hash for all);
    returns the app and the ids and settings the generator needs."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from app.base_data import models as m
    from app.base_data.demo import CATEGORIES, PRODUCTS
    from app.cli import ensure_admin, seed_all
    from app.core.workflow import ApprovalRule
    from app.extensions import db

    target = sa.engine.make_url(url).database if sa.engine.make_url(url).get_backend_name() == "sqlite" else None
    seeded = _SEEDED_SQLITE.get("file") if target and not os.path.exists(target) else None
    if seeded:  # the schema and seed this process already made once (seeding takes seconds: roles, regions)
        _copy_sqlite(seeded, target)
    app = make_app(url)
    with app.app_context():
        upgrade()
        session = db.session
        for table in MUST_BE_EMPTY:
            if session.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
                raise RuntimeError(f"{table} already holds rows: generate into a fresh database (or pass --reset)")
        if not seeded:
            seed_all(verbose=False)
            if target:
                session.commit()
                _SEEDED_SQLITE["file"] = _copy_sqlite(target, tempfile.mkstemp(prefix="bench-seeded-", suffix=".db")[1])
        ensure_admin(password)
        categories = {c.name: c for c in session.query(m.ProductCategory)}
        for order, (parent_name, children) in enumerate(CATEGORIES.items(), start=1):
            parent = categories.get(parent_name)
            if parent is None:
                parent = categories[parent_name] = m.ProductCategory(name=parent_name, sort_order=order)
                session.add(parent)
            for child_order, child in enumerate(children, start=1):
                if child not in categories:
                    categories[child] = m.ProductCategory(name=child, parent=parent, sort_order=child_order)
                    session.add(categories[child])
        warehouses = {w.name: w for w in session.query(m.Warehouse)}
        for order, (name, address, _dept, _codes) in enumerate(WAREHOUSES, start=1):
            if name not in warehouses:
                warehouses[name] = m.Warehouse(name=name, sort_order=order)
                session.add(warehouses[name])
            warehouses[name].address = warehouses[name].address or address
        session.flush()

        sm = app.appbuilder.sm
        hashed = generate_password_hash(
            password,
            method=app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
            salt_length=app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
        )
        people = [(f"bench_sp{n:02d}", "Salesperson") for n in range(1, salespeople + 1)]
        people.append(("bench_manager", "SalesManager"))
        users = {}
        for username, role in people:
            user = sm.find_user(username=username) or sm.add_user(
                username=username,
                first_name=rnd.choice(SURNAMES),
                last_name=rnd.choice(GIVEN),
                email=f"{username}@bench.invalid",
                role=sm.find_role(role),
                hashed_password=hashed,
                commit=False,
            )
            users[username] = user.id
        session.commit()

        def enabled(model) -> list[int]:
            return [i for (i,) in session.query(model.id).filter(model.enabled.is_(True)).order_by(model.sort_order)]

        regions = session.query(m.Region.id, m.Region.code, m.Region.name, m.Region.level).all()
        units = {u.name: u.id for u in session.query(m.Unit)}
        world = {
            "admin_id": sm.find_user(username="admin").id,
            "manager_id": users["bench_manager"],
            "salespeople": [users[u] for u, role in people if role == "Salesperson"],
            "cities": [(r.id, r.code, r.name) for r in regions if r.level == "city"],
            "customer_types": enabled(m.CustomerType),
            "sources": enabled(m.CustomerSource),
            "natures": enabled(m.CustomerNature),
            "channel_types": enabled(m.ChannelType),
            "channel_levels": enabled(m.ChannelLevel),
            "order_types": enabled(m.OrderType),
            "terms": [  # id, name, kind, days, cash discount % × 100, discount days
                (t.id, t.name, t.kind, t.days, round(float(t.discount_percent) * 100), t.discount_days)
                for t in session.query(m.PaymentTerm).filter(m.PaymentTerm.enabled.is_(True))
            ],
            "move_types": {t.name: t.id for t in session.query(m.StockMoveType)},
            "warehouses": [(warehouses[name].id, dept, codes) for name, _a, dept, codes in WAREHOUSES],
            "templates": [  # model no, name, spec, category id, unit id, sale price in whole yuan
                (no, name, spec, categories[cat].id, units.get(unit), int(float(sell)))
                for no, name, spec, cat, unit, buy, sell, *_rest in PRODUCTS
                if float(buy) > 0  # services are not stocked
            ],
            "rules": {  # (min amount in cents, level, role) per document type, as app.core.workflow reads them
                doc_type: [
                    (round(float(r.min_amount) * 100), r.level, r.role_name)
                    for r in session.query(ApprovalRule).filter(ApprovalRule.doc_type == doc_type)
                ]
                for doc_type in ("sales_order", "purchase_contract")
            },
            "holding_limit": int(app.config.get("CRM_HOLDING_LIMIT", 200)),
        }
        session.remove()
        db.engine.dispose()
    return app, world


def _finish_in_app(app, log) -> dict:
    """What the app keeps by itself and rebuilds after a bulk load: the daily sales summary."""
    from app.extensions import db
    from app.reports import summary

    with app.app_context():
        try:
            rows = summary.rebuild(db.session)
        except sa.exc.DBAPIError as exc:
            # summary.rebuild() groups by COALESCE(owner_id, <bound parameter>), which PostgreSQL cannot match with
            # the selected expression; the same rows from migration 0010's statement
            db.session.rollback()
            log(f"summary.rebuild() failed ({type(exc.orig).__name__}); rebuilt with migration 0010's statement")
            db.session.execute(sa.text("DELETE FROM sales_daily_summary"))
            db.session.execute(sa.text(SUMMARY_SQL))
            rows = db.session.execute(sa.text("SELECT COUNT(*) FROM sales_daily_summary")).scalar_one()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"sales_daily_summary": rows}


# ------------------------------------------------------------------ the generator


class Generator:
    """Builds every row in memory-bounded chunks; all quantities are whole units, money integer cents, costs in
    1/10000 yuan (the app's COST_SCALE), so every sum is exact."""

    def __init__(self, conn, world: dict, *, orders: int, customers: int, products: int, seed: int, log) -> None:
        self.conn = conn
        self.sink = Sink(conn)
        self.world = world
        self.n_orders, self.n_customers, self.n_products = orders, customers, products
        self.n_channels = max(5, customers // 40)
        self.n_suppliers = max(5, min(60, products // 30))
        self.rnd = random.Random(seed)
        self.log = log
        self.admin, self.manager = world["admin_id"], world["manager_id"]
        self.role_user = {"Admin": self.admin, "SalesManager": self.manager}
        self.rows: dict[str, list] = defaultdict(list)
        self.next_id = {t: self._max_id(t) + 1 for t in COLUMNS if "id" in COLUMNS[t]}
        self.timings: dict[str, float] = {}

        now = dt.datetime.now(LOCAL_TZ)
        self.today = now.date()
        self.start = self.today - dt.timedelta(days=DAYS - 1)
        # nothing on today's date later than now (UTC, as the app stores times)
        self.today_limit = max(0, now.hour * 3600 + now.minute * 60 + now.second - 8 * 3600 - 60)
        self.tsuffix = ".000000" if conn.dialect.name == "sqlite" else ""  # as SQLAlchemy writes SQLite datetimes
        self.dstr, self.ymd = [], []
        for off in range(-BEFORE, DAYS + AFTER):
            day = self.start + dt.timedelta(days=off)
            self.dstr.append(day.isoformat())
            self.ymd.append(f"{day:%Y%m%d}")
        self.seq: dict[tuple[str, int], int] = defaultdict(int)
        for prefix, day, value in conn.exec_driver_sql("SELECT prefix, day, last_value FROM doc_sequence"):
            day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
            self.seq[(prefix, (day - self.start).days)] = int(value)

    # ---- helpers

    def _max_id(self, table: str) -> int:
        return self.conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar_one()

    def ids(self, table: str, n: int = 1) -> int:
        """The first of n fresh ids of the table."""
        first = self.next_id[table]
        self.next_id[table] = first + n
        return first

    def add(self, table: str, **values) -> list:
        """A row by column name (outside the hot loop, where clarity beats a microsecond)."""
        row = [values[c] for c in COLUMNS[table]]
        self.rows[table].append(row)
        return row

    def day(self, off: int) -> str:
        return self.dstr[off + BEFORE]

    def ts(self, off: int, sec: int) -> str:
        """A UTC time on local day `off`, `sec` seconds after UTC midnight (local 08:00–24:00 is UTC 00:00–16:00)."""
        if off >= DAYS - 1:
            off, sec = DAYS - 1, min(sec, self.today_limit)
        return f"{self.dstr[off + BEFORE]} {sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}{self.tsuffix}"

    def number(self, prefix: str, off: int) -> str:
        """Prefix + date + daily sequence, like app.core.numbering.next_number."""
        key = (prefix, off)
        value = self.seq[key] + 1
        self.seq[key] = value
        return f"{prefix}{self.ymd[off + BEFORE]}-{value:04d}"

    def roles_for(self, doc_type: str, amount_cents: int, default: tuple) -> list[str]:
        """Like app.core.workflow.approver_roles, from the rules read once."""
        applicable = [r for r in self.world["rules"][doc_type] if amount_cents >= r[0]]
        if not applicable:
            return list(default)
        threshold = max(r[0] for r in applicable)
        return [r[2] for r in sorted((r for r in applicable if r[0] == threshold), key=lambda r: r[1])]

    def flush(self) -> None:
        for table in WRITE_ORDER:
            rows = self.rows.pop(table, None)
            if rows:
                self.sink.write(table, rows)
        self.conn.commit()

    def _pick_city(self):
        return self.cities[bisect_left(self.city_cw, self.rnd.random() * self.city_cw[-1])]

    def _unique(self, names: set, key, make) -> str:
        for _ in range(8):
            name = make()
            if (name, key) not in names:
                break
        else:
            base, n = name, 2
            while (f"{base}{n}", key) in names:
                n += 1
            name = f"{base}{n}"
        names.add((name, key))
        return name

    # ---- master data

    def master_data(self) -> None:
        t0 = time.perf_counter()
        w = self.world
        self.cities = w["cities"]
        self.city_cw = _cumulative(8.0 if name in BIG_CITIES else 1.0 for _i, _c, name in self.cities)
        self.wh_ids = [wid for wid, _dept, _codes in w["warehouses"]]
        self.wh_of_code = {code: k for k, (_w, _d, codes) in enumerate(w["warehouses"]) for code in codes.split()}
        self.products()
        self.customers()
        self.suppliers()
        self.plan_stock()
        self.flush()
        self.timings["master_data"] = round(time.perf_counter() - t0, 2)
        self.log(
            f"master data: {self.n_products} products, {self.n_channels} channels, {self.n_customers} end "
            f"customers, {self.n_suppliers} suppliers ({self.timings['master_data']}s)"
        )

    def products(self) -> None:
        rnd, templates = self.rnd, self.world["templates"]
        created = self.ts(-BEFORE + 30, 3600)
        self.p_id, self.p_sale, self.p_floor, self.p_buy, self.p_mean, self.p_row = [], [], [], [], [], []
        first = self.ids("product", self.n_products)
        for i in range(self.n_products):
            no, name, spec, category, unit, sell = templates[i % len(templates)]
            sale = max(1, round(sell * math.exp(rnd.uniform(-0.7, 0.9)))) * 100  # whole yuan, in cents
            buy = max(1, round(sale * rnd.uniform(0.6, 0.76)))
            floor = min(max(round(sale * rnd.uniform(0.82, 0.9) / 100) * 100, buy + 100), sale)
            yuan = sale // 100
            self.p_id.append(first + i)
            self.p_sale.append(sale)
            self.p_floor.append(floor)
            self.p_buy.append(buy)
            self.p_mean.append(2 if yuan >= 5000 else 4 if yuan >= 1500 else 8 if yuan >= 500 else 16)  # qty/line
            series = SERIES[(i // len(templates)) % len(SERIES)]
            row = self.add(
                "product",
                id=first + i,
                model_no=f"{no}-{i + 1:05d}",
                name=f"{name} {series}",
                spec=spec,
                category_id=category,
                unit_id=unit,
                purchase_price=buy / 100,
                sale_price=sale / 100,
                floor_price=floor / 100,
                safety_min=None,
                safety_max=None,
                enabled=True,
                created_at=created,
                updated_at=created,
            )
            self.p_row.append(row)
        weights = [1.0 / (k + 8) ** 0.9 for k in range(self.n_products)]  # a long tail of slow movers
        rnd.shuffle(weights)
        self.p_cw = _cumulative(weights)

    def customers(self) -> None:
        rnd, w = self.rnd, self.world
        r = rnd.random
        sps = w["salespeople"]
        sp_cw = _cumulative(0.4 + rnd.expovariate(1.0) for _ in sps)  # some sell much more than others

        def owner() -> int:
            return sps[bisect_left(sp_cw, r() * sp_cw[-1])]

        def address(city: str) -> str:
            return f"{city}{rnd.choice(ROADS)}{rnd.randint(1, 999)}号"

        owned: dict[int, int] = defaultdict(int)
        # channel customers (agents, dealers)
        self.ch_id, channels_of = [], defaultdict(list)
        first = self.ids("channel_customer", self.n_channels)
        level_weights = [1, 2, 4, 3, 2, 1, 1, 1][: len(w["channel_levels"])]
        names: set = set()
        for i in range(self.n_channels):
            cid, _code, city = self._pick_city()
            who = owner()
            owned[who] += 1
            channels_of[who].append(first + i)
            self.ch_id.append(first + i)
            at = self.ts(rnd.randint(-400, -1), rnd.randint(3600, 9 * 3600))
            self.add(
                "channel_customer",
                id=first + i,
                name=self._unique(
                    names, cid, lambda c=city: f"{_short(c)}{rnd.choice(BRANDS)}{rnd.choice(CHANNEL_FORMS)}"
                ),
                phone=_phone(rnd),
                address=address(city),
                credit_limit=rnd.choice([0, 0, 0, 100_000]),
                in_pool=False,
                assigned_at=at,
                churned=False,
                owner_id=who,
                region_id=cid,
                channel_type_id=_pick(rnd, w["channel_types"]),
                level_id=rnd.choices(w["channel_levels"], weights=level_weights)[0] if level_weights else None,
                source_id=_pick(rnd, w["sources"]),
                nature_id=_pick(rnd, w["natures"]),
                created_at=at,
                updated_at=at,
            )
        # end customers: a few big buyers, many small ones; a third came through a channel
        terms = w["terms"]
        term_weights = [PAYMENT_TERM_WEIGHTS.get(t[1], 10) for t in terms]
        placeholder = self.ts(-1, 3600)  # created/assigned are set from the first order in finish()
        self.c_id, self.c_owner, self.c_term, self.c_ref, self.c_wh, self.c_city = [], [], [], [], [], []
        weights = []
        first = self.ids("end_customer", self.n_customers)
        names = set()
        for i in range(self.n_customers):
            cid, code, city = self._pick_city()
            who = owner()
            owned[who] += 1
            term = rnd.choices(terms, weights=term_weights)[0] if terms else None
            referrer = None
            if r() < 0.35:
                referrer = rnd.choice(channels_of.get(who) or self.ch_id)
            self.c_id.append(first + i)
            self.c_owner.append(who)
            self.c_term.append(term)
            self.c_ref.append(referrer)
            self.c_wh.append(self.wh_of_code.get(code[:2], 0))
            self.c_city.append(_short(city))
            weights.append(min(rnd.paretovariate(1.16), 200.0))
            self.add(
                "end_customer",
                id=first + i,
                name=self._unique(
                    names,
                    cid,
                    lambda c=city: f"{_short(c)}{rnd.choice(BRANDS)}{rnd.choice(TRADES)}{rnd.choice(COMPANY_FORMS)}",
                ),
                phone=_phone(rnd),
                address=address(city),
                credit_limit=rnd.choice([0] * 8 + [200_000, 1_000_000]),
                in_pool=False,
                assigned_at=placeholder,
                churned=False,
                owner_id=who,
                region_id=cid,
                customer_type_id=_pick(rnd, w["customer_types"]),
                source_id=_pick(rnd, w["sources"]),
                nature_id=_pick(rnd, w["natures"]),
                payment_term_id=term[0] if term else None,
                stars=rnd.choices([1, 2, 3, 4, 5], weights=[5, 15, 45, 25, 10])[0],
                referrer_id=referrer,
                churn_pending=False,
                created_at=placeholder,
                updated_at=placeholder,
            )
        self.c_weight = weights
        self.c_cw = _cumulative(weights)
        # profiles: phone, home city, department; the holding limit raised where the book passes the default
        created = self.ts(-BEFORE + 30, 3600)
        first = self.ids("salesperson_profile", len(sps) + 1)
        for n, uid in enumerate([*sps, self.manager]):
            cid, code, _city = self._pick_city()
            dept = w["warehouses"][self.wh_of_code.get(code[:2], 0)][1] if uid != self.manager else "销售管理部"
            self.add(
                "salesperson_profile",
                id=first + n,
                user_id=uid,
                phone=_phone(rnd),
                region_id=cid,
                department=dept,
                holding_limit=owned[uid] + 50 if owned[uid] > w["holding_limit"] else None,
                created_at=created,
                updated_at=created,
            )

    def suppliers(self) -> None:
        rnd = self.rnd
        created = self.ts(-BEFORE + 30, 3600)
        first = self.ids("supplier", self.n_suppliers)
        self.s_id = list(range(first, first + self.n_suppliers))
        names: set = set()
        for i in range(self.n_suppliers):
            cid, _code, city = self._pick_city()
            self.add(
                "supplier",
                id=first + i,
                name=self._unique(
                    names,
                    None,
                    lambda c=city: f"{_short(c)}{rnd.choice(BRANDS)}{rnd.choice(SUPPLIER_TRADES)}制造有限公司",
                ),
                region_id=cid,
                contact_name=rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                phone=_phone(rnd),
                address=f"{city}{rnd.choice(ROADS)}{rnd.randint(1, 999)}号",
                bank_name=f"中国工商银行{_short(city)}分行",
                bank_account=f"6222{rnd.randrange(10**15):015d}",
                tax_no=f"91{rnd.randrange(10**16):016d}",
                enabled=True,
                created_at=created,
                updated_at=created,
            )

    def plan_stock(self) -> None:
        """Expected daily demand per (product, warehouse), from the same weights the orders use: it sizes the
        opening stock, the purchase quantities and the products' safety stock."""
        rnd, n_w = self.rnd, len(self.wh_ids)
        wh_share = [0.0] * n_w
        for k, weight in zip(self.c_wh, self.c_weight):
            wh_share[k] += weight
        total_share = sum(wh_share)
        lines = self.n_orders * sum(LINE_COUNTS) / len(LINE_COUNTS) * 0.85  # ≈ shipped lines
        self.bal = [0] * (self.n_products * n_w)  # on hand per product * n_w + warehouse
        self.reorder = [1] * (self.n_products * n_w)
        self.opening = [0] * (self.n_products * n_w)
        previous = 0.0
        for p in range(self.n_products):
            share = (self.p_cw[p] - previous) / self.p_cw[-1]
            previous = self.p_cw[p]
            daily_all = lines * share * self.p_mean[p] / DAYS
            for k in range(n_w):
                daily = daily_all * wh_share[k] / total_share
                self.reorder[p * n_w + k] = max(5 * self.p_mean[p], math.ceil(daily * rnd.uniform(35, 60)))
                self.opening[p * n_w + k] = math.ceil(daily * rnd.uniform(20, 40)) if daily > 0.05 else 0
            if daily_all >= 0.2:
                row, columns = self.p_row[p], COLUMNS["product"]
                row[columns.index("safety_min")] = math.ceil(daily_all * 7)
                row[columns.index("safety_max")] = math.ceil(daily_all * 120)
        self.cost_qty = [0] * self.n_products
        self.cost_avg = [0] * self.n_products  # moving average, 1/10000 yuan
        self.moved: set[tuple[int, int]] = set()
        self.c_first: list[int | None] = [None] * self.n_customers
        self.c_last_deal: list[int | None] = [None] * self.n_customers
        self.ch_last_deal: dict[int, int] = {}
        self.open_in: dict[int, dict] = {}

    # ---- stock in

    def opening_stock(self) -> None:
        """期初入库 per warehouse the day before the period: about a month of the expected demand."""
        n_w, off = len(self.wh_ids), -1
        at = self.ts(off, 2 * 3600)
        for k, wid in enumerate(self.wh_ids):
            products = [p for p in range(self.n_products) if self.opening[p * n_w + k] > 0]
            if not products:
                continue
            doc_id, number = self.ids("stock_in"), self.number("RK", off)
            self.add(
                "stock_in",
                id=doc_id,
                number=number,
                doc_date=self.day(off),
                status="posted",
                posted_at=at,
                posted_by_id=self.admin,
                warehouse_id=wid,
                move_type_id=None,
                contract_id=None,
                is_opening=True,
                note="期初库存",
                created_at=at,
                updated_at=at,
            )
            for n, p in enumerate(products, start=1):
                qty = self.opening[p * n_w + k]
                self._stock_in_line(doc_id, n, p, k, qty, self.p_buy[p], None, "opening_in", number, off, at)

    def _stock_in_line(self, doc_id, line_no, p, k, qty, unit_cents, contract_line, kind, number, off, at) -> None:
        """A posted stock-in line: its move, the balance and the moving average (as confirm_stock_in does)."""
        n_w = len(self.wh_ids)
        self.moved.add((p, k))
        on_hand = self.bal[p * n_w + k] + qty
        self.bal[p * n_w + k] = on_hand
        held, avg, unit = self.cost_qty[p], self.cost_avg[p], unit_cents * 100
        new = held + qty
        self.cost_avg[p] = unit if held <= 0 or new <= 0 else _half_up(held * avg + qty * unit, new)
        self.cost_qty[p] = new
        line_id = self.ids("stock_in_line")
        self.rows["stock_in_line"].append(
            (line_id, doc_id, line_no, self.p_id[p], qty, unit_cents / 100, contract_line)
        )
        # fmt: off
        self.rows["stock_move"].append((
            self.ids("stock_move"), self.p_id[p], self.wh_ids[k], qty, unit / 10000, qty * unit_cents / 100, on_hand,
            kind, "stock_in", doc_id, number, self.day(off), line_id, self.admin, at,
        ))
        # fmt: on

    def restock(self, p: int, k: int, need: int, off: int) -> None:
        """Goods bought for warehouse k arrive by day `off`, the date of the order that found the shelf short (so
        every later shipment is dated after them): one contract and one stock-in per warehouse and week, dated on
        its first shortage."""
        doc = self.open_in.get(k)
        if doc is None or off - doc["off"] >= 7:
            if doc is not None:
                self._close_restock(doc)
            rnd = self.rnd
            contract_off = off - rnd.randint(3, 20)
            doc = self.open_in[k] = {
                "off": off,
                "k": k,
                "id": self.ids("stock_in"),
                "number": self.number("RK", off),
                "contract": self.ids("purchase_contract"),
                "contract_off": contract_off,
                "contract_number": self.number("CG", contract_off),
                "at": self.ts(off, rnd.randint(1800, 9 * 3600)),
                "lines": 0,
                "total": 0,
            }
        qty = max(need, self.reorder[p * len(self.wh_ids) + k])
        if qty >= 50:
            qty = -(-qty // 10) * 10
        unit = max(1, round(self.p_buy[p] * self.rnd.uniform(0.95, 1.05)))
        doc["lines"] += 1
        doc["total"] += qty * unit
        contract_line = self.ids("purchase_contract_line")
        self.rows["purchase_contract_line"].append(
            (contract_line, doc["contract"], doc["lines"], self.p_id[p], qty, unit / 100, 0, qty * unit / 100, qty)
        )
        self._stock_in_line(
            doc["id"], doc["lines"], p, k, qty, unit, contract_line, "purchase_in", doc["number"], off, doc["at"]
        )

    def _close_restock(self, doc: dict) -> None:
        rnd = self.rnd
        off, c_off, at, total = doc["off"], doc["contract_off"], doc["at"], doc["total"]
        created = self.ts(c_off, rnd.randint(3600, 9 * 3600))
        approved = self.ts(c_off + 1, rnd.randint(3600, 9 * 3600))
        pay_off = off + rnd.randint(0, 45)
        paid = total if pay_off <= DAYS - 1 else 0
        self.add(
            "purchase_contract",
            id=doc["contract"],
            number=doc["contract_number"],
            supplier_id=rnd.choice(self.s_id),
            doc_date=self.day(c_off),
            delivery_date=self.day(off),
            total_amount=total / 100,
            paid_amount=paid / 100,
            invoiced_amount=0,
            is_opening=False,
            receipt_status="done",
            status="approved",
            approval_level=len(self.roles_for("purchase_contract", total, ("Admin",))),
            approved_at=approved,
            created_at=created,
            updated_at=at,
        )
        self._records("purchase_contract", doc["contract"], self.admin, created, approved, total, ("Admin",))
        self.add(
            "stock_in",
            id=doc["id"],
            number=doc["number"],
            doc_date=self.day(off),
            status="posted",
            posted_at=at,
            posted_by_id=self.admin,
            warehouse_id=self.wh_ids[doc["k"]],
            move_type_id=self.world["move_types"].get("采购入库"),
            contract_id=doc["contract"],
            is_opening=False,
            note=None,
            created_at=at,
            updated_at=at,
        )
        if paid:
            pay_at = self.ts(pay_off, rnd.randint(3600, 9 * 3600))
            self.add(
                "payment",
                id=self.ids("payment"),
                number=self.number("FK", pay_off),
                contract_id=doc["contract"],
                doc_date=self.day(pay_off),
                amount=paid / 100,
                method="bank",
                audited=True,
                audited_by_id=self.admin,
                audited_at=pay_at,
                created_at=pay_at,
                updated_at=pay_at,
            )

    def _records(self, doc_type, doc_id, owner, submitted_at, approved_at, amount, default) -> None:
        """Submit, then one approval per level: the trail an approved document has."""
        roles = self.roles_for(doc_type, amount, default)
        first = self.ids("approval_record", 1 + len(roles))
        rows = self.rows["approval_record"]
        rows.append((first, doc_type, doc_id, 0, "submit", "draft", "submitted", owner, submitted_at, None))
        for level, role in enumerate(roles, start=1):
            to = "approved" if level == len(roles) else "submitted"
            user = self.role_user.get(role, self.admin)
            rows.append((first + level, doc_type, doc_id, level, "approve", "submitted", to, user, approved_at, None))

    def close_restocks(self) -> None:
        for doc in self.open_in.values():
            self._close_restock(doc)
        self.open_in = {}

    # ---- orders

    def order_days(self) -> list[int]:
        weights = []
        for off in range(DAYS):
            day = self.start + dt.timedelta(days=off)
            weights.append((0.75 + 0.5 * off / DAYS) * WEEKDAY[day.weekday()] * MONTH_SEASON[day.month])
        return sorted(self.rnd.choices(range(DAYS), cum_weights=_cumulative(weights), k=self.n_orders))

    def orders(self) -> None:
        """Orders in date order with their lines, workflow trail, receipts and shipment (the hot loop)."""
        t0 = time.perf_counter()
        rnd, rows, ids, ts, day, number = self.rnd, self.rows, self.ids, self.ts, self.day, self.number
        r, randint, choice, expo, log = rnd.random, rnd.randint, rnd.choice, rnd.expovariate, math.log
        p_cw, p_total, c_cw, c_total = self.p_cw, self.p_cw[-1], self.c_cw, self.c_cw[-1]
        p_id, p_sale, p_floor, p_mean, p_buy = self.p_id, self.p_sale, self.p_floor, self.p_mean, self.p_buy
        c_id, c_owner, c_term, c_ref, c_wh, c_city = (
            self.c_id,
            self.c_owner,
            self.c_term,
            self.c_ref,
            self.c_wh,
            self.c_city,
        )
        bal, cost_qty, cost_avg, n_w, wh_ids = self.bal, self.cost_qty, self.cost_avg, len(self.wh_ids), self.wh_ids
        c_first = self.c_first
        order_types = self.world["order_types"] or [None]
        type_cw = _cumulative([6, 3, 1, 1, *[1] * len(order_types)][: len(order_types)])
        type_total = type_cw[-1]
        sale_out = self.world["move_types"].get("销售出库")
        admin, manager, role_user = self.admin, self.manager, self.role_user
        order_rows, line_rows, record_rows = rows["sales_order"], rows["sales_order_line"], rows["approval_record"]
        last, n_lines_pick, n_disc = DAYS - 1, len(LINE_COUNTS), len(DISCOUNTS)
        days = self.order_days()
        first_order = ids("sales_order", self.n_orders)
        for i, d in enumerate(days):
            oid = first_order + i
            c = bisect_left(c_cw, r() * c_total)
            owner, term, age = c_owner[c], c_term[c], last - d
            status = (STATUS_OLD if age >= 30 else STATUS_RECENT if age >= 7 else STATUS_NEW)[int(r() * 100)]
            approved = status == "approved"

            # lines, priced like build_lines: qty × price × (100 − discount%) / 100, half-up to the cent
            picked = []
            for _ in range(LINE_COUNTS[int(r() * n_lines_pick)]):
                p = bisect_left(p_cw, r() * p_total)
                if p not in picked:
                    picked.append(p)
            first_line = ids("sales_order_line", len(picked))
            lines, total, below = [], 0, False
            for no, p in enumerate(picked):
                qty = 1 + int(-log(1.0 - r()) * (p_mean[p] - 1))
                price = p_sale[p] if r() < 0.85 else max(100, round(p_sale[p] * (0.9 + 0.09 * r()) / 100) * 100)
                disc = DISCOUNTS[int(r() * n_disc)]
                amount = (qty * price * (10000 - disc) + 5000) // 10000
                total += amount
                low = price * (10000 - disc) < p_floor[p] * 10000  # net price under the red line
                below = below or low
                accepted = manager if low and approved else None
                # fmt: off
                lines.append([first_line + no, oid, no + 1, p_id[p], qty, price / 100, disc / 100, amount / 100,
                              p_floor[p] / 100, 0, 0, accepted, p])
                # fmt: on

            # workflow trail: submit, each approval level, or a rejection / cancellation
            created = randint(1800, 10 * 3600)
            created_at = updated_at = ts(d, created)
            level, approved_at = 0, None
            if status != "draft":
                trail = []
                submitted_at = ts(d, created + randint(60, 3600))
                if status == "cancelled":
                    trail.append(("cancel", 0, "draft", "cancelled", owner, submitted_at, None))
                else:
                    trail.append(("submit", 0, "draft", "submitted", owner, submitted_at, None))
                    roles = self.roles_for("sales_order", total, ("SalesManager",))
                    a_off, a_sec = d, created + 3600
                    if approved:
                        for lv, role in enumerate(roles, start=1):
                            a_off = min(last, a_off + (r() < 0.3))
                            a_sec = min(a_sec + randint(600, 4 * 3600), 15 * 3600)
                            to = "approved" if lv == len(roles) else "submitted"
                            trail.append(
                                ("approve", lv, "submitted", to, role_user.get(role, admin), ts(a_off, a_sec), None)
                            )
                        level, approved_at = len(roles), trail[-1][5]
                    elif status == "submitted":
                        level = 1
                        if len(roles) > 1 and r() < 0.5:  # the first level has approved already
                            approver = role_user.get(roles[0], admin)
                            trail.append(("approve", 1, "submitted", "submitted", approver, ts(d, a_sec), None))
                            level = 2
                    else:
                        trail.append(("reject", 1, "submitted", "rejected", manager, ts(d, a_sec), choice(REJECTIONS)))
                updated_at = trail[-1][5]
                first_record = ids("approval_record", len(trail))
                for k, (action, lv, frm, to, user, at, comment) in enumerate(trail):
                    record_rows.append((first_record + k, "sales_order", oid, lv, action, frm, to, user, at, comment))

            kind, pay_days = (term[2], term[3] if term[2] == "credit" else 0) if term else ("credit", 0)
            channel = c_ref[c] if c_ref[c] is not None and r() < 0.7 else None
            received = 0
            if c_first[c] is None:
                c_first[c] = d
            if approved:
                self.c_last_deal[c] = d
                if channel is not None:
                    self.ch_last_deal[channel] = d
                received, paid_on = self._receipts(oid, owner, d, total, kind, d + pay_days)
                # shipment: a few days after the order, from the customer's warehouse; a prepaid order once paid
                ship = d + min(20, int(expo(1 / 3.0)))
                if kind == "prepaid":
                    ship = max(ship, paid_on) if paid_on is not None else last + 1
                if ship <= last and r() >= 0.03:
                    k = c_wh[c]
                    wid = wh_ids[k]
                    doc_id, doc_no = ids("stock_out"), number("CK", ship)
                    at, ship_day, partial, sent = ts(ship, randint(3600, 10 * 3600)), day(ship), r() < 0.06, 0
                    rows["stock_out"].append(
                        (doc_id, doc_no, ship_day, "posted", at, admin, wid, sale_out, oid, at, at)
                    )
                    for line in lines:
                        qty = line[4]
                        if partial and sent:  # the first line in full, the others half or not yet
                            qty = qty // 2 if r() < 0.6 else 0
                        if qty <= 0:
                            continue
                        p = line[12]
                        key = p * n_w + k
                        if bal[key] < qty:
                            self.restock(p, k, qty - bal[key], d)
                        on_hand = bal[key] - qty
                        bal[key] = on_hand
                        avg = cost_avg[p] or p_buy[p] * 100  # leaves at the moving average (confirm_stock_out)
                        cost_qty[p] -= qty
                        sent += 1
                        line[9] = qty
                        out_line = ids("stock_out_line")
                        rows["stock_out_line"].append((out_line, doc_id, sent, line[3], qty, avg / 10000, line[0]))
                        # fmt: off
                        rows["stock_move"].append((
                            ids("stock_move"), line[3], wid, -qty, avg / 10000, -((qty * avg + 50) // 100) / 100,
                            on_hand, "sale_out", "stock_out", doc_id, doc_no, ship_day, out_line, admin, at,
                        ))
                        # fmt: on

            payment_status = "unpaid" if received == 0 else "paid" if received >= total else "partial"
            discount = term is not None and term[4] > 0
            # fmt: off
            order_rows.append((
                oid, number("XS", d), day(d), f"{c_city[c]}{choice(PROJECTS)}项目" if r() < 0.4 else None,
                total / 100, c_id[c], channel, owner, status, level,
                order_types[bisect_left(type_cw, r() * type_total)], term[0] if term else None, pay_days,
                day(d + pay_days), term[4] / 100 if discount else 0, day(d + term[5]) if discount else None, False,
                received / 100, 0, 0, 0, 0, payment_status, below, approved_at, created_at, updated_at,
            ))
            # fmt: on
            line_rows.extend([tuple(line[:12]) for line in lines])
            if (i + 1) % CHUNK_ORDERS == 0:
                self.close_restocks()
                self.flush()
                order_rows, line_rows, record_rows = (
                    rows["sales_order"],
                    rows["sales_order_line"],
                    rows["approval_record"],
                )
                done, lines_done = i + 1, self.sink.counts["sales_order_line"]
                self.log(
                    f"orders {done:>10,}/{self.n_orders:,}  lines {lines_done:>11,}  {time.perf_counter() - t0:7.1f}s"
                )
        self.close_restocks()
        self.flush()
        self.timings["orders"] = round(time.perf_counter() - t0, 2)

    def _receipts(self, oid: int, owner: int, d: int, total: int, kind: str, due: int) -> tuple[int, int | None]:
        """Receipts of an approved order by its age; returns (received cents, day it was paid in full or None)."""
        rnd, last = self.rnd, DAYS - 1
        r = rnd.random
        pays = []
        if kind == "prepaid":
            if last - d >= 2 and r() < 0.97:
                pays.append((d + rnd.randint(0, 2), total))
        else:
            horizon = due if kind == "credit" else d
            y = r()
            if last >= horizon + 15:
                plan = "paid" if y < 0.85 else "partial" if y < 0.93 else None
            elif last - d >= 10:
                plan = "paid" if y < 0.45 else "partial" if y < 0.6 else None
            else:
                plan = "paid" if y < 0.1 else "partial" if y < 0.15 else None
            if plan is not None:
                pay_off = d + int(r() * (min(last, horizon + 30) - d + 1))
                part = total * rnd.randint(30, 70) // 100
                if plan == "partial":
                    if part > 0:
                        pays.append((pay_off, part))
                elif r() < 0.25 and part > 0 and pay_off > d:  # in two instalments
                    pays.append((d + int(r() * (pay_off - d)), part))
                    pays.append((pay_off, total - part))
                else:
                    pays.append((pay_off, total))
        received = 0
        rows = self.rows["receipt"]
        for off, amount in pays:
            at = self.ts(off, rnd.randint(3600, 9 * 3600))
            method = RECEIPT_METHODS[int(r() * len(RECEIPT_METHODS))]
            rows.append((self.ids("receipt"), self.number("SK", off), self.day(off), amount / 100, oid, owner, method,
                         False, 0, at, at))  # fmt: skip
            received += amount
        return received, (pays[-1][0] if received >= total and pays else None)

    # ---- closing rows

    def finish(self) -> None:
        t0 = time.perf_counter()
        n_w = len(self.wh_ids)
        now = self.ts(DAYS - 1, self.today_limit)
        # a balance row for every (product, warehouse) that ever moved (every outgoing move follows an incoming one)
        moved = sorted(self.moved)
        first = self.ids("stock_balance", len(moved))
        self.rows["stock_balance"] = [
            (first + n, self.p_id[p], self.wh_ids[k], self.bal[p * n_w + k], now) for n, (p, k) in enumerate(moved)
        ]
        self.rows["product_cost"] = [
            (self.p_id[p], self.cost_qty[p], self.cost_avg[p] / 10000) for p in sorted({p for p, _k in moved})
        ]
        # the counters at the highest number used, so that the app numbers on after them
        self.conn.exec_driver_sql("DELETE FROM doc_sequence")
        self.rows["doc_sequence"] = [(prefix, self.day(off), value) for (prefix, off), value in self.seq.items()]
        self.flush()
        # customers: created (and assigned) shortly before their first order; last deal = last approved order
        rnd, updates = self.rnd, []
        for c in range(self.n_customers):
            first_off = self.c_first[c]
            created = first_off - rnd.randint(0, 60) if first_off is not None else rnd.randint(-365, DAYS - 1)
            at = self.ts(max(created, -BEFORE), rnd.randint(3600, 9 * 3600))
            deal = self.day(self.c_last_deal[c]) if self.c_last_deal[c] is not None else None
            updates.append({"at": at, "deal": deal, "id": self.c_id[c]})
        self.conn.execute(
            sa.text(
                "UPDATE end_customer SET created_at = :at, updated_at = :at, assigned_at = :at, last_deal_at = :deal "
                "WHERE id = :id"
            ),
            updates,
        )
        if self.ch_last_deal:
            self.conn.execute(
                sa.text("UPDATE channel_customer SET last_deal_at = :deal WHERE id = :id"),
                [{"deal": self.day(off), "id": cid} for cid, off in self.ch_last_deal.items()],
            )
        self.conn.commit()
        self.timings["finish"] = round(time.perf_counter() - t0, 2)


def _short(city: str) -> str:
    for suffix in ("市", "地区", "盟", "自治州"):
        if city.endswith(suffix) and len(city) > len(suffix) + 1:
            return city[: -len(suffix)]
    return city


def _pick(rnd: random.Random, ids: list):
    return rnd.choice(ids) if ids else None


def _phone(rnd: random.Random) -> str:
    return f"1{rnd.choice('3456789')}{rnd.randrange(10**9):09d}"


# ------------------------------------------------------------------ database settings while loading


def _loading(conn) -> dict:
    """Session settings for a bulk load; returns what to restore."""
    name = conn.dialect.name
    if name == "sqlite":
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        for pragma in (
            "foreign_keys=OFF",
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-1048576",
            "temp_store=MEMORY",
        ):
            conn.exec_driver_sql(f"PRAGMA {pragma}")
        return {"journal_mode": mode}
    if name == "postgresql":
        try:
            conn.exec_driver_sql("SET session_replication_role = replica")  # no FK triggers: the rows are consistent
        except sa.exc.DBAPIError:
            conn.rollback()  # not a superuser: foreign keys are checked (parents are written first)
        conn.exec_driver_sql("SET synchronous_commit = off")
        conn.commit()
        return {}
    conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
    conn.exec_driver_sql("SET UNIQUE_CHECKS=0")
    return {}


def _restore(conn, saved: dict) -> None:
    name = conn.dialect.name
    conn.commit()
    if name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA journal_mode={saved.get('journal_mode') or 'wal'}")
        conn.exec_driver_sql("PRAGMA synchronous=FULL")
    elif name == "postgresql":
        conn.exec_driver_sql("SET session_replication_role = DEFAULT")
        conn.exec_driver_sql("SET synchronous_commit = DEFAULT")
    else:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
        conn.exec_driver_sql("SET UNIQUE_CHECKS=1")
    conn.commit()


def _after_load(conn) -> None:
    """Sequences past the explicit ids (PostgreSQL), then fresh planner statistics."""
    name = conn.dialect.name
    if name == "postgresql":
        for table, cols in COLUMNS.items():
            if "id" in cols:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL)"
                    f" FROM {table}"
                )
        conn.commit()
        # what a production database has after autovacuum: planner statistics and the visibility map (without it a
        # COUNT(*) of one salesperson's orders visits the heap: 66 ms instead of a few at 1M orders)
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE)")
    elif name == "sqlite":
        conn.exec_driver_sql("ANALYZE")
    else:
        for table in COLUMNS:
            conn.exec_driver_sql(f"ANALYZE TABLE {table}")
    conn.commit()


# ------------------------------------------------------------------ entry points


def generate(
    url: str,
    orders: int,
    seed: int = 1,
    customers: int | None = None,
    products: int | None = None,
    salespeople: int = 50,
    *,
    reset: bool = False,
    password: str = DEFAULT_PASSWORD,
    quiet: bool = False,
) -> dict:
    """Migrate and seed the database at `url`, fill it, and return the rows written and the seconds per phase."""

    def log(message: str) -> None:
        if not quiet:
            print(message, flush=True)

    if orders < 1 or salespeople < 1:
        raise ValueError("orders and salespeople must be at least 1")
    customers = customers or default_customers(orders)
    products = products or default_products(orders)
    started = time.perf_counter()
    if reset:
        reset_database(url)
    app, world = _prepare(url, salespeople, password, random.Random(seed))
    seconds = {"prepare": round(time.perf_counter() - started, 2)}
    log(f"schema, seed data and {salespeople + 1} users: {seconds['prepare']}s")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            saved = _loading(conn)
            gen = Generator(conn, world, orders=orders, customers=customers, products=products, seed=seed, log=log)
            gen.master_data()
            gen.opening_stock()
            gen.orders()
            gen.finish()
            _restore(conn, saved)
            t0 = time.perf_counter()
            _after_load(conn)
            seconds.update(gen.timings, analyze=round(time.perf_counter() - t0, 2))
    finally:
        engine.dispose()
    t0 = time.perf_counter()
    summary = _finish_in_app(app, log)
    seconds["summary"] = round(time.perf_counter() - t0, 2)
    rows = {table: gen.sink.counts[table] for table in WRITE_ORDER if gen.sink.counts[table]}
    result = {
        "url": sa.engine.make_url(url).render_as_string(hide_password=True),
        "orders": orders,
        "customers": customers,
        "products": products,
        "salespeople": salespeople,
        "seed": seed,
        "rows": {**rows, **summary},
        "total_rows": sum(rows.values()),
        "seconds": seconds,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    log(
        f"done: {orders:,} orders, {rows.get('sales_order_line', 0):,} lines, {result['total_rows']:,} rows "
        f"in {result['total_seconds']}s"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fill a database with benchmark data (see the module docstring).")
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL, help="SQLAlchemy database URL")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, help="end customers (default min(20000, max(100, 2 × orders)))")
    parser.add_argument("--products", type=int, help="products (default min(2000, max(50, orders / 5)))")
    parser.add_argument("--salespeople", type=int, default=50)
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of the admin and every generated user")
    parser.add_argument("--reset", action="store_true", help="empty the database first (deletes every table!)")
    args = parser.parse_args(argv)
    result = generate(
        args.url,
        args.orders,
        seed=args.seed,
        customers=args.customers,
        products=args.products,
        salespeople=args.salespeople,
        reset=args.reset,
        password=args.password,
    )
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
