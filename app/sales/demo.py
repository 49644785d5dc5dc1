"""Demo sales data: commission rates, price breaks, customer prices, half a year of orders with receipts,
a quotation, commissions and expense claims — all through the services, so every figure obeys the rules."""

import datetime as dt
from decimal import Decimal

from flask import current_app

from app.base_data import models as bm
from app.core import workflow
from app.core.formatting import local_today
from app.crm import models as crm
from app.extensions import db
from app.sales import models as m, services

RATES = {"A": "8.00", "B": "6.00", "C": "5.00", "D": "4.00", "E": "3.00"}
# (customer, channel, months ago, [(model_no, qty, discount)], share received, approve?)
ORDERS = [
    ("上海市第六人民医院", "上海华信网络科技有限公司", 5, [("S5735-L48T4X", 12, 5), ("AP7060DN", 60, 8)], 1, True),
    ("浙江大学紫金港校区", "杭州云启信息技术有限公司", 4, [("AP7060DN", 120, 10), ("SVC-INST", 120, 0)], 1, True),
    ("广州白云国际机场", "广州联拓信息技术有限公司", 3, [("DS-2CD3T46", 200, 6), ("DS-7932N", 8, 0)], 0.6, True),
    ("苏州工业园区管委会", None, 2, [("AR6280", 2, 0), ("S5735-L24T4X", 10, 3)], 0.3, True),
    ("东莞松山湖实验学校", "深圳鹏程视讯科技有限公司", 1, [("CB-X50", 12, 5), ("M7400PRO", 6, 0)], 0, True),
    ("上海市第六人民医院", "上海华信网络科技有限公司", 0, [("SVC-MA1Y", 1, 0), ("AP8050DN", 10, 18)], 0, False),
]


def load_demo() -> dict:
    session = db.session
    sm = current_app.appbuilder.sm
    manager = sm.find_user(username="wangfang")
    if manager is None:
        return {"sales": "skipped: demo users missing"}
    added = {"rates": 0, "orders": 0, "receipts": 0, "commissions": 0, "expenses": 0}
    levels = {lv.name: lv for lv in session.query(bm.ChannelLevel)}
    for name, rate in RATES.items():
        level = levels.get(name)
        if level is not None and not session.query(m.CommissionRate).filter_by(level_id=level.id).first():
            session.add(m.CommissionRate(level_id=level.id, rate=Decimal(rate)))
            added["rates"] += 1
    session.flush()
    added["promotions"] = _promotions_and_rebates(session)
    if session.query(m.SalesOrder).first() or not session.query(crm.EndCustomer).first():
        session.commit()
        return added
    products = {p.model_no: p for p in session.query(bm.Product)}
    ends = {c.name: c for c in session.query(crm.EndCustomer)}
    channels = {c.name: c for c in session.query(crm.ChannelCustomer)}
    switch = products.get("AP7060DN")
    if switch is not None and not session.query(m.PriceBreak).filter_by(product_id=switch.id).first():
        for qty, price in (("50", "1580.00"), ("200", "1520.00")):
            session.add(m.PriceBreak(product=switch, min_qty=Decimal(qty), unit_price=Decimal(price)))
    hospital = ends.get("上海市第六人民医院")
    if hospital is not None and products.get("S5735-L48T4X") is not None and not session.query(m.CustomerPrice).first():
        session.add(
            m.CustomerPrice(
                end_customer=hospital,
                product=products["S5735-L48T4X"],
                price=Decimal("5400.00"),
                owner_id=hospital.owner_id,
            )
        )
    today = local_today()
    for customer_name, channel_name, months_ago, lines, share, approve in ORDERS:
        customer = ends.get(customer_name)
        if customer is None or customer.owner is None or any(no not in products for no, _q, _d in lines):
            continue
        day = (today.replace(day=1) - dt.timedelta(days=30 * months_ago)).replace(day=10)
        order = m.SalesOrder(
            end_customer=customer,
            end_customer_id=customer.id,
            channel=channels.get(channel_name) if channel_name else None,
            doc_date=day,
            project_name=f"{customer_name}弱电项目",
            payment_days=30,
            owner_id=customer.owner_id,
        )
        rows = [{"product_id": products[no].id, "qty": str(qty), "discount": str(d)} for no, qty, d in lines]
        services.save_order(session, order, rows, None)
        session.add(order)
        session.flush()
        added["orders"] += 1
        services.submit_order(session, order, customer.owner)
        if not approve:
            continue
        admin = sm.find_user(username="admin")
        services.approve_order(session, order, manager, "同意")
        if order.status != "approved" and admin is not None:  # ≥ ¥100,000: a second level
            services.approve_order(session, order, admin, "同意")
        if order.status != "approved":
            continue
        if share:
            receipt = m.Receipt(
                order=order,
                doc_date=day + dt.timedelta(days=20),
                amount=services.money(order.total_amount * Decimal(str(share))),
                method="bank",
                note="银行回单",
            )
            services.post_receipt(session, receipt)
            session.add(receipt)
            session.flush()
            session.refresh(order)
            added["receipts"] += 1
            if order.channel is not None and order.channel.level_id is not None:
                commission = services.apply_commission(session, order, customer.owner, "季度佣金")
                services.approve_commission(session, commission, manager, "同意")
                added["commissions"] += 1
    if session.query(m.Expense).first():
        session.commit()
        return added
    expense_types = {t.name: t for t in session.query(bm.ExpenseType)}
    for username, type_name, amount, note in (
        ("zhangwei", "差旅费", "1860.00", "上海—杭州 客户拜访"),
        ("zhangwei", "招待费", "980.00", "浙大项目技术交流"),
        ("lina", "差旅费", "2430.00", "广州机场现场勘查"),
    ):
        user = sm.find_user(username=username)
        etype = expense_types.get(type_name) or next(iter(expense_types.values()), None)
        if user is None or etype is None:
            continue
        expense = m.Expense(
            doc_date=today - dt.timedelta(days=12),
            expense_type=etype,
            amount=Decimal(amount),
            owner_id=user.id,
            note=note,
        )
        services.validate_expense(expense)
        session.add(expense)
        session.flush()
        services.submit_expense(session, expense, user)
        workflow.approve(session, expense, manager, "同意")
        added["expenses"] += 1
    session.commit()
    return added


def _promotions_and_rebates(session) -> int:
    """A promotion running this month on one product, and a channel's annual rebate agreement."""
    from app.promotions.models import Promotion
    from app.promotions.services import validate_promotion

    if session.query(Promotion).first():
        return 0
    product = session.query(bm.Product).filter_by(model_no="AP7060DN").one_or_none()
    channel = session.query(crm.ChannelCustomer).filter_by(name="杭州云启信息技术有限公司").one_or_none()
    if product is None:
        return 0
    today = local_today()
    promo = Promotion(
        name="无线AP年终促销",
        start_date=today.replace(day=1),
        end_date=today.replace(day=1) + dt.timedelta(days=45),
        rule="percent",
        percent=Decimal("8"),
        products=[product],
        enabled=True,
        note="年终冲量，销售价直降 8%",
    )
    validate_promotion(session, promo)
    session.add(promo)
    if channel is not None and channel.owner is not None:
        agreement = m.RebateAgreement(
            name="云启年度返利", channel=channel, rate=Decimal("2"), threshold=Decimal("100000"), enabled=True
        )
        services.validate_rebate_agreement(agreement)
        session.add(agreement)
    session.flush()
    return 1
