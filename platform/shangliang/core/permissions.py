"""Who may do what in which tenant. Every view goes through `require`.

Roles come from memberships; a county administrator also administers the county's
streets, and a platform administrator every tenant.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, g, has_app_context, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from .caches import cached


ADMIN = {"tenant.view", "tenant.manage", "members.view", "members.manage", "audit.view", "tokens.manage",
         "notifications.view", "procedure.view", "procedure.manage", "topics.view", "topics.create",
         "brand.manage", "export.manage", "roster.view", "roster.manage", "duty.manage", "meetings.view",
         "meetings.manage", "files.upload", "benchmarks.view", "ledger.view", "departments.view",
         "departments.manage", "transfers.view", "escalations.view", "topics.supervise",
         "gongshi.manage", "pairing.manage"}
ROLE_PERMISSIONS: dict[str, set[str]] = {
    "platform_admin": ADMIN | {"tenants.view", "streets.manage", "platform.manage", "benchmarks.manage"},
    "county_admin": ADMIN | {"tenants.view", "streets.manage", "benchmarks.manage"},
    "street_admin": set(ADMIN),
    "staff": {"tenant.view", "members.view", "notifications.view", "procedure.view", "topics.view", "topics.create",
              "roster.view", "duty.manage", "meetings.view", "meetings.manage", "files.upload", "benchmarks.view",
              "ledger.view", "departments.view", "transfers.view", "escalations.view", "gongshi.manage",
              "pairing.manage"},  # 委员-网格员结对, arranged by the street's 政协委员联络室
    "member": {"tenant.view", "notifications.view", "procedure.view", "topics.view", "topics.create", "roster.view",
               "meetings.view", "meetings.manage", "files.upload"},
    # 网格员 and 楼院长: raise topics for residents and follow those of their grids (topics/people.py).
    "grid_worker": {"tenant.view", "notifications.view", "procedure.view", "topics.view", "topics.create",
                    "files.upload"},
    "building_head": {"tenant.view", "notifications.view", "procedure.view", "topics.view", "topics.create",
                      "files.upload"},
    # A department's contact sees the topics sent to their department (its inbox), not the street's others.
    "department": {"tenant.view", "notifications.view", "procedure.view", "meetings.view", "files.upload",
                   "transfers.view", "transfers.answer"},
    # A service account (a WeChat mini-program's back end): a resident's own operations with their
    # receipt code, and nothing else; no person holds this role (accounts/models.SERVICE_ROLE).
    "resident_service": {"residents.act"},
}
PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


_membership_loader = None


def load_memberships_with(loader):
    """Accounts (above core) registers how a user's (tenant_id, role) pairs are read."""
    global _membership_loader
    _membership_loader = loader
    return loader


def memberships_of(user) -> list[tuple[int, str]]:
    """(tenant_id, role) pairs of the user, loaded once per request, and kept by the process under
    the user's roles version: a trigger moves it with any change of their memberships, and the
    user row (read on every request with the session) brings the current one, so a role revoked
    is gone at the next request while an unchanged one costs no statement. A job (no app) reads them."""
    if not has_app_context():
        return list(_membership_loader(user.id))
    cache = g.setdefault("_memberships", {})
    if user.id not in cache:
        version = getattr(user, "roles_version", None)
        load = lambda: tuple(_membership_loader(user.id))  # noqa: E731
        cache[user.id] = load() if version is None else cached("memberships", (user.id, version), load)
    return cache[user.id]


def roles_in(user, tenant) -> set[str]:
    if tenant is None or not getattr(user, "is_authenticated", False):
        return set()
    pairs = memberships_of(user)
    roles = {r for t, r in pairs if t == tenant.id}
    if tenant.parent_id is not None and (tenant.parent_id, "county_admin") in pairs:
        roles.add("county_admin")
    if any(r == "platform_admin" for _, r in pairs):
        roles.add("platform_admin")
    return roles


def permissions_for(roles) -> set[str]:
    return set().union(*(ROLE_PERMISSIONS.get(r, set()) for r in roles)) if roles else set()


def can(permission: str, tenant=None, user=None) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None and g.get("api_roles") is not None:
        return permission in permissions_for(g.api_roles)
    user, tenant = user or current_user, tenant or g.get("tenant")
    # A page asks a dozen times (the menu alone); the answer holds for the request.
    cache = g.setdefault("_permissions", {})
    key = (getattr(user, "id", None), getattr(tenant, "id", None))
    if key not in cache:
        cache[key] = frozenset(permissions_for(roles_in(user, tenant)))
    return permission in cache[key]


class TenantSuspended(Forbidden):
    """A write in a suspended street by its own people: they may read, not change."""

    user_message = "本单位已被暂停，目前只能查看，不能修改"


SUPERVISORS = {"county_admin", "platform_admin"}  # may still act in a suspended street
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def require(permission: str):
    """Signed out: to the login page. No role in this tenant: 404, so that other tenants'
    existence is not revealed. A role without this permission: 403."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def deco(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("api_roles") is None:
                if not current_user.is_authenticated:
                    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
                roles = roles_in(current_user, g.get("tenant"))
            else:
                roles = g.api_roles
            if not roles:
                abort(404)
            if permission not in permissions_for(roles):
                abort(403)
            tenant = g.get("tenant")
            if tenant is not None and tenant.status == "suspended" and request.method not in SAFE_METHODS \
                    and not roles & SUPERVISORS:
                raise TenantSuspended()
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return deco


def public(view):
    """Marks a view that needs no sign-in; the isolation test lists these on purpose."""
    view.required_permission = None
    return view
