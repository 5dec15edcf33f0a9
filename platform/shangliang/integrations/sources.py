"""Where webhook events come from: the rows a flush writes, read just before they are written.

Why a flush listener rather than a call in every operation, or a registry the lower areas call:
every change of a topic already writes one immutable row of its log (`TopicEvent`: act(), the
department's answers, 公示, 议题公示, the answers to a 提请), the one record benchmarking trusts, and
a transfer or a meeting's status is a row too. Reading those rows as they are flushed means no
operation has to remember to announce itself (none of topics, meetings or their tests changed for
webhooks), a new kind of event is one `register_event` below, and nothing is announced that was
not written: a refused action flushes nothing, and a rollback drops the deliveries and their
outbox rows with the change. It runs before the flush so that they are written in the same flush,
under the same tenant scope as the rows that caused them.

Only the request's or job's own session announces (every operation writes through it); side
sessions (own_transaction, the outbox relay) write no such rows, and rows written in bulk past the
ORM (the demo's generated history) are not news."""
from __future__ import annotations

import uuid

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from ..core.db import Session as ScopedSession, new_id
from ..meetings.models import Meeting, MeetingTopic
from ..topics import ratings
from ..topics.actions import ACTIONS
from ..topics.models import Topic, TopicEvent, Transfer
from .events import EVENT_TYPES, EventType, emit, forget_subscribers, register_event, subscribers


# ---------------------------------------------------------------- what a body names

def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def step_of(topic: Topic, key: str | None) -> dict | None:
    if key is None:
        return None
    step = next((s for s in topic.procedure.steps if s["key"] == key), None)
    return {"key": key, "name": step["name"]["zh"] if step else key}


def topic_ref(session: Session, row) -> dict:
    """The topic as the API names it (id, number) and where it stands: no title, no resident."""
    topic = session.get(Topic, (row.tenant_id, row.topic_id))
    return {"id": str(topic.id), "number": topic.number, "channel": topic.channel, "status": topic.status,
            "closed_as": topic.closed_as, "round": topic.round, "step": step_of(topic, topic.step_key)}


def _topic(session, e: TopicEvent) -> dict:
    return {"topic": topic_ref(session, e)}


def _moved(session, e: TopicEvent) -> dict:
    topic = session.get(Topic, (e.tenant_id, e.topic_id))
    return {"topic": topic_ref(session, e), "from_step": step_of(topic, e.from_step),
            "to_step": step_of(topic, e.to_step), "via": e.action}


def _closed(session, e: TopicEvent) -> dict:
    return {"topic": topic_ref(session, e), "closed_as": ACTIONS[e.action].closes_as}


def _rated(session, e: TopicEvent) -> dict:
    kept = ("level", "satisfied", "solved", "valid", "score", "party")  # what was chosen, never who
    return {"topic": topic_ref(session, e), "rating": {k: e.data[k] for k in kept if k in e.data}}


def _replied(session, e: TopicEvent) -> dict:
    transfer = session.get(Transfer, (e.tenant_id, uuid.UUID(str(e.data.get("transfer_id")))))
    return {"topic": topic_ref(session, e), "transfer": _transfer(transfer) | {"on_time": e.data.get("on_time")}}


def _transfer(t: Transfer) -> dict:
    return {"id": str(t.id), "state": t.state, "due_at": _iso(t.due_at),
            "department": {"id": str(t.department_id), "name": t.department_name}}


def _transferred(session, t: Transfer) -> dict:
    if t.id is None:
        t.id = new_id()  # the id its column default would give it at insert, given now so the body names it
    return {"topic": topic_ref(session, t), "transfer": _transfer(t)}


def _notice(session, e: TopicEvent) -> dict:
    return {"topic": topic_ref(session, e), "corrected": bool(e.data.get("corrected"))}


def _held(session, m: Meeting) -> dict:
    consulted = session.execute(select(Topic.id, Topic.number).join(
        MeetingTopic, (MeetingTopic.tenant_id == Topic.tenant_id) & (MeetingTopic.topic_id == Topic.id))
        .where(MeetingTopic.meeting_id == m.id).order_by(Topic.number))
    return {"meeting": {"id": str(m.id), "number": m.number, "form": m.form, "starts_at": _iso(m.starts_at)},
            "topics": [{"id": str(tid), "number": number} for tid, number in consulted]}


def _closes(e: TopicEvent) -> bool:
    return e.action in ACTIONS and ACTIONS[e.action].closes_as is not None


def _at(e):
    return e.at


register_event(EventType("topic.created", "议题登记", TopicEvent, lambda e: e.action == "create", data=_topic, at=_at))
register_event(EventType("topic.moved", "议题进入新环节", TopicEvent,
                         lambda e: e.from_step is not None and e.to_step not in (None, e.from_step), data=_moved,
                         at=_at))
register_event(EventType("topic.transferred", "转交部门办理", Transfer, data=_transferred, at=lambda t: t.sent_at))
register_event(EventType("topic.replied", "部门答复", TopicEvent, lambda e: e.action == "transfer_reply",
                         data=_replied, at=_at))
register_event(EventType("topic.closed", "议题办结", TopicEvent, _closes, data=_closed, at=_at))
register_event(EventType("topic.rated", "居民评价", TopicEvent, lambda e: e.action == ratings.RATE, data=_rated,
                         at=_at))
register_event(EventType("meeting.held", "议事会召开", Meeting, lambda m: m.status == "held", changed="status",
                         data=_held))
register_event(EventType("topic.notice_published", "议题公示发布", TopicEvent, lambda e: e.action == "notice",
                         data=_notice, at=_at))
register_event(EventType("topic.outcome_published", "办理公示发布", TopicEvent, lambda e: e.action == "publish",
                         data=_topic, at=_at))


# ---------------------------------------------------------------- the listener

def _is_news(kind: EventType, row, new: bool) -> bool:
    if kind.changed is None:
        return new and kind.when(row)
    return not new and bool(inspect(row).attrs[kind.changed].history.added) and kind.when(row)


@event.listens_for(Session, "before_flush")
def _announce(session: Session, _ctx, _instances) -> None:
    if not ScopedSession.registry.has() or session is not ScopedSession():
        return
    kinds = [k for k in EVENT_TYPES.values() if k.source is not None]
    news = [(kind, row) for rows, new in ((list(session.new), True), (list(session.dirty), False))
            for row in rows for kind in kinds if isinstance(row, kind.source) and _is_news(kind, row, new)]
    for kind, row in news:  # the body is made only when someone chose the event
        if any(kind.key in chosen for _id, chosen in subscribers(session, row.tenant_id)):
            data = kind.data(session, row)
            if data is not None:  # None: on a closer look not news (a hotline event of another topic)
                emit(session, row.tenant_id, kind.key, data, kind.at(row))


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        forget_subscribers(session)
