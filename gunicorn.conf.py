"""Production server: `APP_ENV=production SECRET_KEY=... DATABASE_URL=... gunicorn -c gunicorn.conf.py`.

The master applies migrations and seeds once before forking workers. With several servers, run
`python run.py --no-serve` once per release and start the servers with SKIP_PREPARE=1.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 120  # large Excel exports
accesslog = "-"
wsgi_app = "app:create_app()"


def on_starting(server):
    if os.environ.get("SKIP_PREPARE"):
        return
    from app import create_app
    from run import prepare

    prepare(create_app())
