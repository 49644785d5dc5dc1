"""terms_promotions_rebates_opening

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_term',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('discount_days', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('promotion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('rule', sa.String(length=16), nullable=False),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('buy_qty', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('free_qty', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('promotion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promotion_end_date'), ['end_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_promotion_start_date'), ['start_date'], unique=False)

    op.create_table('promotion_category',
    sa.Column('promotion_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['product_category.id'], ),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotion.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('promotion_id', 'category_id')
    )
    op.create_table('promotion_customer_type',
    sa.Column('promotion_id', sa.Integer(), nullable=False),
    sa.Column('customer_type_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_type_id'], ['customer_type.id'], ),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotion.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('promotion_id', 'customer_type_id')
    )
    op.create_table('promotion_product',
    sa.Column('promotion_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotion.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('promotion_id', 'product_id')
    )
    op.create_table('opening_balance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('qty', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('unit_cost', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('end_customer_id', sa.Integer(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('doc_number', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['end_customer_id'], ['end_customer.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('opening_balance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_balance_doc_number'), ['doc_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_opening_balance_end_customer_id'), ['end_customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opening_balance_kind'), ['kind'], unique=False)

    op.create_table('rebate_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('end_customer_id', sa.Integer(), nullable=True),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channel_customer.id'], ),
    sa.ForeignKeyConstraint(['end_customer_id'], ['end_customer.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rebate_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rebate_agreement_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rebate_agreement_end_customer_id'), ['end_customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rebate_agreement_owner_id'), ['owner_id'], unique=False)

    op.create_table('rebate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_date', sa.Date(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('base_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('settled_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approval_level', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['rebate_agreement.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('rebate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rebate_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rebate_doc_date'), ['doc_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_rebate_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rebate_status'), ['status'], unique=False)

    op.create_table('receivable_credit',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('rebate_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['rebate_id'], ['rebate.id'], ),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('receivable_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receivable_credit_doc_date'), ['doc_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_receivable_credit_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_receivable_credit_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receivable_credit_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receivable_credit_rebate_id'), ['rebate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receivable_credit_receipt_id'), ['receipt_id'], unique=False)

    with op.batch_alter_table('end_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_term_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_end_customer_payment_term_id', 'payment_term', ['payment_term_id'], ['id'])

    with op.batch_alter_table('purchase_contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoiced_amount', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('is_opening', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))

    with op.batch_alter_table('purchase_invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_rate', sa.Numeric(precision=5, scale=2), server_default='13', nullable=False))
        batch_op.add_column(sa.Column('net_amount', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('tax_amount', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False))

    with op.batch_alter_table('quotation_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promotion_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_quotation_line_promotion_id'), ['promotion_id'], unique=False)
        batch_op.create_foreign_key('fk_quotation_line_promotion_id', 'promotion', ['promotion_id'], ['id'])

    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cash_discount', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('discount_amount', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False))

    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_term_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('discount_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('is_opening', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('credited_amount', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False))
        batch_op.create_foreign_key('fk_sales_order_payment_term_id', 'payment_term', ['payment_term_id'], ['id'])

    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promotion_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sales_order_line_promotion_id'), ['promotion_id'], unique=False)
        batch_op.create_foreign_key('fk_sales_order_line_promotion_id', 'promotion', ['promotion_id'], ['id'])

    with op.batch_alter_table('stock_in', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_opening', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('stock_in', schema=None) as batch_op:
        batch_op.drop_column('is_opening')

    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sales_order_line_promotion_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_sales_order_line_promotion_id'))
        batch_op.drop_column('promotion_id')

    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sales_order_payment_term_id', type_='foreignkey')
        batch_op.drop_column('credited_amount')
        batch_op.drop_column('is_opening')
        batch_op.drop_column('discount_until')
        batch_op.drop_column('discount_percent')
        batch_op.drop_column('payment_term_id')

    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_column('discount_amount')
        batch_op.drop_column('cash_discount')

    with op.batch_alter_table('quotation_line', schema=None) as batch_op:
        batch_op.drop_constraint('fk_quotation_line_promotion_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_quotation_line_promotion_id'))
        batch_op.drop_column('promotion_id')

    with op.batch_alter_table('purchase_invoice', schema=None) as batch_op:
        batch_op.drop_column('tax_amount')
        batch_op.drop_column('net_amount')
        batch_op.drop_column('tax_rate')

    with op.batch_alter_table('purchase_contract', schema=None) as batch_op:
        batch_op.drop_column('due_date')
        batch_op.drop_column('is_opening')
        batch_op.drop_column('invoiced_amount')

    with op.batch_alter_table('end_customer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_end_customer_payment_term_id', type_='foreignkey')
        batch_op.drop_column('payment_term_id')

    with op.batch_alter_table('receivable_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receivable_credit_receipt_id'))
        batch_op.drop_index(batch_op.f('ix_receivable_credit_rebate_id'))
        batch_op.drop_index(batch_op.f('ix_receivable_credit_owner_id'))
        batch_op.drop_index(batch_op.f('ix_receivable_credit_order_id'))
        batch_op.drop_index(batch_op.f('ix_receivable_credit_kind'))
        batch_op.drop_index(batch_op.f('ix_receivable_credit_doc_date'))

    op.drop_table('receivable_credit')
    with op.batch_alter_table('rebate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rebate_status'))
        batch_op.drop_index(batch_op.f('ix_rebate_owner_id'))
        batch_op.drop_index(batch_op.f('ix_rebate_doc_date'))
        batch_op.drop_index(batch_op.f('ix_rebate_agreement_id'))

    op.drop_table('rebate')
    with op.batch_alter_table('rebate_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rebate_agreement_owner_id'))
        batch_op.drop_index(batch_op.f('ix_rebate_agreement_end_customer_id'))
        batch_op.drop_index(batch_op.f('ix_rebate_agreement_channel_id'))

    op.drop_table('rebate_agreement')
    with op.batch_alter_table('opening_balance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_balance_kind'))
        batch_op.drop_index(batch_op.f('ix_opening_balance_end_customer_id'))
        batch_op.drop_index(batch_op.f('ix_opening_balance_doc_number'))

    op.drop_table('opening_balance')
    op.drop_table('promotion_product')
    op.drop_table('promotion_customer_type')
    op.drop_table('promotion_category')
    with op.batch_alter_table('promotion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promotion_start_date'))
        batch_op.drop_index(batch_op.f('ix_promotion_end_date'))

    op.drop_table('promotion')
    op.drop_table('payment_term')
