"""办理公示 is reviewed, not automatic: a concluded topic is public once staff publish its public
text and the photos they chose (topics.published_at, topics.publication); the topics already public
before this change stay public as they were

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('topics') as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('publication', sa.JSON(), nullable=True))
    op.create_index('ix_topics_tenant_published', 'topics', ['tenant_id', 'published_at'], unique=False)
    if rls.is_postgres():  # the owner is held to the policies too: every tenant's rows, here
        op.execute("SELECT set_config('app.tenant_ids', COALESCE((SELECT string_agg(id::text, ',') FROM tenants), "
                   "''), true)")
    op.execute("UPDATE topics SET published_at = updated_at WHERE status = 'closed' AND closed_as = 'done'")


def downgrade() -> None:
    op.drop_index('ix_topics_tenant_published', table_name='topics')
    with op.batch_alter_table('topics') as batch_op:
        batch_op.drop_column('publication')
        batch_op.drop_column('published_at')
