"""The duty rota (轮值): a week's calendar, assigning, swaps, attendance, today's card, reminders the
day before in the street's time zone; and the members suggested to claim a topic, with why."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import csrf_token
from shangliang.accounts.operations import add_membership, create_user
from shangliang.audit.models import AuditLog
from shangliang.core import jobs
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.models import Notification
from shangliang.roster import duty as duty_ops
from shangliang.roster import operations as ops
from shangliang.roster.models import DutyShift, Person, Station
from shangliang.roster.suggestions import fits, suggest_members
from shangliang.roster.tasks import remind_duty
from shangliang.tenants.models import Community, Tenant

DUTY = "/t/yanshan/duty/"
QIBU = (Path(__file__).resolve().parents[1] / "tenants" / "procedures" / "qibu_dingdan.yaml").read_text("utf-8")


@pytest.fixture
def rota(app, world):
    """燕山街道: two stations; three members with logins and one without; a grid worker."""
    street = world.yanshan
    with app.app_context(), tenant_context(street.id):
        db.add(Community(tenant_id=street.id, name="燕子山社区", grids=["1 网格", "2 网格"]))
        tenant = db.get(Tenant, street.id)
        users = {}
        for username in ("m-li", "m-wang", "m-zhao"):
            users[username] = create_user(username, username, "correct-horse-battery")
            add_membership(tenant, None, users[username], "member")
        rows = {
            "李明华": dict(kind="member", specialties="物业、停车管理", community="燕子山社区", username="m-li"),
            "王秀兰": dict(kind="member", specialties="法律", username="m-wang"),
            "赵文斌": dict(kind="member", specialties="物业管理、加装电梯", username="m-zhao"),
            "刘芳": dict(kind="member", specialties="物业"),  # no login: cannot claim
            "陈静": dict(kind="grid_worker", grid="1 网格"),
        }
        for name, data in rows.items():
            ops.create_person(tenant, None, {"name": name, **data})
        for name in ("燕子山小区庭院网格e站", "委员工作室"):
            ops.save_station(tenant, None, {"name": name, "kind": "grid_station", "address": "3 号楼东侧",
                                            "hours": "9:00–11:30"})
        db.commit()
        out = {"street": street, "users": {k: u.id for k, u in users.items()},
               "people": {p.name: p.id for p in db.scalars(select(Person))},
               "stations": {s.name: s.id for s in db.scalars(select(Station))},
               "today": duty_ops.local_today(tenant)}
    return out


def post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def shifts(app, street):
    with app.app_context(), tenant_context(street.id):
        rows = db.scalars(select(DutyShift).order_by(DutyShift.day)).all()
        for r in rows:
            db.expunge(r)
        return rows


def week_days(rota):
    monday = duty_ops.monday_of(rota["today"])
    return [monday + timedelta(days=i) for i in range(7)]


def assign(client, rota, station, names, days):
    return client.post(DUTY + "assign", data={
        "csrf_token": csrf_token(client), "station_id": str(rota["stations"][station]),
        "person_ids": [str(rota["people"][n]) for n in names], "days": [d.isoformat() for d in days]})


# ---------------------------------------------------------------- the calendar

def test_staff_assign_a_week_and_the_calendar_shows_it(app, as_user, rota):
    staff = as_user("yanshan-staff")
    days = week_days(rota)
    resp = assign(staff, rota, "燕子山小区庭院网格e站", ["李明华", "王秀兰"], days[:3])
    assert resp.status_code == 302
    assert len(shifts(app, rota["street"])) == 6
    # again, with one more day and a member already on duty elsewhere that day: only the new ones
    resp = assign(staff, rota, "委员工作室", ["李明华"], days[:4])
    assert len(shifts(app, rota["street"])) == 7
    html = staff.get(resp.location).get_data(as_text=True)
    assert "已安排 1 个班次，跳过 3 个当天已有安排的" in html
    assert html.count('class="shift shift-planned"') == 7 + 1  # and one in the legend
    assert "燕子山小区庭院网格e站" in html and "李明华" in html and days[0].strftime("%m-%d") in html
    next_week = duty_ops.week_param(days[0] + timedelta(days=7))
    assert 'class="shift shift-planned"' not in staff.get(f"{DUTY}?week={next_week}").get_data(as_text=True) \
        .replace('<span class="shift shift-planned">', "")
    assert staff.get(f"{DUTY}?week=nonsense").status_code == 200  # this week instead


def test_assigning_names_what_is_missing(app, as_user, rota):
    staff = as_user("yanshan-staff")
    resp = post(staff, DUTY + "assign", station_id="", days="")
    assert resp.status_code == 400 and "请选择站点" in resp.get_data(as_text=True)
    resp = assign(staff, rota, "委员工作室", ["李明华"], [])
    assert resp.status_code == 400 and "请选择轮值日期" in resp.get_data(as_text=True)
    resp = assign(staff, rota, "委员工作室", ["陈静"], week_days(rota)[:1])  # a grid worker
    assert resp.status_code == 400 and "请选择在册的政协委员" in resp.get_data(as_text=True)


def test_members_see_the_rota_but_do_not_change_it(app, as_user, rota):
    assign(as_user("yanshan-staff"), rota, "委员工作室", ["李明华"], [rota["today"]])
    member = as_user("yanshan-member")
    html = member.get(DUTY).get_data(as_text=True)
    assert "李明华" in html and "安排轮值" not in html and "shift-menu" not in html
    assert assign(member, rota, "委员工作室", ["王秀兰"], [rota["today"]]).status_code == 403
    [shift] = shifts(app, rota["street"])
    assert post(member, f"{DUTY}{shift.id}/mark", status="kept").status_code == 403


def test_two_members_swap_and_a_third_takes_over(app, as_user, rota):
    staff = as_user("yanshan-staff")
    days = week_days(rota)
    assign(staff, rota, "燕子山小区庭院网格e站", ["李明华"], [days[1]])
    assign(staff, rota, "委员工作室", ["王秀兰"], [days[3]])
    a, b = shifts(app, rota["street"])
    assert post(staff, DUTY + "swap", shift_id=str(a.id), other_id=str(b.id)).status_code == 302
    a2, b2 = shifts(app, rota["street"])
    li, wang, zhao = (rota["people"][n] for n in ("李明华", "王秀兰", "赵文斌"))
    assert (a2.person_id, a2.swapped_from, b2.person_id, b2.swapped_from) == (wang, li, li, wang)
    assert post(staff, DUTY + "swap", shift_id=str(a.id), person_id=str(zhao)).status_code == 302
    a3, _ = shifts(app, rota["street"])
    assert (a3.person_id, a3.swapped_from) == (zhao, wang)
    resp = post(staff, DUTY + "swap", shift_id=str(a.id), other_id=str(a.id))
    assert resp.status_code == 400 and "请选择两位不同委员的班次" in resp.get_data(as_text=True)
    with app.app_context(), tenant_context(rota["street"].id):
        actions = db.scalars(select(AuditLog.action).where(AuditLog.action.like("duty.%"))).all()
        assert {"duty.assign", "duty.swap", "duty.hand_over"} <= set(actions)
        told = db.scalars(select(Notification.user_id).where(Notification.kind == "duty.changed")).all()
        assert set(told) == {rota["users"]["m-li"], rota["users"]["m-wang"], rota["users"]["m-zhao"]}
    html = staff.get(DUTY).get_data(as_text=True)
    assert 'class="swapped"' in html


def test_a_swap_that_would_double_book_a_member_is_refused(app, as_user, rota):
    staff = as_user("yanshan-staff")
    day = week_days(rota)[2]
    assign(staff, rota, "燕子山小区庭院网格e站", ["李明华", "王秀兰"], [day])
    with app.app_context(), tenant_context(rota["street"].id):
        li = db.scalar(select(DutyShift).where(DutyShift.person_id == rota["people"]["李明华"]))
    resp = post(staff, DUTY + "swap", shift_id=str(li.id), person_id=str(rota["people"]["王秀兰"]))
    assert resp.status_code == 409 and "该委员当天已在这个站点轮值" in resp.get_data(as_text=True)


def test_attendance_is_recorded_on_or_after_the_day(app, as_user, rota):
    staff = as_user("yanshan-staff")
    today, tomorrow = rota["today"], rota["today"] + timedelta(days=1)
    assign(staff, rota, "委员工作室", ["李明华"], [today, tomorrow])
    now, later = shifts(app, rota["street"])
    assert post(staff, f"{DUTY}{now.id}/mark", status="kept").status_code == 302
    resp = post(staff, f"{DUTY}{later.id}/mark", status="missed")
    assert resp.status_code == 400 and "还没到轮值日期" in resp.get_data(as_text=True)
    assert post(staff, f"{DUTY}{later.id}/mark", status="bogus").status_code == 400
    # a shift whose attendance is recorded stays as it was; a planned one can be cancelled
    resp = post(staff, f"{DUTY}{now.id}/remove")
    assert resp.status_code == 409 and "已记录到岗情况的班次不能再调整" in resp.get_data(as_text=True)
    assert post(staff, f"{DUTY}{later.id}/remove").status_code == 302
    [kept] = shifts(app, rota["street"])
    assert kept.status == "kept"


def test_today_on_duty_shows_on_the_dashboard_and_the_rota(app, as_user, rota):
    staff = as_user("yanshan-staff")
    assign(staff, rota, "燕子山小区庭院网格e站", ["李明华"], [rota["today"]])
    assign(staff, rota, "委员工作室", ["王秀兰"], [rota["today"] + timedelta(days=1)])
    dashboard = as_user("yanshan-member").get("/t/yanshan/manage/").get_data(as_text=True)
    card = dashboard.split("今日轮值")[1].split("</section>")[0]
    assert "李明华" in card and "燕子山小区庭院网格e站" in card and "王秀兰" not in card
    with app.app_context(), tenant_context(rota["street"].id):
        today = duty_ops.on_duty(db.get(Tenant, rota["street"].id))
        assert [(p.name, s.name) for _shift, p, s in today] == [("李明华", "燕子山小区庭院网格e站")]


# ---------------------------------------------------------------- reminders

class FixedNow(datetime):
    """2025-03-01 20:00 UTC: already 2 March in Shanghai (04:00), still 1 March in UTC."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2025, 3, 1, 20, 0, tzinfo=timezone.utc).astimezone(tz)


def test_reminders_go_the_day_before_in_the_streets_time_zone_once(app, rota, run_jobs, monkeypatch):
    monkeypatch.setattr(duty_ops, "datetime", FixedNow)
    street = rota["street"]
    station = rota["stations"]["委员工作室"]
    with app.app_context(), tenant_context(street.id):
        tenant = db.get(Tenant, street.id)
        assert duty_ops.local_today(tenant) == date(2025, 3, 2)
        for name, day in (("李明华", date(2025, 3, 3)), ("刘芳", date(2025, 3, 3)), ("王秀兰", date(2025, 3, 2)),
                          ("赵文斌", date(2025, 3, 4))):
            duty_ops.assign(tenant, None, station, [rota["people"][name]], [day])
        db.commit()
        for _ in range(2):  # the periodic tick comes every few minutes: one reminder all the same
            jobs.enqueue(remind_duty, tenant_id=street.id)
            db.commit()
            run_jobs()
        notes = db.scalars(select(Notification).where(Notification.kind == "duty.reminder")).all()
        # tomorrow in Shanghai is 3 March; 刘芳 has no login; 王秀兰 is today, 赵文斌 the day after
        assert [(n.user_id, n.title) for n in notes] == [
            (rota["users"]["m-li"], "明天（2025-03-03 周一）您在委员工作室轮值")]
        assert notes[0].body == "3 号楼东侧，9:00–11:30" and notes[0].link == "/t/yanshan/duty/?week=2025-W10"
        reminded = db.scalars(select(DutyShift.reminded_at).where(DutyShift.day == date(2025, 3, 3))).all()
        assert sum(r is not None for r in reminded) == 1


def test_a_swapped_shift_is_reminded_to_its_new_member(app, rota):
    street = rota["street"]
    with app.app_context(), tenant_context(street.id):
        tenant = db.get(Tenant, street.id)
        tomorrow = duty_ops.local_today(tenant) + timedelta(days=1)
        duty_ops.assign(tenant, None, rota["stations"]["委员工作室"], [rota["people"]["李明华"]], [tomorrow])
        assert duty_ops.send_reminders(tenant) == 1
        shift = db.scalar(select(DutyShift))
        duty_ops.hand_over(tenant, None, shift, rota["people"]["王秀兰"])
        assert duty_ops.send_reminders(tenant) == 1 and duty_ops.send_reminders(tenant) == 0
        db.commit()
        to = db.scalars(select(Notification.user_id).where(Notification.kind == "duty.reminder")).all()
        assert sorted(to) == sorted([rota["users"]["m-li"], rota["users"]["m-wang"]])


# ---------------------------------------------------------------- claim suggestions

def test_specialties_fit_by_shared_words_not_by_common_ones():
    assert fits("物业", "物业管理") and fits("物业管理", "红色物业") and fits("停车管理", "小区停车难")
    assert not fits("法律", "物业管理") and not fits("社区治理", "燕子山社区停车")  # only 社区 in common
    assert not fits("物业", None) and not fits("", "物业")


def _topic(app, street, **fields):
    from shangliang.topics.operations import create_topic

    with app.app_context(), tenant_context(street.id):
        topic = create_topic(db.get(Tenant, street.id), None, {"channel": "wechat", **fields})
        db.commit()
        return topic.number


def _claim(app, street, number, user_id):
    from shangliang.topics.models import Topic
    from shangliang.topics.operations import act

    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        act(db.get(Tenant, street.id), user_id, {"member"}, topic, "claim", expected_version=topic.version)
        db.commit()


def test_members_are_suggested_by_specialty_community_duty_and_load(app, rota):
    from shangliang.procedures.operations import publish
    from shangliang.topics.models import Topic

    street = rota["street"]
    with app.app_context(), tenant_context(street.id):
        publish(db.get(Tenant, street.id), None, QIBU)
        tenant = db.get(Tenant, street.id)
        duty_ops.assign(tenant, None, rota["stations"]["委员工作室"], [rota["people"]["王秀兰"]], [rota["today"]])
        db.commit()
    # 赵文斌 carries two open topics; the topic to place is about 物业 in 燕子山社区
    for i in range(2):
        _claim(app, street, _topic(app, street, title=f"楼道灯 {i}", category="市政"), rota["users"]["m-zhao"])
    number = _topic(app, street, title="小区物业不作为", category="物业管理", community="燕子山社区")
    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        ranked = suggest_members(db.get(Tenant, street.id), topic)
        got = [(p.name, reasons) for p, _score, reasons in ranked]
    assert got == [
        ("李明华", ["专长：物业", "同社区：燕子山社区", "暂无在办议题"]),
        ("赵文斌", ["专长：物业管理", "在办 2 件"]),
        ("王秀兰", ["今日轮值", "暂无在办议题"]),
    ]  # 刘芳 has no login, and the grid worker is no member
    assert ranked[0].score > ranked[1].score > ranked[2].score
    _claim(app, street, number, rota["users"]["m-li"])  # who has claimed it is no longer suggested
    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        assert [s.person.name for s in suggest_members(db.get(Tenant, street.id), topic)] == ["赵文斌", "王秀兰"]


def test_the_topic_page_shows_suggestions_where_members_claim(app, as_user, rota):
    from shangliang.procedures.operations import publish

    street = rota["street"]
    with app.app_context(), tenant_context(street.id):
        publish(db.get(Tenant, street.id), None, QIBU)
        db.commit()
    number = _topic(app, street, title="小区停车难", category="停车", community="燕子山社区")
    staff = as_user("yanshan-staff")
    html = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    card = html.split("推荐认领的委员")[1].split("</section>")[0]
    # weighed only when asked: the page is read far more often than a claim is arranged
    assert "李明华" not in card and "查看推荐" in card
    asked = re.search(r'href="([^"]+suggest=1)#suggestions"', card).group(1).replace("&amp;", "&")
    html = staff.get(asked).get_data(as_text=True)
    card = html.split("推荐认领的委员")[1].split("</section>")[0]
    assert "李明华" in card and "专长：停车管理" in card and "同社区：燕子山社区" in card
    # a member who took it up may invite the others from the card
    _claim(app, street, number, rota["users"]["m-li"])
    member = as_user("m-li")
    html = member.get(f"/t/yanshan/topics/{number}?suggest=1").get_data(as_text=True)
    card = html.split("推荐认领的委员")[1].split("</section>")[0]
    assert "李明华" not in card and 'name="action" value="invite"' in card
    version = re.search(r'name="version" value="(\d+)"', card).group(1)
    resp = member.post(f"/t/yanshan/topics/{number}/act", data={
        "csrf_token": csrf_token(member), "action": "invite", "version": version,
        "user_id": str(rota["users"]["m-wang"])})
    assert resp.status_code == 302
    # at a step without members (收单 is the street's), no card
    with app.app_context(), tenant_context(street.id):
        from shangliang.topics.models import Topic

        topic = db.scalar(select(Topic).where(Topic.number == number))
        topic.step_key = "shoudan"
        db.commit()
    assert "推荐认领的委员" not in as_user("yanshan-staff").get(f"/t/yanshan/topics/{number}").get_data(as_text=True)


def test_the_rota_and_suggestions_through_the_api(app, client, rota):
    from shangliang.accounts.operations import create_api_token
    from shangliang.procedures.operations import publish

    street = rota["street"]
    with app.app_context(), tenant_context(street.id):
        _t, staff = create_api_token(db.get(Tenant, street.id), None, "rota", "staff")
        _t, member = create_api_token(db.get(Tenant, street.id), None, "mp", "member")
        publish(db.get(Tenant, street.id), None, QIBU)
        db.commit()
    headers = {"Authorization": f"Bearer {staff}"}
    days = week_days(rota)
    resp = client.post("/api/v1/t/yanshan/duty", headers=headers, json={
        "station_id": str(rota["stations"]["委员工作室"]), "days": [d.isoformat() for d in days[:2]],
        "person_ids": [str(rota["people"]["李明华"]), str(rota["people"]["王秀兰"])]})
    assert resp.status_code == 201 and resp.get_json() == {"added": 4, "skipped": 0}
    resp = client.post("/api/v1/t/yanshan/duty", headers=headers, json={
        "station_id": str(rota["stations"]["委员工作室"]), "days": [days[0].isoformat()],
        "person_ids": [str(rota["people"]["陈静"])]})
    assert resp.status_code == 422 and "person_ids" in resp.get_json()["error"]["fields"]
    week = client.get("/api/v1/t/yanshan/duty", headers={"Authorization": f"Bearer {member}"}).get_json()
    assert week["week"] == duty_ops.week_param(days[0]) and len(week["shifts"]) == 4
    assert {s["person"] for s in week["shifts"]} == {"李明华", "王秀兰"}
    assert client.post("/api/v1/t/yanshan/duty", headers={"Authorization": f"Bearer {member}"},
                       json={}).status_code == 403
    number = _topic(app, street, title="物业费", category="物业")
    items = client.get(f"/api/v1/t/yanshan/topics/{number}/suggestions", headers=headers).get_json()["items"]
    assert items[0]["name"] == "李明华" and "专长：物业" in items[0]["reasons"]
    assert client.get("/api/v1/t/yanshan/topics/999/suggestions", headers=headers).status_code == 404


def test_every_shift_change_is_in_the_audit_log(app, as_user, rota, world):
    staff = as_user("yanshan-staff")
    assign(staff, rota, "委员工作室", ["李明华"], [rota["today"]])
    [shift] = shifts(app, rota["street"])
    post(staff, f"{DUTY}{shift.id}/mark", status="missed")
    with app.app_context(), tenant_context(rota["street"].id):
        row = db.scalar(select(AuditLog).where(AuditLog.action == "duty.mark"))
        assert (row.target, row.detail, row.actor_id) == (str(shift.id), {"from": "planned", "to": "missed"},
                                                          world.users["yanshan-staff"].id)
