"""Structured edits to a procedure definition, for the form editor: rename, time limits, roles,
议题公示 (a step's `notice`), remove a step, insert a step. Each returns a new definition;
publishing still goes through `schema.parse`, so an edit that breaks the procedure is refused with
its problems named."""
from __future__ import annotations

import copy

import yaml

from ..core.errors import Refused
from .evidence import nothing_asked
from .schema import ACTOR_ROLES, PHASES


def _step(defn: dict, key: str) -> dict:
    for s in defn["steps"]:
        if s["key"] == key:
            return s
    raise Refused(f"没有步骤 {key}", "step", "validation_error")


def update_step(defn: dict, key: str, *, zh: str, en: str, amount: str, unit: str, roles: list[str],
                notice: bool | None = None) -> dict:
    """`notice`: whether a topic at the step may be put on public notice (None: as it was)."""
    out = copy.deepcopy(defn)
    step = _step(out, key)
    zh, en = (zh or "").strip(), (en or "").strip()
    if not zh or not en:
        raise Refused("步骤须有中英文名称", f"{key}.name", "validation_error")
    step["name"] = {"zh": zh[:40], "en": en[:80]}
    if unit == "none":
        step.pop("time_limit", None)
    else:
        if unit not in ("hours", "working_days") or not str(amount).isdigit() or int(amount) < 1:
            raise Refused("时限须为正整数，单位为小时或工作日", f"{key}.time_limit", "validation_error")
        limit = {unit: int(amount)}
        # An unchanged default stays marked as one; a limit the street sets is its own.
        old = step.get("time_limit") or {}
        step["time_limit"] = {**limit, "default": True} if old.get("default") and old.get(unit) == int(amount) else limit
    if not roles or any(r not in ACTOR_ROLES for r in roles):
        raise Refused("至少选择一个可操作角色", f"{key}.roles", "validation_error")
    step["roles"] = list(roles)
    if notice is not None:
        if notice:
            step["notice"] = True
        else:  # written only where it is on, as the files do
            step.pop("notice", None)
    return out


def remove_step(defn: dict, key: str) -> dict:
    """Paths into the removed step go on to where it led (its first advance)."""
    out = copy.deepcopy(defn)
    gone = _step(out, key)
    onward = next((t["to"] for t in gone["transitions"] if t["kind"] == "advance"), None)
    out["steps"] = [s for s in out["steps"] if s["key"] != key]
    for s in out["steps"]:
        kept = []
        for t in s["transitions"]:
            if t.get("to") == key:
                if onward is None or onward == s["key"]:
                    continue
                t = {**t, "to": onward}
            kept.append(t)
        s["transitions"] = kept
    return out


def insert_step(defn: dict, after: str, *, key: str, zh: str, en: str, phase: str, roles: list[str]) -> dict:
    """A new step right after `after`: `after` now advances to it, and it advances where `after` did."""
    out = copy.deepcopy(defn)
    prev = _step(out, after)
    if any(s["key"] == key for s in out["steps"]):
        raise Refused("步骤标识重复", "new.key", "validation_error")
    if phase not in PHASES:
        raise Refused("未知阶段", "new.phase", "validation_error")
    targets = [t["to"] for t in prev["transitions"] if t["kind"] == "advance"]
    prev["transitions"] = [t for t in prev["transitions"] if t["kind"] != "advance"] + [{"kind": "advance", "to": key}]
    new = {"key": key, "name": {"zh": (zh or "").strip(), "en": (en or "").strip()}, "description": "",
           "phase": phase, "roles": list(roles) or ["staff"], "evidence": nothing_asked(),
           "transitions": [{"kind": "advance", "to": t} for t in targets]}
    index = out["steps"].index(prev)
    out["steps"].insert(index + 1, new)
    return out


class _Dumper(yaml.SafeDumper):
    """Short lists and small mappings of plain values on one line (`roles: [staff, member]`,
    `time_limit: {working_days: 3}`), as the built-in files are written; the rest in blocks."""


def _plain(value) -> bool:
    return not isinstance(value, (dict, list))


_Dumper.add_representer(list, lambda d, data: d.represent_sequence(
    "tag:yaml.org,2002:seq", data, flow_style=all(_plain(x) for x in data)))
_Dumper.add_representer(dict, lambda d, data: d.represent_mapping(
    "tag:yaml.org,2002:map", list(data.items()),
    flow_style=len(data) <= 4 and all(_plain(v) and len(str(v)) <= 30 for v in data.values())))


def to_yaml(defn: dict) -> str:
    return yaml.dump(defn, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
