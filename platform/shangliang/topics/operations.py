"""Topics moving through their procedure. Every change is one `act(...)`: checked against the
actor's roles at the current step and the evidence the step asks for, logged as an immutable
event, and guarded by the topic's version so that two people cannot both act at once."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..core.errors import Refused
from ..core.db import db, utcnow
from ..procedures.operations import current_version
from ..procedures.schema import FIELDS
from ..tenants.models import Tenant
from .channels import CHANNELS
from .models import Topic, TopicCounter, TopicEvent

MAX_CLAIMANTS = 3
PHONE_RE = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")
TOPIC_COLUMNS = ("category", "urgency", "community", "grid", "place", "description", "resident_name",
                 "resident_phone", "channel")
URGENCIES = ("normal", "urgent")
# Actions that record something at the current step without moving the topic.
RECORDING = ("record", "attach", "consult", "sign", "rate", "claim", "invite", "comment")
MOVING = ("advance", "reopen", "escalate", "transfer", "close_out_of_scope")


# ---------------------------------------------------------------- time

def add_time_limit(start: datetime, limit: dict | None, tz: str) -> datetime | None:
    """When a step entered at `start` falls due. Working days skip Saturdays and Sundays in
    the tenant's time zone (public holidays are not known here)."""
    if not limit:
        return None
    if "hours" in limit:
        return start + timedelta(hours=limit["hours"])
    local = start.astimezone(ZoneInfo(tz))
    days = limit["working_days"]
    while days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    return local.astimezone(start.tzinfo)


def main_path(steps: list[dict]) -> list[dict]:
    """The steps a topic passes when nothing goes wrong: from the first, along each step's first
    advance (or, failing that, its first transition with a target), up to a closure step."""
    by_key, path, step = {s["key"]: s for s in steps}, [], steps[0]
    while step is not None and step not in path:
        path.append(step)
        if step["phase"] == "closure":
            break
        moves = [t for t in step["transitions"] if t.get("to")]
        nxt = next((t for t in moves if t["kind"] == "advance"), moves[0] if moves else None)
        step = by_key.get(nxt["to"]) if nxt else None
    return path


def procedure_deadline(steps: list[dict], start: datetime, tz: str) -> datetime | None:
    """When a topic entering at `start` should be done: its main path's time limits one after
    another (steps without a limit add nothing). None when the procedure sets no limit at all."""
    limits = [s["time_limit"] for s in main_path(steps) if s.get("time_limit")]
    if not limits:
        return None
    for limit in limits:
        start = add_time_limit(start, limit, tz)
    return start


# ---------------------------------------------------------------- intake

def _clean(data: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = (data.get(name) or "").strip()
    if required and not value:
        raise Refused("必填", name, "validation_error")
    if len(value) > limit:
        raise Refused(f"最多 {limit} 个字符", name, "validation_error")
    return value or None


def validate_intake(data: dict) -> dict:
    out = {"title": _clean(data, "title", 120, True), "description": _clean(data, "description", 5000) or "",
           "channel": _clean(data, "channel", 32, True), "category": _clean(data, "category", 32),
           "urgency": _clean(data, "urgency", 16) or "normal", "community": _clean(data, "community", 60),
           "grid": _clean(data, "grid", 60), "place": _clean(data, "place", 200),
           "resident_name": _clean(data, "resident_name", 60), "resident_phone": _clean(data, "resident_phone", 20)}
    if out["channel"] not in CHANNELS:
        raise Refused("未知的渠道", "channel", "validation_error")
    if out["urgency"] not in URGENCIES:
        raise Refused("紧急程度须为一般或紧急", "urgency", "validation_error")
    if out["resident_phone"] and not PHONE_RE.fullmatch(out["resident_phone"].replace(" ", "")):
        raise Refused("电话号码格式不正确", "resident_phone", "validation_error")
    return out


def next_number(tenant: Tenant) -> int:
    bump = update(TopicCounter).values(last=TopicCounter.last + 1).returning(TopicCounter.last)
    number = db.execute(bump).scalar()
    if number is None:  # the tenant's first topic
        try:
            with db.begin_nested():
                db.add(TopicCounter(tenant_id=tenant.id, last=1))
            return 1
        except IntegrityError:  # another first topic made the row meanwhile: queue behind it
            number = db.execute(bump).scalar()
    return number


def create_topic(tenant: Tenant, actor_id: int | None, data: dict, actor_role: str | None = None) -> Topic:
    """A topic from any channel enters the tenant's current procedure at its first step."""
    version = current_version(tenant)
    if version is None:
        raise Refused("本单位还没有发布工作法，无法登记议题", "procedure", "no_procedure")
    fields = validate_intake(data)
    first = version.steps[0]
    now = utcnow()
    due = add_time_limit(now, first.get("time_limit"), tenant.timezone)
    topic = Topic(tenant_id=tenant.id, number=next_number(tenant), procedure_version_id=version.id,
                  step_key=first["key"], step_entered_at=now, due_at=due, response_due_at=due,
                  deadline_at=procedure_deadline(version.steps, now, tenant.timezone),
                  created_by=actor_id, created_at=now, updated_at=now, **fields)
    db.add(topic)
    db.flush()
    _log(topic, "create", actor_id, actor_role, from_step=None, to_step=first["key"], at=now,
         data={"channel": fields["channel"]})
    return topic


# ---------------------------------------------------------------- the log

def events(topic: Topic) -> list[TopicEvent]:
    return list(db.scalars(select(TopicEvent).where(TopicEvent.topic_id == topic.id).order_by(TopicEvent.seq)))


def _log(topic: Topic, action: str, actor_id, actor_role, *, from_step=None, to_step=None, comment="",
         data=None, at=None) -> TopicEvent:
    steps = {s["key"]: s for s in topic.procedure.steps}
    seq = (db.scalar(select(func.max(TopicEvent.seq)).where(TopicEvent.topic_id == topic.id)) or 0) + 1
    ev = TopicEvent(tenant_id=topic.tenant_id, topic_id=topic.id, seq=seq, action=action, from_step=from_step,
                    to_step=to_step, phase_from=steps[from_step]["phase"] if from_step else None,
                    phase_to=steps[to_step]["phase"] if to_step else None, round=topic.round,
                    actor_id=actor_id, actor_role=actor_role, comment=comment[:2000], data=data or {},
                    at=at or utcnow())
    db.add(ev)
    return ev


def this_visit(topic: Topic, log: list[TopicEvent]) -> list[TopicEvent]:
    """Events since the topic last entered its current step."""
    start = max((i for i, e in enumerate(log) if e.to_step is not None), default=0)
    return log[start:]


def claimants(log: list[TopicEvent]) -> list[int]:
    out: list[int] = []
    for e in log:
        uid = e.actor_id if e.action == "claim" else e.data.get("user_id") if e.action == "invite" else None
        if uid is not None and uid not in out:
            out.append(uid)
    return out


# ---------------------------------------------------------------- what may be done

@dataclass
class Action:
    kind: str
    to: str | None = None
    label: str = ""
    missing: list[str] = field(default_factory=list)  # evidence still needed (advance only)
    level: str | None = None  # escalate: "street" or "county"

    @property
    def ready(self) -> bool:
        return not self.missing


def missing_evidence(topic: Topic, visit: list[TopicEvent]) -> list[str]:
    ev = topic.step["evidence"]
    missing = [f"field:{f}" for f in ev["fields"] if not _field_value(topic, f)]
    photos = sum(1 for e in visit if e.action == "attach" and e.data.get("kind") == "photo")
    files = sum(1 for e in visit if e.action == "attach" and e.data.get("kind") == "attachment")
    if photos < ev["photos"]:
        missing.append(f"photos:{ev['photos'] - photos}")
    if files < ev["attachments"]:
        missing.append(f"attachments:{ev['attachments'] - files}")
    for flag, action in (("consultation_record", "consult"), ("signatures", "sign"), ("rating", "rate")):
        if ev[flag] and not any(e.action == action for e in visit):
            missing.append(flag)
    return missing


def describe_missing(item: str) -> str:
    """'field:grid' → '网格', 'photos:1' → '照片 1 张': what a person reads on the topic page."""
    from ..procedures.schema import FIELD_LABELS

    kind, _, rest = item.partition(":")
    if kind == "field":
        return FIELD_LABELS.get(rest, rest)
    return {"photos": f"照片 {rest} 张", "attachments": f"附件 {rest} 份", "consultation_record": "协商记录",
            "signatures": "双方签字", "rating": "满意度评价"}.get(kind, item)


def _field_value(topic: Topic, name: str):
    return getattr(topic, name) if name in TOPIC_COLUMNS else topic.details.get(name)


def last_rating(visit: list[TopicEvent]) -> dict | None:
    ratings = [e.data for e in visit if e.action == "rate"]
    return ratings[-1] if ratings else None


ADMIN_ROLES = {"street_admin", "county_admin", "platform_admin"}


def acting_roles(roles: set[str]) -> set[str]:
    """Administrators may do whatever the street's staff may do (and act as street admins)."""
    return set(roles) | ({"staff", "street_admin"} if roles & ADMIN_ROLES else set())


def available_actions(topic: Topic, roles: set[str], user_id: int | None, log: list[TopicEvent] | None = None
                      ) -> list[Action]:
    """Exactly what this person may do now; pages and the API offer only these."""
    roles = acting_roles(roles)
    if topic.status != "open" or not (roles & set(topic.step["roles"])):
        return []
    log = events(topic) if log is None else log
    visit = this_visit(topic, log)
    step = topic.step
    out = [Action("record"), Action("attach"), Action("comment")]
    ev = step["evidence"]
    if ev["consultation_record"]:
        out.append(Action("consult"))
    if ev["signatures"]:
        out.append(Action("sign"))
    if ev["rating"]:
        out.append(Action("rate"))
    current = claimants(log)
    if "member" in roles and "member" in step["roles"]:
        if user_id not in current and len(current) < MAX_CLAIMANTS:
            out.append(Action("claim"))
        if user_id in current and len(current) < MAX_CLAIMANTS:
            out.append(Action("invite"))
    missing = missing_evidence(topic, visit)
    if step["phase"] == "closure":
        out.append(Action("close", None, "", missing))
    rating = last_rating(visit)
    for t in step["transitions"]:
        label = (t.get("name") or {}).get("zh", "")
        if t["kind"] == "advance":
            out.append(Action("advance", t["to"], label, missing))
        elif t["kind"] == "reopen":
            # A rating staff marked invalid (a malicious one, say) sends nothing back.
            if rating is not None and not rating.get("satisfied") and rating.get("valid", True) \
                    and topic.round < t["max_rounds"]:
                out.append(Action("reopen", t["to"], label))
        elif t["kind"] == "escalate":
            out.append(Action("escalate", t.get("to"), label, level=t.get("level", "street")))
        else:
            out.append(Action(t["kind"], t.get("to"), label))
    return out


# ---------------------------------------------------------------- acting

def act(tenant: Tenant, actor_id: int | None, roles: set[str], topic: Topic, kind: str, *,
        expected_version: int, to: str | None = None, comment: str = "", data: dict | None = None) -> TopicEvent:
    """Do one thing to a topic, or raise Refused naming why and (where it applies) the field."""
    data = dict(data or {})
    if topic.version != expected_version:
        raise Refused("该议题刚被他人处理过，请刷新后再操作", "version", "conflict")
    log = events(topic)
    offered = [a for a in available_actions(topic, roles, actor_id, log) if a.kind == kind and (to is None or a.to == to)]
    if not offered:
        raise Refused("您在此步骤不能执行该操作", "action", "forbidden")
    action = offered[0]
    if kind == "escalate":
        data["level"] = action.level  # from the procedure, never from the request
    role = next((r for r in topic.step["roles"] if r in acting_roles(roles)), None)
    if kind in ("advance", "close") and not action.ready:
        raise Refused("离开此步骤前还需：" + "、".join(describe_missing(m) for m in action.missing), "evidence",
                      "evidence_missing")
    try:
        event = _apply(tenant, topic, kind, action, role, actor_id, comment, data, log)
        db.flush()
    except (StaleDataError, IntegrityError):  # someone else changed the topic first: their change stands
        db.rollback()
        raise Refused("该议题刚被他人处理过，请刷新后再操作", "version", "conflict") from None
    return event


def _apply(tenant, topic, kind, action, role, actor_id, comment, data, log) -> TopicEvent:
    event_data = HANDLERS[kind](topic, data, log)
    if kind in MOVING:
        event = _move(tenant, topic, kind, action.to, actor_id, role, comment, event_data)
    elif kind == "close":
        topic.status, topic.closed_as, topic.due_at = "closed", "done", None
        event = _log(topic, "close", actor_id, role, from_step=topic.step_key, comment=comment, data=event_data)
    else:
        event = _log(topic, kind, actor_id, role, comment=comment, data=event_data)
    topic.updated_at = utcnow()  # bumps the version even when only the log grew
    return event


def _move(tenant, topic, kind, to, actor_id, role, comment, data) -> TopicEvent:
    steps = {s["key"]: s for s in topic.procedure.steps}
    from_step = topic.step_key
    now = utcnow()
    if kind == "reopen":
        topic.round += 1
    if kind == "escalate":
        topic.escalated = True
    target = to or from_step
    event = _log(topic, kind, actor_id, role, from_step=from_step, to_step=target, comment=comment, data=data, at=now)
    topic.step_key, topic.step_entered_at, topic.overdue = target, now, False
    topic.due_at = add_time_limit(now, steps[target].get("time_limit"), tenant.timezone)
    if kind == "close_out_of_scope":  # closed at once, with its reason; no summary step to wait for
        topic.status, topic.closed_as, topic.due_at = "closed", "out_of_scope", None
    return event


# Each handler checks the action's own input and returns what the log keeps of it.

def _record(topic, data, _log):
    kept = {}
    for name, value in data.items():
        if name not in FIELDS:
            raise Refused("未知字段", name, "validation_error")
        value = (str(value) if value is not None else "").strip()
        if len(value) > 5000:
            raise Refused("最多 5000 个字符", name, "validation_error")
        if name == "urgency" and value not in URGENCIES:
            raise Refused("紧急程度须为一般或紧急", name, "validation_error")
        if name == "channel" and value not in CHANNELS:
            raise Refused("未知的渠道", name, "validation_error")
        if name in TOPIC_COLUMNS:
            setattr(topic, name, value or None)
        else:
            topic.details = {**topic.details, name: value}
        kept[name] = value
    if not kept:
        raise Refused("没有要记录的内容", "fields", "validation_error")
    return {"fields": sorted(kept)}  # values live on the topic; the log says what was set


def _attach(topic, data, _log):
    """Evidence is an attachment that passed its check (files.operations): given by its id, or by
    its storage key. A meeting's photo may serve as evidence on the topic it consulted."""
    from ..core.storage import StorageError, check_key, tenant_prefix
    from ..files.models import Attachment
    from ..files.operations import get

    kind, key, att_id = data.get("kind") or None, data.get("key") or "", data.get("attachment_id")
    if kind not in (None, "photo", "attachment"):
        raise Refused("须为照片或附件", "kind", "validation_error")
    if att_id:
        att = get(att_id)
        if att is None or att.status == "deleted":
            raise Refused("文件不存在，请先上传", "attachment_id", "validation_error")
    else:
        try:
            check_key(key)
        except StorageError:
            raise Refused("文件标识无效", "key", "validation_error") from None
        if not key.startswith(tenant_prefix(topic.tenant_id)):
            raise Refused("文件不属于本单位", "key", "validation_error")
        att = db.scalar(select(Attachment).where(Attachment.key == key, Attachment.status == "ready").limit(1))
        if att is None:  # evidence must be a file that was really uploaded, and checked
            raise Refused("文件不存在，请先上传", "key", "validation_error")
    if att.status != "ready":
        raise Refused("文件还未通过检查，请稍候" if att.status in ("uploading", "checking") else "文件未通过检查，不能作为证据",
                      "attachment_id", "validation_error")
    kind = kind or ("photo" if att.kind == "photo" else "attachment")
    if kind == "photo" and att.kind != "photo":
        raise Refused("该文件不是照片", "kind", "validation_error")
    return {"kind": kind, "key": att.key, "attachment_id": str(att.id), "name": att.filename}


def _consult(topic, data, _log):
    agreement = (data.get("agreement") or "").strip()
    if not agreement:
        raise Refused("请填写协商达成的意见", "agreement", "validation_error")
    return {"agreement": agreement[:5000], "meeting_id": data.get("meeting_id")}


def _sign(topic, data, _log):
    resident, staff = (data.get("resident_signature") or "").strip(), (data.get("staff_signature") or "").strip()
    if not resident:
        raise Refused("须有居民一方签字", "resident_signature", "validation_error")
    if not staff:
        raise Refused("须有办理一方签字", "staff_signature", "validation_error")
    return {"resident_signature": resident[:60], "staff_signature": staff[:60]}


TRUE, FALSE = (True, "true", "1", 1, "on"), (False, "false", "0", 0)


def _rate(topic, data, _log):
    """A rating says how satisfied the resident is (four levels; 基本满意 does not send the topic
    back), whether the problem was solved, and (for staff recording a callback) whether it is a
    valid rating at all: an invalid one is kept but left out of the satisfaction figures."""
    level = data.get("level") or None
    if level is None and data.get("satisfied") in (*TRUE, *FALSE):  # the two-way form of old clients
        level = "satisfied" if data["satisfied"] in TRUE else "unsatisfied"
    if level not in RATING_LEVELS:
        raise Refused("请选择满意程度", "level", "validation_error")
    solved = data.get("solved")
    if solved in (None, ""):
        solved = level != "unsatisfied"
    elif solved not in (*TRUE, *FALSE):
        raise Refused("请选择问题是否已解决", "solved", "validation_error")
    valid = data.get("valid", True) not in FALSE
    reason = (data.get("invalid_reason") or "").strip()[:200]
    if not valid and not reason:
        raise Refused("请说明评价无效的原因", "invalid_reason", "validation_error")
    score = data.get("score")
    if score not in (None, ""):
        try:
            score = int(score)
        except (TypeError, ValueError):
            score = -1
        if not 1 <= score <= 5:
            raise Refused("评分须为 1–5", "score", "validation_error")
    out = {"level": level, "satisfied": level != "unsatisfied", "solved": solved in TRUE, "valid": valid,
           "score": score or None, "via": (data.get("via") or "")[:32]}
    return {**out, "invalid_reason": reason} if not valid else out


RATING_LEVELS = ("very_satisfied", "satisfied", "basic", "unsatisfied")
RATING_LABELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}


def rating_of(data: dict) -> dict:
    """A logged rating with every field, also for ratings logged before levels existed."""
    level = data.get("level") or ("satisfied" if data.get("satisfied") else "unsatisfied")
    return {**data, "level": level, "solved": data.get("solved", level != "unsatisfied"),
            "valid": data.get("valid", True)}


def _claim(topic, data, log):
    return {}


def _invite(topic, data, log):
    from ..accounts.models import Membership

    try:
        uid = int(data.get("user_id"))
    except (TypeError, ValueError):
        raise Refused("请选择要邀请的委员", "user_id", "validation_error") from None
    if db.get(Membership, {"tenant_id": topic.tenant_id, "user_id": uid, "role": "member"}) is None:
        raise Refused("只能邀请本单位的政协委员", "user_id", "validation_error")
    if uid in claimants(log):
        raise Refused("该委员已参与此议题", "user_id", "conflict")
    return {"user_id": uid}


def _comment(topic, data, _log):
    return {}


def _transfer(topic, data, _log):
    department = (data.get("department") or "").strip()
    if not department:
        raise Refused("请填写转交的部门或单位", "department", "validation_error")
    topic.details = {**topic.details, "department": department[:100]}
    return {"department": department[:100]}


def _escalate(topic, data, _log):
    return {"level": data["level"], "reason": (data.get("reason") or "")[:500]}


def _close_out_of_scope(topic, data, _log):
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise Refused("请说明不予受理的理由", "reason", "validation_error")
    topic.details = {**topic.details, "reason": reason[:500]}
    return {"reason": reason[:500]}


def _advance(topic, data, _log):
    return {}


def _reopen(topic, data, log):
    return {"rating": last_rating(this_visit(topic, log))}


HANDLERS = {"close": _advance, "record": _record, "attach": _attach, "consult": _consult, "sign": _sign, "rate": _rate,
            "claim": _claim, "invite": _invite, "comment": _comment, "advance": _advance, "reopen": _reopen,
            "escalate": _escalate, "transfer": _transfer, "close_out_of_scope": _close_out_of_scope}


# ---------------------------------------------------------------- replay and masking

def replay(log: list[TopicEvent]) -> dict:
    """The state the log gives: what Topic's denormalised columns must equal."""
    state = {"step_key": None, "round": 1, "status": "open", "escalated": False}
    for e in log:
        if e.action == "reopen":
            state["round"] += 1
        if e.action == "escalate":
            state["escalated"] = True
        if e.to_step is not None:
            state["step_key"] = e.to_step
        if e.action in ("close", "close_out_of_scope"):
            state["status"] = "closed"
    return state


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "")
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


def handles(topic: Topic, roles: set[str], user_id: int | None, log: list[TopicEvent] | None = None) -> bool:
    """Whether this person works the topic, and so may see the resident's name and phone.
    Staff and administrators always do; a member only once they took it up (the log is read then)."""
    if "staff" in acting_roles(roles):
        return True
    if user_id is None:
        return False
    return user_id in claimants(events(topic) if log is None else log)
