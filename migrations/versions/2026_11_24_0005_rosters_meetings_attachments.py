"""rosters, stations, duty rota, meetings, attachments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 14:35:06.303944
"""
from alembic import op
import sqlalchemy as sa
import shangliang.core.db

import rls

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_kind', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('declared_size', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('taken_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('thumb_key', sa.String(length=200), nullable=True),
    sa.Column('web_key', sa.String(length=200), nullable=True),
    sa.Column('same_as', sa.Uuid(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_attachments_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_attachments_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('ix_attachments_owner', ['tenant_id', 'owner_kind', 'owner_id'], unique=False)
        batch_op.create_index('ix_attachments_sha256', ['tenant_id', 'sha256'], unique=False)

    op.create_table('meetings',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('form', sa.String(length=16), nullable=False),
    sa.Column('starts_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('station_id', sa.Uuid(), nullable=True),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_meetings_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_meetings_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('tenant_id', 'number', name='uq_meetings_tenant_number')
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_tenant_starts', ['tenant_id', 'starts_at'], unique=False)

    op.create_table('roster_imports',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('file_key', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('done_rows', sa.Integer(), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('refused', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_roster_imports_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_roster_imports_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_roster_imports'))
    )
    op.create_table('roster_people',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('sector', sa.String(length=40), nullable=True),
    sa.Column('specialties', sa.JSON(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('community', sa.String(length=60), nullable=True),
    sa.Column('grid', sa.String(length=60), nullable=True),
    sa.Column('organisation', sa.String(length=100), nullable=True),
    sa.Column('title', sa.String(length=60), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('import_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_roster_people_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roster_people_user_id_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_roster_people')),
    sa.UniqueConstraint('tenant_id', 'import_key', name='uq_roster_people_import_key')
    )
    with op.batch_alter_table('roster_people', schema=None) as batch_op:
        batch_op.create_index('ix_roster_people_tenant_kind_name', ['tenant_id', 'kind', 'name'], unique=False)

    op.create_table('stations',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('hours', sa.String(length=100), nullable=False),
    sa.Column('community', sa.String(length=60), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_stations_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_stations'))
    )
    op.create_table('storage_checks',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('objects', sa.Integer(), nullable=False),
    sa.Column('orphans', sa.JSON(), nullable=False),
    sa.Column('missing', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_storage_checks_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_storage_checks'))
    )
    op.create_table('duty_shifts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('station_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('swapped_from', sa.Uuid(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reminded_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['roster_people.tenant_id', 'roster_people.id'], name=op.f('fk_duty_shifts_tenant_id_roster_people')),
    sa.ForeignKeyConstraint(['tenant_id', 'station_id'], ['stations.tenant_id', 'stations.id'], name=op.f('fk_duty_shifts_tenant_id_stations')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_duty_shifts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_duty_shifts')),
    sa.UniqueConstraint('tenant_id', 'station_id', 'day', 'person_id', name='uq_duty_shifts_station_day_person')
    )
    with op.batch_alter_table('duty_shifts', schema=None) as batch_op:
        batch_op.create_index('ix_duty_shifts_tenant_day', ['tenant_id', 'day'], unique=False)

    op.create_table('meeting_minutes',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_meeting_minutes_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'meeting_id'], ['meetings.tenant_id', 'meetings.id'], name=op.f('fk_meeting_minutes_tenant_id_meetings')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_meeting_minutes_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_meeting_minutes')),
    sa.UniqueConstraint('tenant_id', 'meeting_id', 'revision', name='uq_meeting_minutes_revision')
    )
    op.create_table('meeting_participants',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('group', sa.String(length=16), nullable=False),
    sa.Column('convener', sa.Boolean(), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'meeting_id'], ['meetings.tenant_id', 'meetings.id'], name=op.f('fk_meeting_participants_tenant_id_meetings')),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['roster_people.tenant_id', 'roster_people.id'], name=op.f('fk_meeting_participants_tenant_id_roster_people')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_meeting_participants_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_meeting_participants'))
    )
    with op.batch_alter_table('meeting_participants', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_participants_meeting', ['tenant_id', 'meeting_id'], unique=False)

    op.create_table('work_items',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_person_id', sa.Uuid(), nullable=True),
    sa.Column('owner_name', sa.String(length=100), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('done_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'meeting_id'], ['meetings.tenant_id', 'meetings.id'], name=op.f('fk_work_items_tenant_id_meetings')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_work_items_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_work_items'))
    )
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index('ix_work_items_tenant_status_due', ['tenant_id', 'status', 'due_on'], unique=False)

    op.create_table('meeting_topics',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('agreement', sa.Text(), nullable=False),
    sa.Column('recorded_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'meeting_id'], ['meetings.tenant_id', 'meetings.id'], name=op.f('fk_meeting_topics_tenant_id_meetings')),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topics.tenant_id', 'topics.id'], name=op.f('fk_meeting_topics_tenant_id_topics')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_meeting_topics_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'meeting_id', 'topic_id', name=op.f('pk_meeting_topics'))
    )
    with op.batch_alter_table('meeting_topics', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_topics_topic', ['tenant_id', 'topic_id'], unique=False)

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_quota', sa.BigInteger(), nullable=True))

    for table in ('attachments', 'meetings', 'roster_imports', 'roster_people', 'stations', 'storage_checks', 'duty_shifts', 'meeting_minutes', 'meeting_participants', 'work_items', 'meeting_topics'):
        rls.enable(table)


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('storage_quota')

    with op.batch_alter_table('meeting_topics', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_topics_topic')

    op.drop_table('meeting_topics')
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_tenant_status_due')

    op.drop_table('work_items')
    with op.batch_alter_table('meeting_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_participants_meeting')

    op.drop_table('meeting_participants')
    op.drop_table('meeting_minutes')
    with op.batch_alter_table('duty_shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_shifts_tenant_day')

    op.drop_table('duty_shifts')
    op.drop_table('storage_checks')
    op.drop_table('stations')
    with op.batch_alter_table('roster_people', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_people_tenant_kind_name')

    op.drop_table('roster_people')
    op.drop_table('roster_imports')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_tenant_starts')

    op.drop_table('meetings')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_sha256')
        batch_op.drop_index('ix_attachments_owner')

    op.drop_table('attachments')
