"""转交 / 转办 and what a department does with it.

A street sends a topic to one or more departments from its list or its county's (the `transfer`
move, or `cotransfer` at the step it reached), each with what is asked and a due time. The
department's contacts accept it, reply with what was done, or return it with a reason; each of
these is on the topic's timeline and tells the person who sent it. Whether a reply came by the due
time is kept on the transfer (12345's rule that a department answers within the limit)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Callable

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.models import Membership
from ..core import forms
from ..core.db import db
from ..core.errors import Refused
from ..core.tenancy import tenant_context
from ..departments.models import DepartmentContact
from ..departments.operations import answered_by, choose
from ..notifications.operations import notify
from ..tenants.models import Tenant
from .deadlines import end_of_day_named
from .log import clock, log_event
from .models import OPEN_TRANSFER_STATES, Transfer, Topic, TopicEvent

MAX_ASKED = 2000
DONE_ALREADY = {"replied": "这次转办已答复，请刷新页面", "returned": "这次转办已退回，请刷新页面"}
# The department's doings, logged on the topic outside act(): how the timeline names them.
EVENT_LABELS = {"transfer_accept": "部门接收", "transfer_reply": "部门答复", "transfer_return": "部门退回"}


def prepare(tenant: Tenant, _topic, actor_id: int | None, _roles, data: dict) -> dict:
    """Before anything is written: the departments named (the street's or its county's), what is
    asked of them, and by when."""
    asked = forms.text(data, "asked", limit=MAX_ASKED, required="请写明需要部门做什么（如：核实现场、提供方案、限期整改）")
    values = data.get("departments") or data.get("department") or []
    chosen = choose(tenant, actor_id, values if isinstance(values, list) else [values])
    due = end_of_day_named(data.get("due_on"), tenant.timezone, clock())
    return {**data, "asked": asked, "due_at": due.isoformat() if due else None,
            "chosen": [{"tenant_id": c.tenant_id, "id": str(c.id), "name": c.name} for c in chosen]}


def check(topic, data, _log):
    """The handler of `transfer` and `cotransfer`, after `prepare`: what the timeline keeps (the
    departments by name; the transfers themselves are rows of their own, made by `send`)."""
    if "chosen" not in data:
        raise Refused("请选择至少一个部门或单位", "departments", "validation_error")
    return {"departments": [c["name"] for c in data["chosen"]], "asked": data["asked"], "due_at": data["due_at"]}


def send(tenant: Tenant, topic: Topic, event: TopicEvent, actor_id: int | None, data: dict) -> None:
    """The `follow` of a 转交: a transfer to each department chosen, due when the form said, or
    when the step the topic is now at is."""
    due = datetime.fromisoformat(data["due_at"]) if data.get("due_at") else topic.due_at
    make(tenant, topic, data["chosen"], data["asked"], due, actor_id, event.at)


def make(tenant: Tenant, topic: Topic, chosen: list[dict], asked: str, due, actor_id: int | None,
         at: datetime) -> list[Transfer]:
    """Transfers of the topic to the departments chosen (as `prepare` gives them), each telling its
    department's contacts. A 转交 makes them, and so does a level that answers a 提请 by assigning."""
    earlier = [t.department_name for t in of_topic(topic)]  # the evidence field names them all
    made = [Transfer(tenant_id=tenant.id, topic_id=topic.id, department_tenant_id=c["tenant_id"],
                     department_id=uuid.UUID(c["id"]), department_name=c["name"], asked=asked, due_at=due,
                     sent_by=actor_id, sent_at=at) for c in chosen]
    db.add_all(made)
    names = list(dict.fromkeys(earlier + [t.department_name for t in made]))
    topic.details = {**topic.details, "department": "、".join(names)[:200]}
    db.flush()
    for t in made:
        _tell_contacts(tenant, topic, t)
    return made


def remind(street: Tenant, topic: Topic, transfer: Transfer, now: datetime) -> None:
    """Once per transfer, as its due time comes near or has passed."""
    late = transfer.due_at < now
    _tell_contacts(street, topic, transfer, f"{'转办已超期' if late else '转办明天到期'}：{street.name} #{topic.number} "
                                            f"{topic.title}", kind="transfer.reminder")
    transfer.reminded_at = now


def _tell_contacts(street: Tenant, topic: Topic, transfer: Transfer, title: str | None = None,
                   kind: str = "transfer.received") -> None:
    link = f"/t/{street.slug}/transfers/{transfer.id}"
    title = (title or f"{street.name}转来议题 #{topic.number}：{topic.title}")[:200]
    with tenant_context(transfer.department_tenant_id):  # the contacts' notifications live where they answer
        users = db.scalars(select(DepartmentContact.user_id)
                           .where(DepartmentContact.department_id == transfer.department_id)).all()
        for uid in users:
            notify(transfer.department_tenant_id, uid, kind, title, transfer.asked[:500], link=link)


# ---------------------------------------------------------------- lists

SHOWN = {"open": ("sent", "accepted"), "answered": ("replied", "returned")}
ROW = (Transfer, Topic.number, Topic.title, Topic.community, Tenant.name.label("street_name"),
       Tenant.slug.label("street_slug"))


def listing(state: str, department_tenant_id: int | None = None, department_ids=None):
    """Transfers with their topic and street, in the streets the scope reads: open ones soonest due
    first, answered ones latest first. Given departments, only theirs (a department's inbox)."""
    stmt = (select(*ROW).join(Topic, and_(Topic.tenant_id == Transfer.tenant_id, Topic.id == Transfer.topic_id))
            .join(Tenant, Tenant.id == Transfer.tenant_id))
    if department_ids is not None:
        stmt = stmt.where(Transfer.department_tenant_id == department_tenant_id,
                          Transfer.department_id.in_(list(department_ids)))
    if state in SHOWN:
        stmt = stmt.where(Transfer.state.in_(SHOWN[state]))
    if state == "open":
        return stmt.order_by(Transfer.due_at.is_(None), Transfer.due_at, Transfer.sent_at)
    return stmt.order_by(func.coalesce(Transfer.answered_at, Transfer.sent_at).desc())


def waiting(department_tenant_id: int, department_ids, now: datetime) -> tuple[int, int]:
    """(open, of which overdue) transfers to these departments, in the streets the scope reads."""
    late = func.sum(case((Transfer.due_at < now, 1), else_=0))
    row = db.execute(select(func.count(), late).where(
        Transfer.department_tenant_id == department_tenant_id, Transfer.department_id.in_(list(department_ids)),
        Transfer.state.in_(OPEN_TRANSFER_STATES))).one()
    return row[0] or 0, row[1] or 0


def streets_of(county: Tenant) -> list[int]:
    return list(db.scalars(select(Tenant.id).where(Tenant.parent_id == county.id, Tenant.kind == "street",
                                                   Tenant.status != "archived")))


def of_topic(topic: Topic) -> list[Transfer]:
    return list(db.scalars(select(Transfer).where(Transfer.topic_id == topic.id).order_by(Transfer.sent_at)))


def find(transfer_id) -> Transfer | None:
    return db.scalar(select(Transfer).where(Transfer.id == transfer_id))


# ---------------------------------------------------------------- who answers

def answers_for(user_id: int, transfer: Transfer) -> bool:
    """Whether this person is a contact of the transfer's department (wherever that department is)."""
    return (transfer.department_tenant_id, transfer.department_id) in set(answered_by(user_id))


# ---------------------------------------------------------------- the department's doings

def _check_open(transfer: Transfer, topic: Topic, states=("sent", "accepted")) -> None:
    if topic.status != "open":
        raise Refused("该议题已办结，不能再处理这次转办", "transfer", "conflict")
    if transfer.state not in states:
        raise Refused(DONE_ALREADY.get(transfer.state, "这次转办已接收，请刷新页面"), "transfer", "conflict")


def _log(tenant: Tenant, topic: Topic, transfer: Transfer, action: str, actor_id: int, comment: str = "",
         **extra) -> TopicEvent:
    now = clock()
    event = log_event(topic, action, actor_id, "department", at=now, comment=comment,
                      data={"transfer_id": str(transfer.id), "department": transfer.department_name, **extra})
    topic.updated_at = now  # the topic's version moves: a page open elsewhere is told to refresh
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise Refused("该议题刚被他人处理过，请刷新后再操作", "version", "conflict") from None
    return event


def accept(tenant: Tenant, topic: Topic, transfer: Transfer, actor_id: int) -> None:
    _check_open(transfer, topic, ("sent",))
    transfer.state, transfer.accepted_by, transfer.accepted_at = "accepted", actor_id, clock()
    _log(tenant, topic, transfer, "transfer_accept", actor_id)
    _tell_sender(tenant, topic, transfer, f"{transfer.department_name}已接收议题 #{topic.number}")


def _answered(transfer: Transfer, state: str, actor_id: int, text: str) -> None:
    """Replied, or returned with a reason: both answer the transfer, in time or not (12345's rule)."""
    now = clock()
    transfer.state, transfer.answered_by, transfer.answered_at, transfer.answer = state, actor_id, now, text
    transfer.on_time = transfer.due_at is None or now <= transfer.due_at


# The checked photos and documents a department added to a transfer, [{"id", "name"}]: files sits
# above topics, so it registers how to find them at import (files/transfer_files.py).
_EVIDENCE: dict[str, Callable[[Transfer], list[dict]]] = {"of": lambda _transfer: []}


def register_reply_files(of: Callable[[Transfer], list[dict]]) -> None:
    _EVIDENCE["of"] = of


def reply(tenant: Tenant, topic: Topic, transfer: Transfer, actor_id: int, data: dict) -> None:
    """What was done, in words, with the photos and documents added so far as its evidence."""
    answer = forms.text(data, "answer", limit=5000, required="请写明办理情况：做了什么、结果如何、还需要什么")
    _check_open(transfer, topic)
    _answered(transfer, "replied", actor_id, answer)
    transfer.accepted_at = transfer.accepted_at or transfer.answered_at
    transfer.accepted_by = transfer.accepted_by or actor_id
    _log(tenant, topic, transfer, "transfer_reply", actor_id, answer, on_time=transfer.on_time,
         files=_EVIDENCE["of"](transfer))
    _tell_sender(tenant, topic, transfer, f"{transfer.department_name}答复了议题 #{topic.number}")


def give_back(tenant: Tenant, topic: Topic, transfer: Transfer, actor_id: int, data: dict) -> None:
    reason = forms.text(data, "reason", limit=1000, required="请说明退回的理由（如：不属于本部门职责，建议转交某部门）")
    _check_open(transfer, topic)
    _answered(transfer, "returned", actor_id, reason)
    _log(tenant, topic, transfer, "transfer_return", actor_id, reason)
    _tell_sender(tenant, topic, transfer, f"{transfer.department_name}退回了议题 #{topic.number}")


def _tell_sender(tenant: Tenant, topic: Topic, transfer: Transfer, title: str) -> None:
    """The person who sent it, and the street's administrators if that person has left."""
    link = f"/t/{tenant.slug}/topics/{topic.number}"
    people = {transfer.sent_by} if transfer.sent_by else set()
    still_here = people and db.scalar(select(Membership.user_id).where(Membership.user_id == transfer.sent_by)
                                      .limit(1)) is not None
    if not still_here:
        people = set(db.scalars(select(Membership.user_id).where(Membership.role == "street_admin")))
    for uid in sorted(people):
        notify(tenant.id, uid, "transfer.answered", title, topic.title, link=link)
