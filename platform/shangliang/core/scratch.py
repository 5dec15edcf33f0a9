"""Scratch directories for jobs' temporary files (an export's zip, an import's copy of its file).

Each lives under <temp>/shangliang-scratch/ and is touched every minute while its job runs; it is
removed when the job ends. A job killed mid-way (SIGKILL, a lost machine) cannot remove its own:
`sweep` (at a worker's start and with every recovery round) removes those untouched for STALE_AFTER.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

log = logging.getLogger(__name__)

ROOT_NAME = "shangliang-scratch"
TOUCH_EVERY = 60.0  # seconds
STALE_AFTER = timedelta(minutes=10)


def root(base: Path | str | None = None) -> Path:
    return Path(base or tempfile.gettempdir()) / ROOT_NAME


@contextmanager
def directory(prefix: str):
    """A directory of the job's own, touched while the job runs and removed when it ends."""
    top = root()
    top.mkdir(parents=True, exist_ok=True)
    path = tempfile.mkdtemp(prefix=prefix, dir=top)
    stopping = threading.Event()

    def keep_alive():
        while not stopping.wait(TOUCH_EVERY):
            try:
                os.utime(path)
            except OSError:
                return

    threading.Thread(target=keep_alive, name="scratch-keepalive", daemon=True).start()
    try:
        yield path
    finally:
        stopping.set()
        shutil.rmtree(path, ignore_errors=True)


def sweep(base: Path | str | None = None, now: datetime | None = None) -> int:
    """Remove scratch directories untouched for STALE_AFTER (their job is gone); returns how many."""
    top = root(base)
    if not top.is_dir():
        return 0
    limit = ((now or datetime.now(timezone.utc)) - STALE_AFTER).timestamp()
    removed = 0
    for entry in top.iterdir():
        try:
            if entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
                removed += 1
        except OSError:  # gone meanwhile, or not ours to remove
            continue
    if removed:
        log.info("removed %d stale scratch directories under %s", removed, top)
    return removed
