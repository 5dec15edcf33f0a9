"""An order made a topic: new orders go to the intake step of the street their address names (or
wait in the county's queue), an update of an order updates its topic and says so in the topic's
log, and a person of the county assigns a waiting order to a street.

The topic is the street's like any other (channel 12345 热线, the caller as its resident, masked on
pages as ever), with the order's number among its details; the hotline acts as itself: by no person
(actor None), in the role `hotline`. The order's time limit is the topic's deadline, and its
intake step falls due no later than that."""
from __future__ import annotations

from dataclasses import dataclass

from ...audit.operations import record
from .. import audit_kinds  # noqa: F401 (its audit entries, in words)
from ...core.db import db, utcnow
from ...core.errors import Refused
from ...core.tenancy import tenant_context
from ...tenants.models import Tenant
from ...topics import places
from ...topics.actions import OTHER_EVENTS
from ...topics.intake import create_topic
from ...topics.log import clock, log_event
from ...topics.models import Topic
from . import accounts, callbacks, orders, routing
from .models import CHANNEL, ROLE, HotlineAccount, HotlineOrder
from .orders import Order

UPDATE = "hotline_update"
OTHER_EVENTS.setdefault(UPDATE, "12345 工单更新")  # how the topic's timeline names it
# The topic's fields an order sets, with the order's values for them; an update compares these.
LABELS = {"title": "标题", "description": "诉求内容", "place": "地址", "resident_name": "来电人",
          "resident_phone": "来电号码", "hotline_category": "类别", "hotline_attachments": "附件",
          "deadline_at": "办理时限"}


@dataclass
class Outcome:
    row: HotlineOrder
    status: str  # created | queued | updated | unchanged | stale

    @property
    def new(self) -> bool:
        return self.status in ("created", "queued")


def receive(county: Tenant, account: HotlineAccount, order: Order) -> Outcome:
    """The order kept: new (a topic, or the queue), an update, or the same order again."""
    row = orders.find(order.number)
    if row is not None and row.digest == order.digest:
        return Outcome(row, "unchanged")  # sent again (a retry of theirs): one topic
    if row is not None and orders.is_stale(row, order):
        return Outcome(row, "stale")
    # Read before anything is written (the audited cross-tenant read commits on its own).
    route = routing.route(county, order.address) if row is None or row.state != "routed" else None
    if row is None:
        row = HotlineOrder(tenant_id=county.id, number=order.number, received_at=utcnow(), updates=0, state="queued")
        db.add(row)
        status = "queued"
    else:
        status = "updated"
        row.updates += 1
    for name, value in orders.kept(order).items():
        setattr(row, name, value)
    db.flush()  # the county's row written under the county, before anything happens in a street
    if row.state == "routed":
        _update_topic(row, order)
    else:
        place(county, account, row, route)
        status = "created" if row.state == "routed" else status
    db.flush()
    record(county.id, None, f"hotline.order.{status}", f"hotline-order:{row.number}",
           {"via": accounts.via(account), "street": row.street_id, "topic": row.topic_number})
    return Outcome(row, status)


def place(county: Tenant, account: HotlineAccount, row: HotlineOrder, route: routing.Route,
          actor_id: int | None = None) -> None:
    """To the route's street if it can take it now; otherwise the order waits, with the reason."""
    street = db.get(Tenant, route.street_id) if route.street_id is not None else None
    if street is None:
        row.queue_reason = route.reason
        return
    if street.status != "active":
        row.queue_reason = "not_ready"
        return
    try:
        topic = _new_topic(street, row, route, actor_id)
    except Refused as exc:
        if exc.code != "no_procedure":
            raise
        row.queue_reason = "not_ready"
        return
    row.state, row.queue_reason, row.street_id = "routed", None, street.id
    row.topic_id, row.topic_number, row.routed_by, row.routed_at = topic.id, topic.number, actor_id, utcnow()
    row.caller_name = row.caller_phone = None  # the topic's resident fields hold them now
    db.flush()
    callbacks.keep(account, accounts.secret_of(account), street.id, actor_id)


def _fields(street_id: int, row: HotlineOrder) -> dict:
    """The topic's fields the order gives."""
    _places, categories = places.lists(street_id)
    fits = row.category and (not categories or row.category in categories)
    return {"title": row.title, "description": row.content, "place": row.address[:200],
            "resident_name": row.caller_name, "resident_phone": row.caller_phone,
            "category": row.category if fits else None}


def _new_topic(street: Tenant, row: HotlineOrder, route: routing.Route, actor_id: int | None) -> Topic:
    with tenant_context(street.id):
        fields = _fields(street.id, row)
        topic = create_topic(street, actor_id, {**fields, "channel": CHANNEL, "community": route.community,
                                                "grid": route.grid},
                             actor_role=ROLE if actor_id is None else "county_admin")
        topic.details = {**topic.details, **_details(row)}
        _time_limit(topic, row)
        db.flush()
        return topic


def _details(row: HotlineOrder) -> dict:
    out = {callbacks.ORDER_KEY: row.number}
    if row.category:
        out["hotline_category"] = row.category
    if row.attachments:
        out["hotline_attachments"] = list(row.attachments)
    return out


def _time_limit(topic: Topic, row: HotlineOrder) -> None:
    topic.deadline_at = row.due_at or topic.deadline_at
    if row.due_at is not None and topic.status == "open" and (topic.due_at is None or row.due_at < topic.due_at):
        topic.due_at = row.due_at
        if topic.round == 1 and topic.step_key == topic.procedure.steps[0]["key"]:
            topic.response_due_at = row.due_at


def _update_topic(row: HotlineOrder, order: Order) -> None:
    """The order's newer version on its topic, and a line in the topic's log naming what changed."""
    row.caller_name = row.caller_phone = None  # the topic keeps them
    db.flush()
    with tenant_context(row.street_id):
        topic = db.get(Topic, (row.street_id, row.topic_id))
        wanted = {"title": order.title, "description": order.content, "place": order.address[:200],
                  "resident_name": order.caller_name, "resident_phone": order.caller_phone}
        changed = [k for k, v in wanted.items() if getattr(topic, k) != v]
        for name in changed:
            setattr(topic, name, wanted[name])
        details = {**topic.details, **_details(row)}
        for key in ("hotline_category", "hotline_attachments"):
            if key not in _details(row):
                details.pop(key, None)
        changed += [k for k in ("hotline_category", "hotline_attachments") if details.get(k) != topic.details.get(k)]
        topic.details = details
        if row.due_at is not None and row.due_at != topic.deadline_at:
            _time_limit(topic, row)
            changed.append("deadline_at")
        if not changed:
            return
        now = clock()
        log_event(topic, UPDATE, None, ROLE, at=now, comment="12345 工单更新：" + "、".join(LABELS[k] for k in changed),
                  data={"order": row.number, "fields": changed})
        topic.updated_at = now
        db.flush()


def assign(county: Tenant, actor_id: int, row: HotlineOrder, street_id) -> Topic:
    """A person of the county sends a waiting order to one of its streets (that makes the topic)."""
    if row.state != "queued":
        raise Refused("该工单已派往街道，请刷新页面", "order", "conflict")
    account = accounts.of(county)
    if account is None:
        raise Refused("本区县还没有 12345 热线账号", "order", "conflict")
    streets = {s.id: s for s in routing.streets_of(county)}
    try:
        street = streets[int(street_id)]
    except (KeyError, TypeError, ValueError):
        raise Refused("请选择本区县的一个街道", "street", "validation_error") from None
    place(county, account, row, routing.Route(street.id), actor_id)
    if row.state != "routed":
        raise Refused(f"{street.name}还没有发布工作法或已暂停，暂不能接收工单", "street", "validation_error")
    record(county.id, actor_id, "hotline.order.assign", f"hotline-order:{row.number}",
           {"street": street.slug, "topic": row.topic_number})
    return row
