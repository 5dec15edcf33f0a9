"""Departments and units have a place of their own: a street's (and a county's) list, contacts who
sign in with the `department` role, transfers that name them (several per topic, each with its own
state), an inbox across the county's streets, and replies on the topic's timeline."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.accounts.models import Membership
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.models import Notification
from shangliang.topics.models import Topic, TopicEvent, Transfer
from support.clock import START, stopped_at


def post(client, url, **form):
    return client.post(url, data={"csrf_token": csrf_token(client), **form})


def page(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data(as_text=True)


@pytest.fixture
def people(app, world):
    """A street office of 燕山 and a county department of 历下区, each with a contact who signs in."""
    with app.app_context():
        factories.procedure(world.yanshan)
        factories.procedure(world.langshan)
        clerk = factories.login(world.yanshan, "staff", "ys-clerk", "城管中心干事")  # given the role by binding
        liaison = factories.create_user("lx-zhujian", "区住建局联络员", factories.PASSWORD)
        office = factories.department(world.yanshan, "城管中心", contacts=[clerk])
        bureau = factories.department(world.lixia, "区住建局", "county_department", contacts=[liaison])
        db.commit()
        return {"clerk": clerk, "liaison": liaison, "office": f"{world.yanshan.id}:{office.id}",
                "bureau": f"{world.lixia.id}:{bureau.id}"}


def at_consult(app, street, **intake):
    with app.app_context():
        topic = factories.topic_at(street, "shang", **intake)
        db.commit()
        return topic.number


def transfer(client, slug, number, **form):
    version = _version(client.application, slug, number)
    return post(client, f"/t/{slug}/topics/{number}/act", action="transfer", to="shang", version=version, **form)


def _version(app, slug, number) -> int:
    from shangliang.tenants.models import Tenant

    with app.app_context():
        tenant = db.scalar(select(Tenant).where(Tenant.slug == slug))
        with tenant_context(tenant.id):
            return db.scalar(select(Topic.version).where(Topic.number == number))


def transfers_of(app, street, number) -> list[Transfer]:
    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        return list(db.scalars(select(Transfer).where(Transfer.topic_id == topic.id).order_by(Transfer.sent_at)))


# ---------------------------------------------------------------- the list

def test_a_street_keeps_its_departments_and_binds_the_people_who_answer(app, as_user, world):
    admin = as_user("yanshan-admin")
    assert "还没有部门或单位" in page(admin, "/t/yanshan/departments/")
    resp = post(admin, "/t/yanshan/departments/", name="", kind="unit")
    assert resp.status_code == 400 and "请填写部门或单位名称" in resp.get_data(as_text=True)
    resp = post(admin, "/t/yanshan/departments/", name="燃气公司\x07", kind="enterprise", note="天然气入户")
    assert resp.status_code == 400 and "不能包含控制字符" in resp.get_data(as_text=True)
    assert "天然气入户" in resp.get_data(as_text=True)  # what was typed is kept
    resp = post(admin, "/t/yanshan/departments/", name="燃气公司", kind="enterprise", phone="0531-1234567",
                note="天然气入户")
    assert resp.status_code == 302
    edit = resp.headers["Location"]
    assert post(admin, "/t/yanshan/departments/", name="燃气公司", kind="unit").status_code == 400  # same name
    resp = post(admin, edit, do="add_contact", username="no-such-person")
    assert resp.status_code == 400 and "没有这个登录账号" in resp.get_data(as_text=True)
    assert post(admin, edit, do="add_contact", username="nobody").status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):  # the binding gave the role
        assert db.get(Membership, {"tenant_id": world.yanshan.id, "user_id": world.users["nobody"].id,
                                   "role": "department"}) is not None
    listing = page(admin, "/t/yanshan/departments/")
    assert "燃气公司" in listing and "nobody" in listing and "企业" in listing
    assert as_user("yanshan-member").get("/t/yanshan/departments/").status_code == 403


# ---------------------------------------------------------------- sending

def test_a_transfer_names_departments_from_the_list_each_kept_with_its_own_state(app, as_user, world, people):
    number = at_consult(app, world.yanshan)
    staff = as_user("yanshan-staff")
    form = page(staff, f"/t/yanshan/topics/{number}")
    assert "城管中心" in form and "区住建局" in form  # the street's own and its county's
    resp = transfer(staff, "yanshan", number, departments="城管中心", asked="核实")
    assert resp.status_code == 400 and "不在本街道或所属区县的部门名单中" in resp.get_data(as_text=True)
    resp = transfer(staff, "yanshan", number, departments=people["office"], asked="")
    assert resp.status_code == 400 and "请写明需要部门做什么" in resp.get_data(as_text=True)
    resp = transfer(staff, "yanshan", number, departments=people["office"], asked="核实", due_on="2001-01-01")
    assert resp.status_code == 400 and "期限不能早于今天" in resp.get_data(as_text=True)
    assert transfers_of(app, world.yanshan, number) == []  # nothing half-done was kept

    resp = transfer(staff, "yanshan", number, departments=[people["office"], people["bureau"]],
                    asked="核实管线走向，提出入户方案")
    assert resp.status_code == 302
    sent = transfers_of(app, world.yanshan, number)
    assert sorted(t.department_name for t in sent) == ["区住建局", "城管中心"]
    assert {t.state for t in sent} == {"sent"} and all(t.due_at is not None for t in sent)
    with app.app_context(), tenant_context(world.lixia.id):  # the county department's contact is told
        told = db.scalars(select(Notification).where(Notification.user_id == people["liaison"].id)).all()
        assert [n.link for n in told] == [f"/t/yanshan/transfers/{t.id}" for t in sent if t.department_name == "区住建局"]

    # 多部门协作: at the step the transfer led to, one more department may be asked, the others kept.
    with app.app_context():
        factories.department(world.yanshan, "燃气公司", "enterprise")
        db.commit()
    with app.app_context(), tenant_context(world.yanshan.id):
        gas = db.scalar(select(factories.Department.id).where(factories.Department.name == "燃气公司"))
    resp = post(staff, f"/t/yanshan/topics/{number}/act", action="cotransfer", version=_version(app, "yanshan", number),
                departments=f"{world.yanshan.id}:{gas}", asked="提供入户安装报价")
    assert resp.status_code == 302
    assert len(transfers_of(app, world.yanshan, number)) == 3


def test_another_countys_department_cannot_be_named(app, as_user, world, people):
    with app.app_context():
        theirs = factories.department(world.chengguan, "城关区住建局", "county_department")
        db.commit()
    number = at_consult(app, world.yanshan)
    resp = transfer(as_user("yanshan-staff"), "yanshan", number, departments=f"{world.chengguan.id}:{theirs.id}",
                    asked="核实")
    assert resp.status_code == 400 and "城关区住建局" not in resp.get_data(as_text=True)


# ---------------------------------------------------------------- answering

def test_a_county_department_answers_from_its_inbox_across_the_countys_streets(app, as_user, world, people):
    staff, langshan = as_user("yanshan-staff"), as_user("langshan-admin")
    ours = at_consult(app, world.yanshan, title="立功小区天然气安装", resident_name="王秀英",
                      resident_phone="13912345678")
    theirs = at_consult(app, world.langshan, title="城山社区广场路灯")
    assert transfer(staff, "yanshan", ours, departments=people["bureau"], asked="核实管线").status_code == 302
    assert transfer(langshan, "langshan", theirs, departments=people["bureau"], asked="维修路灯").status_code == 302

    liaison = as_user("lx-zhujian")
    inbox = page(liaison, "/t/lixia/transfers/")
    assert "立功小区天然气安装" in inbox and "城山社区广场路灯" in inbox and "燕山街道" in inbox
    assert "王秀英" not in inbox
    (ys,) = transfers_of(app, world.yanshan, ours)
    url = f"/t/yanshan/transfers/{ys.id}"
    shown = page(liaison, url)
    assert "核实管线" in shown and "13912345678" not in shown and "139****5678" in shown
    assert post(liaison, url, do="accept").status_code == 302
    resp = post(liaison, url, do="reply", answer="")
    assert resp.status_code == 400 and "请写明办理情况" in resp.get_data(as_text=True)
    assert post(liaison, url, do="reply", answer="已勘察，管线可从东侧接入，下周施工").status_code == 302
    (ys,) = transfers_of(app, world.yanshan, ours)
    assert ys.state == "replied" and ys.on_time is True and ys.answered_by == people["liaison"].id
    assert post(liaison, url, do="reply", answer="again").status_code == 409  # answered once

    timeline = page(staff, f"/t/yanshan/topics/{ours}")
    assert "部门接收" in timeline and "部门答复" in timeline and "下周施工" in timeline
    with app.app_context(), tenant_context(world.yanshan.id):
        told = db.scalars(select(Notification.title).where(Notification.user_id == world.users["yanshan-staff"].id))
        assert any("区住建局答复了议题" in t for t in told)
    assert "已勘察" not in page(liaison, "/t/lixia/transfers/")  # answered: off the open list
    assert "已勘察" in page(liaison, "/t/lixia/transfers/?state=answered")


def test_only_the_departments_people_and_the_streets_staff_reach_a_transfer(app, as_user, world, people):
    number = at_consult(app, world.yanshan)
    assert transfer(as_user("yanshan-staff"), "yanshan", number, departments=people["office"],
                    asked="核实").status_code == 302
    (t,) = transfers_of(app, world.yanshan, number)
    url = f"/t/yanshan/transfers/{t.id}"
    assert as_user("lx-zhujian").get(url).status_code == 404  # a contact of another department
    assert as_user("langshan-admin").get(url).status_code == 404
    assert as_user("guangwumen-admin").get(f"/t/guangwumen/transfers/{t.id}").status_code == 404
    assert as_user("yanshan-admin").get(url).status_code == 200
    member = as_user("yanshan-member")  # sees topics, but does not answer for the department
    assert post(member, url, do="accept").status_code == 403
    clerk = as_user("ys-clerk")
    assert clerk.get(f"/t/yanshan/topics/{number}").status_code == 200  # staff too (the fixture's role)


def test_a_department_returns_a_transfer_with_its_reason(app, as_user, world, people):
    number = at_consult(app, world.yanshan)
    assert transfer(as_user("yanshan-staff"), "yanshan", number, departments=people["office"],
                    asked="核实").status_code == 302
    (t,) = transfers_of(app, world.yanshan, number)
    clerk = as_user("ys-clerk")
    resp = post(clerk, f"/t/yanshan/transfers/{t.id}", do="return", reason="  ")
    assert resp.status_code == 400 and "请说明退回的理由" in resp.get_data(as_text=True)
    assert post(clerk, f"/t/yanshan/transfers/{t.id}", do="return", reason="属燃气公司职责").status_code == 302
    (t,) = transfers_of(app, world.yanshan, number)
    assert t.state == "returned" and t.answer == "属燃气公司职责" and t.on_time is True  # answered in time
    with app.app_context(), tenant_context(world.yanshan.id):
        kinds = db.scalars(select(TopicEvent.action).where(TopicEvent.topic_id == t.topic_id)).all()
    assert "transfer_return" in kinds


def test_a_reply_after_the_due_time_is_marked_late(app, as_user, world, people, monkeypatch):
    clock = stopped_at(monkeypatch, START)
    number = at_consult(app, world.yanshan)
    assert transfer(as_user("yanshan-staff"), "yanshan", number, departments=people["office"], asked="核实",
                    due_on=(START + timedelta(days=2)).date().isoformat()).status_code == 302
    (t,) = transfers_of(app, world.yanshan, number)
    clock.now = t.due_at + timedelta(hours=1)
    clerk = as_user("ys-clerk")
    assert "已超期" in page(clerk, "/t/yanshan/transfers/")
    assert post(clerk, f"/t/yanshan/transfers/{t.id}", do="reply", answer="已处理").status_code == 302
    (t,) = transfers_of(app, world.yanshan, number)
    assert t.on_time is False


def test_the_inbox_costs_the_same_at_3_and_30_transfers(app, as_user, world, people, query_counter):
    liaison = as_user("lx-zhujian")

    def send(n):
        with app.app_context():
            for _ in range(n):
                topic = factories.topic_at(world.yanshan, "shang")
                db.commit()  # a transfer is a request of its own (its audited read of the county's list)
                factories.act(world.yanshan, topic, "transfer", to="shang",
                              data={"departments": [people["bureau"]], "asked": "核实"})
                db.commit()

    def cost():
        liaison.get("/t/lixia/transfers/")  # first: read again what the process keeps (core/changes.py), then counted
        with query_counter() as stmts:
            assert liaison.get("/t/lixia/transfers/").status_code == 200
        return len(stmts)

    send(3)
    small = cost()
    send(27)
    assert cost() == small


def test_contacts_are_reminded_once_as_a_transfer_falls_due(app, as_user, world, people, monkeypatch):
    from shangliang.topics import tasks

    clock = stopped_at(monkeypatch, START)
    monkeypatch.setattr(tasks, "utcnow", clock)
    number = at_consult(app, world.yanshan)
    assert transfer(as_user("yanshan-staff"), "yanshan", number, departments=people["bureau"], asked="核实",
                    due_on=(START + timedelta(days=3)).date().isoformat()).status_code == 302
    (t,) = transfers_of(app, world.yanshan, number)

    def reminders():
        with app.app_context(), tenant_context(world.lixia.id):
            return db.scalars(select(Notification.title).where(Notification.user_id == people["liaison"].id,
                                                               Notification.kind == "transfer.reminder")).all()

    def tick():
        with app.app_context():
            with tenant_context(world.yanshan.id):
                tasks.remind_transfers.work(world.yanshan.id)
            db.commit()

    tick()
    assert reminders() == []  # three days left
    clock.now = t.due_at - timedelta(hours=20)
    tick()
    tick()  # once, however often the pass runs
    assert len(reminders()) == 1 and "明天到期" in reminders()[0]


def test_the_countys_benchmarking_shows_each_departments_on_time_replies(app, as_user, world, people, monkeypatch):
    from shangliang.benchmarks import departments as measure

    clock = stopped_at(monkeypatch, START)
    monkeypatch.setattr(measure, "utcnow", clock)
    staff, liaison = as_user("yanshan-staff"), as_user("lx-zhujian")
    due = (START + timedelta(days=2)).date().isoformat()
    for title in ("甲", "乙"):
        number = at_consult(app, world.yanshan, title=title)
        assert transfer(staff, "yanshan", number, departments=people["bureau"], asked="核实",
                        due_on=due).status_code == 302
    first = next(t for t in transfers_of(app, world.yanshan, 1))
    clock.now = START + timedelta(days=1)
    assert post(liaison, f"/t/yanshan/transfers/{first.id}", do="reply", answer="已处理").status_code == 302
    clock.now = START + timedelta(days=5)  # the other is past its due time, unanswered
    html = page(as_user("lixia-admin"), f"/t/lixia/benchmarks/?period={START:%Y-%m}")
    row = re.search(r"<td>区住建局.*?</tr>", html, re.S).group(0)
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row)] == [2, 1, 1, 0, 1]
    assert "50.0%" in row
    assert "区住建局" not in page(as_user("lixia-admin"), "/t/lixia/benchmarks/?period=2024-01")


def test_a_contacts_home_shows_what_waits_and_no_street_they_cannot_open(app, as_user, world, people):
    number = at_consult(app, world.yanshan)
    assert transfer(as_user("yanshan-staff"), "yanshan", number, departments=people["bureau"],
                    asked="核实").status_code == 302
    home = page(as_user("lx-zhujian"), "/t/lixia/manage/")
    assert "1 件待接收或办理中" in home and "/t/lixia/transfers/" in home
    assert "/t/yanshan/manage/" not in home  # the county's streets are not theirs to open
    assert "/t/yanshan/manage/" in page(as_user("lixia-admin"), "/t/lixia/manage/")


@pytest.mark.parametrize("field", ["asked", "answer"])
def test_a_control_character_is_refused_naming_the_field_and_nothing_is_kept(app, as_user, world, people, field):
    number = at_consult(app, world.yanshan)
    staff = as_user("yanshan-staff")
    if field == "asked":
        resp = transfer(staff, "yanshan", number, departments=people["office"], asked="核实\x00现场")
        assert resp.status_code == 400 and "不能包含控制字符" in resp.get_data(as_text=True)
        assert transfers_of(app, world.yanshan, number) == []
        return
    assert transfer(staff, "yanshan", number, departments=people["office"], asked="核实").status_code == 302
    (t,) = transfers_of(app, world.yanshan, number)
    resp = post(as_user("ys-clerk"), f"/t/yanshan/transfers/{t.id}", do="reply", answer="已处理\x1b[2J")
    assert resp.status_code == 400 and "不能包含控制字符" in resp.get_data(as_text=True)
    assert transfers_of(app, world.yanshan, number)[0].state == "sent"


# ---------------------------------------------------------------- evidence with the reply

def test_a_county_department_replies_with_photos_and_documents_the_street_sees(app, as_user, world, people,
                                                                                run_jobs):
    from support import samples
    from support.uploads import request_form, upload

    staff = as_user("yanshan-staff")
    number = at_consult(app, world.yanshan, title="立功小区天然气安装")
    assert transfer(staff, "yanshan", number, departments=people["bureau"], asked="核实管线").status_code == 302
    (t,) = transfers_of(app, world.yanshan, number)
    url = f"/t/yanshan/transfers/{t.id}"
    liaison = as_user("lx-zhujian")  # a county contact: no role in 燕山, the transfer lets them in
    assert "上传照片或文件" in page(liaison, url)
    photo = upload(liaison, "yanshan", "transfer", t.id, samples.photo(colour="olive"), "管线现场.jpg")
    report = upload(liaison, "yanshan", "transfer", t.id, samples.pdf(), "勘察报告.pdf")
    run_jobs()
    assert liaison.get(f"/t/yanshan/files/{photo}").status_code == 302  # their own evidence, served to them
    draft = upload(liaison, "yanshan", "transfer", t.id, samples.pdf(), "草稿.pdf")
    assert post(liaison, f"/t/yanshan/files/{draft}/delete").status_code == 302  # theirs, before replying
    assert post(liaison, url, do="reply", answer="已勘察，管线可从东侧接入").status_code == 302

    with app.app_context(), tenant_context(world.yanshan.id):
        event = db.scalar(select(TopicEvent).where(TopicEvent.action == "transfer_reply"))
        assert {f["name"] for f in event.data["files"]} == {"管线现场.jpg", "勘察报告.pdf"}
    shown = page(staff, f"/t/yanshan/topics/{number}")
    assert "办理凭证" in shown and "管线现场.jpg" in shown and "勘察报告.pdf" in shown
    assert staff.get(f"/t/yanshan/files/{report}").status_code == 302
    # answered: no more files; and nobody else adds to or reads a transfer's evidence
    assert request_form(liaison, "yanshan", "transfer", t.id, "x.jpg", 10).status_code == 403
    assert request_form(as_user("yanshan-member"), "yanshan", "transfer", t.id, "x.jpg", 10).status_code == 403
    assert as_user("langshan-admin").get(f"/t/yanshan/files/{photo}").status_code == 404
    assert as_user("langshan-admin").get(f"/t/langshan/files/{photo}").status_code == 404
    assert request_form(as_user("langshan-admin"), "yanshan", "transfer", t.id, "x.jpg", 10).status_code == 404
    assert request_form(liaison, "yanshan", "topic", t.topic_id, "x.jpg", 10).status_code == 404  # not the topic
    # what the reply rests on stays: not even its uploader or the street's administrator deletes it
    assert post(liaison, f"/t/yanshan/files/{photo}/delete").status_code == 403
    assert post(as_user("yanshan-admin"), f"/t/yanshan/files/{report}/delete").status_code == 403
    assert "删除" not in page(staff, f"/t/yanshan/transfers/{t.id}").split("办理凭证", 1)[1].split("</section>", 1)[0]
