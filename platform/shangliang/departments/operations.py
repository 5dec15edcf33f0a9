"""The list of departments and units, their contacts, and who answers for which department.

A street keeps its own list (五办四中心, units in the area, enterprises such as the gas company);
a county keeps the county departments, which its streets name too. A contact is a person with the
`department` role in the department's tenant, bound to the department here: they answer its
transfers (topics/transfers.py) and nobody else's."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from ..accounts.models import Membership, User
from ..accounts.operations import add_membership, normalise_username
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core import forms
from ..core.db import db
from ..core.errors import Refused
from ..core.tenancy import cross_tenant
from ..tenants.models import Tenant
from .models import KINDS, Department, DepartmentContact

PHONE_CHARS = set("0123456789-+() ")


@dataclass(frozen=True)
class Choice:
    """A department a street may name, wherever its row lives."""

    tenant_id: int
    id: uuid.UUID
    name: str
    kind: str
    county: bool  # one of the county's departments, not the street's own

    @property
    def value(self) -> str:  # how a form names it: the tenant and the id
        return f"{self.tenant_id}:{self.id}"

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


def check(data: dict) -> dict:
    name = forms.text(data, "name", limit=100, required="请填写部门或单位名称")
    kind = str(data.get("kind") or "")
    if kind not in KINDS:
        raise Refused("请选择类型", "kind", "validation_error")
    phone = forms.text(data, "phone", limit=40)
    if phone and not set(phone) <= PHONE_CHARS:
        raise Refused("电话只能包含数字、空格和 - + ( )", "phone", "validation_error")
    return {"name": name, "kind": kind, "phone": phone or None, "note": forms.text(data, "note", limit=1000)}


def save(tenant: Tenant, actor_id: int | None, data: dict, department: Department | None = None) -> Department:
    fields = check(data)
    clash = db.scalar(select(Department.id).where(Department.name == fields["name"]))
    if clash is not None and (department is None or clash != department.id):
        raise Refused("已有同名的部门或单位", "name", "conflict")
    if department is None:
        department = Department(tenant_id=tenant.id, **fields)
        db.add(department)
        db.flush()
        record(tenant.id, actor_id, "department.create", str(department.id), {"name": department.name})
        return department
    for name, value in fields.items():
        setattr(department, name, value)
    if "active" in data:
        department.active = str(data.get("active")).lower() not in ("", "0", "false", "off", "no")
    record(tenant.id, actor_id, "department.update", str(department.id), {"name": department.name})
    return department


def listed(include_inactive: bool = True) -> list[Department]:
    q = select(Department).order_by(Department.active.desc(), Department.kind, Department.name)
    return list(db.scalars(q if include_inactive else q.where(Department.active.is_(True))))


def find(department_id) -> Department | None:
    try:
        return db.scalar(select(Department).where(Department.id == uuid.UUID(str(department_id))))
    except ValueError:
        return None


# ---------------------------------------------------------------- contacts

def contacts(department_ids) -> dict[uuid.UUID, list[User]]:
    """Each department's contacts, in one statement."""
    out: dict[uuid.UUID, list[User]] = {}
    rows = db.execute(select(DepartmentContact.department_id, User).join(User, User.id == DepartmentContact.user_id)
                      .where(DepartmentContact.department_id.in_(list(department_ids))).order_by(User.display_name))
    for dept_id, user in rows:
        out.setdefault(dept_id, []).append(user)
    return out


def add_contact(tenant: Tenant, actor_id: int | None, department: Department, username: str) -> User:
    """Bind a person (by their login) to the department, giving them the `department` role here
    if they lack it: a street office's clerk or a gas company's liaison answers from then on."""
    user = db.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise Refused("没有这个登录账号，请先在成员管理中邀请此人", "username", "not_found")
    if db.get(DepartmentContact, {"tenant_id": tenant.id, "department_id": department.id, "user_id": user.id}):
        raise Refused(f"{user.display_name} 已是该部门的联系人", "username", "conflict")
    if db.get(Membership, {"tenant_id": tenant.id, "user_id": user.id, "role": "department"}) is None:
        add_membership(tenant, actor_id, user, "department")
    db.add(DepartmentContact(tenant_id=tenant.id, department_id=department.id, user_id=user.id))
    record(tenant.id, actor_id, "department.contact_add", user.username, {"department": department.name})
    return user


def remove_contact(tenant: Tenant, actor_id: int | None, department: Department, user_id: int) -> None:
    row = db.get(DepartmentContact, {"tenant_id": tenant.id, "department_id": department.id, "user_id": user_id})
    if row is None:
        raise Refused("没有这个联系人", "user_id", "not_found")
    db.delete(row)
    record(tenant.id, actor_id, "department.contact_remove", str(user_id), {"department": department.name})


def answered_by(user_id: int) -> list[tuple[int, uuid.UUID]]:
    """(tenant, department) pairs this person answers for, in any tenant (their own rows)."""
    return [(t, d) for t, d in db.execute(
        select(DepartmentContact.tenant_id, DepartmentContact.department_id)
        .where(DepartmentContact.user_id == user_id).execution_options(own_rows=True))]


# ---------------------------------------------------------------- what a street may name

def choices(street: Tenant, actor_id: int | None, county: bool = True) -> list[Choice]:
    """The street's own active departments, then its county's (read through the audited path)."""
    own = [Choice(d.tenant_id, d.id, d.name, d.kind, False) for d in listed(include_inactive=False)]
    if street.parent_id is None or not county:
        return own
    with cross_tenant([street.parent_id], reason="county departments", actor_id=actor_id,
                      acting_tenant_id=street.id):
        theirs = [Choice(d.tenant_id, d.id, d.name, d.kind, True) for d in listed(include_inactive=False)]
    return own + theirs


def choose(street: Tenant, actor_id: int | None, values, field: str = "departments") -> list[Choice]:
    """The departments a form names ('tenant:id' each), checked against what the street may name.
    The county's list is read only when a value names the county (the read is audited)."""
    values = [str(v).strip() for v in (values if isinstance(values, (list, tuple)) else [values]) if str(v).strip()]
    if not values:
        raise Refused("请选择至少一个部门或单位", field, "validation_error")
    county = any(not v.startswith(f"{street.id}:") for v in values)
    allowed = {c.value: c for c in choices(street, actor_id, county)}
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise Refused("所选部门不在本街道或所属区县的部门名单中", field, "validation_error")
    return [allowed[v] for v in dict.fromkeys(values)]
