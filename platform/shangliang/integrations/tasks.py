from __future__ import annotations

import uuid

from ..core.jobs import enqueue, periodic, tenant_actor
from . import delivery, operations


# A failed POST is not a failed job: the attempt is recorded and the retry pass tries again when
# the delivery's time comes. A job fails (and dramatiq retries it) only when the database does.
@tenant_actor(max_retries=3, time_limit_ms=2 * 60_000)
def deliver(tenant_id: int, delivery_id: str) -> None:
    """One attempt at a delivery, if it is still due (the event's own job, a retry, a 重新发送)."""
    delivery.attempt(uuid.UUID(delivery_id))


@periodic
@tenant_actor
def deliver_due(tenant_id: int) -> None:
    """The retry pass: a job for each delivery whose next attempt has come; finished ones pruned."""
    for delivery_id in operations.due():
        enqueue(deliver, str(delivery_id))
    operations.prune()
