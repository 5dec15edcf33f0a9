"""12345 status back to the hotline (integrations/hotline/callbacks.py) and the 回访 it sends in: one
topic driven from a signed order through 受理, a member's claim, 转办 to a department, the
department's answer, 待回访, the hotline's 回访 rating and 办结, with the stand-in 12345 platform (a
real HTTP server on loopback) down for a while, then answering 500, then back: it gets every
status exactly once, each signed with the account's secret and naming the order. No waiting: a
retry is made due by moving its `next_attempt_at`, as tests/test_webhooks.py does. Both modes."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

import factories
from hotline_world import config, county, hotline  # noqa: F401  (fixtures)
from shangliang.core.db import db, utcnow
from shangliang.core.jobs import enqueue
from shangliang.core.tenancy import tenant_context
from shangliang.integrations import tasks
from shangliang.integrations.models import WebhookDelivery, WebhookSubscription
from shangliang.tenants.models import Tenant
from shangliang.topics import transfers
from shangliang.topics.models import Topic, Transfer
from support.hotline import order

NUMBER = "DZ20261207001"


def topic_of(street) -> Topic:
    return db.scalar(select(Topic).where(Topic.tenant_id == street.id).execution_options(populate_existing=True))


def step(app, world, fn) -> None:
    """One thing done in 燕山街道, committed (as a request would)."""
    with app.app_context():
        street = db.get(Tenant, world.yanshan.id)
        with tenant_context(street.id):
            fn(street, topic_of(street))
        db.commit()


def deliveries(app, world) -> list[WebhookDelivery]:
    with app.app_context(), tenant_context(world.yanshan.id):
        return list(db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)
                               .execution_options(populate_existing=True)))


def retry_due(app, world, run_jobs) -> None:
    """Every pending callback's time has come, and the periodic retry pass runs."""
    with app.app_context(), tenant_context(world.yanshan.id):
        db.execute(update(WebhookDelivery).where(WebhookDelivery.state == "pending")
                   .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        enqueue(tasks.deliver_due)
        db.commit()
    run_jobs()


def test_a_hotline_order_driven_to_closure_calls_the_hotline_back_once_per_status(app, client, world, county,
                                                                                  hotline, run_jobs):
    staff, member = world.users["yanshan-staff"].id, world.users["yanshan-member"].id
    assert hotline.send(client, "lixia", "orders", order(NUMBER)).status_code == 201
    step(app, world, lambda s, t: factories.advance(s, t, staff, roles={"staff"}))  # 点单 → 商单: 受理
    run_jobs()
    assert [a["event"] for a in hotline.accepted()] == ["hotline.accepted"]

    hotline.stop()  # the hotline is down: connections refused
    step(app, world, lambda s, t: factories.act(s, t, "claim", member, {"member"}))
    step(app, world, lambda s, t: factories.act(s, t, "transfer", staff, {"staff"}, to="shang",
                                                data=factories.transfer_to(s, "城管中心")))
    step(app, world, lambda s, t: transfers.reply(s, t, db.scalar(select(Transfer)), staff,
                                                  {"answer": "已更换三楼和四楼的楼道灯"}))
    run_jobs()
    waiting = [d for d in deliveries(app, world) if d.state == "pending"]
    assert [d.event_type for d in waiting] == ["hotline.transferred", "hotline.replied"]
    assert all(d.last_error == "refused" and d.attempts == 1 for d in waiting)

    hotline.status = 500  # back, but failing
    hotline.start()
    retry_due(app, world, run_jobs)
    assert [a["status"] for a in hotline.answered[1:]] == [500, 500]
    assert all(d.state == "pending" and d.last_status == 500 for d in deliveries(app, world)[1:])

    hotline.status = 200  # well again: what waited gets through, then the rest as it happens
    retry_due(app, world, run_jobs)
    step(app, world, lambda s, t: factories.advance(s, t, staff, roles={"staff"}))  # 商单 → 评单: 待回访
    run_jobs()
    visit = hotline.send(client, "lixia", f"orders/{NUMBER}/visit",
                         {"level": "satisfied", "solved": True, "comment": "灯修好了，谢谢"})
    assert visit.status_code == 200 and visit.get_json()["result"] == "rated"
    run_jobs()
    step(app, world, lambda s, t: factories.advance(s, t, staff, roles={"staff"}))  # 评单 → 收单
    step(app, world, lambda s, t: factories.advance(s, t, world.users["yanshan-admin"].id,
                                                    roles={"street_admin"}))  # 办结
    run_jobs()
    retry_due(app, world, run_jobs)  # a retry pass after everything: nothing goes twice

    got = hotline.accepted()
    assert Counter(a["event"] for a in got) == Counter({
        "hotline.accepted": 1, "hotline.transferred": 1, "hotline.replied": 1, "hotline.visit_due": 1,
        "hotline.rated": 1, "hotline.closed": 1})
    assert len({a["delivery"] for a in got}) == len(got) == 6  # every delivery once
    assert all(d.state == "delivered" for d in deliveries(app, world))
    bodies = {a["event"]: a["body"]["data"] for a in got}
    assert all(b["order"] == {"number": NUMBER, "county": "lixia"} for b in bodies.values())
    assert bodies["hotline.accepted"]["via"] == "advance"
    assert bodies["hotline.transferred"]["transfer"]["department"] == "城管中心"
    assert bodies["hotline.replied"]["transfer"]["answer"] == "已更换三楼和四楼的楼道灯"
    assert bodies["hotline.visit_due"]["topic"]["step"] == {"key": "ping", "name": "评单"}
    assert bodies["hotline.rated"]["rating"] == {"level": "satisfied", "satisfied": True, "solved": True,
                                                 "valid": True, "score": None, "via": "hotline_12345"}
    assert bodies["hotline.closed"]["closed_as"] == "done" and bodies["hotline.closed"]["topic"]["status"] == "closed"
    assert all("王女士" not in str(b) and "13812345678" not in str(b) for b in bodies.values())


def test_topics_that_did_not_come_from_the_hotline_are_not_news_to_it(app, client, world, county, hotline,
                                                                       run_jobs):
    assert hotline.send(client, "lixia", "orders", order(NUMBER)).status_code == 201  # the subscription exists
    with app.app_context():
        street = db.get(Tenant, world.yanshan.id)
        other = factories.raise_topic(street, None, title="微信群里反映的事")
        factories.advance(street, other, None)
        db.commit()
    run_jobs()
    assert hotline.answered == [] and deliveries(app, world) == []


def test_the_streets_subscription_is_the_accounts_to_change(app, as_user, world, county, hotline, client):
    from conftest import csrf_token

    assert hotline.send(client, "lixia", "orders", order(NUMBER)).status_code == 201
    with app.app_context(), tenant_context(world.langshan.id):  # every street has one, orders or not
        assert db.scalar(select(WebhookSubscription.url)) == hotline.url
    admin = as_user("yanshan-admin")
    page = admin.get("/t/yanshan/manage/webhooks/").get_data(as_text=True)
    assert "由区县的 12345 热线账号管理" in page and "德州 12345 热线" in page
    with app.app_context(), tenant_context(world.yanshan.id):
        sub_id = db.scalar(select(WebhookSubscription.id))
    token = csrf_token(admin)
    admin.post(f"/t/yanshan/manage/webhooks/{sub_id}/active", data={"csrf_token": token, "active": "0"})
    admin.post(f"/t/yanshan/manage/webhooks/{sub_id}/delete", data={"csrf_token": token, "confirm": "1"})
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(WebhookSubscription.active).where(WebhookSubscription.id == sub_id)) is True

    county_admin = as_user("lixia-admin")  # the county changes the URL: every street follows
    token = csrf_token(county_admin)
    moved = county_admin.post("/t/lixia/manage/hotline/", data={
        "csrf_token": token, "name": "德州 12345 热线", "callback_url": hotline.url + "?v=2"})
    assert moved.status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(WebhookSubscription.url)).endswith("?v=2")
    bad = county_admin.post("/t/lixia/manage/hotline/", data={"csrf_token": token, "name": "",
                                                               "callback_url": "ftp://x"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "请填写账号名称" in text and "接收地址必须以 http:// 或 https:// 开头" in text and "ftp://x" in text


def test_a_rotated_secret_signs_from_then_on_both_ways(app, as_user, world, county, hotline, client, run_jobs):
    from conftest import csrf_token

    old = hotline.secret
    assert hotline.send(client, "lixia", "orders", order(NUMBER)).status_code == 201
    admin = as_user("lixia-admin")
    refused = admin.post("/t/lixia/manage/hotline/rotate", data={"csrf_token": csrf_token(admin)})
    assert refused.status_code == 302  # not confirmed: nothing changed
    assert hotline.send(client, "lixia", f"orders/{NUMBER}", None).status_code == 200
    page = admin.post("/t/lixia/manage/hotline/rotate", data={"csrf_token": csrf_token(admin), "confirm": "1"})
    import re

    hotline.secret = re.search(r'<code class="secret" id="secret">([^<]+)</code>', page.get_data(as_text=True)).group(1)
    assert hotline.secret != old
    assert hotline.send(client, "lixia", f"orders/{NUMBER}", None, secret=old).status_code == 401
    assert hotline.send(client, "lixia", f"orders/{NUMBER}", None).status_code == 200
    step(app, world, lambda s, t: factories.advance(s, t, world.users["yanshan-staff"].id, roles={"staff"}))
    run_jobs()
    assert [a["status"] for a in hotline.answered] == [200]  # its signature checked with the new secret


def test_a_visit_is_recorded_only_where_residents_rate_and_by_their_rules(app, client, world, county, hotline):
    staff = world.users["yanshan-staff"].id
    assert hotline.send(client, "lixia", "orders", order(NUMBER)).status_code == 201
    early = hotline.send(client, "lixia", f"orders/{NUMBER}/visit", {"level": "satisfied", "solved": True})
    assert early.status_code == 409 and early.get_json()["error"]["fields"] == {"number": [
        "该工单目前不在评价环节，不能记录回访结果"]}
    bad = hotline.send(client, "lixia", f"orders/{NUMBER}/visit", {"level": "great", "valid": False})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"level", "solved", "invalid_reason"}
    missing = hotline.send(client, "lixia", "orders/NOPE/visit", {"level": "satisfied", "solved": True})
    assert missing.status_code == 404

    step(app, world, lambda s, t: factories.advance(s, t, staff, roles={"staff"}))
    step(app, world, lambda s, t: factories.advance(s, t, staff, roles={"staff"}))  # at 评单
    invalid = {"level": "unsatisfied", "solved": False, "valid": False, "invalid_reason": "来电人表示与本工单无关"}
    assert hotline.send(client, "lixia", f"orders/{NUMBER}/visit", invalid).get_json()["result"] == "rated"
    again = hotline.send(client, "lixia", f"orders/{NUMBER}/visit", invalid)  # their retry
    assert again.status_code == 200 and again.get_json()["result"] == "unchanged"
    other = hotline.send(client, "lixia", f"orders/{NUMBER}/visit", {"level": "satisfied", "solved": True})
    assert other.status_code == 409  # one rating per visit, as on the portal
    with app.app_context(), tenant_context(world.yanshan.id):
        from shangliang.topics import operations as topics

        topic = topic_of(world.yanshan)
        rating = topics.last_rating(topics.this_visit(topic, topics.events(topic)))
        assert (rating["level"], rating["valid"], rating["via"]) == ("unsatisfied", False, "hotline_12345")
        offered = {a.kind for a in topics.available_actions(topic, {"staff"}, staff)}
        assert "reopen" not in offered  # an invalid unsatisfied rating sends nothing back (ratings.sends_back)


def test_the_real_actors_move_a_hotline_order_through_the_api_with_their_own_tokens(app, client, as_user, world,
                                                                                   county, hotline, run_jobs):
    """A signed order, then the member's claim and the staff's 转办 made through the API with each one's
    personal token: the topic's log names each person, and the hotline hears of the transfer once."""
    from test_personal_tokens import auth, make_token

    staff, member = world.users["yanshan-staff"], world.users["yanshan-member"]
    assert hotline.send(client, "lixia", "orders", order(NUMBER)).status_code == 201
    step(app, world, lambda s, t: factories.advance(s, t, staff.id, roles={"staff"}))  # 点单 → 商单: 受理
    with app.app_context():
        street = db.get(Tenant, world.yanshan.id)
        with tenant_context(street.id):
            number = topic_of(street).number
        departments = factories.transfer_to(street, "城管中心")
        db.commit()
    member_token = make_token(as_user("yanshan-member"), scopes=("read", "topics"))
    staff_token = make_token(as_user("yanshan-staff"), scopes=("read", "topics"))

    def act(secret, action, **more):
        version = client.get(f"/api/v1/t/yanshan/topics/{number}", headers=auth(secret)).get_json()["version"]
        resp = client.post(f"/api/v1/t/yanshan/topics/{number}/actions", headers=auth(secret),
                           json={"action": action, "version": version, **more})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["events"][-1]

    claimed = act(member_token, "claim")
    assert (claimed["actor_id"], claimed["actor_role"]) == (member.id, "member")
    sent = act(staff_token, "transfer", to="shang", data=departments)
    assert (sent["action"], sent["actor_id"], sent["actor_role"]) == ("transfer", staff.id, "staff")
    run_jobs()
    assert Counter(a["event"] for a in hotline.accepted()) == Counter({"hotline.accepted": 1,
                                                                        "hotline.transferred": 1})
    transferred = next(a for a in hotline.accepted() if a["event"] == "hotline.transferred")
    assert transferred["body"]["data"]["order"] == {"number": NUMBER, "county": "lixia"}
