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
               "building_head": "楼院长"}
# Bound to the grids the street's roster gives them: they raise topics for residents and follow their grid's.
GRID_ROLES = frozenset({"grid_worker", "building_head"})
# Administrators of a street, its county or the platform: they may do what a street's staff may.
ADMIN_ROLES = frozenset({"platform_admin", "county_admin", "street_admin"})


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


class LoginAttempt(Base):
    """Failed and successful sign-ins, kept for throttling per account and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),
                      Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(TenantOwned, Base):
    """A token for an integration (12345 hotline system, mini-program), bound to one tenant."""

    __tablename__ = "api_tokens"
    __table_args__ = (ForeignKeyConstraint(["created_by"], ["users.id"]),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
