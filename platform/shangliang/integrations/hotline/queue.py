"""What the county's 12345 page reads: the orders waiting in the queue (oldest first, a page at a
time), the latest ones that went to streets, and how the callbacks to the hotline are doing in each
street (their subscriptions' deliveries: waiting, given up), through the audited cross-tenant read."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ...core.db import db
from ...core.pagination import paginate
from ...core.tenancy import cross_tenant
from ...tenants.models import Tenant
from ..models import WebhookDelivery, WebhookSubscription
from .callbacks import MANAGED
from .models import HotlineOrder
from .routing import streets_of

QUEUE_PER_PAGE = 20
RECENT = 10


def waiting():
    return paginate(select(HotlineOrder).where(HotlineOrder.state == "queued")
                    .order_by(HotlineOrder.received_at, HotlineOrder.id), per_page=QUEUE_PER_PAGE)


def recent() -> list[HotlineOrder]:
    return list(db.scalars(select(HotlineOrder).where(HotlineOrder.state == "routed")
                           .order_by(HotlineOrder.routed_at.desc()).limit(RECENT)))


def find(order_id) -> HotlineOrder | None:
    return db.scalar(select(HotlineOrder).where(HotlineOrder.id == order_id))


@dataclass
class StreetCallbacks:
    street: Tenant
    subscribed: bool
    active: bool
    pending: int
    dead: int
    delivered: int


def callbacks_by_street(county: Tenant, actor_id: int | None) -> list[StreetCallbacks]:
    """Per street: whether the account's subscription is there and how its deliveries stand."""
    streets = streets_of(county)
    if not streets:
        return []
    with cross_tenant([s.id for s in streets], reason="hotline.callbacks", actor_id=actor_id,
                      acting_tenant_id=county.id):
        subs = {tid: (sid, active) for tid, sid, active in db.execute(
            select(WebhookSubscription.tenant_id, WebhookSubscription.id, WebhookSubscription.active)
            .where(WebhookSubscription.managed_by == MANAGED))}
        counts: dict = {}
        ids = [sid for sid, _a in subs.values()]
        if ids:
            rows = db.execute(select(WebhookDelivery.tenant_id, WebhookDelivery.state, func.count())
                              .where(WebhookDelivery.subscription_id.in_(ids))
                              .group_by(WebhookDelivery.tenant_id, WebhookDelivery.state))
            for tid, state, n in rows:
                counts.setdefault(tid, {})[state] = n
    return [StreetCallbacks(s, s.id in subs, bool(subs.get(s.id, (None, False))[1]),
                            counts.get(s.id, {}).get("pending", 0), counts.get(s.id, {}).get("dead", 0),
                            counts.get(s.id, {}).get("delivered", 0)) for s in streets]
