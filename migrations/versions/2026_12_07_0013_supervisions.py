"""督办: a county's or street's supervision note on an overdue or escalated topic, with a new due time

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('topic_supervisions',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topics.tenant_id', 'topics.id'],
                            name=op.f('fk_topic_supervisions_tenant_id_topics')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_supervisions_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['by'], ['users.id'], name=op.f('fk_topic_supervisions_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topic_supervisions'))
    )
    op.create_index('ix_topic_supervisions_topic', 'topic_supervisions', ['tenant_id', 'topic_id'], unique=False)
    op.create_index('ix_topic_supervisions_at', 'topic_supervisions', ['tenant_id', 'at'], unique=False)
    rls.enable('topic_supervisions')


def downgrade() -> None:
    rls.disable('topic_supervisions')
    op.drop_index('ix_topic_supervisions_at', table_name='topic_supervisions')
    op.drop_index('ix_topic_supervisions_topic', table_name='topic_supervisions')
    op.drop_table('topic_supervisions')
