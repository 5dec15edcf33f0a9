"""The tenant menu: each area registers its entries here (a registry, not a template of branches),
and the rendered menu is kept by the process under everything it depends on: where the app is
mounted, the tenant's slug and kind, the reader's roles, the language and which entry is current.
Rendering it afresh (twenty url_for and permission checks in Jinja) cost more than a bare request.

An entry's `group` is where it belongs in the grouped navigation (议题, 会议, 名册与轮值, 对标与档案, 设置)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from flask import g, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from ..i18n import _, get_locale
from .caches import cached
from .permissions import PERMISSIONS, permissions_for, roles_in

KINDS = frozenset({"platform", "county", "street"})


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: str | Mapping[str, str]  # the source text, or one per tenant kind
    order: int
    group: str
    permission: str | None = None  # None: everyone who may open the tenant's pages
    kinds: frozenset = KINDS
    current: str | None = None  # endpoints starting with this mark the entry current; None: its own only
    shows: Callable[[frozenset, frozenset], bool] | None = None  # a further condition: (roles, permissions)

    def visible(self, kind: str, roles: frozenset, permissions: frozenset) -> bool:
        return kind in self.kinds and (self.permission is None or self.permission in permissions) \
            and (self.shows is None or self.shows(roles, permissions))

    def is_current(self, endpoint: str | None) -> bool:
        if not endpoint:
            return False
        return endpoint.startswith(self.current) if self.current else endpoint == self.endpoint

    def text(self, kind: str) -> str:
        return _(self.label if isinstance(self.label, str) else self.label[kind])


ENTRIES: list[Entry] = []


def entry(endpoint: str, label, order: int, group: str, permission: str | None = None, kinds=KINDS,
          current=None, shows=None) -> Entry:
    """Register a menu entry; areas call this next to their views."""
    if permission is not None and permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    made = Entry(endpoint, label, order, group, permission, frozenset(kinds), current, shows)
    ENTRIES[:] = sorted([e for e in ENTRIES if e.endpoint != endpoint] + [made], key=lambda e: e.order)
    return made


def _visible(kind: str, roles: frozenset) -> tuple[Entry, ...]:
    permissions = frozenset(permissions_for(roles))
    return tuple(e for e in ENTRIES if e.visible(kind, roles, permissions))


def tenant_menu() -> Markup:
    """The menu of the request's tenant for the signed-in reader; empty for those who may not
    open its staff pages."""
    tenant = g.get("tenant")
    if tenant is None or not current_user.is_authenticated:
        return Markup("")
    roles = frozenset(roles_in(current_user, tenant))
    if "tenant.view" not in permissions_for(roles):
        return Markup("")
    where = (request.script_root, tenant.slug, tenant.kind, roles, get_locale())
    entries = cached("menu.entries", where, lambda: _visible(tenant.kind, roles))
    endpoint = request.endpoint
    current = next((i for i, e in enumerate(entries) if e.is_current(endpoint)), None)
    return cached("menu.html", (where, current), lambda: _render(entries, tenant.kind, current))


def _render(entries: tuple[Entry, ...], kind: str, current: int | None) -> Markup:
    links = []
    for i, e in enumerate(entries):
        mark = ' aria-current="page"' if i == current else ""
        links.append(f'<a href="{escape(url_for(e.endpoint))}"{mark}>{escape(e.text(kind))}</a>')
    return Markup(f'<nav class="tenantnav" aria-label="{escape(_("管理"))}">\n  ' + "\n  ".join(links) + "\n</nav>")
