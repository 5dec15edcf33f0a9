"""Which delivery of a job is running it: a lease on the job's outbox row, renewed by a heartbeat.

A delivery takes the lease before it runs the job (`take`); a second delivery of the same job
finds it held and does nothing, changing nothing. While the job runs, a heartbeat thread renews
the lease every quarter of its length; a job writing its progress or its outcome checks in the
same transaction that it still holds it (`hold`), so a delivery that lost it (its worker paused
past the lease and another took over) writes nothing more. The lease ends with the job's own
transaction (done), or is given up when the job fails (its retry takes it again). A worker that
dies holds its lease until it runs out: then `expired` finds the job and jobs.recover sends it again.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import utcnow
from .job_models import OutboxMessage

log = logging.getLogger(__name__)
_current = threading.local()  # the lease of the job this thread is running


class LeaseLost(Exception):
    """This delivery no longer holds its job: another one runs it now. It must write nothing more."""


def now():
    return utcnow()


def beat_every(lease: timedelta) -> float:
    """Seconds between two heartbeats: four to a lease, so that a late one or two do not lose it."""
    return lease.total_seconds() / 4


class Lease:
    def __init__(self, engine, job_id: uuid.UUID, token: str, length: timedelta):
        self.engine, self.job_id, self.token, self.length = engine, job_id, token, length
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)

    def _mine(self):
        return (OutboxMessage.id == self.job_id) & (OutboxMessage.runner == self.token)

    def renew(self, s) -> bool:
        """Extend the lease in `s`'s transaction; False if it is no longer this delivery's."""
        return s.execute(update(OutboxMessage).where(self._mine()).values(
            lease_until=now() + self.length).execution_options(synchronize_session=False)).rowcount == 1

    def end(self, s) -> None:
        """Give the job up in `s`'s transaction: with its effect (done) or after a failure."""
        s.execute(update(OutboxMessage).where(self._mine()).values(runner=None, lease_until=None)
                  .execution_options(synchronize_session=False))

    def _beat(self) -> None:
        while not self._stopping.wait(beat_every(self.length)):
            try:
                with Session(bind=self.engine) as s, s.begin():
                    if not self.renew(s):
                        return
            except Exception:  # the database is away: try again at the next beat
                log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)

    def __enter__(self):
        _current.lease = self
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopping.set()
        _current.lease = None


def take(engine, job_id: uuid.UUID, tenant_id: int, actor: str, args, length: timedelta) -> Lease | None:
    """The lease of a job for this delivery, or None when another delivery holds it."""
    token = uuid.uuid4().hex
    with Session(bind=engine) as s:
        t = now()
        free = or_(OutboxMessage.runner.is_(None), OutboxMessage.lease_until < t)
        taken = s.execute(update(OutboxMessage).where(OutboxMessage.id == job_id, free)
                          .values(runner=token, lease_until=t + length)).rowcount
        if not taken:
            if s.scalar(select(OutboxMessage.id).where(OutboxMessage.id == job_id)) is not None:
                return None  # held by a delivery that is alive
            # sent without an outbox row (by hand, by a test): the lease gets a row of its own
            s.add(OutboxMessage(id=job_id, tenant_id=tenant_id, actor=actor, args=list(args), sent_at=t,
                                runner=token, lease_until=t + length))
        try:
            s.commit()
        except IntegrityError:
            return None  # another delivery made that row first
    return Lease(engine, job_id, token, length)


def hold(s) -> None:
    """In `s`'s transaction: check that this thread's job is still its own (and renew the lease);
    raise LeaseLost if not. Outside a job (an inline run, a test), nothing to check."""
    lease = getattr(_current, "lease", None)
    if lease is not None and not lease.renew(s):
        raise LeaseLost(f"job {lease.job_id} is run by another delivery now")


def held(job_id_column):
    """SQL: the job named by `job_id_column` is held by a delivery whose lease has not run out."""
    return exists().where(and_(OutboxMessage.id == job_id_column, OutboxMessage.runner.is_not(None),
                               OutboxMessage.lease_until >= now()))


def expired(s, limit: int = 100) -> list[OutboxMessage]:
    """Jobs whose delivery stopped renewing its lease (its worker died), each handed back to the
    outbox as unsent, once: the caller commits and relays them."""
    t = now()
    rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.runner.is_not(None),
                                                      OutboxMessage.lease_until < t).limit(limit)))
    back = []
    for row in rows:
        freed = s.execute(update(OutboxMessage).where(
            OutboxMessage.id == row.id, OutboxMessage.runner == row.runner, OutboxMessage.lease_until < t).values(
            runner=None, lease_until=None, sent_at=None, last_error="worker lost: its lease ran out")
            .execution_options(synchronize_session=False)).rowcount
        if freed:
            back.append(row.id)
    return back
