"""The street's public portal: 点单 with a receipt, following and rating it, 公示; and its defences."""
from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest
from sqlalchemy import func, select

import factories
from conftest import csrf_token, uploaded_key

FORM = {"title": "3 号楼楼道灯坏了", "description": "晚上回家看不见台阶，老人容易摔倒。", "place": "立功小区 3 号楼",
        "resident_name": "王大妈", "resident_phone": "138 1234 5678"}


@pytest.fixture
def street(app, world, monkeypatch):
    """yanshan with a small procedure; forms may be sent at once unless a test says otherwise."""
    from shangliang.core.db import db
    from shangliang.portal import operations

    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 0)
    with app.app_context():
        factories.procedure(world.yanshan)
        db.commit()
    return world.yanshan


def form_of(client, slug="yanshan"):
    html = client.get(f"/t/{slug}/raise").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    return {"csrf_token": csrf_token(client), "form_token": token}


def raise_topic(client, ip="203.0.113.7", slug="yanshan", **changes):
    data = {**form_of(client, slug), **FORM, **changes}
    return client.post(f"/t/{slug}/raise", data=data, environ_base={"REMOTE_ADDR": ip})


def receipt_of(resp) -> str:
    return re.search(r'id="receipt-code">([0-9A-Z-]+)<', resp.get_data(as_text=True)).group(1)


def topics_in(app, tenant):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic

    with app.app_context(), tenant_context(tenant.id):
        return list(db.scalars(select(Topic).order_by(Topic.number)))


def test_a_resident_raises_a_topic_and_gets_a_receipt(app, client, street):
    resp = raise_topic(client)
    assert resp.status_code == 201
    code = receipt_of(resp)
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    [topic] = topics_in(app, street)
    assert (topic.channel, topic.step_key, topic.resident_phone) == ("portal", "dian", "13812345678")
    assert topic.receipt_hash and code not in topic.receipt_hash
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.operations import events

    with app.app_context(), tenant_context(street.id):
        assert topic.procedure.steps[0]["phase"] == "intake"  # it entered at the intake step
        [created] = events(db.merge(topic))
        assert (created.action, created.actor_id, created.actor_role) == ("create", None, "resident")


def test_sending_the_same_form_twice_gives_one_topic_and_the_same_receipt(app, client, street):
    data = {**form_of(client), **FORM}
    first = client.post("/t/yanshan/raise", data=data)
    second = client.post("/t/yanshan/raise", data=data)
    assert first.status_code == second.status_code == 201
    assert receipt_of(first) == receipt_of(second)
    assert len(topics_in(app, street)) == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"title": ""}, "title", "请填写标题"),
    ({"title": "长" * 61}, "title", "标题最多 60 个字"),
    ({"description": "长" * 1001}, "description", "具体情况最多 1000 个字"),
    ({"resident_phone": "12345"}, "resident_phone", "11 位手机号码"),
    ({"community": "不存在的社区"}, "community", "请从列表中选择社区"),
])
def test_bad_input_names_the_field_and_keeps_what_was_typed(app, client, street, changes, field, message):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Community

    with app.app_context(), tenant_context(street.id):
        db.add(Community(tenant_id=street.id, name="燕子山社区", grids=[], position=0))
        db.commit()
    resp = raise_topic(client, **changes)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in html and f'id="{field}-error"' in html
    assert "晚上回家看不见台阶" in html or field == "description"
    assert topics_in(app, street) == []


def test_the_hidden_trap_and_a_forged_form_are_refused(app, client, street):
    trapped = raise_topic(client, website="http://spam.example")
    assert trapped.status_code == 400 and "提交未被接受" in trapped.get_data(as_text=True)
    forged = client.post("/t/yanshan/raise", data={"csrf_token": csrf_token(client), "form_token": "forged", **FORM})
    assert forged.status_code == 400
    # A form shown by another street does not count here.
    other = client.post("/t/yanshan/raise", data={**form_of(client, "langshan"), **FORM}) \
        if client.get("/t/langshan/raise").status_code == 200 else None
    assert other is None or other.status_code == 400
    assert topics_in(app, street) == []


def confirm_fields(html: str) -> dict:
    """The hidden fields of the page asking to confirm: everything typed, and its confirmation."""
    form = html[html.index('id="confirm"'):]
    return {name: unescape(value) for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form)}


def test_a_quick_resident_is_asked_to_confirm_once_and_loses_nothing(app, client, street, monkeypatch):
    from shangliang.portal import operations

    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 3)
    resp = raise_topic(client)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "请确认提交" in html and "提交太快了" not in html
    assert "3 号楼楼道灯坏了" in html and "晚上回家看不见台阶" in html and "个人信息说明" in html
    assert topics_in(app, street) == []  # nothing yet
    fields = confirm_fields(html)
    assert {k: fields[k] for k in FORM} == FORM and fields["confirm_token"]
    # 返回修改: the form again with everything typed, and the same form token (its clock goes on)
    back = client.post("/t/yanshan/raise", data={**fields, "edit": "1"}).get_data(as_text=True)
    assert 'value="3 号楼楼道灯坏了"' in back and "晚上回家看不见台阶" in back and 'value="138 1234 5678"' in back
    assert f'name="form_token" value="{fields["form_token"]}"' in back
    confirmed = client.post("/t/yanshan/raise", data=fields, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert confirmed.status_code == 201 and receipt_of(confirmed)
    again = client.post("/t/yanshan/raise", data=fields)  # confirmed twice (a double click): one topic
    assert again.status_code == 201 and receipt_of(again) == receipt_of(confirmed)
    assert len(topics_in(app, street)) == 1


def test_a_confirmation_holds_for_its_own_form_only_and_the_trap_still_holds(app, client, street, monkeypatch):
    from shangliang.portal import operations

    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 3)
    first = confirm_fields(raise_topic(client).get_data(as_text=True))
    other = {**form_of(client), **FORM, "confirm_token": first["confirm_token"]}  # another form's confirmation
    resp = client.post("/t/yanshan/raise", data=other)
    assert resp.status_code == 200 and "请确认提交" in resp.get_data(as_text=True)
    forged = client.post("/t/yanshan/raise", data={**first, "confirm_token": "forged"})
    assert forged.status_code == 200 and "请确认提交" in forged.get_data(as_text=True)
    trapped = client.post("/t/yanshan/raise", data={**first, "website": "http://spam.example"})
    assert trapped.status_code == 400 and "提交未被接受" in trapped.get_data(as_text=True)
    assert topics_in(app, street) == []


def test_a_script_that_confirms_is_still_stopped_by_the_rate_limits(app, client, street, monkeypatch):
    from shangliang.portal import operations

    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 3)
    for i in range(operations.PER_ADDRESS.count):
        fields = confirm_fields(raise_topic(client, title=f"事 {i}").get_data(as_text=True))
        assert client.post("/t/yanshan/raise", data=fields, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 201
    resp = raise_topic(client, title="再来一件")  # refused before it is asked to confirm: nothing to confirm
    assert resp.status_code == 429 and "提交过于频繁" in resp.get_data(as_text=True) and "再来一件" in resp.get_data(as_text=True)
    assert len(topics_in(app, street)) == operations.PER_ADDRESS.count


def test_the_form_says_what_is_collected_why_who_sees_it_and_how_long_it_is_kept(app, client, street):
    from shangliang.branding import operations as brands
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(street.id):
        row = brands.save_version(db.merge(street), None, {
            "display_name": "燕山街道", "brand_name": "有事好商量", "primary_colour": "#b3261e", "accent_colour": "#9c6500",
            "text_colour": "#ffffff", "hotlines": "街道热线: 0531-86123456", "mailbox": "历下区燕山街道办事处一楼信箱"})
        brands.publish(db.merge(street), None, row.number)
        db.commit()
    html = client.get("/t/yanshan/raise").get_data(as_text=True)
    for words in ("个人信息说明", "手机号码、称呼（可不填）", "用于办理这件事", "只有本街道的工作人员和接手办理的政协委员",
                  "公开页面不显示您的称呼、电话和地点", "详细说明", "保存多久", "目前不会自动删除", "查阅、更正或删除",
                  "0531-86123456", "历下区燕山街道办事处一楼信箱", "提交即表示您同意按上述说明处理您的信息"):
        assert words in html, words
    assert html.index("个人信息说明") < html.index("提交即表示您同意") < html.rindex("</form>")
    refused = raise_topic(client, title="").get_data(as_text=True)  # shown again with a refusal: still there
    assert "个人信息说明" in refused and "提交即表示您同意" in refused


def test_flooding_from_one_address_is_stopped_with_a_clear_message(app, client, street):
    from shangliang.portal.operations import PER_ADDRESS

    for i in range(PER_ADDRESS.count):
        assert raise_topic(client, title=f"事 {i}").status_code == 201
    resp = raise_topic(client, title="再来一件")
    assert resp.status_code == 429 and "提交过于频繁" in resp.get_data(as_text=True)
    assert "再来一件" in resp.get_data(as_text=True)  # nothing typed is lost
    assert raise_topic(client, ip="198.51.100.9").status_code == 201  # a neighbour is not affected
    assert len(topics_in(app, street)) == PER_ADDRESS.count + 1


def test_a_street_under_a_flood_from_many_addresses_stops_taking_forms(app, client, street, monkeypatch):
    from shangliang.portal import operations

    monkeypatch.setattr(operations, "PER_TENANT", operations.Limit("raise.tenant", 3, operations.PER_TENANT.window))
    for i in range(3):
        assert raise_topic(client, ip=f"192.0.2.{i}").status_code == 201
    assert raise_topic(client, ip="192.0.2.200").status_code == 429


def test_following_needs_the_code_and_the_last_four_digits(app, client, street):
    code = receipt_of(raise_topic(client))
    ok = client.post("/t/yanshan/follow", data={"csrf_token": csrf_token(client), "code": code.lower().replace("-", ""),
                                                "last4": "5678"})
    assert ok.status_code == 200 and "3 号楼楼道灯坏了" in ok.get_data(as_text=True)
    wrong = client.post("/t/yanshan/follow", data={"csrf_token": csrf_token(client), "code": code, "last4": "0000"})
    assert wrong.status_code == 400 and "没有找到" in wrong.get_data(as_text=True)
    assert "3 号楼楼道灯坏了" not in wrong.get_data(as_text=True)
    # Another street's portal does not know this receipt.
    elsewhere = client.post("/t/langshan/follow", data={"csrf_token": csrf_token(client), "code": code, "last4": "5678"})
    assert elsewhere.status_code == 400


def test_guessing_receipt_codes_is_throttled(app, client, street):
    from shangliang.portal.operations import LOOKUP_FAILURES

    code = receipt_of(raise_topic(client))
    for i in range(LOOKUP_FAILURES.count):
        client.post("/t/yanshan/follow", data={"csrf_token": csrf_token(client), "code": f"AAAAA-{i:05d}",
                                               "last4": "5678"})
    resp = client.post("/t/yanshan/follow", data={"csrf_token": csrf_token(client), "code": code, "last4": "5678"})
    assert resp.status_code == 429 and "查询失败次数过多" in resp.get_data(as_text=True)


def move(app, tenant, number, *steps):
    """Staff move the topic: each step is (kind, to, data)."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic
    from shangliang.topics.operations import act

    with app.app_context(), tenant_context(tenant.id):
        for kind, to, data in steps:
            topic = db.scalar(select(Topic).where(Topic.number == number))
            act(tenant, None, {"street_admin"}, topic, kind, expected_version=topic.version, to=to, data=data)
            db.commit()


def to_evaluation(app, street, key):
    move(app, street, 1, ("record", None, {"category": "公共设施"}), ("advance", "shang", {}),
         ("consult", None, {"agreement": "物业三天内换灯"}), ("attach", None, {"kind": "photo", "key": key}),
         ("record", None, {"outcome": "已更换 3 号楼全部楼道灯"}), ("advance", "ping", {}))


def test_the_resident_rates_the_result_once_at_the_evaluation_step(app, client, street):
    code = receipt_of(raise_topic(client))
    follow = {"csrf_token": csrf_token(client), "code": code, "last4": "5678"}
    early = client.post("/t/yanshan/follow", data={**follow, "action": "rate", "level": "satisfied", "solved": "true"})
    assert "当前还不到评价环节" in early.get_data(as_text=True)
    with app.app_context():
        key = uploaded_key(street.id)
    to_evaluation(app, street, key)
    page = client.post("/t/yanshan/follow", data=follow).get_data(as_text=True)
    assert "评单：请您评价办理结果" in page and "已更换 3 号楼全部楼道灯" in page
    rated = client.post("/t/yanshan/follow", data={**follow, "action": "rate", "level": "very_satisfied",
                                                   "solved": "true", "score": "5", "comment": "很及时"})
    assert rated.status_code == 200 and "感谢您的评价" in rated.get_data(as_text=True)
    assert "非常满意 · 问题已解决 · 5 / 5" in rated.get_data(as_text=True)
    again = client.post("/t/yanshan/follow", data={**follow, "action": "rate", "level": "unsatisfied",
                                                   "solved": "false"})
    assert "您已评价过" in again.get_data(as_text=True)
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import TopicEvent

    with app.app_context(), tenant_context(street.id):
        rates = list(db.scalars(select(TopicEvent).where(TopicEvent.action == "rate")))
        assert len(rates) == 1 and rates[0].actor_role == "resident"
        assert rates[0].data == {"level": "very_satisfied", "satisfied": True, "solved": True, "valid": True,
                                 "score": 5, "via": "portal"} and rates[0].comment == "很及时"


def test_a_topic_raised_for_a_resident_gives_them_a_receipt_to_follow_and_rate_with(app, client, street, as_user):
    """A member's 提议 naming the residents who asked, staff after a door visit: the resident rates
    for themselves on the portal with a code shown once to whoever raised it. No phone, no code:
    nothing would prove it is theirs."""
    from shangliang.topics.receipts import receipt_hash

    member = as_user("yanshan-member")
    resp = member.post("/t/yanshan/topics/new", data={
        "csrf_token": csrf_token(member), "title": "小区建共享工具屋", "channel": "meeting",
        "description": "居民装修常借电钻，委员提议建共享工具屋", "resident_name": "齐先生", "resident_phone": "139 0534 1234"})
    assert resp.status_code == 302
    page = member.get(resp.location).get_data(as_text=True)
    code = re.search(r"居民的回执码：([0-9A-Z]{5}-[0-9A-Z]{5})（只显示这一次）", page).group(1)
    assert "回执码" not in member.get(resp.location).get_data(as_text=True)  # only its hash is kept
    [topic] = topics_in(app, street)
    assert topic.receipt_hash == receipt_hash(code) and topic.channel == "meeting"

    with app.app_context():
        key = uploaded_key(street.id)
    to_evaluation(app, street, key)
    follow = {"csrf_token": csrf_token(client), "code": code, "last4": "1234"}
    assert "评单：请您评价办理结果" in client.post("/t/yanshan/follow", data=follow).get_data(as_text=True)
    rated = client.post("/t/yanshan/follow", data={**follow, "action": "rate", "level": "satisfied", "solved": "true"})
    assert rated.status_code == 200 and "感谢您的评价" in rated.get_data(as_text=True)

    staff = as_user("yanshan-staff")
    resp = staff.post("/t/yanshan/topics/new", data={"csrf_token": csrf_token(staff), "title": "路灯不亮",
                                                    "channel": "door_visit", "resident_name": "李大爷"})
    assert resp.status_code == 302 and "回执码" not in staff.get(resp.location).get_data(as_text=True)
    assert topics_in(app, street)[1].receipt_hash is None


def test_another_partys_evaluation_is_not_shown_to_the_resident_as_their_own(app, client, street, world):
    """提议办评: the member scores first (委员评价); the resident's timeline names it so and still asks
    the resident for theirs."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic

    with app.app_context():
        factories.procedure(street, "tiyi_banping")
        db.commit()
    code = receipt_of(raise_topic(client))
    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic))
        while topic.step_key != "ping":
            factories.advance(street, topic)
        factories.act(street, topic, "rate", world.users["yanshan-member"].id, {"member"},
                      {"level": "satisfied", "solved": "true", "score_duration": 4, "score_kind": 4, "score_effect": 5})
        db.commit()
    page = client.post("/t/yanshan/follow", data={"csrf_token": csrf_token(client), "code": code,
                                                  "last4": "5678"}).get_data(as_text=True)
    assert "已评价：委员评价" in page and "您已评价" not in page and "评单：请您评价办理结果" in page


def test_the_rating_form_names_what_is_missing_and_keeps_what_was_typed(app, client, street):
    code = receipt_of(raise_topic(client))
    follow = {"csrf_token": csrf_token(client), "code": code, "last4": "5678", "action": "rate"}
    with app.app_context():
        key = uploaded_key(street.id)
    to_evaluation(app, street, key)
    page = client.post("/t/yanshan/follow", data={k: follow[k] for k in ("csrf_token", "code", "last4")})
    assert re.findall(r'name="level" value="(\w+)"', page.get_data(as_text=True)) == [
        "very_satisfied", "satisfied", "basic", "unsatisfied"]

    typed = {"solved": "false", "score": "2", "comment": "灯修了又坏"}
    for sent, field, message in (({}, "level", "请选择满意程度"), ({"level": "great"}, "level", "请选择满意程度"),
                                 ({"level": "basic", "solved": ""}, "solved", "请选择问题是否已解决")):
        resp = client.post("/t/yanshan/follow", data={**follow, **typed, **sent})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400, sent
        assert f'<p class="field-error" id="{field}-error">{message}</p>' in html, sent
        assert "灯修了又坏</textarea>" in html and 'name="score" value="2" checked' in html
        if field == "level":
            assert 'name="solved" value="false" required checked' in html
    resp = client.post("/t/yanshan/follow", data={**follow, **typed, "level": "basic"})
    assert resp.status_code == 200 and "基本满意 · 问题未解决 · 2 / 5" in resp.get_data(as_text=True)


def test_a_rating_logged_before_levels_shows_with_its_level(app, client, street, monkeypatch):
    from shangliang.topics import operations as ops

    code = receipt_of(raise_topic(client))
    with app.app_context():
        key = uploaded_key(street.id)
    to_evaluation(app, street, key)
    # a 12345 callback the staff recorded before ratings had levels
    monkeypatch.setitem(ops.ACTIONS, "rate", replace(ops.ACTIONS["rate"], apply=lambda topic, data, log: {
        "satisfied": True, "score": 4, "via": "12345"}))
    move(app, street, 1, ("rate", None, {}))
    html = client.post("/t/yanshan/follow", data={"csrf_token": csrf_token(client), "code": code,
                                                  "last4": "5678"}).get_data(as_text=True)
    assert "您的评价" in html and "<p>满意 · 问题已解决 · 4 / 5</p>" in html and 'name="level"' not in html


def test_gongshi_lists_concluded_topics_with_photos_and_no_personal_data(app, client, street, as_user):
    code = receipt_of(raise_topic(client))
    raise_topic(client, title="还在办的事")
    with app.app_context():
        key = uploaded_key(street.id)
    to_evaluation(app, street, key)
    client.post("/t/yanshan/follow", data={"csrf_token": csrf_token(client), "code": code, "last4": "5678",
                                           "action": "rate", "level": "satisfied", "solved": "true"})
    open_photo = client.get("/t/yanshan/gongshi/1/photos/5")
    assert open_photo.status_code == 404  # not concluded yet: nothing shown
    move(app, street, 1, ("advance", "shou", {}), ("record", None, {"summary": "群众满意"}), ("close", None, {}))
    assert "3 号楼楼道灯坏了" not in client.get("/t/yanshan/gongshi").get_data(as_text=True)  # not reviewed yet
    staff = as_user("yanshan-staff")  # reviews it: the drafted text, every photo
    review = staff.get("/t/yanshan/publication/").get_data(as_text=True)
    text = re.search(r'<textarea id="text-1" name="text"[^>]*>([^<]*)</textarea>', review).group(1)
    assert staff.post("/t/yanshan/publication/1", data={
        "csrf_token": csrf_token(staff), "do": "publish", "confirm": "1", "title": "3 号楼楼道灯坏了", "text": text,
        "photos": re.findall(r'name="photos" value="(\d+)"', review)}).status_code == 302
    html = client.get("/t/yanshan/gongshi").get_data(as_text=True)
    assert "3 号楼楼道灯坏了" in html and "已更换 3 号楼全部楼道灯" in html
    assert "还在办的事" not in html
    for private in ("王大妈", "1381234", "5678", "立功小区 3 号楼"):
        assert private not in html
    src = re.search(r'src="(/t/yanshan/gongshi/1/photos/\d+)"', html).group(1)
    photo = client.get(src)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert client.get("/t/guangwumen/gongshi/1/photos/5").status_code == 404


def test_the_portal_shows_the_steps_and_links(client, street):
    html = client.get("/t/yanshan/").get_data(as_text=True)
    for text in ("我要点单", "查询进度", "办理公示", "小流程", "点单", "评单"):
        assert text in html
    assert client.get("/t/lixia/raise").status_code == 404  # counties have no 点单


def test_a_receipt_still_works_after_the_street_moves_to_another_installation(app, client, street, tmp_path):
    from shangliang.core.tenancy import tenant_context
    from shangliang.core.db import db
    from shangliang.transfer.export import write_export
    from shangliang.transfer.restore import restore_tenant

    code = receipt_of(raise_topic(client))
    with app.app_context(), tenant_context(street.id):
        write_export(street.id, str(tmp_path / "yanshan.zip"))
    with app.app_context():
        restore_tenant(str(tmp_path / "yanshan.zip"), slug="yanshan-moved")  # a new tenant id
        db.commit()
    moved = client.post("/t/yanshan-moved/follow", data={"csrf_token": csrf_token(client), "code": code,
                                                          "last4": "5678"})
    assert moved.status_code == 200 and "3 号楼楼道灯坏了" in moved.get_data(as_text=True)



def test_where_several_parties_evaluate_the_resident_is_asked_until_they_have_rated_themselves(app, client, world,
                                                                                              street):
    """四环八步's 质效监评: the 党政点评 and 委员评议 come first; the resident's page names them and
    still asks for the resident's own 群众评议, never saying "您已评价" for someone else's."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic

    langshan = world.langshan
    with app.app_context():
        factories.procedure(langshan, "sihuan_babu")
        db.commit()
    code = receipt_of(raise_topic(client, slug="langshan"))
    with app.app_context(), tenant_context(langshan.id):
        topic = db.scalar(select(Topic))
        while topic.step_key != "jianping":
            factories.advance(langshan, topic)
        factories.act(langshan, topic, "rate", roles={"street_admin"},
                      data={"level": "satisfied", "party": "dangzheng"})
        factories.act(langshan, topic, "rate", roles={"member"}, data={"level": "satisfied"})
        db.commit()
    follow = {"csrf_token": csrf_token(client), "code": code, "last4": "5678"}
    html = client.post("/t/langshan/follow", data=follow).get_data(as_text=True)
    assert "党政点评" in html and "委员评议" in html
    assert "您已评价" not in html and "评单：请您评价办理结果" in html
    html = client.post("/t/langshan/follow", data={**follow, "action": "rate", "level": "satisfied",
                                                   "solved": "true"}).get_data(as_text=True)
    assert "感谢您的评价" in html and html.count("您已评价") == 1
