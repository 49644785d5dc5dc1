"""Purchasing and inventory through the REST API: contracts, payments, stock in/out/take/transfer with their
limits, concurrent stock-outs of the last units, a random walk that keeps balance = Σ moves and shipped = Σ out −
returns, and a failure in the middle of posting that leaves nothing behind."""

import random
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func

from app.base_data.models import Product, Warehouse
from app.crm.models import ChannelCustomer, EndCustomer
from app.inventory import services as stock
from app.inventory.models import ProductCost, StockBalance, StockIn, StockMove, StockOut
from app.purchase.models import PurchaseContract, Supplier
from app.sales.models import Commission, CommissionRate, SalesOrder, SalesOrderLine
from tests.support.sales import act, approved_order, stock_in
from tests.support.users import user_id

D = Decimal

pytestmark = pytest.mark.every_database(
    "stock balances, moving-average costs and payments are NUMERIC columns updated by guarded UPDATEs and summed in "
    "SQL; concurrent confirms rely on each database's row locking"
)


@pytest.fixture
def inv(app, db, uid):
    """Two fresh warehouses, two products, a supplier, and an end customer of sales1."""
    w1, w2 = Warehouse(name=uid("仓")), Warehouse(name=uid("仓"))
    p1 = Product(model_no=uid("K"), name="交换机", sale_price=D("100.00"), purchase_price=D("60.00"))
    p2 = Product(model_no=uid("K"), name="网线", sale_price=D("10.00"), purchase_price=D("4.00"))
    supplier = Supplier(name=uid("供货商"))
    customer = EndCustomer(name=uid("业主"), owner_id=user_id(app, "sales1"))
    db.session.add_all([w1, w2, p1, p2, supplier, customer])
    db.session.commit()
    return {"w1": w1.id, "w2": w2.id, "p1": p1.id, "p2": p2.id, "supplier": supplier.id, "customer": customer.id}


def qty(db, product_id, warehouse_id) -> Decimal:
    db.session.rollback()
    return stock.on_hand(db.session, product_id, warehouse_id)


def assert_invariants(db):
    db.session.rollback()
    assert stock.check_invariants(db.session) == []
    # the cost ledger holds what the warehouses hold
    held = dict(
        db.session.query(StockBalance.product_id, func.sum(StockBalance.qty)).group_by(StockBalance.product_id).all()
    )
    for cost in db.session.query(ProductCost):
        assert D(str(cost.qty)).quantize(D("0.001")) == D(str(held.get(cost.product_id, 0))).quantize(D("0.001"))
    # shipped on each order line = Σ posted stock-out lines − returns
    for line in db.session.query(SalesOrderLine).filter(SalesOrderLine.shipped_qty != 0):
        out = (
            db.session.query(func.coalesce(func.sum(StockMove.qty), 0))
            .filter(StockMove.kind == "sale_out", StockMove.line_id.isnot(None))
            .join(StockOut, StockOut.id == StockMove.doc_id)
            .filter(StockMove.doc_type == "stock_out", StockOut.order_id == line.order_id)
            .filter(StockMove.product_id == line.product_id)
            .scalar()
        )
        back = (
            db.session.query(func.coalesce(func.sum(StockMove.qty), 0))
            .join(StockIn, StockIn.id == StockMove.doc_id)
            .filter(StockMove.doc_type == "stock_in", StockMove.kind == "return_in", StockIn.order_id == line.order_id)
            .filter(StockMove.product_id == line.product_id)
            .scalar()
        )
        assert D(str(line.shipped_qty)) == (-D(str(out)) - D(str(back))).quantize(D("0.001"))


# ------------------------------------------------------------------ purchasing


def test_contract_approval_payments_and_goods_received(client, db, api_token, inv):
    purchaser, admin, finance, keeper = (api_token(u) for u in ("purchaser", "admin", "finance", "keeper"))
    body = {
        "supplier": inv["supplier"],
        "doc_date": "2026-11-01",
        "delivery_date": "2026-11-15",
        "lines": [
            {"product_id": inv["p1"], "qty": "10", "unit_price": "55.50"},
            {"product_id": inv["p2"], "qty": "100"},
        ],
    }
    resp = client.post("/api/v1/purchase_contract/", json=body, headers=purchaser)
    assert resp.status_code == 201, resp.json
    cid = resp.json["id"]
    contract = db.session.get(PurchaseContract, cid)
    assert contract.total_amount == D("955.00") and contract.number.startswith("CG")  # 555 + 100 × 4.00
    # a payment before approval is refused
    pay = {"contract": cid, "amount": "100.00", "method": "bank", "doc_date": "2026-11-02"}
    assert client.post("/api/v1/payment/", json=pay, headers=finance).status_code == 409
    assert act(client, purchaser, "purchase_contract", cid, "submit").status_code == 200
    assert act(client, purchaser, "purchase_contract", cid, "approve").status_code == 403
    assert act(client, admin, "purchase_contract", cid, "reject").status_code == 400
    assert act(client, admin, "purchase_contract", cid, "reject", comment="单价偏高").status_code == 200
    db.session.rollback()
    assert db.session.get(PurchaseContract, cid).rejection_reason == "单价偏高"
    assert act(client, purchaser, "purchase_contract", cid, "reopen").status_code == 200
    assert act(client, purchaser, "purchase_contract", cid, "submit").status_code == 200
    assert act(client, admin, "purchase_contract", cid, "approve").status_code == 200
    # payments: several, never above the contract
    assert client.post("/api/v1/payment/", json=pay, headers=finance).status_code == 201
    over = {**pay, "amount": "855.01"}
    resp = client.post("/api/v1/payment/", json=over, headers=finance)
    assert resp.status_code == 409 and "¥855.00" in resp.json["message"]
    resp = client.post("/api/v1/payment/", json={**pay, "amount": "855.00"}, headers=purchaser)
    assert resp.status_code == 201
    db.session.rollback()
    contract = db.session.get(PurchaseContract, cid)
    assert contract.paid_amount == D("955.00") and contract.unpaid_amount == 0
    payment_id = resp.json["id"]
    assert act(client, purchaser, "payment", payment_id, "audit").status_code == 403
    assert act(client, finance, "payment", payment_id, "audit").status_code == 200
    assert act(client, finance, "payment", payment_id, "audit").status_code == 409
    assert client.delete(f"/api/v1/payment/{payment_id}", headers=finance).status_code == 409
    # goods come in against the contract, never more than ordered
    too_many = {"warehouse": inv["w1"], "contract": cid, "lines": [{"product_id": inv["p1"], "qty": "11"}]}
    resp = client.post("/api/v1/stock_in/", json=too_many, headers=purchaser)
    assert resp.status_code == 201, resp.json
    rid = resp.json["id"]
    resp = act(client, keeper, "stock_in", rid, "confirm")
    assert resp.status_code == 409 and "10" in resp.json["message"]
    assert qty(db, inv["p1"], inv["w1"]) == 0
    first = stock_in(client, keeper, inv, [{"product_id": inv["p1"], "qty": "4"}], contract=cid)
    db.session.rollback()
    doc = db.session.get(StockIn, first)
    assert doc.lines[0].unit_cost == D("55.50")  # the contract's price
    assert db.session.get(PurchaseContract, cid).receipt_status == "partial"
    stock_in(
        client,
        keeper,
        inv,
        [{"product_id": inv["p1"], "qty": "6"}, {"product_id": inv["p2"], "qty": "100"}],
        contract=cid,
    )
    db.session.rollback()
    assert db.session.get(PurchaseContract, cid).receipt_status == "done"
    assert qty(db, inv["p1"], inv["w1"]) == D("10")
    # a product that is not on the contract is refused
    stray = {"warehouse": inv["w1"], "contract": cid, "lines": [{"product_id": inv["p2"], "qty": "1"}]}
    assert client.post("/api/v1/stock_in/", json=stray, headers=keeper).status_code == 201  # p2 is on it …
    other = Product(model_no=f"X{cid}-{inv['p1']}", name="不在合同上")
    db.session.add(other)
    db.session.commit()
    stray_other = {"warehouse": inv["w1"], "contract": cid, "lines": [{"product_id": other.id, "qty": "1"}]}
    assert client.post("/api/v1/stock_in/", json=stray_other, headers=keeper).status_code == 400
    assert_invariants(db)


# ------------------------------------------------------------------ stock documents


def test_moving_average_cost_and_profit_cost_on_outgoing_moves(client, db, api_token, inv):
    keeper = api_token("keeper")
    stock_in(client, keeper, inv, [{"product_id": inv["p1"], "qty": "10", "unit_cost": "50.00"}])
    stock_in(client, keeper, inv, [{"product_id": inv["p1"], "qty": "30", "unit_cost": "70.00"}], warehouse="w2")
    db.session.rollback()
    cost = db.session.get(ProductCost, inv["p1"])
    assert D(str(cost.avg_cost)) == D("65.0000") and D(str(cost.qty)) == D("40")  # (500 + 2100) / 40
    body = {"warehouse": inv["w1"], "lines": [{"product_id": inv["p1"], "qty": "4"}]}
    oid = client.post("/api/v1/stock_out/", json=body, headers=keeper).json["id"]
    assert act(client, keeper, "stock_out", oid, "confirm").status_code == 200
    db.session.rollback()
    move = db.session.query(StockMove).filter_by(doc_type="stock_out", doc_id=oid).one()
    assert move.qty == D("-4") and D(str(move.unit_cost)) == D("65") and move.amount == D("-260.00")
    assert move.balance_after == D("6")
    assert D(str(db.session.get(ProductCost, inv["p1"]).avg_cost)) == D("65.0000")  # outgoing keeps the average
    assert_invariants(db)


def test_drafts_change_nothing_and_posted_documents_are_final(client, db, api_token, inv):
    keeper, purchaser = api_token("keeper"), api_token("purchaser")
    rid = stock_in(client, purchaser, inv, [{"product_id": inv["p2"], "qty": "5"}], confirm=False)
    assert qty(db, inv["p2"], inv["w1"]) == 0  # a draft changes nothing
    assert act(client, purchaser, "stock_in", rid, "confirm").status_code == 403  # the keeper confirms
    assert act(client, keeper, "stock_in", rid, "confirm").status_code == 200
    assert act(client, keeper, "stock_in", rid, "confirm").status_code == 409  # twice
    assert qty(db, inv["p2"], inv["w1"]) == D("5")
    resp = client.put(f"/api/v1/stock_in/{rid}", json={"note": "改"}, headers=keeper)
    assert resp.status_code == 409
    assert client.delete(f"/api/v1/stock_in/{rid}", headers=keeper).status_code == 409
    # only the invoice number changes on a posted document
    assert act(client, keeper, "stock_in", rid, "invoice_no", invoice_no="FP-2026-0001").status_code == 200
    db.session.rollback()
    assert db.session.get(StockIn, rid).invoice_no == "FP-2026-0001"
    assert qty(db, inv["p2"], inv["w1"]) == D("5")
    # a draft without lines cannot exist; bad quantities are refused
    for lines in ([], [{"product_id": inv["p2"], "qty": "-1"}], [{"product_id": inv["p2"], "qty": "0"}]):
        body = {"warehouse": inv["w1"], "lines": lines}
        assert client.post("/api/v1/stock_in/", json=body, headers=keeper).status_code == 400


def test_stock_out_limits_transfer_and_take(client, db, api_token, inv):
    keeper = api_token("keeper")
    stock_in(client, keeper, inv, [{"product_id": inv["p1"], "qty": "5", "unit_cost": "60"}])
    # beyond the balance: refused with the figures, nothing posted
    body = {"warehouse": inv["w1"], "lines": [{"product_id": inv["p1"], "qty": "5.001"}]}
    oid = client.post("/api/v1/stock_out/", json=body, headers=keeper).json["id"]
    resp = act(client, keeper, "stock_out", oid, "confirm")
    assert resp.status_code == 409 and "5" in resp.json["message"]
    db.session.rollback()
    assert db.session.get(StockOut, oid).status == "draft"
    assert qty(db, inv["p1"], inv["w1"]) == D("5")
    # a transfer needs two warehouses; it moves both sides at once
    same = {"from_warehouse": inv["w1"], "to_warehouse": inv["w1"], "lines": [{"product_id": inv["p1"], "qty": "1"}]}
    assert client.post("/api/v1/stock_transfer/", json=same, headers=keeper).status_code == 400
    move = {"from_warehouse": inv["w1"], "to_warehouse": inv["w2"], "lines": [{"product_id": inv["p1"], "qty": "2"}]}
    tid = client.post("/api/v1/stock_transfer/", json=move, headers=keeper).json["id"]
    assert act(client, keeper, "stock_transfer", tid, "confirm").status_code == 200
    assert (qty(db, inv["p1"], inv["w1"]), qty(db, inv["p1"], inv["w2"])) == (D("3"), D("2"))
    big = {**move, "lines": [{"product_id": inv["p1"], "qty": "4"}]}
    tid = client.post("/api/v1/stock_transfer/", json=big, headers=keeper).json["id"]
    assert act(client, keeper, "stock_transfer", tid, "confirm").status_code == 409
    assert (qty(db, inv["p1"], inv["w1"]), qty(db, inv["p1"], inv["w2"])) == (D("3"), D("2"))
    # stock take: book quantity snapshot, counted, differences posted as gain / loss
    take = {
        "warehouse": inv["w1"],
        "lines": [{"product_id": inv["p1"], "qty": "1"}, {"product_id": inv["p2"], "qty": "7"}],
    }
    resp = client.post("/api/v1/stock_take/", json=take, headers=keeper)
    assert resp.status_code == 201, resp.json
    pid = resp.json["id"]
    shown = client.get(f"/api/v1/stock_take/{pid}", headers=keeper).json["result"]
    assert sorted(D(str(line["book_qty"])) for line in shown["lines"]) == [D("0"), D("3")]
    assert act(client, keeper, "stock_take", pid, "confirm").status_code == 200
    assert (qty(db, inv["p1"], inv["w1"]), qty(db, inv["p2"], inv["w1"])) == (D("1"), D("7"))
    kinds = sorted(m.kind for m in db.session.query(StockMove).filter_by(doc_type="stock_take", doc_id=pid))
    assert kinds == ["take_gain", "take_loss"]
    assert_invariants(db)


def test_shipping_an_order_reservation_returns_and_clawback(app, client, db, api_token, inv, uid):
    keeper, sales1, finance = api_token("keeper"), api_token("sales1"), api_token("finance")
    stock_in(client, keeper, inv, [{"product_id": inv["p1"], "qty": "8", "unit_cost": "60"}])
    # a channel with a 10% rate so the return claws commission back
    from app.base_data.models import ChannelLevel

    level = db.session.query(ChannelLevel).filter_by(name="C").one()
    rate = db.session.query(CommissionRate).filter_by(level_id=level.id).one_or_none()
    if rate is None:
        db.session.add(CommissionRate(level_id=level.id, rate=D("10")))
    else:
        rate.rate = D("10")
    channel = ChannelCustomer(name=uid("渠道"), owner_id=user_id(app, "sales1"), level_id=level.id)
    db.session.add(channel)
    db.session.commit()
    body = {
        "end_customer": inv["customer"],
        "channel": channel.id,
        "doc_date": "2026-11-20",
        "lines": [{"product_id": inv["p1"], "qty": "10", "unit_price": "100"}],
    }
    order_id = client.post("/api/v1/sales_order/", json=body, headers=sales1).json["id"]
    # a draft order cannot ship
    ship = {"warehouse": inv["w1"], "order": order_id, "lines": [{"product_id": inv["p1"], "qty": "1"}]}
    assert client.post("/api/v1/stock_out/", json=ship, headers=keeper).status_code == 409
    assert act(client, sales1, "sales_order", order_id, "submit").status_code == 200
    assert act(client, api_token("manager"), "sales_order", order_id, "approve").status_code == 200
    db.session.rollback()
    order = db.session.get(SalesOrder, order_id)
    # approved: 10 reserved, 8 on hand → short
    assert stock.reserved_by_product(db.session, [inv["p1"]])[inv["p1"]] == D("10")
    assert [ln.product_id for ln in stock.short_lines(db.session, order)] == [inv["p1"]]
    # ship 8 (all there is), then the order's remaining 2 cannot ship beyond stock, and never beyond the order
    sid = client.post(
        "/api/v1/stock_out/", json={**ship, "lines": [{"product_id": inv["p1"], "qty": "8"}]}, headers=keeper
    ).json["id"]
    assert act(client, keeper, "stock_out", sid, "confirm").status_code == 200
    db.session.rollback()
    order = db.session.get(SalesOrder, order_id)
    assert order.lines[0].shipped_qty == D("8") and str(order.status_label) == "部分发货"
    stock_in(client, keeper, inv, [{"product_id": inv["p1"], "qty": "20", "unit_cost": "60"}])
    over = client.post(
        "/api/v1/stock_out/", json={**ship, "lines": [{"product_id": inv["p1"], "qty": "3"}]}, headers=keeper
    ).json["id"]
    resp = act(client, keeper, "stock_out", over, "confirm")
    assert resp.status_code == 409 and "2" in resp.json["message"]
    # money in, commission claimed, then 3 come back: a clawback on the returned value
    receipt = {"order": order_id, "amount": "1000.00", "method": "bank", "doc_date": "2026-11-21"}
    assert client.post("/api/v1/receipt/", json=receipt, headers=finance).status_code == 201
    assert act(client, sales1, "sales_order", order_id, "commission").status_code == 201
    back = {"warehouse": inv["w2"], "order": order_id, "lines": [{"product_id": inv["p1"], "qty": "9"}]}
    rid = client.post("/api/v1/stock_in/", json=back, headers=keeper).json["id"]
    assert act(client, keeper, "stock_in", rid, "confirm").status_code == 409  # more than shipped
    back["lines"] = [{"product_id": inv["p1"], "qty": "3"}]
    stock_in(client, keeper, inv, back["lines"], warehouse="w2", order=order_id)
    db.session.rollback()
    line = db.session.get(SalesOrder, order_id).lines[0]
    assert (line.shipped_qty, line.returned_qty) == (D("5"), D("3"))
    claw = db.session.query(Commission).filter_by(order_id=order_id, kind="clawback").one()
    assert claw.amount == D("-30.00")  # 3 × 100 × 10%
    assert_invariants(db)


def test_two_clerks_ship_the_last_units_at_once(app, client, db, api_token, inv):
    keeper = api_token("keeper")
    stock_in(client, keeper, inv, [{"product_id": inv["p2"], "qty": "3", "unit_cost": "4"}])
    ids = []
    for _ in range(4):
        body = {"warehouse": inv["w1"], "lines": [{"product_id": inv["p2"], "qty": "3"}]}
        ids.append(client.post("/api/v1/stock_out/", json=body, headers=keeper).json["id"])
    barrier = threading.Barrier(len(ids))
    results = []

    def work(doc_id):
        c = app.test_client()
        barrier.wait()
        results.append(c.post(f"/api/v1/stock_out/{doc_id}/confirm", json={}, headers=keeper))

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409], [r.json for r in results]
    assert all("库存不足" in r.json["message"] for r in results if r.status_code == 409), [r.json for r in results]
    assert qty(db, inv["p2"], inv["w1"]) == 0
    assert db.session.query(StockOut).filter(StockOut.id.in_(ids), StockOut.status == "posted").count() == 1
    assert_invariants(db)


def test_a_failure_while_posting_leaves_no_partial_moves(app, client, db, api_token, inv, monkeypatch):
    keeper = api_token("keeper")
    stock_in(client, keeper, inv, [{"product_id": inv["p1"], "qty": "5", "unit_cost": "60"}])
    body = {
        "from_warehouse": inv["w1"],
        "to_warehouse": inv["w2"],
        "lines": [{"product_id": inv["p1"], "qty": "2"}, {"product_id": inv["p2"], "qty": "1"}],
    }
    tid = client.post("/api/v1/stock_transfer/", json=body, headers=keeper).json["id"]
    before = db.session.query(StockMove).count()
    real_move = stock._move
    calls = {"n": 0}

    def failing_move(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # after the first line's two moves
            raise RuntimeError("disk full")
        return real_move(*args, **kwargs)

    monkeypatch.setattr(stock, "_move", failing_move)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        resp = act(client, keeper, "stock_transfer", tid, "confirm")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = True
    assert resp.status_code == 500
    monkeypatch.setattr(stock, "_move", real_move)
    db.session.rollback()
    assert db.session.query(StockMove).count() == before
    assert (qty(db, inv["p1"], inv["w1"]), qty(db, inv["p1"], inv["w2"])) == (D("5"), D("0"))
    from app.inventory.models import StockTransfer

    assert db.session.get(StockTransfer, tid).status == "draft"
    assert_invariants(db)


def test_random_walk_keeps_the_ledger_sound(app, client, db, api_token, inv):
    """A few hundred random operations (ins, outs, transfers, takes, order shipments and returns)."""
    keeper = api_token("keeper")
    rng = random.Random(20261126)
    products, warehouses = [inv["p1"], inv["p2"]], ["w1", "w2"]
    order_id = approved_order(
        client,
        api_token,
        inv,
        [
            {"product_id": inv["p1"], "qty": "500", "unit_price": "100"},
            {"product_id": inv["p2"], "qty": "500", "unit_price": "10"},
        ],
    )
    outcomes = {"ok": 0, "refused": 0}
    for step in range(240):
        op = rng.choice(["in", "in", "out", "out", "ship", "return", "transfer", "take"])
        p, w = rng.choice(products), rng.choice(warehouses)
        q = str(rng.randint(1, 12))
        if op == "in":
            body = {"warehouse": inv[w], "lines": [{"product_id": p, "qty": q, "unit_cost": str(rng.randint(1, 90))}]}
            resource = "stock_in"
        elif op in ("out", "ship"):
            body = {"warehouse": inv[w], "lines": [{"product_id": p, "qty": q}]}
            if op == "ship":
                body["order"] = order_id
            resource = "stock_out"
        elif op == "return":
            body = {"warehouse": inv[w], "order": order_id, "lines": [{"product_id": p, "qty": q}]}
            resource = "stock_in"
        elif op == "transfer":
            other = "w2" if w == "w1" else "w1"
            body = {"from_warehouse": inv[w], "to_warehouse": inv[other], "lines": [{"product_id": p, "qty": q}]}
            resource = "stock_transfer"
        else:
            body = {"warehouse": inv[w], "lines": [{"product_id": p, "qty": str(rng.randint(0, 20))}]}
            resource = "stock_take"
        resp = client.post(f"/api/v1/{resource}/", json=body, headers=keeper)
        assert resp.status_code == 201, (step, op, resp.json)  # every draft is well-formed; refusals come on confirm
        resp = act(client, keeper, resource, resp.json["id"], "confirm")
        # 200: posted; 409: an out, ship or transfer beyond the warehouse's balance (库存不足), or a return beyond
        # what the order shipped (退货数量超过已发货数量); ins and takes always post
        assert resp.status_code in (200, 409), (step, op, resp.json)
        outcomes["ok" if resp.status_code == 200 else "refused"] += 1
        if step % 60 == 59:
            assert_invariants(db)
    assert outcomes["ok"] > 100 and outcomes["refused"] > 5, outcomes
    assert_invariants(db)
    db.session.rollback()
    assert db.session.query(StockBalance).filter(StockBalance.qty < 0).count() == 0


def test_stock_pages_api_and_scope(client, db, api_token, inv):
    keeper = api_token("keeper")
    stock_in(client, keeper, inv, [{"product_id": inv["p1"], "qty": "2", "unit_cost": "60"}])
    rows = client.get("/api/v1/stock/?q=(order_column:id,order_direction:desc,page_size:20)", headers=keeper)
    rows = rows.json["result"]
    mine = [r for r in rows if r["product"]["id"] == inv["p1"]]
    assert mine and D(str(mine[0]["qty"])) == D("2")
    moves = client.get("/api/v1/stock_move/?q=(order_column:id,order_direction:desc,page_size:20)", headers=keeper)
    moves = moves.json["result"]
    assert any(r["product"]["id"] == inv["p1"] and D(str(r["qty"])) == D("2") for r in moves)
    # read-only ledger, and a salesperson does not post stock
    assert client.post("/api/v1/stock_move/", json={}, headers=keeper).status_code == 403  # only can_read exists
    sales1 = api_token("sales1")
    assert (
        client.post("/api/v1/stock_in/", json={"warehouse": inv["w1"], "lines": []}, headers=sales1).status_code == 403
    )
    assert client.get("/api/v1/stock_move/", headers=sales1).status_code == 403


def test_supplier_validation(client, db, api_token, uid):
    purchaser = api_token("purchaser")
    name = uid("供货商")
    assert client.post("/api/v1/supplier/", json={"name": name}, headers=purchaser).status_code == 201
    assert client.post("/api/v1/supplier/", json={"name": name}, headers=purchaser).status_code == 409
    assert client.post("/api/v1/supplier/", json={"name": "  "}, headers=purchaser).status_code == 400
    sid = db.session.query(Supplier.id).filter_by(name=name).scalar()
    resp = client.post(
        "/api/v1/supplier_contact/",
        json={"supplier": sid, "name": "王经理", "mobile": "13800000000"},
        headers=purchaser,
    )
    assert resp.status_code == 201


def test_negative_stock_only_when_the_setting_allows_it(app, client, db, api_token, inv):
    keeper = api_token("keeper")
    body = {"warehouse": inv["w2"], "lines": [{"product_id": inv["p2"], "qty": "2"}]}
    refused = client.post("/api/v1/stock_out/", json=body, headers=keeper).json["id"]
    assert act(client, keeper, "stock_out", refused, "confirm").status_code == 409
    app.config["STOCK_ALLOW_NEGATIVE"] = True
    try:
        assert act(client, keeper, "stock_out", refused, "confirm").status_code == 200
    finally:
        app.config["STOCK_ALLOW_NEGATIVE"] = False
    assert qty(db, inv["p2"], inv["w2"]) == D("-2")
    assert_invariants(db)
    # back to zero so the other tests' "never negative" check holds for this database
    stock_in(client, keeper, inv, [{"product_id": inv["p2"], "qty": "2", "unit_cost": "4"}], warehouse="w2")
    assert qty(db, inv["p2"], inv["w2"]) == 0
