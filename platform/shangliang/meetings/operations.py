"""Consultation meetings (议事会): who convenes and takes part (4+X), the minutes with their
revisions, the work list (工作清单) and the topics consulted.

Operations take the tenant and the acting user, raise Refused naming the field, and never commit.
The meeting row carries a version: edits made from a page that was read before someone else's
change are refused, not merged. Minutes have their own guard, the revision they were based on."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..core.errors import Refused
from ..audit.operations import record as audit
from ..core.db import db, utcnow
from ..roster.models import Person, Station
from ..tenants.models import Tenant
from ..topics.models import Topic
from .models import FORMS, GROUPS, WORK_STATUSES, Meeting, MeetingMinutes, MeetingParticipant, MeetingTopic, WorkItem

FORM_LABELS = {"on_site": "现场议事", "meeting_room": "议事室会议", "written": "书面协商", "online": "网络协商"}
GROUP_LABELS = {"member": "政协委员", "cadre": "社区（村）干部", "department": "部门负责人", "resident": "居民代表",
                "stakeholder": "利益相关方"}
STATUS_LABELS = {"planned": "待召开", "held": "已召开", "cancelled": "已取消"}
WORK_LABELS = {"open": "未开始", "in_progress": "进行中", "done": "已完成"}
# Roster kind → 4+X group. 楼院长 speak for their building's residents.
KIND_GROUP = {"member": "member", "community_secretary": "cadre", "grid_worker": "cadre",
              "department_contact": "department", "resident_rep": "resident", "building_head": "resident",
              "partner": "stakeholder"}
PLACE_NEEDED = ("on_site", "meeting_room")  # written and online consultations happen nowhere in particular
MAX_CONVENERS = 2  # 双召集人
MAX_PARTICIPANTS = 200
CONFLICT = "该议事会刚被他人修改过，请刷新后再操作"
NUMBER_LOCK = 0x4D54  # advisory lock space for meeting numbers ("MT")


class MeetingInvalid(Refused):
    """Every problem of a submitted meeting at once: field → message (a Chinese source string)."""

    def __init__(self, errors: dict[str, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field, "validation_error")
        self.errors = errors


# ---------------------------------------------------------------- reading

def get_meeting(number: int) -> Meeting | None:
    return db.scalar(select(Meeting).where(Meeting.number == number))


def participants(meeting: Meeting) -> list[MeetingParticipant]:
    order = {g: i for i, g in enumerate(GROUPS)}
    rows = db.scalars(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)
                      .order_by(MeetingParticipant.name)).all()
    return sorted(rows, key=lambda p: (not p.convener, order.get(p.group, 99)))


def minutes(meeting: Meeting) -> list[MeetingMinutes]:
    """Every revision, newest first."""
    return list(db.scalars(select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting.id)
                           .order_by(MeetingMinutes.revision.desc())))


def current_revision(meeting: Meeting) -> int:
    return db.scalar(select(func.max(MeetingMinutes.revision)).where(MeetingMinutes.meeting_id == meeting.id)) or 0


def linked_topics(meeting: Meeting) -> list[tuple[MeetingTopic, Topic]]:
    return list(db.execute(select(MeetingTopic, Topic).join(Topic, Topic.id == MeetingTopic.topic_id)
                           .where(MeetingTopic.meeting_id == meeting.id).order_by(Topic.number)).all())


def work_items(meeting: Meeting) -> list[WorkItem]:
    return list(db.scalars(select(WorkItem).where(WorkItem.meeting_id == meeting.id)
                           .order_by(WorkItem.due_on.is_(None), WorkItem.due_on, WorkItem.created_at)))


def meetings_of_topic(topic: Topic) -> list[tuple[Meeting, MeetingTopic]]:
    """The meetings that consulted a topic, newest first: for the topic page and the API."""
    return list(db.execute(select(Meeting, MeetingTopic).join(MeetingTopic, MeetingTopic.meeting_id == Meeting.id)
                           .where(MeetingTopic.topic_id == topic.id).order_by(Meeting.starts_at.desc())).all())


def conveners_of(meeting_ids) -> dict[uuid.UUID, list[str]]:
    """Convener names for a page of meetings, in one query."""
    out: dict[uuid.UUID, list[str]] = {}
    if meeting_ids:
        for mid, name in db.execute(select(MeetingParticipant.meeting_id, MeetingParticipant.name)
                                    .where(MeetingParticipant.meeting_id.in_(list(meeting_ids)),
                                           MeetingParticipant.convener.is_(True))
                                    .order_by(MeetingParticipant.name)):
            out.setdefault(mid, []).append(name)
    return out


def roster_by_group(keep=(), limit: int = 1000) -> dict[str, list[Person]]:
    """Active people of the street for the pickers, by 4+X group, and those in `keep` (ids of people
    already at the meeting) even if no longer active, so that saving the form does not drop them."""
    out: dict[str, list[Person]] = {g: [] for g in GROUPS}
    keep = [i for i in (_uuid(k) for k in keep) if i]
    shown = or_(Person.active.is_(True), Person.id.in_(keep)) if keep else Person.active.is_(True)
    for p in db.scalars(select(Person).where(shown).order_by(Person.kind, Person.name).limit(limit)):
        out[KIND_GROUP.get(p.kind, "stakeholder")].append(p)
    return out


def local_today(tenant: Tenant) -> date:
    return utcnow().astimezone(ZoneInfo(tenant.timezone)).date()


def is_overdue(item: WorkItem, today: date) -> bool:
    return item.status != "done" and item.due_on is not None and item.due_on < today


# ---------------------------------------------------------------- checking input

def _text(data: dict, name: str, limit: int, errors: dict, required: str | None = None) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors[name] = required
    elif len(value) > limit:
        errors[name] = f"最多 {limit} 个字符"
    return value[:limit]


def parse_starts_at(value, tz: str) -> datetime:
    """A local date and time in the tenant's zone (as a datetime-local field sends it), or an
    aware ISO 8601 time; stored in UTC."""
    if isinstance(value, datetime):
        at = value
    else:
        at = datetime.fromisoformat(str(value).strip())
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(tz))
    return at.astimezone(timezone.utc)


def parse_due(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def validate_meeting(tenant: Tenant, data: dict) -> dict:
    """Clean meeting fields, participants and topics, or MeetingInvalid with every problem.

    `participants`: [{person_id} | {name, group}, with `convener`]; a person from the roster
    takes their name and group from it. `topics`: topic numbers of this street."""
    errors: dict[str, str] = {}
    out = {"title": _text(data, "title", 120, errors, "请填写议事会的名称"),
           "place": _text(data, "place", 200, errors), "agenda": _text(data, "agenda", 5000, errors)}
    out["form"] = data.get("form") or ""
    if out["form"] not in FORMS:
        errors["form"] = "请选择议事形式"
    try:
        out["starts_at"] = parse_starts_at(data.get("starts_at"), tenant.timezone)
    except (TypeError, ValueError):
        errors["starts_at"] = "请填写开会的日期和时间，例如 2025-05-20 14:30"
    out["station_id"] = None
    if data.get("station_id"):
        sid = _uuid(data["station_id"])
        station = db.get(Station, {"tenant_id": tenant.id, "id": sid}) if sid else None
        if station is None:
            errors["station_id"] = "没有这个站点"
        else:
            out["station_id"] = station.id
            out["place"] = out["place"] or station.name
    if out["form"] in PLACE_NEEDED and not out["place"] and "place" not in errors:
        errors["place"] = "现场或议事室会议请填写地点或选择站点"
    out["participants"] = _participants(tenant, data.get("participants") or [], errors)
    out["topic_ids"] = _topic_ids(data.get("topics") or [], errors)
    if errors:
        raise MeetingInvalid(errors)
    return out


def _participants(tenant: Tenant, rows: list, errors: dict) -> list[dict]:
    ids = {_uuid(r.get("person_id")) for r in rows if r.get("person_id")}
    people = {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}
    out, seen = [], set()
    for r in rows:
        if r.get("person_id"):
            person = people.get(_uuid(r["person_id"]))
            if person is None:
                errors["participants"] = "名册中没有这个人"
                continue
            entry = {"person_id": person.id, "name": person.name[:60],
                     "group": r.get("group") or KIND_GROUP.get(person.kind, "stakeholder")}
        else:
            name = str(r.get("name") or "").strip()
            if not name:
                continue
            if len(name) > 60:
                errors["participants"] = "姓名最多 60 个字符"
                continue
            entry = {"person_id": None, "name": name, "group": r.get("group") or "stakeholder"}
        if entry["group"] not in GROUPS:
            errors["participants"] = "参会人员的分组须为委员、干部、部门、居民代表或利益相关方"
            continue
        key = entry["person_id"] or ("name", entry["name"])
        if key in seen:  # picked twice (e.g. convener and participant): one row, convener wins
            if r.get("convener"):
                next(e for e in out if (e["person_id"] or ("name", e["name"])) == key)["convener"] = True
            continue
        seen.add(key)
        entry["convener"] = bool(r.get("convener"))
        out.append(entry)
    count = sum(e["convener"] for e in out)
    if count == 0:
        errors["conveners"] = "请指定召集人（一名，或双召集人两名）"
    elif count > MAX_CONVENERS:
        errors["conveners"] = "召集人最多两名（双召集人），请减少召集人"
    if len(out) > MAX_PARTICIPANTS:
        errors["participants"] = "参会人员最多 200 人"
    return out


def _topic_ids(numbers: list, errors: dict) -> list[uuid.UUID]:
    try:
        wanted = sorted({int(n) for n in numbers})
    except (TypeError, ValueError):
        errors["topics"] = "议题编号须为数字"
        return []
    if not wanted:
        return []
    found = dict(db.execute(select(Topic.number, Topic.id).where(Topic.number.in_(wanted))).all())
    if set(wanted) - set(found):
        errors["topics"] = "本街道没有这个议题"
    return [found[n] for n in wanted if n in found]


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
    except StaleDataError:
        db.rollback()
        raise Refused(CONFLICT, "version", "conflict") from None


def set_attendance(tenant: Tenant, actor_id: int | None, meeting: Meeting, attended_ids, *,
                   expected_version: int) -> None:
    """Everyone on the list attended; everyone else did not."""
    _check_version(meeting, expected_version)
    if meeting.status == "cancelled":
        raise Refused("议事会已取消，不能记录出席", "attended", "validation_error")
    present = {_uuid(i) for i in attended_ids}
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


def cancel_reason(meeting: Meeting) -> str:
    """Kept in the audit log with the cancellation (the meeting has no column for it)."""
    from ..audit.models import AuditLog

    detail = db.scalar(select(AuditLog.detail).where(AuditLog.action == "meeting.cancel",
                                                     AuditLog.target == f"meeting:{meeting.number}")
                       .order_by(AuditLog.at.desc()).limit(1))
    return (detail or {}).get("reason", "")


def delete_meeting(tenant: Tenant, actor_id: int | None, roles: set[str], meeting: Meeting, *,
                   expected_version: int) -> None:
    """Administrators only, and only a meeting with nothing on record; otherwise cancel it."""
    from ..topics.operations import ADMIN_ROLES

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
    try:
        from ..files import operations as files
    except ImportError:
        return
    remove = getattr(files, "delete_owner_files", None)
    if remove is not None:
        for owner_id in owner_ids:
            remove(tenant, owner_kind, owner_id)


# ---------------------------------------------------------------- minutes

def add_minutes(tenant: Tenant, actor_id: int | None, meeting: Meeting, text: str, *, base_revision: int,
                note: str = "") -> MeetingMinutes:
    """A new revision; earlier ones are kept. Written on top of anything but the newest is refused."""
    text, note = (text or "").strip(), (note or "").strip()
    if not text:
        raise Refused("请填写纪要内容", "text", "validation_error")
    if len(text) > 50_000:
        raise Refused("纪要最多 50000 个字符", "text", "validation_error")
    if meeting.status == "cancelled":
        raise Refused("议事会已取消，不能记录纪要", "text", "validation_error")
    current = current_revision(meeting)
    if base_revision != current:
        raise Refused("纪要已有更新的版本，请在最新版本上修改（您填写的内容已保留）", "text", "conflict")
    row = MeetingMinutes(tenant_id=tenant.id, meeting_id=meeting.id, revision=current + 1, text=text,
                         note=note[:200], created_by=actor_id)
    try:
        with db.begin_nested():  # the same revision saved twice at once: the unique key decides
            db.add(row)
            db.flush()
    except IntegrityError:
        raise Refused("纪要已有更新的版本，请在最新版本上修改（您填写的内容已保留）", "text", "conflict") from None
    return row


# ---------------------------------------------------------------- topics consulted

def set_agreement(tenant: Tenant, actor_id: int | None, meeting: Meeting, topic: Topic, agreement: str, *,
                  link: bool = False) -> MeetingTopic:
    """What the meeting agreed on a topic; `link` adds the topic to the meeting first."""
    agreement = (agreement or "").strip()
    if len(agreement) > 5000:
        raise Refused("最多 5000 个字符", "agreement", "validation_error")
    if meeting.status == "cancelled":
        raise Refused("议事会已取消，不能修改", "status", "validation_error")
    mt = db.get(MeetingTopic, {"tenant_id": tenant.id, "meeting_id": meeting.id, "topic_id": topic.id})
    if mt is None:
        if not link:
            raise Refused("该议题不在本次议事会上", "topic", "not_found")
        mt = MeetingTopic(tenant_id=tenant.id, meeting_id=meeting.id, topic_id=topic.id)
        db.add(mt)
    if mt.recorded_at is not None and agreement != mt.agreement:  # the topic's log holds it as it was
        raise Refused("协商意见已记入议题，不能再修改", "agreement", "validation_error")
    mt.agreement = agreement
    db.flush()
    return mt


@dataclass
class ConsultState:
    ready: bool
    reason: str = ""  # why not, for the page


def consult_state(meeting: Meeting, mt: MeetingTopic, topic: Topic, roles: set[str], user_id: int | None,
                  ) -> ConsultState:
    """Whether this person may log the meeting's agreement on the topic now, and if not, why.
    A meeting records once per topic: a topic consulted again (say, after 复盘) gets a new meeting."""
    from ..topics.operations import acting_roles, available_actions

    if mt.recorded_at is not None:
        return ConsultState(False, "已记入议题协商记录")
    if meeting.status != "held":
        return ConsultState(False, "议事会召开（记录纪要并标记为已召开）后才能记入议题")
    if topic.status != "open":
        return ConsultState(False, "议题已办结")
    if not topic.step["evidence"]["consultation_record"]:
        return ConsultState(False, "议题当前步骤不需要协商记录")
    if not acting_roles(roles) & set(topic.step["roles"]):
        return ConsultState(False, "您的角色不能在议题当前步骤记录协商")
    if not any(a.kind == "consult" for a in available_actions(topic, roles, user_id)):
        return ConsultState(False, "议题当前步骤不能记录协商")
    return ConsultState(True)


def record_consultation(tenant: Tenant, actor_id: int | None, roles: set[str], meeting: Meeting,
                        topic: Topic) -> None:
    """Log the agreement on the topic as its consultation record (the topic's `consult` action):
    a step whose evidence asks for one is then satisfied."""
    from ..topics.operations import act

    mt = db.get(MeetingTopic, {"tenant_id": tenant.id, "meeting_id": meeting.id, "topic_id": topic.id})
    if mt is None:
        raise Refused("该议题不在本次议事会上", "topic", "not_found")
    state = consult_state(meeting, mt, topic, roles, actor_id)
    if not state.ready:
        raise Refused(state.reason, "topic", "validation_error")
    if not mt.agreement.strip():
        raise Refused("请先填写本议题达成的协商意见", "agreement", "validation_error")
    act(tenant, actor_id, roles, topic, "consult", expected_version=topic.version,
        comment=f"议事会 #{meeting.number} {meeting.title}"[:2000],
        data={"agreement": mt.agreement, "meeting_id": str(meeting.id)})
    mt.recorded_at = utcnow()
    db.flush()


# ---------------------------------------------------------------- work list

def add_work_item(tenant: Tenant, actor_id: int | None, meeting: Meeting, data: dict) -> WorkItem:
    errors: dict[str, str] = {}
    title = _text(data, "title", 200, errors, "请填写要办的事项")
    owner_name = _text(data, "owner_name", 100, errors)
    owner_id = None
    if data.get("owner_person_id"):
        person = db.get(Person, {"tenant_id": tenant.id, "id": _uuid(data["owner_person_id"])}) \
            if _uuid(data["owner_person_id"]) else None
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
    iid = _uuid(item_id)
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
