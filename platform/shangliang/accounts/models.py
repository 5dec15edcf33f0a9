from __future__ import annotations

import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.tenancy import TenantOwned

ROLES = ("platform_admin", "county_admin", "street_admin", "staff", "member", "department", "grid_worker",
         "building_head")
ROLE_LABELS = {"platform_admin": "平台管理员", "county_admin": "区县管理员", "street_admin": "街道管理员",
               "staff": "工作人员", "member": "政协委员", "department": "部门联络人", "grid_worker": "网格员",
               "building_head": "楼院长", "resident_service": "居民服务系统"}
# Bound to the grids the street's roster gives them: they raise topics for residents and follow their grid's.
GRID_ROLES = frozenset({"grid_worker", "building_head"})
# A system that acts for residents (a WeChat mini-program's back end): no person holds it, only a
# service account (a token with no owner, accounts/tokens.create_service_token), and it may use only
# the residents' own operations (api/residents.py), with the scope no other token takes.
SERVICE_ROLE = "resident_service"
# Administrators of a street, its county or the platform: they may do what a street's staff may.
ADMIN_ROLES = frozenset({"platform_admin", "county_admin", "street_admin"})
# The roles each kind of tenant gives.
ASSIGNABLE = {
    "platform": ("platform_admin",),
    "county": ("county_admin", "staff", "member", "department"),
    "street": ("street_admin", "staff", "member", "department", "grid_worker", "building_head"),
}


class User(UserMixin, Base):
    """A person who can sign in. Global: one login may belong to several tenants."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moved by a database trigger at every change of the person's memberships (migration 0010):
    # the key under which a web process keeps their roles (core/permissions.memberships_of).
    roles_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str | None:
        # Flask-Login keeps this in the cookie: the server-side session token, not the user id,
        # so that deleting the AuthSession row signs the cookie out.
        return getattr(self, "session_token", None)


class Membership(TenantOwned, Base):
    """A user's role in one tenant. A user may hold several roles in the same tenant."""

    __tablename__ = "memberships"
    __visible_to_user__ = "user_id"
    __table_args__ = (
        CheckConstraint(
            "role IN ('platform_admin', 'county_admin', 'street_admin', 'staff', 'member', 'department', "
            "'grid_worker', 'building_head')",
            name="role"),
        Index("ix_memberships_user", "user_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class AuthSession(Base):
    """Server side of a login: the cookie holds a random token, the row its hash.

    Deleting the row (logout, password change) makes the old cookie useless.
    """

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class SignInCount(Base):
    """Sign-in failures of one account from one address (accounts/throttle.py), and when it last
    signed in from there; `account` ANY ("*") counts the accounts that address has failed on.
    Addresses are kept only as a keyed hash (core.web.address_key)."""

    __tablename__ = "sign_in_counts"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(40), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# What a token may be used for. Each API operation declares the one it needs (api/base.operation);
# a token does what its scopes allow and its owner's roles permit, never more.
SCOPES = ("read", "topics", "upload", "manage")
# A service account's one scope, never a person's (nor an OAuth client's): what a resident does with
# their receipt code (点单, 查单, 评单, 确认方案), done for them by a system.
SERVICE_SCOPE = "residents"
API_SCOPES = (*SCOPES, SERVICE_SCOPE)  # what an API operation may declare
SCOPE_LABELS = {"read": "读取", "topics": "办理议题", "upload": "上传", "manage": "管理", "residents": "代居民办理"}
SCOPE_HELP = {"read": "查看议题、议事会、名册、工作法等",
              "topics": "登记议题，认领、推进议题和记录证据",
              "upload": "上传照片和附件、删除自己上传的文件",
              "manage": "修改议事会、名册、轮值、成员和对标设置",
              "residents": "凭居民的回执码代居民点单、查单、评单和确认方案（仅居民服务系统账号）"}


# A service account has a channel, and nothing else has one (migration 0027 creates the same check).
SERVICE_CHANNEL_CHECK = "(channel IS NOT NULL) = (role IS NOT NULL AND role = 'resident_service')"


class ApiToken(TenantOwned, Base):
    """A bearer token bound to one tenant. A personal token (`owner_id`) acts as its owner, with
    the roles the owner holds there at each request; a token with no owner acts for a system (the
    12345 platform) with the `role` it was given, and what it does is logged as the system's. A
    service account for residents is such a token with the role `resident_service`, the scope
    `residents` and the intake `channel` its topics come in by."""

    __tablename__ = "api_tokens"
    __table_args__ = (ForeignKeyConstraint(["created_by"], ["users.id"]),
                      ForeignKeyConstraint(["owner_id"], ["users.id"]),
                      CheckConstraint("(owner_id IS NULL) <> (role IS NULL)", name="owner_or_role"),
                      CheckConstraint(SERVICE_CHANNEL_CHECK, name="service_channel"),
                      Index("ix_api_tokens_owner", "owner_id"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str | None] = mapped_column(String(32))  # tokens with no owner only
    scopes: Mapped[str] = mapped_column(String(64))  # space-separated, in the order of API_SCOPES
    channel: Mapped[str | None] = mapped_column(String(32))  # a service account's intake channel, only
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined", viewonly=True)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def state(self, now: datetime) -> str:
        """live, revoked or expired (the owner's account and roles are judged at each request)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "live"
