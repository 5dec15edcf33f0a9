"""The member ledger (履职档案): a real history across two periods (topics claimed, invited, closed,
rated and reopened through the procedure; meetings held and planned; shifts kept, missed and
planned) gives every count and the points on the default scale and on a county's own; the
members it counts active are the participation measure's; the exports open in openpyxl; a
member sees only their own entry; the page costs the same at 5 and at 50 members."""
from __future__ import annotations

import io
import os
import re
import uuid
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

import factories
from shangliang.accounts.operations import create_api_token
from shangliang.ledger import operations as ledger_ops
from shangliang.benchmarks import rollups
from shangliang.benchmarks.measures import DEFAULT_POINTS, DEFAULT_SETTINGS
from shangliang.benchmarks.models import Rollup
from shangliang.benchmarks.operations import save_settings
from shangliang.benchmarks.periods import parse
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.procedures.operations import publish
from shangliang.roster import operations as roster
from shangliang.roster.models import Person, Station
from shangliang.topics import operations as ops
from shangliang.topics.models import Topic, TopicEvent
from shangliang.topics import log as topic_log  # topics read the time through log.clock()
from support.browser import CHROMIUM, SHOTS, browser, go_to, live_server, shows, sign_in  # noqa: F401  (fixtures)
from support.clock import Clock, stopped_at
# fixtures: the history, told once for the module (a copy for a test that writes, none for a fresh one)
from support.databases import build_once, config, fresh, world, writes  # noqa: F401
from support.procedures import SMALL

STAFF = {"staff", "street_admin"}
UTC = timezone.utc


# ---------------------------------------------------------------- the history

def at(clock, when: datetime):
    clock.now = when.replace(tzinfo=UTC)


def act(street, topic, kind, user_id=None, roles=STAFF, data=None, to=None):
    return factories.act(street, topic, kind, user_id, roles, data, to)


def consult_and_advance(street, topic):
    act(street, topic, "consult", data={"agreement": "同意"})
    act(street, topic, "advance", to="ping")


def close(street, topic):
    act(street, topic, "advance", to="shou")
    act(street, topic, "record", data={"summary": "已办结"})
    act(street, topic, "close")


def new_topic(street, title):
    topic = factories.raise_topic(street, None, title=title, category="市政", description="说明")
    act(street, topic, "advance", to="shang")
    return topic


def rating(level, score=None, valid=True):
    data = {"level": level, "score": score, "valid": valid}
    return data if valid else {**data, "invalid_reason": "打错电话"}


def member(street, name, login=True, username=None):
    fields = {"sector": "经济界", "level": "street"}
    if login:
        return factories.member(street, name, username or f"ledger-{name}", **fields)[1]
    return factories.person(street, "member", name, **fields)


def meeting(street, when, status, people):
    """people: (person, convener, attended: True, False or None when attendance is not recorded)."""
    m = factories.meeting(street, f"议事会{when:%m%d}", when.replace(tzinfo=UTC),
                          conveners=[p for p, convener, _a in people if convener] or ["召集人"],  # one must call it
                          participants=[p for p, convener, _a in people if not convener])
    if any(attended is not None for _p, _c, attended in people):
        factories.attend(street, m, [p for p, _c, attended in people if attended])
    if status == "held":
        factories.hold(street, m)
    return m


def tell_history(world, clock) -> dict:
    """燕山街道 in March, April and May 2025 (Asia/Shanghai, UTC+8):

    A claims #1 (closed, rated 满意 5 in March) and #2, invites B to #2; #2 is rated 不满意 in
    March, reopened, rated 非常满意 4 and closed in May. C claims #3 at 01:00 on 1 April local
    time (still 31 March in UTC), rated 基本满意 in May; and #4 (不满意 2) and #5 (an invalid
    rating) in May. A meeting held on 10 March: A convenes and attends, D attends, B was invited
    but absent, a grid worker attends; one planned for 20 March (C) does not count; one held on
    15 May, D convening. Shifts: D kept 5 March and missed 6 March, C planned 7 March, B kept
    2 May; E, deactivated, kept 5 March; F, deactivated, did nothing. D has no login."""
    street = world.yanshan
    with tenant_context(street.id):
        factories.procedure(street)
        people = {n: member(street, n) for n in "ABC"}
        people["D"] = member(street, "D", login=False)
        people["E"], people["F"] = member(street, "E"), member(street, "F")
        grid = factories.person(street, "grid_worker", "网格员", grid="1 网格")
        uid = {n: p.user_id for n, p in people.items()}
        claim = {"roles": {"member"}}

        at(clock, datetime(2025, 3, 2, 2))
        t1, t2 = new_topic(street, "路灯不亮"), new_topic(street, "楼道堆物")
        at(clock, datetime(2025, 3, 3, 2))
        act(street, t1, "claim", uid["A"], **claim)
        at(clock, datetime(2025, 3, 4, 2))
        consult_and_advance(street, t1)
        at(clock, datetime(2025, 3, 5, 2))
        act(street, t1, "rate", data=rating("satisfied", 5))
        at(clock, datetime(2025, 3, 6, 2))
        close(street, t1)
        at(clock, datetime(2025, 3, 8, 2))
        act(street, t2, "claim", uid["A"], **claim)
        at(clock, datetime(2025, 3, 9, 2))
        act(street, t2, "invite", uid["A"], data={"user_id": uid["B"]}, **claim)
        at(clock, datetime(2025, 3, 10, 2))
        consult_and_advance(street, t2)
        at(clock, datetime(2025, 3, 12, 2))
        act(street, t2, "rate", data=rating("unsatisfied", 1))
        at(clock, datetime(2025, 3, 13, 2))
        act(street, t2, "reopen", to="shang")

        at(clock, datetime(2025, 3, 30, 2))
        t3 = new_topic(street, "停车难")
        at(clock, datetime(2025, 3, 31, 17))  # 1 April, 01:00 in Shanghai
        act(street, t3, "claim", uid["C"], **claim)
        at(clock, datetime(2025, 4, 2, 2))
        consult_and_advance(street, t3)

        at(clock, datetime(2025, 5, 1, 2))
        t4, t5 = new_topic(street, "噪音扰民"), new_topic(street, "垃圾分类")
        at(clock, datetime(2025, 5, 2, 2))
        act(street, t4, "claim", uid["C"], **claim)
        act(street, t5, "claim", uid["C"], **claim)
        at(clock, datetime(2025, 5, 3, 2))
        consult_and_advance(street, t4)
        consult_and_advance(street, t5)
        at(clock, datetime(2025, 5, 5, 2))
        consult_and_advance(street, t2)
        at(clock, datetime(2025, 5, 6, 2))
        act(street, t2, "rate", data=rating("very_satisfied", 4))
        at(clock, datetime(2025, 5, 7, 2))
        close(street, t2)
        at(clock, datetime(2025, 5, 8, 2))
        act(street, t3, "rate", data=rating("basic"))
        at(clock, datetime(2025, 5, 9, 2))
        act(street, t4, "rate", data=rating("unsatisfied", 2))
        at(clock, datetime(2025, 5, 10, 2))
        act(street, t5, "rate", data=rating("satisfied", 5, valid=False))

        P = people
        meeting(street, datetime(2025, 3, 10, 2), "held",
                [(P["A"], True, True), (P["D"], False, True), (P["B"], False, False), (grid, False, True)])
        meeting(street, datetime(2025, 3, 20, 2), "planned", [(P["C"], False, True)])
        meeting(street, datetime(2025, 5, 15, 2), "held", [(P["D"], True, None)])
        station = factories.station(street, "燕子山e站", "grid_station")
        for who, day, status in (("D", date(2025, 3, 5), "kept"), ("D", date(2025, 3, 6), "missed"),
                                 ("C", date(2025, 3, 7), "planned"), ("B", date(2025, 5, 2), "kept"),
                                 ("E", date(2025, 3, 5), "kept")):
            factories.shift(street, station, P[who], day, status)
        for who in "EF":  # deactivated after their shifts (a deactivated member is put on duty no more)
            roster.set_active(street, None, P[who], False)
        db.commit()
        return {n: p.id for n, p in people.items()}


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """The history, told once for the module; a test that changes it gets a copy (`writes`)."""
    def build(world):
        clock = Clock(datetime(2025, 3, 1, 2, 0, tzinfo=UTC))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(topic_log, "utcnow", clock)
            return {"ids": tell_history(world, clock), "now": clock.now}

    return build_once(request, tmp_path_factory, build)


@pytest.fixture
def clock(monkeypatch, built):
    """Where the history left the clock."""
    return stopped_at(monkeypatch, built.data["now"])


@pytest.fixture
def history(built, clock) -> dict:
    """The roster's person ids by name (A…F)."""
    return built.data["ids"]


def counts(entry) -> dict:
    return {k: v for k, v in entry.counts.items() if v}


def book_of(world, period, scale=None):
    with tenant_context(world.yanshan.id):
        book = ledger_ops.ledger(world.yanshan, parse(period), scale=scale)
        db.commit()  # the settings read's audit row
    return {e.person.name: e for e in book.entries}, book


def county_scale(world):
    """The county sets its own points, and counts 基本满意 as satisfied."""
    form = {**{f"weight_{k}": str(v) for k, v in DEFAULT_SETTINGS["weights"].items()}, "min_topics": "10",
            "measures": DEFAULT_SETTINGS["measures"], "basic_counts": "on",
            **{f"points_{k}": str(v) for k, v in {"claim": 1, "close": 5, "attend": 1, "convene": 2, "duty_kept": 1,
                                                   "duty_missed": -3, "rated_satisfied": 2,
                                                   "rated_unsatisfied": -2}.items()}}
    with tenant_context(world.lixia.id):
        save_settings(world.lixia, None, form)
        db.commit()


# ---------------------------------------------------------------- counts and points

def test_every_count_and_the_points_on_the_default_scale(app, world, clock, history):
    with app.app_context():
        march, book = book_of(world, "2025-03")
        assert book.scale == DEFAULT_POINTS and not book.basic_counts
        assert {n: counts(e) for n, e in march.items()} == {
            "A": {"claim": 2, "close": 1, "attend": 1, "convene": 1, "rated_satisfied": 1, "rated": 1},
            "B": {"claim": 1, "invited": 1},  # invited: takes part, leads nothing
            "C": {},  # his claim was at 01:00 on 1 April, Shanghai time
            "D": {"attend": 1, "duty_kept": 1, "duty_missed": 1},
            "E": {"duty_kept": 1},  # deactivated, listed for what she did; F did nothing and is not listed
        }
        # #2's 不满意 of March was superseded by May's 非常满意: only the rating that stands counts
        assert {n: e.points for n, e in march.items()} == {"A": 2 * 2 + 3 + 2 + 3 + 1, "B": 2, "C": 0,
                                                          "D": 2 + 2 - 2, "E": 2}
        assert march["A"].score_avg == 5.0 and march["B"].score_avg is None
        assert (book.members_total, book.members_active) == (4, 3)

        april, book = book_of(world, "2025-04")
        assert {n: counts(e) for n, e in april.items() if counts(e)} == {"C": {"claim": 1}}
        assert book.members_active == 1

        may, book = book_of(world, "2025-05")
        assert {n: counts(e) for n, e in may.items()} == {
            "A": {"close": 1, "rated_satisfied": 1, "rated": 1},  # #2, led since March, though invited B helped
            "B": {"duty_kept": 1},
            "C": {"claim": 2, "rated_unsatisfied": 1, "rated_basic": 1, "rated": 2},  # #5's rating is invalid
            "D": {"convene": 1},  # convened, attendance not recorded; E, deactivated, did nothing in May
        }
        assert {n: e.points for n, e in may.items()} == {"A": 3 + 1, "B": 2, "C": 4 - 1, "D": 3}
        assert may["C"].score_avg == 2.0 and may["A"].score_avg == 4.0
        assert book.members_active == 3  # A only closed and was rated: not an activity of participation

        year, book = book_of(world, "2025")
        assert {n: e.points for n, e in year.items()} == {"A": 17, "B": 4, "C": 5, "D": 5, "E": 2}
        assert counts(year["A"]) == {"claim": 2, "close": 2, "attend": 1, "convene": 1, "rated_satisfied": 2,
                                     "rated": 2}
        assert year["A"].score_avg == 4.5
        q1, _ = book_of(world, "2025-Q1")
        q2, _ = book_of(world, "2025-Q2")
        assert q1["C"].counts["claim"] == 0 and q2["C"].counts["claim"] == 3
        halves = {n: sum(q[n].points for q in (q1, q2) if n in q) for n in year}
        assert halves == {n: e.points for n, e in year.items()}


def test_the_county_sets_the_points_and_whether_basic_counts(app, world, clock, history, writes):
    with app.app_context():
        county_scale(world)
        year, book = book_of(world, "2025")
        assert book.scale["close"] == 5 and book.basic_counts
        # C's 基本满意 on #3 now counts as satisfied
        assert counts(year["C"]) == {"claim": 3, "rated_satisfied": 1, "rated_unsatisfied": 1, "rated": 2}
        assert {n: e.points for n, e in year.items()} == {
            "A": 2 * 1 + 2 * 5 + 1 + 2 + 2 * 2, "B": 1 + 1, "C": 3 + 2 - 2, "D": 1 + 2 + 1 - 3, "E": 1}
        ranked = [e.person.name for e in ledger_ops.sorted_entries(book.entries, "points")]
        assert ranked == ["A", "C", "B", "D", "E"]  # D and E tie at 1: by name


def test_a_members_activities_add_up_to_their_line(app, world, clock, history):
    ids = history
    with app.app_context():
        for period in ("2025-03", "2025-05", "2025"):
            lines, _book = book_of(world, period)
            with tenant_context(world.yanshan.id):
                for name, entry in lines.items():
                    person = db.get(Person, {"tenant_id": world.yanshan.id, "id": ids[name]})
                    listed = ledger_ops.member_activities(world.yanshan, person, parse(period))
                    summed = ledger_ops.summary(person, listed)
                    assert (counts(summed), summed.points, summed.score_avg) == (
                        counts(entry), entry.points, entry.score_avg), f"{name} {period}"
                db.commit()
        with tenant_context(world.yanshan.id):
            a = db.get(Person, {"tenant_id": world.yanshan.id, "id": ids["A"]})
            march = ledger_ops.member_activities(world.yanshan, a, parse("2025-03"))
            db.commit()
        assert [(x.day.isoformat(), x.kind, x.topic_number or x.meeting_number, x.points) for x in march] == [
            ("2025-03-03", "claim", 1, 2), ("2025-03-05", "rated_satisfied", 1, 1), ("2025-03-06", "close", 1, 3),
            ("2025-03-08", "claim", 2, 2), ("2025-03-10", "attend", march[4].meeting_number, 2),
            ("2025-03-10", "convene", march[4].meeting_number, 3)]
        assert march[1].level == "satisfied" and march[1].score == 5 and march[0].time == "10:00"


def test_the_ledger_and_the_participation_measure_agree(app, world, clock, history, writes):
    with app.app_context():
        rollups.rebuild(datetime(2025, 6, 30, tzinfo=UTC), tenant_ids=[world.yanshan.id],
                        acting_tenant_id=world.platform.id, commit=db.commit)
        for period in ("2025-03", "2025-04", "2025-05", "2025-Q1", "2025-Q2", "2025"):
            lines, book = book_of(world, period)
            with tenant_context(world.yanshan.id):
                row = db.scalar(select(Rollup).where(Rollup.period == period))
                db.commit()
            active = {str(e.person.id) for e in book.entries if e.active and e.person.active}
            assert (row.members_active, row.members_total) == (book.members_active, book.members_total), period
            assert set(row.active_members) == active, period


def test_a_street_without_members_or_activity_has_an_empty_ledger(app, world, fresh):
    with app.app_context():
        lines, book = book_of(world, "2025")
        assert lines == {} and (book.members_total, book.members_active) == (0, 0)


# ---------------------------------------------------------------- pages and exports

def test_the_page_lists_every_member_with_the_scale_in_words(app, world, clock, as_user, history):
    ids = history
    client = as_user("yanshan-staff")
    html = client.get("/t/yanshan/ledger/?period=2025").get_data(as_text=True)
    assert "2025年" in html and "在册委员" in html
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert [r.split("<strong>")[1].split("</strong>")[0] for r in rows] == ["A", "C", "D", "B", "E"]  # by points
    assert 'class="num ledger-points">17<' in rows[0]
    assert "认领或受邀参与议题" in html and "每件 +2 分" in html and "每次 −2 分" in html  # the scale in words
    by_name = client.get("/t/yanshan/ledger/?period=2025&sort=name").get_data(as_text=True)
    assert by_name.index("<strong>A</strong>") < by_name.index("<strong>B</strong>") < by_name.index(
        "<strong>C</strong>")
    page = client.get(f"/t/yanshan/ledger/{ids['A']}?period=2025-03").get_data(as_text=True)
    assert "路灯不亮" in page and "召集议事会" in page and ">13<" in page
    assert 'href="/t/yanshan/topics/1"' in page
    bad = client.get("/t/yanshan/ledger/?period=2025-13")
    assert bad.status_code == 400 and "统计期须为" in bad.get_data(as_text=True)
    empty = client.get(f"/t/yanshan/ledger/{ids['F']}?period=2024")
    assert empty.status_code == 200 and "本期没有履职记录" in empty.get_data(as_text=True)
    client.get("/lang/en")
    english = client.get(f"/t/yanshan/ledger/{ids['A']}?period=2025-Q1").get_data(as_text=True)
    assert "Member ledger" in english and "Q1 2025" in english and "+2 points per topic" in english
    assert "Claimed a topic" in english and "Meeting convened" in english


def test_empty_roster_says_so(app, world, as_user, fresh):
    html = as_user("yanshan-admin").get("/t/yanshan/ledger/").get_data(as_text=True)
    assert "名册上还没有政协委员" in html and "去名册添加委员" in html and "导出 Excel" not in html


def test_the_street_export_opens_with_every_member_and_the_rules(app, world, clock, as_user, history, writes):
    with app.app_context():
        county_scale(world)
    admin = as_user("yanshan-admin")
    bad = admin.get("/t/yanshan/ledger/export.xlsx?period=2025-Q9")
    assert bad.status_code == 400 and "统计期须为" in bad.get_data(as_text=True)
    resp = admin.get("/t/yanshan/ledger/export.xlsx?period=2025")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "2025.xlsx" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["履职档案", "说明"]
    rows = list(wb["履职档案"].values)
    head = rows[0]
    table = {r[0]: dict(zip(head, r)) for r in rows[1:]}
    assert list(table) == ["A", "C", "B", "D", "E"]
    assert table["A"]["积分"] == 19 and table["A"]["牵头办结"] == 2 and table["A"]["平均评分"] == 4.5
    assert table["C"]["满意评价"] == 1 and table["C"]["不满意评价"] == 1 and table["E"]["状态"] == "已停用"
    about = [r for r in wb["说明"].values]
    assert ("在册委员", 4) in [r[:2] for r in about] and ("本期有履职的委员", 4) in [r[:2] for r in about]
    rules = {r[0]: r[1] for r in about if r[1] and "分/" in str(r[1])}
    assert rules["牵头的议题办结"] == "+5 分/件" and rules["轮值缺岗"] == "−3 分/次"
    assert any("基本满意”按县（区）设置计入满意" in str(r[2]) for r in about)


def test_a_members_export_has_a_summary_and_every_activity(app, world, clock, as_user, history):
    ids = history
    resp = as_user("yanshan-admin").get(f"/t/yanshan/ledger/{ids['C']}.xlsx?period=2025")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["汇总", "履职明细"]
    sheet = [r for r in wb["汇总"].values if r[0]]
    cut = [r[0] for r in sheet].index("积分规则")
    summary = {r[0]: r[1:] for r in sheet[:cut]}
    rules = {r[0]: r[1:] for r in sheet[cut + 1:]}
    assert summary["姓名"][0] == "C" and summary["统计期"][0].startswith("2025年（2025-01-01 至 2025-12-31）")
    assert summary["认领或受邀参与议题"][:3] == (3, 2, 6)
    assert summary["牵头议题获不满意评价"][:3] == (1, -1, -1)
    assert summary["合计积分"][2] == 5 and summary["获基本满意评价（不计分）"][0] == 1
    assert summary["所牵头议题平均评分（1–5）"][0] == 2
    assert summary["轮值缺岗"][:3] == (0, -2, 0)
    assert rules["轮值缺岗"][0] == "−2 分/次" and rules["牵头的议题办结"][1].startswith("本人认领的议题在本期办结")
    items = list(wb["履职明细"].values)
    assert items[0] == ("日期", "时间", "履职项目", "议题/议事会/站点", "评价", "评分", "积分")
    assert [r[:3] for r in items[1:]] == [
        ("2025-04-01", "01:00", "认领议题"), ("2025-05-02", "10:00", "认领议题"), ("2025-05-02", "10:00", "认领议题"),
        ("2025-05-08", "10:00", "牵头的议题获基本满意评价（不计分）"), ("2025-05-09", "10:00", "牵头的议题获不满意评价")]
    assert items[1][3] == "议题 #3 停车难" and items[5][4:] == ("不满意", 2, -1)
    with app.app_context():
        b = as_user("yanshan-admin").get(f"/t/yanshan/ledger/{ids['D']}.xlsx?period=2025-03")
        shifts = list(load_workbook(io.BytesIO(b.data))["履职明细"].values)[1:]
        assert [(r[2], r[3], r[6]) for r in shifts] == [("轮值到岗", "燕子山e站", 2), ("轮值缺岗", "燕子山e站", -2),
                                                      ("出席议事会", shifts[2][3], 2)]
        assert shifts[2][3].startswith("议事会 #")


# ---------------------------------------------------------------- who sees what

def test_a_member_sees_their_own_entry_only(app, world, clock, as_user, history):
    ids = history
    alone = as_user("yanshan-member")  # a member whose login is on no roster line
    page = alone.get("/t/yanshan/ledger/")
    assert page.status_code == 200 and "还没有关联名册上的委员" in page.get_data(as_text=True)
    a = as_user("ledger-A")
    assert "履职档案" in a.get("/t/yanshan/").get_data(as_text=True)  # in the menu
    to_own = a.get("/t/yanshan/ledger/?period=2025-03")
    assert to_own.status_code == 302 and to_own.headers["Location"].endswith(f"/ledger/{ids['A']}?period=2025-03")
    own = a.get(to_own.headers["Location"]).get_data(as_text=True)
    assert "路灯不亮" in own and "全部委员" not in own
    assert a.get(f"/t/yanshan/ledger/{ids['A']}.xlsx?period=2025").status_code == 200
    for other in ("B", "D"):
        assert a.get(f"/t/yanshan/ledger/{ids[other]}").status_code == 404
        assert a.get(f"/t/yanshan/ledger/{ids[other]}.xlsx").status_code == 404
    assert a.get("/t/yanshan/ledger/export.xlsx").status_code == 403
    assert as_user("guangwumen-admin").get(f"/t/yanshan/ledger/{ids['A']}").status_code == 404
    assert as_user("lixia-admin").get("/t/yanshan/ledger/?period=2025").status_code == 200  # the county's admin
    assert as_user("lixia-admin").get("/t/lixia/ledger/").status_code == 403  # a county keeps no roster


def test_the_api_gives_the_ledger_and_a_members_activities(app, world, clock, client, history, writes):
    ids = history
    with app.app_context():
        county_scale(world)
        with tenant_context(world.yanshan.id):
            _t, secret = create_api_token(world.yanshan, None, "review", "staff")
            _t, member_secret = create_api_token(world.yanshan, None, "wechat", "member")
            db.commit()
    auth = {"Authorization": f"Bearer {secret}"}
    body = client.get("/api/v1/t/yanshan/ledger?period=2025", headers=auth).get_json()
    assert body["period"] == {"key": "2025", "kind": "year", "label": "2025年", "first_day": "2025-01-01",
                              "last_day": "2025-12-31"}
    assert [(i["name"], i["points"]) for i in body["items"]] == [("A", 19), ("C", 3), ("B", 2), ("D", 1), ("E", 1)]
    assert body["items"][0]["counts"]["close"] == 2 and body["items"][4]["on_roster"] is False
    assert body["basic_counts"] is True and {r["kind"]: r["points"] for r in body["rules"]}["duty_missed"] == -3
    assert (body["members_total"], body["members_active"]) == (4, 4)
    one = client.get(f"/api/v1/t/yanshan/ledger/{ids['A']}?period=2025-05", headers=auth).get_json()
    assert one["entry"]["points"] == 5 + 2 and [a["kind"] for a in one["activities"]] == ["rated_satisfied", "close"]
    assert one["activities"][0]["topic_number"] == 2 and one["activities"][0]["level"] == "very_satisfied"
    bad = client.get("/api/v1/t/yanshan/ledger?period=2025-Q5", headers=auth)
    assert bad.status_code == 422 and "period" in bad.get_json()["error"]["fields"]
    assert client.get(f"/api/v1/t/yanshan/ledger/{uuid.uuid4()}", headers=auth).status_code == 404
    member_auth = {"Authorization": f"Bearer {member_secret}"}
    assert client.get("/api/v1/t/yanshan/ledger", headers=member_auth).status_code == 403
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/t/{slug}/ledger" in paths and "/t/{slug}/ledger/{person_id}" in paths
    assert {p["name"] for p in paths["/t/{slug}/ledger"]["get"]["parameters"]} >= {"period", "sort"}


# ---------------------------------------------------------------- cost

def grow(app, world, n):
    """n more members, each with a claim of the same topic, a meeting attended and a kept shift."""
    with app.app_context(), tenant_context(world.yanshan.id):
        station = db.scalar(select(Station)) or factories.station(world.yanshan)
        topic = db.scalar(select(Topic)) or new_topic(world.yanshan, "批量议题")
        db.flush()
        start = db.query(Person).count()
        people = [member(world.yanshan, f"委员{start + i}", username=f"ledger-bulk-{start + i}") for i in range(n)]
        for i, person in enumerate(people):
            # claimed, all of them: more than a topic's claim limit lets act() record, so written as the log
            db.add(TopicEvent(tenant_id=world.yanshan.id, topic_id=topic.id, seq=1000 + start + i, action="claim",
                              round=1, actor_id=person.user_id, at=datetime(2025, 3, 3, tzinfo=UTC)))
            factories.shift(world.yanshan, station, person, date(2025, 3, 4), "kept")
        meeting(world.yanshan, datetime(2025, 3, 10), "held", [(p, p is people[0], True) for p in people])
        db.commit()


def test_the_page_costs_the_same_at_5_and_50_members(app, world, as_user, query_counter, fresh):
    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, SMALL)
        db.commit()
    client = as_user("yanshan-admin")
    urls = ["/t/yanshan/ledger/?period=2025", "/t/yanshan/ledger/?period=2025-03&sort=claim"]

    def cost():
        out = {}
        for url in urls:
            client.get(url)  # first: read again what the process keeps (core/changes.py), then counted
            with query_counter() as stmts:
                resp = client.get(url)
                assert resp.status_code == 200
            out[url] = len(stmts)
        return out

    grow(app, world, 5)
    small = cost()
    grow(app, world, 45)
    large = cost()
    html = client.get(urls[0]).get_data(as_text=True)
    assert html.count('class="num ledger-points">') == 50
    assert small == large, (small, large)


# ---------------------------------------------------------------- in a browser

@pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true", reason="no chromium")
def test_the_ledger_in_a_browser(app, world, clock, live_server, browser, history):
    ids = history
    admin = sign_in(browser, live_server, "yanshan-admin")
    admin.goto(f"{live_server}/t/yanshan/")
    go_to(admin, "履职档案")
    shows(admin, "本期有履职的委员")  # this year: nothing yet, every member listed with zeros
    admin.click("nav.ledger-period >> text=‹")  # the year before: 2025
    admin.wait_for_url(re.compile(r"period=2025$"))
    assert admin.locator("table.ledger-table tbody tr").count() == 5
    admin.screenshot(path=str(SHOTS / "ledger-street.png"), full_page=True)
    admin.click("table.ledger-table >> text=A")
    shows(admin, "路灯不亮")
    assert admin.url.endswith(f"/ledger/{ids['A']}?period=2025")
    admin.screenshot(path=str(SHOTS / "ledger-member.png"), full_page=True)
    with admin.expect_download() as download:
        admin.click("text=导出 Excel")
    assert download.value.suggested_filename == "A履职档案-2025.xlsx"

    own = sign_in(browser, live_server, "ledger-C")
    own.set_viewport_size({"width": 390, "height": 844})
    own.goto(f"{live_server}/t/yanshan/ledger/?period=2025-Q2")
    shows(own, "停车难")
    assert own.url.endswith(f"/ledger/{ids['C']}?period=2025-Q2")
    own.screenshot(path=str(SHOTS / "ledger-own-phone.png"), full_page=True)
