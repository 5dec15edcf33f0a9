"""The file check in another process, for tests that kill it or measure it.

    files_worker.py worker                       a job worker (as support/worker.py)
    files_worker.py run TENANT JOB ATTACHMENT     one delivery of the check job, then exit
    files_worker.py measure TENANT ATTACHMENT     one check; prints its peak memory as JSON

Configured from the environment like the worker (support/procs.app_env). With HOLD_DIR set, the
check pauses after it has written the photo and before its thumbnail: it touches
HOLD_DIR/started-<pid> and waits while HOLD_DIR/hold exists, so that a test can SIGKILL it there.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, as in pytest


def pause_after_first_write() -> None:
    from shangliang.files import checks

    real, hold = checks._put, Path(os.environ["HOLD_DIR"])

    def put(key, fh, content_type):
        written = real(key, fh, content_type)
        if "/files/" in key:  # the photo is stored; its thumbnail is not yet
            (hold / f"started-{os.getpid()}").touch()
            deadline = time.monotonic() + 60
            while (hold / "hold").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return written

    checks._put = put


def reset_peak() -> int:
    """Start the peak-memory measure here (Linux ≥ 4.0: clear_refs 5 resets VmHWM to the current
    size); returns the current size in kB. Start-up (imports, the app) is not what is measured."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status("VmRSS")
    except OSError:  # no /proc: the peak since start, which can only overstate
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak() -> int:
    try:
        return _status("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(field)


def main(mode: str, *args: str) -> None:
    if os.environ.get("HOLD_DIR"):
        pause_after_first_write()
    if mode == "worker":
        from support import worker

        worker.main()
        return

    import PIL.Image  # noqa: F401  (imports first: the measure is of the check, not of loading modules)
    import PIL.PngImagePlugin  # noqa: F401

    from shangliang import create_app
    from shangliang.core.db import db
    from shangliang.core.jobs import _run_once
    from shangliang.core.tenancy import tenant_context
    from shangliang.files import operations, tasks

    app = create_app(command=True)  # jobs it enqueues wait in the outbox for the test to send
    with app.app_context():
        if mode == "run":
            tenant_id, job_id, attachment_id = int(args[0]), uuid.UUID(args[1]), args[2]
            _run_once(tasks.check_attachment.actor_name, tasks.check_attachment.work, tenant_id, job_id,
                      (attachment_id,))
            print("done", flush=True)
        elif mode == "measure":
            tenant_id, attachment_id = int(args[0]), uuid.UUID(args[1])
            before = reset_peak()
            with tenant_context(tenant_id):
                operations.check_upload(tenant_id, attachment_id)
                att = operations.get(attachment_id)
                result = {"status": att.status, "error": att.error}
                db.commit()
            print(json.dumps({**result, "before_kb": before, "peak_kb": peak()}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
