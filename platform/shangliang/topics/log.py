"""A topic's log: the immutable events every change writes, and what is read off them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..core.db import db, utcnow
from .models import Topic, TopicEvent


def clock() -> datetime:
    """The time a topic changes at. Topics read the clock here only, so that pinning this module's
    `utcnow` pins them all (tests that tell a story at its own times)."""
    return utcnow()


def events(topic: Topic) -> list[TopicEvent]:
    return list(db.scalars(select(TopicEvent).where(TopicEvent.topic_id == topic.id).order_by(TopicEvent.seq)))


def log_event(topic: Topic, action: str, actor_id, actor_role, *, at, from_step=None, to_step=None, comment="",
              data=None) -> TopicEvent:
    """Append one event, with the canonical phases of the steps it leaves and enters."""
    steps = {s["key"]: s for s in topic.procedure.steps}
    seq = (db.scalar(select(func.max(TopicEvent.seq)).where(TopicEvent.topic_id == topic.id)) or 0) + 1
    ev = TopicEvent(tenant_id=topic.tenant_id, topic_id=topic.id, seq=seq, action=action, from_step=from_step,
                    to_step=to_step, phase_from=steps[from_step]["phase"] if from_step else None,
                    phase_to=steps[to_step]["phase"] if to_step else None, round=topic.round,
                    actor_id=actor_id, actor_role=actor_role, comment=comment[:2000], data=data or {},
                    at=at)
    db.add(ev)
    return ev


def this_visit(topic: Topic, log: list[TopicEvent]) -> list[TopicEvent]:
    """Events since the topic last entered its current step."""
    start = max((i for i, e in enumerate(log) if e.to_step is not None), default=0)
    return log[start:]


def claimants(log: list[TopicEvent]) -> list[int]:
    """Members who took the topic up: who claimed it, and whom they invited."""
    out: list[int] = []
    for e in log:
        uid = e.actor_id if e.action == "claim" else e.data.get("user_id") if e.action == "invite" else None
        if uid is not None and uid not in out:
            out.append(uid)
    return out
