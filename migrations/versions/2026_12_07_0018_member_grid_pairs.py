"""委员-网格员结对: a CPPCC member paired with grids of the street (一对一 or 一对多), read by claim
suggestions, the duty rota, a new topic's notifications and a grid worker's home

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 17:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('member_grid_pairs',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('community', sa.String(length=60), nullable=False),
    sa.Column('grid', sa.String(length=60), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['roster_people.tenant_id', 'roster_people.id'],
                            name=op.f('fk_member_grid_pairs_tenant_id_roster_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_member_grid_pairs_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_member_grid_pairs_created_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_member_grid_pairs')),
    sa.UniqueConstraint('tenant_id', 'person_id', 'community', 'grid', name='uq_member_grid_pairs_person_grid')
    )
    op.create_index('ix_member_grid_pairs_grid', 'member_grid_pairs', ['tenant_id', 'community', 'grid'],
                    unique=False)
    rls.enable('member_grid_pairs')


def downgrade() -> None:
    rls.disable('member_grid_pairs')
    op.drop_index('ix_member_grid_pairs_grid', table_name='member_grid_pairs')
    op.drop_table('member_grid_pairs')
