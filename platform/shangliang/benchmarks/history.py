"""A year of generated history for a street (对标 needs months of topics to compare).

`live()` lives one topic through the street's published procedure the way `topics.operations.act`
would log it: the same actions, steps, canonical phases, rounds and sequence numbers, the acting
role taken from the step's roles, the evidence each step asks for before it may be left, claims by
members with logins, transfers and escalations where the procedure has them, 复盘 after an
unsatisfied rating, the odd 不予受理, and topics still open where the clock (`now`) stops them.
`year()` draws a year of intake with seasons. Both are pure: rows as dicts, nothing written, so
bench/benchmarks.py turns the same rows into COPY lines. `generate()` (history_store.py) writes a
street's year with its meetings, duty shifts and evidence files.

Deterministic: everything comes from the `random.Random` passed in (ids included).
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Callable
from zoneinfo import ZoneInfo

from ..procedures.evidence import EVIDENCE, FieldValues
from ..topics.operations import ACTIONS, acting_roles, add_time_limit, main_path
from ..topics.ratings import SATISFIED_LEVELS, UNSATISFIED

MINUTE = timedelta(minutes=1)
NO_LIMIT = timedelta(hours=72)  # a step without a time limit still takes people some time
MAX_EVENTS = 80  # a guard: no procedure needs more for one topic
CONSULT_AFTER = timedelta(minutes=90)  # a meeting's agreement is logged on its topics after it
ADMIN, MEMBER, RESIDENT = frozenset({"street_admin"}), frozenset({"member"}), frozenset({"resident"})


@dataclass(frozen=True)
class Profile:
    """How a street works, so that streets differ and rankings mean something. Rates are
    probabilities per topic (or per step, for `pace` and `stall`)."""

    monthly: float = 25.0  # topics collected per month, on average
    response: float = 0.85  # first response within the intake step's limit
    pace: float = 0.85  # any other step done within its limit
    satisfaction: float = 0.85  # a first rating is (very) satisfied or basically satisfied
    stall: float = 0.015  # a step drags on far beyond its limit
    out_of_scope: float = 0.04  # where the procedure allows 不予受理
    transfer: float = 0.25  # where the procedure allows 转交
    escalate: float = 0.08  # where it allows 提请
    claim: float = 0.85  # a member takes the topic up where members may
    invite: float = 0.2  # the claimant invites another member
    attendance: float = 0.85  # people invited to a meeting come
    duty_kept: float = 0.9  # a duty shift is kept
    meeting_day: int = 2  # the weekday of the weekly consultation meeting (0 = Monday)

    @classmethod
    def of(cls, data: dict | None) -> Profile:
        return cls(**{k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__})

    @classmethod
    def drawn(cls, rnd, monthly: float) -> Profile:
        """A street somewhere between poor and excellent (for benchmarks)."""
        q = rnd.random()
        return cls(monthly=monthly, response=0.55 + 0.43 * q, pace=0.5 + 0.45 * rnd.random(),
                   satisfaction=0.6 + 0.37 * (0.6 * q + 0.4 * rnd.random()), stall=0.005 + 0.04 * (1 - q),
                   claim=0.6 + 0.35 * rnd.random(), duty_kept=0.7 + 0.28 * q, attendance=0.65 + 0.3 * q)


@dataclass(frozen=True)
class Member:
    """A CPPCC member with a login: who claims topics."""

    user_id: int
    person_id: uuid.UUID | None = None
    specialties: tuple[str, ...] = ()


@dataclass
class Cast:
    admin_id: int | None  # the street's administrator acts for the staff
    members: list[Member]
    communities: list[tuple[str, list[str]]]  # (community, its grids)
    departments: list[str]


# ---------------------------------------------------------------- what topics are about

@dataclass(frozen=True)
class Category:
    name: str
    titles: tuple[str, ...]
    plan: str
    outcome: str
    season: tuple[float, ...]  # weight by month, January first


ALL_YEAR = (1.0,) * 12
WINTER = (2.6, 2.2, 1.4, 0.3, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 2.4, 2.8)
SUMMER = (0.3, 0.3, 0.5, 0.8, 1.2, 2.2, 2.8, 2.5, 1.2, 0.6, 0.3, 0.3)
SPRING = (0.5, 0.6, 1.6, 2.0, 1.6, 1.0, 0.8, 0.8, 1.0, 1.1, 0.7, 0.5)
CATEGORIES = (
    Category("物业管理", ("小区物业服务不到位，楼道卫生无人清扫", "物业费收支不公开", "单元门禁损坏多日未修"),
             "召集物业、业委会和居民代表协商，明确服务清单和整改时限", "物业已按清单整改，收支在公示栏公示", ALL_YEAR),
    Category("停车管理", ("小区停车位紧张，外来车辆随意停放", "消防通道被私家车占用", "路边停车收费不规范"),
             "划定临时停车位，外来车辆登记放行，消防通道设置隔离桩", "新划车位 40 个，消防通道已畅通", ALL_YEAR),
    Category("老旧小区改造", ("加装电梯意见不一", "楼顶防水层老化漏雨", "外墙保温层脱落"),
             "委员牵头走访住户，测算分摊方案，提交街道纳入改造计划", "改造已完工，居民验收签字", SPRING),
    Category("供暖", ("暖气不热，室温不达标", "供暖管道漏水", "供暖费收取有争议"),
             "约请热力公司现场测温，排查管网，明确整改时限", "热力公司更换阀门，室温达标", WINTER),
    Category("市政设施", ("雨后小区路面积水", "下水道堵塞返味", "路灯不亮，夜间出行不便"),
             "约请城管和排水部门现场查看，制定疏通改造方案", "管道已疏通，积水点完成改造", SUMMER),
    Category("环境卫生", ("垃圾分类投放点异味大", "绿化带缺乏养护", "楼道堆放杂物"),
             "设置定时定点投放，志愿者值守，物业增加清运频次", "投放点已改造，异味消除", SPRING),
    Category("养老服务", ("老人吃饭难，希望设助餐点", "独居老人缺少照应", "老年活动室设施陈旧"),
             "对接城市治理合伙人开设助餐点，组织志愿者结对", "助餐点已开业，60 岁以上老人优惠", ALL_YEAR),
    Category("邻里纠纷", ("楼上漏水影响楼下", "夜间噪音扰民", "公共空间被占用"),
             "委员和律师参与调解，双方签字确认", "双方达成协议并履行", ALL_YEAR),
    Category("电动车充电", ("电动车飞线充电安全隐患", "充电桩数量不足"), "在小区集中建设充电棚，禁止入户充电",
             "充电棚建成，飞线充电清零", SUMMER),
    Category("医保社保", ("城乡居民医保办理不方便", "养老保险资格认证难"), "约请医保部门进社区集中办理",
             "现场办理 120 余人次", ALL_YEAR),
)
# Topics per month, relative: heating in winter, rain in summer, fewer at the Spring Festival.
SEASON = (1.15, 0.75, 0.95, 1.0, 1.05, 1.15, 1.3, 1.2, 1.0, 0.9, 1.05, 1.15)
CHANNELS = (("hotline_12345", 0.24), ("mailbox", 0.1), ("wechat", 0.18), ("door_visit", 0.12), ("meeting", 0.08),
            ("wish", 0.05), ("portal", 0.13), ("grid_worker", 0.1))
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
# By rating level but unsatisfied (best first): how likely, how often solved, the score given.
LEVEL_WEIGHTS, SOLVED, SCORES = (0.5, 0.35, 0.15), dict(zip(SATISFIED_LEVELS, (0.98, 0.93, 0.7))), \
    dict(zip(SATISFIED_LEVELS, (5, 4, 3)))
FALLBACK_DEPARTMENTS = ("街道城管中心", "街道社会事务办公室", "街道综治中心", "区住建局")


# ---------------------------------------------------------------- time

@lru_cache(maxsize=64)
def fixed_offset(tz: str) -> timedelta | None:
    """The zone's offset if it has been the same all of the last two years (all of China): then
    a deadline lies a fixed time after its start, given the start's weekday and time of day."""
    zone = ZoneInfo(tz)
    now = datetime.now(timezone.utc)
    offsets = {(now - timedelta(days=d)).astimezone(zone).utcoffset() for d in range(0, 731, 15)}
    return offsets.pop() if len(offsets) == 1 else None


class Deadlines:
    """`add_time_limit` and `procedure_deadline` for one procedure and zone, remembered by
    (weekday, time of day) where the zone allows: 2,000,000 topics cost a few thousand walks."""

    def __init__(self, steps: list[dict], tz: str):
        self.tz, self.offset = tz, fixed_offset(tz)
        self.limits = {s["key"]: s.get("time_limit") for s in steps}
        self.path = tuple(s["time_limit"] for s in main_path(steps) if s.get("time_limit"))
        self.memo: dict = {}

    def _cached(self, what, start: datetime, compute) -> datetime | None:
        if self.offset is None:
            return compute(start)
        local = start + self.offset
        key = (what, local.weekday(), local.hour, local.minute, local.second, local.microsecond)
        if key not in self.memo:
            end = compute(start)
            self.memo[key] = None if end is None else end - start
        gap = self.memo[key]
        return None if gap is None else start + gap

    def due(self, step_key: str, start: datetime) -> datetime | None:
        """When a step entered at `start` falls due (what `_move` writes to `due_at`)."""
        limit = self.limits[step_key]
        return self._cached(step_key, start, lambda s: add_time_limit(s, limit, self.tz)) if limit else None

    def deadline(self, start: datetime) -> datetime | None:
        """`procedure_deadline`: the main path's limits one after another."""
        def walk(s):
            for limit in self.path:
                s = add_time_limit(s, limit, self.tz)
            return s
        return self._cached("*", start, walk) if self.path else None


def uuid7(at: datetime, rnd) -> uuid.UUID:
    """A UUIDv7 like `core.db.new_id`, stamped with `at` and drawn from `rnd` (deterministic)."""
    value = (int(at.timestamp() * 1000) & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | rnd.getrandbits(12) << 64 | 0b10 << 62 | rnd.getrandbits(62)
    return uuid.UUID(int=value)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


# ---------------------------------------------------------------- the street

@dataclass
class Street:
    """What living a topic needs to know of its street."""

    tenant_id: int
    tz: str
    version_id: uuid.UUID
    steps: list[dict]
    cast: Cast
    profile: Profile
    # (kind "photo"|"attachment", topic id, actor id, at) → the `attach` event's data
    evidence_file: Callable[[str, uuid.UUID, int | None, datetime], dict]
    deadlines: Deadlines | None = None  # one may be shared by streets of the same procedure and zone
    new_id: Callable = uuid7  # (at, rnd) → an id; the benchmark takes them as hex
    by_key: dict = field(init=False)
    claim_steps: set = field(init=False)

    def __post_init__(self):
        self.by_key = {s["key"]: s for s in self.steps}
        self.deadlines = self.deadlines or Deadlines(self.steps, self.tz)
        self.zone = ZoneInfo(self.tz)
        self.roles_at: dict = {}

        with_members = [s for s in self.steps if "member" in s["roles"] and s["phase"] != "intake"]
        # Members claim where the procedure has them deliberate (参单); failing that, at their first step.
        deliberating = [s["key"] for s in with_members if s["phase"] == "deliberation"]
        self.claim_steps = set(deliberating[:1] or [s["key"] for s in with_members[:1]])
        self.claim_steps |= {s["key"] for s in with_members if s["roles"] == ["member"]}

    def next_meeting(self, after: datetime) -> datetime:
        """The street's next weekly meeting (14:30 local) at least two hours after `after`."""
        local = (after + timedelta(hours=2)).astimezone(self.zone)
        day = local.date() + timedelta(days=(self.profile.meeting_day - local.weekday()) % 7)
        start = datetime.combine(day, time(14, 30), self.zone)
        if start < local:
            start += timedelta(days=7)
        return start.astimezone(timezone.utc)


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
            elif what == "sign":
                self.log("sign", at, worker, data={"resident_signature": self.topic["resident_name"] or "居民代表",
                                                   "staff_signature": "社区经办人"})
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
        actor = self._rater(step)
        by_resident = actor[1] == RESIDENT
        score = SCORES.get(level, rnd.choice((1, 2)))
        data = {"level": level, "satisfied": level != UNSATISFIED, "solved": solved, "valid": True,
                "score": score if rnd.random() < 0.7 else None,
                "via": "portal" if by_resident else rnd.choice(("回访", "12345", "信箱"))}
        if not by_resident and rnd.random() < 0.03:
            data = {**data, "valid": False, "invalid_reason": "与办理事项无关"}
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
        elif kind == "transfer":
            data = details = {"department": self._department()}
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


# ---------------------------------------------------------------- a year of intake

def window(now: datetime, tz: str, months: int = 12) -> datetime:
    """The start of the month `months` months before `now`'s (local): twelve whole months and
    this one so far."""
    local = now.astimezone(ZoneInfo(tz))
    y, m = divmod(local.year * 12 + local.month - 1 - months, 12)
    return datetime(y, m + 1, 1, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def intake_times(rnd, start: datetime, now: datetime, tz: str, monthly: float) -> list[datetime]:
    """When topics came in: a Poisson number a day around the street's monthly mean, by season,
    fewer at weekends, in the day's waking hours."""
    zone, out = ZoneInfo(tz), []
    day = start.astimezone(zone).date()
    while True:
        weekend = day.weekday() >= 5
        rate = monthly * SEASON[day.month - 1] * 12 / 365 * (0.55 if weekend else 1.18)
        for _ in range(_poisson(rnd, rate)):
            minutes = 7 * 60 + int(rnd.triangular(0, 15 * 60, 3 * 60))
            at = datetime.combine(day, time(0), zone) + timedelta(minutes=minutes)
            out.append(at.astimezone(timezone.utc))
        day += timedelta(days=1)
        if datetime.combine(day, time(0), zone) > now:
            break
    return sorted(t for t in out if t <= now)


def year(street: Street, rnd, first_number: int, now: datetime, months: int = 12):
    """Every topic of the window, numbered from `first_number` in order of intake: yields
    (topic row, its events)."""
    start = window(now, street.tz, months)
    for i, created in enumerate(intake_times(rnd, start, now, street.tz, street.profile.monthly)):
        yield live(street, rnd, first_number + i, created, now)


# ---------------------------------------------------------------- small draws

def _poisson(rnd, lam: float) -> int:
    if lam > 30:
        return max(0, round(rnd.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rnd.random()
    while p > limit:
        k += 1
        p *= rnd.random()
    return k


def _weighted(rnd, pairs):
    return pairs[_weighted_index(rnd, [w for _k, w in pairs])][0]


def _weighted_index(rnd, weights) -> int:
    x, acc = rnd.random() * sum(weights), 0.0
    for i, w in enumerate(weights):
        acc += w
        if x < acc:
            return i
    return len(weights) - 1


def _pick_category(rnd, month: int) -> Category:
    return CATEGORIES[_weighted_index(rnd, [c.season[month - 1] for c in CATEGORIES])]
