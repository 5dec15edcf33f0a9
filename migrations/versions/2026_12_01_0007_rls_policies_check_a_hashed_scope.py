"""row-level security policies look the tenant up in a hashed set built once per statement
(see rls.IN_SCOPE) instead of an inlined array evaluated per row

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:20:00
"""
import rls

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rls.rewrite_policies(rls.IN_SCOPE)


def downgrade() -> None:
    rls.rewrite_policies(rls.EARLIER)
