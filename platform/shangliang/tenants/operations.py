"""Provisioning and reading tenants. A tenant is rows in the shared schema: no DDL, ever."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from functools import cache
from typing import Callable
from zoneinfo import available_timezones

from flask import g
from sqlalchemy import case, delete, func, or_, select, update

from ..accounts.models import Membership, User
from ..accounts.operations import ASSIGNABLE, add_membership
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core import jobs
from ..core.changes import attach, detached_copy, kept, watch, watch_table
from ..core.db import db, utcnow
from ..core.errors import Invalid, Refused
from ..core.forms import has_control
from ..core.permissions import memberships_of
from ..core.tenancy import cross_tenant, tenant_context
from ..core.web import find_tenants_with
from .models import Community, Invitation, Tenant
from .slugs import RESERVED

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())  # a walk of the zoneinfo tree: 18 ms a call


def validate_tenant_fields(kind: str, slug: str, name: str, parent: Tenant | None, households=None,
                           timezone: str = "Asia/Shanghai") -> None:
    if kind not in ("county", "street", "platform"):
        raise Refused("类型须为区县或街道", "kind")
    if not SLUG_RE.fullmatch(slug or "") or slug in RESERVED:
        raise Refused("标识须为 3–40 位小写字母、数字或横线，以字母开头", "slug")
    if not (name or "").strip() or len(name) > 100:
        raise Refused("请填写 1–100 个字符的名称", "name")
    if kind == "street" and (parent is None or parent.kind != "county"):
        raise Refused("街道必须属于一个区县", "parent")
    if households is not None and (not isinstance(households, int) or households < 0):
        raise Refused("户数须为非负整数", "households")
    if timezone not in _timezones():
        raise Refused("未知时区", "timezone")
    if db.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Refused("该标识已被使用", "slug", "conflict")


def create_tenant(actor_id: int | None, *, kind: str, slug: str, name: str, parent: Tenant | None = None,
                  households: int | None = None, timezone: str = "Asia/Shanghai",
                  admin: User | None = None) -> Tenant:
    """One transaction: the tenant row, its first administrator and the audit entry.

    The caller commits; if anything fails, nothing of the tenant remains.
    """
    validate_tenant_fields(kind, slug, name, parent, households, timezone)
    tenant = Tenant(kind=kind, slug=slug, name=name.strip(), parent_id=parent.id if parent else None,
                    households=households, timezone=timezone)
    db.add(tenant)
    db.flush()
    with tenant_context(tenant.id, actor_id):
        record(tenant.id, actor_id, "tenant.create", slug, {"kind": kind, "parent": parent.slug if parent else None})
        if admin is not None:
            add_membership(tenant, actor_id, admin, f"{kind}_admin")
    return tenant


def listed_tenants_query(tenant: Tenant):
    """What a county (its streets) or the platform (every county and street) looks after."""
    q = select(Tenant).where(Tenant.kind != "platform")
    if tenant.kind != "platform":
        q = q.where(Tenant.parent_id == tenant.id, Tenant.status != "archived")
    return q.order_by(Tenant.kind, Tenant.parent_id, Tenant.id)


def children(tenant: Tenant, limit: int = 100) -> list[Tenant]:
    return list(db.scalars(listed_tenants_query(tenant).limit(limit)))


def member_counts(acting: Tenant, actor_id: int, tenants: list[Tenant]) -> dict[int, int]:
    """Aggregate figures across tenants, through the audited escape. One query for all."""
    ids = [t.id for t in tenants]
    if not ids:
        return {}
    with cross_tenant(ids, reason=f"member counts for {acting.slug}", actor_id=actor_id,
                      acting_tenant_id=acting.id):
        rows = db.execute(select(Membership.tenant_id, func.count(func.distinct(Membership.user_id)))
                          .group_by(Membership.tenant_id))
        return {t: n for t, n in rows if t in ids}


# ---------------------------------------------------------------- tenants a person sees

SWITCHER_LIMIT = 60


def visible_tenants(user, limit: int = SWITCHER_LIMIT) -> list[Tenant]:
    """Tenants a person belongs to; a county admin also sees the county's streets.

    A platform operator gets the platform and the counties here (streets are reached
    through the paginated tenants page), so the list stays short at any size.
    """
    pairs = memberships_of(user)
    current = g.get("tenant")
    if current is not None and {t for t, _ in pairs} == {current.id} \
            and not any(r in ("platform_admin", "county_admin") for _, r in pairs):
        return [current]  # most people belong to one street: the tenant this request already read
    if any(r == "platform_admin" for _, r in pairs):
        q = select(Tenant).where(Tenant.kind != "street", Tenant.status != "archived")
    else:
        ids = {t for t, _ in pairs}
        counties = {t for t, r in pairs if r == "county_admin"}
        q = select(Tenant).where(or_(Tenant.id.in_(ids), Tenant.parent_id.in_(counties)),
                                 Tenant.status != "archived")
    order = case({"platform": 0, "county": 1}, value=Tenant.kind, else_=2)
    return list(db.scalars(q.order_by(order, Tenant.id).limit(limit)))


# ---------------------------------------------------------------- provisioning a street or county

MAX_COMMUNITIES = 200
MAX_GRIDS = 100


def parse_communities(text: str) -> list[tuple[str, list[str]]]:
    """One community per line, its grids after a colon: `兴文社区: 一网格, 二网格`."""
    out: list[tuple[str, list[str]]] = []
    seen = set()
    for n, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        name, _, rest = line.replace("：", ":").partition(":")
        name = name.strip()
        grids = [g.strip() for g in rest.replace("，", ",").replace("、", ",").split(",") if g.strip()]
        if not name or len(name) > 60:
            raise Refused(f"第 {n} 行：社区名称须为 1–60 个字符", "communities")
        if name in seen:
            raise Refused(f"第 {n} 行：社区“{name}”重复", "communities")
        if len(grids) > MAX_GRIDS or any(len(g) > 60 for g in grids):
            raise Refused(f"第 {n} 行：每个社区最多 {MAX_GRIDS} 个网格，网格名称最多 60 个字符", "communities")
        seen.add(name)
        out.append((name, grids))
    if len(out) > MAX_COMMUNITIES:
        raise Refused(f"最多 {MAX_COMMUNITIES} 个社区", "communities")
    return out


def communities(tenant: Tenant) -> list:
    return list(db.scalars(select(Community).order_by(Community.position)))


MAX_CATEGORIES, CATEGORY_LENGTH = 50, 32


def parse_categories(text: str) -> list[str]:
    """One category per line (or separated by 、 or commas), as a street names them: 停车管理, 环境卫生 …"""
    out: list[str] = []
    for raw in (text or "").replace("、", "\n").replace("，", "\n").replace(",", "\n").splitlines():
        name = raw.strip()
        if not name:
            continue
        if has_control(name):
            raise Refused("不能包含控制字符", "categories")
        if len(name) > CATEGORY_LENGTH:
            raise Refused(f"类别“{name[:10]}…”过长：每个类别最多 {CATEGORY_LENGTH} 个字符", "categories")
        if name not in out:
            out.append(name)
    if len(out) > MAX_CATEGORIES:
        raise Refused(f"最多 {MAX_CATEGORIES} 个类别", "categories")
    return out


# Checks a higher module runs on the street's new lists before they are saved, refusing what would
# leave its rows pointing at a grid no longer listed (the roster's 结对: roster/pairing.py).
_places_checks: list[Callable[[Tenant, dict[str, list[str]]], None]] = []


def register_places_check(check: Callable[[Tenant, dict[str, list[str]]], None]) -> None:
    _places_checks.append(check)


def save_places(tenant: Tenant, actor_id: int | None, communities_text: str, categories_text: str) -> None:
    """The street's communities with their grids, and its topic categories, as one form gives them.
    Topics keep the names they were given; the lists apply to what is chosen from now on."""
    places, categories = parse_communities(communities_text), parse_categories(categories_text)
    for check in _places_checks:
        check(tenant, dict(places))
    db.execute(delete(Community))
    for i, (name, grids) in enumerate(places):
        db.add(Community(tenant_id=tenant.id, name=name, grids=grids, position=i))
    tenant.categories = categories or None
    record(tenant.id, actor_id, "tenant.places", tenant.slug,
           {"communities": len(places), "grids": sum(len(g) for _n, g in places), "categories": len(categories)})


# ---------------------------------------------------------------- invitations

INVITATION_LIFETIME = timedelta(days=7)
NOTE_LENGTH = 100  # the column's length


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_problems(tenant: Tenant, role: str, note: str) -> dict[str, str]:
    """Every problem of an invitation's fields at once, by field (the form lists them all)."""
    problems = {}
    if not (role or "").strip():
        problems["role"] = "请选择角色"
    elif role not in ASSIGNABLE[tenant.kind]:
        problems["role"] = "此处不能分配该角色"
    if len(note) > NOTE_LENGTH:
        problems["note"] = "备注最多 100 个字符"
    elif has_control(note):
        problems["note"] = "备注不能包含控制字符"
    return problems


def create_invitation(tenant: Tenant, actor_id: int | None, role: str, note: str = ""):
    """A one-time link; only its hash is stored. Returns (row, token)."""
    note = (note or "").strip()
    problems = invitation_problems(tenant, role, note)
    if problems:
        raise Invalid(problems, next(iter(problems.values())))
    token = secrets.token_urlsafe(32)
    row = Invitation(tenant_id=tenant.id, token_hash=_token_hash(token), role=role, note=note,
                     created_by=actor_id, expires_at=utcnow() + INVITATION_LIFETIME)
    db.add(row)
    record(tenant.id, actor_id, "invitation.create", role, {"note": row.note})
    return row, token


def find_invitation(token: str):
    if not token or len(token) > 100:
        return None
    return db.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token)))


INVITATION_REFUSALS = {"used": "此邀请链接已被使用，每个链接只能使用一次。如需加入，请联系邀请人重新发送",
                       "expired": "此邀请链接已过期，请联系邀请人重新发送",
                       "revoked": "此邀请链接已被撤销"}


def accept_invitation(tenant: Tenant, token: str, user: User):
    """Use the invitation once. The conditional update makes a double click or a second
    person with the same link find it used, whichever commits first."""
    inv = find_invitation(token)
    if inv is None:
        raise Refused("邀请链接无效", "token", "not_found")
    if inv.state != "open":
        raise Refused(INVITATION_REFUSALS[inv.state], "token", inv.state)
    now = utcnow()
    taken = db.execute(update(Invitation).where(
        Invitation.id == inv.id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > now).values(used_at=now, used_by=user.id)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise Refused(INVITATION_REFUSALS["used"], "token", "used")
    if db.get(Membership, {"tenant_id": tenant.id, "user_id": user.id, "role": inv.role}) is None:
        add_membership(tenant, inv.created_by, user, inv.role, via="invitation")
    record(tenant.id, user.id, "invitation.accept", user.username, {"role": inv.role})
    return inv


def revoke_invitation(tenant: Tenant, actor_id: int, invitation_id) -> None:
    inv = db.get(Invitation, {"tenant_id": tenant.id, "id": invitation_id})
    if inv is None:
        raise Refused("邀请链接无效", "invitation", "not_found")
    if inv.state != "open":
        raise Refused("此邀请已不能撤销", "invitation")
    inv.revoked_at = utcnow()
    record(tenant.id, actor_id, "invitation.revoke", inv.role, {"note": inv.note})


def invitations(tenant: Tenant, limit: int = 50) -> list:
    return list(db.scalars(select(Invitation).order_by(Invitation.created_at.desc()).limit(limit)))


# ---------------------------------------------------------------- status

STATUS_ACTIONS = {"suspend": ("active", "suspended"), "reactivate": ("suspended", "active"),
                  "archive": (None, "archived")}


def set_status(tenant: Tenant, actor_id: int, action: str, note: str = "") -> None:
    """Suspend (staff read-only, portal closed with the note), reactivate, or archive (hidden,
    data kept). Logged in the tenant's and in the county's audit log."""
    if action not in STATUS_ACTIONS or tenant.kind == "platform":
        raise Refused("未知的操作", "action")
    before, after = STATUS_ACTIONS[action]
    if before is not None and tenant.status != before:
        raise Refused("当前状态下不能执行此操作", "action", "conflict")
    note = (note or "").strip()
    if len(note) > 200:
        raise Refused("说明最多 200 个字符", "note")
    old = tenant.status
    tenant.status, tenant.status_note = after, (note or None) if after != "active" else None
    detail = {"from": old, "to": after, "note": note}
    record(tenant.id, actor_id, f"tenant.{action}", tenant.slug, detail)
    db.flush()  # written in this tenant's scope before the county's entry
    if tenant.parent_id is not None:
        with tenant_context(tenant.parent_id, actor_id):
            record(tenant.parent_id, actor_id, f"tenant.{action}", tenant.slug, detail)


# ---------------------------------------------------------------- what core asks of tenants

watch_table("tenants", "id")
watch_table("communities", "tenant_id")
TENANTS = watch("tenants", "tenants")


def by_slug(slug: str) -> Tenant | None:
    """The tenant of a request's path, kept by the process until its row changes."""
    copy = kept(TENANTS, slug, lambda: _copy_by_slug(slug), part=lambda t: t.id)
    return attach(copy)


def _copy_by_slug(slug: str) -> Tenant | None:
    tenant = db.scalar(select(Tenant).where(Tenant.slug == slug))
    return detached_copy(tenant) if tenant is not None else None


def active_street_ids(session) -> list[int]:
    return list(session.scalars(select(Tenant.id).where(Tenant.kind == "street", Tenant.status == "active")))


find_tenants_with(by_slug)  # the request's tenant, by the slug of its path (core/web.py)
jobs.periodic_tenants_from(active_street_ids)  # where the periodic jobs run (core/jobs.py)
