"""Sign-in throttling by growing waits (issue 16): failures counted per account and address, and
the accounts an address failed on, one row each (accounts/throttle.py), in place of a row per try

Revision ID: 0031
Revises: 0029 (0030 is another branch's: whichever merges second revises the other's)
Create Date: 2026-12-09 00:00:00
"""
import sqlalchemy as sa
from alembic import op

from shangliang.core.db import UTCDateTime

revision = '0031'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_counts',
                    sa.Column('account', sa.String(length=64), nullable=False),
                    sa.Column('address', sa.String(length=40), nullable=False),
                    sa.Column('failures', sa.Integer(), nullable=False),
                    sa.Column('failed_at', UTCDateTime(timezone=True), nullable=True),
                    sa.Column('succeeded_at', UTCDateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('account', 'address', name=op.f('pk_sign_in_counts')))
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_at')
        batch_op.drop_index('ix_login_attempts_ip_at')
    op.drop_table('login_attempts')


def downgrade() -> None:
    op.create_table('login_attempts',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('username', sa.String(length=64), nullable=False),
                    sa.Column('ip', sa.String(length=64), nullable=False),
                    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
                    sa.Column('success', sa.Boolean(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')))
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_ip_at', ['ip', 'at'], unique=False)
        batch_op.create_index('ix_login_attempts_username_at', ['username', 'at'], unique=False)
    op.drop_table('sign_in_counts')
