"""The integers the API reads and writes, bounded to what the database keeps, so that one past
the bound is refused naming its field (422) instead of failing at the database (a server error),
and the OpenAPI document states the bound (apispec reads the Range as minimum and maximum)."""
from __future__ import annotations

from marshmallow import fields, validate


class Int64(fields.Integer):
    """Every integer the API reads: one past 64 bits names no row and no count, and a database
    driver refuses to send it (a server error), so it is refused here with its field named."""

    BITS = 64

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        half = 2 ** (self.BITS - 1)
        self.validators.insert(0, validate.Range(-half, half - 1))


class Int32(Int64):
    """A topic's or meeting's number, a version, a revision: kept in 32-bit integer columns
    (core.web.ROW_NUMBER_MAX), which PostgreSQL refuses to compare with a larger number."""

    BITS = 32
