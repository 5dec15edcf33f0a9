"""A new tenant's 标识 suggested from its name: 燕山街道 → yanshan, 狼山镇街道 → langshan, 历下区 → lixia.
The county's administrator may change it; the suggestion only spares typing pinyin by hand."""
from __future__ import annotations

import re

from sqlalchemy import or_, select

from ..core.db import db
from .models import Tenant

# Generic endings a name carries that say what kind of place it is, not which: dropped while
# something of at least two characters remains (狼山镇街道 → 狼山, but 社区 alone stays 社区).
SUFFIXES = ("街道办事处", "街道", "社区", "镇", "乡", "区", "县")
FALLBACK = {"street": "jiedao", "county": "quxian"}
MAX_LENGTH, MIN_LENGTH = 40, 3
RESERVED = {"admin", "api", "static", "storage", "login", "logout", "platform-api", "healthz", "t", "www"}


def core_name(name: str) -> str:
    name = re.sub(r"\s+", "", name or "")
    stripped = True
    while stripped:
        stripped = False
        for suffix in SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                name, stripped = name[: -len(suffix)], True
                break
    return name


def base_slug(name: str, kind: str = "street") -> str:
    """The name in pinyin, lowercase ASCII letters, digits and single hyphens, starting with a
    letter, short enough to take a `-2` and still fit the 标识 rules."""
    # Loaded on first use: pypinyin's dictionaries take some 55 MB, which every web worker would
    # carry from start-up for what a county administrator asks once per new street.
    from pypinyin import lazy_pinyin

    text = "".join(lazy_pinyin(core_name(name))).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)  # a 标识 starts with a letter
    slug = slug[: MAX_LENGTH - 4].rstrip("-")
    fallback = FALLBACK.get(kind, "jiedao")
    if not slug:
        return fallback
    return slug if len(slug) >= MIN_LENGTH else f"{slug}-{fallback}"


def suggest_slug(name: str, kind: str = "street") -> str:
    """The base slug, or with `-2`, `-3` … when taken by any tenant (archived ones keep theirs)
    or reserved. One query, whatever the number of tenants."""
    base = base_slug(name, kind)
    taken = set(db.scalars(select(Tenant.slug).where(or_(Tenant.slug == base, Tenant.slug.like(f"{base}-%")))))
    taken |= RESERVED
    n, slug = 1, base
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug
