"""Who a topic's people are to it: the roles one acts in, and whether one may see the resident."""
from __future__ import annotations

from ..accounts.models import ADMIN_ROLES
from .log import claimants, events
from .models import Topic, TopicEvent


def acting_roles(roles: set[str]) -> set[str]:
    """Administrators may do whatever the street's staff may do (and act as street admins)."""
    return set(roles) | ({"staff", "street_admin"} if roles & ADMIN_ROLES else set())


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
    return user_id in claimants(events(topic) if log is None else log)
