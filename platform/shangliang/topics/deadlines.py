"""When steps and topics fall due: a step's time limit, and the procedure's main path."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..core.errors import Refused
from ..procedures.transitions import transition_kinds


def add_time_limit(start: datetime, limit: dict | None, tz: str) -> datetime | None:
    """When a step entered at `start` falls due. Working days skip Saturdays and Sundays in
    the tenant's time zone (public holidays are not known here)."""
    if not limit:
        return None
    if "hours" in limit:
        return start + timedelta(hours=limit["hours"])
    local = start.astimezone(ZoneInfo(tz))
    days = limit["working_days"]
    while days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    return local.astimezone(start.tzinfo)


def main_path(steps: list[dict]) -> list[dict]:
    """The steps a topic passes when nothing goes wrong: from the first, along each step's first
    main transition (advance; failing that, its first transition with a target), up to a closure step."""
    kinds = transition_kinds()
    by_key, path, step = {s["key"]: s for s in steps}, [], steps[0]
    while step is not None and step not in path:
        path.append(step)
        if step["phase"] == "closure":
            break
        moves = [t for t in step["transitions"] if t.get("to")]
        nxt = next((t for t in moves if kinds[t["kind"]].move.main), moves[0] if moves else None)
        step = by_key.get(nxt["to"]) if nxt else None
    return path


def procedure_deadline(steps: list[dict], start: datetime, tz: str) -> datetime | None:
    """When a topic entering at `start` should be done: its main path's time limits one after
    another (steps without a limit add nothing). None when the procedure sets no limit at all."""
    limits = [s["time_limit"] for s in main_path(steps) if s.get("time_limit")]
    if not limits:
        return None
    for limit in limits:
        start = add_time_limit(start, limit, tz)
    return start


def end_of_day_named(raw, tz: str, now: datetime, field: str = "due_on") -> datetime | None:
    """A due date a form names (YYYY-MM-DD): the end of that day where the street is; empty: None.
    A day already over is refused, naming the field."""
    raw = str(raw or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Refused("请填写有效的日期，例如 2026-06-30", field, "validation_error") from None
    end = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(tz))
    if end <= now:
        raise Refused("期限不能早于今天", field, "validation_error")
    return end
