"""议题公示 / 公开征题: a topic put on public notice before it is consulted (4+X's 议题公示, “议什么由
群众说了算”; 四环八步's 公开征题), so that residents see what will be consulted and when, support it
and leave a comment. Not 办理公示 (publication.py), which shows an outcome after the fact.

- **Publishing.** At a step whose procedure says `notice: true`, the people whose role acts at that
  step publish the notice from the topic's page: a public title and text they write, refused if it
  holds the resident's name, a mobile number or the topic's exact place. While it is on notice the
  same people (of the step it was published at) may correct the text or withdraw it with a reason.
- **How long it stays on the portal.** From publication until the first of:
  1. staff withdraw it;
  2. the topic is closed (办结 or 不予受理);
  3. its consultation has taken place: a meeting that consults the topic (`meetings`, which
     registers the rule here with `ends_when`) and starts at or after the publication is marked
     held, or a consultation record is logged on the topic after the publication.
  A notice that has ended may be published again (a new period from then on) if the topic stands
  at a notice step again, as after 复盘.
- **Residents** support it and comment (portal/notice.py), once per person per topic each; a
  comment is public only once staff approve it here (moderate), and each decision is audited.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import and_, exists, func, literal_column, not_, or_, select, union_all

from ..audit.operations import record as audit
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core import forms
from ..core.db import db
from ..core.errors import Refused
from ..tenants.models import Tenant
from .log import clock, log_event
from .models import NoticeComment, NoticeSupport, Topic, TopicEvent, TopicNotice
from .page import register_part
from .people import acting_roles
from .publication import MOBILE

EVENT_LABELS = {"notice": "议题公示", "notice_withdraw": "撤回议题公示"}
STATES = {"live": "公示中", "withdrawn": "已撤回", "closed": "议题已结束，公示结束", "consulted": "已协商，公示结束"}
COMMENT_STATES = ("pending", "approved", "rejected")
TITLE_MAX, TEXT_MAX = 120, 1000
MAX_NUMBER = 2**31 - 1  # topic numbers are 32-bit: a larger one in a URL finds nothing
PER_PAGE = 20

# ---------------------------------------------------------------- how long a notice is public

_ENDED_BY: list[Callable[[], object]] = []


_PLANNED: list[Callable] = []


def planned_by(finder: Callable) -> None:
    """A module above topics says when a topic's consultation is planned: `finder(tenant, topic_ids)`
    → {topic id: start}. meetings registers its planned meetings."""
    _PLANNED.append(finder)


def planned_date(tenant: Tenant, topic: Topic):
    """When the topic's consultation is planned (a meeting's start), or None: 会期待定."""
    for finder in _PLANNED:
        found = finder(tenant, [topic.id]).get(topic.id)
        if found is not None:
            return found
    return None


def ends_when(condition: Callable[[], object]) -> None:
    """A module above topics adds a reason a notice ends: `condition()` is a SQL expression over
    TopicNotice (its topic, its publication time), true once the notice has ended for that reason.
    meetings registers "a meeting that consults it was held"."""
    _ENDED_BY.append(condition)


def _consult_logged():
    """A consultation record logged on the topic since the notice was published."""
    return exists().where(TopicEvent.tenant_id == TopicNotice.tenant_id, TopicEvent.topic_id == TopicNotice.topic_id,
                          TopicEvent.action == "consult", TopicEvent.at >= TopicNotice.published_at)


def consulted():
    """SQL, over TopicNotice: its consultation has taken place (rule 3 of the module's docstring)."""
    return or_(_consult_logged(), *(condition() for condition in _ENDED_BY))


def live():
    """(notice, topic) rows on notice now, newest first: what the portal's 议题公示 lists."""
    return (select(TopicNotice, Topic)
            .join(Topic, and_(Topic.tenant_id == TopicNotice.tenant_id, Topic.id == TopicNotice.topic_id))
            .where(TopicNotice.withdrawn_at.is_(None), Topic.status == "open", not_(consulted()))
            .order_by(TopicNotice.published_at.desc(), Topic.number.desc()))


def notice_of(topic: Topic) -> TopicNotice | None:
    return db.get(TopicNotice, {"tenant_id": topic.tenant_id, "topic_id": topic.id})


def state_of(notice: TopicNotice | None, topic: Topic) -> str | None:
    """live | withdrawn | closed | consulted (None: never published)."""
    if notice is None:
        return None
    if notice.withdrawn_at is not None:
        return "withdrawn"
    if topic.status != "open":
        return "closed"
    ended = db.scalar(select(TopicNotice.topic_id).where(TopicNotice.topic_id == notice.topic_id, consulted()))
    return "consulted" if ended is not None else "live"


# ---------------------------------------------------------------- who may publish

def uses_notice(topic: Topic) -> bool:
    """Whether the topic's procedure has a notice step at all (if not, nothing here is read)."""
    return any(s.get("notice") for s in topic.procedure.steps)


def _acting_at(topic: Topic, step_key: str, roles: set[str]) -> str | None:
    """The role this person acts in at that step of the topic's procedure, if any."""
    step = next((s for s in topic.procedure.steps if s["key"] == step_key), None)
    mine = sorted(acting_roles(roles) & set(step["roles"])) if step else []
    return mine[0] if mine else None


def may_publish(topic: Topic, roles: set[str]) -> bool:
    """A new notice: the topic stands at a notice step, and the person's role acts there."""
    return topic.status == "open" and bool(topic.step.get("notice")) and \
        _acting_at(topic, topic.step_key, roles) is not None


def may_change(topic: Topic, notice: TopicNotice | None, state: str | None, roles: set[str]) -> bool:
    """Correct or withdraw a notice on the portal: the people of the step it was published at."""
    return state == "live" and (_acting_at(topic, notice.step_key, roles) is not None or may_publish(topic, roles))


def draft(topic: Topic) -> dict:
    """What the publishing form starts from: the topic's title; the text staff write themselves."""
    return {"title": topic.title, "text": ""}


def _check_text(topic: Topic, data: dict) -> tuple[str, str]:
    title = forms.text(data, "title", limit=TITLE_MAX, required="请填写公示标题")
    text = forms.text(data, "text", limit=TEXT_MAX, required="请填写公示内容：要商量什么事、为什么商量")
    for field, value in (("title", title), ("text", text)):
        if MOBILE.search(value) or (topic.resident_phone and topic.resident_phone in value):
            raise Refused("公示内容不能包含电话号码", field, "validation_error")
        if topic.resident_name and len(topic.resident_name) >= 2 and topic.resident_name in value:
            raise Refused("公示内容不能包含居民姓名", field, "validation_error")
        if topic.place and len(topic.place) >= 4 and topic.place in value:
            raise Refused("公示内容不能包含详细地址：写到社区或小区即可", field, "validation_error")
    return title, text


def check(topic: Topic, roles: set[str], data: dict) -> tuple[str, str, bool]:
    """What publishing `data` would put on the portal: (title, text, whether it corrects a notice
    on it now); refused as publishing would be. Nothing is written (the confirmation shows it)."""
    notice = notice_of(topic)
    state = state_of(notice, topic)
    if not may_change(topic, notice, state, roles):
        if topic.status != "open" or not topic.step.get("notice"):
            raise Refused("议题当前步骤不能公示：工作法中设为“议题公示”的步骤才可以", "notice", "conflict")
        if not may_publish(topic, roles):
            raise Refused("您的角色不能在议题当前步骤公示议题", "notice", "forbidden")
    title, text = _check_text(topic, data)
    return title, text, state == "live"


def publish(tenant: Tenant, topic: Topic, actor_id: int, roles: set[str], data: dict) -> TopicNotice:
    """Put the topic on notice, or correct the text of the notice it is on."""
    title, text, _live = check(topic, roles, data)
    notice = notice_of(topic)
    state = state_of(notice, topic)
    if state == "live" and (notice.title, notice.text) == (title, text):
        return notice  # the same form sent twice (a double click): nothing to correct
    now = clock()
    if notice is None:
        notice = TopicNotice(tenant_id=tenant.id, topic_id=topic.id)
        db.add(notice)
    if state != "live":  # a new period on the portal, from now on
        notice.step_key, notice.published_at, notice.published_by = topic.step_key, now, actor_id
        notice.withdrawn_at, notice.withdrawn_by, notice.withdraw_reason = None, None, ""
    notice.title, notice.text, notice.updated_at = title, text, now
    topic.updated_at = now  # the topic's version moves: a change made from an older page is refused
    role = _acting_at(topic, notice.step_key, roles) or _acting_at(topic, topic.step_key, roles)
    log_event(topic, "notice", actor_id, role, at=now, comment=title, data={"corrected": state == "live"})
    audit(tenant.id, actor_id, "notice.correct" if state == "live" else "notice.publish", f"topic:{topic.number}",
          {"title": title})
    db.flush()
    return notice


def withdraw(tenant: Tenant, topic: Topic, actor_id: int, roles: set[str], data: dict) -> None:
    """Off the portal before its time (published by mistake, a private matter), with the reason."""
    notice = notice_of(topic)
    state = state_of(notice, topic)
    if state != "live":
        raise Refused("这个议题没有在公示中", "notice", "conflict")
    if not may_change(topic, notice, state, roles):
        raise Refused("您的角色不能撤回这个议题的公示", "notice", "forbidden")
    reason = forms.text(data, "reason", limit=500, required="请说明撤回公示的理由")
    now = clock()
    notice.withdrawn_at, notice.withdrawn_by, notice.withdraw_reason = now, actor_id, reason
    notice.updated_at = topic.updated_at = now
    log_event(topic, "notice_withdraw", actor_id, _acting_at(topic, notice.step_key, roles), at=now, comment=reason)
    audit(tenant.id, actor_id, "notice.withdraw", f"topic:{topic.number}", {"reason": reason[:200]})
    db.flush()


# ---------------------------------------------------------------- supports and comments, read

@dataclass
class Tally:
    """A topic's notice in figures: whether it has one, supports, comments by state."""

    noticed: bool = False
    supports: int = 0
    approved: int = 0
    pending: int = 0
    rejected: int = 0


def tallies(topic_ids) -> dict[uuid.UUID, Tally]:
    """topic id → Tally, for a page of topics in one statement (topics without a notice, support
    or comment are left out)."""
    ids = list(topic_ids)
    if not ids:
        return {}
    kind, n = literal_column("'notice'").label("kind"), literal_column("1").label("n")
    notices = select(TopicNotice.topic_id.label("topic_id"), kind, n).where(TopicNotice.topic_id.in_(ids))
    supports = (select(NoticeSupport.topic_id, literal_column("'supports'"), func.count())
                .where(NoticeSupport.topic_id.in_(ids)).group_by(NoticeSupport.topic_id))
    comments = (select(NoticeComment.topic_id, NoticeComment.state, func.count())
                .where(NoticeComment.topic_id.in_(ids)).group_by(NoticeComment.topic_id, NoticeComment.state))
    out: dict[uuid.UUID, Tally] = {}
    for topic_id, what, count in db.execute(union_all(notices, supports, comments)):
        tally = out.setdefault(topic_id, Tally())
        if what == "notice":
            tally.noticed = True
        elif what in ("supports", *COMMENT_STATES):
            setattr(tally, what, count)
    return out


def comments_of(topic: Topic) -> list[NoticeComment]:
    """Every comment on the topic, for its staff page: the oldest first."""
    return list(db.scalars(select(NoticeComment).where(NoticeComment.topic_id == topic.id)
                           .order_by(NoticeComment.at, NoticeComment.id)))


def queue(state: str):
    """(comment, topic number, notice title) rows in one state: waiting ones the oldest first (the
    order they came in), decided ones the newest first."""
    stmt = (select(NoticeComment, Topic.number, TopicNotice.title)
            .join(Topic, and_(Topic.tenant_id == NoticeComment.tenant_id, Topic.id == NoticeComment.topic_id))
            .outerjoin(TopicNotice, and_(TopicNotice.tenant_id == NoticeComment.tenant_id,
                                         TopicNotice.topic_id == NoticeComment.topic_id))
            .where(NoticeComment.state == state))
    order = NoticeComment.at if state == "pending" else NoticeComment.at.desc()
    return stmt.order_by(order, NoticeComment.id)


def counts_by_state() -> dict[str, int]:
    found = dict(db.execute(select(NoticeComment.state, func.count()).group_by(NoticeComment.state)).all())
    return {s: found.get(s, 0) for s in COMMENT_STATES}


def get_comment(comment_id: uuid.UUID) -> NoticeComment | None:
    return db.scalar(select(NoticeComment).where(NoticeComment.id == comment_id))


# ---------------------------------------------------------------- moderation

DECISIONS = {"approve": "approved", "reject": "rejected"}


def moderate(tenant: Tenant, comment: NoticeComment, actor_id: int, decision: str) -> bool:
    """公开 or 不予公开 a comment (a decision may be changed: an approved comment can be taken down).
    Returns whether anything changed: the same decision twice (a double click) is no change."""
    state = DECISIONS.get(decision)
    if state is None:
        raise Refused("请选择公开或不予公开", "do", "validation_error")
    if comment.state == state:
        return False
    comment.state, comment.reviewed_by, comment.reviewed_at = state, actor_id, clock()
    number = db.scalar(select(Topic.number).where(Topic.id == comment.topic_id))
    audit(tenant.id, actor_id, f"notice.comment.{decision}", f"topic:{number}", {"comment": str(comment.id)})
    db.flush()
    return True


# ---------------------------------------------------------------- the topic's page

def topic_notice(topic: Topic, log, roles: set[str], user_id: int | None) -> dict:
    """The 议题公示 card of the topic's page: nothing is read for a procedure without a notice step."""
    if not uses_notice(topic):
        return {}
    notice = notice_of(topic)
    state = state_of(notice, topic)
    return {"notice": notice, "notice_state": state, "notice_states": STATES,
            "notice_may_publish": may_publish(topic, roles) or may_change(topic, notice, state, roles),
            "notice_may_withdraw": may_change(topic, notice, state, roles),
            "notice_draft": draft(topic), "notice_tally": tallies([topic.id]).get(topic.id, Tally()),
            "notice_comments": comments_of(topic) if notice is not None else []}


register_part("notice", topic_notice)
