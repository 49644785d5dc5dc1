"""stock lines indexed by the sales-order line they ship or return (returns cost lookups, shipment reports)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 07:40:00

"""
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_stock_out_line_order_line_id", "stock_out_line", ["order_line_id"], unique=False)
    op.create_index("ix_stock_in_line_order_line_id", "stock_in_line", ["order_line_id"], unique=False)


def downgrade():
    op.drop_index("ix_stock_in_line_order_line_id", table_name="stock_in_line")
    op.drop_index("ix_stock_out_line_order_line_id", table_name="stock_out_line")
