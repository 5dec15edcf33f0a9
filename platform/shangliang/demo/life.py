"""One generated topic's life (see history.py): `live()` lives it through the street's published
procedure the way `topics.operations.act` would log it. Pure: rows as dicts, nothing written.
Deterministic: everything comes from the `random.Random` passed in (ids included)."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from functools import lru_cache

from ..procedures.evidence import EVIDENCE, FieldValues
from ..topics.operations import ACTIONS, acting_roles
from ..topics.ratings import SATISFIED_LEVELS, UNSATISFIED
# Under their old private names, so that the body of `Life` reads as it did in one file.
from .catalogue import CHANNELS, SURNAMES, evaluated, pick_category as _pick_category, weighted as _weighted, \
    weighted_index as _weighted_index
from .street import Street

MINUTE = timedelta(minutes=1)
NO_LIMIT = timedelta(hours=72)  # a step without a time limit still takes people some time
MAX_EVENTS = 80  # a guard: no procedure needs more for one topic
CONSULT_AFTER = timedelta(minutes=90)  # a meeting's agreement is logged on its topics after it
ADMIN, MEMBER, RESIDENT = frozenset({"street_admin"}), frozenset({"member"}), frozenset({"resident"})
# By rating level but unsatisfied (best first): how likely, how often solved, the score given.
LEVEL_WEIGHTS, SOLVED, SCORES = (0.5, 0.35, 0.15), dict(zip(SATISFIED_LEVELS, (0.98, 0.93, 0.7))), \
    dict(zip(SATISFIED_LEVELS, (5, 4, 3)))
ASKED = "请核实现场情况，提出办理方案并反馈"
FALLBACK_DEPARTMENTS = ("街道城管中心", "街道社会事务办公室", "街道综治中心", "区住建局")


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


class _Stop(Exception):
    """The next thing would happen after `now`: the topic stays where it is."""


@lru_cache(maxsize=256)
def _role_in(step_roles: tuple, roles: frozenset) -> str | None:
    acting = acting_roles(set(roles))
    return next((r for r in step_roles if r in acting), None)


def _role(step: dict, roles: frozenset) -> str | None:
    """The role an actor acts in at this step, as act() takes it."""
    return _role_in(tuple(step["roles"]), roles)



# ---------------------------------------------------------------- one topic's life

class Life:
    """One topic from intake to where it stands at `now`, logged as act() logs it."""

    def __init__(self, street: Street, rnd, number: int, created: datetime, now: datetime):
        self.s, self.rnd, self.now, self.p = street, rnd, now, street.profile
        self.id = street.new_id(created, rnd)
        self.events: list[dict] = []
        self.step = street.steps[0]
        self.round, self.status, self.closed_as, self.escalated = 1, "open", None, False
        self.entered = created
        self.claimants: list[int] = []
        self.used: set[str] = set()  # transfer / escalate / close_out_of_scope: once each
        self.topic = self._intake(number, created)

    # -- the log

    def log(self, action: str, at: datetime, actor, *, to: str | None = None, frm: str | None = None,
            data: dict | None = None, comment: str = "", role: str | None = None) -> dict:
        if self.events:  # people act one after another: the log's times never go back
            at = max(at, self.events[-1]["at"])
        if at > self.now or len(self.events) >= MAX_EVENTS:
            raise _Stop
        uid, roles = actor
        steps = self.s.by_key
        ev = {"tenant_id": self.s.tenant_id, "id": self.s.new_id(at, self.rnd), "topic_id": self.id,
              "seq": len(self.events) + 1, "action": action, "from_step": frm, "to_step": to,
              "phase_from": steps[frm]["phase"] if frm else None, "phase_to": steps[to]["phase"] if to else None,
              "round": self.round, "actor_id": uid, "actor_role": role or self._role_here(roles),
              "at": at, "comment": comment, "data": data or {}}
        self.events.append(ev)
        return ev

    def _role_here(self, roles: frozenset) -> str | None:
        key = (self.step["key"], roles)
        cache = self.s.roles_at
        if key not in cache:
            cache[key] = _role(self.step, roles)
        return cache[key]

    # -- intake

    def _intake(self, number: int, created: datetime) -> dict:
        rnd, cast = self.rnd, self.s.cast
        cat = _pick_category(rnd, created.astimezone(self.s.zone).month)
        channel = _weighted(rnd, CHANNELS)
        community, grids = rnd.choice(cast.communities)
        title = rnd.choice(cat.titles)
        topic = {"tenant_id": self.s.tenant_id, "id": self.id, "number": number,
                 "procedure_version_id": self.s.version_id, "title": title,
                 "description": f"{community}居民反映：{title}，希望尽快协调解决。", "channel": channel,
                 "category": cat.name if rnd.random() < 0.3 else None,
                 "urgency": "urgent" if rnd.random() < 0.1 else "normal",
                 "community": community if rnd.random() < 0.85 else None,
                 "grid": rnd.choice(grids) if grids and rnd.random() < 0.5 else None,
                 "place": None, "resident_name": None, "resident_phone": None, "details": {},
                 "receipt_hash": None, "created_at": created, "created_by": None}
        if rnd.random() < 0.7:
            topic["resident_name"] = rnd.choice(SURNAMES) + rnd.choice(("先生", "女士", "大爷", "阿姨"))
            topic["resident_phone"] = f"13{rnd.randrange(10**9):09d}"
        self.cat, self.home = cat, (community, grids)
        actor, role = self._raiser(channel)
        topic["created_by"] = actor[0]
        first = self.step["key"]
        self.log("create", created, actor, to=first, data={"channel": channel}, role=role)
        dl = self.s.deadlines
        topic["response_due_at"] = dl.due(first, created)
        topic["deadline_at"] = dl.deadline(created)
        return topic

    def _raiser(self, channel: str):
        """Who records the topic (create_topic's actor and actor_role): a resident on the portal,
        a member now and then (委员信箱, 入户), otherwise the street's staff."""
        members = self.s.cast.members
        if channel == "portal":
            return (None, RESIDENT), "resident"
        if members and channel in ("mailbox", "door_visit", "wechat") and self.rnd.random() < 0.35:
            return (self.rnd.choice(members).user_id, MEMBER), "member"
        return (self.s.cast.admin_id, ADMIN), "street_admin"

    # -- living

    def run(self) -> Life:
        try:
            while self.status == "open":
                self._visit()
        except _Stop:
            pass
        return self

    def _visit(self) -> None:
        step, t0 = self.step, self.entered
        end = self._leaves(step, t0)
        closing = step["phase"] == "closure"
        move = None if closing else self._choose(step)
        consult_at = None
        if step["evidence"]["consultation_record"] and (closing or move["kind"] == "advance"):
            # The consultation is the street's weekly meeting (协商议事周周组织): the step waits for it.
            consult_at = self.s.next_meeting(t0) + CONSULT_AFTER
            end = max(end, consult_at + timedelta(hours=self.rnd.randint(1, 48)))
        if step["key"] in self.s.claim_steps and not self.claimants:
            self._claim(step, t0, consult_at or end)
        worker = self._worker(step)
        if worker is None:  # nobody who logs in may act here: it waits
            raise _Stop
        if closing:
            self._evidence(step, t0, end, worker, consult_at)
            self.log("close", end, worker, frm=step["key"])
            self.status, self.closed_as = "closed", ACTIONS["close"].closes_as
            return
        if move["kind"] == "advance":
            rating = self._evidence(step, t0, end, worker, consult_at)
            if rating is not None and not rating["satisfied"]:
                reopen = next((t for t in step["transitions"] if t["kind"] == "reopen"), None)
                if reopen and self.round < reopen["max_rounds"] and self.rnd.random() < 0.9:
                    move = reopen
        else:  # sent on before the step's work is done: what is known is still written down
            self._evidence(step, t0, end, worker, fields_only=True)
            if self.rnd.random() < 0.3:
                self.log("comment", t0 + (end - t0) / 2, worker, comment="已与居民电话沟通，说明办理去向")
        self._move(step, move, end, worker)

    def _leaves(self, step: dict, t0: datetime) -> datetime:
        """When the topic leaves the step: within the limit with the street's probability (its
        response rate at intake, its pace elsewhere), late otherwise, now and then far too late."""
        rnd = self.rnd
        due = self.s.deadlines.due(step["key"], t0)
        span = (due - t0) if due else NO_LIMIT
        on_time = self.p.response if step["phase"] == "intake" else self.p.pace
        frac = 0.04 + 0.9 * rnd.random() ** 1.6 if rnd.random() < on_time else 1.02 + rnd.expovariate(2.0)
        if step["phase"] != "intake" and rnd.random() < self.p.stall:
            frac *= rnd.uniform(3, 10)
        end = _minute(t0 + span * frac) + MINUTE
        snapped = self._office_hours(end)
        if due is None or (snapped <= due) == (end <= due):  # people work by day, unless that makes it late
            end = snapped
        return end

    def _office_hours(self, at: datetime) -> datetime:
        local = at.astimezone(self.s.zone)
        if 8 <= local.hour < 21:
            return at
        day = local.date() + timedelta(days=1 if local.hour >= 21 else 0)
        start = datetime.combine(day, time(8, self.rnd.randrange(60)), self.s.zone)
        return start.astimezone(timezone.utc)

    def _times(self, t0: datetime, end: datetime, n: int) -> list[datetime]:
        """n moments inside the visit, in order, in office hours where the visit allows."""
        span = (end - t0).total_seconds()
        out = []
        for f in sorted(0.1 + 0.8 * self.rnd.random() for _ in range(n)):
            at = _minute(t0 + timedelta(seconds=span * f))
            snapped = self._office_hours(at)
            out.append(snapped if snapped <= end else at)
        return out

    def _worker(self, step: dict):
        """Who works the step: the leading member where members act (mostly at deliberation and
        execution), otherwise the administrator for the staff."""
        members_ok = "member" in step["roles"] and self.claimants
        admin_ok = self.s.cast.admin_id is not None and _role(step, ADMIN) is not None
        members_lead = step["phase"] in ("deliberation", "execution") and self.rnd.random() < 0.6
        if members_ok and (not admin_ok or members_lead):
            return self.claimants[0], MEMBER
        if admin_ok:
            return self.s.cast.admin_id, ADMIN
        return (self.claimants[0], MEMBER) if members_ok else None

    def _claim(self, step: dict, t0: datetime, end: datetime) -> None:
        members = self.s.cast.members
        only_members = step["roles"] == ["member"]
        if not members or not (only_members or self.rnd.random() < self.p.claim):
            return
        fit = [m for m in members if any(k in self.cat.name or self.cat.name in k for k in m.specialties)]
        leader = self.rnd.choice(fit or members)
        at = self._times(t0, end, 1)[0]
        self.log("claim", at, (leader.user_id, MEMBER))
        self.claimants.append(leader.user_id)
        others = [m for m in members if m.user_id != leader.user_id]
        if others and self.rnd.random() < self.p.invite:
            guest = self.rnd.choice(others)
            self.log("invite", at + MINUTE * 30, (leader.user_id, MEMBER), data={"user_id": guest.user_id})
            self.claimants.append(guest.user_id)

    def _choose(self, step: dict) -> dict:
        """The way out of the step: now and then 不予受理, 提请 or 转交 where the procedure has
        them (once each), otherwise its first advance (sometimes another one)."""
        rnd, ts = self.rnd, step["transitions"]
        for kind, p in (("close_out_of_scope", self.p.out_of_scope), ("escalate", self.p.escalate),
                        ("transfer", self.p.transfer)):
            t = next((t for t in ts if t["kind"] == kind), None)
            if t and kind not in self.used and rnd.random() < p:
                self.used.add(kind)
                return t
        advances = [t for t in ts if t["kind"] == "advance"]
        if advances:
            return advances[0] if len(advances) == 1 or rnd.random() < 0.85 else rnd.choice(advances[1:])
        return next(t for t in ts if t["kind"] != "reopen")

    # -- evidence

    def _evidence(self, step: dict, t0: datetime, end: datetime, worker, consult_at: datetime | None = None,
                  fields_only: bool = False) -> dict | None:
        """Whatever the step asks for before it may be left, in this visit; returns the rating."""
        ev = step["evidence"]
        todo = []
        fields = [f for f in ev["fields"] if not self._value(f) or (f in ("outcome", "plan") and self.round > 1)]
        if fields:
            todo.append(("record", fields))
        if not fields_only:  # the rest, as the evidence kinds supply it (fields are typed above)
            todo += [item for kind in EVIDENCE.values() if not isinstance(kind, FieldValues)
                     for item in kind.supplies(ev[kind.key])]
        rating = None
        for (what, arg), at in zip(todo, self._evidence_times(todo, t0, end, consult_at)):
            if what == "record":
                self._record(arg, at, worker)
            elif what == "attach":
                self.log("attach", at, worker, data=self.s.evidence_file(arg, self.id, worker[0], at))
            elif what == "consult":
                self.log("consult", at, worker, data={"agreement": self.cat.plan, "meeting_id": None})
            elif what == "sign":  # the resident agrees on the portal with the receipt code, then staff sign
                self.log("confirm", at, (None, set()), role="resident", data={"via": "portal"})
                self.log("sign", at, worker, data={"resident": "portal"})
            else:
                rating = self._rate(step, at)
        return rating

    def _evidence_times(self, todo: list, t0: datetime, end: datetime, consult_at: datetime | None) -> list:
        """Work before the meeting is done before it; the consultation is logged right after it."""
        if consult_at is None:
            return self._times(t0, end, len(todo))
        i = [what for what, _ in todo].index("consult")
        return self._times(t0, consult_at, i) + [consult_at] + self._times(consult_at, end, len(todo) - i - 1)

    def _value(self, name: str):
        return self.topic[name] if name in self.topic else self.topic["details"].get(name)

    def _record(self, fields: list[str], at: datetime, worker) -> None:
        values = {name: self._typed(name) for name in fields}
        self.log("record", at, worker, data={"fields": sorted(fields)})  # first: it may be after `now`
        details = dict(self.topic["details"])
        for name, value in values.items():
            if name in self.topic:
                self.topic[name] = value
            else:
                details[name] = value
        self.topic["details"] = details

    def _typed(self, name: str) -> str:
        """What staff type into an evidence field."""
        community, grids = self.home
        fixed = {"category": self.cat.name, "urgency": "normal", "community": community,
                 "description": self.topic["description"], "resident_name": "匿名居民", "channel": self.topic["channel"],
                 "plan": self.cat.plan, "outcome": self.cat.outcome, "reason": "不属于协商范围",
                 "summary": f"已办结：{self.cat.outcome}。经验已在月度例会汇总。"}
        if name in fixed:
            return fixed[name]
        if name == "grid":
            return grids[0] if grids else community
        if name == "place":
            return f"{community}{self.rnd.randrange(1, 30)} 号楼"
        if name == "resident_phone":
            return f"13{self.rnd.randrange(10**9):09d}"
        return self._department()

    def _department(self) -> str:
        return self.rnd.choice(self.s.cast.departments or FALLBACK_DEPARTMENTS)

    def _rate(self, step: dict, at: datetime) -> dict:
        """A rating in act()'s shape: the resident on the portal, or staff logging a callback
        (who may judge it invalid). Second rounds go better: the problem was worked again."""
        rnd = self.rnd
        good = self.p.satisfaction + (0.2 if self.round > 1 else 0)
        level = SATISFIED_LEVELS[_weighted_index(rnd, LEVEL_WEIGHTS)] if rnd.random() < good else UNSATISFIED
        solved = rnd.random() < SOLVED.get(level, 0.12)
        actor = (None, RESIDENT) if step.get("evaluation") else self._rater(step)  # 群众评议 decides
        by_resident = actor[1] == RESIDENT
        score = SCORES.get(level, rnd.choice((1, 2)))
        data = {"level": level, "satisfied": level != UNSATISFIED, "solved": solved, "valid": True,
                "score": score if rnd.random() < 0.7 else None,
                "via": "portal" if by_resident else rnd.choice(("回访", "12345", "信箱"))}
        if not by_resident and rnd.random() < 0.03:
            data = {**data, "valid": False, "invalid_reason": "与办理事项无关"}
        data |= evaluated(step, score, rnd)
        self.log("rate", at, actor, data=data)
        return data

    def _rater(self, step: dict):
        """The resident on the portal about half the time where residents rate; else whoever
        works the step logs the callback."""
        resident = "resident" in step["roles"]
        if resident and self.rnd.random() < 0.45:
            return None, RESIDENT
        return self._worker(step) or (None, RESIDENT)

    # -- moving

    def _move(self, step: dict, t: dict, at: datetime, worker) -> None:
        """As act()'s `_move`: the topic changes only once the event is logged (before `now`)."""
        kind, frm = t["kind"], step["key"]
        target = t.get("to") or frm
        data, comment, details = {}, "", {}
        if kind == "reopen":
            data, comment = {"rating": self._last_rating()}, "居民不满意，复盘再办"
        elif kind == "escalate":
            data = {"level": t.get("level", "street"), "reason": "社区协商无法解决，提请街道协调"}
        elif kind == "transfer":  # as act() logs a 转交 to one department, due at the step's own limit
            name = self._department()
            data, details = {"departments": [name], "asked": ASKED, "due_at": None}, {"department": name}
        elif kind == "close_out_of_scope":
            data = details = {"reason": "不属于本级协商范围，已告知居民向相关部门反映"}
        effect = ACTIONS[kind]
        self.round += effect.new_round  # the reopen is logged in its new round
        try:
            ev = self.log(kind, at, worker, frm=frm, to=target, data=data, comment=comment)
        except _Stop:
            self.round -= effect.new_round
            raise
        self.escalated |= effect.escalates
        if details:
            self.topic["details"] = {**self.topic["details"], **details}
        self.step, self.entered = self.s.by_key[target], ev["at"]
        if effect.closes_as:
            self.status, self.closed_as = "closed", effect.closes_as

    def _last_rating(self) -> dict | None:
        visit = self.events[max(i for i, e in enumerate(self.events) if e["to_step"] is not None):]
        ratings = [e["data"] for e in visit if e["action"] == "rate"]
        return ratings[-1] if ratings else None

    # -- the row

    def row(self) -> dict:
        """The topic's columns as act() leaves them (the periodic job has marked it overdue). The
        version, a lock and nothing more, counts the events (act() bumps it once per flush)."""
        last = self.events[-1]["at"]
        due = self.s.deadlines.due(self.step["key"], self.entered) if self.status == "open" else None
        return {**self.topic, "step_key": self.step["key"], "round": self.round, "status": self.status,
                "closed_as": self.closed_as, "escalated": self.escalated,
                "overdue": due is not None and due < self.now, "step_entered_at": self.entered, "due_at": due,
                "updated_at": last, "version": len(self.events)}


def live(street: Street, rnd, number: int, created: datetime, now: datetime) -> tuple[dict, list[dict]]:
    """One topic and its event log."""
    life = Life(street, rnd, number, created, now).run()
    return life.row(), life.events
