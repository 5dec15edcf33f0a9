"""The first wall: every ORM statement on a tenant-owned model is scoped, and fails closed."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from shangliang.accounts.models import Membership
from shangliang.audit.models import AuditLog
from shangliang.core.db import db
from shangliang.core.tenancy import (TenantNotSet, TenantWriteRefused, cross_tenant, tenant_context,
                                     tenant_models)
from shangliang.notifications.models import Notification


def test_no_tenant_set_fails_closed(ctx, world):
    with pytest.raises(TenantNotSet):
        db.scalars(select(Membership)).all()
    with pytest.raises(TenantNotSet):
        db.execute(update(Notification).values(title="x"))


def test_a_tenant_sees_only_its_rows(ctx, world):
    with tenant_context(world.yanshan.id):
        rows = db.scalars(select(Membership)).all()
        assert rows and {m.tenant_id for m in rows} == {world.yanshan.id}
        # Joins and subqueries are filtered too, not only the top-level entity.
        sub = select(Membership.user_id).scalar_subquery()
        ids = db.scalars(select(AuditLog.tenant_id).where(AuditLog.actor_id.is_(None) | (AuditLog.actor_id != sub)
                                                          )).all()
        assert set(ids) <= {world.yanshan.id}


def test_one_statement_run_in_each_scope_sees_that_scope_only(ctx, world):
    """The scope's criteria are cached with the compiled statement (a lambda whose tenant ids are a
    tracked parameter): the same statement, run in scope after scope, never keeps the first ids,
    the empty scope stays empty, and a joined subquery is scoped in every run."""
    from shangliang.tenants.models import Tenant

    stmt = select(Membership).where(Membership.user_id.in_(select(Membership.user_id)))
    seen = {}
    for tenant in (world.yanshan, world.guangwumen, world.yanshan):
        with tenant_context(tenant.id):
            seen.setdefault(tenant.id, []).append({(m.tenant_id, m.user_id) for m in db.scalars(stmt)})
    assert seen[world.yanshan.id][0] == seen[world.yanshan.id][1]
    assert {t for t, _ in seen[world.yanshan.id][0]} == {world.yanshan.id}
    assert {t for t, _ in seen[world.guangwumen.id][0]} == {world.guangwumen.id}
    with cross_tenant([world.yanshan.id, world.guangwumen.id], reason="test", actor_id=None, acting_tenant_id=world.lixia.id):
        both = {(m.tenant_id, m.user_id) for m in db.scalars(stmt)}
    assert both == seen[world.yanshan.id][0] | seen[world.guangwumen.id][0]
    with cross_tenant([], reason="test", actor_id=None, acting_tenant_id=world.lixia.id):
        assert db.scalars(stmt).all() == []
        assert db.scalars(select(Tenant.id)).all()  # tenants themselves are not tenant-owned


def test_plain_sql_the_filter_cannot_reach_is_refused_not_leaked(ctx, world):
    """extract() and arithmetic on it drop the ORM's annotations, so the loader criteria never see
    the table: such a statement on a tenant-owned table fails closed. A subquery of ORM rows under
    a plain outer select is the same case."""
    from sqlalchemy import Integer, cast, extract, func

    with tenant_context(world.yanshan.id):
        for stmt in (select(cast(extract("year", Membership.created_at), Integer)),
                     select(extract("year", AuditLog.at) * 100).where(AuditLog.actor_id.is_(None)
                                                                   | AuditLog.actor_id.is_not(None))):
            with pytest.raises(TenantNotSet):
                db.execute(stmt).all()
        assert db.scalar(select(func.count(Membership.user_id))) == len(db.scalars(select(Membership)).all())
        stored = select(Membership.user_id).subquery()
        assert db.scalar(select(func.count(stored.c.user_id))) == len(db.scalars(select(Membership)).all())


def test_bulk_update_cannot_reach_another_tenant(ctx, world):
    with tenant_context(world.guangwumen.id):
        before = {n.id: n.title for n in db.scalars(select(Notification))}
    with tenant_context(world.yanshan.id):
        db.execute(update(Membership).values(role="staff").where(Membership.role == "nothing"))
        db.execute(text("SELECT 1"))
        db.query(Notification).update({"title": "hijacked"})
        db.commit()
    with tenant_context(world.guangwumen.id):
        after = {n.id: n.title for n in db.scalars(select(Notification))}
    assert before == after


def test_writing_another_tenants_row_is_refused(ctx, world):
    with tenant_context(world.yanshan.id):
        db.add(Notification(tenant_id=world.guangwumen.id, user_id=world.users["nobody"].id, kind="x", title="x"))
        with pytest.raises(TenantWriteRefused):
            db.flush()
        db.rollback()


def test_tenant_id_defaults_to_the_scope(ctx, world):
    with tenant_context(world.yanshan.id):
        n = Notification(user_id=world.users["nobody"].id, kind="x", title="x")
        db.add(n)
    assert n.tenant_id == world.yanshan.id
    db.commit()


def test_cross_tenant_escape_is_read_only_and_audited(ctx, world):
    ids = (world.yanshan.id, world.langshan.id)
    with tenant_context(world.lixia.id):
        with cross_tenant(ids, reason="test dashboard", actor_id=world.users["lixia-admin"].id,
                          acting_tenant_id=world.lixia.id):
            seen = {m.tenant_id for m in db.scalars(select(Membership))}
            assert seen == set(ids)
            db.add(Notification(tenant_id=world.yanshan.id, user_id=world.users["nobody"].id, kind="x", title="x"))
            with pytest.raises(TenantWriteRefused):
                db.flush()
        db.rollback()
        logged = db.scalars(select(AuditLog).where(AuditLog.action == "cross_tenant.read")).all()
    assert [(a.target, a.detail["tenants"]) for a in logged] == [("test dashboard", list(ids))]


def test_a_request_audits_its_reads_of_the_same_tenants_once(app, world):
    """A page that reads its county's streets three times writes one audit row, not three; reading
    a tenant not read before in the request is audited again, and so is the next request."""
    admin = world.users["lixia-admin"].id
    a, b = world.yanshan.id, world.langshan.id

    def read(ids, reason):
        with cross_tenant(ids, reason=reason, actor_id=admin, acting_tenant_id=world.lixia.id):
            db.scalars(select(Membership)).all()

    for _request in range(2):
        with app.test_request_context(), tenant_context(world.lixia.id):
            read([a], "settings")
            read([a], "standing")
            read([a, b], "trend")
            read([b], "again")
    with app.app_context(), tenant_context(world.lixia.id):
        logged = db.scalars(select(AuditLog).where(AuditLog.action == "cross_tenant.read").order_by(AuditLog.at)).all()
        assert [(x.target, x.detail["tenants"]) for x in logged] == [("settings", [a]), ("trend", sorted([a, b]))] * 2


def test_own_memberships_are_visible_only_when_asked_for(ctx, world):
    admin = world.users["lixia-admin"]
    with tenant_context(world.yanshan.id, admin.id):
        plain = db.scalars(select(Membership).where(Membership.user_id == admin.id)).all()
        own = db.scalars(select(Membership).where(Membership.user_id == admin.id)
                         .execution_options(own_rows=True)).all()
    assert plain == []
    assert [(m.tenant_id, m.role) for m in own] == [(world.lixia.id, "county_admin")]


def test_audit_log_is_append_only(ctx, world):
    with tenant_context(world.yanshan.id):
        row = db.scalars(select(AuditLog)).first()
        row.action = "tampered"
        with pytest.raises(DatabaseError, match="append-only|permission denied"):
            db.flush()
        db.rollback()
        db.delete(db.scalars(select(AuditLog)).first())
        with pytest.raises(DatabaseError, match="append-only|permission denied"):
            db.flush()
        db.rollback()


def test_every_tenant_owned_model_leads_its_primary_key_with_tenant_id():
    assert tenant_models()
    for model in tenant_models():
        pk = [c.name for c in model.__table__.primary_key.columns]
        assert pk[0] == "tenant_id", model
        assert not model.__table__.c.tenant_id.nullable
        for fk in model.__table__.foreign_key_constraints:
            target = fk.referred_table
            if any(t.__table__ is target for t in tenant_models()):
                assert "tenant_id" in fk.column_keys, f"{model.__name__} → {target.name} must carry tenant_id"
