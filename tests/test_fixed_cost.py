"""What every request pays before its own work, kept small without serving anything stale: a
person's roles kept by the process under a version the database moves, a pooled connection tested
only after it sat idle, and no Excel library in a web worker that writes no workbook."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select, update

from shangliang.accounts.models import Membership, User
from shangliang.accounts.operations import add_membership, remove_membership
from shangliang.core import db as core_db
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context

ROLES_READ = "SELECT memberships.tenant_id, memberships.role"


def roles_reads(query_counter, client, url, status=200) -> int:
    with query_counter() as stmts:
        assert client.get(url).status_code == status
    return sum(s.startswith(ROLES_READ) for s in stmts)


def version_of(app, username) -> int:
    with app.app_context():
        return db.scalar(select(User.roles_version).where(User.username == username))


def test_roles_are_read_once_per_version_and_a_change_is_seen_at_the_next_request(app, as_user, world,
                                                                                   query_counter):
    staff = as_user("yanshan-staff")
    uid = world.users["yanshan-staff"].id
    page = "/t/yanshan/manage/members"  # staff may see the members, a member may not
    roles_reads(query_counter, staff, page)
    assert roles_reads(query_counter, staff, page) == 0  # unchanged roles: no statement

    with app.app_context(), tenant_context(world.yanshan.id):  # revoked: the next request knows
        remove_membership(world.yanshan, None, uid, "staff")
        db.commit()
    assert roles_reads(query_counter, staff, page, status=404) == 1

    with app.app_context(), tenant_context(world.yanshan.id):  # given back, as a member this time
        add_membership(world.yanshan, None, db.get(User, uid), "member")
        db.commit()
    assert roles_reads(query_counter, staff, "/t/yanshan/topics/", status=200) == 1
    assert staff.get(page).status_code == 403  # a member may not manage: the new role, not the old

    with app.app_context(), tenant_context(world.yanshan.id):  # changed in place, by any path
        db.execute(update(Membership).where(Membership.user_id == uid).values(role="staff"))
        db.commit()
    assert staff.get(page).status_code == 200


def test_every_change_of_memberships_moves_the_version_in_its_own_transaction(app, world):
    name = "yanshan-staff"
    uid, before = world.users[name].id, version_of(app, name)
    with app.app_context(), tenant_context(world.yanshan.id):
        add_membership(world.yanshan, None, db.get(User, uid), "member")
        db.flush()
        db.rollback()  # a change that never committed moves nothing
    assert version_of(app, name) == before
    with app.app_context(), tenant_context(world.yanshan.id):
        add_membership(world.yanshan, None, db.get(User, uid), "member")
        db.commit()
    added = version_of(app, name)
    assert added > before
    with app.app_context(), tenant_context(world.yanshan.id):
        db.execute(update(Membership).where(Membership.user_id == uid, Membership.role == "member")
                   .values(role="department"))
        db.commit()
    changed = version_of(app, name)
    assert changed > added
    with app.app_context(), tenant_context(world.yanshan.id):
        remove_membership(world.yanshan, None, uid, "department")
        db.commit()
    assert version_of(app, name) > changed


@pytest.mark.services  # a pool of server connections; SQLite's file has none to lose
def test_a_pooled_connection_is_tested_only_after_it_sat_idle(app, world, monkeypatch):
    engine = app.extensions["engine"]
    pings = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real(conn))
    now = [1000.0]
    monkeypatch.setattr(core_db.time, "monotonic", lambda: now[0])

    def use():
        with engine.connect() as c:
            c.exec_driver_sql("SELECT 1")

    # Connections the fixtures returned were stamped by the real clock, which may stand below the
    # test's (a machine up for less than 1000 s): the test starts from an empty pool instead.
    engine.dispose()
    use()
    use()  # back in the pool a moment ago: handed out without a round trip
    assert pings == []
    now[0] += core_db.IDLE_BEFORE_PING + 1
    use()  # idle longer than that: tested first
    assert pings == [1]


@pytest.mark.services
def test_a_dead_idle_connection_is_replaced_before_a_request_gets_it(app, world, monkeypatch):
    engine = app.extensions["engine"]
    now = [1000.0]
    monkeypatch.setattr(core_db.time, "monotonic", lambda: now[0])
    with engine.connect() as c:
        c.exec_driver_sql("SELECT 1")
        dead = c.connection.dbapi_connection
    dead.close()  # as a database restart or a dropped firewall session leaves it
    now[0] += core_db.IDLE_BEFORE_PING + 1
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT 1").scalar() == 1
        assert c.connection.dbapi_connection is not dead


def test_a_web_worker_loads_no_excel_library_until_a_workbook_is_made():
    code = ("import sys; from shangliang import create_app; from shangliang.config import Config; "
            "import shangliang.roster.views, shangliang.ledger.views, shangliang.benchmarks.views; "
            "print('openpyxl' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
