"""议题公示 on the public portal: the topics a street will consult, with the planned meeting date, and
residents supporting one (支持) or leaving a comment (留言) with their mobile number.

The number identifies a person without being kept: only a keyed hash of it (HMAC with the app's
secret, scoped to the street and the topic, like the receipt's hash) is stored, so one number
supports a topic once and comments on it once, nobody can read the number back, and the same number
on two topics gives two unrelated hashes. What the portal shows of a topic is what staff wrote for
the notice, its category and community: never the resident's name, phone or place. Comments are
shown once staff approve them (topics/notice.py). The public forms are held off like 点单's: a
signed form token, the trap field and per-address and per-street limits; one sent very quickly is
asked to confirm once (portal/operations.py's `check_fill_time`)."""
from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from ..core import forms
from ..core.db import db, own_transaction
from ..core.errors import Invalid, Refused
from ..meetings.operations import planned_dates
from ..tenants.models import Tenant
from ..topics import notice
from ..topics.models import NoticeComment, NoticeSupport, Topic, TopicNotice
from .limits import Limit, check, take
from .operations import address_key, check_fill_time, check_form, form_token, keep_token, too_often

SALT = "portal-notice"  # the form token of these forms, not valid for 点单's
# A household supports a few topics and comments on some; a script is stopped.
PER_ADDRESS = Limit("notice.address", 20, timedelta(hours=1))  # one address, one street
PER_ADDRESS_ALL = Limit("notice.address.all", 60, timedelta(hours=1))  # one address, every street
PER_TENANT = Limit("notice.tenant", 600, timedelta(hours=1))  # everyone, one street
MOBILE = re.compile(r"1[3-9]\d{9}")
COMMENT_MAX = 300
COMMENTS_SHOWN = 3  # on the list, per topic
COMMENTS_ON_PAGE = 100  # on the topic's page, the newest
PER_PAGE = 10


def token(tenant: Tenant, given: str | None = None) -> str:
    """A new form token, or `given` (the one a form shown again was sent with) while it is good."""
    return keep_token(tenant, given, SALT) if given else form_token(tenant, SALT)


def person_hash(tenant_id: int, topic_id: uuid.UUID, phone: str) -> str:
    """The keyed hash a person is kept as, for one topic of one street."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"notice:{tenant_id}:{topic_id}:{phone}".encode(), hashlib.sha256).hexdigest()


def mobile(form) -> str:
    """The resident's mobile number: 11 digits, spaces and dashes allowed."""
    raw = str(form.get("phone") or "").strip()
    if not raw:
        raise Refused("请填写手机号码", "phone", "validation_error")
    phone = raw.replace(" ", "").replace("-", "")
    if not MOBILE.fullmatch(phone):
        raise Refused("手机号码须为 11 位大陆手机号码，如 13812345678", "phone", "validation_error")
    return phone


def comment_text(form) -> str:
    try:
        return forms.text(form, "comment", limit=COMMENT_MAX, required="请填写留言内容")
    except Refused as exc:  # "最多 … 个字符" says which field only beside it: say it in words too
        raise Refused(exc.message if exc.message.startswith("请") else f"留言{exc.message}", "comment",
                      exc.code) from None


# ---------------------------------------------------------------- reading

def on_notice(number: int) -> tuple[TopicNotice, Topic] | None:
    """The street's topic of that number, if it is on notice now."""
    if not 0 < number <= notice.MAX_NUMBER:  # a number no topic can have: not found, not a database error
        return None
    row = db.execute(notice.live().where(Topic.number == number)).first()
    return (row[0], row[1]) if row else None


def extras(tenant: Tenant, topics: list[Topic], comments_per_topic: int | None = COMMENTS_SHOWN) -> dict:
    """What a page of topics on notice shows besides the notices, whatever their number: three
    statements (figures, meeting dates, approved comments)."""
    ids = [t.id for t in topics]
    return {"tallies": notice.tallies(ids), "dates": planned_dates(tenant, ids),
            "comments": approved_comments(ids, comments_per_topic)}


def approved_comments(topic_ids: list, per_topic: int | None) -> dict:
    """topic id → its approved comments, newest first (at most `per_topic` each), in one statement."""
    if not topic_ids:
        return {}
    rank = func.row_number().over(partition_by=NoticeComment.topic_id,
                                  order_by=(NoticeComment.at.desc(), NoticeComment.id)).label("rank")
    ranked = (select(NoticeComment.id, rank)
              .where(NoticeComment.topic_id.in_(topic_ids), NoticeComment.state == "approved").subquery())
    stmt = (select(NoticeComment).join(ranked, and_(ranked.c.id == NoticeComment.id))
            .order_by(NoticeComment.at.desc(), NoticeComment.id))
    if per_topic is not None:
        stmt = stmt.where(ranked.c.rank <= per_topic)
    out: dict = {}
    for comment in db.scalars(stmt):
        out.setdefault(comment.topic_id, []).append(comment)
    return out


# ---------------------------------------------------------------- supporting and commenting

def _admit(tenant: Tenant, form, ip: str | None) -> tuple[list[tuple[Limit, str]], dict, datetime]:
    """The checks of every public form; returns the limits this submission counts towards, and
    the form token's data and time (for `check_fill_time`, once what was typed is checked)."""
    data, shown_at = check_form(tenant, form, SALT)
    addr = address_key(ip)
    limits = [(PER_ADDRESS, f"{tenant.id}:{addr}"), (PER_ADDRESS_ALL, addr), (PER_TENANT, str(tenant.id))]
    check(limits, _too_often)  # a full limit is said at once: never asked to confirm first
    return limits, data, shown_at


def _too_often(limit: Limit) -> str:
    return too_often(limit, "次", "请稍后再试")


def _once(limits, model, topic: Topic, digest: str, add, message: str):
    """Once per person per topic: the row `add()` makes, counted (portal/limits.py) in this
    request's transaction. A number already used is said politely and counted all the same, in a
    transaction of its own, so that trying numbers to learn who supported what is held off. None
    from `add()` is the same number at the same moment (a double click): refused, and its count
    rolled back with it; the click that made the row counted once."""
    if db.scalar(select(model.id).where(model.topic_id == topic.id, model.person_hash == digest)) is not None:
        with own_transaction() as session:
            take(limits, _too_often, session)
        raise Refused(message, "phone", "conflict")
    take(limits, _too_often)
    row = add()
    if row is None:
        raise Refused(message, "phone", "conflict")
    return row


def support(tenant: Tenant, topic: Topic, form, ip: str | None) -> NoticeSupport:
    """支持: once per mobile number per topic."""
    limits, data, shown_at = _admit(tenant, form, ip)
    phone = mobile(form)
    check_fill_time(tenant, data, shown_at, form, SALT)
    digest = person_hash(tenant.id, topic.id, phone)
    return _once(limits, NoticeSupport, topic, digest, lambda: add_support(tenant, topic, digest),
                 "您已支持过这个议题，感谢关注")


def comment(tenant: Tenant, topic: Topic, form, ip: str | None) -> NoticeComment:
    """留言: once per mobile number per topic; public after staff approve it."""
    limits, data, shown_at = _admit(tenant, form, ip)
    errors, values = {}, {}
    for name, check in (("phone", mobile), ("comment", comment_text)):  # both said at once
        try:
            values[name] = check(form)
        except Refused as exc:
            errors[exc.field] = exc.message
    if errors:
        raise Invalid(errors)
    check_fill_time(tenant, data, shown_at, form, SALT)
    digest = person_hash(tenant.id, topic.id, values["phone"])
    return _once(limits, NoticeComment, topic, digest, lambda: add_comment(tenant, topic, digest, values["comment"]),
                 "您已在这个议题下留过言：每人每个议题限留言一次")


def add_support(tenant: Tenant, topic: Topic, digest: str) -> NoticeSupport | None:
    """The row itself (None: that person's support is there already). The demo data uses it too."""
    row = NoticeSupport(tenant_id=tenant.id, topic_id=topic.id, person_hash=digest)
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        return None
    return row


def add_comment(tenant: Tenant, topic: Topic, digest: str, text: str) -> NoticeComment | None:
    row = NoticeComment(tenant_id=tenant.id, topic_id=topic.id, person_hash=digest, text=text, state="pending")
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        return None
    return row
