"""Peak memory and speed of the app's own Excel export as the row count grows (issue 2: memory stays flat).

    python bench/export_memory.py 10000 100000 1000000

Each size runs in a fresh process on its own SQLite file: products are bulk-inserted, then the product list is
exported through the real page (test client, admin). Prints rows, seconds, rows/s and peak RSS (MB).
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _app():
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from config import TestConfig

    return create_app(TestConfig())


def generate(n: int) -> None:
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from app.base_data.models import Product
    from app.cli import ensure_admin, seed_all
    from app.extensions import db

    app = _app()
    with app.app_context():
        upgrade()
        seed_all(verbose=False)
        ensure_admin("bench-pw")
        rows = [
            {
                "model_no": f"M{i:08d}",
                "name": f"产品{i}",
                "spec": "=SUM(A1)" if i % 97 == 0 else "规格",
                "purchase_price": Decimal("10.50"),
                "sale_price": Decimal("15.00"),
                "floor_price": Decimal("12.00"),
                "enabled": True,
                "created_at": None,
                "updated_at": None,
            }
            for i in range(n)
        ]
        from app.core.models import utcnow

        now = utcnow()
        for r in rows:
            r["created_at"] = r["updated_at"] = now
        for start in range(0, n, 50_000):
            db.session.execute(Product.__table__.insert(), rows[start : start + 50_000])
        db.session.commit()


def export() -> dict:
    app = _app()
    with app.app_context():
        from app.base_data.models import Product
        from app.extensions import db

        n = db.session.query(Product).count()
    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": "bench-pw"})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    resp = client.get("/productview/export_xlsx/")
    size = len(resp.data)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert resp.status_code == 200
    return {
        "rows": n,
        "seconds": round(seconds, 1),
        "rows_per_s": int(n / seconds),
        "bytes": size,
        "rss_before_mb": round(before),
        "rss_peak_mb": round(peak),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--generate":
        generate(int(sys.argv[2]))
        sys.exit(0)
    if len(sys.argv) == 2 and sys.argv[1] == "--export":
        print(json.dumps(export()))
        sys.exit(0)
    for n in [int(a) for a in sys.argv[1:]] or [10_000, 100_000]:
        env = dict(os.environ, INSTANCE_DIR=tempfile.mkdtemp(prefix="bench-export-"))
        gen = subprocess.run([sys.executable, __file__, "--generate", str(n)], capture_output=True, text=True, env=env)
        if gen.returncode != 0:
            print(gen.stderr[-2000:])
            continue
        out = subprocess.run([sys.executable, __file__, "--export"], capture_output=True, text=True, env=env)
        print(out.stdout.strip().splitlines()[-1] if out.returncode == 0 else out.stderr[-2000:])
