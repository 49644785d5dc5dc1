"""Start the app: apply migrations, seed, create the admin, serve on HOST:PORT (default 127.0.0.1:5000).

python run.py            # the real system on instance/sales.db (or $DATABASE_URL)
python run.py --demo     # also loads demo data
python run.py --no-serve # prepare the database only (used by deploy scripts)
"""

import argparse
import os

import click
from flask_migrate import upgrade

from app import create_app


def prepare(app, demo: bool = False) -> None:
    from app.cli import ensure_admin, seed_all

    with app.app_context():
        upgrade()
        seed_all()
        generated = ensure_admin()
        if generated:
            print("=" * 60)
            print(f"管理员账号 admin user: admin    初始密码 password: {generated}")
            print("请登录后立即修改密码。Change it after logging in. (shown only once)")
            print("=" * 60)
        if demo:
            from app.cli import load_all_demo

            print(load_all_demo())


def main() -> None:
    parser = argparse.ArgumentParser(description="销售管理系统 Sales Management System")
    parser.add_argument("--demo", action="store_true", help="load demo data")
    parser.add_argument("--no-serve", action="store_true", help="migrate and seed, then exit")
    args = parser.parse_args()
    app = create_app()
    try:
        prepare(app, demo=args.demo)
    except click.ClickException as exc:  # e.g. an ADMIN_PASSWORD the password policy refuses
        raise SystemExit(f"错误 Error: {exc.format_message()}") from None
    if args.no_serve:
        return
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"销售管理系统 running on http://{host}:{port}/")
    from werkzeug.serving import run_simple

    # app.debug follows FLASK_DEBUG (Flask reads it; "0"/"false" mean off) and is always off in production
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=app.debug)


if __name__ == "__main__":
    main()
