"""A new street's first steps (入门步骤), the checklist on its overview: each area registers what it
asks of a new street and how to tell it is done, next to its views (a registry: the console shows
them and imports none of those areas). A check answers from the tenant row (a bool) or with a
boolean SQL expression, an EXISTS on the area's own table (scoped to the tenant by the session);
the console asks every expression in one statement."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .permissions import PERMISSIONS


@dataclass(frozen=True)
class Check:
    endpoint: str  # the page where this part is done
    done: Callable[[Any], Any]  # tenant → bool, or a boolean SQL expression (EXISTS …)


@dataclass(frozen=True)
class FirstStep:
    key: str
    label: str
    hint: str
    order: int
    permission: str  # who may do it: the step is listed for them only
    checks: tuple[Check, ...]  # all must be done; the step links to the first that is not


STEPS: list[FirstStep] = []


def first_step(key: str, label: str, hint: str, order: int, permission: str, *checks: Check) -> FirstStep:
    """Register a first step; areas call this next to their views."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if not checks:
        raise ValueError("a first step needs at least one check")
    made = FirstStep(key, label, hint, order, permission, tuple(checks))
    STEPS[:] = sorted([s for s in STEPS if s.key != key] + [made], key=lambda s: s.order)
    return made
