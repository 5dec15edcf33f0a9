"""督办 and the other evaluating parties as benchmarking measures: their counts on the rollups

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

COLUMNS = ('supervised', 'supervised_closed', 'officials_rated', 'officials_satisfied', 'members_rated',
           'members_satisfied', 'scored', 'score_points')


def upgrade() -> None:
    with op.batch_alter_table('benchmark_rollups') as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    # Rows written before hold no such counts: the next periodic pass computes every month again.
    op.execute('DELETE FROM benchmark_state')


def downgrade() -> None:
    with op.batch_alter_table('benchmark_rollups') as batch_op:
        for name in COLUMNS:
            batch_op.drop_column(name)
