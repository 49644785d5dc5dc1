"""sales_daily_summary: approved sales per day and salesperson, filled from the orders already approved

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sales_daily_summary",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "owner_id"),
    )
    # the same rows `flask sales-summary` writes (app/reports/summary.py)
    op.execute(
        "INSERT INTO sales_daily_summary (day, owner_id, amount, orders) "
        "SELECT doc_date, COALESCE(owner_id, 0), SUM(total_amount), COUNT(id) FROM sales_order "
        "WHERE status = 'approved' AND is_opening = false GROUP BY doc_date, COALESCE(owner_id, 0)"
    )


def downgrade():
    op.drop_table("sales_daily_summary")
