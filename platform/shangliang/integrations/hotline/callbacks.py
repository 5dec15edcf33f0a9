"""Status back to the hotline: each change it cares about is a webhook event of the topic's street,
delivered to the hotline's callback URL by the street's subscription that the county's account keeps.

Why webhooks of the streets: the events happen in a street (its topics' log, its transfers) and are
written in its transaction, under its tenant; a subscription of the street turns them into
deliveries of the same transaction, sent after commit, retried with backoff and dead-lettered with
a reason on the street's 事件推送 page (delivery.py), signed with the account's secret. So nothing
crosses a tenant when a topic changes, a hotline down for an hour loses nothing, and there is one
delivery mechanism. The account keeps one subscription in each street of the county ("managed"),
made or changed whenever the account is, and made for a street the first time an order goes there.

Each event carries the work-order number (kept on the topic, `details.hotline_order`); a topic that
did not come from the hotline is not news to it (its body is None: nothing is sent)."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core.db import db, new_id, utcnow
from ...core.tenancy import tenant_context
from ...procedures.evidence import FIELD_LABELS
from ...tenants.models import Tenant
from ...topics import ratings
from ...topics.actions import ACTIONS
from ...topics.models import Topic, TopicEvent, Transfer
from .. import signing
from ..events import EventType, forget_subscribers, register_event
from ..models import WebhookSubscription
from ..sources import topic_ref
from .models import HotlineAccount

ORDER_KEY = "hotline_order"  # the topic's detail that names its work order
MANAGED = "hotline"
FIELD_LABELS.setdefault(ORDER_KEY, "12345 工单编号")  # how the topic page names it
FIELD_LABELS.setdefault("hotline_category", "12345 工单类别")
FIELD_LABELS.setdefault("hotline_attachments", "12345 工单附件")


def _topic(session: Session, row) -> Topic:
    return session.get(Topic, (row.tenant_id, row.topic_id))


def _body(session: Session, row, status: str, **more) -> dict | None:
    topic = _topic(session, row)
    number = (topic.details or {}).get(ORDER_KEY)
    if number is None:
        return None
    county = session.get(Tenant, topic.tenant_id).parent
    return {"order": {"number": number, "county": county.slug if county else None}, "status": status,
            "topic": topic_ref(session, row), **more}


def _takes_up(e: TopicEvent) -> bool:
    """受理: a member claims the topic, or it leaves its intake step for another (not to be closed)."""
    closes = e.action in ACTIONS and ACTIONS[e.action].closes_as is not None
    moves_on = e.phase_from == "intake" and e.to_step not in (None, e.from_step) and not closes
    return e.action == "claim" or moves_on


def _accepted(session, e: TopicEvent) -> dict | None:
    earlier = session.scalars(select(TopicEvent).where(TopicEvent.topic_id == e.topic_id,
                                                       TopicEvent.seq < e.seq)).all()
    if any(_takes_up(x) for x in earlier):
        return None  # told once, at the first
    return _body(session, e, "accepted", via=e.action)


def _transferred(session, t: Transfer) -> dict | None:
    if t.id is None:
        t.id = new_id()
    return _body(session, t, "transferred", transfer={"id": str(t.id), "department": t.department_name,
                                                      "due_at": _iso(t.due_at)})


def _replied(session, e: TopicEvent) -> dict | None:
    # What the department did is what the hotline tells the caller: the one text that is sent.
    return _body(session, e, "replied", transfer={"id": e.data.get("transfer_id"), "department": e.data.get("department"),
                                                  "on_time": e.data.get("on_time"), "answer": e.comment})


def _visit_due(session, e: TopicEvent) -> dict | None:
    return _body(session, e, "visit_due")


def _rated(session, e: TopicEvent) -> dict | None:
    kept = ("level", "satisfied", "solved", "valid", "score", "via")
    return _body(session, e, "rated", rating={k: e.data[k] for k in kept if k in e.data})


def _closed(session, e: TopicEvent) -> dict | None:
    closed_as = ACTIONS[e.action].closes_as
    return _body(session, e, "closed", closed_as=closed_as,
                 **({"reason": e.data.get("reason")} if closed_as == "out_of_scope" else {}))


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _at(e):
    return e.at


def _closes(e: TopicEvent) -> bool:
    return e.action in ACTIONS and ACTIONS[e.action].closes_as is not None


EVENTS = [
    register_event(EventType("hotline.accepted", "12345 工单已受理", TopicEvent, _takes_up, data=_accepted, at=_at)),
    register_event(EventType("hotline.transferred", "12345 工单已转办", Transfer, data=_transferred,
                             at=lambda t: t.sent_at)),
    register_event(EventType("hotline.replied", "12345 工单部门已答复", TopicEvent,
                             lambda e: e.action == "transfer_reply", data=_replied, at=_at)),
    # 办理完毕，待回访: the topic reached its evaluation, where the hotline's 回访 is recorded
    register_event(EventType("hotline.visit_due", "12345 工单待回访", TopicEvent,
                             lambda e: e.phase_to == "evaluation" and e.to_step != e.from_step, data=_visit_due,
                             at=_at)),
    register_event(EventType("hotline.rated", "12345 工单已评价", TopicEvent, lambda e: e.action == ratings.RATE,
                             data=_rated, at=_at)),
    register_event(EventType("hotline.closed", "12345 工单已办结", TopicEvent, _closes, data=_closed, at=_at)),
]
EVENT_KEYS = [e.key for e in EVENTS]


# ---------------------------------------------------------------- the streets' subscriptions

def managed(street_id: int) -> WebhookSubscription | None:
    """The street's subscription that the account keeps (read inside the street)."""
    return db.scalar(select(WebhookSubscription).where(WebhookSubscription.tenant_id == street_id,
                                                       WebhookSubscription.managed_by == MANAGED))


def keep(account: HotlineAccount, secret: str, street_id: int, actor_id: int | None) -> WebhookSubscription | None:
    """The street's subscription as the account says: its URL, the hotline events, its secret,
    active while the account is. None (and nothing made) while the account has no callback URL."""
    with tenant_context(street_id):
        row, now = managed(street_id), utcnow()
        if row is None and not account.callback_url:
            return None
        if row is None:
            row = WebhookSubscription(id=new_id(), tenant_id=street_id, name=account.name[:60], managed_by=MANAGED,
                                      created_by=actor_id, created_at=now)
            db.add(row)
        row.url = account.callback_url or row.url
        row.events, row.name = list(EVENT_KEYS), account.name[:60]
        row.active = bool(account.active and account.callback_url)
        row.secret_sealed, row.updated_at = signing.seal(secret, street_id, row.id), now
        db.flush()
        forget_subscribers(db())
        return row


def subscription_states(street_ids: list[int]) -> dict[int, uuid.UUID]:
    """{street id: subscription id} of the streets that have one (the county page, inside a
    cross-tenant read)."""
    rows = db.execute(select(WebhookSubscription.tenant_id, WebhookSubscription.id).where(
        WebhookSubscription.tenant_id.in_(street_ids), WebhookSubscription.managed_by == MANAGED))
    return {tid: sid for tid, sid in rows}
