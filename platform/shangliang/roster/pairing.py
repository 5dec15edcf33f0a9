"""委员-网格员结对: a CPPCC member paired with grids of the street, "一对一" or "一对多", so that the
member keeps up with what happens there (燕山: 帮助政协委员及时掌握基层动态、收集民意信息).

A grid is named by its community and its name as the street's lists (社区与网格) spell them, and is
chosen from them, never typed. Pairs are read where they help: claim suggestions (a member paired
with the topic's grid is the first to ask), the duty rota (paired members first for a 庭院网格e站),
a new topic's notifications (its grid's members hear of it) and a grid worker's home. A pair
never outlives its member or its grid: deactivating a member, or making them another kind, ends
their pairs; a grid still paired cannot leave the street's lists (the refusal names it).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, select

from ..accounts.models import Membership
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..core.errors import Refused
from ..i18n import _
from ..notifications.operations import notify
from ..tenants.models import Tenant
from ..tenants.operations import register_places_check
from ..topics.intake import register_on_create
from ..topics.models import Topic
from ..topics.places import lists
from .models import MemberGridPair, Person, Station

GRID_KINDS = ("grid_worker", "building_head")  # who works a grid (网格员, 楼院长)
MAX_PAIRS = 50  # grids one member may be paired with
PER_PAGE = 50


def as_id(value) -> uuid.UUID | None:
    """A form's id, or None for anything that is not one (a name, 20 digits, nothing)."""
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError:
        return None


def street_places(tenant: Tenant) -> dict[str, list[str]]:
    return lists(tenant.id)[0]


def place_value(community: str, grid: str) -> str:
    """One form value for a grid. A community's name never holds a colon (the 社区与网格 form
    splits each line at its first), so the first colon separates the two again."""
    return f"{community}:{grid}"


def _place(places: dict[str, list[str]], value, name: str) -> tuple[str, str]:
    community, sep, grid = str(value or "").strip().partition(":")
    if not places:
        raise Refused("本街道还没有登记社区与网格，请先在“社区与类别”中填写", name, "validation_error")
    if not sep or grid not in places.get(community, ()):
        raise Refused(_("本街道没有这个网格：{name}", name=str(value)[:60]), name, "validation_error")
    return community, grid


def _pairable(person: Person) -> None:
    if person.kind != "member":
        raise Refused("只有政协委员可以结对网格", "person_id", "validation_error")
    if not person.active:
        raise Refused("该委员已停用，不能结对网格", "person_id", "validation_error")


def _active_members():
    """The join every reader goes through: a pair counts only while its member is an active one."""
    return and_(Person.tenant_id == MemberGridPair.tenant_id, Person.id == MemberGridPair.person_id,
                Person.kind == "member", Person.active.is_(True))


# ---------------------------------------------------------------- changing pairs

def pairs_of(person_id) -> list[MemberGridPair]:
    return list(db.scalars(select(MemberGridPair).where(MemberGridPair.person_id == person_id)
                           .order_by(MemberGridPair.community, MemberGridPair.grid)))


def find_pair(pair_id) -> MemberGridPair | None:
    return db.scalar(select(MemberGridPair).where(MemberGridPair.id == pair_id))


def _add(tenant: Tenant, actor_id: int | None, person: Person, community: str, grid: str) -> MemberGridPair:
    pair = MemberGridPair(tenant_id=tenant.id, person_id=person.id, community=community, grid=grid,
                          created_by=actor_id, created_at=utcnow())
    db.add(pair)
    record(tenant.id, actor_id, "roster.pair.add", str(person.id), {"community": community, "grid": grid})
    return pair


def _remove(tenant: Tenant, actor_id: int | None, pair: MemberGridPair, action: str = "roster.pair.remove") -> None:
    record(tenant.id, actor_id, action, str(pair.person_id), {"community": pair.community, "grid": pair.grid})
    db.delete(pair)


def set_pairs(tenant: Tenant, actor_id: int | None, person: Person, values) -> tuple[int, int]:
    """The member's grids become exactly those chosen (the form's ticks): (added, removed). The
    same form sent twice changes nothing the second time."""
    _pairable(person)
    places = street_places(tenant)
    wanted = dict.fromkeys(_place(places, v, "grids") for v in values or () if str(v or "").strip())
    if len(wanted) > MAX_PAIRS:
        raise Refused("一位委员最多结对 50 个网格", "grids", "validation_error")
    current = {(p.community, p.grid): p for p in pairs_of(person.id)}
    for key in wanted.keys() - current.keys():
        _add(tenant, actor_id, person, *key)
    for key in current.keys() - wanted.keys():
        _remove(tenant, actor_id, current[key])
    db.flush()
    return len(wanted.keys() - current.keys()), len(current.keys() - wanted.keys())


def add_pair(tenant: Tenant, actor_id: int | None, person_id, value) -> tuple[Person, bool]:
    """One more grid for a member (from the overview): (the member, whether it is new). Paired
    already (a double submit) is no error."""
    pid = as_id(person_id)
    person = db.scalar(select(Person).where(Person.id == pid)) if pid else None
    if person is None:
        raise Refused("请选择政协委员", "person_id", "validation_error")
    _pairable(person)
    community, grid = _place(street_places(tenant), value, "grid")
    if db.scalar(select(MemberGridPair.id).where(MemberGridPair.person_id == person.id, MemberGridPair.community ==
                                                 community, MemberGridPair.grid == grid)) is not None:
        return person, False
    if db.scalar(select(func.count()).select_from(MemberGridPair).where(MemberGridPair.person_id == person.id)) \
            >= MAX_PAIRS:
        raise Refused("一位委员最多结对 50 个网格", "grid", "validation_error")
    _add(tenant, actor_id, person, community, grid)
    db.flush()
    return person, True


def remove_pair(tenant: Tenant, actor_id: int | None, pair: MemberGridPair) -> None:
    _remove(tenant, actor_id, pair)
    db.flush()


def end_pairs(tenant: Tenant, actor_id: int | None, person: Person) -> int:
    """A member deactivated, or no longer a member: their pairs end with it (each in the audit log),
    so no grid counts on someone who is gone."""
    pairs = pairs_of(person.id)
    for pair in pairs:
        _remove(tenant, actor_id, pair, "roster.pair.end")
    return len(pairs)


def drop_pairs(session, person_ids) -> None:
    """The import's own session: people it made another kind than member lose their pairs."""
    if person_ids:
        session.execute(delete(MemberGridPair).where(MemberGridPair.person_id.in_(list(person_ids))))


def _refuse_unlisting_paired_grids(tenant: Tenant, places: dict[str, list[str]]) -> None:
    """The street's new lists may not drop (or rename) a grid a member is paired with: the pair
    would point at nothing. The refusal names each grid and its members, to unpair first."""
    rows = db.execute(select(MemberGridPair.community, MemberGridPair.grid, Person.name)
                      .join(Person, _active_members()).order_by(MemberGridPair.community, MemberGridPair.grid,
                                                                Person.name)).all()
    lost: dict[str, list[str]] = {}
    for community, grid, name in rows:
        if grid not in places.get(community, ()):
            lost.setdefault(f"{community}{grid}", []).append(name)
    if lost:
        named = "；".join(f"{where}（{'、'.join(names)}）" for where, names in lost.items())
        raise Refused(_("这些网格还有结对的政协委员，不能从名单中删去或改名：{grids}。请先在名册的“网格结对”中解除结对",
                        grids=named), "communities", "conflict")


register_places_check(_refuse_unlisting_paired_grids)


# ---------------------------------------------------------------- reading pairs

def paired_with(community: str | None, grid: str | None) -> set[uuid.UUID]:
    """The active members paired with a topic's grid (any community's grid of that name when the
    topic names no community)."""
    if not grid:
        return set()
    stmt = select(MemberGridPair.person_id).join(Person, _active_members()).where(MemberGridPair.grid == grid)
    if community:
        stmt = stmt.where(MemberGridPair.community == community)
    return set(db.scalars(stmt))


def station_grids(station: Station, places: dict[str, list[str]]) -> list[str]:
    """A 庭院网格e站 serves the grids of its community, as the street lists them; other stations
    (委员工作室, 议事室) serve the whole street, and no grid in particular."""
    if station.kind != "grid_station" or not station.community:
        return []
    return list(places.get(station.community, ()))


def paired_at(stations, places: dict[str, list[str]]) -> dict[uuid.UUID, dict[uuid.UUID, list[str]]]:
    """station id → {person id → the station's grids they are paired with}: whom the rota offers
    first there. One statement for every station of the week."""
    served = {st.id: (st.community, station_grids(st, places)) for st in stations}
    served = {sid: (c, grids) for sid, (c, grids) in served.items() if grids}
    out: dict[uuid.UUID, dict[uuid.UUID, list[str]]] = {sid: {} for sid in served}
    if not served:
        return out
    rows = db.execute(select(MemberGridPair.person_id, MemberGridPair.community, MemberGridPair.grid)
                      .join(Person, _active_members())
                      .where(MemberGridPair.community.in_({c for c, _g in served.values()}))
                      .order_by(MemberGridPair.grid)).all()
    for sid, (community, grids) in served.items():
        for pid, c, grid in rows:
            if c == community and grid in grids:
                out[sid].setdefault(pid, []).append(grid)
    return out


@dataclass
class RotaPicker:
    """The rota's assignment form: the station it opens on, the members in the order offered
    (paired with that station's grids first, then the roster's order), each member's place in
    the roster's order, and every station's pairs (for choosing another station there)."""
    station: Station | None = None
    members: list[Person] = field(default_factory=list)
    rank: dict[uuid.UUID, int] = field(default_factory=dict)
    paired: dict[uuid.UUID, dict[uuid.UUID, list[str]]] = field(default_factory=dict)

    @property
    def here(self) -> dict[uuid.UUID, list[str]]:
        return self.paired.get(self.station.id, {}) if self.station else {}


def rota_picker(stations, wanted, members: list[Person], places: dict[str, list[str]]) -> RotaPicker:
    """`wanted`: the station asked for (its id as text); else the first active one."""
    active = [st for st in stations if st.active]
    station = next((st for st in active if str(st.id) == str(wanted or "")), active[0] if active else None)
    out = RotaPicker(station, rank={p.id: i for i, p in enumerate(members)}, paired=paired_at(active, places))
    out.members = sorted(members, key=lambda p: p.id not in out.here)  # stable: the roster's order within
    return out


def paired_members_of_worker(user_id: int) -> list[tuple[str, str, list[Person]]]:
    """A 网格员's or 楼院长's grids (their rows on the roster) with the members paired with each:
    [(community, grid, [members])], in one statement besides finding the grids."""
    grids = sorted(set(db.execute(select(Person.community, Person.grid).where(
        Person.user_id == user_id, Person.kind.in_(GRID_KINDS), Person.active.is_(True),
        Person.grid.is_not(None))).all()), key=lambda r: (r[0] or "", r[1]))
    if not grids:
        return []
    found: dict[tuple[str, str], list[Person]] = {}
    for pair, person in db.execute(select(MemberGridPair, Person).join(Person, _active_members())
                                   .where(MemberGridPair.grid.in_({g for _c, g in grids}))
                                   .order_by(Person.name)):
        found.setdefault((pair.community, pair.grid), []).append(person)
    return [(c or "", g, [p for key, people in found.items() if key[1] == g and c in (None, key[0])
                          for p in people]) for c, g in grids]


@dataclass
class GridRow:
    community: str
    grid: str
    members: list[tuple[MemberGridPair, Person]] = field(default_factory=list)
    workers: list[Person] = field(default_factory=list)

    @property
    def value(self) -> str:
        return place_value(self.community, self.grid)


@dataclass
class Overview:
    rows: list[GridRow]
    page: int
    has_next: bool
    total: int
    gaps: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def overview(places: dict[str, list[str]], community: str | None = None, gaps_only: bool = False,
             page: int = 1) -> Overview:
    """The street's grids, a page at a time, each with its paired members and its grid workers and
    楼院长; a grid without a paired member is a gap. A fixed number of statements at any size: the
    grids come from the lists, the paired ones in one grouped read, the page's people in two."""
    paired = set(db.execute(select(MemberGridPair.community, MemberGridPair.grid).join(Person, _active_members())
                            .group_by(MemberGridPair.community, MemberGridPair.grid)).all())
    every = [(c, g) for c, grids in places.items() for g in grids]
    gaps = sum(1 for key in every if key not in paired)
    shown = [(c, g) for c, g in every if (not community or c == community) and not (gaps_only and (c, g) in paired)]
    start = (page - 1) * PER_PAGE
    rows = [GridRow(c, g) for c, g in shown[start:start + PER_PAGE]]
    if rows:
        by_key = {(r.community, r.grid): r for r in rows}
        names = {r.grid for r in rows}
        for pair, person in db.execute(select(MemberGridPair, Person).join(Person, _active_members())
                                       .where(MemberGridPair.grid.in_(names)).order_by(Person.name)):
            if (pair.community, pair.grid) in by_key:
                by_key[(pair.community, pair.grid)].members.append((pair, person))
        for person in db.scalars(select(Person).where(Person.kind.in_(GRID_KINDS), Person.active.is_(True),
                                                      Person.grid.in_(names)).order_by(Person.kind, Person.name)):
            for r in rows:
                if r.grid == person.grid and person.community in (None, r.community):
                    r.workers.append(person)
    return Overview(rows, page, len(shown) > start + PER_PAGE, len(every), gaps)


# ---------------------------------------------------------------- a new topic in a paired grid

def tell_paired_members(tenant: Tenant, topic: Topic) -> None:
    """A topic raised in a grid reaches the members paired with it who sign in (and are members of
    the street): 及时掌握基层动态. Whoever raised it is not told of their own topic."""
    ids = paired_with(topic.community, topic.grid)
    if not ids:
        return
    members = select(Membership.user_id).where(Membership.role == "member")
    users = set(db.scalars(select(Person.user_id).where(Person.id.in_(ids), Person.user_id.in_(members))))
    where = f"{topic.community or ''}{topic.grid}"
    for uid in sorted(users - {topic.created_by}):
        notify(tenant.id, uid, "topic.paired_grid", f"您结对的{where}有新议题：#{topic.number} {topic.title}"[:200],
               f"类别：{topic.category}" if topic.category else "", link=f"/t/{tenant.slug}/topics/{topic.number}")


register_on_create(tell_paired_members)
