"""提请 reaches someone: each escalation waits in the queue of the level its procedure names (the
street's 党工委 or the county) until that level answers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 11:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('topic_escalations',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=True),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_kind', sa.String(length=16), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topics.tenant_id', 'topics.id'],
                            name=op.f('fk_topic_escalations_tenant_id_topics')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_escalations_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['raised_by'], ['users.id'], name=op.f('fk_topic_escalations_raised_by_users')),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_topic_escalations_answered_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topic_escalations'))
    )
    op.create_index('ix_topic_escalations_queue', 'topic_escalations', ['tenant_id', 'level', 'state', 'raised_at'],
                    unique=False)
    op.create_index('ix_topic_escalations_topic', 'topic_escalations', ['tenant_id', 'topic_id'], unique=False)
    rls.enable('topic_escalations')


def downgrade() -> None:
    rls.disable('topic_escalations')
    op.drop_index('ix_topic_escalations_topic', table_name='topic_escalations')
    op.drop_index('ix_topic_escalations_queue', table_name='topic_escalations')
    op.drop_table('topic_escalations')
