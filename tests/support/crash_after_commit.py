"""Commit a membership (and so its welcome job), then die before the outbox relay runs.

The process exits from the first `after_commit` listener, ahead of the one in
shangliang.core.jobs that would hand the job to the broker: the crash lands exactly
between the commit and the send. Usage: crash_after_commit.py TENANT_ID USER_ID ROLE
(app configuration from the environment, as for the worker).
"""
from __future__ import annotations

import os
import sys


def main(tenant_id: int, user_id: int, role: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from shangliang import create_app
    from shangliang.accounts.models import User
    from shangliang.accounts.operations import add_membership
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant

    create_app(check=False)

    def crash(session):
        if session.info.get("outbox"):
            os._exit(17)

    event.listen(Session, "after_commit", crash, insert=True)
    with tenant_context(tenant_id):
        add_membership(db.get(Tenant, tenant_id), None, db.get(User, user_id), role)
        db.commit()
    sys.exit("still alive after the commit: the crash listener did not run")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
