"""JSON API for integrations (12345 hotline systems, WeChat mini-programs): the blueprint with every
area's operations on it. Importing this module registers them all; each area is its own module and
api/base.py holds what they share."""
from __future__ import annotations

# In the order the OpenAPI document has always listed them (apispec names schemas as it meets them).
from . import tenant, topics, meetings, files, benchmarks, roster, ledger, procedures, openapi  # noqa: F401
from . import hotline  # noqa: F401  (the 12345 platform's signed endpoints, declared for the document)
from . import transfers  # noqa: F401  (departments' transfers: a contact's inbox, accept, reply, return)
from . import residents  # noqa: F401  (a service account's operations for residents)
from . import auth  # noqa: F401  (who a request acts as: the blueprint's before_request)
from .base import bp

__all__ = ["bp"]
