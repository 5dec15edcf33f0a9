"""议题公示 / 公开征题: a topic put on public notice before it is consulted (topic_notices), the
residents' supports and comments on it, each person kept only as a keyed hash of their mobile number
(topic_notice_supports, topic_notice_comments)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLES = ('topic_notices', 'topic_notice_supports', 'topic_notice_comments')


def upgrade() -> None:
    op.create_table('topic_notices',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('step_key', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topics.tenant_id', 'topics.id'],
                            name=op.f('fk_topic_notices_tenant_id_topics')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_notices_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'], name=op.f('fk_topic_notices_published_by_users')),
    sa.ForeignKeyConstraint(['withdrawn_by'], ['users.id'], name=op.f('fk_topic_notices_withdrawn_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'topic_id', name=op.f('pk_topic_notices'))
    )
    op.create_index('ix_topic_notices_published', 'topic_notices', ['tenant_id', 'published_at'], unique=False)
    op.create_table('topic_notice_supports',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('person_hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topics.tenant_id', 'topics.id'],
                            name=op.f('fk_topic_notice_supports_tenant_id_topics')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_notice_supports_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topic_notice_supports')),
    sa.UniqueConstraint('tenant_id', 'topic_id', 'person_hash', name='uq_topic_notice_supports_person')
    )
    op.create_table('topic_notice_comments',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('person_hash', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topics.tenant_id', 'topics.id'],
                            name=op.f('fk_topic_notice_comments_tenant_id_topics')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_topic_notice_comments_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_topic_notice_comments_reviewed_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topic_notice_comments')),
    sa.UniqueConstraint('tenant_id', 'topic_id', 'person_hash', name='uq_topic_notice_comments_person')
    )
    op.create_index('ix_topic_notice_comments_state', 'topic_notice_comments', ['tenant_id', 'state', 'at'],
                    unique=False)
    for table in TABLES:
        rls.enable(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        rls.disable(table)
    op.drop_index('ix_topic_notice_comments_state', table_name='topic_notice_comments')
    op.drop_table('topic_notice_comments')
    op.drop_table('topic_notice_supports')
    op.drop_index('ix_topic_notices_published', table_name='topic_notices')
    op.drop_table('topic_notices')
