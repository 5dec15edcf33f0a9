"""Consultation meetings (议事会): calling one, who convenes and takes part (4+X), attendance, and
holding, cancelling or deleting it. Its minutes, work list and the topics it consults have modules
of their own; their operations are named here too, so that views and the API find a meeting's
every operation in one place.

Operations take the tenant and the acting user, raise Refused naming the field, and never commit.
The meeting row carries a version: edits made from a page that was read before someone else's
change are refused, not merged. Minutes have their own guard, the revision they were based on."""
from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..audit.operations import record as audit
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..core.errors import Refused
from ..files import operations as files_ops
from ..tenants.models import Tenant
from ..accounts.models import ADMIN_ROLES
from .checks import KIND_GROUP, MAX_PARTICIPANTS, MeetingInvalid, as_uuid, validate_meeting
from .consultation import consult_state, linked_topics, meetings_of_topic, record_consultation, set_agreement
from .minutes import add_minutes, current_revision, minutes
from .models import Meeting, MeetingParticipant, MeetingTopic, WorkItem
from .queries import (cancel_reason, conveners_of, get_meeting, local_today, participants, planned_dates,
                      roster_by_group)
from .work import (add_work_item, get_work_item, is_overdue, open_work_stmt, overdue_notification_id, owns,
                   update_work_item, work_items)

# Named here for the views, the API and the other modules that reach a meeting's operations here.
__all__ = ["KIND_GROUP", "MAX_PARTICIPANTS", "MeetingInvalid", "add_minutes", "add_work_item", "cancel_reason",
           "consult_state", "conveners_of", "create_meeting", "current_revision", "delete_meeting", "get_meeting",
           "get_work_item", "is_overdue", "linked_topics", "local_today", "meetings_of_topic", "minutes",
           "open_work_stmt", "overdue_notification_id", "owns", "participants", "planned_dates",
           "record_consultation", "roster_by_group", "set_agreement", "set_attendance", "set_status", "update_meeting",
           "update_work_item", "work_items"]

FORM_LABELS = {"on_site": "现场议事", "meeting_room": "议事室会议", "written": "书面协商", "online": "网络协商"}
GROUP_LABELS = {"member": "政协委员", "cadre": "社区（村）干部", "department": "部门负责人", "resident": "居民代表",
                "stakeholder": "利益相关方"}
STATUS_LABELS = {"planned": "待召开", "held": "已召开", "cancelled": "已取消"}
WORK_LABELS = {"open": "未开始", "in_progress": "进行中", "done": "已完成"}
CONFLICT = "该议事会刚被他人修改过，请刷新后再操作"
NUMBER_LOCK = 0x4D54  # advisory lock space for meeting numbers ("MT")


# ---------------------------------------------------------------- meetings

def create_meeting(tenant: Tenant, actor_id: int | None, data: dict) -> Meeting:
    fields = validate_meeting(tenant, data)
    now = utcnow()
    _number_one_at_a_time(tenant)
    for _attempt in range(5):
        meeting = Meeting(tenant_id=tenant.id, number=_next_number(), title=fields["title"], form=fields["form"],
                          starts_at=fields["starts_at"], place=fields["place"], station_id=fields["station_id"],
                          agenda=fields["agenda"], created_by=actor_id, created_at=now, updated_at=now)
        try:
            with db.begin_nested():  # two meetings created at once take the same number: retry with the next
                db.add(meeting)
                db.flush()
            break
        except IntegrityError:
            continue
    else:
        raise Refused("议事会编号分配失败，请重试", "form", "conflict")
    _set_participants(meeting, fields["participants"])
    _set_topics(meeting, fields["topic_ids"])
    db.flush()
    audit(tenant.id, actor_id, "meeting.create", f"meeting:{meeting.number}", {"title": meeting.title})
    return meeting


def _number_one_at_a_time(tenant: Tenant) -> None:
    """PostgreSQL: a transaction-scoped lock per tenant, so that meetings created at the same time
    queue for MAX+1 instead of colliding. (SQLite has one writer at a time: the retry suffices.)"""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:space, :tenant)"), {"space": NUMBER_LOCK, "tenant": tenant.id})


def _next_number() -> int:
    return (db.scalar(select(func.max(Meeting.number))) or 0) + 1


def update_meeting(tenant: Tenant, actor_id: int | None, meeting: Meeting, data: dict, *,
                   expected_version: int) -> Meeting:
    _check_version(meeting, expected_version)
    if meeting.status == "cancelled":
        raise Refused("议事会已取消，不能修改", "status", "validation_error")
    fields = validate_meeting(tenant, data)
    for name in ("title", "form", "starts_at", "place", "station_id", "agenda"):
        setattr(meeting, name, fields[name])
    _set_participants(meeting, fields["participants"])
    _set_topics(meeting, fields["topic_ids"])
    _touch(meeting)
    return meeting


def _set_participants(meeting: Meeting, wanted: list[dict]) -> None:
    """Make the participants these, keeping the rows (and attendance) of people still on the list."""
    existing = {(p.person_id or ("name", p.name)): p for p in db.scalars(
        select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id))}
    keep = set()
    for e in wanted:
        key = e["person_id"] or ("name", e["name"])
        row = existing.get(key)
        if row is None:
            row = MeetingParticipant(tenant_id=meeting.tenant_id, meeting_id=meeting.id, person_id=e["person_id"])
            db.add(row)
        row.name, row.group, row.convener = e["name"], e["group"], e["convener"]
        keep.add(key)
    for key, row in existing.items():
        if key not in keep:
            db.delete(row)


def _set_topics(meeting: Meeting, topic_ids: list[uuid.UUID]) -> None:
    existing = {mt.topic_id: mt for mt in db.scalars(select(MeetingTopic).where(MeetingTopic.meeting_id == meeting.id))}
    for tid in topic_ids:
        if tid not in existing:
            db.add(MeetingTopic(tenant_id=meeting.tenant_id, meeting_id=meeting.id, topic_id=tid))
    for tid, mt in existing.items():
        if tid not in topic_ids:
            if mt.recorded_at is not None:  # the topic's log refers to this meeting: the link stays
                raise MeetingInvalid({"topics": "已记入议题协商记录的议题不能移出本次议事会"})
            db.delete(mt)


def _check_version(meeting: Meeting, expected_version: int | None) -> None:
    if expected_version is None or meeting.version != expected_version:
        raise Refused(CONFLICT, "version", "conflict")


def _touch(meeting: Meeting) -> None:
    """Bump the version (the UPDATE also checks it), so that a parallel change loses cleanly."""
    meeting.updated_at = utcnow()
    try:
        db.flush()
    except StaleDataError:  # the refusal rolls the request back
        raise Refused(CONFLICT, "version", "conflict") from None


def set_attendance(tenant: Tenant, actor_id: int | None, meeting: Meeting, attended_ids, *,
                   expected_version: int) -> None:
    """Everyone on the list attended; everyone else did not."""
    _check_version(meeting, expected_version)
    if meeting.status == "cancelled":
        raise Refused("议事会已取消，不能记录出席", "attended", "validation_error")
    present = {as_uuid(i) for i in attended_ids}
    for p in db.scalars(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)):
        p.attended = p.id in present
    _touch(meeting)


def set_status(tenant: Tenant, actor_id: int | None, meeting: Meeting, status: str, *, expected_version: int,
               reason: str = "") -> None:
    """planned → held (once there are minutes) or → cancelled (with a reason)."""
    _check_version(meeting, expected_version)
    if meeting.status != "planned" or status not in ("held", "cancelled"):
        raise Refused("只有待召开的议事会可以标记为已召开或取消", "status", "validation_error")
    reason = (reason or "").strip()
    if status == "held" and current_revision(meeting) == 0:
        raise Refused("请先记录会议纪要，再标记为已召开", "status", "validation_error")
    zone = ZoneInfo(tenant.timezone)  # a meeting counts in its month (对标): not before its day
    if status == "held" and meeting.starts_at.astimezone(zone).date() > utcnow().astimezone(zone).date():
        raise Refused("会议日期还没到，不能标记为已召开；如已提前召开，请先修改会议时间", "status", "validation_error")
    if status == "cancelled" and not reason:
        raise Refused("请说明取消的原因", "reason", "validation_error")
    meeting.status = status
    _touch(meeting)
    audit(tenant.id, actor_id, f"meeting.{'hold' if status == 'held' else 'cancel'}", f"meeting:{meeting.number}",
          {"reason": reason[:500]} if reason else {})



def delete_meeting(tenant: Tenant, actor_id: int | None, roles: set[str], meeting: Meeting, *,
                   expected_version: int) -> None:
    """Administrators only, and only a meeting with nothing on record; otherwise cancel it."""
    if not roles & ADMIN_ROLES:
        raise Refused("只有管理员可以删除议事会", "meeting", "forbidden")
    _check_version(meeting, expected_version)
    recorded = db.scalar(select(func.count()).select_from(MeetingTopic).where(
        MeetingTopic.meeting_id == meeting.id, MeetingTopic.recorded_at.is_not(None)))
    if current_revision(meeting) or recorded:
        raise Refused("已有纪要或协商记录的议事会不能删除，可以取消", "meeting", "validation_error")
    items = list(db.scalars(select(WorkItem.id).where(WorkItem.meeting_id == meeting.id)))
    _delete_files(tenant, "meeting", [meeting.id])
    _delete_files(tenant, "work_item", items)
    for model in (WorkItem, MeetingTopic, MeetingParticipant):
        db.execute(delete(model).where(model.meeting_id == meeting.id))
    audit(tenant.id, actor_id, "meeting.delete", f"meeting:{meeting.number}", {"title": meeting.title})
    db.delete(meeting)
    db.flush()


def _delete_files(tenant: Tenant, owner_kind: str, owner_ids) -> None:
    """Photos and documents go with their meeting or work item (files/ removes the objects by a job)."""
    for owner_id in owner_ids:
        files_ops.delete_owner_files(tenant, owner_kind, owner_id)

