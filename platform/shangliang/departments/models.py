"""Departments and units a street or county works with (职能部门, 辖区单位, 五办四中心), and the
people who answer for them (contacts who sign in with the `department` role)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.tenancy import TenantOwned

# What a department is to the street: the words a street office uses, in the order a list shows them.
KINDS = {"street_office": "街道科室（五办四中心）", "county_department": "区县职能部门",
         "unit": "辖区单位", "enterprise": "企业（燃气、供水、供电等）"}


class Department(TenantOwned, Base):
    """A department or unit on a street's (or a county's) list. A county's departments serve every
    street of the county: a street names them when it transfers a topic (read across tenants,
    audited), and their contacts answer from the county."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_departments_tenant_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(40))  # the office's public number
    note: Mapped[str] = mapped_column(Text, default="")  # what it handles, as staff want to remember it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


class DepartmentContact(TenantOwned, Base):
    """A person who answers for a department: they hold the `department` role in its tenant and
    see the department's inbox. A person sees their own contact rows in any tenant (own rows), so
    a county department's contact is recognised on a street's transfer page."""

    __tablename__ = "department_contacts"
    __visible_to_user__ = "user_id"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "department_id"], ["departments.tenant_id", "departments.id"],
                             ondelete="CASCADE"),
        Index("ix_department_contacts_user", "user_id"),
    )

    department_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
