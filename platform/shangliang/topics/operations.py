"""Topics moving through their procedure, under the names other modules use. The rules live in
the modules named for what they hold: intake.py (a topic comes in), log.py (its events),
actions.py (the registry of actions and `act`), evidence.py (what a step still asks for),
ratings.py (how a topic is rated), deadlines.py (time limits), people.py (roles, masking)."""
from __future__ import annotations

from ..accounts.models import ADMIN_ROLES
from .actions import ACTIONS, MAX_CLAIMANTS, MOVING, Action, act, available_actions, replay
from .deadlines import add_time_limit, main_path, procedure_deadline
from .evidence import describe_missing, missing_evidence
from .intake import PHONE_RE, TOPIC_COLUMNS, URGENCIES, create_topic, next_number, validate_intake
from .log import claimants, events, this_visit
from .models import Topic
from .people import acting_roles, handles, mask_phone
from .ratings import LABELS as RATING_LABELS, LEVELS as RATING_LEVELS, last_rating, rating_of

__all__ = ["ACTIONS", "ADMIN_ROLES", "MAX_CLAIMANTS", "MOVING", "PHONE_RE", "RATING_LABELS", "RATING_LEVELS",
           "TOPIC_COLUMNS", "URGENCIES", "Action", "Topic", "act", "acting_roles", "add_time_limit",
           "available_actions", "claimants", "create_topic", "describe_missing", "events", "handles", "last_rating",
           "main_path", "mask_phone", "missing_evidence", "next_number", "procedure_deadline", "rating_of",
           "replay", "this_visit", "validate_intake"]
