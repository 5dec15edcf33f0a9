from __future__ import annotations

from dataclasses import dataclass

from flask import request

from .db import db

PER_PAGE = 50


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def page_arg() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def paginate(stmt, page: int | None = None, per_page: int = PER_PAGE, scalars: bool = True) -> Page:
    """One query whatever the table size: fetch one row more than shown to learn if there is a next page."""
    page = page or page_arg()
    stmt = stmt.limit(per_page + 1).offset((page - 1) * per_page)
    rows = list(db.scalars(stmt) if scalars else db.execute(stmt))
    return Page(rows[:per_page], page, per_page, len(rows) > per_page)
