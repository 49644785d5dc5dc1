"""bench/soak.py at smoke scale (issue 8): a short run of the mixed clerks' traffic against gunicorn on PostgreSQL
answers no 5xx, drops no connection and leaves the stock ledger sound; the worker memory is read. The 10-minute soak
itself is `python bench/soak.py` (figures in the issue).

PostgreSQL only, in a database of its own (`test_soak`) on the server of TEST_DATABASE_URLS."""

import pytest
import sqlalchemy as sa

from tests.support.databases import server_url, worker_name

DATABASE = worker_name("test_soak")
PG_URL = server_url("postgresql", DATABASE)


@pytest.mark.skipif(
    PG_URL is None, reason="the soak runs gunicorn on PostgreSQL: no postgresql URL in TEST_DATABASE_URLS"
)
def test_a_short_soak_has_no_5xx_and_keeps_the_ledger():
    from bench.soak import soak

    try:
        # 12 s of six clerks: a few hundred requests of every kind, the property; the 10-minute soak is bench/soak.py
        result = soak(PG_URL, seconds=12, clients=6, workers=2, orders=100, fresh=True)
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    assert result["5xx"] == 0, result["errors"]
    assert result["connection_errors"] == 0 and result["errors"] == [], result["errors"]
    assert result["ledger_before"] == [] and result["ledger_after"] == [], result["ledger_after"]
    assert not result["workers_replaced"]
    assert result["requests"] >= 20, result["by_status"]
    assert len(result["workers"]) == 2 and all(result["rss_end_mb"].values()), result["rss_end_mb"]
    # clerks wrote (customers, orders, stock, receipts) and managers read the statistics
    assert result["by_status"].get("201", 0) > 0, result["by_kind"]
    assert any(kind.endswith("report") and "200" in counts for kind, counts in result["by_kind"].items())
    assert result["ok"], result["failures"]
