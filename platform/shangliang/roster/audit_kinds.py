"""The roster's entries in the audit log, in words (audit/kinds.py): people, stations, duty and
the grid pairs. A person is named by a lookup (the entry keeps only the id)."""
from __future__ import annotations

import uuid

from sqlalchemy import String, cast, select

from ..audit.kinds import plain, register, register_lookup
from .models import Person


def _people(keys: list[str]):
    ids = []
    for k in keys:
        try:
            ids.append(uuid.UUID(k))
        except ValueError:
            continue
    return select(cast(Person.id, String), Person.name).where(Person.id.in_(ids))


def _person(target, _detail):
    return "roster.edit_person", {"person_id": target}


def _station(target, _detail):
    return "roster.edit_station", {"station_id": target}


def _import(target, _detail):
    return "roster.import_report", {"import_id": target}


def _file(_target, detail):
    return detail.get("filename")


def _shift(_target, detail):
    day = detail.get("day") or ", ".join((detail.get("days") or [])[:2])
    people = detail.get("to") or "、".join(p for p in detail.get("people") or [] if plain(str(p)))
    return " ".join(x for x in (day, people) if x) or None


def _pair(_target, detail):
    return " ".join(x for x in (detail.get("community"), detail.get("grid")) if x) or None


for code, zh, en in (("roster.person.create", "添加名册人员", "Person added to the roster"),
                     ("roster.person.update", "修改名册人员", "Roster person changed"),
                     ("roster.person.activate", "启用名册人员", "Roster person reactivated"),
                     ("roster.person.deactivate", "停用名册人员", "Roster person deactivated")):
    register(code, zh, en, lookup="person", link=_person)
register_lookup("person", _people)
register("station.create", "新建站点", "Station created", link=_station)
register("station.update", "修改站点", "Station changed", link=_station)
register("roster.import.request", "导入名册", "Roster import started", "export", name=_file, link=_import)
register("roster.import.done", "名册导入完成", "Roster import done", "system", link=_import)
register("roster.import.failed", "名册导入失败", "Roster import failed", "system", link=_import)
register("duty.assign", "排班", "Duty assigned", name=_shift, link=_station)
register("duty.swap", "调换轮值", "Duty swapped", name=_shift)
register("duty.hand_over", "轮值转交", "Duty handed over", name=_shift)
register("duty.mark", "登记轮值到岗情况", "Duty attendance marked", name=_shift)
register("duty.remove", "取消轮值", "Duty removed", name=_shift)
register("roster.pair.add", "委员联系网格", "Member paired with a grid", lookup="person", link=_person)
register("roster.pair.remove", "取消委员联系网格", "Member's grid pair removed", lookup="person", link=_person)
register("roster.pair.end", "委员联系网格结束", "Member's grid pair ended", lookup="person", link=_person)
