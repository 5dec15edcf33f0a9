"""Residents on the public portal: raising a topic (点单), following it by receipt code and
rating it (评单), and the 公示 list. No accounts: abuse is held off by rate limits, a trap
field and signed form tokens, all without outside services. A form sent sooner than a person
usually fills it is not refused (a quick resident is a real one too): it is asked to confirm once,
everything typed carried along (`check_fill_time`)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from ..core.db import db, own_transaction, utcnow
from ..core.errors import Refused
from ..core.web import address_key  # noqa: F401 (portal/notice.py imports it from here)
from ..files.access import get as get_attachment
from ..procedures import evaluation
from ..tenants.models import Tenant
from ..tenants.operations import communities
from ..topics import operations as topics
from ..topics import publication, ratings, signatures
from ..topics.models import Topic, TopicEvent
from ..topics.receipts import receipt_code, receipt_hash
from . import origin as origins
from .limits import Limit, give_back, take


# Generous for a household, tight for a script: a street gets a few dozen topics a day.
PER_ADDRESS = Limit("raise.address", 5, timedelta(hours=1))  # one address, one street
PER_ADDRESS_ALL = Limit("raise.address.all", 12, timedelta(hours=1))  # one address, every street
PER_TENANT = Limit("raise.tenant", 120, timedelta(hours=1))  # everyone, one street
LOOKUP_FAILURES = Limit("follow.failures", 10, timedelta(minutes=15))
# A system following its residents' receipts (a service account, counted by account): more people,
# so more typos; still far too few tries to guess a code.
SERVICE_LOOKUP_FAILURES = Limit("follow.failures.service", 30, timedelta(minutes=15))
MIN_FILL_SECONDS = 3  # sent sooner than this after the form was shown: asked to confirm once
MAX_FORM_AGE = 2 * 3600
TITLE_MAX, TEXT_MAX = 60, 1000


def too_often(limit: Limit, what: str = "件", advice: str = "请稍后再试或拨打热线") -> str:
    """What a refusal by this limit says."""
    minutes = int(limit.window.total_seconds() // 60)
    return f"提交过于频繁：{minutes} 分钟内最多 {limit.count} {what}，{advice}"


# ---------------------------------------------------------------- the form token

RAISE = "portal-raise"  # the salt of 点单's form; each public form has its own


def _serializer(salt: str = RAISE) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def form_token(tenant: Tenant, salt: str = RAISE) -> str:
    """Signed into the form when it is shown: when it was shown, for which street, and a nonce
    that makes the receipt code (so a double click shows the same receipt, not two topics)."""
    return _serializer(salt).dumps({"t": tenant.id, "n": secrets.token_hex(12)})


def check_form(tenant: Tenant, form: dict, salt: str = RAISE) -> tuple[dict, datetime]:
    """What every public form passes first: the street is open, the trap is empty, and the form
    token is one this street signed for this form, not too old. Returns (its data, when shown)."""
    if tenant.status != "active":
        raise Refused("本站点暂停服务，请通过热线等其他渠道反映", None, "suspended")
    if (form.get("website") or "").strip():  # the trap: hidden from people, filled by robots
        raise Refused("提交未被接受，请刷新页面后重新填写", None, "trap")
    try:
        data, shown_at = _serializer(salt).loads(form.get("form_token", ""), max_age=MAX_FORM_AGE,
                                                 return_timestamp=True)
    except SignatureExpired:
        raise Refused("表单已打开太久，请刷新页面后重新填写", None, "expired") from None
    except BadSignature:
        raise Refused("提交未被接受，请刷新页面后重新填写", None, "bad_form") from None
    if data.get("t") != tenant.id:
        raise Refused("提交未被接受，请刷新页面后重新填写", None, "bad_form")
    return data, shown_at


def keep_token(tenant: Tenant, given: str | None, salt: str = RAISE) -> str:
    """The token a form shown again carries: the one it was sent with while that is still good (the
    clock of a form being corrected goes on, and its receipt stays the same), else a new one."""
    try:
        data = _serializer(salt).loads(given or "", max_age=MAX_FORM_AGE)
    except BadSignature:  # SignatureExpired included
        return form_token(tenant, salt)
    return given if data.get("t") == tenant.id else form_token(tenant, salt)


class ConfirmFirst(Refused):
    """Sent sooner than a person usually fills the form: not refused, asked to confirm once with
    `token` (which holds for this form only); the page keeps everything typed."""

    def __init__(self, token: str):
        super().__init__("请确认提交", None, "confirm")
        self.token = token


def _confirmation(salt: str) -> URLSafeTimedSerializer:
    return _serializer(f"{salt}.confirm")


def check_fill_time(tenant: Tenant, data: dict, shown_at: datetime, form: dict, salt: str = RAISE) -> None:
    """A form sent within MIN_FILL_SECONDS of being shown goes through once it is confirmed: the
    confirmation is a second token signed for this form's nonce, issued by the page that asks. A
    script must read that page and send again; each send it gets through is still counted by the
    rate limits, and the trap and the form token hold as before."""
    if (utcnow() - shown_at.astimezone(utcnow().tzinfo)).total_seconds() >= MIN_FILL_SECONDS:
        return
    try:
        given = _confirmation(salt).loads(form.get("confirm_token", ""), max_age=MAX_FORM_AGE)
    except BadSignature:
        given = None
    if given != {"t": tenant.id, "n": data.get("n")}:
        raise ConfirmFirst(_confirmation(salt).dumps({"t": tenant.id, "n": data.get("n")}))


# ---------------------------------------------------------------- raising a topic (点单)

def raise_topic(tenant: Tenant, form: dict, ip: str | None) -> tuple[Topic, str, bool]:
    """A resident's topic, entering the street's procedure at its intake step; raised through a
    station's or a grid's QR code (`origin.py`), it records that place and that channel.
    Returns (topic, receipt code, whether it is new: False when the same form came twice)."""
    data, shown_at = check_form(tenant, form)
    code = receipt_code(tenant.id, data["n"])
    digest = receipt_hash(code)
    earlier = db.scalar(select(Topic).where(Topic.receipt_hash == digest))
    if earlier is not None:  # the same form sent again (a double click, a reload): same receipt
        return earlier, code, False
    fields = resident_fields(tenant, form)
    addr = address_key(ip)
    limits = [(PER_ADDRESS, f"{tenant.id}:{addr}"), (PER_ADDRESS_ALL, addr), (PER_TENANT, str(tenant.id))]
    # Counted now, in this request's transaction: a form asked to confirm first is not counted.
    take(limits, too_often)
    check_fill_time(tenant, data, shown_at, form)  # after the checks: what is confirmed can go through
    where = origins.of(tenant, form)
    if where is not None:
        fields.update(grid=where.grid, **({"community": where.community} if where.fixed_community else {}))
    topic = topics.create_topic(tenant, None, {**fields, "channel": where.channel if where else "portal"},
                                actor_role="resident", station=where.station if where else None)
    topic.receipt_hash = digest
    return topic, code, True


def resident_fields(tenant: Tenant, form: dict) -> dict:
    """The 点单 form's fields, checked: the portal's, and a service account's (portal/services.py)."""
    def text(name, limit, required=False, label=""):
        value = (form.get(name) or "").strip()
        if required and not value:
            raise Refused(f"请填写{label}", name, "validation_error")
        if len(value) > limit:
            raise Refused(f"{label}最多 {limit} 个字", name, "validation_error")
        return value

    out = {"title": text("title", TITLE_MAX, True, "标题"), "description": text("description", TEXT_MAX, True, "具体情况"),
           "place": text("place", 100, False, "地点") or None, "resident_name": text("resident_name", 30, False, "称呼") or None}
    phone = text("resident_phone", 20, True, "手机号码").replace(" ", "").replace("-", "")
    if not (len(phone) == 11 and phone.isdigit() and phone.startswith("1")):
        raise Refused("请填写 11 位手机号码，用于查询办理进度", "resident_phone", "validation_error")
    out["resident_phone"] = phone
    known = [c.name for c in communities(tenant)]
    community = text("community", 60, False, "社区")
    if known and community and community not in known:
        raise Refused("请从列表中选择社区", "community", "validation_error")
    out["community"] = community or None
    return out


# ---------------------------------------------------------------- following (查单) and rating (评单)

def find(tenant: Tenant, code: str, last4: str, ip: str | None, *, service: str | None = None) -> Topic:
    """The topic behind a receipt, if the phone's last four digits match too. Failed look-ups
    are counted per address (per `service` account, for a system looking up for its residents), so
    codes cannot be guessed by trying."""
    limit, key = (SERVICE_LOOKUP_FAILURES, f"{tenant.id}:{service}") if service else \
        (LOOKUP_FAILURES, f"{tenant.id}:{address_key(ip)}")
    code, last4 = (code or "").strip(), (last4 or "").strip()
    if not code:
        raise Refused("请填写回执码", "code", "validation_error")
    if not (len(last4) == 4 and last4.isdigit()):
        raise Refused("请填写手机号码后四位", "last4", "validation_error")
    # Every look-up counts as failed before it is made, in a transaction of its own (parallel guesses
    # cannot all pass a check made before any is counted); one that finds its topic gives it back.
    with own_transaction() as s:
        taken = take([(limit, key)], lambda _limit: "查询失败次数过多，请 15 分钟后再试", s)
    topic = db.scalar(select(Topic).where(Topic.receipt_hash == receipt_hash(code)))
    if topic is None or not (topic.resident_phone or "").endswith(last4):
        raise Refused("没有找到：请核对回执码和手机号码后四位", "code", "not_found")
    with own_transaction() as s:
        give_back(taken, s)
    return topic


@dataclass
class PublicView:
    """What a resident may see of their topic: steps and times, no staff names or notes."""

    topic: Topic
    steps: list[dict]
    timeline: list[dict]
    can_rate: bool
    rating: dict | None
    plan: str | None = None  # the agreed plan, where the resident is asked to confirm it (商定即办)
    confirmed: bool = False


def public_view(topic: Topic) -> PublicView:
    log = topics.events(topic)
    steps = topic.procedure.steps
    names = {s["key"]: s["name"]["zh"] for s in steps}
    timeline = [_public_event(e, names, steps) for e in log
                if e.to_step is not None or e.action in ("close", ratings.RATE, "consult", "confirm")]
    visit = topics.this_visit(topic, log)
    rating = ratings.last_rating(visit)
    offered = {a.kind for a in topics.available_actions(topic, {"resident"}, None, log)}
    asks = topic.status == "open" and bool(topic.step["evidence"].get("signatures"))
    return PublicView(topic, topic.procedure.steps, timeline, ratings.RATE in offered and rating is None,
                      ratings.rating_of(rating) if rating is not None else None,
                      plan=signatures.agreed_plan(topic, log) if "confirm" in offered else None,
                      confirmed=asks and signatures.confirmation(visit) is not None)


def _public_event(e: TopicEvent, names: dict, steps: list[dict]) -> dict:
    """One line of the resident's timeline: what happened and at which step. Another party's
    evaluation (委员评价, 党政点评) is named by its party: it is not the resident's own."""
    if e.action == ratings.RATE and not e.data.get("decides", True):
        return {"at": e.at, "step": evaluation.label(steps, "parties", e.data.get("party", "")), "action": "party_rate"}
    return {"at": e.at, "step": names.get(e.to_step or e.from_step or "", ""), "action": e.action}


def rate(tenant: Tenant, topic: Topic, form: dict, via: str = "portal", validity: dict | None = None,
         service: str | None = None) -> None:
    """The resident's 评单, at a step where the procedure lets residents rate. `via`: the channel
    the resident rated through (a system that called them back, such as the 12345 hotline's 回访,
    says so); `validity`: that system's finding that the rating is invalid ({"valid": False,
    "invalid_reason": …}), kept and left out of the figures as staff's finding is; `service`: the
    service account that sent it for the resident, named in the topic's log."""
    if tenant.status != "active":
        raise Refused("本站点暂停服务，请通过热线等其他渠道反映", None, "suspended")
    view = public_view(topic)
    if view.rating is not None:
        raise Refused("您已评价过，感谢您的反馈", None, "conflict")
    if not view.can_rate:
        raise Refused("当前还不到评价环节", None, "forbidden")
    if not form.get("level"):
        raise Refused("请选择满意程度", "level", "validation_error")
    if form.get("solved") not in ("true", "false"):  # asked of the resident, never inferred from the level
        raise Refused("请选择问题是否已解决", "solved", "validation_error")
    comment = (form.get("comment") or "").strip()
    if len(comment) > 500:
        raise Refused("意见最多 500 个字", "comment", "validation_error")
    topics.act(tenant, None, {"resident"}, topic, ratings.RATE, expected_version=topic.version, comment=comment,
               data={"level": form.get("level"), "solved": form.get("solved"), "score": form.get("score"),
                     "via": via, **(validity or {}), **({"service": service} if service else {}), **{f"score_{d['key']}": form.get(f"score_{d['key']}")
                                                       for d in evaluation.dimensions(topic.step)}})


def confirm(tenant: Tenant, topic: Topic, via: str = "portal", service: str | None = None) -> None:
    """商定即办: the resident agrees to the plan themselves, with their receipt code (through a
    service account's system: `via` its channel, `service` its name)."""
    if tenant.status != "active":
        raise Refused("本站点暂停服务，请通过热线等其他渠道反映", None, "suspended")
    view = public_view(topic)
    if view.confirmed:
        raise Refused("您已确认过这个方案", None, "conflict")
    if view.plan is None:
        raise Refused("当前没有需要您确认的方案", None, "forbidden")
    topics.act(tenant, None, {"resident"}, topic, "confirm", expected_version=topic.version,
               data={"via": via, **({"service": service} if service else {})})


# ---------------------------------------------------------------- 公示

def concluded_query():
    """The outcomes staff published (办理公示 is reviewed), newest first."""
    return publication.published()


def public_photos(topics_: list[Topic], per_topic: int = 4) -> dict:
    """topic id → event seqs of the photos 公示 shows: those staff chose when they published it
    (or, published before review existed, its first photos)."""
    every, out = publication.photos_of(topics_), {}  # one statement for the page
    for topic in topics_:
        chosen = publication.public_view(topic)["photos"]
        seqs = [seq for seq, _ in every.get(topic.id, [])]
        out[topic.id] = [s for s in seqs if chosen is None or s in chosen][:per_topic]
    return out


def public_photo(topic_number: int, seq: int) -> tuple[Topic, str] | None:
    """The storage key of a photo on a concluded topic, or None."""
    topic = db.scalar(concluded_query().where(Topic.number == topic_number))
    if topic is None:
        return None
    chosen = publication.public_view(topic)["photos"]
    if chosen is not None and seq not in chosen:
        return None  # a photo staff left out of 公示
    ev = db.scalar(select(TopicEvent).where(TopicEvent.topic_id == topic.id, TopicEvent.seq == seq,
                                            TopicEvent.action == "attach"))
    if ev is None or ev.data.get("kind") != "photo":
        return None
    if ev.data.get("attachment_id"):  # a checked photo: its web-sized copy, while it is not deleted
        att = get_attachment(ev.data["attachment_id"])
        if att is None or att.status != "ready" or att.kind != "photo":
            return None
        return topic, att.web_key or att.key
    return topic, ev.data["key"]
