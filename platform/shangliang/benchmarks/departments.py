"""Departments answering on time (12345's rule: a department answers within the limit), a measure
of their own on the county's 对标 page: per department, of the transfers the county's streets sent
in the period, how many were answered (replied or returned with a reason), how many by the due time,
and how many are still open past it. One grouped statement over the county's streets, audited."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from ..core.db import db, utcnow
from ..core.tenancy import cross_tenant
from ..tenants.models import Tenant
from ..topics.models import OPEN_TRANSFER_STATES, Transfer
from .periods import Period


@dataclass(frozen=True)
class DepartmentLine:
    name: str
    street: str | None  # a street's own office; None for the county's departments
    sent: int
    answered: int
    on_time: int
    open_late: int

    @property
    def late(self) -> int:
        return self.answered - self.on_time

    @property
    def rate(self) -> float | None:
        """On time ÷ what could be measured: answered, or open past the due time."""
        measured = self.answered + self.open_late
        return self.on_time / measured if measured else None


def department_lines(county: Tenant, period: Period, actor_id: int | None) -> list[DepartmentLine]:
    streets = dict(db.execute(select(Tenant.id, Tenant.name).where(Tenant.parent_id == county.id,
                                                                   Tenant.kind == "street")).all())
    if not streets:
        return []
    start, end = period.bounds(county.timezone)
    now = utcnow()
    answered = Transfer.answered_at.is_not(None)
    stmt = (select(Transfer.department_tenant_id, Transfer.department_id, func.max(Transfer.department_name),
                   func.count(), func.sum(case((answered, 1), else_=0)),
                   func.sum(case((and_(answered, Transfer.on_time.is_(True)), 1), else_=0)),
                   func.sum(case((and_(Transfer.state.in_(OPEN_TRANSFER_STATES), Transfer.due_at < now), 1),
                                 else_=0)))
            .where(Transfer.sent_at >= start, Transfer.sent_at < end)
            .group_by(Transfer.department_tenant_id, Transfer.department_id))
    with cross_tenant(list(streets), reason=f"department replies {period.key}", actor_id=actor_id,
                      acting_tenant_id=county.id):
        rows = db.execute(stmt).all()
    lines = [DepartmentLine(name, streets.get(tenant_id), sent, answered_n or 0, on_time or 0, late or 0)
             for tenant_id, _id, name, sent, answered_n, on_time, late in rows]
    return sorted(lines, key=lambda x: (x.rate is None, -(x.rate or 0), -x.sent, x.name))
