"""API tokens. Plain functions, tenant and actor in; they never commit.

A personal token belongs to a person (`owner_id`) and acts as them: at each request it holds the
roles its owner holds in its tenant at that moment (core.permissions.roles_in), limited by its
scopes, so a revoked token, a removed membership or a disabled account stops it at the next
request. A token with no owner acts for a system (the 12345 platform) with a role of its own; what
it does is logged as the token's (the audit log's `via`), never as the person who made it. A service
account is a system token that acts for residents only (a WeChat mini-program's back end): the
role `resident_service`, the scope `residents`, and the intake channel its topics come in by.

A token reads `slt_<id>_<secret>`: only the secret's SHA-256 is kept, and the whole token is shown
once, when it is made. `api/auth.py` turns a request's header into what it may do."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, own_transaction, utcnow
from ..core.errors import Invalid, Refused
from ..core.permissions import roles_in
from .models import ASSIGNABLE, GRID_ROLES, SCOPES, SERVICE_ROLE, SERVICE_SCOPE, ApiToken, User

TOKEN_PREFIX = "slt_"
# A token with no owner acts for a system, not a person: the roles bound to a person's own grids
# (topics/people.py) cannot be narrowed for it, so it may not hold them.
TOKEN_ROLES = {kind: tuple(r for r in roles if r not in GRID_ROLES) for kind, roles in ASSIGNABLE.items()}
LONGEST = timedelta(days=3 * 366)  # an expiry further away is a slip of the keyboard (2205 for 2025)
USE_RESOLUTION = timedelta(minutes=1)  # last use is written at most once a minute: a busy client costs no write each
REFUSALS = {"revoked": "this token was revoked", "expired": "this token has expired",
            "owner_inactive": "the token's owner can no longer sign in",
            "no_role": "the token's owner no longer belongs to this tenant"}
# The intake channels a service account may raise topics by, those residents reach through a system
# of their own: topics/channels.py fills it as it registers them (accounts sits below topics).
SERVICE_CHANNELS: dict = {}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# ---------------------------------------------------------------- making and revoking

def create_personal_token(tenant, user: User, name: str, scopes, expires_on=None) -> tuple[ApiToken, str]:
    """A token that acts as `user` in `tenant`, which they must belong to."""
    if not roles_in(user, tenant):
        raise Refused("您不是本单位的成员，不能在此创建令牌", None, "forbidden")
    return _issue(tenant, user.id, name, scopes, expires_on, owner=user)


def create_api_token(tenant, actor_id: int | None, name: str, role: str, scopes=SCOPES,
                     expires_on=None) -> tuple[ApiToken, str]:
    """A token with no owner, for a system, acting with `role`; `actor_id` only made it."""
    problems = {} if role in TOKEN_ROLES[tenant.kind] else {"role": "此处不能分配该角色"}
    return _issue(tenant, actor_id, name, scopes, expires_on, role=role, problems=problems)


def create_service_token(tenant, actor_id: int | None, name: str, channel: str,
                         expires_on=None) -> tuple[ApiToken, str]:
    """A service account of a street: a system that acts for residents with their receipt codes
    (api/residents.py) and nothing else, raising topics by `channel`; `actor_id` only made it."""
    if tenant.kind != "street":
        raise Refused("居民服务系统账号只能在街道创建", None, "forbidden")
    problems = {} if channel in SERVICE_CHANNELS else {"channel": "请从列表中选择渠道"}
    return _issue(tenant, actor_id, name, (SERVICE_SCOPE,), expires_on, role=SERVICE_ROLE, channel=channel,
                  problems=problems, allowed=(SERVICE_SCOPE,))


def _issue(tenant, actor_id, name, scopes, expires_on, *, owner: User | None = None, role: str | None = None,
           channel: str | None = None, problems: dict | None = None, allowed=SCOPES) -> tuple[ApiToken, str]:
    problems = dict(problems or {})
    name = (name or "").strip()
    if not name or len(name) > 100:
        problems["name"] = "请填写 1–100 个字符的名称"
    chosen, wrong = _scopes(scopes, allowed)
    if wrong:
        problems["scopes"] = wrong
    expires_at, wrong = _expiry(tenant, expires_on)
    if wrong:
        problems["expires_on"] = wrong
    if problems:  # every wrong field at once, each named
        raise Invalid(problems, next(iter(problems.values())))
    secret = secrets.token_urlsafe(32)
    row = ApiToken(tenant_id=tenant.id, name=name, owner_id=owner.id if owner else None, role=role,
                   channel=channel, scopes=" ".join(chosen), created_by=actor_id, expires_at=expires_at, token_hash=_hash(secret))
    db.add(row)
    db.flush()
    record(tenant.id, actor_id, "api_token.create", name, {
        "token_id": str(row.id), "scopes": chosen, "owner": owner.username if owner else None, "role": role,
        **({"channel": channel} if channel else {}), "expires_at": expires_at.isoformat() if expires_at else None})
    return row, f"{TOKEN_PREFIX}{row.id.hex}_{secret}"


def _scopes(values, allowed=SCOPES) -> tuple[list[str], str | None]:
    given = set(values or ())
    if given - set(allowed):  # a person's token (or a staff system's) never takes `residents`
        return [], "没有这项权限范围"
    if not given:
        return [], "请至少选择一项权限范围"
    return [s for s in allowed if s in given], None


def _expiry(tenant, value) -> tuple[datetime | None, str | None]:
    """The end of the chosen day in the tenant's time zone (the token works through that day)."""
    if value in (None, ""):
        return None, None
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        return None, "请按“年-月-日”填写到期日"
    zone = ZoneInfo(tenant.timezone)
    today = utcnow().astimezone(zone).date()
    if day < today:
        return None, "到期日不能早于今天"
    if day > today + LONGEST:
        return None, "到期日最多为三年以后"
    return datetime.combine(day + timedelta(days=1), time(0), zone), None


def revoke_api_token(tenant, actor_id: int | None, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(tenant.id, actor_id, "api_token.revoke", token.name, {
            "token_id": str(token.id), "owner": token.owner.username if token.owner else None})


# ---------------------------------------------------------------- reading

def find_token(token_id) -> ApiToken | None:
    """A token of the current tenant."""
    return db.scalar(select(ApiToken).where(ApiToken.id == token_id))


def tokens_of(user_id: int, limit: int = 100) -> list[ApiToken]:
    """A person's own tokens in the current tenant, newest first."""
    return list(db.scalars(select(ApiToken).where(ApiToken.owner_id == user_id)
                           .order_by(ApiToken.created_at.desc()).limit(limit)))


def tenant_tokens(limit: int = 200) -> list[ApiToken]:
    """Every token of the current tenant, live ones first, then newest first."""
    return list(db.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
                           .limit(limit)))


# ---------------------------------------------------------------- at a request

def token_from_header(value: str | None) -> ApiToken | None:
    """The token of the current tenant that an `Authorization: Bearer` header names, if its
    secret is right; whether it may still act is `authority`'s question. Its owner comes with it,
    as their row is now, not as this session may hold it (a request that carries a session cookie
    too): their account and their roles version (moved by any change of their memberships) are
    judged afresh at each request."""
    if not value or not value.startswith("Bearer " + TOKEN_PREFIX):
        return None
    token_id, _, secret = value[len("Bearer " + TOKEN_PREFIX):].partition("_")
    try:
        tid = uuid.UUID(hex=token_id)
    except ValueError:
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.id == tid).execution_options(populate_existing=True))
    if row is None or not secrets.compare_digest(row.token_hash, _hash(secret)):
        return None
    return row


def authority(token: ApiToken, tenant, owner: User | None) -> tuple[set[str], str | None]:
    """(the roles the token acts with now, None) or (empty, why it may not act): a personal token's
    are its owner's current roles in the tenant, a system token's its own role. The memberships
    are read in a scope that names the owner (their rows in other tenants: a county admin's)."""
    state = token.state(utcnow())
    if state != "live":
        return set(), state
    if token.owner_id is None:
        return {token.role}, None
    if owner is None or not owner.is_active_account:
        return set(), "owner_inactive"
    roles = roles_in(owner, tenant)
    return (roles, None) if roles else (set(), "no_role")


def note_use(token: ApiToken) -> None:
    """When it was last used, in a transaction of its own: a refused request was a use too."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < USE_RESOLUTION:
        return
    with own_transaction() as s:
        s.execute(update(ApiToken).where(ApiToken.tenant_id == token.tenant_id, ApiToken.id == token.id)
                  .values(last_used_at=now))
