"""The street's roster (名册) and its stations (站点). Plain functions: tenant and actor in, rows out.

Every field check names its field and every problem of a form is reported at once, so a person
fixes a form in one go and an import reports each refused row with each of its problems.
"""
from __future__ import annotations

import hashlib
import re
import uuid

from sqlalchemy import case, func, or_, select

from ..accounts.models import Membership, User
from ..accounts.operations import normalise_username
from ..core.errors import Invalid as FieldsInvalid, Refused
from ..core.forms import control_errors
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..tenants.models import Community, Tenant
from ..topics.operations import PHONE_RE
from ..topics.people import register_grids_of
from .models import PERSON_KINDS, STATION_KINDS, Person, Station
from .pairing import end_pairs

KIND_LABELS = {"member": "政协委员", "grid_worker": "网格员", "community_secretary": "社区书记",
               "building_head": "楼院长", "department_contact": "部门联络人", "resident_rep": "居民代表",
               "partner": "合伙人"}
# What people write in a spreadsheet's 类别 column, besides the labels themselves.
KIND_ALIASES = {"委员": "member", "社区党委书记": "community_secretary", "社区党组织书记": "community_secretary",
                "书记": "community_secretary", "楼长": "building_head", "院长": "building_head",
                "楼栋长": "building_head", "部门联系人": "department_contact", "联络人": "department_contact",
                "城市治理合伙人": "partner", "合伙单位": "partner",
                **{label: kind for kind, label in KIND_LABELS.items()}, **{k: k for k in PERSON_KINDS}}
LEVEL_LABELS = {"county": "县级", "street": "街道级"}
LEVEL_ALIASES = {"县级": "county", "区级": "county", "县区级": "county", "县（区）级": "county", "县(区)级": "county",
                 "市级": "county", "街道级": "street", "镇级": "street", "镇街级": "street", "街道": "street",
                 "county": "county", "street": "street"}
STATION_KIND_LABELS = {"grid_station": "庭院网格e站", "member_studio": "委员工作室", "meeting_room": "议事室"}
KIND_ORDER = case({kind: i for i, kind in enumerate(PERSON_KINDS)}, value=Person.kind)  # members first
FIELDS = ("kind", "name", "phone", "sector", "specialties", "level", "community", "grid", "organisation", "title",
          "note")
FIELD_LABELS = {"import_key": "编号", "kind": "类别", "name": "姓名", "phone": "电话", "sector": "界别",
                "specialties": "专长", "level": "级别", "community": "社区", "grid": "网格",
                "organisation": "单位或部门", "title": "职务", "note": "备注", "username": "登录账号",
                "active": "状态", "file": "文件"}
SPECIALTY_SPLIT = re.compile(r"[、,，;；/\s]+")
MAX_SPECIALTIES = 10


class Invalid(FieldsInvalid):
    """Several fields refused at once; `errors` maps each field to its message, and the first is
    the refusal's own message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors, next(iter(errors.values())))


def kind_label(kind: str | None) -> str:
    return KIND_LABELS.get(kind or "", kind or "")


# ---------------------------------------------------------------- places

def places(tenant: Tenant) -> dict[str, list[str]]:
    """The street's communities and their grids. Empty when the street has listed none: then
    any community or grid name is taken as written."""
    return {c.name: list(c.grids or []) for c in db.scalars(select(Community).order_by(Community.position))}


# ---------------------------------------------------------------- checking a person

def as_text(value) -> str:
    """A cell or form value as text; Excel gives phone numbers as numbers (13812341234.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _limit(out: dict, data: dict, name: str, limit: int, message: str) -> None:
    value = as_text(data.get(name))
    if len(value) > limit:
        raise Refused(message, name, "validation_error")
    out[name] = value or None


def _check_kind(data, out, _places):
    value = as_text(data.get("kind"))
    if not value:
        raise Refused("请选择类别", "kind", "validation_error")
    kind = KIND_ALIASES.get(value) or KIND_ALIASES.get(value.lower())
    if kind is None:
        raise Refused("未知的类别，应为政协委员、网格员、社区书记、楼院长、部门联络人、居民代表或合伙人", "kind",
                      "validation_error")
    out["kind"] = kind


def _check_name(data, out, _places):
    name = as_text(data.get("name"))
    if not name:
        raise Refused("请填写姓名", "name", "validation_error")
    if len(name) > 60:
        raise Refused("姓名最多 60 个字符", "name", "validation_error")
    out["name"] = name


def _check_phone(data, out, _places):
    phone = re.sub(r"[\s\u3000]", "", as_text(data.get("phone")))
    if phone and not PHONE_RE.fullmatch(phone):
        raise Refused("电话号码格式不正确：手机 11 位，座机带区号", "phone", "validation_error")
    out["phone"] = phone or None


def _check_sector(data, out, _places):
    _limit(out, data, "sector", 40, "界别最多 40 个字符")


def _check_specialties(data, out, _places):
    raw = data.get("specialties")
    items = raw if isinstance(raw, (list, tuple)) else SPECIALTY_SPLIT.split(as_text(raw))
    seen: list[str] = []
    for item in (as_text(i) for i in items):
        if item and item not in seen:
            seen.append(item)
    if any(len(s) > 20 for s in seen):
        raise Refused("每项专长最多 20 个字符", "specialties", "validation_error")
    if len(seen) > MAX_SPECIALTIES:
        raise Refused("专长最多 10 项", "specialties", "validation_error")
    out["specialties"] = seen


def _check_level(data, out, _places):
    value = as_text(data.get("level"))
    level = LEVEL_ALIASES.get(value.replace(" ", "")) if value else None
    if value and level is None:
        raise Refused("级别须为县级或街道级", "level", "validation_error")
    out["level"] = level


def _check_community(data, out, places):
    _limit(out, data, "community", 60, "社区名称最多 60 个字符")
    if out["community"] and places and out["community"] not in places:
        raise Refused("本街道没有这个社区", "community", "validation_error")


def _check_grid(data, out, places):
    _limit(out, data, "grid", 60, "网格名称最多 60 个字符")
    grid, community = out["grid"], out.get("community")
    if grid and places:
        if community in places:
            if places[community] and grid not in places[community]:
                raise Refused("该社区没有这个网格", "grid", "validation_error")
        elif community is None:  # the grid alone says which community
            owner = next((c for c, grids in places.items() if grid in grids), None)
            if owner is None:
                raise Refused("本街道没有这个网格", "grid", "validation_error")
            out["community"] = owner
    if not grid and out.get("kind") == "grid_worker":
        raise Refused("网格员须填写所在网格", "grid", "validation_error")


def _check_organisation(data, out, _places):
    _limit(out, data, "organisation", 100, "单位或部门最多 100 个字符")
    if not out["organisation"] and out.get("kind") == "department_contact":
        raise Refused("部门联络人须填写所在部门或单位", "organisation", "validation_error")


def _check_title(data, out, _places):
    _limit(out, data, "title", 60, "职务最多 60 个字符")


def _check_note(data, out, _places):
    _limit(out, data, "note", 500, "备注最多 500 个字符")
    out["note"] = out["note"] or ""


CHECKS = (_check_kind, _check_name, _check_phone, _check_sector, _check_specialties, _check_level,
          _check_community, _check_grid, _check_organisation, _check_title, _check_note)


def check_person(data: dict, places: dict[str, list[str]]) -> dict:
    """The person's fields, cleaned; or Invalid naming every field that is wrong."""
    out: dict = {}
    errors = control_errors(data, FIELD_LABELS)  # "姓名不能包含控制字符": before any other problem of the field
    for check in CHECKS:
        try:
            check(data, out, places)
        except Refused as exc:
            errors.setdefault(exc.field, exc.message)
    if errors:
        raise Invalid(errors)
    return out


def person_key(kind: str, name: str, phone: str | None) -> str:
    """The identity of a row without an ID column: the same person in the next file finds this one."""
    digits = re.sub(r"\D", "", phone or "")
    return "h:" + hashlib.sha256(f"{kind}|{name}|{digits}".encode()).hexdigest()[:40]


# ---------------------------------------------------------------- people

def find_person(person_id) -> Person | None:
    return db.scalar(select(Person).where(Person.id == person_id))  # the tenant filter hides others'


def _linked_user(tenant: Tenant, username: str | None, person: Person | None) -> int | None:
    """A login of this street, by username, not yet linked to someone else on the roster."""
    username = normalise_username(username)
    if not username:
        return None
    user = db.scalar(select(User).where(User.username == username))
    member = user and db.scalar(select(Membership.user_id).where(Membership.user_id == user.id).limit(1))
    if not member:
        raise Refused("本单位没有这个登录账号", "username", "validation_error")
    others = select(Person.id).where(Person.user_id == user.id)
    if person is not None:
        others = others.where(Person.id != person.id)
    if db.scalar(others.limit(1)) is not None:
        raise Refused("该登录账号已关联名册中的另一人", "username", "conflict")
    return user.id


def _validate(tenant: Tenant, data: dict, person: Person | None) -> tuple[dict, int | None]:
    errors: dict[str, str] = {}
    try:
        fields = check_person(data, places(tenant))
    except Invalid as exc:
        fields, errors = {}, dict(exc.errors)
    try:
        user_id = _linked_user(tenant, data.get("username"), person)
    except Refused as exc:
        user_id, errors[exc.field] = None, exc.message
    if errors:
        raise Invalid(errors)
    return fields, user_id


def create_person(tenant: Tenant, actor_id: int | None, data: dict) -> Person:
    fields, user_id = _validate(tenant, data, None)
    key = person_key(fields["kind"], fields["name"], fields["phone"])
    if db.scalar(select(Person.id).where(Person.import_key == key)) is not None:
        raise Invalid({"name": "名册中已有同类别、同姓名、同电话的人"})
    now = utcnow()
    person = Person(tenant_id=tenant.id, user_id=user_id, import_key=key, created_at=now, updated_at=now, **fields)
    db.add(person)
    db.flush()
    record(tenant.id, actor_id, "roster.person.create", str(person.id), {"kind": person.kind})
    return person


def update_person(tenant: Tenant, actor_id: int | None, person: Person, data: dict) -> Person:
    """`data` holds every field of the form (the API merges its partial body first)."""
    fields, user_id = _validate(tenant, data, person)
    changed = sorted(k for k, v in fields.items() if getattr(person, k) != v)
    if user_id != person.user_id:
        changed.append("username")
    for name, value in fields.items():
        setattr(person, name, value)
    person.user_id = user_id
    if (person.import_key or "").startswith("h:"):  # a hash key follows the name and phone it was made from
        key = person_key(person.kind, person.name, person.phone)
        if db.scalar(select(Person.id).where(Person.import_key == key, Person.id != person.id)) is None:
            person.import_key = key
    if changed:
        person.updated_at = utcnow()
        record(tenant.id, actor_id, "roster.person.update", str(person.id), {"fields": changed})
    if "kind" in changed and person.kind != "member":
        end_pairs(tenant, actor_id, person)
    return person


def set_active(tenant: Tenant, actor_id: int | None, person: Person, active: bool) -> None:
    if person.active != active:
        person.active, person.updated_at = active, utcnow()
        if not active:
            end_pairs(tenant, actor_id, person)
        record(tenant.id, actor_id, "roster.person.activate" if active else "roster.person.deactivate",
               str(person.id))


def person_form(person: Person, username: str | None = None) -> dict:
    """A person as the form shows it (and as the API merges a partial update into)."""
    out = {name: getattr(person, name) or "" for name in FIELDS}
    out["specialties"] = "、".join(person.specialties or [])
    out["username"] = username or ""
    return out


def usernames(user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    return dict(db.execute(select(User.id, User.username).where(User.id.in_(ids))).all()) if ids else {}


def people_query(kind: str | None = None, community: str | None = None, q: str | None = None,
                 active: bool | None = True):
    stmt = select(Person)
    if kind:
        stmt = stmt.where(Person.kind == kind)
    if community:
        stmt = stmt.where(Person.community == community)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Person.name.like(like), Person.phone.like(like), Person.organisation.like(like),
                              Person.sector.like(like)))
    if active is not None:
        stmt = stmt.where(Person.active.is_(active))
    return stmt.order_by(KIND_ORDER, Person.name, Person.id)


def kind_counts() -> dict[str, int]:
    rows = db.execute(select(Person.kind, func.count()).where(Person.active.is_(True)).group_by(Person.kind))
    return dict(rows.all())


def people_for_choice(kinds=None, community: str | None = None, q: str | None = None, limit: int = 500
                      ) -> list[Person]:
    """Active people of the roster, for pickers elsewhere (meeting participants, work item owners).
    `kinds` narrows to some PERSON_KINDS, e.g. ("member",) for the 4+X group of members."""
    stmt = people_query(community=community, q=q)
    if kinds:
        stmt = stmt.where(Person.kind.in_(tuple(kinds)))
    return list(db.scalars(stmt.limit(limit)))


def people_by_ids(ids) -> dict[uuid.UUID, Person]:
    ids = {i for i in ids if i}
    return {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}


# ---------------------------------------------------------------- stations

def check_station(data: dict, places: dict[str, list[str]]) -> dict:
    out: dict = {}
    errors: dict[str, str] = {}
    name = as_text(data.get("name"))
    if not name:
        errors["name"] = "请填写站点名称"
    elif len(name) > 60:
        errors["name"] = "站点名称最多 60 个字符"
    out["name"] = name
    kind = as_text(data.get("kind"))
    kind = {v: k for k, v in STATION_KIND_LABELS.items()}.get(kind, kind)
    if kind not in STATION_KINDS:
        errors["kind"] = "请选择站点类型"
    out["kind"] = kind
    for field, limit, message in (("address", 200, "地址最多 200 个字符"), ("hours", 100, "开放时间最多 100 个字符")):
        value = as_text(data.get(field))
        if len(value) > limit:
            errors[field] = message
        out[field] = value
    community = as_text(data.get("community"))
    if places and community and community not in places:
        errors["community"] = "本街道没有这个社区"
    out["community"] = community or None
    if errors:
        raise Invalid(errors)
    return out


def find_station(station_id) -> Station | None:
    return db.scalar(select(Station).where(Station.id == station_id))


def stations(active_only: bool = False) -> list[Station]:
    stmt = select(Station).order_by(Station.active.desc(), Station.kind, Station.name)
    if active_only:
        stmt = stmt.where(Station.active.is_(True))
    return list(db.scalars(stmt))


def save_station(tenant: Tenant, actor_id: int | None, data: dict, station: Station | None = None) -> Station:
    fields = check_station(data, places(tenant))
    if station is None:
        station = Station(tenant_id=tenant.id, **fields)
        db.add(station)
        db.flush()
        record(tenant.id, actor_id, "station.create", str(station.id), {"name": station.name})
    else:
        for name, value in fields.items():
            setattr(station, name, value)
        if "active" in data:
            station.active = as_text(data.get("active")).lower() not in ("", "0", "false", "off", "no")
        record(tenant.id, actor_id, "station.update", str(station.id), {"name": station.name})
    return station


def grids_of(user_id: int) -> list[str]:
    """The grids a 网格员 or 楼院长 is bound to: their rows on the street's roster, linked to their login."""
    return sorted(set(db.scalars(select(Person.grid).where(
        Person.user_id == user_id, Person.kind.in_(("grid_worker", "building_head")), Person.active.is_(True),
        Person.grid.is_not(None)))))


register_grids_of(grids_of)  # topics narrow a grid worker's lists and pages to these (topics/people.py)
