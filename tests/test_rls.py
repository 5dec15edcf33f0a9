"""The second wall: PostgreSQL row-level security, forced, for a role that owns nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from shangliang.core.tenancy import tenant_models

pytestmark = pytest.mark.services

TENANT_TABLES = sorted(m.__tablename__ for m in tenant_models())


@pytest.fixture
def app_engine(config, world):
    """Raw connections as the application role to the test's database, two at most, like a small pool."""
    engine = create_engine(config.database_url, pool_size=2, max_overflow=0)
    yield engine
    engine.dispose()


def _set(conn, tenant_ids):
    conn.execute(text("SELECT set_config('app.tenant_ids', :v, true)"), {"v": ",".join(map(str, tenant_ids))})


def test_every_tenant_table_has_rows_to_hide(app, world, config):
    admin = create_engine(config.database_admin_url)
    with admin.connect() as c:  # the owner is a superuser here: it sees everything
        for table in ("memberships", "audit_log", "job_outbox"):
            assert c.scalar(text(f"SELECT count(DISTINCT tenant_id) FROM {table}")) >= 2, table
    admin.dispose()


def test_no_tenant_set_returns_no_rows(app_engine):
    with app_engine.connect() as conn:
        for table in TENANT_TABLES:
            assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table


def test_tenant_a_never_sees_tenant_b(app_engine, world):
    a, b = world.yanshan.id, world.guangwumen.id
    with app_engine.connect() as conn:
        with conn.begin():
            _set(conn, [a])
            for table in TENANT_TABLES:
                seen = set(conn.scalars(text(f"SELECT DISTINCT tenant_id FROM {table}")))
                assert b not in seen and seen <= {a}, table
            assert conn.scalar(text("SELECT count(*) FROM memberships")) > 0
        # The setting was transaction-local: the next transaction on this connection starts blind.
        with conn.begin():
            assert conn.scalar(text("SELECT count(*) FROM memberships")) == 0


def test_writes_into_another_tenant_are_refused(app_engine, world):
    from sqlalchemy.exc import ProgrammingError

    with app_engine.connect() as conn, conn.begin():
        _set(conn, [world.yanshan.id])
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(text("INSERT INTO notifications (tenant_id, id, user_id, kind, title, body, created_at) "
                              "VALUES (:t, gen_random_uuid(), :u, 'x', 'x', '', now())"),
                         {"t": world.guangwumen.id, "u": world.users["nobody"].id})


def test_a_thousand_alternating_transactions_over_two_connections(app_engine, world):
    tenants = [world.yanshan.id, world.guangwumen.id, world.langshan.id]
    expected = {}
    with app_engine.connect() as conn:
        for t in tenants:
            with conn.begin():
                _set(conn, [t])
                expected[t] = conn.scalar(text("SELECT count(*) FROM memberships"))
    wrong = 0
    for i in range(1000):
        t = tenants[i % len(tenants)]
        with app_engine.connect() as conn, conn.begin():
            if i % 7:  # most transactions set a tenant; some deliberately do not
                _set(conn, [t])
                seen = set(conn.scalars(text("SELECT tenant_id FROM memberships")))
                wrong += bool(seen - {t}) or len(seen) == 0
            else:
                wrong += conn.scalar(text("SELECT count(*) FROM memberships")) != 0
    assert wrong == 0
    assert app_engine.pool.checkedout() == 0 and app_engine.pool.size() == 2


def test_schema_every_tenant_table_is_locked_down(pg_database):
    admin = create_engine(pg_database["admin_url"])
    with admin.connect() as c:
        for table in TENANT_TABLES:
            enabled, forced, owner = c.execute(text(
                "SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) FROM pg_class "
                "WHERE relname = :t AND relkind = 'r'"), {"t": table}).one()
            assert enabled and forced, f"{table}: RLS must be enabled and forced"
            assert owner != "shangliang_app"
            policies = c.scalar(text("SELECT count(*) FROM pg_policies WHERE tablename = :t"), {"t": table})
            assert policies >= 1, f"{table}: no policy"
            nullable = c.scalar(text("SELECT is_nullable FROM information_schema.columns "
                                     "WHERE table_name = :t AND column_name = 'tenant_id'"), {"t": table})
            assert nullable == "NO", f"{table}.tenant_id must be NOT NULL"
            leading = c.scalar(text(
                "SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = i.indkey[0] WHERE i.indrelid = CAST(:t AS regclass) AND a.attname = 'tenant_id'"),
                {"t": table})
            assert leading >= 1, f"{table}: no index led by tenant_id"
        role = c.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'shangliang_app'")).one()
        assert role == (False, False)
        owned = c.scalar(text("SELECT count(*) FROM pg_tables WHERE tableowner = 'shangliang_app'"))
        assert owned == 0
    admin.dispose()


def test_app_role_may_not_rewrite_the_audit_log(app_engine, world):
    from sqlalchemy.exc import ProgrammingError

    with app_engine.connect() as conn, conn.begin():
        _set(conn, [world.yanshan.id])
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("DELETE FROM audit_log"))


def test_the_session_tells_the_database_each_scope_before_it_is_read(ctx, world):
    """The scope is written into the transaction when a statement needs it, not at every change:
    whatever the path (a cross-tenant read and back, a scope entered and left with nothing read,
    a savepoint rolled back after a change, a flush), the database holds the scope of the
    statement it runs."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import cross_tenant, tenant_context
    from shangliang.notifications.models import Notification

    def held():
        return db.execute(text("SELECT current_setting('app.tenant_ids', true)")).scalar()

    a, b = world.yanshan.id, world.guangwumen.id
    db.rollback()
    assert held() in ("", None)  # no scope: a new transaction holds none without being told
    with tenant_context(a):
        assert held() == str(a)
        with tenant_context(b):
            pass  # nothing read: nothing written
        assert held() == str(a)
        with cross_tenant([a, b], reason="test", actor_id=None, acting_tenant_id=a):
            assert held() == f"{min(a, b)},{max(a, b)}"
        assert held() == str(a)
        savepoint = db.begin_nested()
        with tenant_context(b):
            assert held() == str(b)
            savepoint.rollback()  # undoes the set_config made after the savepoint
            assert held() == str(b)
        assert held() == str(a)
        with tenant_context(b):
            db.add(Notification(user_id=world.users["nobody"].id, kind="x", title="写在广武门"))
        assert held() == str(a)  # the row was flushed (and checked by the policy) in b's scope
    db.rollback()


def test_a_signed_in_page_tells_the_database_its_scope_once(world, as_user, query_counter):
    """The fixed cost of a page on PostgreSQL: the session and the tenant are read before any
    scope is set (neither is tenant-owned), so the scope is written once, before the first
    statement that needs it, and a new transaction needs no write to start with none."""
    client = as_user("yanshan-admin")
    client.get("/t/yanshan/notifications/")
    with query_counter() as stmts:
        assert client.get("/t/yanshan/notifications/").status_code == 200
    writes = [i for i, s in enumerate(stmts) if "set_config" in s]
    assert len(writes) == 1, stmts
    assert not any("memberships" in s for s in stmts[:writes[0]])  # told before the first tenant-owned read
