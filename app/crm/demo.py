"""Demo CRM data: channel partners and end customers of the demo salespeople, follow-ups, plans, targets."""

import datetime as dt
from decimal import Decimal

from flask import current_app

from app.base_data import models as bm
from app.core.formatting import local_today
from app.core.models import utcnow
from app.crm import models as m
from app.extensions import db

CHANNELS = [
    ("上海华信网络科技有限公司", "上海市", "代理商", "A", "zhangwei", "021-58881234"),
    ("杭州云启信息技术有限公司", "杭州市", "集成商", "B", "zhangwei", "0571-86661234"),
    ("南京智联安防工程有限公司", "南京市", "经销商", "C", "zhangwei", "025-83331234"),
    ("广州联拓信息技术有限公司", "广州市", "代理商", "B", "lina", "020-38881234"),
    ("深圳鹏程视讯科技有限公司", "深圳市", "集成商", "D", "lina", "0755-26661234"),
    ("佛山南海弱电工程有限公司", "佛山市", "经销商", "E", None, "0757-86331234"),
]
END_CUSTOMERS = [
    ("上海市第六人民医院", "上海市", "终端用户", 5, "上海华信网络科技有限公司", "zhangwei"),
    ("浙江大学紫金港校区", "杭州市", "终端用户", 4, "杭州云启信息技术有限公司", "zhangwei"),
    ("苏州工业园区管委会", "苏州市", "终端用户", 4, None, "zhangwei"),
    ("广州白云国际机场", "广州市", "终端用户", 5, "广州联拓信息技术有限公司", "lina"),
    ("东莞松山湖实验学校", "东莞市", "终端用户", 3, "深圳鹏程视讯科技有限公司", "lina"),
    ("珠海格创电器有限公司", "珠海市", "终端用户", 3, None, None),
]
CONTACTS = {
    "上海华信网络科技有限公司": ("周建国", "总经理", "13916001234"),
    "广州联拓信息技术有限公司": ("黄晓敏", "采购经理", "13826001234"),
    "上海市第六人民医院": ("陈立", "信息科主任", "13601701234"),
    "广州白云国际机场": ("林志强", "弱电工程师", "13922201234"),
}


def load_demo() -> dict:
    session = db.session
    sm = current_app.appbuilder.sm
    today = local_today()
    users = {u: sm.find_user(username=u) for u in ("zhangwei", "lina", "wangfang")}
    if any(v is None for v in users.values()):
        return {"crm": "skipped: demo users missing"}
    cities = {r.name: r for r in session.query(bm.Region).filter(bm.Region.level == "city")}
    lookup = {
        model: {x.name: x for x in session.query(model)}
        for model in (bm.ChannelType, bm.ChannelLevel, bm.CustomerType, bm.CustomerSource, bm.FollowupMethod)
    }
    added = {"channels": 0, "end_customers": 0, "followups": 0, "plans": 0, "targets": 0}
    channels = {c.name: c for c in session.query(m.ChannelCustomer)}
    for name, city, ctype, level, owner, phone in CHANNELS:
        if name in channels:
            continue
        c = m.ChannelCustomer(
            name=name,
            region=cities.get(city),
            channel_type=lookup[bm.ChannelType].get(ctype),
            level=lookup[bm.ChannelLevel].get(level),
            source=lookup[bm.CustomerSource].get("展会"),
            phone=phone,
            credit_limit=Decimal("200000") if level in "AB" else Decimal("50000"),
            owner=users.get(owner) if owner else None,
            in_pool=owner is None,
            assigned_at=utcnow() - dt.timedelta(days=20) if owner else None,
        )
        session.add(c)
        channels[name] = c
        added["channels"] += 1
    ends = {c.name: c for c in session.query(m.EndCustomer)}
    for name, city, ctype, stars, referrer, owner in END_CUSTOMERS:
        if name in ends:
            continue
        e = m.EndCustomer(
            name=name,
            region=cities.get(city),
            customer_type=lookup[bm.CustomerType].get(ctype),
            stars=stars,
            referrer=channels.get(referrer) if referrer else None,
            credit_limit=Decimal("500000"),
            owner=users.get(owner) if owner else None,
            in_pool=owner is None,
            assigned_at=utcnow() - dt.timedelta(days=40) if owner else None,
        )
        session.add(e)
        ends[name] = e
        added["end_customers"] += 1
    session.flush()
    for name, (person, title, mobile) in CONTACTS.items():
        customer = channels.get(name) or ends.get(name)
        if customer is None or customer.contacts:
            continue
        session.add(
            m.Contact(
                name=person,
                title=title,
                mobile=mobile,
                is_primary=True,
                owner_id=customer.owner_id,
                channel_customer=customer if isinstance(customer, m.ChannelCustomer) else None,
                end_customer=customer if isinstance(customer, m.EndCustomer) else None,
            )
        )
    if not session.query(m.Followup).first():
        phone_call = lookup[bm.FollowupMethod].get("电话")
        visit = lookup[bm.FollowupMethod].get("上门拜访")
        for i, (customer_name, method, content, next_in) in enumerate(
            [
                ("上海市第六人民医院", visit, "拜访信息科，了解门诊楼网络改造需求", 2),
                ("浙江大学紫金港校区", phone_call, "电话沟通无线覆盖方案，对方要求下周提供报价", -3),
                ("广州白云国际机场", visit, "现场勘查航站楼监控点位", 5),
                ("上海华信网络科技有限公司", phone_call, "确认年度代理政策与返点", 1),
            ]
        ):
            customer = ends.get(customer_name) or channels.get(customer_name)
            session.add(
                m.Followup(
                    channel_customer=customer if isinstance(customer, m.ChannelCustomer) else None,
                    end_customer=customer if isinstance(customer, m.EndCustomer) else None,
                    followup_date=today - dt.timedelta(days=7 - i),
                    method=method,
                    content=content,
                    status="open",
                    next_date=today + dt.timedelta(days=next_in),
                    next_plan="跟进报价与方案",
                    owner=customer.owner,
                )
            )
            customer.last_followup_at = today - dt.timedelta(days=7 - i)
            added["followups"] += 1
    if not session.query(m.WorkPlan).first():
        monday = today - dt.timedelta(days=today.weekday())
        for i, (user, title) in enumerate(
            [
                ("zhangwei", "整理华东区季度渠道销售数据"),
                ("zhangwei", "拜访苏州工业园区管委会"),
                ("lina", "准备机场监控项目投标文件"),
                ("lina", "回访东莞松山湖实验学校"),
            ]
        ):
            session.add(m.WorkPlan(plan_date=monday + dt.timedelta(days=i + 1), title=title, owner=users[user]))
            added["plans"] += 1
    if not session.query(m.SalesTarget).first():
        for user, amount in (("zhangwei", Decimal("300000")), ("lina", Decimal("250000"))):
            for month in range(1, 13):
                session.add(m.SalesTarget(owner=users[user], year=today.year, month=month, amount=amount))
                added["targets"] += 1
    if not session.query(m.Opportunity).first():
        for name, customer, stage, amount in (
            ("门诊楼网络改造", "上海市第六人民医院", "needs", "860000"),
            ("校园无线覆盖二期", "浙江大学紫金港校区", "quote", "420000"),
            ("航站楼监控扩容", "广州白云国际机场", "negotiation", "1350000"),
            ("园区安防升级", "苏州工业园区管委会", "lead", "300000"),
        ):
            e = ends[customer]
            session.add(
                m.Opportunity(
                    name=name,
                    end_customer=e,
                    stage=stage,
                    expected_amount=Decimal(amount),
                    expected_close=today + dt.timedelta(days=45),
                    owner=e.owner,
                )
            )
    session.commit()
    return added
