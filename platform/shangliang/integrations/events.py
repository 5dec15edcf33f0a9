"""The event types a subscription may choose, and `emit`, which turns one event into a delivery
for every active subscription of the tenant that chose its type.

A type is one `register_event(...)` (sources.py registers the built-in ones with the rows that
announce them). A later integration adds its own the same way, or emits by hand: a 12345 work
order's status callback is a subscription like any other, with its own choice of types."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.db import new_id, utcnow
from ..core.jobs import enqueue
from ..tenants.models import Tenant
from . import delivery
from .models import WebhookDelivery, WebhookSubscription

DELIVER = "integrations.tasks.deliver"  # by name: tasks sits above this module


@dataclass(frozen=True)
class EventType:
    key: str  # what a receiver reads in X-Shangliang-Event and the body's `type`
    label: str  # how the page names it (Chinese source text)
    # The model whose rows announce it, read as they are flushed (sources.py); None: emitted by hand.
    source: type | None = None
    # A new row of `source` announces it when this holds; with `changed`, an existing row whose
    # attribute of that name was just changed does.
    when: Callable[[Any], bool] = lambda _row: True
    changed: str | None = None
    # The body's `data`: ids, never personal data; None when the row turns out not to be news.
    data: Callable[[Session, Any], dict | None] = lambda _s, _row: {}
    at: Callable[[Any], datetime | None] = lambda _row: None  # when it happened (None: now)


EVENT_TYPES: dict[str, EventType] = {}


def register_event(kind: EventType) -> EventType:
    EVENT_TYPES[kind.key] = kind
    return kind


def choices() -> list[EventType]:
    return list(EVENT_TYPES.values())


# ---------------------------------------------------------------- who is subscribed

_SUBSCRIBERS = "integrations.subscribers"  # session.info: {tenant_id: [(id, events)]}, for the transaction


def subscribers(session: Session, tenant_id: int) -> list[tuple[uuid.UUID, frozenset]]:
    """The tenant's active subscriptions, read once per transaction however many rows it flushes."""
    kept = session.info.setdefault(_SUBSCRIBERS, {})
    if tenant_id not in kept:
        rows = session.execute(select(WebhookSubscription.id, WebhookSubscription.events).where(
            WebhookSubscription.tenant_id == tenant_id, WebhookSubscription.active.is_(True)))
        kept[tenant_id] = [(sid, frozenset(events or ())) for sid, events in rows]
    return kept[tenant_id]


def forget_subscribers(session: Session) -> None:
    """After a subscription changes, or when the transaction ends."""
    session.info.pop(_SUBSCRIBERS, None)


# ---------------------------------------------------------------- emitting

def emit(session: Session, tenant_id: int, event_type: str, data: dict, occurred_at: datetime | None = None
         ) -> list[WebhookDelivery]:
    """A delivery per subscription that chose `event_type`, each queued in the outbox of this
    transaction: sent after it commits, dropped with it if it rolls back."""
    if event_type not in EVENT_TYPES:
        raise KeyError(f"unknown webhook event {event_type!r}")
    wanted = [sid for sid, events in subscribers(session, tenant_id) if event_type in events]
    if not wanted:
        return []
    now = utcnow()
    slug = session.get(Tenant, tenant_id).slug
    event_id, at = new_id(), (occurred_at or now)
    out = []
    for sid in wanted:
        row = WebhookDelivery(id=new_id(), tenant_id=tenant_id, subscription_id=sid, event_id=event_id,
                              event_type=event_type, state="pending", attempts=0, resends=0, next_attempt_at=now,
                              give_up_at=now + delivery.retry_for(), created_at=now)
        row.payload = {"id": str(event_id), "delivery": str(row.id), "type": event_type,
                       "occurred_at": at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"), "tenant": slug, "data": data}
        session.add(row)
        enqueue(DELIVER, str(row.id), tenant_id=tenant_id)
        out.append(row)
    return out
