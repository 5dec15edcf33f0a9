"""The procedure file format (工作法 as data) and its checks.

A procedure is a YAML document: metadata and an ordered list of steps. marshmallow
checks the shape (errors name the step and the field); `problems()` checks the graph
(every step reachable, a closure reachable from every step, transitions to known steps,
known roles). `tenants/procedures/README.md` documents the format for people.
"""
from __future__ import annotations

from collections import deque

import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from . import evaluation
from .evidence import EVIDENCE, FIELD_LABELS, FIELDS, schema_fields
from .transitions import transition_kinds

PHASES = ("intake", "triage", "deliberation", "execution", "evaluation", "closure")
PHASE_LABELS = {"intake": "收集", "triage": "受理", "deliberation": "协商", "execution": "办理", "evaluation": "评价",
                "closure": "办结"}
NOTICE_PHASES = ("intake", "triage", "deliberation")  # 议题公示 comes before the consultation, not after
# Who may act at a step: the membership roles, plus the resident (public portal, 12345 rating).
ACTOR_ROLES = ("county_admin", "street_admin", "staff", "member", "department", "grid_worker", "building_head",
               "resident")
__all__ = ["ACTOR_ROLES", "FIELDS", "FIELD_LABELS", "PHASES", "PHASE_LABELS", "ProcedureInvalid", "dump", "load",
           "parse", "problems"]
KEY = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="须为小写字母开头的 1–40 位小写字母、数字或下划线")


class Names(Schema):
    zh = fields.String(required=True, validate=validate.Length(min=1, max=40))
    en = fields.String(required=True, validate=validate.Length(min=1, max=80))


class TimeLimit(Schema):
    hours = fields.Integer(validate=validate.Range(min=1, max=24 * 365))
    working_days = fields.Integer(validate=validate.Range(min=1, max=365))
    # The article gives no limit: this one is the template's default, shown as such so that a
    # street knows it is theirs to set. Editing the limit makes it the street's own.
    default = fields.Boolean()

    @validates_schema
    def one_unit(self, data, **_kw):
        if len({"hours", "working_days"} & set(data)) != 1:
            raise ValidationError("须且只能填写 hours 或 working_days 之一", "hours")


# What must be on the topic before it may leave the step: one field per evidence kind (evidence.py).
Evidence = Schema.from_dict(schema_fields(), name="Evidence")


def _only(flag: str) -> str:
    """The kinds that may carry a setting, as a refusal names them: '复盘（reopen）'."""
    return "、".join(f"{k.label}（{k.kind}）" for k in transition_kinds().values() if getattr(k.move, flag))


class Transition(Schema):
    kind = fields.String(required=True)  # one of the registered transition kinds (transitions.py)
    to = fields.String(validate=KEY)  # a step key; escalate without `to` goes to the parent level
    max_rounds = fields.Integer(validate=validate.Range(min=1, max=20))  # reopen only
    # escalate only: up to the street's leadership (a community-level procedure) or to the county
    level = fields.String(validate=validate.OneOf(("street", "county")))
    name = fields.Nested(Names)  # how the action is labelled, if not the default

    @validates("kind")
    def known(self, value, **_kw):
        validate.OneOf(tuple(transition_kinds()))(value)

    @validates_schema
    def shape(self, data, **_kw):
        kind = transition_kinds().get(data.get("kind"))
        if kind is None:
            return
        move = kind.move
        if move.to and not data.get("to"):
            raise ValidationError(f"{kind.kind} 须指明目标步骤", "to")
        if move.rounds and not data.get("max_rounds"):
            raise ValidationError(f"{kind.label}须限定最多轮数", "max_rounds")
        if not move.rounds and "max_rounds" in data:
            raise ValidationError(f"只有{_only('rounds')}可以限定轮数", "max_rounds")
        if move.level is None and "level" in data:
            raise ValidationError(f"只有{_only('level')}可以指定层级", "level")


class Step(Schema):
    key = fields.String(required=True, validate=KEY)
    name = fields.Nested(Names, required=True)
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    phase = fields.String(required=True, validate=validate.OneOf(PHASES))
    roles = fields.List(fields.String(validate=validate.OneOf(ACTOR_ROLES)), required=True,
                        validate=validate.Length(min=1))
    evidence = fields.Nested(Evidence, load_default=lambda: Evidence().load({}))
    time_limit = fields.Nested(TimeLimit)
    transitions = fields.List(fields.Nested(Transition), load_default=list)
    evaluation = fields.Nested(evaluation.Evaluation)  # who evaluates here, and on what (evaluation.py)
    # 议题公示 / 公开征题: a topic at this step may be put on public notice before it is consulted
    # (topics/notice.py). Absent unless given, so that existing definitions read as they were written.
    notice = fields.Boolean(truthy={True}, falsy={False}, error_messages={"invalid": "须为 true 或 false"})


class Procedure(Schema):
    key = fields.String(required=True, validate=KEY)
    name = fields.Nested(Names, required=True)
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    source = fields.String(load_default="", validate=validate.Length(max=200))
    brand = fields.String(load_default="", validate=validate.Length(max=40))
    steps = fields.List(fields.Nested(Step), required=True, validate=validate.Length(min=2, max=30))


class ProcedureInvalid(Exception):
    """Refused, with every problem as (where, message): where is e.g. 'steps[jiedan].time_limit'."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{w}: {m}" for w, m in problems))
        self.problems = problems


def _flatten(messages, raw_steps, path="") -> list[tuple[str, str]]:
    out = []
    if isinstance(messages, dict):
        for k, v in messages.items():
            if path == "steps" and isinstance(k, int):
                key = raw_steps[k].get("key") if k < len(raw_steps) and isinstance(raw_steps[k], dict) else None
                where = f"steps[{key or k}]"
            elif path.endswith("transitions") and isinstance(k, int):
                where = f"{path}[{k}]"
            else:
                where = f"{path}.{k}" if path else str(k)
            out += _flatten(v, raw_steps, where)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out += [(path.replace(".fields_", ".fields"), m) for m in messages]
    else:
        for i, m in enumerate(messages):
            out += _flatten(m, raw_steps, f"{path}[{i}]")
    return out


def parse(text: str) -> dict:
    """YAML text → a checked procedure definition, or ProcedureInvalid listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "yaml"
        raise ProcedureInvalid([(where, f"不是有效的 YAML：{getattr(exc, 'problem', exc)}")]) from None
    return load(raw)


def load(raw) -> dict:
    if not isinstance(raw, dict):
        raise ProcedureInvalid([("procedure", "须为一个映射（key、name、steps …）")])
    steps = raw.get("steps") if isinstance(raw.get("steps"), list) else []
    try:
        data = Procedure().load(raw)
    except ValidationError as err:
        raise ProcedureInvalid(_flatten(err.messages, steps)) from None
    found = problems(data)
    if found:
        raise ProcedureInvalid(found)
    return dump(data)


def dump(data: dict) -> dict:
    """Plain JSON-able definition, with evidence's `fields` under its real name."""
    out = dict(data)
    out["steps"] = []
    for step in data["steps"]:
        s = dict(step)
        ev = dict(s["evidence"])
        ev["fields"] = ev.pop("fields_", [])
        s["evidence"] = ev
        out["steps"].append(s)
    return out


def problems(data: dict) -> list[tuple[str, str]]:
    """Graph checks on a shape-valid procedure. Empty when it may be published."""
    steps = data["steps"]
    keys = [s["key"] for s in steps]
    by_key = {s["key"]: s for s in steps}
    found: list[tuple[str, str]] = []
    for k in {k for k in keys if keys.count(k) > 1}:
        found.append((f"steps[{k}]", "步骤标识重复"))
    if steps[0]["phase"] != "intake":
        found.append((f"steps[{steps[0]['key']}].phase", "第一步须属于收集（intake）阶段"))
    closures = {s["key"] for s in steps if s["phase"] == "closure"}
    if not closures:
        found.append(("steps", "没有办结（closure）阶段的步骤"))
    edges: dict[str, set[str]] = {k: set() for k in by_key}
    kinds = transition_kinds()
    for s in steps:
        where = f"steps[{s['key']}]"
        for i, t in enumerate(s["transitions"]):
            target = t.get("to")
            if target is not None and target not in by_key:
                found.append((f"{where}.transitions[{i}].to", f"没有步骤 {target}"))
            elif target is not None:
                edges[s["key"]].add(target)
            found += [(f"{where}.transitions[{i}]{spot}", message)
                      for spot, message in _broken(s, t, by_key.get(target))]
        stuck = [kinds[t["kind"]] for t in s["transitions"] if not kinds[t["kind"]].move.from_closure]
        if s["phase"] == "closure" and stuck:
            found.append((f"{where}.transitions", f"{PHASE_LABELS['closure']}步骤不能再{stuck[0].label}"))
        if s["phase"] != "closure" and not s["transitions"]:
            found.append((f"{where}.transitions", "非办结步骤须至少有一条去向"))
        if s.get("notice") and s["phase"] not in NOTICE_PHASES:
            found.append((f"{where}.notice", "议题公示须在协商之前：只能设在收集、受理或协商阶段的步骤"))
        found += evaluation.problems(s)
    reachable = _reach(steps[0]["key"], edges)
    for k in keys:
        if k not in reachable:
            found.append((f"steps[{k}]", "从第一步无法到达此步骤"))
        elif closures and not (_reach(k, edges) & closures):
            found.append((f"steps[{k}]", "从此步骤无法到达办结"))
    return found


def _broken(step: dict, t: dict, target: dict | None) -> list[tuple[str, str]]:
    """The rules a transition's kind sets for where it stands and where it goes."""
    kind = transition_kinds()[t["kind"]]
    out = []
    if kind.move.needs and not step["evidence"][kind.move.needs]:
        out.append(("", f"{kind.label}只能出现在需要{EVIDENCE[kind.move.needs].label}的步骤"))
    if kind.move.into and target is not None and target["phase"] != kind.move.into:
        out.append((".to", f"{kind.label}须转到{PHASE_LABELS[kind.move.into]}阶段的步骤"))
    return out


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
