"""Change notices for the rows web processes keep (core/changes.py): a trigger on each watched
table sends NOTIFY shangliang_changes '<table>:<part>' with every write, delivered at commit

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 18:10:00
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# table → the column naming the part a change touches (core/changes.watch_table, by the areas)
WATCHED = {'users': 'id', 'auth_sessions': 'user_id', 'tenants': 'id', 'procedure_versions': 'tenant_id',
           'communities': 'tenant_id', 'memberships': 'tenant_id'}

FUNCTION = """
CREATE OR REPLACE FUNCTION shangliang_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before text := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) ->> TG_ARGV[0] END;
    after text := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) ->> TG_ARGV[0] END;
BEGIN
    -- identical notices in one transaction are sent once; a row moved between parts names both
    IF before IS NOT NULL THEN PERFORM pg_notify('shangliang_changes', TG_TABLE_NAME || ':' || before); END IF;
    IF after IS NOT NULL THEN PERFORM pg_notify('shangliang_changes', TG_TABLE_NAME || ':' || after); END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite: one process, nothing kept (core/changes.py)
    op.execute(FUNCTION)
    for table, column in WATCHED.items():
        op.execute(f'CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table} '
                   f"FOR EACH ROW EXECUTE FUNCTION shangliang_notify_change('{column}')")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in WATCHED:
        op.execute(f'DROP TRIGGER IF EXISTS {table}_changed ON {table}')
    op.execute('DROP FUNCTION IF EXISTS shangliang_notify_change()')
