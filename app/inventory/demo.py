"""Demo purchasing and stock: suppliers, an approved purchase contract received into the main warehouse, a payment,
and shipments of the demo sales orders — all through the services, so the ledger is sound."""

import datetime as dt
from decimal import Decimal

from flask import current_app

from app.base_data import models as bm
from app.core import workflow
from app.core.formatting import local_today
from app.extensions import db
from app.inventory import models as m, services
from app.purchase import models as pm, services as purchase
from app.sales.models import SalesOrder

SUPPLIERS = [
    (
        "华为技术有限公司（华东代理）",
        "周海",
        "021-68881234",
        [("S5735-L24T4X", 40), ("S5735-L48T4X", 30), ("AR6120", 10)],
    ),
    ("杭州海康威视数字技术股份有限公司", "陈雪", "0571-88075998", [("DS-2CD3T46", 300), ("DS-7932N", 12)]),
    ("深圳市无线通讯设备有限公司", "刘强", "0755-26001234", [("AP7060DN", 220), ("AP8050DN", 30)]),
]


def load_demo() -> dict:
    session = db.session
    sm = current_app.appbuilder.sm
    admin, keeper = sm.find_user(username="admin"), sm.find_user(username="chenjing")
    purchaser = sm.find_user(username="liuyang")
    added = {"suppliers": 0, "contracts": 0, "stock_ins": 0, "shipments": 0}
    if admin is None or session.query(pm.Supplier).first():
        return added
    warehouse = session.query(bm.Warehouse).filter_by(name="主仓库").first() or session.query(bm.Warehouse).first()
    products = {p.model_no: p for p in session.query(bm.Product)}
    today = local_today()
    for name, contact, phone, lines in SUPPLIERS:
        supplier = pm.Supplier(name=name, contact_name=contact, phone=phone)
        session.add(supplier)
        session.add(
            pm.SupplierContact(supplier=supplier, name=contact, title="销售经理", mobile=phone, is_primary=True)
        )
        added["suppliers"] += 1
        rows = [{"product_id": products[no].id, "qty": str(q)} for no, q in lines if no in products]
        if not rows or warehouse is None:
            continue
        contract = pm.PurchaseContract(
            supplier=supplier, doc_date=today - dt.timedelta(days=150), delivery_date=today - dt.timedelta(days=140)
        )
        purchase.save_contract(session, contract, rows, purchaser or admin)
        session.add(contract)
        session.flush()
        purchase.submit_contract(session, contract, purchaser or admin)
        purchase.approve_contract(session, contract, admin, "同意")
        added["contracts"] += 1
        payment = pm.Payment(
            contract=contract,
            doc_date=today - dt.timedelta(days=145),
            amount=(contract.total_amount * Decimal("0.5")).quantize(Decimal("0.01")),
            method="bank",
            note="预付 50%",
        )
        purchase.post_payment(session, payment)
        session.add(payment)
        doc = m.StockIn(warehouse=warehouse, contract=contract, doc_date=today - dt.timedelta(days=140))
        services.save_stock_in(session, doc, rows)
        session.add(doc)
        session.flush()
        services.confirm(session, doc, keeper or admin)
        added["stock_ins"] += 1
    for order in session.query(SalesOrder).filter(SalesOrder.status == workflow.APPROVED).order_by(SalesOrder.id):
        rows = [
            {"product_id": line.product_id, "qty": str(line.remaining_qty)}
            for line in order.lines
            if line.remaining_qty > 0 and services.on_hand(session, line.product_id, warehouse.id) >= line.remaining_qty
        ]
        if not rows:
            continue
        doc = m.StockOut(warehouse=warehouse, order=order, doc_date=order.doc_date + dt.timedelta(days=5))
        services.save_stock_out(session, doc, rows)
        session.add(doc)
        session.flush()
        services.confirm(session, doc, keeper or admin)
        added["shipments"] += 1
    session.commit()
    return added
