"""customer_abc

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # ABC classification of end customers (app/crm/classification.py), written by `flask classify`
    with op.batch_alter_table('end_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('abc_class', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('abc_amount', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('abc_orders', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('abc_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_end_customer_abc_class'), ['abc_class'], unique=False)


def downgrade():
    with op.batch_alter_table('end_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_end_customer_abc_class'))
        batch_op.drop_column('abc_at')
        batch_op.drop_column('abc_orders')
        batch_op.drop_column('abc_amount')
        batch_op.drop_column('abc_class')
