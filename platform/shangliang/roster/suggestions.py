"""Which members to ask to claim a topic (委员参单), and why.

A member's specialties are matched against the topic's category (strongly) and its title
(weakly); a member paired with the topic's grid (结对网格) follows that grid, which counts for more
than living there; a member of the topic's community knows the place; a member on duty today or
this week is at hand; and every topic a member already carries counts against them, so the work
spreads. Each reason is a short phrase the street's staff can read at a glance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, select

from ..accounts.models import Membership
from ..core.db import db
from ..i18n import _
from ..tenants.models import Tenant
from ..topics.models import Topic, TopicEvent
from ..topics.operations import claimants, events
from .duty import local_today, monday_of, on_duty_days
from .models import Person
from .pairing import paired_with

# Two-character words too common in topics to say anything about a specialty.
COMMON = {"社区", "小区", "管理", "问题", "服务", "居民", "工作", "建设", "治理", "群众", "协调", "改造"}
CATEGORY_FIT, TITLE_FIT, COMMUNITY, GRID, TODAY, THIS_WEEK, PER_OPEN_TOPIC = 3.0, 1.5, 1.0, 0.5, 1.5, 0.75, 0.5
PAIRED = 2.0  # more than living in the community and grid together (1.5): pairing is the street's own choice


@dataclass
class Suggestion:
    person: Person
    score: float
    reasons: list[str] = field(default_factory=list)
    load: int = 0

    def __iter__(self):  # (person, score, reasons), as callers unpack it
        return iter((self.person, self.score, self.reasons))


def _bigrams(text: str) -> set[str]:
    text = "".join(text.split())
    return {text[i:i + 2] for i in range(len(text) - 1)} - COMMON


def fits(specialty: str, text: str | None) -> bool:
    """物业 fits 物业管理 and 红色物业; 停车管理 fits 小区停车难: a shared two-character word is enough
    for Chinese, where a category is rarely spelt the same way twice."""
    if not specialty or not text:
        return False
    return specialty in text or text in specialty or bool(_bigrams(specialty) & _bigrams(text))


def open_loads(user_ids) -> dict[int, int]:
    """user id → open topics they claimed or were invited to (what `claimants` reads from a log)."""
    ids = list(user_ids)
    if not ids:
        return {}
    is_open = and_(Topic.tenant_id == TopicEvent.tenant_id, Topic.id == TopicEvent.topic_id, Topic.status == "open")
    pairs = set(db.execute(select(TopicEvent.actor_id, TopicEvent.topic_id).join(Topic, is_open)
                           .where(TopicEvent.action == "claim", TopicEvent.actor_id.in_(ids))).all())
    invited = TopicEvent.data["user_id"].as_integer()
    pairs |= set(db.execute(select(invited, TopicEvent.topic_id).join(Topic, is_open)
                            .where(TopicEvent.action == "invite", invited.in_(ids))).all())
    out: dict[int, int] = {}
    for uid, _topic in pairs:
        out[uid] = out.get(uid, 0) + 1
    return out


def candidates() -> list[Person]:
    """Active members on the roster with a login that is a member of this street: who can claim."""
    members = select(Membership.user_id).where(Membership.role == "member")
    return list(db.scalars(select(Person).where(Person.kind == "member", Person.active.is_(True),
                                                Person.user_id.in_(members))))


def suggest_members(tenant: Tenant, topic: Topic, limit: int = 5, log=None) -> list[Suggestion]:
    """The members best placed to claim `topic`, best first, each with its reasons.
    Members who already took it up are left out."""
    taken = set(claimants(events(topic) if log is None else log))
    people = [p for p in candidates() if p.user_id not in taken]
    if not people:
        return []
    today = local_today(tenant)
    monday = monday_of(today)
    duty = on_duty_days(monday, monday + timedelta(days=6), [p.id for p in people])
    loads = open_loads(p.user_id for p in people)
    paired = paired_with(topic.community, topic.grid)
    out = []
    for p in people:
        s = Suggestion(p, 0.0, load=loads.get(p.user_id, 0))
        by_category = [x for x in p.specialties or [] if fits(x, topic.category)]
        by_title = [x for x in p.specialties or [] if x not in by_category and fits(x, topic.title)]
        for x in by_category:
            s.score += CATEGORY_FIT
            s.reasons.append(_("专长：{name}", name=x))
        for x in by_title:
            s.score += TITLE_FIT
            s.reasons.append(_("专长：{name}", name=x))
        if p.id in paired:
            s.score += PAIRED
            s.reasons.append(_("结对网格：{name}", name=topic.grid))
        if topic.community and p.community == topic.community:
            s.score += COMMUNITY
            s.reasons.append(_("同社区：{name}", name=p.community))
            if topic.grid and p.grid == topic.grid:
                s.score += GRID
                s.reasons.append(_("同网格：{name}", name=p.grid))
        days = duty.get(p.id, set())
        if today in days:
            s.score += TODAY
            s.reasons.append(_("今日轮值"))
        elif days:
            s.score += THIS_WEEK
            s.reasons.append(_("本周轮值"))
        s.score -= PER_OPEN_TOPIC * s.load
        s.reasons.append(_("在办 {n} 件", n=s.load) if s.load else _("暂无在办议题"))
        s.score = round(s.score, 2)
        out.append(s)
    out.sort(key=lambda s: (-s.score, s.load, s.person.name))
    return out[:limit]
