"""Evidence on a topic: what its step still asks for (the evidence kinds are procedures/evidence.py),
and the checked files that may serve as evidence.

Files sit above topics, so topics cannot look attachments up itself: the files module registers
how at import (`register_evidence_files`), as it registers the topic as an owner of files."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from ..procedures import evidence as kinds
from .intake import field_value
from .models import Topic, TopicEvent


def missing_evidence(topic: Topic, visit: list[TopicEvent]) -> list[str]:
    """What the topic's step still asks for, given its current visit: 'field:grid', 'photos:1' …"""
    return kinds.missing(topic.step["evidence"], visit, lambda name: field_value(topic, name))


def describe_missing(item: str) -> str:
    """'field:grid' → '网格', 'photos:1' → '照片 1 张': what a person reads on the topic page."""
    return kinds.describe(item)


class EvidenceFile(Protocol):
    """An uploaded file as evidence reads it."""

    id: object
    key: str
    kind: str  # "photo" or another kind of file
    status: str  # uploading | checking | ready | refused | deleted
    filename: str


@dataclass
class EvidenceFiles:
    """How attachments are found: by id (any status), and the ready one stored under a key."""

    by_id: Callable[[str], EvidenceFile | None] | None = None
    ready_by_key: Callable[[str], EvidenceFile | None] | None = None
    # Keeps bytes made here (a resident's drawn signature) as a file of the topic, to be checked
    # like an upload: (tenant, topic, actor id, attachment id, data, filename).
    keep: Callable | None = None

    def _lookup(self, name: str):
        found = getattr(self, name)
        if found is None:  # a wiring mistake, not a person's: say so instead of refusing the file
            raise RuntimeError("no evidence file lookup is registered: shangliang.files registers it at import")
        return found

    def get(self, attachment_id) -> EvidenceFile | None:
        return self._lookup("by_id")(attachment_id)

    def ready(self, key: str) -> EvidenceFile | None:
        return self._lookup("ready_by_key")(key)

    def store(self, tenant, topic, actor_id, attachment_id, data: bytes, filename: str) -> None:
        self._lookup("keep")(tenant, topic, actor_id, attachment_id, data, filename)


EVIDENCE_FILES = EvidenceFiles()


def register_evidence_files(by_id: Callable[[str], EvidenceFile | None],
                            ready_by_key: Callable[[str], EvidenceFile | None], keep: Callable) -> None:
    """Called once at import by the files module."""
    EVIDENCE_FILES.by_id, EVIDENCE_FILES.ready_by_key, EVIDENCE_FILES.keep = by_id, ready_by_key, keep
