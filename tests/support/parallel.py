"""Many people at once: PEOPLE threads, each in its own app context and session, released together."""
from __future__ import annotations

import threading

from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context

PEOPLE = 12


def in_parallel(app, world, work):
    """Run work(i) in PEOPLE threads released together; returns what each returned."""
    gate = threading.Barrier(PEOPLE)
    results = [None] * PEOPLE

    def run(i):
        with app.app_context(), tenant_context(world.yanshan.id):
            gate.wait()
            try:
                results[i] = work(i)
            finally:
                db.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(PEOPLE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results
