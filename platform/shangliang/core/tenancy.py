"""Tenant scoping: the first wall (ORM) and the hand-off to the second (PostgreSQL RLS).

Every ORM statement that touches a `TenantOwned` model is filtered to the tenants
of the current scope; with no scope it raises instead of returning everything.
On PostgreSQL the same scope is written into the transaction with `set_config(...,
true)`, which the forced row-level-security policies read; being transaction-local,
it cannot leak to the next user of a pooled connection.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Table, event, false, or_, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria
from sqlalchemy.sql import visitors

from .db import Base, Session as ScopedSession


class TenantNotSet(RuntimeError):
    """A tenant-owned table was queried outside any tenant scope."""


class TenantWriteRefused(RuntimeError):
    """A write outside the acting tenant, or inside a read-only cross-tenant scope."""


class TenantOwned:
    """Mixin: `tenant_id` leads the primary key (and so an index) of every tenant-owned table.

    A model may name a column in `__visible_to_user__`: a statement run with the execution
    option `own_rows=True` also sees rows whose column equals the signed-in user, in any
    tenant (how a person finds the tenants they belong to). Without the option, only the
    scope's tenants are seen, so ordinary lists need no tenant filter by hand.
    """

    __visible_to_user__: str | None = None

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True, sort_order=-100)


@dataclass(frozen=True)
class Scope:
    tenant_id: int | None  # the tenant that writes happen in
    readable: tuple[int, ...]
    user_id: int | None = None
    read_only: bool = False
    reason: str | None = None


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("tenant_scope", default=None)


def current_scope() -> Scope | None:
    return _scope.get()


def current_tenant_id() -> int | None:
    s = _scope.get()
    return s.tenant_id if s else None


def set_scope(scope: Scope | None) -> contextvars.Token:
    return _scope.set(scope)  # the open transaction learns it before its next statement


def reset_scope(token: contextvars.Token) -> None:
    _scope.reset(token)


@contextmanager
def tenant_context(tenant_id: int, user_id: int | None = None):
    """Run inside one tenant: reads and writes see that tenant only."""
    token = set_scope(Scope(tenant_id, (tenant_id,), user_id))
    try:
        yield
        _flush_pending()  # rows added in here are checked against this tenant, not the next scope
    finally:
        reset_scope(token)


@contextmanager
def user_context(user_id: int):
    """No tenant, but the signed-in user's own rows (memberships) are visible."""
    token = set_scope(Scope(None, (), user_id, read_only=True))
    try:
        yield
    finally:
        reset_scope(token)


_escape_recorder = None


def record_escapes_with(recorder) -> None:
    """The audit log registers how a cross-tenant read is recorded (it sits above this module)."""
    global _escape_recorder
    _escape_recorder = recorder


@contextmanager
def cross_tenant(tenant_ids, *, reason: str, actor_id: int | None, acting_tenant_id: int | None,
                 ip: str | None = None):
    """The one explicit escape: read-only access to several tenants, recorded in the audit log.

    Used by county dashboards and platform views; only aggregate figures should
    leave it. The audit row is committed on its own so that it survives a failed read.
    """
    ids = tuple(sorted({int(t) for t in tenant_ids}))
    if _escape_recorder is None:  # fail closed: no cross-tenant read goes unaudited
        raise RuntimeError("cross-tenant reads are audited: no recorder is registered (import shangliang.audit)")
    _escape_recorder(acting_tenant_id, actor_id, reason, ids, ip)
    outer = _scope.get()
    token = set_scope(Scope(outer.tenant_id if outer else None, ids,
                            outer.user_id if outer else actor_id, read_only=True, reason=reason))
    try:
        yield ids
    finally:
        reset_scope(token)


def tenant_models():
    return [m.class_ for m in Base.registry.mappers if issubclass(m.class_, TenantOwned)]


# The options are immutable and reusable, so each scope's are built once per process.
@lru_cache(maxsize=1024)
def _scope_option(readable: tuple[int, ...]):
    """The one option that confines every tenant-owned model a statement reaches (its entities,
    joins, subqueries, relationship loads) to `readable`. Given for the mixin as a lambda, it is
    one option instead of one per model, and SQLAlchemy caches the compiled statement with the
    tenant ids as a tracked bound parameter, so building it costs the same for any scope."""
    if not readable:
        return with_loader_criteria(TenantOwned, lambda cls: false(), include_aliases=True)
    return with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id.in_(readable), include_aliases=True)


@lru_cache(maxsize=1024)
def _own_rows_options(readable: tuple[int, ...], user_id: int | None, _models: int):
    """A person listing their memberships: the scope's rows, or the user's own rows of a model
    that names its user column. One option per model, as the rule differs by model; `_models`
    (how many are mapped) keys the cache, so a model mapped later is never left unfiltered."""
    def criteria(cls):
        crit = cls.tenant_id.in_(readable) if readable else false()
        col = cls.__visible_to_user__
        if col and user_id is not None:
            crit = or_(crit, getattr(cls, col) == user_id)
        return crit
    return tuple(with_loader_criteria(cls, criteria(cls), include_aliases=True) for cls in tenant_models())


def _orm_enabled(statement) -> bool:
    return statement._propagate_attrs.get("compile_state_plugin") == "orm"


def _reads_tenant_tables(statement) -> bool:
    names = {m.__table__.name for m in tenant_models()}
    return any(isinstance(el, Table) and el.name in names for el in visitors.iterate(statement))


@event.listens_for(Session, "do_orm_execute")
def _filter_tenant_rows(state: ORMExecuteState) -> None:
    _scope_written(state.session)
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.execution_options.get("_tenant_filtered"):
        return
    # Some expressions (extract(), arithmetic on it) drop the ORM's annotations: such a statement
    # is plain SQL, which the loader criteria below never reach. Fail closed instead of leaking;
    # code that writes its tenant filter by hand (the export's raw dump) says so.
    if not _orm_enabled(state.statement) and not state.execution_options.get("tenant_filter_by_hand") \
            and _reads_tenant_tables(state.statement):
        raise TenantNotSet("a plain-SQL statement on tenant-owned tables: the tenant filter cannot apply; "
                           "select a model's column, or filter by hand with execution_options(tenant_filter_by_hand=True)")
    scope = _scope.get()
    if scope is None:
        if any(issubclass(m.class_, TenantOwned) for m in state.all_mappers):
            raise TenantNotSet("tenant-owned rows queried with no tenant set")
        opts = [_scope_option(())]  # anything reached indirectly (joins, subqueries) still sees nothing
    elif state.execution_options.get("own_rows"):
        opts = _own_rows_options(scope.readable, scope.user_id, len(Base.registry.mappers))
    else:
        opts = [_scope_option(scope.readable)]
    state.update_execution_options(_tenant_filtered=True)
    state.statement = state.statement.options(*opts)


@event.listens_for(Session, "before_flush")
def _check_tenant_writes(session: Session, _ctx, _instances) -> None:
    _scope_written(session)
    scope = _scope.get()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, TenantOwned):
            continue
        if scope is None or scope.tenant_id is None:
            raise TenantWriteRefused(f"{type(obj).__name__} written with no tenant set")
        if scope.read_only:
            raise TenantWriteRefused(f"{type(obj).__name__} written inside a read-only scope")
        if obj.tenant_id is None:
            obj.tenant_id = scope.tenant_id
        elif obj.tenant_id != scope.tenant_id:
            raise TenantWriteRefused(
                f"{type(obj).__name__} of tenant {obj.tenant_id} written from tenant {scope.tenant_id}")


_SET_SCOPE = text("SELECT set_config('app.tenant_ids', :ids, true), set_config('app.user_id', :uid, true)")
_WRITTEN = "tenancy.written_scope"  # session.info: the scope this transaction's connection holds
_NOT_NEEDED = object()  # not PostgreSQL (no row-level security to tell), or no transaction yet
_UNKNOWN = object()  # after a savepoint ends


def _write_scope(session, connection) -> None:
    scope = _scope.get()
    ids = ",".join(str(i) for i in scope.readable) if scope else ""
    uid = str(scope.user_id) if scope and scope.user_id is not None else ""
    connection.execute(_SET_SCOPE, {"ids": ids, "uid": uid})
    session.info[_WRITTEN] = scope


@event.listens_for(Session, "after_begin")
def _scope_new_transaction(session, _transaction, connection) -> None:
    if connection.dialect.name != "postgresql":
        session.info[_WRITTEN] = _NOT_NEEDED
    elif _scope.get() is None:
        # The settings are transaction-local, so a new transaction starts with none: no tenant
        # is readable already. (A request's first statement, reading the session, is such.)
        session.info[_WRITTEN] = None
    else:
        _write_scope(session, connection)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)  # the next transaction writes its scope as it begins
    elif transaction.nested and session.info.get(_WRITTEN, _NOT_NEEDED) is not _NOT_NEEDED:
        # ROLLBACK TO SAVEPOINT also undoes a set_config made after the savepoint: write it again.
        session.info[_WRITTEN] = _UNKNOWN


def _scope_written(session) -> None:
    """Before a statement or a flush: the transaction holds the current scope. Written when it
    changed since, not at every change: a cross-tenant read and its return cost one write each,
    and scopes entered and left with no statement between cost nothing."""
    written = session.info.get(_WRITTEN, _NOT_NEEDED)
    if written is _NOT_NEEDED or written == _scope.get():
        return  # not PostgreSQL, no transaction yet (its start writes the scope), or unchanged
    _write_scope(session, session.connection())


def _flush_pending() -> None:
    if ScopedSession.registry.has():
        session = ScopedSession()
        if session.new or session.dirty or session.deleted:
            session.flush()
