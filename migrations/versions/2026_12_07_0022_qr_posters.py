"""QR codes for stations and grids: the station a topic was raised at (topics.station_id), and the
rollups' topics by intake channel (benchmark_rollups.channels)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('topics') as batch_op:
        batch_op.add_column(sa.Column('station_id', sa.Uuid(), nullable=True))
    with op.batch_alter_table('benchmark_rollups') as batch_op:
        batch_op.add_column(sa.Column('channels', sa.JSON(), nullable=False, server_default='{}'))
    # Rows written before count no channels: the next periodic pass computes every month again.
    op.execute('DELETE FROM benchmark_state')


def downgrade() -> None:
    with op.batch_alter_table('benchmark_rollups') as batch_op:
        batch_op.drop_column('channels')
    with op.batch_alter_table('topics') as batch_op:
        batch_op.drop_column('station_id')
