"""A job worker in its own process, for tests that stop brokers or SIGKILL workers.

Configured like `shangliang worker` (the app from the environment: DATABASE_URL,
BROKER_URL, JOBS_QUEUE, BROKER_NAMESPACE, BROKER_HEARTBEAT_MS, ...), plus the test
actors of `support.actors`. It polls the broker every 100 ms and sweeps the outbox
every 0.5 s so that tests stay short. Prints "worker ready" once consuming.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: `support.actors`, as in pytest


def main() -> None:
    import dramatiq

    from shangliang import create_app
    from shangliang.core import jobs

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    create_app()
    import support.actors  # noqa: F401  (declared after configure: bound to the real broker and queue)

    worker = dramatiq.Worker(jobs.broker(), worker_threads=int(os.environ.get("WORKER_THREADS", "2")),
                             worker_timeout=100)
    worker.start()
    loop = jobs.RelayLoop(interval=0.5)
    loop.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"worker ready pid={os.getpid()}", flush=True)
    stop.wait()
    loop.stop()
    worker.stop()


if __name__ == "__main__":
    main()
