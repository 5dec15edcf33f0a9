"""What attachments may belong to: a registry of owner kinds, filled by the modules that define
them (files/topic_files.py for the topic, meetings/files.py for meetings and work items), so that
files needs no branch per kind and never imports a module at its own level."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..core.errors import Refused


@dataclass(frozen=True)
class OwnerKind:
    """How to find an owner by id, who may see its files, who may add to them."""

    model: type  # the owner's model; its rows are found by `id`, in the current tenant
    label: str  # what it is called on the files page (translated there)
    view: str  # permission to see the owner, and so its files
    upload: str  # permission to add files to it (besides files.upload)
    # The owner's own rule once the permissions are there (a topic takes evidence only at a step
    # where the person may attach): (row, roles, user_id) -> bool.
    admits: Callable[[Any, set, int | None], bool] | None = None
    # The person whose own row it is may add files without `upload` (a work item's owner reports
    # what was done): (row, user_id) -> bool.
    held_by: Callable[[Any, int | None], bool] | None = None
    endpoint: str | None = None  # the owner's page, by its `number`
    # Someone with no role in this tenant whom the owner itself lets in (a county department's
    # contact on the transfer a street sent it): they see its files, and add to them where
    # `admits` says so. (row, user_id) -> bool.
    guest: Callable[[Any, int | None], bool] | None = None
    # Files kept as they are once the owner is done with them (the evidence an answered transfer's
    # reply rests on): nobody deletes them any more. (row) -> bool.
    sealed: Callable[[Any], bool] | None = None
    # What the owner does with a file uploaded to it as evidence once the check has passed (a topic
    # records it at its step), in the check's transaction: (tenant, owner row, attachment) -> None.
    evidence: Callable[[Any, Any, Any], None] | None = None
    # Whether a person uploading now may ask for that, and whether the owner asks for it (the
    # box is shown, and ticked): (row, roles, user_id) -> (offered, suggested).
    offers_evidence: Callable[[Any, set, int | None], tuple[bool, bool]] | None = None


OWNERS: dict[str, OwnerKind] = {}


def register_owner(kind: str, owner: OwnerKind) -> None:
    """Called once at import by the module that defines the owner; a second kind is one more call."""
    OWNERS[kind] = owner


def owner_kind(kind: str) -> OwnerKind:
    """The registered kind, or Refused with 404 semantics (an unknown kind is no owner at all)."""
    if kind not in OWNERS:
        raise Refused("未知的归属类型", "owner_kind", "not_found")
    return OWNERS[kind]
