"""Onboarding a street without friction: its 标识 suggested from the name in pinyin, an invitation
form that names every problem at once, and a first-steps checklist on the new street's overview
that ticks itself as the street sets up its brand, procedure, roster, stations and rota, and first topic."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import func, select

from conftest import PASSWORD, csrf_token
from test_console import create_street, invite_link, street

from shangliang.tenants.operations import SLUG_RE
from shangliang.tenants.slugs import base_slug, suggest_slug


# ---------------------------------------------------------------- the 标识 from the name

@pytest.mark.parametrize("name, kind, slug", [
    ("燕山街道", "street", "yanshan"),
    ("狼山镇街道", "street", "langshan"),  # 镇 and 街道 both say what kind of place it is
    ("广川街道办事处", "street", "guangchuan"),
    ("兴文社区", "street", "xingwen"),
    ("历下区", "county", "lixia"),
    ("阳谷县", "county", "yanggu"),
    ("重庆路街道", "street", "chongqinglu"),  # 重 read as in 重庆, by the phrase
    ("社区", "street", "shequ"),  # nothing would be left: the ending stays
    ("镇", "street", "zhen"),
    (" 燕山 街道 ", "street", "yanshan"),
    ("CBD 街道", "street", "cbd"),
    ("高新区 2 号街道", "street", "gaoxinqu2hao"),
    ("2号街道", "street", "hao"),  # a 标识 starts with a letter
    ("乙街道", "street", "yijiedao"),  # too short without its ending
    ("乙", "street", "yi-jiedao"),  # too short on its own
    ("123", "street", "jiedao"),
    ("！？", "county", "quxian"),
])
def test_a_name_becomes_a_slug_in_pinyin(name, kind, slug):
    assert base_slug(name, kind) == slug
    assert SLUG_RE.fullmatch(slug)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_any_name_gives_a_slug_within_the_rules(name):
    slug = base_slug(name)
    assert SLUG_RE.fullmatch(slug) and len(slug) <= 36  # room for -2 … -999 within 40


def test_a_suggestion_is_unique_among_tenants_and_avoids_reserved_words(app, world):
    from shangliang.core.db import db
    from shangliang.tenants.operations import create_tenant

    with app.app_context():
        assert suggest_slug("兴文街道") == "xingwen"
        assert suggest_slug("燕山街道") == "yanshan-2"  # 燕山街道 is the World's yanshan
        create_tenant(None, kind="street", slug="yanshan-2", name="燕山街道", parent=world.lixia)
        create_tenant(None, kind="street", slug="yanshan-3", name="燕山街道", parent=world.chengguan)
        db.flush()
        assert suggest_slug("燕山街道") == "yanshan-4"
        assert suggest_slug("历下区", "county") == "lixia-2"
        assert suggest_slug("Admin") == "admin-2"  # reserved for the service's own paths
        db.rollback()


def test_an_empty_slug_comes_back_filled_with_the_suggestion_and_nothing_is_made(app, as_user, world):
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    admin = as_user("lixia-admin")
    form = admin.get("/t/lixia/manage/tenants/new").get_data(as_text=True)
    assert 'id="slug"' in form and "slug.js" in form and "留空则按名称的拼音建议" in form
    resp = create_street(admin, slug="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已按名称建议为“xingwen”" in html
    assert re.search(r'id="slug" name="slug" type="text" value="xingwen"', html)
    assert 'value="兴文街道"' in html and "王主任" in html and "红星社区: 三网格" in html  # nothing typed is lost
    with app.app_context():
        assert db.scalar(select(func.count()).select_from(Tenant)) == 6  # not made yet
    # Sent again as it came back (or with the 标识 changed), the street is made.
    assert create_street(admin, slug="xingwen").status_code == 201
    assert street(app, "xingwen").name == "兴文街道"
    again = create_street(admin, slug="", name="兴文街道").get_data(as_text=True)
    assert "已按名称建议为“xingwen-2”" in again


def test_the_suggestion_is_served_to_the_form_as_json(app, as_user, world):
    admin = as_user("lixia-admin")
    resp = admin.get("/t/lixia/manage/tenants/slug", query_string={"name": "燕山街道"})
    assert resp.status_code == 200 and resp.get_json() == {"slug": "yanshan-2"}
    assert admin.get("/t/lixia/manage/tenants/slug").get_json() == {"slug": ""}
    op = as_user("operator")
    assert op.get("/t/platform/manage/tenants/slug", query_string={"name": "阳谷县"}).get_json() == {"slug": "yanggu"}
    # Only those who create tenants there: not a street's administrator, not another county's.
    assert as_user("yanshan-admin").get("/t/yanshan/manage/tenants/slug?name=x").status_code in (403, 404)
    assert as_user("chengguan-admin").get("/t/lixia/manage/tenants/slug?name=x").status_code == 404


# ---------------------------------------------------------------- the invitation form

def test_an_invitation_form_names_every_problem_at_once_and_keeps_what_was_typed(app, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Invitation

    admin = as_user("yanshan-admin")
    page = admin.get("/t/yanshan/manage/invitations").get_data(as_text=True)
    assert '<option value="">请选择角色</option>' in page  # no role is given by default
    note = "发给燕子山社区的李书记，" * 10
    resp = admin.post("/t/yanshan/manage/invitations", data={"csrf_token": csrf_token(admin), "role": "",
                                                              "note": note})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    summary = re.search(r'<div class="flash flash-error error-summary".*?</div>', html, re.S).group(0)
    assert "请修改以下 2 处" in summary
    assert '<a href="#role">请选择角色</a>' in summary and '<a href="#note">备注最多 100 个字符</a>' in summary
    assert 'id="role-error">请选择角色<' in html and 'id="note-error">备注最多 100 个字符<' in html
    assert f'value="{note.strip()}"' in html
    wrong = admin.post("/t/yanshan/manage/invitations", data={"csrf_token": csrf_token(admin),
                                                               "role": "platform_admin", "note": "李\x1b书记"})
    text = wrong.get_data(as_text=True)
    assert "此处不能分配该角色" in text and "备注不能包含控制字符" in text
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(func.count()).select_from(Invitation)) == 0
    made = admin.post("/t/yanshan/manage/invitations", data={"csrf_token": csrf_token(admin), "role": "member",
                                                             "note": "李书记"})
    assert made.status_code == 201 and "error-summary" not in made.get_data(as_text=True)


def test_the_one_time_link_has_a_copy_button_that_scripts_reveal(app, as_user, world):
    admin = as_user("yanshan-admin")
    html = admin.post("/t/yanshan/manage/invitations", data={"csrf_token": csrf_token(admin), "role": "staff"}) \
        .get_data(as_text=True)
    assert re.search(r'<button type="button" class="button" data-copy="invite-link"[^>]*hidden>复制链接</button>', html,
                     re.S)
    assert 'data-done="已复制"' in html and "copy.js" in html
    created = create_street(as_user("lixia-admin")).get_data(as_text=True)
    assert 'data-copy="invite-link"' in created and invite_link_in(created)


def invite_link_in(html: str) -> bool:
    return bool(re.search(r'id="invite-link">https?://[^<]+/invite/[^<]+<', html))


def test_a_too_long_note_for_the_first_administrator_is_refused_on_its_field(app, as_user, world):
    resp = create_street(as_user("lixia-admin"), invite_note="王" * 101)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'id="invite_note-error">备注最多 100 个字符<' in html
    assert street(app, "xingwen") is None


# ---------------------------------------------------------------- the first steps

def steps_of(html: str) -> dict[str, str]:
    return dict((key, state) for state, key in
                re.findall(r'class="task-list-item task-(done|todo)" id="first-step-(\w+)"', html))


def link_of(html: str, key: str) -> str:
    return re.search(rf'id="first-step-{key}">\s*<div class="task-name">\s*<a href="([^"]+)"', html).group(1)


@pytest.fixture
def new_street(app, client, as_user, world):
    """A street the county just created, its administrator signed in through the invitation."""
    link = invite_link(create_street(as_user("lixia-admin"), procedure="tiyi_banping"))
    client.post(link, data={"csrf_token": csrf_token(client), "display_name": "王主任", "username": "wang",
                            "password": PASSWORD, "password2": PASSWORD})
    return street(app, "xingwen"), client


def test_the_first_steps_tick_themselves_as_the_street_sets_up(app, as_user, world, new_street):
    from shangliang.branding import operations as brand_ops
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.roster import duty as duty_ops
    from shangliang.roster import operations as roster_ops
    from shangliang.roster.models import Station
    from shangliang.tenants.models import Tenant
    from shangliang.topics.operations import create_topic
    from test_brand import brand_form

    s, admin = new_street

    def page():
        return admin.get("/t/xingwen/manage/").get_data(as_text=True)

    def change(do):
        with app.app_context(), tenant_context(s.id):
            do(db.get(Tenant, s.id))
            db.commit()

    html = page()
    assert "入门步骤" in html and "已完成 1 项，共 5 项" in html
    # The county chose the procedure it starts with: that one is done from the start.
    assert steps_of(html) == {"brand": "todo", "procedure": "done", "roster": "todo", "duty": "todo",
                              "topic": "todo"}
    assert link_of(html, "brand") == "/t/xingwen/manage/brand/"
    assert link_of(html, "roster") == "/t/xingwen/roster/"
    assert link_of(html, "duty") == "/t/xingwen/roster/stations"
    assert link_of(html, "topic") == "/t/xingwen/topics/new"

    change(lambda t: roster_ops.create_person(t, None, {"name": "李明华", "kind": "member"}))
    assert steps_of(page())["roster"] == "done"
    change(lambda t: roster_ops.save_station(t, None, {"name": "兴文社区议事厅", "kind": "meeting_room"}))
    html = page()
    assert steps_of(html)["duty"] == "todo" and link_of(html, "duty") == "/t/xingwen/duty/"  # next: the rota

    def on_duty(t):
        station = db.scalar(select(Station))
        person = roster_ops.people_for_choice(("member",))[0]
        duty_ops.assign(t, None, station.id, [person.id], [duty_ops.local_today(t).isoformat()])

    change(on_duty)
    assert steps_of(page())["duty"] == "done"
    change(lambda t: create_topic(t, None, {"title": "3 号楼楼道灯坏了", "channel": "wechat"}))
    assert steps_of(page())["topic"] == "done"

    def brand(t):
        row = brand_ops.save_version(t, None, brand_form(), {})
        brand_ops.publish(t, None, row.number)

    change(brand)
    html = page()
    assert "入门步骤已全部完成" in html and "未完成" not in html
    assert set(steps_of(html).values()) == {"done"}  # folded away, still there to open


def test_the_first_steps_are_for_those_who_set_up_the_street(app, as_user, world, new_street):
    from shangliang.accounts.operations import add_membership, create_user
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant

    s, admin = new_street
    with app.app_context(), tenant_context(s.id):
        t = db.get(Tenant, s.id)
        add_membership(t, None, create_user("xw-member", "刘委员", PASSWORD), "member")
        add_membership(t, None, create_user("xw-staff", "赵干事", PASSWORD), "staff")
        db.commit()
    for username in ("xw-member", "xw-staff"):
        html = as_user(username).get("/t/xingwen/manage/").get_data(as_text=True)
        assert "入门步骤" not in html and "first-step" not in html
    assert "入门步骤" in as_user("lixia-admin").get("/t/xingwen/manage/").get_data(as_text=True)  # its county
    assert "入门步骤" not in as_user("lixia-admin").get("/t/lixia/manage/").get_data(as_text=True)  # a county has none


def test_the_first_steps_cost_one_statement(app, world, new_street, query_counter):
    _s, admin = new_street
    admin.get("/t/xingwen/manage/")
    with query_counter() as stmts:
        assert admin.get("/t/xingwen/manage/").status_code == 200
    exists = [s for s in stmts if s.count("EXISTS") >= 3]
    assert len(exists) == 1, stmts
