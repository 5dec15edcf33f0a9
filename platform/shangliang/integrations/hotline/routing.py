"""Which street of the county an order's address names.

An address from a 12345 platform is free text ("德州市德城区燕山街道立功小区3号楼", "立功社区东门"):
it is read against the names the county's streets already keep — their own name, their communities
(社区/村) and those communities' grids — each with and without its suffix (燕山街道 and 燕山). Each kind
of name has its weight (the registry below); the street with the strongest match takes the order.
Nothing matched, or two streets equally strong, and the order waits in the county's queue, where
a person decides: a wrong street is worse than a short wait.

The communities and grids are the streets' rows, so the county reads them through the one audited
cross-tenant path (only names leave it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select

from ...core.db import db
from ...core.tenancy import cross_tenant
from ...tenants.models import Tenant
from ...topics import places

SUFFIXES = ("街道办事处", "街道办", "街道", "镇", "乡", "社区居委会", "居委会", "社区", "村委会", "村", "网格")
MIN_STEM = 2  # a one-character stem (镇 of 某镇) would match half the addresses of the county


def spellings(name: str) -> list[str]:
    """A name as an address may write it: whole, and without its suffix when enough is left."""
    name = "".join((name or "").split())
    out = [name] if name else []
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= MIN_STEM:
            out.append(name[:-len(suffix)])
            break
    return out


@dataclass(frozen=True)
class Place:
    """A street as routing sees it: its names, its communities and their grids."""

    street_id: int
    name: str
    communities: dict  # community name -> [grid names]


@dataclass
class Match:
    street_id: int
    score: int = 0
    community: str | None = None
    grid: str | None = None


@dataclass(frozen=True)
class Kind:
    """One kind of name an address may carry, and how much a match of it counts."""

    key: str
    weight: int
    find: Callable[[Place, str, Match], bool]  # records what it found on the match


def _street(place: Place, address: str, _m: Match) -> bool:
    return any(s in address for s in spellings(place.name))


def _community(place: Place, address: str, m: Match) -> bool:
    found = [c for c in place.communities if any(s in address for s in spellings(c))]
    if found:
        m.community = max(found, key=len)  # 立功小区社区 over 立功社区 when both are there
    return bool(found)


def _grid(place: Place, address: str, m: Match) -> bool:
    """A grid counts inside its community only: grid names repeat (一网格) across a county."""
    if m.community is None:
        return False
    found = [g for g in place.communities[m.community] if any(s in address for s in spellings(g))]
    if found:
        m.grid = max(found, key=len)
    return bool(found)


KINDS: list[Kind] = [Kind("street", 4, _street), Kind("community", 2, _community), Kind("grid", 1, _grid)]


@dataclass
class Route:
    street_id: int | None
    community: str | None = None
    grid: str | None = None
    reason: str | None = None  # why it waits in the queue: a key of models.QUEUE_REASONS
    candidates: list = field(default_factory=list)


def streets_of(county: Tenant) -> list[Tenant]:
    return list(db.scalars(select(Tenant).where(Tenant.parent_id == county.id, Tenant.kind == "street",
                                                Tenant.status != "archived").order_by(Tenant.id)))


def places_of(county: Tenant, streets: list[Tenant]) -> list[Place]:
    if not streets:
        return []
    with cross_tenant([s.id for s in streets], reason="hotline.route", actor_id=None, acting_tenant_id=county.id):
        return [Place(s.id, s.name, places.lists(s.id)[0]) for s in streets]


def route(county: Tenant, address: str) -> Route:
    address = "".join((address or "").split())
    streets = streets_of(county)
    matches = []
    for place in places_of(county, streets):
        m = Match(place.street_id)
        m.score = sum(kind.weight for kind in KINDS if kind.find(place, address, m))
        if m.score:
            matches.append(m)
    if not matches:
        return Route(None, reason="no_match")
    best = max(m.score for m in matches)
    top = [m for m in matches if m.score == best]
    if len(top) > 1:
        return Route(None, reason="ambiguous", candidates=[m.street_id for m in top])
    return Route(top[0].street_id, top[0].community, top[0].grid)
