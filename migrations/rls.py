"""Row-level security helpers for migrations (PostgreSQL only; a no-op elsewhere).

Every tenant-owned table gets RLS enabled and FORCED (so even the owner is held to
it) and one policy reading the transaction-local `app.tenant_ids` that the
application sets per transaction. tests/services/test_rls.py checks every table.
"""
from alembic import op

FUNCTIONS = """
CREATE OR REPLACE FUNCTION app_tenant_ids() RETURNS bigint[] LANGUAGE sql STABLE AS $$
  SELECT COALESCE(string_to_array(NULLIF(current_setting('app.tenant_ids', true), ''), ',')::bigint[],
                  '{}'::bigint[])
$$;
CREATE OR REPLACE FUNCTION app_user_id() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT NULLIF(current_setting('app.user_id', true), '')::bigint
$$;
"""


def is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_functions() -> None:
    if is_postgres():
        op.execute(FUNCTIONS)


def drop_functions() -> None:
    if is_postgres():
        op.execute("DROP FUNCTION IF EXISTS app_tenant_ids(); DROP FUNCTION IF EXISTS app_user_id();")


def enable(table: str, user_column: str | None = None) -> None:
    """`user_column`: rows of the signed-in user are also readable (memberships)."""
    if not is_postgres():
        return
    using = "tenant_id = ANY (app_tenant_ids())"
    if user_column:
        using = f"({using} OR {user_column} = app_user_id())"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({using}) "
               f"WITH CHECK (tenant_id = ANY (app_tenant_ids()))")


def disable(table: str) -> None:
    if is_postgres():
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def append_only(table: str) -> None:
    """UPDATE and DELETE refused by the database itself, on both dialects."""
    if is_postgres():
        op.execute(f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '{table} is append-only'; END $$;
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION {table}_append_only();""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def drop_append_only(table: str) -> None:
    if is_postgres():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}; "
                   f"DROP FUNCTION IF EXISTS {table}_append_only();")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
