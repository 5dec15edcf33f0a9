"""Service accounts for systems that act for residents (a WeChat mini-program's back end): a token
with no owner, the role `resident_service`, the scope `residents` and the intake channel its topics
come in by. Only a service account has a channel.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 09:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

SERVICE_CHANNEL = "(channel IS NOT NULL) = (role IS NOT NULL AND role = 'resident_service')"


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=32), nullable=True))
        batch_op.create_check_constraint('service_channel', sa.text(SERVICE_CHANNEL))


def downgrade() -> None:
    # A service account without its channel would raise topics by none: it cannot outlive the downgrade.
    op.execute("DELETE FROM api_tokens WHERE role = 'resident_service'")
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_constraint(op.f('ck_api_tokens_service_channel'), type_='check')
        batch_op.drop_column('channel')
