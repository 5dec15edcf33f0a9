"""What follows an action for people: who hears of it, and what the person who acted is told.

Who hears: a member invited to a topic is told so; when a topic moves on or closes, the members
who took it up (who claimed it, whom they invited: log.claimants) are told where it stands now,
except the one who moved it. `recipients` is the one rule: `tell` notifies them in the action's
transaction, and the page names the same people afterwards ("已推进到「商单」，已通知 李明华"),
so what it says is what happened.

What the actor is told: one sentence per kind of action (MESSAGES), saying what changed rather
than "已记录"."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import select

from ..accounts.models import User
from ..core.db import db
from ..i18n import _, get_locale
from ..notifications.operations import notify
from ..tenants.models import Tenant
from .log import claimants
from .models import Topic, TopicEvent


def recipients(topic: Topic, event: TopicEvent, log: list[TopicEvent], actor_id: int | None) -> list[int]:
    if event.action == "invite":
        return [event.data["user_id"]]
    if event.to_step is None and topic.status != "closed":
        return []  # recorded at the step: nothing moved that its members need to hear of
    return [uid for uid in claimants(log) if uid != actor_id]


def tell(tenant: Tenant, topic: Topic, event: TopicEvent, actor_id: int | None, log: list[TopicEvent]) -> None:
    link = f"/t/{tenant.slug}/topics/{topic.number}"
    for uid in recipients(topic, event, log, actor_id):
        if event.action == "invite":
            notify(tenant.id, uid, "topic.invited", f"邀请您参与议题 #{topic.number}：{topic.title}", link=link)
        else:
            where = ("已办结" if topic.closed_as == "done" else "已不予受理") if topic.status == "closed" \
                else f"已推进到「{topic.step['name']['zh']}」"
            notify(tenant.id, uid, "topic.moved", f"议题 #{topic.number}「{topic.title}」{where}", link=link)


def _step_name(topic: Topic) -> str:
    name = topic.step["name"]
    return name.get("en", name["zh"]) if get_locale() == "en" else name["zh"]


def _moved(topic: Topic, event: TopicEvent) -> str:
    if topic.status == "closed":
        return _("已办结") if topic.closed_as == "done" else _("已不予受理，议题已关闭")
    return _("已推进到「{step}」", step=_step_name(topic))


# action → what the person who did it is told (the topic as it is now, the event just logged)
MESSAGES: dict[str, Callable[[Topic, TopicEvent], str]] = {
    "record": lambda t, e: _("已保存记录"),
    "attach": lambda t, e: _("已记为证据"),
    "comment": lambda t, e: _("留言已保存"),
    "consult": lambda t, e: _("协商记录已保存"),
    "sign": lambda t, e: _("双方签字已记录"),
    "confirm": lambda t, e: _("居民确认已记录"),
    "rate": lambda t, e: _("评价已记录"),
    "claim": lambda t, e: _("您已认领这个议题"),
    "invite": lambda t, e: _("已邀请委员"),
    "cotransfer": lambda t, e: _("已再转交：{departments}", departments="、".join(e.data.get("departments") or [])),
    "transfer": lambda t, e: _("已转交：{departments}", departments="、".join(e.data.get("departments") or [])),
    "escalate": lambda t, e: _("已提请上级协调"),
    "reopen": lambda t, e: _("已复盘：第 {n} 轮从「{step}」开始", n=t.round, step=_step_name(t)),
}


def message(topic: Topic, event: TopicEvent, told: list[int]) -> str:
    said = MESSAGES.get(event.action, _moved)(topic, event)
    if not told:
        return said
    names = db.scalars(select(User.display_name).where(User.id.in_(told)).order_by(User.display_name)).all()
    return _("{said}，已通知 {names}", said=said, names="、".join(names))
