"""Where a topic is and what it is about, chosen from the street's own lists: its communities and
their grids (set when the street was created, edited on its 社区与类别 page) and its categories.
A street that keeps no list takes what is written; one that keeps a list takes nothing else, so
the board's filters and the figures by category and grid hold together."""
from __future__ import annotations

from sqlalchemy import select

from ..core.changes import kept, watch
from ..core.db import db
from ..core.errors import Refused
from ..tenants.models import Community, Tenant

FIELDS = ("community", "grid", "category")


PLACES = watch("places", "communities", "tenants")  # categories are the tenant's; communities its own rows


def lists(tenant_id: int) -> tuple[dict[str, list[str]], list[str]]:
    """(community → its grids, categories) of the street; empty where it keeps none. Kept by the
    process until either changes; each caller gets its own copy to change as it likes."""
    places, categories = kept(PLACES, tenant_id, lambda: _lists(tenant_id), part=lambda _: tenant_id)
    return {name: list(grids) for name, grids in places.items()}, list(categories)


def _lists(tenant_id: int) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    communities = db.scalars(select(Community).where(Community.tenant_id == tenant_id).order_by(Community.position))
    places = {c.name: tuple(c.grids or ()) for c in communities}
    return places, tuple(db.get(Tenant, tenant_id).categories or ())


def check(tenant_id: int, values: dict) -> None:
    """The community, grid and category a topic has (or is about to have), against the lists."""
    places, categories = lists(tenant_id)
    community, grid, category = (values.get(k) or None for k in FIELDS)
    if places and community and community not in places:
        raise Refused("请从本街道的社区名单中选择", "community", "validation_error")
    grids = places.get(community, []) if community else [g for gs in places.values() for g in gs]
    if grids and grid and grid not in grids:
        raise Refused("请从该社区的网格名单中选择" if community else "请从本街道的网格名单中选择", "grid",
                      "validation_error")
    if categories and category and category not in categories:
        raise Refused("请从本街道的议题类别中选择", "category", "validation_error")
