"""Every URL rule of the app, tried across tenants.

A rule is either tenant-scoped (it has <slug>) and then tried here with another
tenant's slug and with another tenant's object ids, or listed in UNSCOPED with the
reason it is safe. A new rule that is neither fails `test_every_rule_is_covered`.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select
from flask import url_for

from conftest import csrf_token

UNSCOPED = {
    "static": "public assets",
    "accounts.login": "sign-in form",
    "accounts.logout": "ends one's own session",
    "tenants.home": "lists only one's own tenants (test_accounts)",
    "accounts.set_language": "sets a cookie",
    "api.openapi": "the API document, no data",
    "health.healthz": "service health, no tenant data",
    "storage.download": "capability URL: signed key and expiry (test_storage)",
    "storage.upload": "capability URL: signed policy (test_storage)",
}
# Public pages of a tenant: anyone may see them; they show no private data.
PUBLIC = {"portal.home", "tenants.accept_invitation"}
# branding.css/image: published brand versions only (drafts 404 except to brand managers, test_brand).
PUBLIC |= {"branding.css", "branding.image"}
# The street portal: raising, following (receipt code + phone digits) and 公示 (test_portal).
PUBLIC |= {"portal.raise_topic", "portal.follow", "portal.gongshi", "portal.gongshi_photo"}
# 议题公示: topics on notice, supporting and commenting (test_notice: another street's topic is a 404 there).
PUBLIC |= {"portal.notices", "portal.notice", "portal.notice_support", "portal.notice_comment"}
# OAuth's token endpoint: a program's POST with a code (test_oauth: another street's client is unknown there).
PUBLIC |= {"oauth_token.token"}


def victim_roster(street) -> dict:
    """A person, a station, a shift, a roster import and a member's pair with a grid (结对) of the
    victim street."""
    from datetime import date

    from conftest import uploaded_key
    from shangliang.core.db import db
    from shangliang.roster import duty, operations as roster_ops, pairing
    from shangliang.roster.models import DutyShift, RosterImport
    from shangliang.tenants.operations import save_places

    save_places(street, None, "secret notice 社区：secret notice 网格", "")
    person = roster_ops.create_person(street, None, {"kind": "member", "name": "secret notice member"})
    pairing.set_pairs(street, None, person, ["secret notice 社区:secret notice 网格"])
    station = roster_ops.save_station(street, None, {"name": "secret notice station", "kind": "meeting_room"})
    duty.assign(street, None, station.id, [person.id], [date.today()])
    upload = RosterImport(tenant_id=street.id, status="done", file_key=uploaded_key(street.id),
                          filename="secret notice.csv", refused=[])
    db.add(upload)
    db.flush()
    from shangliang.portal.posters import grid_key

    return {"person_id": person.id, "station_id": station.id, "import_id": upload.id,
            "key": grid_key("secret notice 社区", "secret notice 网格"), "ext": "png",  # a grid's poster
            "shift_id": db.scalar(select(DutyShift.id)), "pair_id": pairing.pairs_of(person.id)[0].id}


def victim_notice(street):
    """A comment of a resident on a topic the victim street put on notice (议题公示)."""
    import factories
    from shangliang.portal.notice import add_comment, person_hash
    from shangliang.topics import notice

    factories.procedure(street, "four_plus_x")
    topic = factories.topic_at(street, "gongshi", title="secret notice on notice", community="secret notice 社区",
                               category="x")
    notice.publish(street, topic, None, {"staff"}, {"title": "secret notice title", "text": "secret notice text"})
    return add_comment(street, topic, person_hash(street.id, topic.id, "13800000000"), "secret notice comment")


def victim_hotline_order(county):
    """A 12345 order of 城关区 waiting in its queue (its address names none of its streets)."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.integrations.hotline import accounts, orders
    from shangliang.integrations.hotline.intake import receive

    with tenant_context(county.id):
        account, _secret = accounts.create(county, None, {"name": "secret notice hotline"})
        db.commit()  # routing's audited read is written on its own: not beside uncommitted writes (SQLite)
        row = receive(county, account, orders.parse({"number": "SN1", "called_at": "2026-12-07T09:00:00",
                                                     "address": "secret notice 路", "content": "secret notice"},
                                                    county.timezone)).row
        db.commit()
        return row.id


@pytest.fixture
def victim(app, world):
    """Objects of 广武门街道 (another county) that the attacker must never reach."""
    from shangliang.accounts.operations import create_api_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.notifications.operations import notify
    from shangliang.procedures.operations import publish
    from shangliang.tenants.operations import create_invitation
    from shangliang.topics.operations import create_topic
    from conftest import uploaded_key
    from shangliang.core.db import utcnow
    from shangliang.transfer.models import TenantExport
    from support.procedures import SMALL

    with app.app_context(), tenant_context(world.guangwumen.id):
        token, _secret = create_api_token(world.guangwumen, None, "hotline", "staff")
        invitation, _link = create_invitation(world.guangwumen, None, "staff", "secret notice")
        note = notify(world.guangwumen.id, world.users["guangwumen-staff"].id, "x", "secret notice")
        from test_brand import brand_form
        from shangliang.branding.operations import save_version

        for i in range(3):  # version 3 and topic 3 exist there and nowhere else
            save_version(world.guangwumen, None, brand_form(display_name="secret notice brand"))
            publish(world.guangwumen, None, SMALL)
            create_topic(world.guangwumen, None, {"title": f"secret notice {i}", "channel": "wechat"})
        from shangliang.meetings.operations import add_work_item, create_meeting

        for i in range(3):  # meeting 3 too, consulting topic 3, with a work item
            meeting = create_meeting(world.guangwumen, None, {
                "title": f"secret notice meeting {i}", "form": "online", "starts_at": "2025-05-20T14:30",
                "participants": [{"name": "secret notice convener", "convener": True}], "topics": [3]})
        item = add_work_item(world.guangwumen, None, meeting, {"title": "secret notice item", "owner_name": "x",
                                                               "due_on": "2025-06-01"})
        roster = victim_roster(world.guangwumen)
        import factories

        dept = factories.department(world.guangwumen, "secret notice office")
        at = factories.topic_at(world.guangwumen, "shang", title="secret notice transferred")
        factories.act(world.guangwumen, at, "transfer", to="shang",
                      data={"departments": [f"{world.guangwumen.id}:{dept.id}"], "asked": "secret notice"})
        from shangliang.topics.models import Transfer

        sent = db.scalar(select(Transfer.id))
        factories.act(world.guangwumen, at, "escalate", data={"reason": "secret notice"})
        from shangliang.topics.models import Escalation

        referred = db.scalar(select(Escalation.id))
        comment = victim_notice(world.guangwumen)
        export = TenantExport(tenant_id=world.guangwumen.id, status="done", total_items=1, done_items=1,
                              key=uploaded_key(world.guangwumen.id), finished_at=utcnow())
        db.add(export)
        from shangliang.files.models import Attachment

        photo_key = uploaded_key(world.guangwumen.id)
        photo = db.scalar(select(Attachment).where(Attachment.key == photo_key))  # a ready photo there
        from shangliang.integrations import operations as webhooks
        from shangliang.integrations.events import emit

        hook, _hook_secret = webhooks.subscribe(world.guangwumen, None, {
            "name": "secret notice hook", "url": "https://1.1.1.1/secret-notice", "events": ["topic.created"]})
        [posted] = emit(db(), world.guangwumen.id, "topic.created", {"topic": {"number": 3}})
        from shangliang.integrations.oauth import register_client

        program, _secret = register_client(world.guangwumen, None, "secret notice app", "https://1.1.1.1/cb", ["read"])
        from shangliang.topics.receipts import raise_for_resident

        _raised, code = raise_for_resident(world.guangwumen, None, {  # a resident's receipt there
            "title": "secret notice receipt", "channel": "wechat", "resident_phone": "13812345678"})
        db.commit()
        order_id = victim_hotline_order(world.chengguan)
        return {"export_id": export.id, "user_id": world.users["guangwumen-staff"].id, "token_id": token.id,
                "notification_id": note.id, "role": "staff", "number": 3,
                "invitation_id": invitation.id, "attachment_id": photo.id, "topic_number": 3, "item_id": item.id,
                # a benchmarking drill-down names the street: theirs, reached from our county or street
                "street": world.guangwumen.slug, "department_id": dept.id, "transfer_id": sent,
                "escalation_id": referred, "comment_id": comment.id, "subscription_id": hook.id,
                "delivery_id": posted.id, "client_id": program.id, "order_id": order_id, "code": code, **roster}


@pytest.fixture
def api_token(app, world):
    """The attacker street's tokens: an administrator's system token, and its service account for the
    operations only a service account may use (a resident's receipt code, with the right last4)."""
    from shangliang.accounts.operations import create_api_token
    from shangliang.accounts.tokens import create_service_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(world.yanshan.id):
        _row, secret = create_api_token(world.yanshan, None, "attacker", "street_admin")
        _row, service = create_service_token(world.yanshan, None, "attacker mini-program", "wechat_mini")
        db.commit()
    return {"": secret, "/resident/": service}


RESIDENT_BODIES = {"rating": {"last4": "5678", "level": "satisfied", "solved": True}, "confirm": {"last4": "5678"},
                   "topics": {"title": "x", "description": "x", "resident_phone": "13812345678"}}


def tenant_rules(app):
    return [r for r in app.url_map.iter_rules() if "slug" in r.arguments and r.endpoint not in PUBLIC]


def build(app, rule, slug, objects):
    missing = rule.arguments - {"slug"} - set(objects)
    assert not missing, f"{rule.endpoint}: no test object for {missing}; add one to `victim`"
    with app.test_request_context():
        return url_for(rule.endpoint, slug=slug, **{k: objects[k] for k in rule.arguments - {"slug"}})


def attempt(client, rule, url, token, api_secrets):
    if "/resident/" in url:  # proved as a resident would prove it: the code is another street's
        headers = {"Authorization": f"Bearer {api_secrets['/resident/']}"}
        if "GET" in rule.methods:
            return client.get(url + "?last4=5678", headers=headers)
        return client.post(url, headers=headers, json=RESIDENT_BODIES[url.rsplit("/", 1)[1]])
    headers = {"Authorization": f"Bearer {api_secrets['']}"} if url.startswith("/api/") else {}
    if "GET" in rule.methods:
        return client.get(url, headers=headers)
    if "DELETE" in rule.methods:
        return client.delete(url, headers=headers)
    if url.startswith("/api/"):
        return client.post(url, headers=headers, json={"username": "yanshan-member", "role": "staff"})
    return client.post(url, data={"csrf_token": token, "role": "staff", "username": "yanshan-member",
                                  "name": "x"})


def test_every_rule_is_covered(app):
    for rule in app.url_map.iter_rules():
        assert rule.endpoint in UNSCOPED or rule.endpoint in PUBLIC or "slug" in rule.arguments, (
            f"{rule.rule} ({rule.endpoint}) is neither tenant-scoped nor listed in UNSCOPED with a reason")
    assert {r.endpoint for r in app.url_map.iter_rules()} >= set(UNSCOPED) | PUBLIC


@pytest.mark.parametrize("attacker", ["yanshan-admin", "yanshan-member"])
def test_a_street_user_gets_404_for_every_object_of_another_street(app, as_user, world, victim, api_token,
                                                                   attacker):
    client = as_user(attacker)
    token = csrf_token(client)
    tried = 0
    for rule in tenant_rules(app):
        # Their slug, their objects; and (for a role allowed to act at all) our slug with their objects.
        for slug in ("guangwumen", "yanshan") if attacker.endswith("admin") else ("guangwumen",):
            url = build(app, rule, slug, victim)
            if slug == "yanshan" and rule.arguments == {"slug"}:
                continue  # nothing of theirs in the URL
            resp = attempt(client, rule, url, token, api_token)
            assert resp.status_code == 404, f"{attacker} {sorted(rule.methods)} {url} → {resp.status_code}"
            body = resp.get_data(as_text=True)
            assert "secret notice" not in body and "广武门街道" not in body, f"{url} names the other tenant"
            tried += 1
    assert tried >= len(tenant_rules(app))


def test_a_member_without_the_permission_gets_403_not_the_object(app, as_user, world, victim):
    client = as_user("yanshan-member")
    resp = client.post(build(app, app.url_map._rules_by_endpoint["members.remove_member"][0], "yanshan", victim),
                       data={"csrf_token": csrf_token(client), "role": "staff"})
    assert resp.status_code == 403


def test_a_county_admin_reaches_only_its_own_streets(app, as_user, world, victim):
    client = as_user("lixia-admin")
    for rule in tenant_rules(app):
        if "GET" not in rule.methods or rule.endpoint.startswith("api.") or rule.arguments != {"slug"}:
            continue
        for slug in ("lixia", "yanshan", "langshan"):
            status = client.get(build(app, rule, slug, victim)).status_code
            # the consent page asked with no client is refused as a page (test_oauth)
            allowed = (200, 400, 403) if rule.endpoint == "oauth.authorize" else (200, 403)
            assert status in allowed, f"{rule.endpoint} on {slug} → {status}"
        for slug in ("guangwumen", "chengguan", "platform"):
            assert client.get(build(app, rule, slug, victim)).status_code == 404, f"{rule.endpoint} on {slug}"


def test_unknown_tenant_is_a_clear_404(client, world):
    resp = client.get("/t/no-such-street/")
    assert resp.status_code == 404
    assert "页面不存在" in resp.get_data(as_text=True)


def test_archived_tenant_is_gone_but_kept(app, client, world):
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    with app.app_context():
        db.get(Tenant, world.langshan.id).status = "archived"
        db.commit()
    assert client.get("/t/langshan/").status_code == 404
    with app.app_context():
        assert db.get(Tenant, world.langshan.id) is not None


def test_a_street_can_be_served_on_its_own_host(app, client, world):
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    with app.app_context():
        db.get(Tenant, world.yanshan.id).custom_host = "shangliang.yanshan.example"
        db.commit()
    page = client.get("/", headers={"Host": "shangliang.yanshan.example"})
    assert page.status_code == 200 and "燕山街道" in page.get_data(as_text=True)
    # Unknown hosts fall through to the normal routes.
    assert client.get("/", headers={"Host": "elsewhere.example"}).status_code == 302


def test_every_view_declares_its_permission(app):
    """Each view is wrapped by `require(permission)` or marked `public`; nothing is open by accident."""
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        assert hasattr(view, "required_permission"), f"{endpoint} has neither @require nor @public"
