"""What each kind of audited action is, in words: a registry that every area fills next to its
own code (the audit area sits below them and imports none of them).

An action code (`meeting.create`) is given what people read instead: the action in Chinese and
English, its category (a change, a read of other units' data, a sign-in, an export, the system's
own work), and how to name the object it acted on, with a link where the object has a page. A
cross-tenant read is told by its reason (`register_reason`). The log itself keeps the codes."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

CATEGORIES = {"change": ("修改", "Changes"), "read": ("查看其他单位的数据", "Reads of other units' data"),
              "signin": ("登录与授权", "Sign-in and access"), "export": ("导出与导入", "Exports and imports"),
              "system": ("系统自动", "Done by the system")}
# A target that is an identifier is never shown as it stands: a UUID, `kind:id`, a slug or a code.
CODE_LIKE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|^[\w.-]+:|^[a-z0-9_.-]+$",
                       re.I)

Namer = Callable[[str | None, dict], str | None]
Linker = Callable[[str | None, dict], tuple[str, dict] | None]


@dataclass(frozen=True)
class Kind:
    code: str
    zh: str
    en: str
    category: str = "change"
    name: Namer | None = None  # the object in words, from the row's target and detail
    link: Linker | None = None  # (endpoint, values) of the object's page, if it has one
    lookup: str | None = None  # or a lookup that names the targets of a page of rows at once


@dataclass(frozen=True)
class Reason:
    prefix: str
    zh: str
    en: str
    rest: Callable[[str], str] | None = None  # what follows the prefix (a period, a measure), in words


KINDS: dict[str, Kind] = {}
LOOKUPS: dict[str, Callable] = {}
REASONS: list[Reason] = []


def register(code: str, zh: str, en: str, category: str = "change", *, name: Namer | None = None,
             link: Linker | None = None, lookup: str | None = None) -> None:
    if category not in CATEGORIES:
        raise ValueError(f"unknown audit category {category!r}")
    KINDS[code] = Kind(code, zh, en, category, name, link, lookup)


def register_lookup(name: str, statement: Callable) -> None:
    """`statement(targets)` → a SELECT of (target as text, name). A page's lookups are one query
    together (a UNION), read in the tenant's scope."""
    LOOKUPS[name] = statement


def register_reason(prefix: str, zh: str, en: str, rest: Callable[[str], str] | None = None) -> None:
    REASONS.append(Reason(prefix, zh, en, rest))
    REASONS.sort(key=lambda r: -len(r.prefix))  # the longest prefix that fits wins


def kind_of(code: str) -> Kind | None:
    return KINDS.get(code)


def reason_of(text: str | None) -> tuple[Reason, str] | None:
    """The registered reason a cross-tenant read was made for, and what followed its prefix."""
    for r in REASONS:
        if text and (text == r.prefix or text.startswith(r.prefix + " ")):
            return r, text[len(r.prefix):].strip()
    return None


def codes_in(category: str) -> list[str]:
    return [k.code for k in KINDS.values() if k.category == category]


def plain(text: str | None) -> str | None:
    """`text` unless it is (or holds) an identifier."""
    return text if text and not CODE_LIKE.search(text) else None


def detail_name(target: str | None, detail: dict) -> str | None:
    """The usual naming: the name or title the entry recorded, else the target if it is words."""
    return detail.get("name") or detail.get("title") or plain(target)


def after(prefix: str) -> Callable[[str | None], str | None]:
    """The part of a `prefix:value` target after the prefix (a topic's or a meeting's number)."""
    def value(target: str | None) -> str | None:
        return target[len(prefix) + 1:] if target and target.startswith(prefix + ":") else None
    return value


def numbered(prefix: str, endpoint: str, extra: str | None = None) -> tuple[Namer, Linker]:
    """How entries on `prefix:<number>` targets (a topic, a meeting) are named and linked: "#12 title"
    (and, with `extra`, the detail's value of that key: the system that did it) and the object's page
    by its number."""
    number = after(prefix)

    def name(target, detail):
        n = number(target)
        words = " ".join(str(detail[k]) for k in ("title", extra) if k and detail.get(k))
        return f"#{n} {words}" if n and words else f"#{n}" if n else None

    def link(target, _detail):
        n = number(target)
        return (endpoint, {"number": int(n)}) if n and n.isdigit() else None

    return name, link

