"""The form editor: what a street administrator typed into the procedure's form, read field by field.

Every field that can be applied is; one that cannot is named in words with its step
("第 2 步「筛选议题」：请至少选择一个可办理的角色") and the page shows back what was typed, so
nothing is lost. The procedure checks (`schema.load`) then run on the result, and their problems
are worded the same way (`worded`). Each part of a step is read by one reader in `READERS`."""
from __future__ import annotations

import copy
import re
from typing import Callable

from ..i18n import _
from .evaluation import parties
from .evidence import EVIDENCE, FIELDS
from .schema import ACTOR_ROLES, PHASES
from .transitions import transition_kinds

Fail = Callable[[str, str], None]  # (the field, under the step; the problem in words)
# How each part of a step is called on the form, for problems the procedure checks find.
ASPECTS = {"name": "名称", "description": "说明", "phase": "阶段", "roles": "谁来办", "evidence": "完成条件",
           "time_limit": "时限", "transitions": "去向", "evaluation": "评价方", "notice": "议题公示"}
UNITS = {"working_days": 365, "hours": 24 * 365}
FIELD_OF = {"name": "zh", "time_limit": "amount", "": "zh"}  # where on the form a part's problem is shown


def title(index: int, step: dict) -> str:
    return _("第 {n} 步「{name}」", n=index + 1, name=step["name"]["zh"])


def _int(text: str, low: int, high: int) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and low <= int(text) <= high else None


def _ordered(old: list[str], chosen: list[str], known) -> list[str]:
    """The ticked values, those already there first in their order: ticking nothing new changes nothing."""
    chosen = [v for v in chosen if v in known]
    return [v for v in old if v in chosen] + [v for v in dict.fromkeys(chosen) if v not in old]


def _names(step: dict, form, k: str, fail: Fail, steps: list[dict]) -> None:
    zh, en = form.get(f"{k}.zh", "").strip(), form.get(f"{k}.en", "").strip()
    if not zh:
        fail("zh", "请填写步骤的中文名称")
    elif len(zh) > 40:
        fail("zh", "中文名称最多 40 个字")
    if len(en) > 80:
        fail("en", "英文名称最多 80 个字符")
    if zh and len(zh) <= 40 and len(en) <= 80:
        step["name"] = {"zh": zh, "en": en or step["name"].get("en") or zh}
    description = form.get(f"{k}.description")
    if description is not None:
        if len(description) > 1000:
            fail("description", "说明最多 1000 个字")
        else:
            step["description"] = description.strip()


def _phase(step: dict, form, k: str, fail: Fail, steps: list[dict]) -> None:
    phase = form.get(f"{k}.phase", step["phase"])
    if phase not in PHASES:
        fail("phase", "请选择本步骤所属的阶段")
    else:
        step["phase"] = phase


def _roles(step: dict, form, k: str, fail: Fail, steps: list[dict]) -> None:
    roles = _ordered(step["roles"], form.getlist(f"{k}.roles"), ACTOR_ROLES)
    if not roles:
        fail("roles", "请至少选择一个可办理的角色")
    else:
        step["roles"] = roles


def _time_limit(step: dict, form, k: str, fail: Fail, steps: list[dict]) -> None:
    unit, amount = form.get(f"{k}.unit", "none"), form.get(f"{k}.amount", "")
    if unit == "none":
        step.pop("time_limit", None)
        return
    number = _int(amount, 1, UNITS[unit]) if unit in UNITS else None
    if number is None:
        fail("amount", "时限请填写 1–365 的工作日数或 1–8760 的小时数，不设时限请选“不限”")
        return
    old = step.get("time_limit") or {}
    # An unchanged default stays marked as one; a limit the street sets is its own.
    step["time_limit"] = {unit: number, "default": True} if old.get("default") and old.get(unit) == number \
        else {unit: number}


def _notice(step: dict, form, k: str, fail: Fail, steps: list[dict]) -> None:
    if form.get(f"{k}.notice"):
        step["notice"] = True
    else:  # written only where it is on, as the files do
        step.pop("notice", None)


def _evidence(step: dict, form, k: str, fail: Fail, steps: list[dict]) -> None:
    if f"{k}.evidence" not in form:  # the form sends this marker with the step's conditions
        return
    for kind in EVIDENCE.values():
        name = f"{k}.evidence.{kind.key}"
        if kind.widget == "fields":
            step["evidence"][kind.key] = _ordered(step["evidence"][kind.key], form.getlist(name), FIELDS)
        elif kind.widget == "count":
            number = _int(form.get(name, "0") or "0", 0, 50)
            if number is None:
                fail(f"evidence.{kind.key}", _("{label}数量请填写 0–50 的整数", label=_(kind.label)))
            else:
                step["evidence"][kind.key] = number
        else:
            step["evidence"][kind.key] = bool(form.get(name))


def _transitions(step: dict, form, k: str, fail: Fail, steps: list[dict]) -> None:
    if f"{k}.t.count" not in form:
        return
    kinds, keys = transition_kinds(), {s["key"] for s in steps}
    old, out = step["transitions"], []
    for i in range(_int(form.get(f"{k}.t.count"), 0, 40) or 0):
        kind = kinds.get(form.get(f"{k}.t{i}.kind", ""))
        if kind is None:  # 无 / 删除: the row is left out
            continue
        label, row = _(kind.label), {"kind": kind.kind}
        before = old[i] if i < len(old) and old[i]["kind"] == kind.kind else {}
        row.update({n: before[n] for n in ("name",) if n in before})
        to = form.get(f"{k}.t{i}.to", "")
        if to in keys:
            row["to"] = to
        elif kind.move.to:
            fail(f"t{i}.to", _("第 {n} 条去向（{kind}）请选择转到哪一步", n=i + 1, kind=label))
        if kind.move.rounds:
            rounds = _int(form.get(f"{k}.t{i}.rounds", ""), 1, 20)
            if rounds is None:
                fail(f"t{i}.rounds", _("第 {n} 条去向（{kind}）请填写最多轮数（1–20）", n=i + 1, kind=label))
            row["max_rounds"] = rounds or 1
        if kind.move.level is not None and form.get(f"{k}.t{i}.level") in ("street", "county"):
            row["level"] = form.get(f"{k}.t{i}.level")
        out.append(row)
    step["transitions"] = out


def _evaluation(step: dict, form, k: str, fail: Fail, steps: list[dict]) -> None:
    if not parties(step) or f"{k}.ev.decides" not in form:
        return
    ev = step["evaluation"]
    for i, party in enumerate(ev["parties"]):
        zh = form.get(f"{k}.ev.p{i}.zh", "").strip()
        if not zh or len(zh) > 20:
            fail(f"ev.p{i}.zh", _("评价方 {n} 的名称请填写 1–20 个字", n=i + 1))
        else:
            party["name"] = {**party["name"], "zh": zh}
        roles = _ordered(party["roles"], form.getlist(f"{k}.ev.p{i}.roles"), ACTOR_ROLES)
        if not roles:
            fail(f"ev.p{i}.roles", _("请为评价方「{name}」至少选择一个角色", name=zh or party["name"]["zh"]))
        else:
            party["roles"] = roles
    decides = form.get(f"{k}.ev.decides")
    if decides in {p["key"] for p in ev["parties"]}:
        ev["decides"] = decides
    else:
        fail("ev.decides", "请选择由哪一方的评价决定是否复盘")


READERS = (_names, _phase, _roles, _time_limit, _notice, _evidence, _transitions, _evaluation)


def read(definition: dict, form) -> tuple[dict, dict[str, str]]:
    """The definition with what the form says of each step it sends; and the fields it could not
    take, `{form field: problem in words}`."""
    out = copy.deepcopy(definition)
    errors: dict[str, str] = {}
    for index, step in enumerate(out["steps"]):
        k = step["key"]
        if f"{k}.zh" not in form:  # the form does not show this step (a text-only post)
            continue
        typed = form.get(f"{k}.zh", "").strip()
        where = title(index, {"name": {"zh": typed or step["name"]["zh"]}})

        def fail(field: str, problem: str, k=k, where=where) -> None:
            errors.setdefault(f"{k}.{field}", _("{where}：{what}", where=where, what=_(problem)))

        for reader in READERS:
            reader(step, form, k, fail, out["steps"])
    return out, errors


PATH = re.compile(r"^steps\[(?P<key>[^\]]+)\](?:\.(?P<aspect>[a-z_]+))?(?:\[(?P<i>\d+)\])?")
IDENTIFIER = re.compile(r"（[A-Za-z_.]+）")  # '收集（intake）': the file's word, not the form's


def worded(problems: list[tuple[str, str]], definition: dict) -> dict[str, str]:
    """The procedure checks' problems (`steps[pingdan].transitions[1].max_rounds`, …) as the form
    names them: the step by number and name, the part of it in words."""
    index = {s["key"]: (i, s) for i, s in enumerate(definition["steps"])}
    out: dict[str, str] = {}
    for where, message in problems:
        message = IDENTIFIER.sub("", message)
        found = PATH.match(where)
        if found and found["key"] in index:
            i, step = index[found["key"]]
            aspect = found["aspect"] or ""
            part = _(ASPECTS[aspect]) if aspect in ASPECTS else ""
            if aspect == "transitions" and found["i"] is not None:
                part = _("第 {n} 条去向", n=int(found["i"]) + 1)
            said = _("{where}：{what}", where=title(i, step), what=f"{part}：{message}" if part else message)
            field = f"{step['key']}.t{found['i']}.kind" if aspect == "transitions" and found["i"] else \
                f"{step['key']}.{FIELD_OF.get(aspect, aspect)}"
        else:
            said, field = _("{where}：{what}", where=_("整个工作法"), what=message), "procedure"
        out[field] = f"{out[field]}；{said}" if field in out else said
    return out


def new_key(definition: dict) -> str:
    """A key for an inserted step: the form never asks a person for one."""
    keys, n = {s["key"] for s in definition["steps"]}, len(definition["steps"]) + 1
    while f"step{n}" in keys:
        n += 1
    return f"step{n}"
