"""Demo data: a Shanghai systems-integration company's catalogue, warehouses and staff. Idempotent."""

import os
from decimal import Decimal

from flask import current_app

from app.base_data import models as m
from app.core.hardening import generate_password
from app.extensions import db

CATEGORIES = {
    "网络设备": ["交换机", "路由器", "无线AP"],
    "安防产品": ["网络摄像机", "硬盘录像机"],
    "办公设备": ["打印机", "投影仪"],
    "服务": ["安装调试", "维保服务"],
}
# model no, name, spec, category, unit, purchase, sale, red-line, safety min, max
PRODUCTS = [
    ("S5735-L24T4X", "24口千兆交换机", "24GE+4万兆光", "交换机", "台", "2350.00", "3280.00", "2800.00", 10, 80),
    ("S5735-L48T4X", "48口千兆交换机", "48GE+4万兆光", "交换机", "台", "4100.00", "5680.00", "4900.00", 5, 50),
    ("AR6120", "企业级路由器", "千兆 8口", "路由器", "台", "3600.00", "4980.00", "4300.00", 3, 30),
    ("AR6280", "高性能路由器", "双电源", "路由器", "台", "9800.00", "13500.00", "11800.00", 2, 20),
    ("AP7060DN", "室内无线AP", "Wi-Fi 6 双频", "无线AP", "个", "1180.00", "1650.00", "1420.00", 20, 200),
    ("AP8050DN", "室外无线AP", "防水 IP67", "无线AP", "个", "2650.00", "3600.00", "3100.00", 5, 60),
    ("DS-2CD3T46", "400万筒型网络摄像机", "4mm 红外50米", "网络摄像机", "台", "420.00", "598.00", "520.00", 50, 500),
    ("DS-2CD3346", "400万半球网络摄像机", "2.8mm", "网络摄像机", "台", "380.00", "548.00", "470.00", 50, 500),
    ("DS-7816N", "16路硬盘录像机", "2盘位 H.265", "硬盘录像机", "台", "860.00", "1280.00", "1080.00", 10, 100),
    ("DS-7932N", "32路硬盘录像机", "8盘位", "硬盘录像机", "台", "3200.00", "4580.00", "3900.00", 3, 30),
    ("M7400PRO", "黑白激光多功能一体机", "A4 打印复印扫描", "打印机", "台", "1350.00", "1899.00", "1650.00", 5, 40),
    ("CP1025", "彩色激光打印机", "A4", "打印机", "台", "1680.00", "2399.00", "2050.00", 3, 30),
    ("CB-X50", "商务投影仪", "3600流明", "投影仪", "台", "3150.00", "4299.00", "3700.00", 2, 20),
    ("SVC-INST", "现场安装调试", "按点位", "安装调试", "套", "0.00", "200.00", "150.00", None, None),
    ("SVC-MA1Y", "一年维保服务", "7x24 响应", "维保服务", "套", "0.00", "3000.00", "2400.00", None, None),
]
STAFF = [
    ("zhangwei", "张", "伟", "Salesperson", "13800138001", "上海市", "华东销售部"),
    ("lina", "李", "娜", "Salesperson", "13800138002", "广州市", "华南销售部"),
    ("wangfang", "王", "芳", "SalesManager", "13800138003", "上海市", "销售管理部"),
    ("liuyang", "刘", "洋", "Purchaser", "13800138004", "上海市", "采购部"),
    ("chenjing", "陈", "静", "WarehouseKeeper", "13800138005", "上海市", "仓储部"),
    ("zhaomin", "赵", "敏", "Finance", "13800138006", "上海市", "财务部"),
    ("sunqiang", "孙", "强", "Executive", "13800138007", "北京市", "总经办"),
]


def load_demo() -> str:
    session = db.session
    sm = current_app.appbuilder.sm
    created = {"categories": 0, "products": 0, "warehouses": 0, "users": 0}
    by_name = {c.name: c for c in session.query(m.ProductCategory)}
    for order, (parent_name, children) in enumerate(CATEGORIES.items(), start=1):
        parent = by_name.get(parent_name)
        if parent is None:
            parent = by_name[parent_name] = m.ProductCategory(name=parent_name, sort_order=order)
            session.add(parent)
            created["categories"] += 1
        for child_order, child in enumerate(children, start=1):
            if child not in by_name:
                by_name[child] = m.ProductCategory(name=child, parent=parent, sort_order=child_order)
                session.add(by_name[child])
                created["categories"] += 1
    units = {u.name: u for u in session.query(m.Unit)}
    existing = {p for (p,) in session.query(m.Product.model_no)}
    for no, name, spec, cat, unit, buy, sell, floor, smin, smax in PRODUCTS:
        if no in existing:
            continue
        session.add(
            m.Product(
                model_no=no,
                name=name,
                spec=spec,
                category=by_name[cat],
                unit=units.get(unit),
                purchase_price=Decimal(buy),
                sale_price=Decimal(sell),
                floor_price=Decimal(floor),
                safety_min=smin,
                safety_max=smax,
            )
        )
        created["products"] += 1
    for name, address in (("上海仓", "上海市浦东新区张江路 88 号"), ("广州仓", "广州市天河区科韵路 16 号")):
        if not session.query(m.Warehouse).filter_by(name=name).first():
            session.add(m.Warehouse(name=name, address=address, keeper="陈静", phone="021-50800000"))
            created["warehouses"] += 1
    session.commit()

    password = os.environ.get("DEMO_PASSWORD")
    regions = {r.name: r for r in session.query(m.Region).filter(m.Region.level == "city")}
    new_users = []
    for username, last, first, role, phone, city, dept in STAFF:
        if sm.find_user(username=username):
            continue
        password = password or generate_password()
        user = sm.add_user(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.invalid",
            role=sm.find_role(role),
            password=password,
        )
        session.add(m.SalespersonProfile(user_id=user.id, phone=phone, region=regions.get(city), department=dept))
        created["users"] += 1
        new_users.append(username)
    session.commit()
    msg = f"demo data added: {created}"
    if new_users:
        msg += f"\ndemo users {', '.join(new_users)} share the password: {password}"
    return msg
