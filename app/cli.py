"""`flask` commands for every operational task: seed, create-admin, demo."""

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db


def seed_all(verbose: bool = True) -> dict:
    """Roles and permissions, dictionaries, regions. Idempotent: safe on every start."""
    from app.base_data.services import seed_dictionaries, seed_regions
    from app.core.roles import sync_roles
    from app.sales.services import seed_approval_rules

    counts = sync_roles(current_app.appbuilder)
    added = seed_dictionaries(db.session)
    regions = seed_regions(db.session)
    rules = seed_approval_rules(db.session)
    db.session.commit()
    if verbose:
        click.echo(
            f"roles synced: {counts}; dictionary entries added: {added}; regions added: {regions}; "
            f"approval rules added: {rules}"
        )
    return {"roles": counts, "dictionaries": added, "regions": regions, "approval_rules": rules}


def ensure_admin(password: str | None = None, username: str = "admin") -> str | None:
    """Create the admin once. Returns the generated password when one had to be made (printed once)."""
    sm = current_app.appbuilder.sm
    if sm.find_user(username=username):
        return None
    from app.core.hardening import generate_password, password_problem

    generated = None
    if not password:
        password = os.environ.get("ADMIN_PASSWORD")
    if not password:
        generated = password = generate_password()
    problem = password_problem(password, username)
    if problem:  # a chosen password (option or ADMIN_PASSWORD) meets the same policy as the forms
        raise click.ClickException(problem)
    user = sm.add_user(
        username=username,
        first_name="管理员",
        last_name="系统",
        email=f"{username}@example.invalid",
        role=sm.find_role("Admin"),
        password=password,
    )
    if not user:
        raise click.ClickException("could not create the admin user")
    return generated


def load_all_demo() -> str:
    """Demo data of every area, in dependency order. Idempotent."""
    from app.aftersales.demo import load_demo as service_demo
    from app.base_data.demo import load_demo as base_demo
    from app.crm.demo import load_demo as crm_demo
    from app.inventory.demo import load_demo as stock_demo
    from app.sales.demo import load_demo as sales_demo

    base_added = base_demo()
    crm_added = crm_demo()
    sales_added = sales_demo()
    return (
        f"{base_added}\ncrm demo data added: {crm_added}\nsales demo data added: {sales_added}\n"
        f"purchasing and stock demo data added: {stock_demo()}\nafter-sales demo data added: {service_demo()}"
    )


def register_cli(app) -> None:
    from app.core.backup_cli import backup_group

    app.cli.add_command(backup_group)  # flask backup create|list|restore

    @app.cli.command("seed")
    @with_appcontext
    def seed_command():
        """Sync roles/permissions and seed dictionaries and regions (idempotent)."""
        seed_all()

    @app.cli.command("create-admin")
    @click.option("--username", default="admin")
    @click.option("--password", default=None, help="Default: $ADMIN_PASSWORD, else generated and printed once.")
    @with_appcontext
    def create_admin_command(username, password):
        """Create the administrator account if it does not exist."""
        generated = ensure_admin(password, username)
        if generated:
            click.echo(f"admin user '{username}' created with password: {generated}")
        else:
            click.echo(f"admin user '{username}' ready")

    @app.cli.command("churn")
    @click.option("--date", "day", default=None, help="Run as of this date (YYYY-MM-DD); default today.")
    @with_appcontext
    def churn_command(day):
        """Apply the churn rules and channel auto-upgrade. Safe to run from cron any number of times."""
        import datetime as dt

        from app.crm.services import apply_churn

        today = dt.date.fromisoformat(day) if day else None
        click.echo(apply_churn(db.session, today))

    @app.cli.command("classify")
    @click.option("--date", "day", default=None, help="Classify as of this date (YYYY-MM-DD); default today.")
    @with_appcontext
    def classify_command(day):
        """ABC classification of end customers (last 12 months). Safe to run from cron any number of times."""
        import datetime as dt

        from app.crm.classification import classify_customers

        try:
            today = dt.date.fromisoformat(day) if day else None
        except ValueError:
            raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from None
        click.echo(classify_customers(db.session, today))

    @app.cli.command("sales-summary")
    @click.option("--check", "only_check", is_flag=True, help="Only compare the summary with the orders.")
    @with_appcontext
    def sales_summary_command(only_check):
        """销售日汇总: rebuild the daily sales summary from the approved orders (after a bulk load), or --check it."""
        from app.reports import summary

        if only_check:
            problems = summary.check(db.session)
            for line in problems[:50]:
                click.echo(line)
            click.echo(f"{len(problems)} differences")
            if problems:
                raise SystemExit(1)
            return
        rows = summary.rebuild(db.session)
        db.session.commit()
        click.echo(f"{rows} rows")

    @app.cli.command("alerts")
    @click.option("--now", "when", default=None, help="Run as of this UTC time (YYYY-MM-DDTHH:MM); default now.")
    @with_appcontext
    def alerts_command(when):
        """Raise, clear and escalate alerts (预警中心). Safe to run from cron any number of times."""
        import datetime as dt

        from app.reports.alerts import run_alerts

        click.echo(run_alerts(db.session, dt.datetime.fromisoformat(when) if when else None))

    @app.cli.command("demo")
    @with_appcontext
    def demo_command():
        """Load realistic demo data (idempotent)."""
        click.echo(load_all_demo())
