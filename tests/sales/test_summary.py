"""The daily sales summary stays in step with approvals and cancellations, and the reports read the same figures
from it as from the lines."""

from decimal import Decimal

import pytest

from app.reports import summary
from app.reports.services import Params, sales_by_period
from tests.support.sales import act, approve_order, create_order, fresh_order

D = Decimal

pytestmark = pytest.mark.every_database(
    "the daily summary is kept by guarded UPDATEs and INSERT-or-ignore on approval and cancellation, rebuilt by "
    "INSERT … SELECT … GROUP BY, and checked against monthly NUMERIC sums over the lines"
)


def test_summary_follows_approvals_and_cancellations(app, client, db, api_token, sales_world):
    import datetime as dt

    sales1, manager = api_token("sales1"), api_token("manager")
    db.session.rollback()
    assert summary.check(db.session) == []
    day = dt.date(2046, 5, 17)
    params = Params(period="month", start=dt.date(2046, 5, 1), end=dt.date(2046, 5, 31))
    # the sales_world's products in a category of their own: the category filter reads the lines, not the summary
    from app.base_data.models import Product, ProductCategory

    category = ProductCategory(name=f"汇总核对{sales_world['p1']}")
    db.session.add(category)
    db.session.flush()
    for pid in (sales_world["p1"], sales_world["p2"]):
        db.session.get(Product, pid).category_id = category.id
    db.session.commit()
    by_lines = Params(period="month", start=params.start, end=params.end, category_id=category.id)
    before = sales_by_period(db.session, params).get("2046-05", [D(0), D(0)])
    a = create_order(client, sales1, sales_world, doc_date=day.isoformat())
    b = create_order(client, sales1, sales_world, doc_date=day.isoformat())
    approve_order(client, api_token, a)
    approve_order(client, api_token, b)
    create_order(client, sales1, sales_world, doc_date=day.isoformat())  # a draft counts nowhere
    db.session.rollback()
    assert summary.check(db.session) == []
    total = fresh_order(db, a).total_amount
    after = sales_by_period(db.session, params)["2046-05"]
    assert after[0] - before[0] == 2 * total and after[1] - before[1] == 2
    # the lines tell the same: these two orders are all the category sold that month
    assert sales_by_period(db.session, by_lines)["2046-05"] == [after[0] - before[0], D(2)]
    assert act(client, manager, "sales_order", b, "cancel", comment="客户取消").status_code == 200
    db.session.rollback()
    assert summary.check(db.session) == []
    assert sales_by_period(db.session, params)["2046-05"][0] - before[0] == total
    assert sales_by_period(db.session, by_lines)["2046-05"] == [total, D(1)]
    # the command agrees and can rebuild
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sales-summary", "--check"])
    assert result.exit_code == 0 and "0 differences" in result.output
    assert runner.invoke(args=["sales-summary"]).exit_code == 0
    db.session.rollback()
    assert summary.check(db.session) == []
