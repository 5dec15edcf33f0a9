"""Sign-in and memberships (sessions: sessions.py, throttling: throttle.py, API tokens: tokens.py). Plain functions: tenant and actor in, rows out.

A `tenant` here is a `tenants.models.Tenant`, left unannotated: tenants sit above accounts."""
from __future__ import annotations

import re

from sqlalchemy import select

from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core import jobs
from ..core.db import db, utcnow
from ..core.errors import Refused
from ..core.web import address_key
from ..core.permissions import load_memberships_with
from . import throttle
from .models import ASSIGNABLE, ROLES, Membership, User
from .passwords import hash_password, needs_rehash, verify_password
# Sessions live in sessions.py, API tokens in tokens.py; their callers have long found them here.
from .sessions import SESSION_LIFETIME, SESSIONS, SessionIdle, end_session, load_session, start_session  # noqa: F401
from .tokens import TOKEN_PREFIX, TOKEN_ROLES, create_api_token, revoke_api_token, token_from_header  # noqa: F401

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


# ---------------------------------------------------------------- users

def normalise_username(username: str | None) -> str:
    return (username or "").strip().lower()


def create_user(username: str, display_name: str, password: str) -> User:
    username = normalise_username(username)
    if not USERNAME_RE.fullmatch(username):
        raise Refused("用户名须为 2–64 位小写字母、数字、点、横线或下划线", "username")
    if not (display_name or "").strip():
        raise Refused("请填写姓名", "display_name")
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Refused("该用户名已被使用", "username", "conflict")
    try:
        pw_hash = hash_password(password)
    except ValueError as exc:
        raise Refused(str(exc), "password") from None
    user = User(username=username, display_name=display_name.strip()[:100], password_hash=pw_hash)
    db.add(user)
    db.flush()
    return user


# ---------------------------------------------------------------- sign-in

def authenticate(username: str, password: str, ip: str) -> User:
    """The user, or Refused. Throttled per account and address (throttle.py) before any hash is checked."""
    username = normalise_username(username)[:64]
    if not username or not password:
        raise Refused("请输入用户名和密码", "username" if not username else "password", "validation_error")
    address = address_key(ip)
    throttle.check(username, address)
    user = db.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or not user.is_active_account:
        throttle.failed(username, address)
        raise Refused("用户名或密码不正确", None, "invalid_credentials")
    throttle.succeeded(username, address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


# ---------------------------------------------------------------- the roles a person holds

@load_memberships_with
def _memberships(user_id: int) -> list[tuple[int, str]]:
    rows = db.execute(select(Membership.tenant_id, Membership.role).where(Membership.user_id == user_id)
                      .execution_options(own_rows=True))
    return [(t, r) for t, r in rows]


# ---------------------------------------------------------------- memberships



def add_membership(tenant, actor_id: int | None, user: User, role: str, via: str | None = None) -> Membership:
    """`via` names what acted when no person did (an API token), for the audit log."""
    if role not in ROLES or role not in ASSIGNABLE[tenant.kind]:
        raise Refused("此处不能分配该角色", "role")
    if db.get(Membership, {"tenant_id": tenant.id, "user_id": user.id, "role": role}) is not None:
        raise Refused(f"{user.display_name} 已有该角色", "username", "conflict")
    m = Membership(tenant_id=tenant.id, user_id=user.id, role=role, created_by=actor_id)
    db.add(m)
    record(tenant.id, actor_id, "membership.add", user.username, {"role": role, **({"via": via} if via else {})})
    jobs.enqueue("notifications.tasks.welcome_member", user.id, role, tenant_id=tenant.id)
    return m


def remove_membership(tenant, actor_id: int | None, user_id: int, role: str) -> None:
    m = db.get(Membership, {"tenant_id": tenant.id, "user_id": user_id, "role": role})
    if m is None:
        raise Refused("没有这个成员", "user_id", "not_found")
    if user_id == actor_id and role.endswith("_admin"):
        raise Refused("不能移除自己的管理员角色", "role")
    db.delete(m)
    record(tenant.id, actor_id, "membership.remove", m.user.username, {"role": role})
