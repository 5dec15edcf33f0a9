"""议题公示 / 公开征题 before consultation: staff put a topic on public notice at a step whose procedure
says `notice: true`; the portal shows it with the planned meeting date and no personal data until
its meeting is held or the topic ends; residents support it and comment once per mobile number
(kept only as a keyed hash); comments are public once staff approve them."""
from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.core.db import db, utcnow
from shangliang.core.tenancy import tenant_context
from support.browser import SHOTS, browser, live_server, shows  # noqa: F401  (fixtures)

PLACE = "立功小区 3 号楼 2 单元 501"
RESIDENT = {"resident_name": "王秀英", "resident_phone": "13912345678", "place": PLACE,
            "description": "王秀英家楼下的车位被外来车辆长期占用", "community": "燕子山社区", "category": "停车管理"}
NOTICE = {"title": "燕子山社区停车难怎么办", "text": "小区车位紧张，外来车辆随意停放。拟召开协商会商量停车管理办法，欢迎居民提出意见。"}


@pytest.fixture
def street(app, world, monkeypatch):
    """燕山街道 on 4+X (议题公示 at its `gongshi` step); public forms may be sent at once."""
    from shangliang.portal import operations

    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 0)
    with app.app_context():
        factories.procedure(world.yanshan, "four_plus_x")
        db.commit()
    return world.yanshan


def topic_at(app, tenant, step="gongshi", **intake) -> int:
    with app.app_context():
        topic = factories.topic_at(tenant, step, **{**RESIDENT, "title": "停车难", **intake})
        db.commit()
        return topic.number


def topic_of(number: int):
    from shangliang.topics.models import Topic

    return db.scalar(select(Topic).where(Topic.number == number))


def publish(app, tenant, number, **changes):
    """Put on notice through the operation, as staff of the step."""
    from shangliang.topics import notice

    with app.app_context(), tenant_context(tenant.id):
        notice.publish(tenant, topic_of(number), None, {"staff"}, {**NOTICE, **changes})
        db.commit()


def post(client, url, **form):
    return client.post(url, data={"csrf_token": csrf_token(client), **form})


def public_form(client, number, slug="yanshan") -> dict:
    html = client.get(f"/t/{slug}/yiti/{number}").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    return {"csrf_token": csrf_token(client), "form_token": token}


def support(client, number, phone="13800001111", ip="203.0.113.7", **more):
    return client.post(f"/t/yanshan/yiti/{number}/support",
                       data={**public_form(client, number), "phone": phone, **more}, environ_base={"REMOTE_ADDR": ip})


def comment(client, number, text="建议在小区门口设道闸", phone="13800001111", ip="203.0.113.7"):
    return client.post(f"/t/yanshan/yiti/{number}/comment",
                       data={**public_form(client, number), "phone": phone, "comment": text},
                       environ_base={"REMOTE_ADDR": ip})


def audited(app, tenant, action) -> list:
    from shangliang.audit.models import AuditLog

    with app.app_context(), tenant_context(tenant.id):
        return list(db.scalars(select(AuditLog.target).where(AuditLog.action == action)))


# ---------------------------------------------------------------- the procedure format

def test_the_procedure_format_takes_notice_on_a_step_and_refuses_junk():
    from pathlib import Path

    from shangliang.procedures import editing
    from shangliang.procedures.schema import ProcedureInvalid, parse
    from shangliang.topics import operations  # noqa: F401  (registers the transition kinds)

    files = Path(__file__).resolve().parents[1] / "tenants" / "procedures"
    text = (files / "four_plus_x.yaml").read_text("utf-8")
    four = parse(text)
    assert [s["key"] for s in four["steps"] if s.get("notice")] == ["gongshi"]
    assert [s["key"] for s in parse((files / "sihuan_babu.yaml").read_text("utf-8"))["steps"] if s.get("notice")] \
        == ["dingti"]
    assert all(not s.get("notice") for name in ("qibu_dingdan", "tiyi_banping", "sanji_liangti_yizhuan")
               for s in parse((files / f"{name}.yaml").read_text("utf-8"))["steps"])
    assert "notice" not in four["steps"][0]  # absent unless written: old definitions compare unchanged

    for junk, where in (("notice: maybe", "steps[gongshi].notice"), ("notice: 公示", "steps[gongshi].notice"),
                        ("noticed: true", "steps[gongshi].noticed")):
        with pytest.raises(ProcedureInvalid) as refused:
            parse(text.replace("notice: true", junk))
        assert where in [w for w, _m in refused.value.problems]
    # after the consultation it is not a 议题公示 any more: on the rating step it is refused
    late = text.replace("    evidence:\n      rating: true", "    notice: true\n    evidence:\n      rating: true")
    with pytest.raises(ProcedureInvalid) as refused:
        parse(late)
    assert ("steps[fankui].notice", "议题公示须在协商之前：只能设在收集、受理或协商阶段的步骤") in refused.value.problems

    # the form editor's checkbox: on where ticked, gone where not, as it was when not given
    kw = {"zh": "筛选议题", "en": "Screen", "amount": "5", "unit": "working_days", "roles": ["staff"]}
    on = editing.update_step(four, "shaixuan", notice=True, **kw)
    assert next(s for s in on["steps"] if s["key"] == "shaixuan")["notice"] is True
    assert parse(editing.to_yaml(on))  # still a valid procedure
    off = editing.update_step(four, "gongshi", notice=False, **{**kw, "zh": "议题公示"})
    assert "notice" not in next(s for s in off["steps"] if s["key"] == "gongshi")
    kept = editing.update_step(four, "gongshi", **{**kw, "zh": "议题公示"})
    assert next(s for s in kept["steps"] if s["key"] == "gongshi")["notice"] is True


def test_the_form_editor_sets_notice_and_the_comparison_shows_it(app, as_user, world, street):
    admin = as_user("yanshan-admin")
    page = admin.get("/t/yanshan/manage/procedure/edit").get_data(as_text=True)
    assert 'name="gongshi.notice" value="1" checked' in page
    text = re.search(r'<input type="hidden" name="text" value="([^"]*)">', page).group(1)  # the form's draft
    import html as html_mod

    text = html_mod.unescape(text)
    with app.app_context(), tenant_context(street.id):
        from shangliang.procedures.schema import parse

        steps = parse(text)["steps"]
    form = {"action": "form:steps", "base": "1", "text": text}
    for s in steps:
        k = s["key"]
        form.update({f"{k}.zh": s["name"]["zh"], f"{k}.en": s["name"]["en"], f"{k}.unit": "none",
                     f"{k}.roles": s["roles"]})
    form["shaixuan.notice"] = "1"  # 筛选 too; 公示 not ticked any more
    resp = post(admin, "/t/yanshan/manage/procedure/edit", **form)
    body = html_mod.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 200
    assert 'name="shaixuan.notice" value="1" checked' in body and 'name="gongshi.notice" value="1" checked' not in body
    assert "议题公示" in body  # the comparison with the current version names the aspect


# ---------------------------------------------------------------- publishing

def test_only_the_people_of_a_notice_step_publish_and_what_they_write_is_checked(app, as_user, world, street):
    early = topic_at(app, street, "shaixuan")
    number = topic_at(app, street)
    staff, member = as_user("yanshan-staff"), as_user("yanshan-member")
    url = f"/t/yanshan/topics/{number}/notice"
    resp = post(staff, f"/t/yanshan/topics/{early}/notice", do="publish", **NOTICE)
    assert resp.status_code == 409 and "议题当前步骤不能公示" in resp.get_data(as_text=True)
    resp = post(member, url, do="publish", **NOTICE)  # 议题公示's roles: staff, street_admin
    assert resp.status_code == 403 and "您的角色不能在议题当前步骤公示议题" in resp.get_data(as_text=True)

    page = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert 'id="notice"' in page and 'value="停车难"' in page  # the form, its title from the topic's
    for changes, message, field in (({"text": ""}, "请填写公示内容", "text"), ({"title": ""}, "请填写公示标题", "title"),
                                    ({"text": "王秀英反映车位被占"}, "不能包含居民姓名", "text"),
                                    ({"title": "请拨 13912345678"}, "不能包含电话号码", "title"),
                                    ({"text": f"{PLACE}门前"}, "不能包含详细地址", "text"),
                                    ({"text": "车位\x1b紧张"}, "不能包含控制字符", "text")):
        resp = post(staff, url, do="publish", **{**NOTICE, **changes})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400 and message in html and f'id="notice-{field}-error"' in html, changes
    client = app.test_client()
    assert NOTICE["title"] not in client.get("/t/yanshan/yiti").get_data(as_text=True)

    asked = post(staff, url, do="publish", **NOTICE)  # first: what becomes public, and nothing yet
    assert asked.status_code == 200 and f"公示议题 #{number}？" in asked.get_data(as_text=True)
    assert NOTICE["title"] not in client.get("/t/yanshan/yiti").get_data(as_text=True)
    assert post(staff, url, do="publish", confirm="1", **NOTICE).status_code == 302
    assert post(staff, url, do="publish", confirm="1", **NOTICE).status_code == 302  # a double click: no second entry
    assert NOTICE["title"] in client.get("/t/yanshan/yiti").get_data(as_text=True)
    page = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "公示中" in page and "撤回公示" in page
    assert audited(app, street, "notice.publish") == [f"topic:{number}"]

    # moved on to 会前调研, it stays on notice; the people of 议题公示 may still correct its text
    with app.app_context(), tenant_context(street.id):
        factories.advance(street, topic_of(number))
        db.commit()
    assert post(staff, url, do="publish", title="停车难，大家来商量", text=NOTICE["text"], confirm="1").status_code == 302
    assert "停车难，大家来商量" in client.get(f"/t/yanshan/yiti/{number}").get_data(as_text=True)
    assert post(member, url, do="withdraw", reason="x").status_code == 403
    resp = post(staff, url, do="withdraw", reason="")
    assert resp.status_code == 400 and "请说明撤回公示的理由" in resp.get_data(as_text=True)
    assert post(staff, url, do="withdraw", reason="与另一议题合并").status_code == 302
    assert client.get(f"/t/yanshan/yiti/{number}").status_code == 404
    assert "停车难，大家来商量" not in client.get("/t/yanshan/yiti").get_data(as_text=True)
    page = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "已撤回" in page and "与另一议题合并" in page and "撤回议题公示" in page  # and on the timeline
    assert audited(app, street, "notice.withdraw") == [f"topic:{number}"]
    # withdrawn, and no longer at a notice step: it cannot be put back from here
    resp = post(staff, url, do="publish", **NOTICE)
    assert resp.status_code == 409


def test_publishing_a_notice_says_what_becomes_public_and_until_when_and_waits_for_confirmation(app, as_user, world,
                                                                                               street):
    from html import unescape

    number = topic_at(app, street)
    staff = as_user("yanshan-staff")
    url = f"/t/yanshan/topics/{number}/notice"
    asked = post(staff, url, do="publish", **NOTICE)
    page = unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200 and f"公示议题 #{number}？" in page and "data-confirm" in page
    for words in ("公示后，门户的“议题公示”立即公开", NOTICE["title"], NOTICE["text"], "停车管理", "燕子山社区",
                  "直到议事会召开（会期待定）、议题办结或撤回公示为止", "不会公开：居民的称呼、电话和地点"):
        assert words in page, words
    assert "王秀英" not in page and "13912345678" not in page and PLACE not in page
    with app.app_context(), tenant_context(street.id):
        from shangliang.topics.models import TopicNotice

        assert db.scalar(select(TopicNotice)) is None  # nothing published
    assert audited(app, street, "notice.publish") == []
    # 返回修改: the topic's form again, as typed
    back = post(staff, url, do="edit", title="停车难怎么办（草稿）", text=NOTICE["text"])
    assert back.status_code == 200 and 'value="停车难怎么办（草稿）"' in back.get_data(as_text=True)
    # a planned meeting: the page says until when
    start = (utcnow() + timedelta(days=5)).astimezone(ZoneInfo(street.timezone))
    with app.app_context():
        factories.meeting(street, "停车议事会", start.strftime("%Y-%m-%d 19:00"), topics=[number])
        db.commit()
    page = post(staff, url, do="publish", **NOTICE).get_data(as_text=True)
    assert f"（已安排在 {start.strftime('%Y-%m-%d')} 19:00）" in page
    done = staff.post(url, data={"csrf_token": csrf_token(staff), "do": "publish", "confirm": "1", **NOTICE},
                      follow_redirects=True)
    assert "已公示：居民在门户的“议题公示”中能看到、支持和留言" in done.get_data(as_text=True)
    assert NOTICE["title"] in app.test_client().get("/t/yanshan/yiti").get_data(as_text=True)
    fixed = staff.post(url, data={"csrf_token": csrf_token(staff), "do": "publish", **NOTICE, "title": "停车难，来商量"})
    assert f"修改议题 #{number} 的公示内容？" in fixed.get_data(as_text=True)


def test_a_notice_ends_when_its_meeting_is_held_not_before_and_not_for_an_earlier_one(app, as_user, world, street):
    number = topic_at(app, street)
    zone = ZoneInfo(street.timezone)
    earlier = (utcnow() - timedelta(days=3)).astimezone(zone)
    with app.app_context():  # a meeting held before the notice (an earlier round) does not end it
        old = factories.meeting(street, "上一轮议事会", earlier.strftime("%Y-%m-%d 09:00"), topics=[number])
        factories.hold(street, old)
        db.commit()
    publish(app, street, number)
    client = app.test_client()
    page = client.get("/t/yanshan/yiti").get_data(as_text=True)
    assert NOTICE["title"] in page and "会期待定" in page

    soon = (utcnow() + timedelta(days=2)).astimezone(zone)
    with app.app_context():
        meeting = factories.meeting(street, "停车管理协商会", soon.strftime("%Y-%m-%d 14:30"), topics=[number])
        db.commit()
        meeting_number = meeting.number
    page = client.get("/t/yanshan/yiti").get_data(as_text=True)
    assert soon.strftime("%Y年%m月%d日 14:30") in page and "会期待定" not in page

    from shangliang.meetings import operations as meeting_ops

    later = utcnow() + timedelta(days=3)
    with app.app_context(), mock.patch.object(meeting_ops, "utcnow", lambda: later):
        with tenant_context(street.id):
            factories.hold(street, meeting_ops.get_meeting(meeting_number))
        db.commit()
    assert NOTICE["title"] not in client.get("/t/yanshan/yiti").get_data(as_text=True)
    assert client.get(f"/t/yanshan/yiti/{number}").status_code == 404
    page = as_user("yanshan-staff").get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "已协商，公示结束" in page and "撤回公示" not in page


def test_a_notice_ends_with_its_topic_and_with_a_consultation_record(app, as_user, world, street):
    """四环八步's 审批定题 publishes the 协商计划; 不予立项 closes the topic and ends the notice."""
    with app.app_context():
        factories.procedure(world.langshan, "sihuan_babu")
        db.commit()
    number = topic_at(app, world.langshan, "dingti")
    publish(app, world.langshan, number)
    client = app.test_client()
    assert client.get(f"/t/langshan/yiti/{number}").status_code == 200
    with app.app_context(), tenant_context(world.langshan.id):
        topic = topic_of(number)
        factories.act(world.langshan, topic, "close_out_of_scope", to="pinggu", data={"reason": "不属于协商范围"})
        db.commit()
        assert topic.status == "closed"
    assert client.get(f"/t/langshan/yiti/{number}").status_code == 404
    page = as_user("langshan-admin").get(f"/t/langshan/topics/{number}").get_data(as_text=True)
    assert "议题已结束，公示结束" in page

    # 4+X: consulted without a meeting of the module (a consultation record logged on the topic)
    other = topic_at(app, street)
    publish(app, street, other)
    with app.app_context(), tenant_context(street.id):
        topic = topic_of(other)
        for _ in range(2):  # 议题公示 → 会前调研 → 协商议事会
            factories.advance(street, topic)
        assert client.get(f"/t/yanshan/yiti/{other}").status_code == 200  # still before the consultation
        factories.act(street, topic, "consult", data={"agreement": "设道闸"})
        db.commit()
    assert client.get(f"/t/yanshan/yiti/{other}").status_code == 404


# ---------------------------------------------------------------- the portal

def test_the_portal_shows_what_staff_wrote_and_no_personal_data(app, world, street):
    number = topic_at(app, street)
    publish(app, street, number)
    client = app.test_client()
    assert "议题公示" in client.get("/t/yanshan/").get_data(as_text=True)  # linked from the portal home
    for url in ("/t/yanshan/yiti", f"/t/yanshan/yiti/{number}"):
        page = client.get(url).get_data(as_text=True)
        assert NOTICE["title"] in page and NOTICE["text"] in page
        assert "停车管理" in page and "燕子山社区" in page  # category and community
        for private in ("王秀英", "13912345678", "1391234", "立功小区", "外来车辆长期占用"):
            assert private not in page, (url, private)


def test_a_number_supports_a_topic_once_and_is_kept_only_as_a_keyed_hash(app, world, street):
    from shangliang.portal.notice import person_hash
    from shangliang.topics.models import NoticeSupport

    number, other = topic_at(app, street), topic_at(app, street, title="另一件")
    publish(app, street, number)
    publish(app, street, other, title="另一件事")
    client = app.test_client()
    assert support(client, number, "138 0000 1111").status_code == 302
    assert "1 人支持" in client.get(f"/t/yanshan/yiti/{number}").get_data(as_text=True)
    again = support(client, number, "13800001111", ip="198.51.100.9")  # the same number, written otherwise
    assert again.status_code == 409 and "您已支持过这个议题" in again.get_data(as_text=True)
    assert 'value="13800001111"' in again.get_data(as_text=True)  # what was typed is kept
    assert support(client, number, "13800002222").status_code == 302
    assert support(client, other, "13800001111").status_code == 302  # the same person, another topic
    assert "2 人支持" in client.get(f"/t/yanshan/yiti/{number}").get_data(as_text=True)
    with app.app_context(), tenant_context(street.id):
        rows = list(db.scalars(select(NoticeSupport)))
        ids = {topic_of(n).id: n for n in (number, other)}
        assert len(rows) == 3
        for row in rows:
            assert "1380000" not in row.person_hash and len(row.person_hash) == 64
        first = {r.person_hash for r in rows if ids[r.topic_id] == number}
        assert person_hash(street.id, topic_of(number).id, "13800001111") in first
        # the same number on two topics: two unrelated hashes
        assert person_hash(street.id, topic_of(other).id, "13800001111") not in first


def test_a_comment_is_public_only_once_approved_and_a_rejected_one_never(app, as_user, world, street):
    from shangliang.topics.models import NoticeComment

    number = topic_at(app, street)
    publish(app, street, number)
    client, staff = app.test_client(), as_user("yanshan-staff")
    assert comment(client, number, "建议在小区门口设道闸").status_code == 302
    assert comment(client, number, "都是骗人的广告", phone="13800002222").status_code == 302
    again = comment(client, number, "再说一句", phone="138-0000-1111")
    assert again.status_code == 409 and "您已在这个议题下留过言" in again.get_data(as_text=True)
    page = client.get(f"/t/yanshan/yiti/{number}").get_data(as_text=True)
    assert "建议在小区门口设道闸" not in page and "都是骗人的广告" not in page and "0 条留言" in page

    queue = staff.get("/t/yanshan/notice/").get_data(as_text=True)
    assert "建议在小区门口设道闸" in queue and "都是骗人的广告" in queue and "待审核留言 <b>2</b>" in queue
    with app.app_context(), tenant_context(street.id):
        ids = {c.text: c.id for c in db.scalars(select(NoticeComment))}
    assert post(staff, f"/t/yanshan/notice/comments/{ids['建议在小区门口设道闸']}", do="approve").status_code == 302
    assert post(staff, f"/t/yanshan/notice/comments/{ids['都是骗人的广告']}", do="reject").status_code == 302
    assert post(staff, f"/t/yanshan/notice/comments/{ids['都是骗人的广告']}", do="maybe").status_code == 400
    for url in (f"/t/yanshan/yiti/{number}", "/t/yanshan/yiti"):
        page = client.get(url).get_data(as_text=True)
        assert "建议在小区门口设道闸" in page and "都是骗人的广告" not in page and "1 条留言" in page
    assert "没有待审核的留言" in staff.get("/t/yanshan/notice/").get_data(as_text=True)
    assert "都是骗人的广告" in staff.get("/t/yanshan/notice/?view=rejected").get_data(as_text=True)
    topic_page = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "都是骗人的广告" in topic_page and "不予公开 1" in topic_page  # staff see every comment
    # an approved comment can be taken down (from the topic's page)
    resp = post(staff, f"/t/yanshan/notice/comments/{ids['建议在小区门口设道闸']}", do="reject", back="topic")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/topics/{number}#notice")
    assert "建议在小区门口设道闸" not in client.get(f"/t/yanshan/yiti/{number}").get_data(as_text=True)
    assert sorted(audited(app, street, "notice.comment.approve") + audited(app, street, "notice.comment.reject")) \
        == [f"topic:{number}"] * 3
    # a member sees the comments on the topic's page but may not moderate
    assert post(as_user("yanshan-member"), f"/t/yanshan/notice/comments/{ids['建议在小区门口设道闸']}",
                do="approve").status_code == 403


@pytest.mark.parametrize("which, data, field, message", [
    ("support", {"phone": ""}, "support-phone", "请填写手机号码"),
    ("support", {"phone": "12345"}, "support-phone", "手机号码须为 11 位大陆手机号码"),
    ("support", {"phone": "23800001111"}, "support-phone", "手机号码须为 11 位大陆手机号码"),
    ("comment", {"phone": "13800001111", "comment": ""}, "comment", "请填写留言内容"),
    ("comment", {"phone": "13800001111", "comment": "长" * 301}, "comment", "留言最多 300 个字符"),
    ("comment", {"phone": "13800001111", "comment": "道闸\x00"}, "comment", "留言不能包含控制字符"),
    ("comment", {"phone": "1380000", "comment": "好"}, "comment-phone", "手机号码须为 11 位大陆手机号码"),
])
def test_a_refused_form_names_the_field_and_keeps_what_was_typed(app, world, street, which, data, field, message):
    number = topic_at(app, street)
    publish(app, street, number)
    client = app.test_client()
    resp = client.post(f"/t/yanshan/yiti/{number}/{which}", data={**public_form(client, number), **data})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and f'id="{field}-error">{message}' in html
    if data.get("comment") and "\x00" not in data["comment"]:
        assert data["comment"][:20] in html


def test_public_forms_are_signed_trapped_and_throttled(app, world, street, monkeypatch):
    from shangliang.portal import notice as portal_notice
    from shangliang.portal.operations import Limit

    number = topic_at(app, street)
    publish(app, street, number)
    client = app.test_client()
    forged = client.post(f"/t/yanshan/yiti/{number}/support",
                         data={"csrf_token": csrf_token(client), "form_token": "forged", "phone": "13800001111"})
    assert forged.status_code == 400 and "提交未被接受" in forged.get_data(as_text=True)
    raise_form = re.search(r'name="form_token" value="([^"]+)"', client.get("/t/yanshan/raise").get_data(as_text=True))
    if raise_form:  # 点单's token is not one of these forms'
        resp = client.post(f"/t/yanshan/yiti/{number}/support", data={
            "csrf_token": csrf_token(client), "form_token": raise_form.group(1), "phone": "13800001111"})
        assert resp.status_code == 400
    assert support(client, number, website="http://spam.example").status_code == 400
    monkeypatch.setattr(portal_notice, "PER_ADDRESS", Limit("notice.address", 3, timedelta(hours=1)))
    assert support(client, number, "13800000001").status_code == 302
    assert support(client, number, "13800000001").status_code == 409  # a repeat counts too
    assert comment(client, number, phone="13800000002").status_code == 302
    resp = support(client, number, "13800000003")
    assert resp.status_code == 429 and "提交过于频繁" in resp.get_data(as_text=True)
    assert support(client, number, "13800000003", ip="198.51.100.9").status_code == 302  # a neighbour is not


def test_a_quick_resident_confirms_once_and_each_form_says_what_the_number_is_for(app, world, street, monkeypatch):
    from html import unescape

    from shangliang.portal import operations

    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 3)
    number = topic_at(app, street)
    publish(app, street, number)
    client = app.test_client()
    page = client.get(f"/t/yanshan/yiti/{number}").get_data(as_text=True)
    assert page.count("个人信息：手机号码只用于确认每人支持、留言各一次") == 2  # by each form's button
    resp = comment(client, number, text="建议晚上十点后限行", phone="13800002222")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "请确认提交" in html and "建议晚上十点后限行" in html
    confirm = html[html.index('id="confirm"'):]
    fields = {k: unescape(v) for k, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', confirm)}
    back = client.post(f"/t/yanshan/yiti/{number}/comment", data={**fields, "edit": "1"}).get_data(as_text=True)
    assert "建议晚上十点后限行" in back and 'value="13800002222"' in back  # 返回修改 keeps it
    done = client.post(f"/t/yanshan/yiti/{number}/comment", data=fields, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert done.status_code == 302
    with app.app_context(), tenant_context(street.id):
        from shangliang.topics.models import NoticeComment

        assert [c.text for c in db.scalars(select(NoticeComment))] == ["建议晚上十点后限行"]


# ---------------------------------------------------------------- staff planning the meeting

def test_the_meeting_form_and_page_show_supports_and_comments_of_each_topic(app, as_user, world, street):
    number = topic_at(app, street)
    publish(app, street, number)
    client = app.test_client()
    for phone in ("13800000001", "13800000002"):
        assert support(client, number, phone).status_code == 302
    assert comment(client, number, phone="13800000003").status_code == 302
    staff = as_user("yanshan-staff")
    form = staff.get(f"/t/yanshan/meetings/new?topic={number}").get_data(as_text=True)
    assert "支持 2" in form and "公开留言 0" in form and "待审核 1" in form
    assert f"/t/yanshan/topics/{number}#notice" in form
    with app.app_context():
        meeting = factories.meeting(street, "停车管理协商会", "2099-05-20 14:30", topics=[number])
        db.commit()
    page = staff.get(f"/t/yanshan/meetings/{meeting.number}").get_data(as_text=True)
    assert "支持 2" in page and f"/t/yanshan/topics/{number}#notice" in page


# ---------------------------------------------------------------- another street

def test_another_streets_topics_and_comments_are_404_everywhere(app, as_user, world, street):
    from shangliang.topics.models import NoticeComment

    number = topic_at(app, street)
    publish(app, street, number)
    client = app.test_client()
    assert comment(client, number).status_code == 302
    with app.app_context(), tenant_context(street.id):
        comment_id = db.scalar(select(NoticeComment.id))
    # the portal of another street: that number is not theirs (nor on notice there)
    with app.app_context():
        factories.procedure(world.guangwumen, "four_plus_x")
        db.commit()
    assert client.get(f"/t/guangwumen/yiti/{number}").status_code == 404
    token = csrf_token(client)
    for action in ("support", "comment"):
        resp = client.post(f"/t/guangwumen/yiti/{number}/{action}", data={"csrf_token": token, "phone": "13800001111"})
        assert resp.status_code == 404
    assert NOTICE["title"] not in client.get("/t/guangwumen/yiti").get_data(as_text=True)
    # a topic of ours that is not on notice is not shown either
    quiet = topic_at(app, street)
    assert client.get(f"/t/yanshan/yiti/{quiet}").status_code == 404
    huge = "99999999999999999999"
    assert client.get(f"/t/yanshan/yiti/{huge}").status_code == 404
    assert client.post(f"/t/yanshan/yiti/{huge}/support", data={"csrf_token": token}).status_code == 404
    # their staff: on our slug nothing, on theirs not our objects
    assert post(as_user("yanshan-staff"), f"/t/yanshan/topics/{huge}/notice", do="publish").status_code == 404
    assert post(as_user("yanshan-staff"), "/t/yanshan/notice/comments/not-a-uuid", do="approve").status_code == 404
    theirs = as_user("guangwumen-staff")
    assert theirs.get("/t/yanshan/notice/").status_code == 404
    assert post(theirs, f"/t/yanshan/topics/{number}/notice", do="withdraw", reason="x").status_code == 404
    assert post(theirs, f"/t/yanshan/notice/comments/{comment_id}", do="approve").status_code == 404
    assert post(theirs, f"/t/guangwumen/notice/comments/{comment_id}", do="approve").status_code == 404
    assert post(theirs, f"/t/guangwumen/topics/{number}/notice", do="publish", **NOTICE).status_code == 404
    assert NOTICE["title"] in client.get("/t/yanshan/yiti").get_data(as_text=True)  # nothing was changed


# ---------------------------------------------------------------- what the pages cost

def statements(query_counter, client, url) -> int:
    client.get(url)  # first: read again what the process keeps (core/changes.py), then counted
    with query_counter() as stmts:
        assert client.get(url).status_code == 200
    return len(stmts)


def test_the_portal_list_and_the_moderation_queue_cost_the_same_at_any_size(app, as_user, world, street,
                                                                          query_counter):
    from shangliang.portal.notice import add_comment, add_support, person_hash
    from shangliang.topics import notice

    def grow(n: int):
        with app.app_context(), tenant_context(street.id):
            for i in range(n):
                topic = factories.topic_at(street, "gongshi", **{**RESIDENT, "title": f"议题{i}"})
                notice.publish(street, topic, None, {"staff"}, {**NOTICE, "title": f"公示{i}"})
                factories.meeting(street, f"议事会{i}", "2099-05-20 14:30", topics=[topic.number])
                for j in range(3):
                    digest = person_hash(street.id, topic.id, f"1380000{i:02d}{j:02d}")
                    add_support(street, topic, digest)
                    made = add_comment(street, topic, digest, f"留言{i}-{j}")
                    if j == 0:
                        notice.moderate(street, made, None, "approve")
            db.commit()

    client, staff = app.test_client(), as_user("yanshan-staff")
    pages = {client: ["/t/yanshan/yiti", "/t/yanshan/yiti/1"],
             staff: ["/t/yanshan/notice/", "/t/yanshan/notice/?view=live", "/t/yanshan/notice/?view=approved",
                     "/t/yanshan/meetings/new"]}
    grow(2)
    small = {url: statements(query_counter, c, url) for c, urls in pages.items() for url in urls}
    grow(6)
    large = {url: statements(query_counter, c, url) for c, urls in pages.items() for url in urls}
    assert small == large
    assert large["/t/yanshan/yiti"] <= 8, large
    page = client.get("/t/yanshan/yiti").get_data(as_text=True)
    assert page.count('class="card notice"') == 8 and "2099年05月20日 14:30" in page


# ---------------------------------------------------------------- on a phone

def test_on_a_phone_a_resident_reads_supports_and_comments(app, world, street, live_server, browser):
    number = topic_at(app, street)
    publish(app, street, number)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.set_default_timeout(15_000)
    phone.goto(f"{live_server}/t/yanshan/")
    phone.click(".portal-nav >> text=议题公示")
    shows(phone, NOTICE["title"], "会期待定", "0 人支持")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(SHOTS / "notice-1-list.png"), full_page=True)
    phone.click("text=我支持 / 我要留言")
    phone.fill("#support-phone", "138 0000 1111")
    phone.click("text=支持这个议题")
    shows(phone, "感谢您的支持！", "1 人支持")
    phone.fill("#comment-text", "建议在小区门口设道闸")
    phone.fill("#comment-phone", "13800001111")
    phone.click("text=提交留言")
    shows(phone, "留言已收到，工作人员审核后公开")
    assert "建议在小区门口设道闸" not in phone.locator("article.notice").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(SHOTS / "notice-2-topic.png"), full_page=True)
