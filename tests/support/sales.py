"""Sales documents as the tests make them: through the REST API as a salesperson and a manager would, or through
the order form; and the sales pages' test data."""

import re
from decimal import Decimal

from app.base_data.models import OrderType, Product
from app.crm.models import ChannelCustomer, EndCustomer
from app.sales.models import SalesOrder
from tests.support.pages import alerts
from tests.support.users import login, user_id

DAY = "2030-05-06"  # the sales pages' documents are dated on it


def order_body(world, lines=None, **extra):
    body = {
        "end_customer": world["customer"],
        "doc_date": "2026-11-20",
        "project_name": "智慧园区一期",
        "lines": lines
        if lines is not None
        else [
            {"product_id": world["p1"], "qty": "3", "unit_price": "133.33", "discount": "10"},
            {"product_id": world["p2"], "qty": "2.5", "unit_price": "19.99"},
        ],
    }
    body.update(extra)
    return body


def create_order(client, headers, world, **kw):
    resp = client.post("/api/v1/sales_order/", json=order_body(world, **kw), headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def fresh_order(db, order_id) -> SalesOrder:
    db.session.rollback()  # end the snapshot: see what the requests committed (MariaDB reads repeatably)
    return db.session.get(SalesOrder, order_id)


def order_count(db) -> int:
    db.session.rollback()
    return db.session.query(SalesOrder).count()


def act(client, headers, resource, pk, action, **body):
    return client.post(f"/api/v1/{resource}/{pk}/{action}", json=body, headers=headers)


def approve_order(client, api_token, order_id):
    sales1, manager = api_token("sales1"), api_token("manager")
    assert act(client, sales1, "sales_order", order_id, "submit").status_code == 200
    resp = act(client, manager, "sales_order", order_id, "approve", comment="同意")
    assert resp.status_code == 200, resp.json


def login_page(app, username):
    return login(app.test_client(), username)


def stock_in(client, headers, inv, lines, warehouse="w1", confirm=True, **extra):
    body = {"warehouse": inv[warehouse], "doc_date": "2026-11-20", "lines": lines, **extra}
    resp = client.post("/api/v1/stock_in/", json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    if confirm:
        resp2 = act(client, headers, "stock_in", resp.json["id"], "confirm")
        assert resp2.status_code == 200, resp2.json
    return resp.json["id"]


def approved_order(client, api_token, inv, lines):
    sales1 = api_token("sales1")
    body = {"end_customer": inv["customer"], "doc_date": "2026-11-20", "lines": lines}
    resp = client.post("/api/v1/sales_order/", json=body, headers=sales1)
    assert resp.status_code == 201, resp.json
    oid = resp.json["id"]
    assert act(client, sales1, "sales_order", oid, "submit").status_code == 200
    assert act(client, api_token("manager"), "sales_order", oid, "approve").status_code == 200
    return oid


class SalesData:
    """A salesperson's customer and channel, products and an order type, all under unique names."""

    def __init__(self, app, db, uid, owner="sales1"):
        self.owner_id = user_id(app, owner)
        self.customer = EndCustomer(name=uid("业主"), owner_id=self.owner_id)
        self.channel = ChannelCustomer(name=uid("渠道"), owner_id=self.owner_id)
        self.p1 = Product(model_no=uid("M"), name=uid("阀门"), sale_price=Decimal("35.00"), floor_price=Decimal("20"))
        self.p2 = Product(model_no=uid("M"), name=uid("管件"), sale_price=Decimal("20.00"), floor_price=Decimal("10"))
        self.off = Product(
            model_no=uid("M"), name=uid("停用"), sale_price=Decimal("9"), floor_price=Decimal("1"), enabled=False
        )
        self.order_type = OrderType(name=uid("类型"))
        db.session.add_all([self.customer, self.channel, self.p1, self.p2, self.off, self.order_type])
        db.session.commit()
        self.customer_id, self.channel_id, self.order_type_id = self.customer.id, self.channel.id, self.order_type.id
        self.p1_id, self.p2_id, self.off_id = self.p1.id, self.p2.id, self.off.id

    def lines(self):
        """3 × 33.33 at 10% = 89.99 (89.991); 2.5 × 19.99 = 49.98 (49.975 rounds half up); total 139.97."""
        return [
            {"product_id": self.p1_id, "qty": "3", "unit_price": "33.33", "discount": "10", "note": "第一行"},
            {"product_id": self.p2_id, "qty": "2.5", "unit_price": "19.99", "discount": "", "note": ""},
        ]

    def order_form(self, lines, project, **header):
        data = {
            "end_customer": str(self.customer_id),
            "channel": "__None",
            "order_type": str(self.order_type_id),
            "doc_date": DAY,
            "project_name": project,
            "payment_days": "30",
            "note": "页面录入",
            **header,
        }
        for i, line in enumerate(lines):
            for key, value in line.items():
                data[f"lines-{i}-{key}"] = str(value)
        return data

    def create_order(self, client, project, lines=None, **header) -> int:
        resp = client.post("/salesorderview/add", data=self.order_form(lines or self.lines(), project, **header))
        assert resp.status_code == 302, alerts(resp.get_data(as_text=True))
        match = re.search(r"/salesorderview/show/(\d+)$", resp.headers["Location"])
        assert match, resp.headers["Location"]
        return int(match.group(1))
