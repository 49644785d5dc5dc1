"""Demo after-sales data: a few service requests of the demo customers at each stage, through the services."""

import datetime as dt

from flask import current_app

from app.aftersales import models as m, services
from app.core.models import utcnow
from app.crm import models as crm
from app.extensions import db
from app.sales.models import SalesOrder

# (customer, kind, priority, content, hours ago received, assignee, steps: [(action, text, score)])
REQUESTS = [
    (
        "上海市第六人民医院",
        m.REPAIR,
        m.HIGH,
        "门诊楼三层两台无线AP频繁掉线，需上门检查。",
        30,
        "zhangwei",
        [("start", None, None), ("resolve", "更换故障AP一台，调整信道后恢复正常。", None), ("close", "回访满意", 5)],
    ),
    (
        "浙江大学紫金港校区",
        m.COMPLAINT,
        m.URGENT,
        "安装队施工后未清理现场，后勤处投诉。",
        10,
        "zhangwei",
        [("start", None, None)],  # past its 4-hour due time: the alert centre raises it
    ),
    ("广州白云国际机场", m.INSTALLATION, m.NORMAL, "T2航站楼新增12路摄像机，预约安装调试。", 5, "lina", []),
    (
        "东莞松山湖实验学校",
        m.CONSULTATION,
        m.LOW,
        "咨询会议平板的无线投屏配置方法。",
        50,
        "lina",
        [("resolve", "电话指导完成投屏配置，并发送操作手册。", None)],
    ),
]


def load_demo() -> dict:
    session = db.session
    sm = current_app.appbuilder.sm
    if session.query(m.ServiceRequest).first():
        return {"service_requests": 0}
    customers = {c.name: c for c in session.query(crm.EndCustomer)}
    added = 0
    now = utcnow().replace(microsecond=0)
    for name, kind, priority, content, hours_ago, assignee, steps in REQUESTS:
        customer = customers.get(name)
        if customer is None or customer.owner is None:
            continue
        received = now - dt.timedelta(hours=hours_ago)
        order = (
            session.query(SalesOrder)
            .filter(SalesOrder.end_customer_id == customer.id, SalesOrder.status == "approved")
            .order_by(SalesOrder.doc_date.desc())
            .first()
        )
        request = m.ServiceRequest(
            end_customer=customer,
            sales_order=order,
            kind=kind,
            priority=priority,
            content=content,
            assignee=sm.find_user(username=assignee),
            created_at=received,
        )
        services.validate_request(request)
        session.add(request)
        session.flush()
        for action, text, score in steps:
            if action == "start":
                services.start(session, request, customer.owner)
            elif action == "resolve":
                services.resolve(session, request, customer.owner, text)
            elif action == "close":
                services.close(session, request, customer.owner, score, text)
        added += 1
    session.commit()
    return {"service_requests": added}
