"""customers: drop the index on name alone (the unique key on name + region leads with name and serves the same
lookups and ordering); one index fewer to maintain on every insert, which large imports feel

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 09:00:00

"""
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_end_customer_name", table_name="end_customer")
    op.drop_index("ix_channel_customer_name", table_name="channel_customer")


def downgrade():
    op.create_index("ix_channel_customer_name", "channel_customer", ["name"], unique=False)
    op.create_index("ix_end_customer_name", "end_customer", ["name"], unique=False)
