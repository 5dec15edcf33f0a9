"""Consultation meetings (议事会): conveners and 4+X participants, attendance, minutes with
revisions, the work list and its overdue notices, and the consultation record on a topic."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

import factories
from conftest import csrf_token
from support.databases import config, world  # noqa: F401  (fixtures: the street, copied for each test)
from support.meeting_street import built, street  # noqa: F401

def move(app, tenant, number, *steps):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic

    with app.app_context(), tenant_context(tenant.id):
        for kind, to, data in steps:
            topic = db.scalar(select(Topic).where(Topic.number == number))
            factories.act(tenant, topic, kind, roles={"street_admin"}, data=data, to=to)
            db.commit()


def meeting_form(client, people, *, convene=("王书记", "李委员"), attend=("赵委员", "钱科长", "周大姐"), topics=(1,),
                 extras=(("鑫源物业 张经理", "stakeholder", False),), **fields):
    form = {"csrf_token": csrf_token(client), "title": "3 号楼楼道灯议事会", "form": "meeting_room",
            "starts_at": "2025-05-20T14:30", "place": "燕子山社区议事室", "agenda": "楼道灯更换\n费用分担",
            "attend": [people[n] for n in attend], "convene": [people[n] for n in convene],
            "topics": [str(n) for n in topics], "extra_rows": str(len(extras)), **fields}
    for i, (name, group, convener) in enumerate(extras):
        form[f"extra_name_{i}"], form[f"extra_group_{i}"] = name, group
        if convener:
            form[f"extra_convener_{i}"] = "1"
    return client.post("/t/yanshan/meetings/new", data=form)


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


@pytest.fixture
def held(app, as_user, street):
    """Meeting #1, held, with minutes; returns the staff client."""
    c = as_user("yanshan-staff")
    assert meeting_form(c, street).status_code == 302
    c.post("/t/yanshan/meetings/1/minutes", data={"csrf_token": csrf_token(c), "text": "议定更换楼道灯",
                                                  "base_revision": "0"})
    html = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert c.post("/t/yanshan/meetings/1/status", data={"csrf_token": csrf_token(c), "status": "held",
                                                        "version": version_of(html)}).status_code == 302
    return c


# ---------------------------------------------------------------- calling a meeting

def test_a_meeting_with_two_conveners_and_the_4x_groups(app, as_user, world, street):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.meetings.models import Meeting, MeetingParticipant

    c = as_user("yanshan-staff")
    form_page = c.get("/t/yanshan/meetings/new?topic=1").get_data(as_text=True)
    assert "王书记" in form_page and 'value="1" checked' in form_page  # the topic it was called from
    resp = meeting_form(c, street)
    assert resp.status_code == 302 and resp.location.endswith("/t/yanshan/meetings/1")
    with app.app_context(), tenant_context(world.yanshan.id):
        meeting = db.scalar(select(Meeting))
        assert meeting.number == 1 and meeting.form == "meeting_room"
        assert meeting.starts_at.isoformat() == "2025-05-20T06:30:00+00:00"  # 14:30 in Asia/Shanghai
        rows = {p.name: (p.group, p.convener) for p in db.scalars(select(MeetingParticipant))}
    assert rows == {"王书记": ("cadre", True), "李委员": ("member", True), "赵委员": ("member", False),
                    "钱科长": ("department", False), "周大姐": ("resident", False),
                    "鑫源物业 张经理": ("stakeholder", False)}
    page = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert "3 号楼楼道灯议事会" in page and "李委员、王书记" in page and "议事室会议" in page
    listing = c.get("/t/yanshan/meetings/").get_data(as_text=True)
    assert "3 号楼楼道灯议事会" in listing and "待召开" in listing


@pytest.mark.parametrize("convene, extra_convener, message", [
    ((), False, "请指定召集人"), (("王书记", "李委员"), True, "召集人最多两名")])
def test_no_convener_or_a_third_one_is_refused_keeping_the_form(as_user, street, convene, extra_convener, message):
    c = as_user("yanshan-staff")
    resp = meeting_form(c, street, convene=convene, extras=(("鑫源物业 张经理", "stakeholder", extra_convener),))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in html and 'class="field-error" id="conveners-error"' in html
    assert 'value="3 号楼楼道灯议事会"' in html and 'value="鑫源物业 张经理"' in html  # nothing typed is lost
    assert c.get("/t/yanshan/meetings/1").status_code == 404


def test_bad_fields_are_each_named(as_user, street):
    c = as_user("yanshan-staff")
    resp = meeting_form(c, street, title="", form="carrier pigeon", starts_at="someday", topics=(99,))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for text in ("请填写议事会的名称", "请选择议事形式", "请填写开会的日期和时间", "本街道没有这个议题"):
        assert text in html


def test_meetings_are_numbered_per_street(app, world, street):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.meetings.operations import create_meeting

    data = {"title": "x", "form": "online", "starts_at": "2025-05-20T14:30",
            "participants": [{"name": "召集人", "convener": True}]}
    with app.app_context():
        with tenant_context(world.yanshan.id):
            numbers = [create_meeting(world.yanshan, None, data).number for _ in range(3)]
        with tenant_context(world.langshan.id):
            numbers.append(create_meeting(world.langshan, None, data).number)
        db.commit()
    assert numbers == [1, 2, 3, 1]


def test_attendance_and_a_stale_page_is_a_conflict(app, as_user, world, street):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.meetings.models import MeetingParticipant

    c = as_user("yanshan-staff")
    meeting_form(c, street)
    html = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    version = version_of(html)
    with app.app_context(), tenant_context(world.yanshan.id):
        ids = {p.name: str(p.id) for p in db.scalars(select(MeetingParticipant))}
    present = [ids["王书记"], ids["李委员"], ids["周大姐"]]
    resp = c.post("/t/yanshan/meetings/1/attendance", data={"csrf_token": csrf_token(c), "version": version,
                                                            "attended": present})
    assert resp.status_code == 302
    assert "出席 3 / 共 6 人" in c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    again = c.post("/t/yanshan/meetings/1/attendance", data={"csrf_token": csrf_token(c), "version": version,
                                                             "attended": []})
    assert again.status_code == 409 and "刚被他人修改过" in again.get_data(as_text=True)
    with app.app_context(), tenant_context(world.yanshan.id):
        attended = {p.name for p in db.scalars(select(MeetingParticipant).where(MeetingParticipant.attended))}
    assert attended == {"王书记", "李委员", "周大姐"}


def test_editing_keeps_attendance_of_those_still_invited(app, as_user, world, street):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.meetings.models import MeetingParticipant

    c = as_user("yanshan-staff")
    meeting_form(c, street)
    with app.app_context(), tenant_context(world.yanshan.id):
        for p in db.scalars(select(MeetingParticipant)):
            p.attended = True
        db.commit()
    edit = c.get("/t/yanshan/meetings/1/edit").get_data(as_text=True)
    assert 'value="鑫源物业 张经理"' in edit
    form = {"csrf_token": csrf_token(c), "version": version_of(edit), "title": "楼道灯议事会（改）", "form": "on_site",
            "starts_at": "2025-05-21T09:00", "place": "3 号楼下", "attend": [street["赵委员"]],
            "convene": [street["王书记"]], "topics": ["1", "2"], "extra_rows": "0"}
    assert c.post("/t/yanshan/meetings/1/edit", data=form).status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        rows = {p.name: (p.convener, p.attended) for p in db.scalars(select(MeetingParticipant))}
    assert rows == {"王书记": (True, True), "赵委员": (False, True)}
    stale = c.post("/t/yanshan/meetings/1/edit", data=form)
    assert stale.status_code == 409 and "刚被他人修改过" in stale.get_data(as_text=True)


# ---------------------------------------------------------------- minutes

def test_minutes_revisions_are_kept_and_a_stale_base_is_refused(app, as_user, world, street):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.meetings.models import MeetingMinutes

    c, other = as_user("yanshan-staff"), as_user("yanshan-admin")
    meeting_form(c, street)
    post = lambda client, text, base: client.post(  # noqa: E731
        "/t/yanshan/meetings/1/minutes", data={"csrf_token": csrf_token(client), "text": text, "note": "",
                                               "base_revision": str(base)})
    assert post(c, "一、议定更换楼道灯", 0).status_code == 302
    assert post(other, "一、议定更换楼道灯\n二、费用由维修基金支出", 1).status_code == 302
    stale = post(c, "我的修改：物业承担费用", 1)  # written on revision 1, but 2 is current
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "纪要已有更新的版本" in html and "我的修改：物业承担费用" in html
    page = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert "费用由维修基金支出" in page and "历史版本" in page and "保存为第 3 版" in page
    with app.app_context(), tenant_context(world.yanshan.id):
        revisions = [(m.revision, m.text) for m in db.scalars(select(MeetingMinutes).order_by(MeetingMinutes.revision))]
    assert revisions == [(1, "一、议定更换楼道灯"), (2, "一、议定更换楼道灯\n二、费用由维修基金支出")]


def test_held_needs_minutes_and_cancel_needs_a_reason(as_user, street):
    c = as_user("yanshan-staff")
    meeting_form(c, street)
    html = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    resp = c.post("/t/yanshan/meetings/1/status", data={"csrf_token": csrf_token(c), "status": "held",
                                                        "version": version_of(html)})
    assert resp.status_code == 400 and "请先记录会议纪要" in resp.get_data(as_text=True)
    resp = c.post("/t/yanshan/meetings/1/status", data={"csrf_token": csrf_token(c), "status": "cancelled",
                                                        "version": version_of(html), "reason": ""})
    assert resp.status_code == 400 and "请说明取消的原因" in resp.get_data(as_text=True)
    resp = c.post("/t/yanshan/meetings/1/status", data={"csrf_token": csrf_token(c), "status": "cancelled",
                                                        "version": version_of(html), "reason": "暴雨改期"})
    assert resp.status_code == 302
    page = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert "已取消" in page and "暴雨改期" in page


def test_a_meeting_is_held_on_or_after_its_day(as_user, street):
    """It counts in its month's figures (对标): marking tomorrow's meeting held is refused."""
    from datetime import timedelta

    from shangliang.core.db import utcnow

    c = as_user("yanshan-staff")
    tomorrow = (utcnow() + timedelta(days=1, hours=8)).strftime("%Y-%m-%dT%H:%M")
    assert meeting_form(c, street, starts_at=tomorrow).status_code == 302
    c.post("/t/yanshan/meetings/1/minutes", data={"csrf_token": csrf_token(c), "text": "纪要", "base_revision": "0"})
    html = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    resp = c.post("/t/yanshan/meetings/1/status", data={"csrf_token": csrf_token(c), "status": "held",
                                                        "version": version_of(html)})
    assert resp.status_code == 400 and "会议日期还没到" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- the topic's consultation record

def test_recording_the_consultation_satisfies_the_step_and_the_topic_moves_on(app, as_user, world, street, held):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic
    from shangliang.topics.operations import events

    c = held
    topic_page = c.get("/t/yanshan/topics/1").get_data(as_text=True)
    assert "/t/yanshan/meetings/1" in topic_page  # the topic links to its meeting
    with pytest.raises(Exception, match="协商记录"):  # before: the step is not satisfied
        move(app, world.yanshan, 1, ("advance", "ping", {}))
    resp = c.post("/t/yanshan/meetings/1/topics/1", data={"csrf_token": csrf_token(c), "do": "record",
                                                          "agreement": "物业三天内更换楼道灯，费用由维修基金支出"})
    assert resp.status_code == 302
    page = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert "已记入议题协商记录" in page
    with app.app_context(), tenant_context(world.yanshan.id):
        topic = db.scalar(select(Topic).where(Topic.number == 1))
        consult = [e for e in events(topic) if e.action == "consult"]
        assert len(consult) == 1 and consult[0].data["agreement"].startswith("物业三天内")
    again = c.post("/t/yanshan/meetings/1/topics/1", data={"csrf_token": csrf_token(c), "do": "record",
                                                           "agreement": "物业三天内更换楼道灯，费用由维修基金支出"})
    assert again.status_code == 400 and "已记入议题协商记录" in again.get_data(as_text=True)
    move(app, world.yanshan, 1, ("advance", "ping", {}))  # the evidence is there now
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(Topic.step_key).where(Topic.number == 1)) == "ping"


def test_a_step_that_takes_no_consultation_record_is_refused_with_why(app, as_user, world, street):
    c = as_user("yanshan-staff")
    meeting_form(c, street, topics=(2,))  # topic 2 is still at 点单
    c.post("/t/yanshan/meetings/1/minutes", data={"csrf_token": csrf_token(c), "text": "纪要", "base_revision": "0"})
    html = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    c.post("/t/yanshan/meetings/1/status", data={"csrf_token": csrf_token(c), "status": "held",
                                                 "version": version_of(html)})
    page = c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert "议题当前步骤不需要协商记录" in page
    resp = c.post("/t/yanshan/meetings/1/topics/2", data={"csrf_token": csrf_token(c), "do": "record",
                                                          "agreement": "先做调查"})
    assert resp.status_code == 400 and "议题当前步骤不需要协商记录" in resp.get_data(as_text=True)


def test_a_planned_meeting_cannot_record_yet(as_user, street):
    c = as_user("yanshan-staff")
    meeting_form(c, street)
    resp = c.post("/t/yanshan/meetings/1/topics/1", data={"csrf_token": csrf_token(c), "do": "record",
                                                          "agreement": "换灯"})
    assert resp.status_code == 400 and "议事会召开" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- work list

def test_work_items_from_added_to_done(app, as_user, world, street, held):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.meetings.models import WorkItem

    c = held
    due = (date.today() + timedelta(days=3)).isoformat()
    refused = c.post("/t/yanshan/meetings/1/work", data={"csrf_token": csrf_token(c), "title": "更换楼道灯",
                                                         "owner": "", "due_on": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "请指定责任人" in html and "请填写完成期限" in html
    assert 'value="更换楼道灯"' in html
    assert c.post("/t/yanshan/meetings/1/work", data={"csrf_token": csrf_token(c), "title": "更换楼道灯",
                                                      "owner": street["钱科长"], "due_on": due,
                                                      "topic_number": "1"}).status_code == 302
    assert c.post("/t/yanshan/meetings/1/work", data={"csrf_token": csrf_token(c), "title": "公示费用",
                                                      "owner": "name:鑫源物业 张经理", "due_on": due}).status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        items = {i.title: i for i in db.scalars(select(WorkItem))}
        assert items["更换楼道灯"].owner_name == "钱科长" and items["更换楼道灯"].topic_id is not None
        assert items["公示费用"].owner_name == "鑫源物业 张经理" and items["公示费用"].owner_person_id is None
        item_id = items["更换楼道灯"].id
    url = f"/t/yanshan/meetings/1/work/{item_id}"
    assert c.post(url, data={"csrf_token": csrf_token(c), "status": "in_progress"}).status_code == 302
    assert c.post(url, data={"csrf_token": csrf_token(c), "status": "done"}).status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        item = db.get(WorkItem, {"tenant_id": world.yanshan.id, "id": item_id})
        assert item.status == "done" and item.done_at is not None
    work = c.get("/t/yanshan/meetings/work").get_data(as_text=True)
    assert "公示费用" in work and "更换楼道灯" not in work  # done items leave the open list
    assert "完成于" in c.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert c.post(url, data={"csrf_token": csrf_token(c), "status": "open"}).status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.get(WorkItem, {"tenant_id": world.yanshan.id, "id": item_id}).done_at is None


def test_overdue_work_is_highlighted_and_its_owner_and_admins_told_once(app, as_user, world, street, held,
                                                                       run_jobs):
    from shangliang.core import jobs
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.notifications.models import Notification

    c = held
    late = (date.today() - timedelta(days=2)).isoformat()
    later = (date.today() + timedelta(days=5)).isoformat()
    c.post("/t/yanshan/meetings/1/work", data={"csrf_token": csrf_token(c), "title": "更换楼道灯",
                                               "owner": street["钱科长"], "due_on": late})
    c.post("/t/yanshan/meetings/1/work", data={"csrf_token": csrf_token(c), "title": "公示费用",
                                               "owner_name": "鑫源物业", "due_on": later})
    work = c.get("/t/yanshan/meetings/work").get_data(as_text=True)
    assert work.index("更换楼道灯") < work.index("公示费用") and "已超期" in work  # earliest due first
    for _ in range(2):  # two ticks (or two workers): one set of notices
        jobs.relay(jobs.PeriodicLoop().tick())
        run_jobs()
    with app.app_context(), tenant_context(world.yanshan.id):
        notes = db.scalars(select(Notification).where(Notification.kind == "work_item.overdue")).all()
        told = sorted(world.users_by_id[n.user_id] for n in notes)
    assert told == ["yanshan-admin", "yanshan-member"]  # the street admin and 钱科长's login
    assert all("更换楼道灯" in n.title and "/t/yanshan/meetings/1#work-" in n.link for n in notes)


def owned_work(app, world, street, held) -> dict[str, uuid.UUID]:
    """A department contact's login (yanshan-dept, no meetings.manage) for 钱科长, who owns 更换楼道灯;
    王书记 owns 公示费用. Returns the items' ids by title."""
    from shangliang.accounts.operations import add_membership, create_user
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.meetings.models import WorkItem
    from shangliang.roster.models import Person

    with app.app_context(), tenant_context(world.yanshan.id):
        dept = create_user("yanshan-dept", "城管中心", "correct-horse-battery")
        add_membership(world.yanshan, None, dept, "department")
        db.get(Person, {"tenant_id": world.yanshan.id, "id": uuid.UUID(street["钱科长"])}).user_id = dept.id
        db.commit()
    due = (date.today() + timedelta(days=3)).isoformat()
    for title, owner in (("更换楼道灯", street["钱科长"]), ("公示费用", street["王书记"])):
        held.post("/t/yanshan/meetings/1/work", data={"csrf_token": csrf_token(held), "title": title, "owner": owner,
                                                      "due_on": due})
    with app.app_context(), tenant_context(world.yanshan.id):
        return {i.title: i.id for i in db.scalars(select(WorkItem))}


def test_an_owner_with_a_login_may_report_without_managing_meetings(app, as_user, world, street, held):
    ids = owned_work(app, world, street, held)
    d = as_user("yanshan-dept")
    assert d.get("/t/yanshan/meetings/1").status_code == 200  # departments see meetings
    assert d.get("/t/yanshan/meetings/new").status_code == 403  # but do not call them
    assert d.post("/t/yanshan/meetings/1/minutes", data={"csrf_token": csrf_token(d), "text": "x",
                                                         "base_revision": "1"}).status_code == 403
    own = d.post(f"/t/yanshan/meetings/1/work/{ids['更换楼道灯']}", data={"csrf_token": csrf_token(d), "status": "done"})
    other = d.post(f"/t/yanshan/meetings/1/work/{ids['公示费用']}", data={"csrf_token": csrf_token(d), "status": "done"})
    assert own.status_code == 302 and other.status_code == 403


def test_an_owner_with_a_login_adds_photos_to_their_own_item_only(app, as_user, world, street, held, run_jobs):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.meetings.models import Meeting
    from support import samples
    from support.uploads import request_form, upload

    ids = owned_work(app, world, street, held)
    own, others = ids["更换楼道灯"], ids["公示费用"]
    d = as_user("yanshan-dept")
    page = d.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert f'data-owner-id="{own}"' in page  # the upload widget, on their own item
    assert f'data-owner-id="{others}"' not in page and 'data-owner-kind="meeting"' not in page
    att = upload(d, "yanshan", "work_item", own, samples.photo(size=(400, 300)), "换好的灯.jpg")
    run_jobs()
    assert d.get(f"/t/yanshan/files/{att}?size=thumb").status_code == 302
    assert f"/t/yanshan/files/{att}?size=thumb" in d.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert request_form(d, "yanshan", "work_item", others, "x.jpg", 100).status_code == 403
    with app.app_context(), tenant_context(world.yanshan.id):
        meeting_id = db.scalar(select(Meeting.id))
    assert request_form(d, "yanshan", "meeting", meeting_id, "x.jpg", 100).status_code == 403
    assert request_form(held, "yanshan", "work_item", others, "x.jpg", 100).status_code == 201  # managers: any item
    stranger = as_user("guangwumen-staff")
    for slug in ("yanshan", "guangwumen"):  # not their street; and in theirs, no such item
        assert request_form(stranger, slug, "work_item", own, "x.jpg", 100).status_code == 404
    assert stranger.get(f"/t/yanshan/files/{att}").status_code == 404


# ---------------------------------------------------------------- deleting

def test_only_admins_delete_and_only_meetings_without_a_record(app, as_user, world, street, monkeypatch):
    from shangliang.files import operations as files

    removed = []  # the files module's hook is called for the meeting and each work item
    monkeypatch.setattr(files, "delete_owner_files", lambda tenant, kind, owner_id: removed.append((kind, owner_id)),
                        raising=False)
    staff, admin = as_user("yanshan-staff"), as_user("yanshan-admin")
    meeting_form(staff, street)
    html = admin.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert staff.post("/t/yanshan/meetings/1/delete", data={"csrf_token": csrf_token(staff),
                                                            "version": version_of(html)}).status_code == 403
    resp = admin.post("/t/yanshan/meetings/1/delete", data={"csrf_token": csrf_token(admin),
                                                            "version": version_of(html)})
    assert resp.status_code == 302 and admin.get("/t/yanshan/meetings/1").status_code == 404
    assert removed and removed[0][0] == "meeting"
    url = meeting_form(staff, street).location
    staff.post(f"{url}/minutes", data={"csrf_token": csrf_token(staff), "text": "纪要", "base_revision": "0"})
    html = admin.get(url).get_data(as_text=True)
    resp = admin.post(f"{url}/delete", data={"csrf_token": csrf_token(admin), "version": version_of(html)})
    assert resp.status_code == 400 and "可以取消" in resp.get_data(as_text=True)


def test_deleting_a_meeting_removes_its_photos_and_its_work_items_files_from_storage(app, as_user, world, street,
                                                                                   run_jobs):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.files.models import Attachment
    from shangliang.meetings.models import Meeting, WorkItem
    from support import samples
    from support.uploads import upload

    staff, admin = as_user("yanshan-staff"), as_user("yanshan-admin")
    meeting_form(staff, street)
    staff.post("/t/yanshan/meetings/1/work", data={"csrf_token": csrf_token(staff), "title": "换灯",
                                                   "owner": street["钱科长"], "due_on": "2030-05-23"})
    with app.app_context(), tenant_context(world.yanshan.id):
        meeting_id, item_id = db.scalar(select(Meeting.id)), db.scalar(select(WorkItem.id))
    upload(staff, "yanshan", "meeting", meeting_id, samples.photo(size=(400, 300)), "会场.jpg")
    upload(staff, "yanshan", "work_item", item_id, samples.pdf(), "清单.pdf")
    run_jobs()
    with app.app_context(), tenant_context(world.yanshan.id):
        rows = db.scalars(select(Attachment)).all()
        keys = {k for a in rows for k in (a.key, a.thumb_key, a.web_key) if k}
        assert [a.status for a in rows] == ["ready", "ready"] and len(keys) == 3  # a photo, its thumbnail, a PDF
    store = app.extensions["storage"]
    html = admin.get("/t/yanshan/meetings/1").get_data(as_text=True)
    assert admin.post("/t/yanshan/meetings/1/delete", data={"csrf_token": csrf_token(admin),
                                                            "version": version_of(html)}).status_code == 302
    run_jobs()
    with app.app_context(), tenant_context(world.yanshan.id):
        assert {a.status for a in db.scalars(select(Attachment))} == {"deleted"}
        assert [k for k in keys if store.exists(k)] == []


# ---------------------------------------------------------------- tenants and permissions

def test_another_street_sees_nothing(as_user, street, held):
    other = as_user("guangwumen-admin")
    for url in ("/t/yanshan/meetings/", "/t/yanshan/meetings/1", "/t/yanshan/meetings/work"):
        assert other.get(url).status_code == 404
    assert as_user("langshan-admin").get("/t/langshan/meetings/1").status_code == 404  # numbers are per street
    assert "3 号楼楼道灯议事会" not in as_user("langshan-admin").get("/t/langshan/meetings/").get_data(as_text=True)


def test_members_manage_meetings_and_see_the_nav_link(as_user, street):
    m = as_user("yanshan-member")
    assert "/t/yanshan/meetings/" in m.get("/t/yanshan/topics/").get_data(as_text=True)
    assert meeting_form(m, street).status_code == 302


# ---------------------------------------------------------------- API

@pytest.fixture
def token(app, world):
    from shangliang.accounts.operations import create_api_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(world.yanshan.id):
        _row, secret = create_api_token(world.yanshan, world.users["yanshan-admin"].id, "mini-program", "staff")
        db.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_whole_meeting_through_the_api(app, client, world, street, token):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic

    body = {"title": "楼道灯议事会", "form": "on_site", "starts_at": "2025-05-20T14:30", "place": "3 号楼下",
            "participants": [{"person_id": street["王书记"], "convener": True},
                             {"person_id": street["李委员"], "convener": True},
                             {"name": "鑫源物业", "group": "stakeholder"}], "topics": [1]}
    three = {**body, "participants": body["participants"] + [{"name": "第三人", "convener": True}]}
    resp = client.post("/api/v1/t/yanshan/meetings", headers=token, json=three)
    assert resp.status_code == 422 and "conveners" in resp.get_json()["error"]["fields"]
    resp = client.post("/api/v1/t/yanshan/meetings", headers=token, json=body)
    assert resp.status_code == 201, resp.get_json()
    m = resp.get_json()
    assert m["number"] == 1 and [p["name"] for p in m["participants"] if p["convener"]] == ["李委员", "王书记"]
    base = "/api/v1/t/yanshan/meetings/1"
    assert client.post(f"{base}/minutes", headers=token, json={"text": "议定换灯", "base_revision": 0}).status_code == 201
    stale = client.post(f"{base}/minutes", headers=token, json={"text": "另一稿", "base_revision": 0})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    version = client.get(base, headers=token).get_json()["version"]
    assert client.post(f"{base}/status", headers=token, json={"status": "held", "version": version}).status_code == 200
    resp = client.post(f"{base}/topics", headers=token, json={"topic_number": 1, "agreement": "物业三天内换灯",
                                                              "record": True})
    assert resp.status_code == 200 and resp.get_json()["topics"][0]["recorded_at"]
    resp = client.post(f"{base}/work", headers=token, json={"title": "换灯", "owner_person_id": street["钱科长"],
                                                            "due_on": "2025-05-23", "topic_number": 1})
    assert resp.status_code == 201
    item = resp.get_json()["work_items"][0]
    assert item["owner_name"] == "钱科长" and item["topic_number"] == 1 and item["status"] == "open"
    open_items = client.get("/api/v1/t/yanshan/work-items", headers=token).get_json()["items"]
    assert [i["title"] for i in open_items] == ["换灯"]
    resp = client.post(f"{base}/work/{item['id']}", headers=token, json={"status": "done"})
    assert resp.status_code == 200 and resp.get_json()["work_items"][0]["done_at"]
    detail = client.get(base, headers=token).get_json()
    assert detail["status"] == "held" and detail["minutes"]["revision"] == 1 and len(detail["revisions"]) == 1
    assert client.get("/api/v1/t/yanshan/meetings", headers=token).get_json()["items"][0]["number"] == 1
    assert client.get("/api/v1/t/yanshan/meetings/9", headers=token).status_code == 404
    move(app, world.yanshan, 1, ("advance", "ping", {}))  # the API's consultation record counts
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(Topic.step_key).where(Topic.number == 1)) == "ping"


def test_meeting_endpoints_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, method in (("/t/{slug}/meetings", "get"), ("/t/{slug}/meetings", "post"),
                         ("/t/{slug}/meetings/{number}", "get"), ("/t/{slug}/meetings/{number}/minutes", "post"),
                         ("/t/{slug}/meetings/{number}/status", "post"),
                         ("/t/{slug}/meetings/{number}/attendance", "post"),
                         ("/t/{slug}/meetings/{number}/topics", "post"), ("/t/{slug}/meetings/{number}/work", "post"),
                         ("/t/{slug}/meetings/{number}/work/{item_id}", "post"), ("/t/{slug}/work-items", "get")):
        assert method in spec["paths"][path], (path, method)
    item_op = spec["paths"]["/t/{slug}/meetings/{number}/work/{item_id}"]["post"]
    params = {p["name"]: p["schema"] for p in item_op["parameters"]}
    assert params["number"]["type"] == "integer" and params["item_id"]["format"] == "uuid"
    assert "MeetingCreate" in spec["components"]["schemas"]


def test_meetings_created_at_the_same_time_get_their_own_numbers(app, world, street):
    from shangliang.core.errors import Refused
    from shangliang.core.db import db
    from shangliang.meetings.operations import create_meeting
    from support.parallel import PEOPLE, in_parallel

    def call(i):
        try:
            meeting = create_meeting(world.yanshan, None, {
                "title": f"同时召集 {i}", "form": "online", "starts_at": "2025-05-20T14:30",
                "participants": [{"name": "召集人", "convener": True}]})
            db.commit()
            return meeting.number
        except Refused as exc:
            db.rollback()
            return exc.code

    numbers = in_parallel(app, world, call)
    assert sorted(numbers) == list(range(1, PEOPLE + 1)), numbers
