"""pages that stay flat as topics grow: the board reads its counts from a row per step and state
(topic_step_counts, filled here from the topics), and the portal's latest concluded topics and
公示 read the first rows of an index on (tenant_id, status, closed_as, updated_at)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COUNT = """
INSERT INTO topic_step_counts (tenant_id, step_key, state, topics)
SELECT tenant_id, step_key,
       CASE WHEN status = 'closed' THEN 'closed' WHEN overdue THEN 'overdue' ELSE 'open' END,
       count(*)
FROM topics GROUP BY 1, 2, 3
"""


def upgrade() -> None:
    op.create_table('topic_step_counts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('step_key', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('topics', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_step_counts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'step_key', 'state', name=op.f('pk_topic_step_counts'))
    )
    op.create_index('ix_topics_tenant_concluded', 'topics', ['tenant_id', 'status', 'closed_as', 'updated_at'],
                    unique=False)
    rls.enable('topic_step_counts')
    if rls.is_postgres():  # the owner is held to the policies too: every tenant's rows, here
        op.execute("SELECT set_config('app.tenant_ids', COALESCE((SELECT string_agg(id::text, ',') FROM tenants), "
                   "''), true)")
    op.execute(COUNT)


def downgrade() -> None:
    rls.disable('topic_step_counts')
    op.drop_index('ix_topics_tenant_concluded', table_name='topics')
    op.drop_table('topic_step_counts')
