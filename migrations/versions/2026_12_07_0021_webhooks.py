"""Outbound webhooks: a street's subscriptions (a URL, the events it chose, its secret sealed) and
the deliveries made for them, with their attempts (integrations/)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 20:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

TABLES = ('webhook_subscriptions', 'webhook_deliveries')


def upgrade() -> None:
    op.create_table('webhook_subscriptions',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret_sealed', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_webhook_subscriptions_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_webhook_subscriptions_created_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subscription_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('resends', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('give_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sending_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=32), nullable=True),
    sa.Column('last_detail', sa.String(length=300), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'subscription_id'],
                            ['webhook_subscriptions.tenant_id', 'webhook_subscriptions.id'],
                            name=op.f('fk_webhook_deliveries_tenant_id_webhook_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_webhook_deliveries_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_webhook_deliveries'))
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['tenant_id', 'state', 'next_attempt_at'],
                    unique=False)
    op.create_index('ix_webhook_deliveries_created', 'webhook_deliveries', ['tenant_id', 'created_at'], unique=False)
    op.create_index('ix_webhook_deliveries_subscription', 'webhook_deliveries',
                    ['tenant_id', 'subscription_id', 'created_at'], unique=False)
    for table in TABLES:
        rls.enable(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        rls.disable(table)
    op.drop_index('ix_webhook_deliveries_subscription', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_created', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
