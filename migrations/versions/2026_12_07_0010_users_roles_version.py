"""a person's roles carry a version: every change of their memberships (added, changed, removed,
by any path, cascades included) moves users.roles_version in the same transaction, so a web
process may keep their roles between requests and still sees a revoked role at the next one

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 09:00:00
"""
from alembic import op
import sqlalchemy as sa

import rls

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE FUNCTION memberships_moved_roles_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE users SET roles_version = roles_version + 1 WHERE id = NEW.user_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE users SET roles_version = roles_version + 1 WHERE id = OLD.user_id;
  ELSE
    UPDATE users SET roles_version = roles_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
  END IF;
  RETURN NULL;
END $$
"""
SQLITE = {  # one trigger per operation: SQLite has no TG_OP
    "insert": "UPDATE users SET roles_version = roles_version + 1 WHERE id = NEW.user_id;",
    "update": "UPDATE users SET roles_version = roles_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);",
    "delete": "UPDATE users SET roles_version = roles_version + 1 WHERE id = OLD.user_id;",
}


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('roles_version', sa.Integer(), nullable=False, server_default='0'))
    if rls.is_postgres():
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER memberships_roles_version AFTER INSERT OR UPDATE OR DELETE ON memberships "
                   "FOR EACH ROW EXECUTE FUNCTION memberships_moved_roles_version()")
    else:
        for when, body in SQLITE.items():
            op.execute(f"CREATE TRIGGER memberships_roles_version_{when} AFTER {when.upper()} ON memberships "
                       f"FOR EACH ROW BEGIN {body} END")


def downgrade() -> None:
    if rls.is_postgres():
        op.execute("DROP TRIGGER memberships_roles_version ON memberships")
        op.execute("DROP FUNCTION memberships_moved_roles_version()")
    else:
        for when in SQLITE:
            op.execute(f"DROP TRIGGER memberships_roles_version_{when}")
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('roles_version')
