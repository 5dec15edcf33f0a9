"""An upload to a topic made as evidence of its step (issue 15): the uploader's choice, kept with the
file so that the check that makes it ready records it on the topic, with no second click

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-08 01:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("attachments", sa.Column("as_evidence", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("attachments", "as_evidence")
