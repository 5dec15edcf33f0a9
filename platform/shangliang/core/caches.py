"""Per-process caches of what never changes once written (a published brand version, a
published procedure version). They live on the app, so a new app (a test's, a worker's after a
fork) starts empty, and nothing of one deployment's data is served by another's.

A key must name everything the value depends on, including the version it was read at: the
value is never invalidated, a new version simply has a new key. Each cache is bounded."""
from __future__ import annotations

from typing import Callable, Hashable, TypeVar

from flask import current_app

T = TypeVar("T")
MAX_ENTRIES = 2048


def cached(name: str, key: Hashable, make: Callable[[], T]) -> T:
    caches = current_app.extensions.setdefault("shangliang.caches", {})
    cache = caches.setdefault(name, {})
    try:
        return cache[key]
    except KeyError:
        pass
    value = make()
    if len(cache) >= MAX_ENTRIES:  # rare (thousands of tenants in one process): start again
        cache.clear()
    cache[key] = value
    return value
