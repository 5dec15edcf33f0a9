"""议题公示 in the demo: 狮子楼街道 (4+X, “议什么由群众说了算”) has one topic on notice, with the
meeting planned to consult it, a few residents' supports and an approved comment, so that the portal's
议题公示 is not empty. Made through the same operations as the pages; once (by the notice's title)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..core.db import db
from ..meetings import operations as meetings
from ..portal.notice import add_comment, add_support, person_hash
from ..procedures.operations import current_version
from ..roster.models import Person
from ..tenants.models import Community, Tenant
from ..topics import notice
from ..topics import operations as topics
from ..topics.models import TopicNotice

SPECS = {
    "shizilou": {
        "step": "gongshi", "path": ("shaixuan", "gongshi"),
        "intake": {"title": "集市日狮子楼周边占道经营、停车难", "channel": "door_visit", "category": "停车管理",
                   "description": "逢集日摊位占到主街两侧，赶集群众的车辆随意停放，消防通道被堵，周边居民出行不便。"},
        "notice": {"title": "集市日周边占道经营和停车怎么管",
                   "text": "逢集日狮子楼周边摊位占道、车辆乱停，居民出行和消防通道受影响。拟召开 4+X 协商议事会，"
                           "请委员、村居干部、市场监管和交警部门负责人、商户和群众代表一起商量摊位划定和临时停车办法。"
                           "欢迎您支持并留下意见。"},
        "meeting": {"title": "集市日占道经营和停车协商议事会", "days_ahead": 6, "time": "15:00",
                    "conveners": ["孟庆华"], "participants": ["田志强", "韩玉兰"],
                    "extras": [["集市商户代表", "stakeholder"]]},
        "supports": 7,
        "comments": [("建议把摊位集中到老粮站空地，主街只留人行。", "approved"),
                     ("逢集日能不能在学校操场开放临时停车？", "approved"),
                     ("我家门口天天被堵，早该管了", "pending")],
    },
}


def ensure_demo_notice(street: Tenant, admin_id: int | None) -> TopicNotice | None:
    spec = SPECS.get(street.slug)
    version = current_version(street)
    if not spec or version is None or not any(s["key"] == spec["step"] and s.get("notice") for s in version.steps):
        return None
    if db.scalar(select(TopicNotice.topic_id).where(TopicNotice.title == spec["notice"]["title"])) is not None:
        return None
    roles = {"street_admin"}
    community = db.scalar(select(Community.name).order_by(Community.position).limit(1)) or street.name
    topic = topics.create_topic(street, admin_id, {**spec["intake"], "community": community},
                                actor_role="street_admin")
    for to in spec["path"]:
        topics.act(street, admin_id, roles, topic, "advance", expected_version=topic.version, to=to)
    row = notice.publish(street, topic, admin_id, roles, spec["notice"])
    _meeting(street, admin_id, topic.number, spec["meeting"])
    for i in range(spec["supports"]):
        add_support(street, topic, person_hash(street.id, topic.id, f"1390635{i:04d}"))
    for i, (text, state) in enumerate(spec["comments"]):
        comment = add_comment(street, topic, person_hash(street.id, topic.id, f"1390635{i:04d}"), text)
        if state != "pending":
            notice.moderate(street, comment, admin_id, "approve" if state == "approved" else "reject")
    return row


def _meeting(street: Tenant, admin_id: int | None, number: int, spec: dict) -> None:
    """The meeting that will consult it, in a few days: the portal shows its date."""
    names = spec["conveners"] + spec["participants"]
    people = {p.name: p for p in db.scalars(select(Person).where(Person.name.in_(names)))}
    participants = [{"person_id": people[n].id, "convener": n in spec["conveners"]} if n in people
                    else {"name": n, "group": "member", "convener": n in spec["conveners"]} for n in names]
    participants += [{"name": n, "group": g} for n, g in spec["extras"]]
    hh, mm = (int(x) for x in spec["time"].split(":"))
    day = meetings.local_today(street) + timedelta(days=spec["days_ahead"])
    meetings.create_meeting(street, admin_id, {
        "title": spec["title"], "form": "on_site", "place": "狮子楼集市", "participants": participants,
        "starts_at": datetime.combine(day, time(hh, mm), ZoneInfo(street.timezone)), "topics": [number],
        "agenda": "摊位划定\n临时停车点\n消防通道管理"})
