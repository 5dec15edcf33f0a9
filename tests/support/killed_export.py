"""Start a tenant export and SIGKILL this process half-way through writing its zip: whatever the
export wrote to temporary files stays behind, as after a worker killed mid-job.
Usage: killed_export.py TENANT_ID (app configuration from the environment, as for the worker).
"""
from __future__ import annotations

import os
import signal
import sys


def main(tenant_id: int) -> None:
    from shangliang import create_app
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant
    from shangliang.transfer import export

    create_app(check=False)
    real = export.write_export

    def write_then_die(tid, path, progress=None):
        with open(path, "wb") as fh:
            fh.write(b"PK half a zip")
        os.kill(os.getpid(), signal.SIGKILL)
        return real(tid, path, progress)

    export.write_export = write_then_die
    with tenant_context(tenant_id):
        row = export.request_export(db.get(Tenant, tenant_id), None)
        db.commit()
        export.run_export(tenant_id, row.id)
    sys.exit("still alive: the export was not killed")


if __name__ == "__main__":
    main(int(sys.argv[1]))
