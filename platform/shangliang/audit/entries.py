"""The audit log as people read it: each row in words (who, what, on which object, with a link),
and the filters of the page (person, kind, dates). Reads of other units' data are many and
routine: the page leaves them out unless asked, the log keeps every one."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from sqlalchemy import Select, literal, select, union_all
from werkzeug.routing import BuildError

from ..core.db import db
from .kinds import CATEGORIES, LOOKUPS, codes_in, detail_name, kind_of, reason_of
from .models import AuditLog

UNKNOWN = ("其他操作", "Other action")


@dataclass
class Entry:
    row: AuditLog
    what: str  # the action, in words
    category: str
    obj: str | None = None  # the object, in words
    url: str | None = None
    note: str | None = None  # what else helps: how many units a read covered, an API token


def describe(rows: list[AuditLog], lang: str = "zh") -> list[Entry]:
    """Every row in words; the targets that lookups name cost one query for the page, not one a row."""
    wanted = defaultdict(set)
    for row in rows:
        kind = kind_of(row.action)
        if kind and kind.lookup and row.target:
            wanted[kind.lookup].add(row.target)
    named = _named(wanted)
    return [_entry(row, named, lang) for row in rows]


def _named(wanted: dict) -> dict[str, dict[str, str]]:
    """{lookup: {target: name}}, every lookup of the page in one statement."""
    parts = [LOOKUPS[name](sorted(keys)).add_columns(literal(name).label("lookup"))
             for name, keys in wanted.items() if name in LOOKUPS]
    out = defaultdict(dict)
    if parts:
        for key, name, lookup in db.execute(union_all(*parts)):
            out[lookup][_key(str(key))] = name
    return out


def _key(text: str | None) -> str | None:
    """A UUID reads the same whichever way the database writes it (with dashes or without)."""
    try:
        return str(uuid.UUID(text))
    except (TypeError, ValueError, AttributeError):
        return text


def _entry(row: AuditLog, named: dict, lang: str) -> Entry:
    en = lang == "en"
    detail = row.detail or {}
    kind = kind_of(row.action)
    if kind is None:
        return Entry(row, UNKNOWN[en], "system")
    entry = Entry(row, kind.en if en else kind.zh, kind.category)
    if row.action == "cross_tenant.read":
        found = reason_of(row.target)
        if found:
            reason, rest = found
            entry.what = reason.en if en else reason.zh
            entry.obj = reason.rest(rest) if reason.rest and rest else None
        count = len(detail.get("tenants") or [])
        entry.note = (f"{count} unit(s)" if en else f"涉及 {count} 个单位") if count else None
        return entry
    if kind.lookup:
        entry.obj = named.get(kind.lookup, {}).get(_key(row.target))
    entry.obj = entry.obj or (kind.name or detail_name)(row.target, detail)
    if kind.link:
        entry.url = _url(kind.link(row.target, detail))
    if detail.get("via") == "api":
        entry.note = "through the API" if en else "通过接口"
    return entry


def _url(link) -> str | None:
    if not link:
        return None
    try:
        return url_for(link[0], **link[1])
    except BuildError:  # a page this installation does not have
        return None


# ---------------------------------------------------------------- filters

@dataclass
class Filters:
    who: str = ""  # "" everyone, "system", or a user id
    kind: str = ""  # "" every change (no reads), "all", or a category
    start: date | None = None
    end: date | None = None

    @property
    def args(self) -> dict:
        return {k: v for k, v in (("who", self.who), ("kind", self.kind),
                                  ("from", self.start and self.start.isoformat()),
                                  ("to", self.end and self.end.isoformat())) if v}


def parse(args) -> tuple[Filters, dict[str, str]]:
    """The filters from the query string; a wrong one is named (field → message) and ignored."""
    errors, out = {}, Filters()
    who = (args.get("who") or "").strip()
    if who == "system" or who.isdigit():
        out.who = who
    kind = (args.get("kind") or "").strip()
    if kind in CATEGORIES or kind == "all":
        out.kind = kind
    for field, attr, label in (("from", "start", "起始日期"), ("to", "end", "截止日期")):
        raw = (args.get(field) or "").strip()
        if raw:
            try:
                setattr(out, attr, date.fromisoformat(raw))
            except ValueError:
                errors[field] = f"{label}须为 2026-12-01 这样的日期"
    if out.start and out.end and out.start > out.end:
        errors["to"] = "截止日期不能早于起始日期"
        out.end = None
    return out, errors


def query(filters: Filters, timezone: str) -> Select:
    q = select(AuditLog)
    if filters.who == "system":
        q = q.where(AuditLog.actor_id.is_(None))
    elif filters.who:
        q = q.where(AuditLog.actor_id == int(filters.who))
    if filters.kind == "":
        q = q.where(AuditLog.action.not_in(codes_in("read")))
    elif filters.kind != "all":
        q = q.where(AuditLog.action.in_(codes_in(filters.kind)))
    zone = ZoneInfo(timezone)
    if filters.start:
        q = q.where(AuditLog.at >= datetime.combine(filters.start, time(), zone))
    if filters.end:
        q = q.where(AuditLog.at < datetime.combine(filters.end + timedelta(days=1), time(), zone))
    return q.order_by(AuditLog.at.desc(), AuditLog.id.desc())


def people() -> list[tuple[int, str]]:
    """Everyone with an entry in this tenant's log, for the filter: one query."""
    user = AuditLog.actor.property.mapper.class_  # the accounts area's User, which audit cannot import
    who = select(AuditLog.actor_id).where(AuditLog.actor_id.is_not(None)).distinct()
    return [(uid, name) for uid, name in db.execute(select(user.id, user.display_name).where(user.id.in_(who))
                                                      .order_by(user.display_name))]
