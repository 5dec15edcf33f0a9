"""Sign-in throttling by growing waits (issue 16): failures counted per account and address, and
the accounts an address failed on, one row each (accounts/throttle.py), in place of a row per try;
and a session's last request, written at most once a minute for the idle timeout
(accounts/sessions.py), sends no change notice: what processes keep of a session does not hold it

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-09 00:00:00
"""
import sqlalchemy as sa
from alembic import op

from shangliang.core.db import UTCDateTime

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


# 0020's trigger on auth_sessions, for every column but last_seen_at (and those kept by no process)
QUIET_SESSIONS = ("CREATE TRIGGER auth_sessions_changed AFTER INSERT OR DELETE OR UPDATE OF token_hash, user_id, "
                  "created_at ON auth_sessions FOR EACH ROW EXECUTE FUNCTION shangliang_notify_change('user_id')")
LOUD_SESSIONS = ("CREATE TRIGGER auth_sessions_changed AFTER INSERT OR UPDATE OR DELETE ON auth_sessions "
                 "FOR EACH ROW EXECUTE FUNCTION shangliang_notify_change('user_id')")


def _session_trigger(create: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite: one process, nothing kept (core/changes.py)
    op.execute('DROP TRIGGER IF EXISTS auth_sessions_changed ON auth_sessions')
    op.execute(create)


def upgrade() -> None:
    _session_trigger(QUIET_SESSIONS)
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
    _session_trigger(LOUD_SESSIONS)
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
