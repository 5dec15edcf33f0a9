"""After acting on a topic the page says what happened, not "已记录": where the topic went and who
was told (the members who took it up hear of every move, a member invited hears of the
invitation); an irreversible action (办结, 不予受理) is asked first, saying what will change, while
the API, a program's call, acts at once."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import factories
from shangliang.accounts.operations import add_membership
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.models import Notification
from shangliang.topics.models import Topic
from test_personal_tokens import auth, make_token
from test_topic_pages import act, page_of


@pytest.fixture
def shang(app, world):
    """燕山 on the small procedure with topic #1 at 商单, claimed by the member."""
    with app.app_context():
        factories.procedure(world.yanshan)
        topic = factories.topic_at(world.yanshan, "shang", title="楼道灯坏了")
        factories.act(world.yanshan, topic, "claim", user_id=world.users["yanshan-member"].id, roles={"member"})
        db.commit()
        return topic.number


def flash(html: str) -> str:
    return re.search(r'<div class="flash flash-success" role="status">([^<]+)</div>', html).group(1)


def notes(app, world, username: str) -> list[str]:
    with app.app_context(), tenant_context(world.yanshan.id):
        return list(db.scalars(select(Notification.title).where(Notification.user_id == world.users[username].id)
                               .order_by(Notification.created_at)))


def test_a_move_says_where_the_topic_went_and_who_was_told(app, as_user, world, shang):
    staff = as_user("yanshan-staff")
    resp = act(staff, "consult", number=shang, agreement="物业本周更换灯具")
    assert resp.status_code == 302
    assert flash(page_of(staff, shang)) == "协商记录已保存"  # recorded at the step: nobody else told
    assert notes(app, world, "yanshan-member") == []
    assert act(staff, "advance", number=shang, to="ping").status_code == 302
    assert flash(page_of(staff, shang)) == "已推进到「评单」，已通知 yanshan-member"
    assert notes(app, world, "yanshan-member") == [f"议题 #{shang}「楼道灯坏了」已推进到「评单」"]
    assert notes(app, world, "yanshan-staff") == []  # not the one who moved it


def test_a_member_invited_is_told(app, as_user, world, shang):
    member = as_user("yanshan-member")
    with app.app_context():
        other = factories.create_user("ys-liminghua", "李明华", factories.PASSWORD)
        with tenant_context(world.yanshan.id):
            add_membership(world.yanshan, None, other, "member")
        db.commit()
    assert act(member, "invite", number=shang, user_id=str(other.id)).status_code == 302
    assert flash(page_of(member, shang)) == "已邀请委员，已通知 李明华"
    with app.app_context(), tenant_context(world.yanshan.id):
        told = db.scalars(select(Notification.title).where(Notification.user_id == other.id)).all()
    assert told == [f"邀请您参与议题 #{shang}：楼道灯坏了"]


def test_the_message_is_in_the_readers_language(app, as_user, world, shang):
    staff = as_user("yanshan-staff")
    staff.set_cookie("lang", "en")
    act(staff, "consult", number=shang, agreement="物业本周更换灯具")
    assert act(staff, "advance", number=shang, to="ping").status_code == 302
    assert flash(page_of(staff, shang)) == "Moved on to “Rate”; yanshan-member was told"


def test_out_of_scope_is_asked_first_and_nothing_changes_until_confirmed(app, as_user, world):
    with app.app_context():
        factories.procedure(world.yanshan)
        number = factories.raise_topic(world.yanshan, title="物业合同纠纷").number
        db.commit()
    staff = as_user("yanshan-staff")
    asked = act(staff, "close_out_of_scope", number=number, to="shou", reason="属于合同纠纷，请走司法途径")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "确认不予受理议题" in html and "不再办理" in html
    assert 'value="属于合同纠纷，请走司法途径"' in html  # what was typed goes along
    assert "不予受理" not in flash_or_empty(page_of(staff, number))
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(Topic.status).where(Topic.number == number)) == "open"
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert form["confirm"] == "1" and form["action"] == "close_out_of_scope" and form["to"] == "shou"
    assert staff.post(f"/t/yanshan/topics/{number}/act", data=form).status_code == 302
    assert flash(page_of(staff, number)) == "已不予受理，议题已关闭"


def flash_or_empty(html: str) -> str:
    found = re.search(r'<div class="flash flash-success" role="status">([^<]+)</div>', html)
    return found.group(1) if found else ""


def test_the_api_closes_at_once(app, client, as_user, world):
    with app.app_context():
        factories.procedure(world.yanshan)
        number = factories.raise_topic(world.yanshan, title="重复登记").number
        db.commit()
    secret = make_token(as_user("yanshan-staff"), scopes=("read", "topics"))
    version = client.get(f"/api/v1/t/yanshan/topics/{number}", headers=auth(secret)).get_json()["version"]
    resp = client.post(f"/api/v1/t/yanshan/topics/{number}/actions", headers=auth(secret),
                       json={"action": "close_out_of_scope", "to": "shou", "version": version,
                             "data": {"reason": "重复登记"}})
    assert resp.status_code == 200 and resp.get_json()["status"] == "closed"
