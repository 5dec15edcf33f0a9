"""Demo rosters from tenants/demo/roster.yaml, through the same operations as the pages. Loading
again changes nothing: people are found by their key, stations by name, shifts by member and day."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from ..accounts.models import Membership, User
from ..accounts.operations import add_membership, create_user
from ..core.db import db
from ..roster import duty, operations as ops, pairing
from ..roster.models import Person, Station
from ..tenants.models import Tenant

ROSTER_FILE = Path(__file__).resolve().parents[3] / "tenants" / "demo" / "roster.yaml"


def demo_spec() -> dict:
    return yaml.safe_load(ROSTER_FILE.read_text("utf-8")) or {}


LOGIN_ROLES = {"grid_worker": "grid_worker", "building_head": "building_head"}  # anyone else: a member


def _login(street: Tenant, username: str, name: str, password: str, kind: str = "member") -> str:
    user = db.scalar(select(User).where(User.username == username)) or create_user(username, name, password)
    role = LOGIN_ROLES.get(kind, "member")
    if db.get(Membership, {"tenant_id": street.id, "user_id": user.id, "role": role}) is None:
        add_membership(street, None, user, role)
    db.flush()
    return username


def ensure_demo_roster(street: Tenant, admin_id: int | None, password: str) -> None:
    spec = demo_spec().get(street.slug)
    if not spec:
        return
    people: dict[str, Person] = {}
    for row in spec.get("people", []):
        data = dict(row)
        fields = ops.check_person(data, ops.places(street))
        key = ops.person_key(fields["kind"], fields["name"], fields["phone"])
        person = db.scalar(select(Person).where(Person.import_key == key))
        if person is None:
            if data.get("username"):
                _login(street, data["username"], data["name"], password,
                       ops.KIND_ALIASES.get(str(data.get("kind") or ""), "member"))
            person = ops.create_person(street, admin_id, data)
        people[person.name] = person
    for row in spec.get("stations", []):
        if db.scalar(select(Station.id).where(Station.name == row["name"])) is None:
            ops.save_station(street, admin_id, row)
    db.flush()
    stations = {s.name: s for s in ops.stations()}
    monday = duty.monday_of(duty.local_today(street))
    for station, days in (spec.get("rota") or {}).items():
        for weekday, names in days.items():
            duty.assign(street, admin_id, stations[station].id, [people[n].id for n in names],
                        [monday + timedelta(days=int(weekday) - 1)])
    _pair(street, admin_id, people, spec.get("pairs") or {})


def _pair(street: Tenant, admin_id: int | None, people: dict[str, Person], pairs: dict) -> None:
    """委员-网格员结对 as the roster file gives it (社区：网格, the colon as people type it)."""
    for name, grids in pairs.items():
        values = [str(grid).replace("：", ":", 1) for grid in grids]
        current = [pairing.place_value(p.community, p.grid) for p in pairing.pairs_of(people[name].id)]
        pairing.set_pairs(street, admin_id, people[name], list(dict.fromkeys(current + values)))


def demo_logins() -> list[tuple[str, str]]:
    return [(p["username"], f"{p['name']} {p['kind']}（{slug}）")
            for slug, spec in demo_spec().items() for p in spec.get("people", []) if p.get("username")]
