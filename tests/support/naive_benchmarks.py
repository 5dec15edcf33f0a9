"""Every benchmarking measure computed the slow, obvious way: topic by topic, event by event, in
Python, straight from the definitions in benchmarks/measures.py. Shares no code with the SQL
rollups, so that the property test comparing the two means something."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shangliang.core.db import db
from shangliang.meetings.models import Meeting, MeetingParticipant
from shangliang.roster.models import DutyShift, Person
from shangliang.topics.models import Topic, TopicEvent


def period_keys(moment, tz):
    """The month, quarter and year keys a local time falls in."""
    local = moment.astimezone(ZoneInfo(tz)) if hasattr(moment, "astimezone") and hasattr(moment, "hour") else moment
    y, m = local.year, local.month
    return [f"{y}-{m:02d}", f"{y}-Q{(m + 2) // 3}", str(y)]


def _rating(data):
    level = data.get("level") or ("satisfied" if data.get("satisfied") else "unsatisfied")
    return level, data.get("solved", level != "unsatisfied"), data.get("valid", True)


def topic_facts(topic, log, as_of) -> dict:
    f = {"collected": 1, "channel": topic.channel}
    responded = next((e.at for e in log if e.phase_from == "intake" and e.phase_to != "intake"), None)
    closed = next((e.at for e in log if e.action in ("close", "close_out_of_scope")), None)
    done, oos = topic.closed_as == "done", topic.closed_as == "out_of_scope"
    rdue, deadline = topic.response_due_at, topic.deadline_at
    f["response_due"] = rdue is not None and (responded is not None or rdue <= as_of)
    f["responded_on_time"] = f["response_due"] and responded is not None and responded <= rdue
    f["completion_due"] = deadline is not None and not oos and (done or deadline <= as_of)
    f["completed_on_time"] = f["completion_due"] and done and closed <= deadline
    ratings = [e.data for e in log if e.action == "rate" and e.data.get("decides", True)]  # the deciding party's
    level, solved, valid = _rating(ratings[-1]) if ratings else (None, False, False)
    f["closed"], f["closed_rated"] = done, done and valid
    f["closed_reopened"] = done and any(e.action == "reopen" for e in log)
    f["rated"], f["rated_solved"] = valid, valid and solved
    for name in ("very_satisfied", "satisfied", "basic"):
        f[f"rated_{'basic' if name == 'basic' else name}"] = valid and level == name
    consults = [e.seq for e in log if e.action == "consult"]
    f["consulted"] = bool(consults)
    f["adopted"] = bool(consults) and any(e.seq > consults[0] and e.action == "advance"
                                          and e.phase_to in ("execution", "evaluation", "closure") for e in log)
    f["excluded"] = {
        "response": {"no_time_limit": rdue is None, "not_yet_due": rdue is not None and responded is None
                     and rdue > as_of},
        "completion": {"out_of_scope": oos, "no_time_limit": deadline is None and not oos,
                       "not_yet_due": deadline is not None and not oos and not done and deadline > as_of},
        "rating": {"invalid": bool(ratings) and not valid},
    }
    f["supervised"] = any(e.action == "supervise" for e in log)
    f["supervised_closed"] = f["supervised"] and done
    for party in ("officials", "members"):
        theirs = [e.data for e in log if e.action == "rate" and e.data.get("decides", True) is False
                  and _rating(e.data)[2] and e.data.get("standing") == party]
        f[f"{party}_rated"] = bool(theirs)
        f[f"{party}_satisfied"] = bool(theirs) and _rating(theirs[-1])[0] in ("very_satisfied", "satisfied")
    points = [e.data["score_points"] for e in log if e.action == "rate" and e.data.get("score_points") is not None]
    f["scored"], f["score_points"] = len(points), sum(points)
    f["response_h"] = (responded - topic.created_at).total_seconds() / 3600 if responded else None
    f["close_h"] = (closed - topic.created_at).total_seconds() / 3600 if done else None
    return f


def nearest_rank(values, p):
    values = sorted(values)
    return values[math.ceil(p * len(values)) - 1] if values else None


def street_figures(tenant, as_of) -> dict:
    """{period key: figures} for every month, quarter and year with a topic, a held meeting or a
    kept shift. Runs inside the street's scope."""
    tz = tenant.timezone
    out = defaultdict(lambda: {"topics": [], "meetings": 0, "active": set()})
    logs = defaultdict(list)
    for e in db.scalars(select(TopicEvent).order_by(TopicEvent.seq)):
        logs[e.topic_id].append(e)
    for topic in db.scalars(select(Topic)):
        facts = topic_facts(topic, logs[topic.id], as_of)
        for key in period_keys(topic.created_at, tz):
            out[key]["topics"].append(facts)
    members = {p.id: p for p in db.scalars(select(Person)) if p.kind == "member" and p.active}
    by_user = {p.user_id: p.id for p in members.values() if p.user_id}
    for e in (e for log in logs.values() for e in log):
        uid = e.actor_id if e.action == "claim" else e.data.get("user_id") if e.action == "invite" else None
        if uid in by_user:
            for key in period_keys(e.at, tz):
                out[key]["active"].add(by_user[uid])
    for meeting in db.scalars(select(Meeting)):
        if meeting.status != "held":
            continue
        for key in period_keys(meeting.starts_at, tz):
            out[key]["meetings"] += 1
        for part in db.scalars(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)):
            if part.person_id in members and (part.attended or part.convener):
                for key in period_keys(meeting.starts_at, tz):
                    out[key]["active"].add(part.person_id)
    for shift in db.scalars(select(DutyShift)):
        if shift.status == "kept" and shift.person_id in members:
            for key in period_keys(shift.day, tz):
                out[key]["active"].add(shift.person_id)
    # A street has figures (zeros, if need be) for every month from its first activity to as_of.
    months = sorted(k for k in out if len(k) == 7 and "Q" not in k)
    if months:
        y, m = int(months[0][:4]), int(months[0][5:])
        last = max(months[-1], period_keys(as_of, tz)[0])
        while f"{y}-{m:02d}" <= last:
            for key in period_keys(date(y, m, 1), tz):
                out[key]  # noqa: B018  (the defaultdict makes the empty period)
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return {key: summarise(v["topics"], v["meetings"], len(v["active"]), len(members)) for key, v in out.items()}


COUNTED = ("collected", "response_due", "responded_on_time", "completion_due", "completed_on_time", "closed",
           "closed_rated", "closed_reopened", "rated", "rated_solved", "rated_very_satisfied", "rated_satisfied",
           "rated_basic", "consulted", "adopted", "supervised", "supervised_closed", "officials_rated",
           "officials_satisfied", "members_rated", "members_satisfied")
SUMMED = ("scored", "score_points")


def summarise(facts, meetings, active, total) -> dict:
    fig = {c: sum(1 for f in facts if f[c]) for c in COUNTED} | {c: sum(f[c] for f in facts) for c in SUMMED}
    fig["meetings_held"], fig["members_active"], fig["members_total"] = meetings, active, total
    excluded = {}
    for f in facts:
        for measure, reasons in f["excluded"].items():
            for reason, hit in reasons.items():
                if hit:
                    excluded.setdefault(measure, {}).setdefault(reason, 0)
                    excluded[measure][reason] += 1
    fig["excluded"] = excluded
    fig["channels"] = dict(sorted(Counter(f["channel"] for f in facts).items()))
    fig["response"] = sorted(f["response_h"] for f in facts if f["response_h"] is not None)
    fig["close"] = sorted(f["close_h"] for f in facts if f["close_h"] is not None)
    for name, which, p in (("response_p50_h", "response", .5), ("response_p90_h", "response", .9),
                           ("close_p50_h", "close", .5), ("close_p90_h", "close", .9)):
        fig[name] = nearest_rank(fig[which], p)
    return fig


def county_figures(streets: dict[int, dict]) -> dict:
    """A county's figures per period: its streets' topics together, members added up."""
    out = {}
    for figs in streets.values():
        for key, fig in figs.items():
            acc = out.setdefault(key, {c: 0 for c in (*COUNTED, *SUMMED, "meetings_held", "members_active", "members_total")}
                                 | {"excluded": {}, "channels": {}, "response": [], "close": []})
            for c in (*COUNTED, *SUMMED, "meetings_held", "members_active", "members_total"):
                acc[c] += fig[c]
            for measure, reasons in fig["excluded"].items():
                for reason, n in reasons.items():
                    acc["excluded"].setdefault(measure, {}).setdefault(reason, 0)
                    acc["excluded"][measure][reason] += n
            for channel, n in fig["channels"].items():
                acc["channels"][channel] = acc["channels"].get(channel, 0) + n
            acc["response"] += fig["response"]
            acc["close"] += fig["close"]
    for acc in out.values():
        acc["channels"] = dict(sorted(acc["channels"].items()))
        acc["response"].sort()
        acc["close"].sort()
        for name, which, p in (("response_p50_h", "response", .5), ("response_p90_h", "response", .9),
                               ("close_p50_h", "close", .5), ("close_p90_h", "close", .9)):
            acc[name] = nearest_rank(acc[which], p)
    return out
