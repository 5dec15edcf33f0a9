"""The files' jobs, asked for by their actor name: tasks.py imports the operations that run in
them, so the operations cannot import tasks.py. The names are a stable contract anyway (they are
what the outbox stores)."""
from __future__ import annotations

from ..core import jobs

CHECK = "files.tasks.check_attachment"
REMOVE = "files.tasks.remove_objects"


def later(actor_name: str, *args, tenant_id: int) -> None:
    """Send the job once the transaction commits (core.jobs.enqueue)."""
    jobs.enqueue(actor_name, *args, tenant_id=tenant_id)


def remove_later(tenant_id: int, keys) -> None:
    """Objects go by a job after the commit, unless another attachment still shares them."""
    later(REMOVE, sorted(set(keys)), tenant_id=tenant_id)
