"""Who a topic's people are to it: the roles one acts in, and whether one may see the resident."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import or_

from ..accounts.models import ADMIN_ROLES, GRID_ROLES
from .log import claimants, events
from .models import Topic, TopicEvent


def acting_roles(roles: set[str]) -> set[str]:
    """Administrators may do whatever the street's staff may do (and act as street admins)."""
    return set(roles) | ({"staff", "street_admin"} if roles & ADMIN_ROLES else set())


_grids_of: Callable[[int], list[str]] | None = None


def register_grids_of(finder: Callable[[int], list[str]]) -> None:
    """The roster (above topics) registers where a person's grids come from: `finder(user_id)`."""
    global _grids_of
    _grids_of = finder


def grid_only(roles: set[str]) -> bool:
    """网格员 and 楼院长 with no other role: they see the topics of their grids, and those they raised."""
    return bool(roles) and set(roles) <= GRID_ROLES


def grids_of(user_id: int) -> list[str]:
    if _grids_of is None:  # fail closed: a grid worker's view cannot be narrowed, so nothing is shown
        raise RuntimeError("no grid finder is registered: shangliang.roster registers it at import")
    return _grids_of(user_id)


def within_reach(stmt, roles: set[str], user_id: int | None):
    """A topic list narrowed to what this person may follow: for a grid worker, their grids'."""
    if not grid_only(roles):
        return stmt
    return stmt.where(or_(Topic.grid.in_(grids_of(user_id)), Topic.created_by == user_id))


def reaches(topic: Topic, roles: set[str], user_id: int | None) -> bool:
    return not grid_only(roles) or topic.created_by == user_id or topic.grid in grids_of(user_id)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "")
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


def handles(topic: Topic, roles: set[str], user_id: int | None, log: list[TopicEvent] | None = None) -> bool:
    """Whether this person works the topic, and so may see the resident's name and phone.
    Staff and administrators always do; a member only once they took it up (the log is read then)."""
    if "staff" in acting_roles(roles):
        return True
    if user_id is None:
        return False
    if grid_only(roles):  # the resident told them: their own topics only
        return topic.created_by == user_id
    return user_id in claimants(events(topic) if log is None else log)
