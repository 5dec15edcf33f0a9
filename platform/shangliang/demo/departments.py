"""The demo's departments and units (tenants/demo/departments.yaml), their contacts' logins, and the
transfers of the generated history: each 转交 of a topic's life becomes a transfer to the named
department, answered before the topic moved on (mostly in time), or still open if it has not."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from ..accounts.models import Membership, User
from ..accounts.operations import add_membership, create_user
from ..core.db import db
from ..core.tenancy import tenant_context
from ..departments.models import Department, DepartmentContact
from ..roster.models import Person
from ..tenants.models import Tenant
from ..topics.deadlines import add_time_limit
from .life import ASKED, FALLBACK_DEPARTMENTS

FILE = Path(__file__).resolve().parents[3] / "tenants" / "demo" / "departments.yaml"
ANSWERS = ("已到现场核实，问题属实，已安排人员处理，预计本周内完成。", "已协调相关单位制定方案，费用由责任单位承担，下周施工。",
           "经核实已整改完毕，已回访居民，居民表示认可。", "已纳入本年度改造计划，先行采取临时措施，进度将每周反馈社区。")


def _spec() -> dict:
    return yaml.safe_load(FILE.read_text("utf-8")) or {}


def _county_level(name: str) -> bool:
    return name.startswith(("区", "县"))


def _ensure(tenant: Tenant, rows: list[dict], password: str) -> None:
    with tenant_context(tenant.id):
        have = {d.name: d for d in db.scalars(select(Department))}
        for row in rows:
            dept = have.get(row["name"])
            if dept is None:
                dept = Department(tenant_id=tenant.id, name=row["name"], kind=row["kind"], note=row.get("note", ""))
                db.add(dept)
                db.flush()
                have[dept.name] = dept
            who = row.get("contact")
            if who:
                user = db.scalar(select(User).where(User.username == who["username"])) \
                    or create_user(who["username"], who["name"], password)
                if db.get(Membership, {"tenant_id": tenant.id, "user_id": user.id, "role": "department"}) is None:
                    add_membership(tenant, None, user, "department")
                if db.get(DepartmentContact, {"tenant_id": tenant.id, "department_id": dept.id,
                                              "user_id": user.id}) is None:
                    db.add(DepartmentContact(tenant_id=tenant.id, department_id=dept.id, user_id=user.id))
        db.flush()


def ensure_demo_departments(street: Tenant, password: str) -> None:
    """The street's list and its county's: the file's rows, and every name its roster's contacts
    and its history may give (a 区/县 name on the county's list)."""
    spec = _spec()
    with tenant_context(street.id):
        named = set(db.scalars(select(Person.organisation).where(Person.kind == "department_contact",
                                                                 Person.organisation.is_not(None))))
    named |= set(FALLBACK_DEPARTMENTS)
    own = list(spec.get(street.slug, [])) + [{"name": n, "kind": "street_office"} for n in sorted(named)
                                             if not _county_level(n)]
    county = list(spec.get(street.parent.slug, [])) + [{"name": n, "kind": "county_department"}
                                                       for n in sorted(named) if _county_level(n)]
    _ensure(street.parent, county, password)
    _ensure(street, own, password)


def demo_logins() -> list[tuple[str, str]]:
    return [(row["contact"]["username"], f"{row['contact']['name']} {row['name']}联系人（{slug}）")
            for slug, rows in _spec().items() for row in rows if row.get("contact")]


def listed_names(street: Tenant) -> set[str]:
    """The departments on the street's list and its county's, which its history may name."""
    names: set[str] = set()
    for tenant_id in (street.parent_id, street.id):
        with tenant_context(tenant_id):
            names |= set(db.scalars(select(Department.name).where(Department.active.is_(True))))
    return names


def history_transfers(street: Tenant, steps: list[dict], events: list[dict], rnd: random.Random,
                      now: datetime) -> list[dict]:
    """A transfer row for each 转交 of the generated history (logged with a department's name)."""
    by_name = {}
    for tenant_id in (street.parent_id, street.id):  # the street's own name wins
        with tenant_context(tenant_id):
            by_name |= {d.name: d for d in db.scalars(select(Department))}
    by_topic: dict = {}
    for e in events:
        by_topic.setdefault(e["topic_id"], []).append(e)
    rows = []
    for log in by_topic.values():
        for i, e in enumerate(log):
            dept = by_name.get((e["data"].get("departments") or [None])[0]) if e["action"] == "transfer" else None
            if dept is None:
                continue
            limit = next(s.get("time_limit") for s in steps if s["key"] == e["to_step"])
            due = add_time_limit(e["at"], limit, street.timezone)  # the step's limit, as act() sets it
            moved = next((x["at"] for x in log[i + 1:] if x["to_step"] is not None), None)
            row = {"tenant_id": street.id, "id": uuid.UUID(int=rnd.getrandbits(128)), "topic_id": e["topic_id"],
                   "department_tenant_id": dept.tenant_id, "department_id": dept.id, "department_name": dept.name,
                   "asked": ASKED, "due_at": due, "state": "sent",
                   "sent_by": e["actor_id"], "sent_at": e["at"], "accepted_by": None, "accepted_at": None,
                   "answered_by": None, "answered_at": None, "answer": "", "on_time": None, "reminded_at": None}
            # Answered before the topic moved on (mostly in time); where it has not moved on, the
            # department may have answered already, be working on it, or not have opened it yet.
            fate = "replied" if moved is not None else rnd.choice(("replied", "accepted", "sent"))
            if fate == "replied":
                span = ((moved or now) - e["at"]) * rnd.uniform(0.3, 0.95)
                answered = e["at"] + span
                row |= {"state": "replied", "accepted_at": e["at"] + span / 4, "answered_at": answered,
                        "answer": rnd.choice(ANSWERS), "on_time": due is None or answered <= due}
            elif fate == "accepted":
                row |= {"state": "accepted", "accepted_at": min(e["at"] + timedelta(hours=3), now)}
            rows.append(row)
    return rows
