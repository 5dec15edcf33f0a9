"""The accounts area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from sqlalchemy import String, cast, select

from ..audit.kinds import register, register_lookup
from .models import ROLE_LABELS, User


def _by_username(keys: list[str]):
    return select(User.username, User.display_name).where(User.username.in_(keys))


def _by_id(keys: list[str]):
    ids = [int(k) for k in keys if k.isdigit()]
    return select(cast(User.id, String), User.display_name).where(User.id.in_(ids))


def role(detail: dict) -> str:
    return ROLE_LABELS.get(detail.get("role"), "")


def _members(_target, _detail):
    return "members.members", {}


register_lookup("user", _by_username)
register_lookup("user_id", _by_id)
register("membership.add", "添加成员", "Member added", lookup="user", link=_members)
register("membership.remove", "移除成员", "Member removed", lookup="user", link=_members)
register("api_token.create", "创建接口令牌", "API token created", "signin")
register("api_token.revoke", "吊销接口令牌", "API token revoked", "signin")
