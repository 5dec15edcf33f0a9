"""The tenant menu (core/menu.py): what each role sees, which entry is current, and that a kept
menu follows a role change and the language."""
from __future__ import annotations

import re

import pytest

from shangliang.core import menu


def links(html: str) -> list[tuple[str, str, bool]]:
    nav = re.search(r'<nav class="tenantnav"[^>]*>(.*?)</nav>', html, re.S)
    if nav is None:
        return []
    return [(href, text, bool(cur)) for href, cur, text in
            re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav.group(1))]


def texts(html: str) -> list[str]:
    return [t for _h, t, _c in links(html)]


def test_every_entry_names_a_real_page_and_permission(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert len(menu.ENTRIES) >= 20
    for e in menu.ENTRIES:
        assert e.endpoint in endpoints, e.endpoint
    with pytest.raises(KeyError):
        menu.entry("topics.board", "议题", 30, "topics", "topics.no_such_permission")
    assert [e.order for e in menu.ENTRIES] == sorted(e.order for e in menu.ENTRIES)


def test_street_admin_sees_the_whole_street_menu_with_the_current_page_marked(world, as_user):
    page = as_user("yanshan-admin").get("/t/yanshan/topics/").get_data(as_text=True)
    got = links(page)
    assert [t for _h, t, _c in got][:4] == ["概览", "议题", "转办", "提请"]
    assert {"品牌", "工作法", "社区与类别", "操作日志", "数据导出", "履职档案", "公开页面"} <= set(texts(page))
    assert "下辖单位" not in texts(page)  # a street has none
    assert [t for _h, t, cur in got if cur] == ["议题"]
    assert ("/t/yanshan/topics/", "议题", True) in got


def test_a_member_sees_only_what_a_member_may_open(world, as_user):
    page = as_user("yanshan-member").get("/t/yanshan/manage/").get_data(as_text=True)
    seen = texts(page)
    assert "履职档案" in seen and "通知" in seen and "概览" in seen  # their own ledger entry
    assert "接口令牌" in seen  # their own tokens: everyone may make them
    assert not {"品牌", "操作日志", "数据导出", "社区与类别", "文件"} & set(seen)


def test_county_admin_menu_names_its_streets_and_has_no_street_pages(world, as_user):
    page = as_user("lixia-admin").get("/t/lixia/manage/").get_data(as_text=True)
    seen = texts(page)
    assert "下辖单位" in seen and "全部单位" not in seen
    assert not {"议题", "议事会", "名册", "品牌", "履职档案"} & set(seen)
    assert [t for _h, t, cur in links(page) if cur] == ["概览"]


def test_no_menu_for_residents_or_outsiders(app, world, as_user):
    assert links(app.test_client().get("/t/yanshan/").get_data(as_text=True)) == []
    assert links(as_user("guangwumen-admin").get("/t/yanshan/").get_data(as_text=True)) == []


def test_kept_menu_follows_a_role_change_and_the_language(app, world, as_user):
    from shangliang.accounts.operations import add_membership
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant

    staff = as_user("yanshan-staff")
    before = texts(staff.get("/t/yanshan/manage/").get_data(as_text=True))
    assert before == texts(staff.get("/t/yanshan/manage/").get_data(as_text=True))  # kept, the same
    assert "品牌" not in before
    with app.app_context():
        yanshan = db.get(Tenant, world.yanshan.id)
        with tenant_context(yanshan.id):
            add_membership(yanshan, None, world.users["yanshan-staff"], "street_admin")
        db.commit()
    assert "品牌" in texts(staff.get("/t/yanshan/manage/").get_data(as_text=True))
    staff.set_cookie("lang", "en")
    english = texts(staff.get("/t/yanshan/manage/").get_data(as_text=True))
    assert "Overview" in english and "概览" not in english


def groups(html: str) -> dict[str, tuple[list[str], bool]]:
    """group label → (its entries, whether it holds the current page)."""
    return {label: (re.findall(r">([^<]+)</a>", items), bool(cur)) for cur, label, items in re.findall(
        r'<details class="navgroup"[^>]*><summary( class="current")?>([^<]+)</summary>'
        r'<div class="navgroup-items">(.*?)</div></details>', html, re.S)}


def test_the_menu_is_grouped_and_marks_the_group_of_the_current_page(world, as_user):
    page = as_user("yanshan-admin").get("/t/yanshan/roster/").get_data(as_text=True)
    got = groups(page)
    assert list(got) == ["议题", "名册与轮值", "对标与档案", "设置"]  # 会议 has one entry: a link of its own
    assert got["名册与轮值"] == (["名册", "轮值"], True) and not got["议题"][1]
    assert got["议题"][0] == ["议题", "转办", "提请", "议题公示", "公示审核"]
    assert {"品牌", "工作法", "操作日志", "接口令牌"} <= set(got["设置"][0])
    nav = re.search(r'<nav class="tenantnav"[^>]*>(.*?)</nav>', page, re.S).group(1)
    top = re.findall(r'^  (?:<a href="[^"]+"[^>]*>([^<]+)</a>|<details class="navgroup"[^>]*><summary[^>]*>([^<]+))',
                     nav, re.M)
    assert [a or b for a, b in top] == ["概览", "议题", "议事会", "名册与轮值", "对标与档案", "设置", "通知", "公开页面"]


def test_a_group_of_one_entry_is_that_entry(world, as_user):
    """A county administrator's 对标与档案 holds only 对标: one click, not a list of one."""
    page = as_user("lixia-admin").get("/t/lixia/benchmarks/").get_data(as_text=True)
    assert "对标与档案" not in groups(page) and ("/t/lixia/benchmarks/", "对标", True) in links(page)


def test_an_entry_names_a_known_group():
    with pytest.raises(KeyError):
        menu.entry("topics.board", "议题", 30, "no_such_group", "topics.view")
    assert {e.group for e in menu.ENTRIES} <= set(menu.GROUPS) | {"home"}
