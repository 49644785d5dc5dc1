"""首页 tiles per role: each a figure from the same services the lists and reports use, with the link to its list.
A tile is shown only to users who may open what it links to; figures follow the user's data scope."""

from __future__ import annotations

from decimal import Decimal

from flask import url_for
from flask_babel import gettext
from sqlalchemy import case, func

from app.core import charts, workflow
from app.core.formatting import local_today
from app.core.scope import sees_all
from app.reports import periods, services as reports


def _can(sm, permission: str, resource: str) -> bool:
    return sm.has_access(permission, resource)


def sales_vs_target(session, user) -> dict:
    from app.crm.models import SalesTarget
    from app.reports.summary import SalesDailySummary as S

    today = local_today()
    start = today.replace(day=1)
    achieved = session.query(func.coalesce(func.sum(S.amount), 0)).filter(S.day >= start, S.day <= today)
    target = session.query(func.coalesce(func.sum(SalesTarget.amount), 0)).filter(
        SalesTarget.year == today.year, SalesTarget.month == today.month
    )
    if not sees_all(user):
        achieved = achieved.filter(S.owner_id == user.id)
        target = target.filter(SalesTarget.owner_id == user.id)
    achieved_value = reports.money(achieved.scalar())
    target_value = reports.money(target.scalar())
    return {"achieved": achieved_value, "target": target_value, "rate": reports.rate(achieved_value, target_value)}


def receivables(session, user) -> dict:
    from app.sales.models import SalesOrder

    outstanding = SalesOrder.outstanding_amount
    query = session.query(
        func.coalesce(func.sum(outstanding), 0),
        # CASE, not FILTER (…): MariaDB has no aggregate FILTER clause
        func.coalesce(func.sum(case((SalesOrder.due_date < local_today(), outstanding), else_=0)), 0),
    ).filter(SalesOrder.status == workflow.APPROVED, outstanding > Decimal("0.005"))
    if not sees_all(user):
        query = query.filter(SalesOrder.owner_id == user.id)
    total, overdue = query.one()
    return {"outstanding": reports.money(total), "overdue": reports.money(overdue)}


def pending_approvals(session, user) -> list[dict]:
    """Submitted documents the user can decide now, per kind, with the list to open."""
    from app.crm.models import PoolClaim
    from app.purchase.models import PurchaseContract
    from app.sales.models import Commission, Expense, SalesOrder

    kinds = [
        (SalesOrder, gettext("Sales Orders"), "SalesOrderView.list"),
        (PurchaseContract, gettext("Purchase Contracts"), "PurchaseContractView.list"),
        (Commission, gettext("Commissions"), "CommissionView.list"),
        (Expense, gettext("Expense Claims"), "ExpenseView.list"),
        (PoolClaim, gettext("Customer Claims"), "PoolClaimView.list"),
    ]
    out = []
    for model, label, endpoint in kinds:
        waiting = session.query(model).filter(model.status == workflow.SUBMITTED).limit(500).all()
        mine = [
            doc
            for doc in waiting
            if workflow.can_approve(session, doc, user) and getattr(doc, "owner_id", None) != user.id
        ]
        if mine:
            out.append({"label": label, "count": len(mine), "url": url_for(endpoint, _flt_0_status="submitted")})
    return out


def followups(session, user) -> dict:
    from app.crm.services import due_followups

    due, overdue = due_followups(session, user)
    return {"due": len(due), "overdue": len(overdue)}


def tiles(session, user, sm) -> dict:
    """Everything the home page shows for this user; keys absent when the user may not open the list behind."""
    out: dict = {}
    if _can(sm, "can_read", "SalesTarget"):  # the sales roles (a warehouse keeper reads orders only to ship them)
        out["sales"] = {**sales_vs_target(session, user), "url": url_for("SalesTargetView.progress")}
    if _can(sm, "can_read", "Receivable"):
        out["receivables"] = {**receivables(session, user), "url": url_for("ReceivableView.list")}
    approvals = pending_approvals(session, user)
    if approvals:
        out["approvals"] = approvals
    if _can(sm, "can_read", "Followup"):
        out["followups"] = {**followups(session, user), "url": url_for("FollowupDueView.list")}
    if _can(sm, "can_read", "StockMove"):
        from app.inventory.services import stock_alerts

        out["stock_alerts"] = {"count": len(stock_alerts(session)), "url": url_for("StockMoveView.alerts")}
    if _can(sm, "can_read", "Alert"):
        from app.reports.alerts import open_alerts_for

        out["alerts"] = {"count": open_alerts_for(session, user).count(), "url": url_for("AlertView.list")}
    if any(reports.may_see(reports.REPORTS[n], user) for n in ("top_customers", "sales_amount")):
        today = local_today()
        year = reports.Params(period=periods.YEAR, start=today.replace(month=1, day=1), end=today)
        if reports.may_see(reports.REPORTS["top_customers"], user):
            out["top_customers"] = {
                "rows": reports.run(session, "top_customers", year).rows,
                "url": url_for("ReportView.report", name="top_customers"),
            }
        if reports.may_see(reports.REPORTS["sales_amount"], user):
            first = periods.first_day(
                periods.shift(periods.key_of(today, periods.MONTH), periods.MONTH, -11), periods.MONTH
            )
            trend = reports.run(session, "sales_amount", reports.Params(period=periods.MONTH, start=first, end=today))
            title = gettext("Sales, last 12 months")
            option = charts.echarts_option(title, trend.columns, trend.rows, trend.totals, trend.chart)
            out["trend"] = {
                "option_json": charts.option_json(option),
                "url": url_for("ReportView.report", name="sales_amount"),
            }
    return out
