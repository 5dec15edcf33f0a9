"""The work list (工作清单): the actions a meeting agreed, each with its owner and due date, and
the open items across meetings."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from ..core.db import db, utcnow
from ..core.errors import Refused
from ..roster.models import Person
from ..tenants.models import Tenant
from ..topics.models import Topic
from .checks import MeetingInvalid, as_uuid, parse_due, text_field
from .models import WORK_STATUSES, Meeting, MeetingTopic, WorkItem


def work_items(meeting: Meeting) -> list[WorkItem]:
    return list(db.scalars(select(WorkItem).where(WorkItem.meeting_id == meeting.id)
                           .order_by(WorkItem.due_on.is_(None), WorkItem.due_on, WorkItem.created_at)))


def is_overdue(item: WorkItem, today: date) -> bool:
    return item.status != "done" and item.due_on is not None and item.due_on < today


def add_work_item(tenant: Tenant, actor_id: int | None, meeting: Meeting, data: dict) -> WorkItem:
    errors: dict[str, str] = {}
    title = text_field(data, "title", 200, errors, "请填写要办的事项")
    owner_name = text_field(data, "owner_name", 100, errors)
    owner_id = None
    if data.get("owner_person_id"):
        person = db.get(Person, {"tenant_id": tenant.id, "id": as_uuid(data["owner_person_id"])}) \
            if as_uuid(data["owner_person_id"]) else None
        if person is None:
            errors["owner"] = "名册中没有这个人"
        else:
            owner_id, owner_name = person.id, person.name[:100]
    if not owner_id and not owner_name and "owner" not in errors:
        errors["owner"] = "请指定责任人"
    try:
        due_on = parse_due(data.get("due_on"))
        if due_on is None:
            errors["due_on"] = "请填写完成期限"
    except ValueError:
        due_on, errors["due_on"] = None, "日期格式应为 2025-05-20"
    topic_id = None
    if data.get("topic_number") not in (None, ""):
        try:
            number = int(data["topic_number"])
        except (TypeError, ValueError):
            number = -1
        topic_id = db.scalar(select(MeetingTopic.topic_id).join(Topic, Topic.id == MeetingTopic.topic_id)
                             .where(MeetingTopic.meeting_id == meeting.id, Topic.number == number))
        if topic_id is None:
            errors["topic_number"] = "该议题不在本次议事会上"
    if meeting.status == "cancelled":
        errors["title"] = "议事会已取消，不能添加工作清单"
    if errors:
        raise MeetingInvalid(errors)
    item = WorkItem(tenant_id=tenant.id, meeting_id=meeting.id, topic_id=topic_id, title=title,
                    owner_person_id=owner_id, owner_name=owner_name, due_on=due_on,
                    note=str(data.get("note") or "").strip()[:2000])
    db.add(item)
    db.flush()
    return item


def get_work_item(meeting: Meeting, item_id) -> WorkItem | None:
    iid = as_uuid(item_id)
    if iid is None:
        return None
    return db.scalar(select(WorkItem).where(WorkItem.id == iid, WorkItem.meeting_id == meeting.id))


def owns(item: WorkItem, user_id: int | None) -> bool:
    """The item's owner has a login: they may report on it even without managing meetings."""
    if item.owner_person_id is None or user_id is None:
        return False
    return db.scalar(select(Person.user_id).where(Person.id == item.owner_person_id)) == user_id


def update_work_item(tenant: Tenant, actor_id: int | None, item: WorkItem, *, status: str | None = None,
                     note: str | None = None, due_on=None, may_manage: bool = True) -> WorkItem:
    if not may_manage and not owns(item, actor_id):
        raise Refused("只有会议组织者或责任人可以更新这项工作", "status", "forbidden")
    if status is not None:
        if status not in WORK_STATUSES:
            raise Refused("状态须为未开始、进行中或已完成", "status", "validation_error")
        if status == "done" and item.status != "done":
            item.done_at = utcnow()
        elif status != "done":
            item.done_at = None
        item.status = status
    if note is not None:
        item.note = note.strip()[:2000]
    if due_on not in (None, ""):
        try:
            item.due_on = parse_due(due_on)
        except ValueError:
            raise Refused("日期格式应为 2025-05-20", "due_on", "validation_error") from None
    item.updated_at = utcnow()
    db.flush()
    return item


def open_work_stmt():
    """Open items across meetings, the earliest due first (ix_work_items_tenant_status_due), with
    the owner's login if they have one."""
    return (select(WorkItem, Meeting, Person.user_id).join(Meeting, Meeting.id == WorkItem.meeting_id)
            .outerjoin(Person, Person.id == WorkItem.owner_person_id)
            .where(WorkItem.status.in_(("open", "in_progress")), Meeting.status != "cancelled")
            .order_by(WorkItem.due_on.is_(None), WorkItem.due_on, WorkItem.created_at))


def overdue_notification_id(item: WorkItem, user_id: int) -> uuid.UUID:
    """The notification's own id says "told once": a second run (or a parallel one) makes the same id."""
    return uuid.uuid5(item.id, f"work_item.overdue:{user_id}")
