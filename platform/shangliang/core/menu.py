"""The tenant menu: each area registers its entries here (a registry, not a template of branches),
and the rendered menu is kept by the process under everything it depends on: where the app is
mounted, the tenant's slug and kind, the reader's roles, the language and which entry is current.
Rendering it afresh (twenty url_for and permission checks in Jinja) cost more than a bare request.

An entry's `group` is where it belongs in the grouped navigation: the `home` entries (概览, 通知,
公开页面) stand alone; every other group (议题, 会议, 名册与轮值, 对标与档案, 设置) is one item that opens
the list of its entries, or the entry itself when the reader sees only one of them. Fifteen to
twenty-five tabs scrolled sideways on a phone; six groups fit on one."""
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
# group → (its label, where it stands among the entries of `home`, which stand by their own order)
GROUPS: dict[str, tuple[str, int]] = {"topics": ("议题", 30), "meetings": ("会议", 80), "roster": ("名册与轮值", 90),
                                      "records": ("对标与档案", 110), "settings": ("设置", 120)}


def entry(endpoint: str, label, order: int, group: str, permission: str | None = None, kinds=KINDS,
          current=None, shows=None) -> Entry:
    """Register a menu entry; areas call this next to their views."""
    if permission is not None and permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if group != "home" and group not in GROUPS:
        raise KeyError(f"unknown menu group {group!r}")
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
    items: list[tuple[int, str]] = []  # (where it stands, its html)
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        if e.group == "home":
            items.append((e.order, _link(e, kind, i == current)))
        else:
            groups.setdefault(e.group, []).append(i)
    for group, members in groups.items():
        label, order = GROUPS[group]
        if len(members) == 1:
            items.append((order, _link(entries[members[0]], kind, members[0] == current)))
            continue
        mark = ' class="current"' if current in members else ""
        links = "".join(_link(entries[i], kind, i == current) for i in members)
        items.append((order, f'<details class="navgroup" name="tenantnav"><summary{mark}>{escape(_(label))}</summary>'
                             f'<div class="navgroup-items">{links}</div></details>'))
    html = "\n  ".join(h for _o, h in sorted(items, key=lambda item: item[0]))
    return Markup(f'<nav class="tenantnav" aria-label="{escape(_("管理"))}">\n  {html}\n</nav>')


def _link(e: Entry, kind: str, current: bool) -> str:
    mark = ' aria-current="page"' if current else ""
    return f'<a href="{escape(url_for(e.endpoint))}"{mark}>{escape(e.text(kind))}</a>'
