"""Meetings and their work items as owners of files (photos of the meeting, what was done).

Imported once by the app factory: files and meetings stand side by side, so files cannot import
meetings; meetings tells files about itself instead."""
from __future__ import annotations

from ..files.owners import OwnerKind, register_owner
from .models import Meeting, WorkItem
from .operations import owns

register_owner("meeting", OwnerKind(Meeting, "议事会", "meetings.view", "meetings.manage", endpoint="meetings.show"))
register_owner("work_item", OwnerKind(WorkItem, "工作清单", "meetings.view", "meetings.manage", held_by=owns))
