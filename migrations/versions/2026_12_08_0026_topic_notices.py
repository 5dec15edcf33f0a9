"""Change notices for topics (core/changes.py): web processes keep a street's rendered board until
one of its topics changes, so every write to `topics` sends NOTIFY shangliang_changes
'topics:<tenant id>' at commit

A function of its own rather than 0020's generic one: that one turns the whole row into JSON to find
its column, which a table written as often as this one (and loaded by the hundred thousand in the
benchmarks) should not pay for. Identical notices of one transaction are delivered once, so a bulk
load or the overdue job's update of many topics sends one per street.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08 00:00:00
"""
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION shangliang_notify_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('shangliang_changes', TG_TABLE_NAME || ':' || OLD.tenant_id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('shangliang_changes', TG_TABLE_NAME || ':' || NEW.tenant_id); END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite: one process, nothing kept (core/changes.py)
    op.execute(FUNCTION)
    op.execute('CREATE TRIGGER topics_changed AFTER INSERT OR UPDATE OR DELETE ON topics '
               'FOR EACH ROW EXECUTE FUNCTION shangliang_notify_tenant_change()')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TRIGGER IF EXISTS topics_changed ON topics')
    op.execute('DROP FUNCTION IF EXISTS shangliang_notify_tenant_change()')
