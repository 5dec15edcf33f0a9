"""Row-level security helpers for migrations (PostgreSQL only; a no-op elsewhere).

Every tenant-owned table gets RLS enabled and FORCED (so even the owner is held to
it) and one policy reading the transaction-local `app.tenant_ids` that the
application sets per transaction. tests/services/test_rls.py checks every table.
"""
import re

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


# A row's tenant is looked up in a hashed set built once per statement (a hashed SubPlan). The
# first form, EARLIER, let PostgreSQL inline the function: the setting was parsed again for every
# row, and as an index condition a scope of many tenants (a county's or the platform's audited
# cross-tenant read) cost one index descent per tenant per row; a statement over 1,000 streets ran
# 15 times slower than the same statement without RLS (bench/benchmarks.py). Statements narrow
# by tenant themselves (the ORM's tenant filter), so the policy is only the check.
IN_SCOPE = "tenant_id IN (SELECT unnest(app_tenant_ids()))"
EARLIER = "tenant_id = ANY (app_tenant_ids())"


def _policy(form: str, user_column: str | None) -> str:
    using = f"({form} OR {user_column} = app_user_id())" if user_column else form
    return f"USING ({using}) WITH CHECK ({form})"


def enable(table: str, user_column: str | None = None) -> None:
    """`user_column`: rows of the signed-in user are also readable (memberships)."""
    if not is_postgres():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} {_policy(IN_SCOPE, user_column)}")


def rewrite_policies(form: str) -> None:
    """Every table's policy in `form` (IN_SCOPE or EARLIER), keeping its user column."""
    if not is_postgres():
        return
    rows = op.get_bind().exec_driver_sql(
        "SELECT tablename, qual FROM pg_policies WHERE policyname = 'tenant_isolation' AND schemaname = "
        "current_schema()").all()
    for table, qual in rows:
        user = re.search(r"(\w+) = app_user_id\(\)", qual or "")
        op.execute(f"ALTER POLICY tenant_isolation ON {table} {_policy(form, user and user.group(1))}")


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
