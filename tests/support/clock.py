"""The fake clock the benchmark stories are told on: topics' events are stamped with it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shangliang.accounts import operations as account_ops, sessions, throttle
from shangliang.topics import operations as ops
from shangliang.topics import log as topic_log  # topics read the time through log.clock()

START = datetime(2025, 12, 20, 1, 0, tzinfo=timezone.utc)
BEFORE = START - timedelta(days=1)  # the roster is changed before the story starts


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def stopped_at(monkeypatch, now) -> Clock:
    """A clock standing at `now` that topics stamp their events with (until the test ends)."""
    c = Clock(now)
    monkeypatch.setattr(topic_log, "utcnow", c)
    return c


@pytest.fixture
def clock(monkeypatch):
    return stopped_at(monkeypatch, START)


SIGN_IN_CLOCKS = (account_ops, sessions, throttle)  # the accounts modules that read the time (sign-in throttling, sessions)


def signing_in_at(monkeypatch, now) -> Clock:
    """A clock standing at `now` that sign-in throttling and sessions read (until the test ends)."""
    c = Clock(now)
    for module in SIGN_IN_CLOCKS:
        monkeypatch.setattr(module, "utcnow", c)
    return c
