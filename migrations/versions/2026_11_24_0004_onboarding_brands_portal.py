"""street onboarding: communities, invitations, brand versions, portal receipts and rate limits, exports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 13:54:22.926244
"""
from alembic import op
import sqlalchemy as sa
import shangliang.core.db

import rls

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_events'))
    )
    with op.batch_alter_table('rate_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_rate_events_bucket_key_at', ['bucket', 'key', 'at'], unique=False)

    op.create_table('brand_versions',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=40), nullable=False),
    sa.Column('brand_name', sa.String(length=20), nullable=False),
    sa.Column('slogan', sa.String(length=40), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('primary_colour', sa.String(length=7), nullable=False),
    sa.Column('accent_colour', sa.String(length=7), nullable=False),
    sa.Column('text_colour', sa.String(length=7), nullable=False),
    sa.Column('logo_key', sa.String(length=200), nullable=True),
    sa.Column('banner_key', sa.String(length=200), nullable=True),
    sa.Column('qr_key', sa.String(length=200), nullable=True),
    sa.Column('hotlines', sa.JSON(), nullable=False),
    sa.Column('mailbox', sa.String(length=200), nullable=False),
    sa.Column('stations', sa.JSON(), nullable=False),
    sa.Column('footer', sa.String(length=300), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_brand_versions_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_brand_versions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_brand_versions')),
    sa.UniqueConstraint('tenant_id', 'number', name='uq_brand_versions_tenant_number')
    )
    op.create_table('communities',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('grids', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_communities_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_communities'))
    )
    op.create_table('invitations',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.Integer(), nullable=True),
    sa.Column('revoked_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_invitations_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_invitations_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['used_by'], ['users.id'], name=op.f('fk_invitations_used_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    op.create_table('tenant_exports',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done_items', sa.Integer(), nullable=False),
    sa.Column('total_items', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_tenant_exports_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_exports_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tenant_exports'))
    )
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('population', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_note', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('brand_number', sa.Integer(), nullable=True))

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_topics_tenant_receipt', ['tenant_id', 'receipt_hash'])

    for table in ('brand_versions', 'communities', 'invitations', 'tenant_exports'):
        rls.enable(table)



def downgrade() -> None:
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_constraint('uq_topics_tenant_receipt', type_='unique')
        batch_op.drop_column('receipt_hash')

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('brand_number')
        batch_op.drop_column('status_note')
        batch_op.drop_column('population')

    op.drop_table('tenant_exports')
    op.drop_table('invitations')
    op.drop_table('communities')
    op.drop_table('brand_versions')
    with op.batch_alter_table('rate_events', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_events_bucket_key_at')
        batch_op.drop_index(batch_op.f('ix_rate_events_at'))

    op.drop_table('rate_events')
