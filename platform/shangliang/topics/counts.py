"""How many topics stand at each step: the board's counts, kept in `TopicStepCount` (a row per
step and state) by the transactions that move topics.

Why a counter and not an index: the board counted the open topics with a GROUP BY, and even off
an index that reads every open topic (88,663 rows, 53 ms at 100,000 topics); no index makes a
count cheaper than the rows it counts. Here the board reads at most three rows per step, at any
size. Counted per state (open, overdue, closed), so the board's status filter (open = open +
overdue; all = every state) reads the same rows. Views filtered further (category, community,
channel, member) still count their topics: no counter can serve every combination.

The rule, in this file: a change to a topic's step, status or overdue mark is made inside
`watching(topic, …)` (act, the overdue job), a new topic is counted by `entered` (intake), both in
the transaction that makes the change, so a rollback takes the count back with it. Writers that
insert topic rows straight into the table (the demo's history, a tenant import, the benchmark)
call `recount` afterwards.

Concurrency: adding to a row locks it until commit, so topics moving in or out of the same step
of a street at the same moment queue there, as intakes already queue on `TopicCounter`. The rows
are written after the topics' own rows are flushed, in one statement in sorted order, so two
transactions take them in the same order and cannot deadlock on them; a move that loses the race
for its topic (the version check) rolls back with its counts.
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core.db import db
from .models import Topic, TopicStepCount

STATES = ("open", "overdue", "closed")
# The board's status filter → the states it counts; any other value (全部) counts them all.
VIEWS = {"open": ("open", "overdue"), "overdue": ("overdue",), "closed": ("closed",)}

Key = tuple[str, str]  # (step key, state)


def state_of(status: str | None, overdue: bool | None) -> str:
    if status == "closed":
        return "closed"
    return "overdue" if overdue else "open"


def _key(topic: Topic) -> Key:
    return topic.step_key, state_of(topic.status, topic.overdue)


@contextmanager
def watching(*topics: Topic):
    """Count what the block does to these topics (of the current tenant): the difference between
    their steps and states before and after it. Nothing is counted if the block raises."""
    before = [_key(t) for t in topics]
    yield
    db.flush()  # the topics' rows first, then the counts (the order every writer keeps)
    deltas: dict[Key, int] = defaultdict(int)
    for old, topic in zip(before, topics):
        deltas[old] -= 1
        deltas[_key(topic)] += 1
    if topics:
        _add(topics[0].tenant_id, deltas)


def entered(topic: Topic) -> None:
    """A new topic, flushed (its defaults filled in): one more at its first step."""
    _add(topic.tenant_id, {_key(topic): 1})


def _add(tenant_id: int, deltas: dict[Key, int]) -> None:
    rows = [{"tenant_id": tenant_id, "step_key": step, "state": state, "topics": n}
            for (step, state), n in sorted(deltas.items()) if n]
    if not rows:
        return
    table = TopicStepCount.__table__
    upsert = (pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert)(table).values(rows)
    db.execute(upsert.on_conflict_do_update(index_elements=[c.name for c in table.primary_key],
                                            set_={"topics": table.c.topics + upsert.excluded.topics}))


def recount(tenant_id: int) -> None:
    """The current tenant's counts made again from its topics (after rows were inserted in bulk)."""
    counted: dict[Key, int] = defaultdict(int)
    for step, status, overdue, n in db.execute(
            select(Topic.step_key, Topic.status, Topic.overdue, func.count())
            .group_by(Topic.step_key, Topic.status, Topic.overdue)):
        counted[(step, state_of(status, overdue))] += n
    db.execute(delete(TopicStepCount))
    if counted:
        db.execute(insert(TopicStepCount), [{"tenant_id": tenant_id, "step_key": step, "state": state, "topics": n}
                                            for (step, state), n in sorted(counted.items())])


def by_step(status: str) -> dict[str, int]:
    """Step key → topics in the board's status filter (open, overdue, closed, or anything else: all)."""
    rows = db.execute(select(TopicStepCount.step_key, func.sum(TopicStepCount.topics))
                      .where(TopicStepCount.state.in_(VIEWS.get(status, STATES)))
                      .group_by(TopicStepCount.step_key))
    return {step: int(n) for step, n in rows if n}
