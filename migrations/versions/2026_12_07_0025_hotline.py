"""12345 work orders: a county's hotline account (its secret sealed), its orders by number (the
queue of those that matched no street), the signatures it used (replays refused), and which webhook
subscriptions of the streets the account keeps (integrations/hotline/)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 22:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

TABLES = ('hotline_accounts', 'hotline_orders', 'hotline_requests')


def upgrade() -> None:
    op.create_table('hotline_accounts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('secret_sealed', sa.String(length=200), nullable=False),
    sa.Column('callback_url', sa.String(length=500), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_hotline_accounts_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_hotline_accounts_created_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_hotline_accounts')),
    sa.UniqueConstraint('tenant_id', name='uq_hotline_accounts_tenant')
    )
    op.create_table('hotline_orders',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('caller_name', sa.String(length=60), nullable=True),
    sa.Column('caller_phone', sa.String(length=20), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('queue_reason', sa.String(length=16), nullable=True),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Uuid(), nullable=True),
    sa.Column('topic_number', sa.Integer(), nullable=True),
    sa.Column('routed_by', sa.Integer(), nullable=True),
    sa.Column('routed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updates', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_hotline_orders_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['street_id'], ['tenants.id'], name=op.f('fk_hotline_orders_street_id_tenants')),
    sa.ForeignKeyConstraint(['routed_by'], ['users.id'], name=op.f('fk_hotline_orders_routed_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_hotline_orders')),
    sa.UniqueConstraint('tenant_id', 'number', name='uq_hotline_orders_number')
    )
    op.create_index('ix_hotline_orders_state', 'hotline_orders', ['tenant_id', 'state', 'received_at'], unique=False)
    op.create_table('hotline_requests',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_hotline_requests_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'signature', name=op.f('pk_hotline_requests'))
    )
    op.create_index('ix_hotline_requests_seen', 'hotline_requests', ['tenant_id', 'seen_at'], unique=False)
    with op.batch_alter_table('webhook_subscriptions') as batch_op:
        batch_op.add_column(sa.Column('managed_by', sa.String(length=16), nullable=True))
    for table in TABLES:
        rls.enable(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        rls.disable(table)
    with op.batch_alter_table('webhook_subscriptions') as batch_op:
        batch_op.drop_column('managed_by')
    op.drop_index('ix_hotline_requests_seen', table_name='hotline_requests')
    op.drop_table('hotline_requests')
    op.drop_index('ix_hotline_orders_state', table_name='hotline_orders')
    op.drop_table('hotline_orders')
    op.drop_table('hotline_accounts')
