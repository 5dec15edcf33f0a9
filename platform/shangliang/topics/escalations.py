"""提请 that reaches someone: the `escalate` move puts the topic, with its reason, in the queue of
the level its procedure names (the street's 党工委, or the county); that level answers (decides,
assigns departments, takes it up itself, or sends it back), the answer goes on the topic's
timeline, and the person who raised it is told."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.models import Membership
from ..core import forms
from ..core.db import db
from ..core.errors import Refused
from ..core.tenancy import tenant_context
from ..notifications.operations import notify
from ..tenants.models import Tenant
from . import transfers
from .log import clock, log_event
from .models import ESCALATION_ANSWERS, ESCALATION_LEVELS, Escalation, Topic, TopicEvent

EVENT_LABELS = {"escalation_answer": "上级答复"}
# Who answers for a level, in the tenant where that level sits.
ANSWERERS = {"street": "street_admin", "county": "county_admin"}


def check(topic, data, _log):
    """The handler of `escalate`: the level comes from the procedure (act() sets it), the reason
    from the person, who must give one: it is what the level above reads first."""
    reason = forms.text(data, "reason", limit=1000, required="请说明提请的理由：社区为什么解决不了，需要上级做什么")
    return {"level": data["level"], "reason": reason}


def raise_up(tenant: Tenant, topic: Topic, event: TopicEvent, actor_id: int | None, _data: dict) -> None:
    """The `follow` of 提请: the escalation waits in the level's queue; its people are told."""
    esc = Escalation(tenant_id=tenant.id, topic_id=topic.id, level=event.data["level"], reason=event.data["reason"],
                     raised_by=actor_id, raised_at=event.at)
    db.add(esc)
    db.flush()
    where = tenant.id if esc.level == "street" or tenant.parent_id is None else tenant.parent_id
    title = f"{tenant.name}提请{ESCALATION_LEVELS[esc.level]}：#{topic.number} {topic.title}"[:200]
    with tenant_context(where):  # the county's people are told in the county
        for uid in db.scalars(select(Membership.user_id).where(Membership.role == ANSWERERS[esc.level])):
            notify(where, uid, "escalation.raised", title, esc.reason[:500],
                   link=f"/t/{tenant.slug}/escalations/{esc.id}")


def find(escalation_id) -> Escalation | None:
    return db.scalar(select(Escalation).where(Escalation.id == escalation_id))


def topic_of(esc: Escalation) -> Topic:
    return db.scalar(select(Topic).where(Topic.id == esc.topic_id))


def of_topic(topic: Topic) -> list[Escalation]:
    return list(db.scalars(select(Escalation).where(Escalation.topic_id == topic.id).order_by(Escalation.raised_at)))


def answers(escalation: Escalation, roles: set[str]) -> bool:
    """Whether a person with these roles in the street answers for the escalation's level (a county
    administrator holds county_admin in each of the county's streets)."""
    return ANSWERERS[escalation.level] in roles or "county_admin" in roles or "platform_admin" in roles


def answer(tenant: Tenant, topic: Topic, esc: Escalation, actor_id: int, data: dict) -> None:
    kind = str(data.get("kind") or "")
    if kind not in ESCALATION_ANSWERS:
        raise Refused("请选择如何答复：作出决定、交办部门、上级牵头办理或退回继续协商", "kind", "validation_error")
    text = forms.text(data, "answer", limit=5000, required="请写明上级的意见，社区和街道会在议题的办理经过中看到")
    if esc.state != "open":
        raise Refused("这次提请已答复，请刷新页面", "escalation", "conflict")
    if topic.status != "open":
        raise Refused("该议题已办结，无需再答复", "escalation", "conflict")
    extra: dict = {}
    if kind == "assign":  # the departments are checked (and the county's list read) before any write
        prepared = transfers.prepare(tenant, topic, actor_id, set(), {**data, "asked": data.get("asked") or text})
        extra = {"departments": [c["name"] for c in prepared["chosen"]]}
    now = clock()
    esc.state, esc.answer_kind, esc.answer, esc.answered_by, esc.answered_at = "answered", kind, text, actor_id, now
    log_event(topic, "escalation_answer", actor_id, ANSWERERS[esc.level], at=now, comment=text,
              data={"escalation_id": str(esc.id), "level": esc.level, "kind": kind, **extra})
    topic.updated_at = now
    if kind == "assign":
        due = datetime.fromisoformat(prepared["due_at"]) if prepared.get("due_at") else topic.due_at
        transfers.make(tenant, topic, prepared["chosen"], prepared["asked"], due, actor_id, now)
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise Refused("该议题刚被他人处理过，请刷新后再操作", "version", "conflict") from None
    if esc.raised_by:
        notify(tenant.id, esc.raised_by, "escalation.answered",
               f"{ESCALATION_LEVELS[esc.level]}答复了提请：#{topic.number} {topic.title}"[:200], text[:500],
               link=f"/t/{tenant.slug}/topics/{topic.number}")


def queue(level: str, state: str):
    """The escalations of a level with their topic and street, in the streets the scope reads:
    waiting ones oldest first, answered ones latest first."""
    stmt = (select(Escalation, Topic.number, Topic.title, Tenant.name.label("street_name"),
                   Tenant.slug.label("street_slug"))
            .join(Topic, (Topic.tenant_id == Escalation.tenant_id) & (Topic.id == Escalation.topic_id))
            .join(Tenant, Tenant.id == Escalation.tenant_id).where(Escalation.level == level))
    if state in ("open", "answered"):
        stmt = stmt.where(Escalation.state == state)
    if state == "open":
        return stmt.order_by(Escalation.raised_at)
    return stmt.order_by(Escalation.answered_at.desc(), Escalation.raised_at.desc())
