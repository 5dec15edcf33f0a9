"""A topic comes in (收集): its fields checked, its number taken, its first step entered."""
from __future__ import annotations

import re
from typing import Callable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..core.db import db
from ..core.errors import Refused
from ..procedures.operations import current_version, register_in_progress
from ..tenants.models import Tenant
from . import counts, places
from .channels import CHANNELS
from .deadlines import add_time_limit, procedure_deadline
from .log import clock, log_event
from .models import Topic, TopicCounter

PHONE_RE = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")
# Fields kept in the topic's own columns; every other field of the procedure lives in `details`.
TOPIC_COLUMNS = ("category", "urgency", "community", "grid", "place", "description", "resident_name",
                 "resident_phone", "channel")
URGENCIES = ("normal", "urgent")
# Who else hears of a new topic, registered by modules above topics: (tenant, topic) once it is
# logged (the roster tells the members paired with its grid).
_on_create: list[Callable[[Tenant, Topic], None]] = []


def register_on_create(hook: Callable[[Tenant, Topic], None]) -> None:
    _on_create.append(hook)


def field_value(topic: Topic, name: str):
    return getattr(topic, name) if name in TOPIC_COLUMNS else topic.details.get(name)


def _clean(data: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = (data.get(name) or "").strip()
    if required and not value:
        raise Refused("必填", name, "validation_error")
    if len(value) > limit:
        raise Refused(f"最多 {limit} 个字符", name, "validation_error")
    return value or None


def validate_intake(data: dict) -> dict:
    out = {"title": _clean(data, "title", 120, True), "description": _clean(data, "description", 5000) or "",
           "channel": _clean(data, "channel", 32, True), "category": _clean(data, "category", 32),
           "urgency": _clean(data, "urgency", 16) or "normal", "community": _clean(data, "community", 60),
           "grid": _clean(data, "grid", 60), "place": _clean(data, "place", 200),
           "resident_name": _clean(data, "resident_name", 60), "resident_phone": _clean(data, "resident_phone", 20)}
    check_choice("channel", out["channel"])
    check_choice("urgency", out["urgency"])
    if out["resident_phone"] and not PHONE_RE.fullmatch(out["resident_phone"].replace(" ", "")):
        raise Refused("电话号码格式不正确", "resident_phone", "validation_error")
    return out


def check_choice(name: str, value: str) -> None:
    """The fields with a fixed set of values, at intake and when recorded later."""
    if name == "urgency" and value not in URGENCIES:
        raise Refused("紧急程度须为一般或紧急", name, "validation_error")
    if name == "channel" and value not in CHANNELS:
        raise Refused("未知的渠道", name, "validation_error")


def next_number(tenant: Tenant) -> int:
    bump = update(TopicCounter).values(last=TopicCounter.last + 1).returning(TopicCounter.last)
    number = db.execute(bump).scalar()
    if number is None:  # the tenant's first topic
        try:
            with db.begin_nested():
                db.add(TopicCounter(tenant_id=tenant.id, last=1))
            return 1
        except IntegrityError:  # another first topic made the row meanwhile: queue behind it
            number = db.execute(bump).scalar()
    return number


def create_topic(tenant: Tenant, actor_id: int | None, data: dict, actor_role: str | None = None,
                 station=None, service: str | None = None) -> Topic:
    """A topic from any channel enters the tenant's current procedure at its first step. `station`
    (with `id` and `name`): the station it was raised at, kept on the topic and named in its log;
    `service`: the service account (a system acting for a resident) its log names."""
    version = current_version(tenant)
    if version is None:
        raise Refused("本单位还没有发布工作法，无法登记议题", "procedure", "no_procedure")
    fields = validate_intake(data)
    places.check(tenant.id, fields)
    first = version.steps[0]
    now = clock()
    due = add_time_limit(now, first.get("time_limit"), tenant.timezone)
    topic = Topic(tenant_id=tenant.id, number=next_number(tenant), procedure_version_id=version.id,
                  step_key=first["key"], step_entered_at=now, due_at=due, response_due_at=due,
                  deadline_at=procedure_deadline(version.steps, now, tenant.timezone),
                  created_by=actor_id, created_at=now, updated_at=now,
                  station_id=station.id if station is not None else None, **fields)
    db.add(topic)
    db.flush()
    counts.entered(topic)
    origin = {"station": station.name} if station is not None else {}
    if service:
        origin["service"] = service
    log_event(topic, "create", actor_id, actor_role, at=now, to_step=first["key"],
              data={"channel": fields["channel"], **origin})
    for hook in _on_create:
        hook(tenant, topic)
    return topic


def open_topics(tenant: Tenant) -> int:
    """Topics still being worked (each finishes on its own procedure version): a publication says how many."""
    return db.scalar(select(func.count()).select_from(Topic).where(Topic.status == "open")) or 0


register_in_progress(open_topics)
