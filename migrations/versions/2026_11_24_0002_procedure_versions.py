"""procedure versions: each tenant's published procedures, immutable, under RLS

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:17:36.032293
"""
from alembic import op
import sqlalchemy as sa
import shangliang.core.db

import rls

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('procedure_versions',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('template_key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('published_at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'], name=op.f('fk_procedure_versions_published_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_procedure_versions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_procedure_versions')),
    sa.UniqueConstraint('tenant_id', 'number', name='uq_procedure_versions_tenant_number')
    )
    rls.enable("procedure_versions")
    rls.append_only("procedure_versions")


def downgrade() -> None:
    rls.drop_append_only("procedure_versions")
    rls.disable("procedure_versions")
    op.drop_table('procedure_versions')
