"""bench/generate.py at smoke-test scale: the generated history obeys the business rules, and the app keeps working
on it (numbering, approval, shipping)."""

import datetime as dt
import importlib.util
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from tests.support import ROOT
from tests.support.databases import make_config

CENT = Decimal("0.01")
ORDERS = 200


def _generator():
    path = ROOT / "bench" / "generate.py"
    spec = importlib.util.spec_from_file_location("bench_generate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    url = f"sqlite:///{root}/bench.db"
    result = _generator().generate(url, ORDERS, seed=7, quiet=True)
    from app import create_app
    from app.extensions import db

    app = create_app(make_config(url, str(root)))
    yield app, result
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def session(generated):
    from app.extensions import db

    app, _result = generated
    with app.app_context():
        yield db.session
        db.session.rollback()


def test_counts_are_as_requested(generated, session):
    from app.base_data.models import Product
    from app.crm.models import EndCustomer
    from app.sales.models import SalesOrder, SalesOrderLine

    app, result = generated
    gen = _generator()
    assert session.query(SalesOrder).count() == ORDERS == result["rows"]["sales_order"]
    assert session.query(EndCustomer).count() == gen.default_customers(ORDERS) == result["customers"]
    assert session.query(Product).count() == gen.default_products(ORDERS) == result["products"]
    lines = session.query(SalesOrderLine).count()
    assert 3.5 * ORDERS < lines < 6.5 * ORDERS
    sm = app.appbuilder.sm
    salespeople = [u for u in session.query(sm.user_model) if u.username.startswith("bench_sp")]
    assert len(salespeople) == 50
    assert all([r.name for r in u.roles] == ["Salesperson"] for u in salespeople)
    assert [r.name for r in sm.find_user(username="bench_manager").roles] == ["SalesManager"]
    assert sm.find_user(username="admin") is not None
    owners = {c.owner_id for c in session.query(EndCustomer)}
    assert owners <= {u.id for u in salespeople}
    statuses = {s for (s,) in session.query(SalesOrder.status)}
    assert "approved" in statuses and len(statuses) >= 3


def test_lines_and_totals_are_priced_like_build_lines(session):
    from app.sales.models import SalesOrder

    orders = session.query(SalesOrder).all()
    for order in orders:
        for line in order.lines:
            expected = money(Decimal(line.qty) * Decimal(line.unit_price) * (100 - Decimal(line.discount)) / 100)
            assert money(line.amount) == expected, (order.number, line.line_no)
            assert line.below_floor == (line.net_price < Decimal(line.floor_price))
        assert money(order.total_amount) == sum((money(line.amount) for line in order.lines), Decimal(0))
        assert order.price_exception == any(line.below_floor for line in order.lines)
        assert order.due_date == order.doc_date + dt.timedelta(days=order.payment_days)


def test_approval_follows_the_rules(session):
    from app.core.workflow import ApprovalRecord, approver_roles
    from app.sales.models import SalesOrder

    trail = defaultdict(list)
    for record in session.query(ApprovalRecord).filter(ApprovalRecord.doc_type == "sales_order").order_by("id"):
        trail[record.doc_id].append(record)
    for order in session.query(SalesOrder):
        records = trail[order.id]
        if order.status == "approved":
            roles = approver_roles(session, "sales_order", order.total_amount)
            assert order.approval_level == len(roles) and order.approved_at is not None
            assert [r.action for r in records] == ["submit"] + ["approve"] * len(roles)
            assert records[-1].to_status == "approved"
        else:
            assert order.approved_at is None
            assert (records[-1].to_status if records else "draft") == order.status


def test_receipts_and_payment_status_agree(session):
    from app.sales.models import Receipt, SalesOrder
    from app.sales.services import payment_status

    received = defaultdict(Decimal)
    for order_id, amount in session.query(Receipt.order_id, Receipt.amount):
        assert amount > 0
        received[order_id] += money(amount)
    paid = 0
    for order in session.query(SalesOrder):
        assert money(order.received_amount) == received[order.id]
        assert received[order.id] <= money(order.total_amount)
        assert order.payment_status == payment_status(order.total_amount, order.net_received, order.credited_amount)
        paid += order.payment_status == "paid"
        if received[order.id]:
            assert order.status == "approved"
    assert paid > ORDERS / 3


def test_stock_ledger_is_sound(session):
    from app.inventory.models import ProductCost, StockBalance, StockMove, StockOut, StockOutLine
    from app.inventory.services import check_invariants
    from app.sales.models import SalesOrder, SalesOrderLine

    assert check_invariants(session) == []
    running = defaultdict(Decimal)
    for move in session.query(StockMove).order_by(StockMove.id):
        key = (move.product_id, move.warehouse_id)
        running[key] += Decimal(move.qty)
        assert running[key] >= 0, f"negative stock after move {move.id}"
        assert Decimal(move.balance_after) == running[key]
        assert money(move.amount) == money(Decimal(move.qty) * Decimal(move.unit_cost))
    balances = {(b.product_id, b.warehouse_id): Decimal(b.qty) for b in session.query(StockBalance)}
    assert balances == {key: qty for key, qty in running.items()}
    per_product = defaultdict(Decimal)
    for (product_id, _w), qty in balances.items():
        per_product[product_id] += qty
    assert {c.product_id: Decimal(c.qty) for c in session.query(ProductCost)} == dict(per_product)
    # shipped quantities: Σ posted stock-out lines, only on approved orders, never beyond the ordered quantity
    shipped = defaultdict(Decimal)
    for line in session.query(StockOutLine).join(StockOut).filter(StockOut.status == "posted"):
        shipped[line.order_line_id] += Decimal(line.qty)
        assert line.doc.order.status == "approved"
    for line in session.query(SalesOrderLine):
        assert Decimal(line.shipped_qty) == shipped[line.id] <= Decimal(line.qty)
    for order in session.query(SalesOrder).filter(SalesOrder.status == "approved"):
        if order.payment_term is not None and order.payment_term.kind == "prepaid" and order.shipments:
            assert order.payment_status == "paid"


def test_moving_average_cost_replays(session):
    from app.inventory.models import ProductCost, StockMove

    qty, avg = defaultdict(Decimal), defaultdict(Decimal)
    for move in session.query(StockMove).order_by(StockMove.id):
        p, q, unit = move.product_id, Decimal(move.qty), Decimal(move.unit_cost).quantize(Decimal("0.0001"))
        if q > 0:
            held = qty[p]
            new = held + q
            if held <= 0:
                avg[p] = unit
            else:
                avg[p] = ((held * avg[p] + q * unit) / new).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        else:
            assert unit == avg[p], f"move {move.id} left at {unit}, average {avg[p]}"
        qty[p] += q
    for cost in session.query(ProductCost):
        assert Decimal(cost.avg_cost).quantize(Decimal("0.0001")) == avg[cost.product_id]


def test_numbers_are_unique_and_the_counters_at_their_maximum(session):
    from app.core.numbering import DocumentSequence
    from app.inventory.models import StockIn, StockOut
    from app.purchase.models import Payment, PurchaseContract
    from app.sales.models import Receipt, SalesOrder

    highest = defaultdict(int)
    for model in (SalesOrder, Receipt, StockIn, StockOut, PurchaseContract, Payment):
        prefix = model.__doc_prefix__
        numbers = [(n, d) for n, d in session.query(model.number, model.doc_date)]
        assert numbers and len({n for n, _d in numbers}) == len(numbers)
        for number, day in numbers:
            match = re.fullmatch(rf"{prefix}(\d{{8}})-(\d{{4,}})", number)
            assert match and match.group(1) == f"{day:%Y%m%d}", number
            highest[(prefix, day)] = max(highest[(prefix, day)], int(match.group(2)))
    counters = {(s.prefix, s.day): s.last_value for s in session.query(DocumentSequence)}
    assert counters == dict(highest)


def test_summary_customers_and_foreign_keys(session):
    from app.crm.models import EndCustomer
    from app.reports import summary
    from app.sales.models import SalesOrder

    assert summary.check(session) == []
    first = dict(
        session.query(SalesOrder.end_customer_id, sa.func.min(SalesOrder.doc_date)).group_by(SalesOrder.end_customer_id)
    )
    last_deal = dict(
        session.query(SalesOrder.end_customer_id, sa.func.max(SalesOrder.doc_date))
        .filter(SalesOrder.status == "approved")
        .group_by(SalesOrder.end_customer_id)
    )
    for customer in session.query(EndCustomer):
        if customer.id in first:
            assert customer.created_at.date() <= first[customer.id]
        assert customer.last_deal_at == last_deal.get(customer.id)
    assert session.connection().exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


def test_the_app_numbers_on_approves_and_ships(generated, session):
    """One more order through the services, on the busiest generated day: its number follows the generated ones;
    approving it and shipping it from stock keeps the ledger and the summary sound."""
    from app.base_data.models import PaymentTerm
    from app.core.numbering import current_value
    from app.crm.models import EndCustomer
    from app.inventory import services as stock
    from app.inventory.models import StockBalance, StockOut
    from app.reports import summary
    from app.sales import services
    from app.sales.models import SalesOrder

    app, _result = generated
    sm = app.appbuilder.sm
    day, _count = (
        session.query(SalesOrder.doc_date, sa.func.count())
        .group_by(SalesOrder.doc_date)
        .order_by(sa.func.count().desc(), SalesOrder.doc_date)
        .first()
    )
    before = current_value(session, "XS", day)
    customer = (
        session.query(EndCustomer)
        .join(PaymentTerm)
        .filter(EndCustomer.credit_limit == 0, PaymentTerm.kind == "credit")
        .order_by(EndCustomer.id)
        .first()
    )
    balance = session.query(StockBalance).filter(StockBalance.qty >= 5).order_by(StockBalance.id).first()
    on_hand = Decimal(balance.qty)
    order = SalesOrder(end_customer=customer, doc_date=day)
    services.save_order(session, order, [{"product_id": balance.product_id, "qty": "2"}], customer.owner)
    session.add(order)
    session.commit()
    assert order.number == f"XS{day:%Y%m%d}-{before + 1:04d}"
    assert session.query(SalesOrder).filter(SalesOrder.number == order.number).count() == 1

    services.submit_order(session, order, customer.owner)
    for approver in ("bench_manager", "admin"):
        if order.status == "submitted":
            services.approve_order(session, order, sm.find_user(username=approver))
    session.commit()
    assert order.status == "approved"
    shipment = StockOut(warehouse=balance.warehouse, order=order)
    stock.save_stock_out(session, shipment, [{"product_id": balance.product_id, "qty": "2"}])
    session.add(shipment)
    session.flush()
    stock.confirm(session, shipment, sm.find_user(username="admin"))
    session.commit()
    session.refresh(balance)
    assert Decimal(balance.qty) == on_hand - 2
    assert Decimal(order.lines[0].shipped_qty) == 2
    assert stock.check_invariants(session) == []
    assert summary.check(session) == []
