"""A county's minimum sample per measure (对标): a rate or mean score whose denominator is below it
is shown with its counts but not compared, and the street's composite score uses only the measures
that reach it. Existing counties get the default, 5.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("benchmark_settings", sa.Column("min_denominator", sa.Integer(), nullable=False,
                                                  server_default="5"))


def downgrade() -> None:
    op.drop_column("benchmark_settings", "min_denominator")
