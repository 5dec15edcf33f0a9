"""Tenant actors used only by the job tests (tests/test_jobs.py, tests/test_brokers.py).

Imported as `support.actors` both by the test process and by tests/support/worker.py, so
that the actor names (`support.actors.<fn>`) agree between the process that enqueues and
the worker that runs. Effects are Notification rows, written in the job's transaction.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select, text

from shangliang.core.db import db
from shangliang.core.jobs import tenant_actor
from shangliang.core.tenancy import TenantWriteRefused, current_scope
from shangliang.notifications.models import Notification
from shangliang.notifications.operations import notify

# What in-process actors saw, keyed by a per-test key (tests read these after the run).
ATTEMPTS: dict[str, list[float]] = {}
SEEN: dict[str, dict] = {}
BARRIERS: dict[str, threading.Barrier] = {}


@tenant_actor
def note(tenant_id: int, user_id: int, title: str) -> None:
    """The plainest effect: one notification."""
    notify(tenant_id, user_id, "test.note", title)


@tenant_actor(max_retries=2)
def always_fails(tenant_id: int, key: str) -> None:
    ATTEMPTS.setdefault(key, []).append(time.monotonic())
    raise RuntimeError(f"always fails ({key})")


# The production backoff (1 s doubling) would make the test wait ~3 s per retry; the
# policy is the same, scaled down: 100 ms, then 200 ms, ... (plus dramatiq's jitter).
always_fails.options.update(min_backoff=100, max_backoff=1_000)


@tenant_actor(max_retries=0)
def dangling_reference(tenant_id: int, user_id: int) -> None:
    """An effect the database refuses (no such user): an IntegrityError of the job's own."""
    notify(tenant_id, user_id, "test.dangling", "never stored")


@tenant_actor
def meet_then_note(tenant_id: int, user_id: int, key: str) -> None:
    """Waits inside the job for the test (a barrier of two), then writes."""
    BARRIERS[key].wait(timeout=10)
    notify(tenant_id, user_id, "test.parallel", key)


@tenant_actor
def probe_scope(tenant_id: int, key: str, other_tenant_id: int, user_id: int) -> None:
    """Record what a job can see and do, from inside the job."""
    scope = current_scope()
    seen = {
        "scope_tenant": scope.tenant_id if scope else None,
        "scope_readable": scope.readable if scope else None,
        "orm_tenants": sorted(set(db.scalars(select(Notification.tenant_id)).all())),
        "orm_count": db.scalar(select(func.count()).select_from(Notification)),
    }
    if db.get_bind().dialect.name == "postgresql":
        # Past the ORM filter: row-level security reads the tenant set in this transaction.
        seen["sql_tenants"] = sorted({r[0] for r in db.execute(text("SELECT tenant_id FROM notifications"))})
    stray = notify(other_tenant_id, user_id, "test.stray", "written into another tenant")
    try:
        db.flush()
        seen["stray_write"] = "accepted"
    except TenantWriteRefused as exc:
        seen["stray_write"] = type(exc).__name__
        db.expunge(stray)
    notify(tenant_id, user_id, "test.probe", key)
    SEEN[key] = seen


@tenant_actor
def slow_note(tenant_id: int, user_id: int, marker_dir: str) -> None:
    """Marks that it started (one file per run), waits while `hold` exists, then writes."""
    d = Path(marker_dir)
    (d / f"started-{os.getpid()}-{uuid.uuid4().hex[:8]}").touch()
    deadline = time.monotonic() + 60
    while (d / "hold").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released the hold file")
        time.sleep(0.05)
    notify(tenant_id, user_id, "test.slow", "slow job done")
