"""Topics through the pages, as staff and members use them."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import csrf_token, uploaded_key
from support import samples
from support.uploads import upload

QIBU = (Path(__file__).resolve().parents[1] / "tenants" / "procedures" / "qibu_dingdan.yaml").read_text("utf-8")
PNG = samples.png()


@pytest.fixture
def staff(app, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import publish

    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, QIBU)
        db.commit()
    return as_user("yanshan-staff")


def factories_department(app, world, name) -> str:
    """A street office on 燕山's list, as the transfer form names it."""
    import factories
    from shangliang.core.db import db

    with app.app_context():
        dept = factories.department(world.yanshan, name)
        db.commit()
        return f"{world.yanshan.id}:{dept.id}"


def raise_topic(client, **extra):
    form = {"csrf_token": csrf_token(client), "title": "立功小区天然气安装", "channel": "hotline_12345",
            "community": "燕子山社区", "grid": "3 网格", "resident_name": "王大妈", "resident_phone": "13812341234",
            "description": "楼道里没有天然气管道", **extra}
    return client.post("/t/yanshan/topics/new", data=form)


def page_of(client, number=1):
    return client.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)


def act(client, action, number=1, to=None, files=None, **data):
    html = page_of(client, number)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": csrf_token(client), "action": action, "version": version, **data}
    if to:
        form["to"] = to
    if files:
        form.update(files)
    return client.post(f"/t/yanshan/topics/{number}/act", data=form, content_type="multipart/form-data")


def attach_photo(app, client, run_jobs, name, number=1):
    """What the page does: the photo goes to storage, is checked, then recorded as evidence."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant
    from shangliang.topics.models import Topic

    with app.app_context():
        with tenant_context(db.scalar(select(Tenant.id).where(Tenant.slug == "yanshan"))):
            topic_id = db.scalar(select(Topic.id).where(Topic.number == number))
    att_id = upload(client, "yanshan", "topic", topic_id, PNG, name)
    run_jobs()
    return act(client, "attach", number, attachment_id=att_id)


def test_staff_and_members_move_a_topic_through_all_seven_steps(app, staff, as_user, world, run_jobs):
    resp = raise_topic(staff)
    assert resp.status_code == 302 and resp.location.endswith("/t/yanshan/topics/1")
    member = as_user("yanshan-member")

    assert act(staff, "advance", to="jiedan").status_code == 302              # 点单 → 接单
    assert act(staff, "record", category="公共设施", urgency="normal", place="2 号楼").status_code == 302
    resp = act(staff, "advance", to="candan")
    assert resp.status_code == 400 and "照片 1 张" in resp.get_data(as_text=True)  # 实地走访 photo missing
    assert attach_photo(app, staff, run_jobs, "现场.png").status_code == 302
    assert act(staff, "advance", to="candan").status_code == 302              # 接单 → 参单
    # 参单 is for members: staff have nothing to do here, a member claims and moves it on.
    assert "您在此步骤没有可执行的操作" in page_of(staff)
    assert act(member, "claim").status_code == 302
    office = factories_department(app, world, "街道城管中心")
    assert act(member, "transfer", to="gendan", departments=office, asked="核实管道走向").status_code == 302  # → 跟单
    assert act(staff, "record", plan="先铺设管道").status_code == 302  # the department is the transfer's
    assert act(staff, "advance", to="shangdan").status_code == 302            # → 商单
    assert act(staff, "record", plan="先铺设管道", outcome="燃气公司下月施工").status_code == 302
    assert attach_photo(app, staff, run_jobs, "商量.png").status_code == 302
    assert act(staff, "consult", agreement="燃气公司承诺下月施工，社区协调入户").status_code == 302
    assert act(staff, "advance", to="pingdan").status_code == 302             # → 评单
    assert act(staff, "rate", level="unsatisfied", solved="false", score="2", via="12345").status_code == 302
    assert act(staff, "reopen", to="shangdan").status_code == 302             # 复盘
    html = page_of(staff)
    assert "第 2 轮" in html
    for step in ("shangdan",):
        assert attach_photo(app, staff, run_jobs, "复盘.png").status_code == 302
        assert act(staff, "consult", agreement="施工时间提前到本周").status_code == 302
        assert act(staff, "advance", to="pingdan").status_code == 302
    assert act(staff, "rate", level="very_satisfied", solved="true", score="5", via="信箱").status_code == 302
    assert act(staff, "advance", to="shoudan").status_code == 302             # → 收单
    html = page_of(staff)
    if "summary" in html:
        act(staff, "record", summary="燃气管道已通，居民满意")
    asked = act(staff, "close").get_data(as_text=True)  # 办结 is asked first, saying what will change
    assert "确认办结议题 #1？" in asked and "不再推进或补充记录" in asked and 'name="confirm" value="1"' in asked
    assert 'status-archived' not in page_of(staff)  # nothing closed yet
    resp = act(staff, "close", confirm="1")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    html = page_of(staff)
    assert "已办结" in html and "办结" in html
    # The timeline says what happened in words, and the photos open through signed links.
    assert "记录了：类别、地点、紧急程度" in html and "转交：街道城管中心" in html
    # A way the procedure names is called by its name, not by its kind ("转交", "推进").
    assert re.search(r"<strong>约请主管部门跟单</strong>\s*参单 → 跟单", html)
    assert "不满意 · 问题未解决 · 评分 2 · 评价渠道 12345" in html and "燃气公司承诺下月施工" in html
    assert "非常满意 · 问题已解决 · 评分 5 · 评价渠道 信箱" in html
    link = re.search(r'照片：<a href="([^"]+)">现场.png</a>', html).group(1)
    signed = staff.get(link)  # through the permission check, then a signed link
    assert signed.status_code == 302
    photo = staff.get(signed.location) if signed.location.startswith("/") else None
    assert photo is None or (photo.status_code == 200 and photo.data.startswith(b"\x89PNG"))
    board = staff.get("/t/yanshan/topics/?status=closed").get_data(as_text=True)
    assert "立功小区天然气安装" in board


def test_a_double_submit_is_refused_the_second_time(staff, world):
    raise_topic(staff)
    html = page_of(staff)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": csrf_token(staff), "action": "comment", "version": version, "comment": "收到"}
    assert staff.post("/t/yanshan/topics/1/act", data=form).status_code == 302
    again = staff.post("/t/yanshan/topics/1/act", data=form)
    assert again.status_code == 409 and "刷新" in again.get_data(as_text=True)


def test_members_who_do_not_handle_it_see_the_phone_masked(staff, as_user, world):
    raise_topic(staff)
    assert "13812341234" in page_of(staff)
    html = page_of(as_user("yanshan-member"))
    assert "13812341234" not in html and "138****1234" in html and "王大妈" not in html


def test_the_record_form_offers_the_channel_by_name_and_room_for_a_paragraph(staff, world):
    """What a step asks for reads in words: the channel chosen by its name (not `hotline_12345` in a
    text box), the description, plan, outcome and summary in a box that shows a paragraph whole."""
    raise_topic(staff)
    record = re.search(r'<form[^>]*>(?:(?!</form>).)*name="action" value="record".*?</form>', page_of(staff),
                       re.S).group(0)
    assert '<option value="hotline_12345" selected>12345 热线</option>' in record
    assert 'value="hotline_12345">' not in record  # no text box holding the key
    assert '<textarea name="description" rows="3">楼道里没有天然气管道</textarea>' in record
    assert act(staff, "record", channel="door_visit", description="入户核实：楼道无燃气管道").status_code == 302
    assert '<option value="door_visit" selected>入户走访</option>' in page_of(staff)


def at_rating(app, world):
    """Topic #1 of the small procedure at its rating step (评单), moved there as the staff would."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import publish
    from shangliang.topics import operations as ops
    from support.procedures import SMALL

    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, SMALL)
        topic = ops.create_topic(world.yanshan, None, {"title": "路灯不亮", "channel": "hotline_12345",
                                                       "category": "市政", "description": "3 号楼前路灯坏了"})
        for kind, to, data in (("advance", "shang", {}), ("consult", None, {"agreement": "物业三天内修好"}),
                               ("advance", "ping", {})):
            ops.act(world.yanshan, None, {"street_admin"}, topic, kind, expected_version=topic.version, to=to,
                    data=data)
        db.commit()


def rate_form(html):
    return re.search(r'<form[^>]*>(?:(?!</form>).)*name="action" value="rate".*?</form>', html, re.S).group(0)


def test_staff_record_a_callback_by_level_and_may_mark_it_invalid(app, staff, world):
    at_rating(app, world)
    form = rate_form(page_of(staff))
    assert re.findall(r'name="level" value="(\w+)"', form) == ["very_satisfied", "satisfied", "basic", "unsatisfied"]
    assert all(label in form for label in ("非常满意", "满意", "基本满意", "不满意", "问题是否已解决"))

    refused = act(staff, "rate", level="basic", solved="true", via="12345", valid="false", invalid_reason="",
                  comment="回访时居民说的是别的事")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "<code>invalid_reason</code> 请说明评价无效的原因" in html
    form = rate_form(html)  # what was typed is still there
    assert 'value="basic" required checked' in form and 'value="12345"' in form and "回访时居民说的是别的事" in form
    assert 'name="valid" value="false" checked' in form

    assert act(staff, "rate", level="basic", solved="true", via="12345", valid="false", invalid_reason="与办理事项无关",
               comment="回访时居民说的是别的事").status_code == 302
    html = page_of(staff)
    assert "基本满意 · 问题已解决 · 评价渠道 12345" in html and "无效评价，不计入满意度：与办理事项无关" in html
    assert 'value="reopen"' not in html  # 基本满意 does not send the topic back
    assert act(staff, "rate", level="unsatisfied", solved="false").status_code == 302
    assert 'value="reopen"' in page_of(staff)  # 不满意 does: 复盘


def test_a_rating_logged_before_levels_shows_with_its_level(app, staff, world, monkeypatch):
    from shangliang.topics import operations as ops

    at_rating(app, world)
    # what _rate logged before ratings had levels: only satisfied, score and channel
    monkeypatch.setitem(ops.ACTIONS, "rate", replace(ops.ACTIONS["rate"], apply=lambda topic, data, log: {
        "satisfied": data["satisfied"] == "true", "score": int(data["score"]), "via": data["via"]}))
    assert act(staff, "rate", satisfied="false", score="2", via="12345").status_code == 302
    html = page_of(staff)
    assert "不满意 · 问题未解决 · 评分 2 · 评价渠道 12345" in html and 'value="reopen"' in html
    assert act(staff, "rate", satisfied="true", score="4", via="信箱").status_code == 302
    assert "满意 · 问题已解决 · 评分 4 · 评价渠道 信箱" in page_of(staff)


def test_wrong_file_and_bad_intake_name_the_field(app, staff, world, run_jobs):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic

    resp = raise_topic(staff, resident_phone="12345", title="")
    assert resp.status_code == 400 and 'id="title"' in resp.get_data(as_text=True)
    assert "必填" in resp.get_data(as_text=True)
    raise_topic(staff)
    with app.app_context(), tenant_context(world.yanshan.id):
        topic_id = db.scalar(select(Topic.id).where(Topic.number == 1))
    att_id = upload(staff, "yanshan", "topic", topic_id, b"<svg onload=alert(1)>", "x.svg")
    run_jobs()
    assert "只接受" in page_of(staff)  # the gallery says why the file was refused
    resp = act(staff, "attach", attachment_id=att_id)
    assert resp.status_code == 400 and "文件未通过检查" in resp.get_data(as_text=True)


def test_board_counts_topics_by_step(staff, world):
    for i in range(3):
        raise_topic(staff, title=f"议题 {i}")
    act(staff, "advance", number=2, to="jiedan")
    html = staff.get("/t/yanshan/topics/").get_data(as_text=True)
    counts = re.findall(r'<span>(点单|接单)</span>\s*<span class="counts">(?:<span class="late"[^>]*>[^<]*</span>)?<span class="count">(\d+)</span>', html)
    assert dict(counts) == {"点单": "2", "接单": "1"}
    # each column's cards, in due order, each leading to its topic
    columns = {name: re.findall(r'href="/t/yanshan/topics/(\d+)"', col)
               for name, col in re.findall(r'<span>(点单|接单)</span>(.*?)</section>', html, re.S)}
    assert columns == {"点单": ["1", "3"], "接单": ["2"]}
    assert "议题 0" in staff.get("/t/yanshan/topics/list?channel=hotline_12345").get_data(as_text=True)
    assert "议题 0" not in staff.get("/t/yanshan/topics/list?channel=wechat").get_data(as_text=True)


def test_times_are_shown_in_the_tenants_zone_and_admins_act_as_staff(app, staff, as_user, world):
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics.models import Topic

    raise_topic(staff)
    with app.app_context(), tenant_context(world.yanshan.id):
        created = db.scalar(select(Topic.created_at))
    local = created.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    admin = as_user("yanshan-admin")
    html = page_of(admin)
    assert local in html
    assert 'name="action" value="advance"' in html  # 点单 is staff's step; the street admin may act there too


def test_board_and_list_filter_by_the_member_who_took_the_topic_up(app, staff, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics import operations as ops

    raise_topic(staff, title="甲议题")
    raise_topic(staff, title="乙议题")
    member = world.users["yanshan-member"].id
    with app.app_context(), tenant_context(world.yanshan.id):
        from sqlalchemy import select

        from shangliang.topics.models import Topic

        topic = db.scalar(select(Topic).where(Topic.number == 2))
        for step in ("jiedan", "candan"):  # staff move it to 参单, where members claim
            ops.act(world.yanshan, None, {"street_admin"}, topic, "record", expected_version=topic.version,
                    data={"category": "燃气", "urgency": "normal", "place": "2 号楼"})
            if step == "candan":
                ops.act(world.yanshan, None, {"street_admin"}, topic, "attach", expected_version=topic.version,
                        data={"kind": "photo", "key": uploaded_key(world.yanshan.id)})
            ops.act(world.yanshan, None, {"street_admin"}, topic, "advance", expected_version=topic.version, to=step)
        ops.act(world.yanshan, member, {"member"}, topic, "claim", expected_version=topic.version)
        db.commit()
    listing = staff.get(f"/t/yanshan/topics/list?status=all&member={member}").get_data(as_text=True)
    assert "乙议题" in listing and "甲议题" not in listing
    board = staff.get(f"/t/yanshan/topics/?member={member}").get_data(as_text=True)
    assert "乙议题" in board and "甲议题" not in board
