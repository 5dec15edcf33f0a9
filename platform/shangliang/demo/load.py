"""Demo data from tenants/demo/tenants.yaml. Loading twice changes nothing."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select

from ..accounts.models import User
from ..accounts.operations import add_membership, create_user
from ..benchmarks.rollups import rebuild
from ..core.db import db, utcnow
from ..core.tenancy import tenant_context
from ..procedures.operations import adopt
from ..tenants.models import Community, Tenant
from ..tenants.operations import create_tenant, parse_communities
from .brands import ensure_demo_brand
from .catalogue import CATEGORIES
from .departments import demo_logins as department_logins, ensure_demo_departments
from .history import Profile
from .history_store import generate
from .meetings import ensure_demo_meeting
from .notice import ensure_demo_notice
from .roster import demo_logins as member_logins, ensure_demo_roster

DEMO_FILE = Path(__file__).resolve().parents[3] / "tenants" / "demo" / "tenants.yaml"
HISTORY_FILE = DEMO_FILE.with_name("history.yaml")


def _spec() -> dict:
    return yaml.safe_load(DEMO_FILE.read_text("utf-8"))


def ensure_platform() -> Tenant:
    platform = db.scalar(select(Tenant).where(Tenant.kind == "platform"))
    if platform is None:
        platform = create_tenant(None, kind="platform", slug="platform", name="商量平台")
        db.commit()
    return platform


def _user(username: str, name: str, password: str) -> User:
    return db.scalar(select(User).where(User.username == username)) or create_user(username, name, password)


def load_demo(password: str, now: datetime | None = None) -> int:
    """`now`: the moment the generated history stops and its figures are computed (default: the
    clock). Tests pin it, so that which twelve months are shown does not depend on the day."""
    spec = _spec()
    created = 0
    platform = ensure_platform()
    op = spec["platform"]["operator"]
    if db.scalar(select(User).where(User.username == op["username"])) is None:
        user = create_user(op["username"], op["display_name"], password)
        with tenant_context(platform.id, user.id):
            add_membership(platform, None, user, "platform_admin")
        db.commit()
    histories = yaml.safe_load(HISTORY_FILE.read_text("utf-8")) or {}
    with_history = []
    for county_spec in spec["counties"]:
        county = db.scalar(select(Tenant).where(Tenant.slug == county_spec["slug"]))
        if county is None:
            admin = _user(f"{county_spec['slug']}-admin", f"{county_spec['name']}政协管理员", password)
            county = create_tenant(None, kind="county", slug=county_spec["slug"], name=county_spec["name"],
                                   admin=admin)
            created += 1
        for street_spec in county_spec["streets"]:
            if db.scalar(select(Tenant.id).where(Tenant.slug == street_spec["slug"])) is None:
                admin = _user(f"{street_spec['slug']}-admin", f"{street_spec['name']}管理员", password)
                street = create_tenant(None, kind="street", slug=street_spec["slug"], name=street_spec["name"],
                                       parent=county, households=street_spec.get("households"), admin=admin)
                with tenant_context(street.id, admin.id):
                    adopt(street, admin.id, street_spec["procedure"])  # each street runs its own practice
                    for i, (name, grids) in enumerate(parse_communities(street_spec.get("communities", ""))):
                        db.add(Community(tenant_id=street.id, name=name, grids=grids, position=i))
                    street.categories = [c.name for c in CATEGORIES]  # what its history files topics under
                created += 1
            _brand(street_spec["slug"])
            _roster(street_spec["slug"], password)
            _departments(street_spec["slug"], password)
            if street_spec["slug"] in histories and _history(street_spec["slug"], histories[street_spec["slug"]],
                                                             now):
                with_history.append(street_spec["slug"])
            _meeting(street_spec["slug"])
            _notice(street_spec["slug"])
        db.commit()
    if with_history:
        _rollups(platform, with_history, now)
    return created


@contextmanager
def _as_street_admin(slug: str):
    """The street, inside its scope, with its administrator acting (as on the street's pages)."""
    street = db.scalar(select(Tenant).where(Tenant.slug == slug))
    admin_id = db.scalar(select(User.id).where(User.username == f"{slug}-admin"))
    with tenant_context(street.id, admin_id):
        yield street, admin_id


def _brand(slug: str) -> None:
    """The street's brand from tenants/brands/<slug>.yaml, once (see brands.py)."""
    with _as_street_admin(slug) as (street, admin_id):
        ensure_demo_brand(street, admin_id)


def _roster(slug: str, password: str) -> None:
    """The street's roster, stations and this week's rota from tenants/demo/roster.yaml."""
    with _as_street_admin(slug) as (street, admin_id):
        ensure_demo_roster(street, admin_id, password)


def _departments(slug: str, password: str) -> None:
    """The street's and its county's departments and units, with demo logins for some contacts."""
    ensure_demo_departments(db.scalar(select(Tenant).where(Tenant.slug == slug)), password)


def _history(slug: str, profile: dict, now: datetime | None) -> dict | None:
    """A year of generated topics, meetings and duty shifts (after the roster: its members claim
    and attend), once; tenants/demo/history.yaml says how well the street works."""
    street = db.scalar(select(Tenant).where(Tenant.slug == slug))
    with tenant_context(street.id):
        return generate(street, Profile.of(profile), now=now)


def _rollups(platform: Tenant, slugs: list[str], now: datetime | None) -> None:
    """The benchmarking figures of the streets that just got their history, and their counties'."""
    ids = list(db.scalars(select(Tenant.id).where(Tenant.slug.in_(slugs))))
    rebuild(now or utcnow(), tenant_ids=ids, acting_tenant_id=platform.id, commit=db.commit)


def _meeting(slug: str) -> None:
    """One held meeting with minutes and a work list, from tenants/demo/meetings.yaml (after the roster)."""
    with _as_street_admin(slug) as (street, admin_id):
        ensure_demo_meeting(street, admin_id)


def _notice(slug: str) -> None:
    """A topic on notice (议题公示) with supports and comments, where the street's procedure has one."""
    with _as_street_admin(slug) as (street, admin_id):
        ensure_demo_notice(street, admin_id)


def demo_logins() -> list[tuple[str, str]]:
    spec = _spec()
    rows = [(spec["platform"]["operator"]["username"], "平台运维 platform operator")]
    for c in spec["counties"]:
        rows.append((f"{c['slug']}-admin", f"{c['name']} 区县管理员"))
        for s in c["streets"]:
            rows.append((f"{s['slug']}-admin", f"{s['name']}（{s['practice']}）街道管理员"))
    rows += member_logins() + department_logins()
    return rows
