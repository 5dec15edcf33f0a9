"""The county's console: creating streets, one-time invitations, suspending and archiving."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, csrf_token

STREET = {"name": "兴文街道", "slug": "xingwen", "households": "5200", "population": "15000",
          "communities": "兴文社区：一网格，二网格\n红星社区: 三网格", "procedure": "tiyi_banping",
          "invite_note": "王主任"}


def create_street(client, county="lixia", **changes):
    return client.post(f"/t/{county}/manage/tenants/new",
                       data={"csrf_token": csrf_token(client), **STREET, **changes})


def invite_link(resp) -> str:
    m = re.search(r'id="invite-link">https?://[^/]+(/t/[^<]+)<', resp.get_data(as_text=True))
    assert m, resp.get_data(as_text=True)[:2000]
    return m.group(1)


def audit_actions(app, tenant_id):
    from shangliang.audit.models import AuditLog
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(tenant_id):
        return [a for (a,) in db.execute(select(AuditLog.action).order_by(AuditLog.at))]


def street(app, slug):
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    with app.app_context():
        return db.scalar(select(Tenant).where(Tenant.slug == slug))


def test_a_county_admin_creates_a_street_with_communities_procedure_and_invitation(app, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import current_version
    from shangliang.tenants.models import Community, Invitation

    admin = as_user("lixia-admin")
    form = admin.get("/t/lixia/manage/tenants/new").get_data(as_text=True)
    assert "提议办评" in form and "七步订单" in form  # the built-ins are offered
    resp = create_street(admin)
    assert resp.status_code == 201
    link = invite_link(resp)
    token = link.rsplit("/", 1)[1]
    s = street(app, "xingwen")
    assert (s.kind, s.parent_id, s.households, s.population, s.status) == ("street", world.lixia.id, 5200, 15000, "active")
    with app.app_context(), tenant_context(s.id):
        comms = {c.name: c.grids for c in db.scalars(select(Community))}
        assert comms == {"兴文社区": ["一网格", "二网格"], "红星社区": ["三网格"]}
        assert current_version(s).template_key == "tiyi_banping"
        inv = db.scalar(select(Invitation))
        assert inv.role == "street_admin" and inv.note == "王主任"
        assert token not in inv.token_hash and len(inv.token_hash) == 64  # only the hash is kept
    assert "street.create" in audit_actions(app, world.lixia.id)
    assert "tenant.create" in audit_actions(app, s.id)
    listing = admin.get("/t/lixia/manage/tenants").get_data(as_text=True)
    assert "兴文街道" in listing and "运行中" in listing


@pytest.mark.parametrize("changes, field, message", [
    ({"slug": "Bad Slug"}, "slug", "标识须为"),
    ({"slug": "yanshan"}, "slug", "已被使用"),
    ({"name": ""}, "name", "名称"),
    ({"households": "many"}, "households", "户数须为整数"),
    ({"procedure": "no_such"}, "procedure", "请选择街道起步使用的工作法"),
    ({"communities": "兴文社区\n兴文社区"}, "communities", "重复"),
])
def test_bad_street_forms_name_the_field_and_make_nothing(app, as_user, world, changes, field, message):
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    admin = as_user("lixia-admin")
    resp = create_street(admin, **changes)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in html
    assert f'id="{field}-error"' in html or f'id="{field}"' in html
    assert 'value="兴文街道"' in html or changes.get("name") == ""  # what was typed is kept
    with app.app_context():
        assert db.scalar(select(func.count()).select_from(Tenant)) == 6  # the world's six, nothing more


def test_a_failure_late_in_provisioning_leaves_nothing_half_made(app, as_user, world, monkeypatch):
    from shangliang.core.errors import Refused
    from shangliang.audit.models import AuditLog
    from shangliang.core.db import db
    from shangliang.core.tenancy import cross_tenant
    from shangliang.procedures.models import ProcedureVersion
    from shangliang.console import operations
    from shangliang.tenants.models import Community

    def broken(*a, **k):
        raise Refused("邀请生成失败", "invite_note")

    monkeypatch.setattr(operations, "create_invitation", broken)
    resp = create_street(as_user("lixia-admin"))
    assert resp.status_code == 400
    assert street(app, "xingwen") is None
    with app.app_context():
        everyone = [t for t in range(1, 50)]
        with cross_tenant(everyone, reason="test", actor_id=None, acting_tenant_id=world.platform.id):
            assert db.scalar(select(func.count()).select_from(Community)) == 0
            assert db.scalar(select(func.count()).select_from(ProcedureVersion)) == 0
            assert not db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.target == "xingwen"))


def test_the_county_recommends_its_own_procedure_and_a_new_street_starts_with_it(app, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import builtin_templates, current_version, publish

    text = builtin_templates()["sihuan_babu"]["text"].replace("key: sihuan_babu", "key: lixia_way")
    with app.app_context(), tenant_context(world.lixia.id):
        publish(world.lixia, None, text, note="历下区推荐")
        db.commit()
    admin = as_user("lixia-admin")
    form = admin.get("/t/lixia/manage/tenants/new").get_data(as_text=True)
    assert "历下区推荐：" in form and 'value="county:1"' in form
    assert create_street(admin, procedure="county:1").status_code == 201
    s = street(app, "xingwen")
    with app.app_context(), tenant_context(s.id):
        v = current_version(s)
        assert v.source_text == text and v.template_key == "lixia_way" and "推荐" in v.note
    # Another county's recommendation is not on offer to lixia's streets.
    assert create_street(admin, slug="other", procedure="county:2").status_code == 400


def test_an_invitation_makes_a_new_account_an_administrator_once(app, client, as_user, world):
    link = invite_link(create_street(as_user("lixia-admin")))
    page = client.get(link)
    assert page.status_code == 200 and "街道管理员" in page.get_data(as_text=True)
    form = {"csrf_token": csrf_token(client), "display_name": "王主任", "username": "wang", "password": PASSWORD,
            "password2": PASSWORD}
    mismatch = client.post(link, data={**form, "password2": "something-else-entirely"})
    assert mismatch.status_code == 400 and "两次输入的密码不一致" in mismatch.get_data(as_text=True)
    resp = client.post(link, data=form)
    assert resp.status_code == 302 and resp.location.endswith("/t/xingwen/manage/")
    dash = client.get("/t/xingwen/manage/")
    assert dash.status_code == 200 and "街道管理员" in dash.get_data(as_text=True)
    assert "invitation.accept" in audit_actions(app, street(app, "xingwen").id)
    # The same link again, by anyone: refused with a reason, nobody else gets in.
    other = app.test_client()
    again = other.get(link)
    assert again.status_code == 410 and "已被使用" in again.get_data(as_text=True)
    reuse = other.post(link, data={**form, "csrf_token": csrf_token(other), "username": "intruder"})
    assert reuse.status_code == 410
    from shangliang.accounts.models import User
    from shangliang.core.db import db

    with app.app_context():
        assert db.scalar(select(User).where(User.username == "intruder")) is None


def test_an_expired_or_unknown_invitation_is_refused(app, client, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Invitation

    link = invite_link(create_street(as_user("lixia-admin")))
    s = street(app, "xingwen")
    with app.app_context(), tenant_context(s.id):
        inv = db.scalar(select(Invitation))
        inv.expires_at = inv.created_at - timedelta(seconds=1)
        db.commit()
    resp = client.get(link)
    assert resp.status_code == 410 and "已过期" in resp.get_data(as_text=True)
    post = client.post(link, data={"csrf_token": csrf_token(client), "display_name": "x", "username": "late",
                                   "password": PASSWORD, "password2": PASSWORD})
    assert post.status_code == 410
    assert client.get(link[:-4] + "xxxx").status_code == 404
    assert client.get("/t/yanshan/invite/" + link.rsplit("/", 1)[1]).status_code == 404  # bound to its street


def test_a_signed_in_person_accepts_as_themselves(app, as_user, world):
    admin = as_user("yanshan-admin")
    resp = admin.post("/t/yanshan/manage/invitations", data={"csrf_token": csrf_token(admin), "role": "member",
                                                              "note": "李委员"})
    assert resp.status_code == 201
    link = invite_link(resp)
    nobody = as_user("nobody")
    assert nobody.get("/t/yanshan/manage/").status_code == 404
    assert nobody.post(link, data={"csrf_token": csrf_token(nobody)}).status_code == 302
    assert nobody.get("/t/yanshan/manage/").status_code == 200
    page = admin.get("/t/yanshan/manage/invitations").get_data(as_text=True)
    assert "已使用" in page and "李委员" in page


def test_a_revoked_invitation_no_longer_works(app, client, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Invitation

    admin = as_user("yanshan-admin")
    link = invite_link(admin.post("/t/yanshan/manage/invitations",
                                  data={"csrf_token": csrf_token(admin), "role": "staff"}))
    with app.app_context(), tenant_context(world.yanshan.id):
        inv_id = db.scalar(select(Invitation.id))
    assert admin.post(f"/t/yanshan/manage/invitations/{inv_id}/revoke",
                      data={"csrf_token": csrf_token(admin)}).status_code == 302
    assert client.get(link).status_code == 410


def test_suspending_a_street_makes_it_read_only_and_closes_its_portal(app, client, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import adopt

    with app.app_context(), tenant_context(world.yanshan.id):
        adopt(world.yanshan, None, "qibu_dingdan")
        db.commit()
    county = as_user("lixia-admin")
    resp = county.post("/t/yanshan/manage/status", data={"csrf_token": csrf_token(county), "action": "suspend",
                                                          "note": "系统调整，请拨打 12345"})
    assert resp.status_code == 302 and resp.location.endswith("/t/lixia/manage/tenants")
    staff = as_user("yanshan-staff")
    assert staff.get("/t/yanshan/topics/").status_code == 200  # reading still works
    write = staff.post("/t/yanshan/topics/new", data={"csrf_token": csrf_token(staff), "title": "x",
                                                       "channel": "wechat"})
    assert write.status_code == 403 and "已被暂停" in write.get_data(as_text=True)
    admin = as_user("yanshan-admin")
    assert admin.post("/t/yanshan/manage/members", data={"csrf_token": csrf_token(admin), "username": "nobody",
                                                         "role": "staff"}).status_code == 403
    portal = client.get("/t/yanshan/")
    assert portal.status_code == 503 and "系统调整，请拨打 12345" in portal.get_data(as_text=True)
    assert client.get("/t/yanshan/raise").status_code == 503
    # The street cannot lift its own suspension; its county can.
    assert admin.post("/t/yanshan/manage/status", data={"csrf_token": csrf_token(admin),
                                                        "action": "reactivate"}).status_code == 403
    assert county.post("/t/yanshan/manage/status", data={"csrf_token": csrf_token(county),
                                                         "action": "reactivate"}).status_code == 302
    assert staff.post("/t/yanshan/topics/new", data={"csrf_token": csrf_token(staff), "title": "x",
                                                      "channel": "wechat"}).status_code == 302
    actions = audit_actions(app, world.yanshan.id)
    assert actions.count("tenant.suspend") == 1 and actions.count("tenant.reactivate") == 1
    assert "tenant.suspend" in audit_actions(app, world.lixia.id)


def test_archiving_hides_a_street_and_keeps_its_data(app, client, as_user, world):
    county = as_user("lixia-admin")
    county.post("/t/langshan/manage/status", data={"csrf_token": csrf_token(county), "action": "archive"})
    assert street(app, "langshan").status == "active"  # not without the confirmation
    assert county.post("/t/langshan/manage/status", data={"csrf_token": csrf_token(county), "action": "archive",
                                                          "confirm": "1"}).status_code == 302
    assert client.get("/t/langshan/").status_code == 404
    assert county.get("/t/langshan/manage/").status_code == 404
    assert "狼山镇街道" not in county.get("/t/lixia/manage/tenants").get_data(as_text=True)
    assert street(app, "langshan").status == "archived"
    assert "tenant.archive" in audit_actions(app, world.langshan.id)


def test_only_the_streets_own_county_may_change_its_status(app, as_user, world):
    other = as_user("chengguan-admin")
    assert other.post("/t/yanshan/manage/status", data={"csrf_token": csrf_token(other),
                                                        "action": "suspend"}).status_code == 404
    assert street(app, "yanshan").status == "active"


def test_the_platform_creates_a_county_and_invites_its_administrator(app, client, as_user, world):
    op = as_user("operator")
    resp = op.post("/t/platform/manage/tenants/new", data={"csrf_token": csrf_token(op), "name": "阳谷县",
                                                           "slug": "yanggu", "invite_note": "县政协办公室"})
    assert resp.status_code == 201
    link = invite_link(resp)
    assert street(app, "yanggu").kind == "county"
    resp = client.post(link, data={"csrf_token": csrf_token(client), "display_name": "县政协", "username": "yanggu-office",
                                   "password": PASSWORD, "password2": PASSWORD})
    assert resp.status_code == 302
    page = client.get("/t/yanggu/manage/tenants")
    assert page.status_code == 200 and "新建街道" in page.get_data(as_text=True)


def test_the_console_lists_each_streets_activity(app, as_user, world):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import adopt
    from shangliang.topics.operations import create_topic

    with app.app_context(), tenant_context(world.yanshan.id):
        adopt(world.yanshan, None, "qibu_dingdan")
        for i in range(3):
            create_topic(world.yanshan, None, {"title": f"t{i}", "channel": "wechat"})
        db.commit()
    html = as_user("lixia-admin").get("/t/lixia/manage/tenants").get_data(as_text=True)
    row = re.search(r"<td><a href=\"/t/yanshan/manage/\">燕山街道.*?</tr>", html, re.S).group(0)
    assert re.findall(r'class="num">(\d+)<', row)[1:3] == ["3", "3"]  # recent, open


def test_an_existing_street_adopts_its_countys_recommendation(app, as_user, world):
    from shangliang.audit.models import AuditLog
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import builtin_templates, current_version, publish

    admin = as_user("yanshan-admin")
    assert "推荐的工作法" not in admin.get("/t/yanshan/manage/procedure/").get_data(as_text=True)
    assert admin.post("/t/yanshan/manage/procedure/adopt", data={"csrf_token": csrf_token(admin),
                                                                  "template": "county"}).status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        assert current_version(world.yanshan) is None  # nothing recommended, nothing adopted
    text = builtin_templates()["four_plus_x"]["text"]
    with app.app_context(), tenant_context(world.lixia.id):
        publish(world.lixia, None, text)
        db.commit()
    page = admin.get("/t/yanshan/manage/procedure/").get_data(as_text=True)
    assert "历下区推荐的工作法" in page and "采用区县推荐" in page
    asked = admin.post("/t/yanshan/manage/procedure/adopt", data={"csrf_token": csrf_token(admin), "template": "county"})
    assert "采用「4+X 协商」？" in asked.get_data(as_text=True)  # what it replaces is said first
    admin.post("/t/yanshan/manage/procedure/adopt", data={"csrf_token": csrf_token(admin), "template": "county",
                                                          "confirm": "1"})
    with app.app_context(), tenant_context(world.yanshan.id):
        assert current_version(world.yanshan).source_text == text
        reads = db.scalars(select(AuditLog.target).where(AuditLog.action == "cross_tenant.read")).all()
        assert "county recommended procedure" in reads  # the read across tenants is on record
    # A street of another county sees nothing of lixia's.
    other = as_user("guangwumen-admin").get("/t/guangwumen/manage/procedure/").get_data(as_text=True)
    assert "推荐的工作法" not in other


def test_an_operator_brings_an_archived_street_back_as_suspended(app, config, as_user, world, monkeypatch):
    from click.testing import CliRunner

    from conftest import cli_env
    from shangliang.cli import main

    county = as_user("lixia-admin")
    county.post("/t/langshan/manage/status", data={"csrf_token": csrf_token(county), "action": "archive",
                                                   "confirm": "1"})
    for k, v in cli_env(config).items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(main, ["tenant", "unarchive", "langshan"])
    assert result.exit_code == 0, result.output
    assert street(app, "langshan").status == "suspended"
    assert CliRunner().invoke(main, ["tenant", "unarchive", "langshan"]).exit_code == 1  # not archived now
    assert county.post("/t/langshan/manage/status", data={"csrf_token": csrf_token(county),
                                                          "action": "reactivate"}).status_code == 302
    assert street(app, "langshan").status == "active"
    assert "tenant.unarchive" in audit_actions(app, world.langshan.id)
