"""A work order as the hotline sends it: every field checked, every problem named at its field at
once (the API answers 422 with them all and keeps nothing), and the order kept by its number: new,
an update of one already here (newer content, time limit…), or the same order sent again.

The body (JSON):
    number      工单编号, required: letters, digits, - and _, at most 40
    called_at   来电时间, required: ISO 8601 (without a zone: the county's time)
    caller      {"name", "phone"}: the resident, personal data (both optional)
    address     required, at most 200: where the problem is; routing reads it
    category    the hotline's own category, at most 32
    title       at most 120; without it the content's first words
    content     required, at most 5000: what the resident said
    attachments [{"name", "url"}], at most 20: links into the hotline's own system
    due_at      the time limit the order came with (办理时限), ISO 8601
    revised_at  when the hotline last changed the order: an older version than the one here is ignored
Other keys are ignored (the hotline's own bookkeeping)."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ...core import forms
from ...core.db import db, utcnow
from ...core.errors import Invalid, Refused
from ...topics.intake import PHONE_RE
from .models import HotlineOrder

NUMBER_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_ATTACHMENTS = 20
TITLE_FROM_CONTENT = 30  # characters of the content that make a title when none is given


@dataclass
class Order:
    """The checked fields of one order."""

    number: str
    called_at: datetime
    address: str
    content: str
    title: str
    category: str | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    attachments: list = field(default_factory=list)
    due_at: datetime | None = None
    revised_at: datetime | None = None

    @property
    def digest(self) -> str:
        """What makes two sendings the same order (the time they were signed does not)."""
        raw = json.dumps(asdict(self), default=str, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()


def _when(body: dict, name: str, tz: str, required: str | None = None) -> datetime | None:
    raw = body.get(name)
    if raw in (None, ""):
        if required:
            raise Refused(required, name, "validation_error")
        return None
    try:
        value = datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
    except ValueError:
        raise Refused("时间格式不对，请用 ISO 8601，例如 2026-12-07T09:30:00+08:00", name, "validation_error") from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


def _number(body: dict) -> str:
    value = str(body.get("number") or "").strip()
    if not value:
        raise Refused("缺少工单编号", "number", "validation_error")
    if not NUMBER_RE.fullmatch(value):
        raise Refused("工单编号只能由字母、数字、- 和 _ 组成，最多 40 位", "number", "validation_error")
    return value


def _caller(body: dict) -> dict:
    caller = body.get("caller") or {}
    if not isinstance(caller, dict):
        raise Refused("来电人须为对象：{\"name\": …, \"phone\": …}", "caller", "validation_error")
    return caller


def _caller_name(body: dict) -> str | None:
    try:
        return forms.text(_caller(body), "name", limit=60) or None
    except Refused as exc:
        raise Refused(exc.message, "caller.name", "validation_error") from None


def _caller_phone(body: dict) -> str | None:
    raw = str(_caller(body).get("phone") or "").replace(" ", "")
    if raw and not PHONE_RE.fullmatch(raw):
        raise Refused("来电号码格式不对：手机 11 位，座机带区号", "caller.phone", "validation_error")
    return raw or None


def _attachments(body: dict) -> list[dict]:
    items = body.get("attachments") or []
    if not isinstance(items, list) or len(items) > MAX_ATTACHMENTS:
        raise Refused(f"附件须为列表，最多 {MAX_ATTACHMENTS} 个", "attachments", "validation_error")
    out = []
    for i, item in enumerate(items):
        name = str((item or {}).get("name") or "").strip() if isinstance(item, dict) else ""
        url = str((item or {}).get("url") or "").strip() if isinstance(item, dict) else ""
        if not name or len(name) > 200 or forms.has_control(name):
            raise Refused("每个附件须有名称（最多 200 字）", f"attachments.{i}.name", "validation_error")
        if not re.fullmatch(r"https?://\S{1,490}", url):
            raise Refused("附件地址须以 http:// 或 https:// 开头", f"attachments.{i}.url", "validation_error")
        out.append({"name": name, "url": url})
    return out


def parse(body, tz: str) -> Order:
    """The order in `body`, or Invalid naming every field that is wrong."""
    if not isinstance(body, dict):
        raise Refused("请求体须为 JSON 对象", None, "invalid_json")
    checks = {
        "number": lambda: _number(body),
        "called_at": lambda: _when(body, "called_at", tz, required="缺少来电时间"),
        "address": lambda: forms.text(body, "address", limit=200, required="缺少地址"),
        "content": lambda: forms.text(body, "content", limit=5000, required="缺少诉求内容"),
        "title": lambda: forms.text(body, "title", limit=120),
        "category": lambda: forms.text(body, "category", limit=32) or None,
        "caller_name": lambda: _caller_name(body),
        "caller_phone": lambda: _caller_phone(body),
        "attachments": lambda: _attachments(body),
        "due_at": lambda: _when(body, "due_at", tz),
        "revised_at": lambda: _when(body, "revised_at", tz),
    }
    values, errors = {}, {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except Refused as exc:
            errors.setdefault(exc.field or name, exc.message)
    if errors:
        raise Invalid(errors, "工单有字段不符合要求")
    values["title"] = values["title"] or _title_of(values["content"])
    return Order(**values)


def _title_of(content: str) -> str:
    line = content.strip().splitlines()[0]
    return line if len(line) <= TITLE_FROM_CONTENT else line[:TITLE_FROM_CONTENT] + "…"


def find(number: str) -> HotlineOrder | None:
    return db.scalar(select(HotlineOrder).where(HotlineOrder.number == number))


def kept(order: Order) -> dict:
    """The order's columns as they are written, new or updated."""
    return {"called_at": order.called_at, "title": order.title, "content": order.content, "address": order.address,
            "category": order.category, "caller_name": order.caller_name, "caller_phone": order.caller_phone,
            "attachments": order.attachments, "due_at": order.due_at, "revised_at": order.revised_at,
            "digest": order.digest, "updated_at": utcnow()}


def is_stale(row: HotlineOrder, order: Order) -> bool:
    """An older version of the order than the one already here (sent late, or again after a change)."""
    return row.revised_at is not None and order.revised_at is not None and order.revised_at < row.revised_at
