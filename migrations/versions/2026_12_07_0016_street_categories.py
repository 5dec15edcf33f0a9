"""a street's topic categories (议题类别), chosen from at intake like its communities and grids

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 15:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.add_column(sa.Column('categories', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.drop_column('categories')
