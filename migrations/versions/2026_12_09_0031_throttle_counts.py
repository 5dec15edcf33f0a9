"""the portal's rate limits count in fixed windows, one row per bucket, key and window, taken by one
atomic statement (INSERT … ON CONFLICT DO UPDATE … RETURNING, portal/limits.py): throttle_counts
replaces throttle_hits (a row per attempt, counted and then added: parallel requests passed the
count together). The hits of the hour before are not carried over: limits start afresh once.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-09 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import shangliang.core.db

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('throttle_counts',
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('since', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'key', 'since', name=op.f('pk_throttle_counts'))
    )
    with op.batch_alter_table('throttle_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_throttle_hits_bucket_key_at')
        batch_op.drop_index('ix_throttle_hits_at')
    op.drop_table('throttle_hits')


def downgrade() -> None:
    op.create_table('throttle_hits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('at', shangliang.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_hits'))
    )
    with op.batch_alter_table('throttle_hits', schema=None) as batch_op:
        batch_op.create_index('ix_throttle_hits_at', ['at'], unique=False)
        batch_op.create_index('ix_throttle_hits_bucket_key_at', ['bucket', 'key', 'at'], unique=False)
    op.drop_table('throttle_counts')
