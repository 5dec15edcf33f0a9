"""departments and units a street or county works with, the people who answer for them, and
transfers (转交/转办) of topics to them, each with its own state

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('departments',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_departments_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_departments')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_departments_tenant_name')
    )
    op.create_table('department_contacts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['departments.tenant_id', 'departments.id'],
                            name=op.f('fk_department_contacts_tenant_id_departments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_department_contacts_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_department_contacts_user_id_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'department_id', 'user_id', name=op.f('pk_department_contacts'))
    )
    op.create_index('ix_department_contacts_user', 'department_contacts', ['user_id'], unique=False)
    op.create_table('topic_transfers',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('department_tenant_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('department_name', sa.String(length=100), nullable=False),
    sa.Column('asked', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('sent_by', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_by', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topics.tenant_id', 'topics.id'],
                            name=op.f('fk_topic_transfers_tenant_id_topics')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_transfers_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['department_tenant_id'], ['tenants.id'],
                            name=op.f('fk_topic_transfers_department_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['sent_by'], ['users.id'], name=op.f('fk_topic_transfers_sent_by_users')),
    sa.ForeignKeyConstraint(['accepted_by'], ['users.id'], name=op.f('fk_topic_transfers_accepted_by_users')),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_topic_transfers_answered_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topic_transfers'))
    )
    op.create_index('ix_topic_transfers_topic', 'topic_transfers', ['tenant_id', 'topic_id', 'sent_at'], unique=False)
    op.create_index('ix_topic_transfers_inbox', 'topic_transfers', ['tenant_id', 'department_id', 'state', 'due_at'],
                    unique=False)
    op.create_index('ix_topic_transfers_due', 'topic_transfers', ['tenant_id', 'state', 'due_at'], unique=False)
    op.create_index('ix_topic_transfers_sent', 'topic_transfers', ['tenant_id', 'sent_at'], unique=False)
    rls.enable('departments')
    rls.enable('department_contacts', 'user_id')  # a person finds the departments they answer for
    rls.enable('topic_transfers')


def downgrade() -> None:
    for table in ('topic_transfers', 'department_contacts', 'departments'):
        rls.disable(table)
    op.drop_index('ix_topic_transfers_sent', table_name='topic_transfers')
    op.drop_index('ix_topic_transfers_due', table_name='topic_transfers')
    op.drop_index('ix_topic_transfers_inbox', table_name='topic_transfers')
    op.drop_index('ix_topic_transfers_topic', table_name='topic_transfers')
    op.drop_table('topic_transfers')
    op.drop_index('ix_department_contacts_user', table_name='department_contacts')
    op.drop_table('department_contacts')
    op.drop_table('departments')
