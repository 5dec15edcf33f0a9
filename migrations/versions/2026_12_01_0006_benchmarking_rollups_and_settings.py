"""benchmarking (对标): rollups per tenant and period, county settings, published rankings;
topics keep their response and completion deadlines, duty shifts when they last changed

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 06:21:46.766073
"""
from alembic import op
import sqlalchemy as sa
import shangliang.core.db

import rls

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('benchmark_publications',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('definitions', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('as_of', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'], name=op.f('fk_benchmark_publications_published_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_benchmark_publications_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_benchmark_publications')),
    sa.UniqueConstraint('tenant_id', 'number', name='uq_benchmark_publications_tenant_number')
    )
    op.create_table('benchmark_rollups',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('collected', sa.Integer(), nullable=False),
    sa.Column('response_due', sa.Integer(), nullable=False),
    sa.Column('responded_on_time', sa.Integer(), nullable=False),
    sa.Column('completion_due', sa.Integer(), nullable=False),
    sa.Column('completed_on_time', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('closed_rated', sa.Integer(), nullable=False),
    sa.Column('closed_reopened', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('rated_solved', sa.Integer(), nullable=False),
    sa.Column('rated_very_satisfied', sa.Integer(), nullable=False),
    sa.Column('rated_satisfied', sa.Integer(), nullable=False),
    sa.Column('rated_basic', sa.Integer(), nullable=False),
    sa.Column('consulted', sa.Integer(), nullable=False),
    sa.Column('adopted', sa.Integer(), nullable=False),
    sa.Column('meetings_held', sa.Integer(), nullable=False),
    sa.Column('members_active', sa.Integer(), nullable=False),
    sa.Column('members_total', sa.Integer(), nullable=False),
    sa.Column('response_p50_h', sa.Float(), nullable=True),
    sa.Column('response_p90_h', sa.Float(), nullable=True),
    sa.Column('close_p50_h', sa.Float(), nullable=True),
    sa.Column('close_p90_h', sa.Float(), nullable=True),
    sa.Column('excluded', sa.JSON(), nullable=False),
    sa.Column('durations', sa.JSON(), nullable=False),
    sa.Column('active_members', sa.JSON(), nullable=False),
    sa.Column('as_of', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_benchmark_rollups_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'period', name=op.f('pk_benchmark_rollups'))
    )
    op.create_table('benchmark_settings',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('min_topics', sa.Integer(), nullable=False),
    sa.Column('measures', sa.JSON(), nullable=False),
    sa.Column('basic_counts', sa.Boolean(), nullable=False),
    sa.Column('show_names', sa.Boolean(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('updated_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_benchmark_settings_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_benchmark_settings_updated_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_benchmark_settings'))
    )
    op.create_table('benchmark_state',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_benchmark_state_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_benchmark_state'))
    )
    with op.batch_alter_table('duty_shifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False,
                                      server_default=sa.text('CURRENT_TIMESTAMP')))
    with op.batch_alter_table('duty_shifts', schema=None) as batch_op:
        batch_op.alter_column('updated_at', server_default=None)

    with op.batch_alter_table('topic_events', schema=None) as batch_op:
        batch_op.create_index('ix_topic_events_tenant_at', ['tenant_id', 'at'], unique=False)

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_due_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deadline_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_topics_tenant_created', ['tenant_id', 'created_at'], unique=False)

    for table in ('benchmark_publications', 'benchmark_rollups', 'benchmark_settings', 'benchmark_state'):
        rls.enable(table)
    backfill_deadlines()


def backfill_deadlines() -> None:
    """Topics recorded before this revision get the deadlines they would have had at intake."""
    from shangliang.topics.operations import add_time_limit, procedure_deadline

    conn = op.get_bind()
    if rls.is_postgres():  # the owner is held to the policies too: read every tenant's rows here
        conn.execute(sa.text("SELECT set_config('app.tenant_ids', COALESCE((SELECT string_agg(id::text, ',') "
                             "FROM tenants), ''), true)"))
    versions = sa.table('procedure_versions', sa.column('tenant_id'), sa.column('id'),
                        sa.column('definition', sa.JSON()))
    topics = sa.table('topics', sa.column('tenant_id'), sa.column('id'), sa.column('procedure_version_id'),
                      sa.column('created_at', shangliang.core.db.UTCDateTime()),
                      sa.column('response_due_at', shangliang.core.db.UTCDateTime()),
                      sa.column('deadline_at', shangliang.core.db.UTCDateTime()))
    tenants = sa.table('tenants', sa.column('id'), sa.column('timezone'))
    zones = dict(conn.execute(sa.select(tenants.c.id, tenants.c.timezone)).all())
    steps = {(t, v): d["steps"] for t, v, d in conn.execute(sa.select(versions))}
    rows = conn.execute(sa.select(topics.c.tenant_id, topics.c.id, topics.c.procedure_version_id,
                                  topics.c.created_at)).all()
    for tenant_id, topic_id, version_id, created in rows:
        path, tz = steps[(tenant_id, version_id)], zones[tenant_id]
        conn.execute(topics.update().where(topics.c.tenant_id == tenant_id, topics.c.id == topic_id).values(
            response_due_at=add_time_limit(created, path[0].get("time_limit"), tz),
            deadline_at=procedure_deadline(path, created, tz)))



def downgrade() -> None:
    for table in ('benchmark_publications', 'benchmark_rollups', 'benchmark_settings', 'benchmark_state'):
        rls.disable(table)
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_index('ix_topics_tenant_created')
        batch_op.drop_column('deadline_at')
        batch_op.drop_column('response_due_at')

    with op.batch_alter_table('topic_events', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_events_tenant_at')

    with op.batch_alter_table('duty_shifts', schema=None) as batch_op:
        batch_op.drop_column('updated_at')

    op.drop_table('benchmark_state')
    op.drop_table('benchmark_settings')
    op.drop_table('benchmark_rollups')
    op.drop_table('benchmark_publications')
