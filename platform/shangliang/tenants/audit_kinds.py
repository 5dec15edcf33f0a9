"""The tenants area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import ROLE_LABELS
from ..audit.kinds import register, register_lookup, register_reason
from .models import Tenant


def _by_slug(keys: list[str]):
    return select(Tenant.slug, Tenant.name).where(Tenant.slug.in_(keys))


def _role(target, _detail):
    return ROLE_LABELS.get(target)


def _accepted(_target, detail):
    return ROLE_LABELS.get(detail.get("role"))


register_lookup("tenant", _by_slug)
register("tenant.create", "新建单位", "Unit created", lookup="tenant")
register("tenant.places", "修改社区、网格和分类", "Places and categories changed", lookup="tenant")
register("tenant.suspend", "暂停单位", "Unit suspended", lookup="tenant")
register("tenant.reactivate", "恢复单位", "Unit reactivated", lookup="tenant")
register("tenant.archive", "归档单位", "Unit archived", lookup="tenant")
register("tenant.unarchive", "取消归档（命令行）", "Unit unarchived (command line)", "system", lookup="tenant")
register("invitation.create", "创建邀请", "Invitation created", name=_role)
register("invitation.accept", "接受邀请加入", "Invitation accepted", "signin", name=_accepted)
register("invitation.revoke", "撤销邀请", "Invitation revoked", name=_role)
register_reason("member counts for", "查看下级单位的人员统计", "Member counts of the units below")
register_reason("street activity for", "查看下级单位的活动统计", "Activity of the units below")
