"""topics and their immutable event log, under RLS

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 12:23:18.447146
"""
from alembic import op
import sqlalchemy as sa
import shangliang.core.db

import rls

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('topics',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('procedure_version_id', sa.Uuid(), nullable=False),
    sa.Column('step_key', sa.String(length=40), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closed_as', sa.String(length=32), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('step_entered_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('community', sa.String(length=60), nullable=True),
    sa.Column('grid', sa.String(length=60), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('resident_name', sa.String(length=60), nullable=True),
    sa.Column('resident_phone', sa.String(length=20), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_topics_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'procedure_version_id'], ['procedure_versions.tenant_id', 'procedure_versions.id'], name=op.f('fk_topics_tenant_id_procedure_versions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topics_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topics')),
    sa.UniqueConstraint('tenant_id', 'number', name='uq_topics_tenant_number')
    )
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.create_index('ix_topics_tenant_due', ['tenant_id', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_topics_tenant_step', ['tenant_id', 'status', 'step_key', 'due_at', 'number'], unique=False)

    op.create_table('topic_events',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_step', sa.String(length=40), nullable=True),
    sa.Column('to_step', sa.String(length=40), nullable=True),
    sa.Column('phase_from', sa.String(length=16), nullable=True),
    sa.Column('phase_to', sa.String(length=16), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_topic_events_actor_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topics.tenant_id', 'topics.id'], name=op.f('fk_topic_events_tenant_id_topics')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topic_events')),
    sa.UniqueConstraint('tenant_id', 'topic_id', 'seq', name='uq_topic_events_topic_seq')
    )
    with op.batch_alter_table('topic_events', schema=None) as batch_op:
        batch_op.create_index('ix_topic_events_tenant_phase_at', ['tenant_id', 'phase_to', 'at'], unique=False)


    op.create_table('topic_counters',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_topic_counters'))
    )
    rls.enable("topic_counters")
    rls.enable("topics")
    rls.enable("topic_events")
    rls.append_only("topic_events")

def downgrade() -> None:
    rls.drop_append_only("topic_events")
    rls.disable("topic_events")
    rls.disable("topics")
    rls.disable("topic_counters")
    op.drop_table('topic_counters')
    with op.batch_alter_table('topic_events', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_events_tenant_phase_at')

    op.drop_table('topic_events')
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_index('ix_topics_tenant_step')
        batch_op.drop_index('ix_topics_tenant_due')

    op.drop_table('topics')
