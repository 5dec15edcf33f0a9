"""网格员 and 楼院长 sign in with roles of their own (grid_worker, building_head), bound to the grids
the street's roster gives them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:00:00
"""
import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa

import rls

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

BEFORE = "role IN ('platform_admin', 'county_admin', 'street_admin', 'staff', 'member', 'department')"
AFTER = ("role IN ('platform_admin', 'county_admin', 'street_admin', 'staff', 'member', 'department', "
         "'grid_worker', 'building_head')")


def _roles_version_triggers():
    """0010's triggers on memberships: SQLite drops them with the table a batch copy replaces."""
    spec = importlib.util.spec_from_file_location(
        "m0010", Path(__file__).with_name("2026_12_07_0010_users_roles_version.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SQLITE


def _check(rule: str) -> None:
    if rls.is_postgres():
        op.execute("ALTER TABLE memberships DROP CONSTRAINT ck_memberships_role")
        op.execute(f"ALTER TABLE memberships ADD CONSTRAINT ck_memberships_role CHECK ({rule})")
        return
    with op.batch_alter_table('memberships', recreate='always') as batch_op:
        batch_op.drop_constraint(op.f('ck_memberships_role'), type_='check')
        batch_op.create_check_constraint('role', sa.text(rule))
    for when, body in _roles_version_triggers().items():
        op.execute(f"DROP TRIGGER IF EXISTS memberships_roles_version_{when}")
        op.execute(f"CREATE TRIGGER memberships_roles_version_{when} AFTER {when.upper()} ON memberships "
                   f"FOR EACH ROW BEGIN {body} END")


def upgrade() -> None:
    _check(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM memberships WHERE role IN ('grid_worker', 'building_head')")
    _check(BEFORE)
