"""Outbound webhooks (integrations/): an event is delivered to the subscriptions that chose it,
signed, after the commit, through the outbox; a receiver that is down or failing gets it later,
once; past the retry bound a delivery is dead with its reason; nothing crosses tenants.

Every delivery goes to a real HTTP server on loopback (support/receiver.py). No test waits for
time to pass: a retry is made due by moving its `next_attempt_at`, and the retry pass is the
periodic job, queued through the outbox like the worker's tick queues it. Both modes."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

import factories
from shangliang.audit.models import AuditLog
from shangliang.core.db import db, utcnow
from shangliang.core.jobs import enqueue
from shangliang.core.tenancy import tenant_context
from shangliang.integrations import delivery, operations, signing, tasks
from shangliang.integrations.events import EVENT_TYPES
from shangliang.integrations.models import WebhookDelivery, WebhookSubscription
from shangliang.tenants.models import Tenant
from support.receiver import Receiver


@pytest.fixture
def config(config):
    """Deliveries to loopback, where the test's receiver listens (production refuses it by default)."""
    config.webhook_allow_networks = ("127.0.0.0/8",)
    return config


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def yanshan(app, world):
    with app.app_context():
        factories.procedure(db.get(Tenant, world.yanshan.id))
        db.commit()
    return world.yanshan


def subscribe(app, street, url, events, name="12345 热线回访") -> str:
    """A subscription made as the page makes it; returns its secret."""
    with app.app_context(), tenant_context(street.id):
        _row, secret = operations.subscribe(db.get(Tenant, street.id), None,
                                            {"name": name, "url": url, "events": list(events)})
        db.commit()
    return secret


def raise_topic(app, street, **intake) -> int:
    with app.app_context():
        topic = factories.raise_topic(db.get(Tenant, street.id), None, **intake)
        db.commit()
        return topic.number


def deliveries(app, street) -> list[WebhookDelivery]:
    with app.app_context(), tenant_context(street.id):
        return list(db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)
                               .execution_options(populate_existing=True)))


def make_due(app, street, **more) -> None:
    """The time of every pending delivery's next attempt has come (no test waits for it)."""
    with app.app_context(), tenant_context(street.id):
        db.execute(update(WebhookDelivery).where(WebhookDelivery.state == "pending")
                   .values(next_attempt_at=utcnow() - timedelta(seconds=1), **more))
        db.commit()


def retry_pass(app, street, run_jobs) -> None:
    """The periodic retry pass, queued through the outbox as the worker's tick queues it."""
    with app.app_context(), tenant_context(street.id):
        enqueue(tasks.deliver_due)
        db.commit()
    run_jobs()


# ---------------------------------------------------------------- delivered, signed, once

def test_a_subscribed_event_is_posted_after_commit_signed_and_without_personal_data(app, yanshan, receiver,
                                                                                    run_jobs):
    secret = subscribe(app, yanshan, receiver.url, ["topic.created"])
    with app.app_context():
        topic = factories.raise_topic(db.get(Tenant, yanshan.id), None, title="立功小区天然气安装",
                                      resident_name="王大妈", resident_phone="13812341234")
        with tenant_context(yanshan.id):
            [row] = db.scalars(select(WebhookDelivery)).all()  # written with the topic, in its transaction
            assert (row.event_type, row.state) == ("topic.created", "pending")
        assert receiver.received == []  # nothing leaves before the commit
        db.commit()
        number, topic_id = topic.number, str(topic.id)
    run_jobs()

    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    ts, signature = receiver.header(0, "X-Shangliang-Timestamp"), receiver.header(0, "X-Shangliang-Signature")
    assert signature.startswith("v1=") and signing.verify(secret, ts, body, signature)
    assert not signing.verify(secret, ts, body + b" ", signature)  # a changed body does not verify
    assert not signing.verify("whsec_other", ts, body, signature)
    assert not signing.verify(secret, ts, body, signature, now=int(ts) + signing.REPLAY_WINDOW + 1)  # a replay
    assert receiver.header(0, "X-Shangliang-Event") == "topic.created"
    sent = json.loads(body)
    assert receiver.header(0, "X-Shangliang-Delivery") == sent["delivery"] == str(deliveries(app, yanshan)[0].id)
    assert sent["type"] == "topic.created" and sent["tenant"] == "yanshan" and sent["occurred_at"].endswith("Z")
    assert sent["data"]["topic"] == {"id": topic_id, "number": number, "channel": "wechat", "status": "open",
                                     "closed_as": None, "round": 1, "step": {"key": "dian", "name": "点单"}}
    text = body.decode()
    assert "王大妈" not in text and "13812341234" not in text and "天然气" not in text  # ids, not what residents said
    assert receiver.received[0][0]["Host"] == f"127.0.0.1:{receiver.port}"
    [row] = deliveries(app, yanshan)
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("delivered", 1, 200, None)

    retry_pass(app, yanshan, run_jobs)  # a delivered delivery is never sent again
    assert len(receiver.received) == 1


def test_an_event_nobody_chose_makes_no_delivery_and_another_street_hears_nothing(app, world, yanshan, receiver,
                                                                                 run_jobs):
    other = Receiver().start()
    try:
        subscribe(app, yanshan, receiver.url, ["topic.closed"])  # not topic.created
        with app.app_context():
            factories.procedure(db.get(Tenant, world.guangwumen.id))
            db.commit()
        subscribe(app, world.guangwumen, other.url, ["topic.created"])
        raise_topic(app, yanshan)
        run_jobs()
        assert deliveries(app, yanshan) == [] and deliveries(app, world.guangwumen) == []
        assert receiver.received == [] and other.received == []

        raise_topic(app, world.guangwumen)  # their own event does reach them
        run_jobs()
        assert len(other.received) == 1 and json.loads(other.received[0][1])["tenant"] == "guangwumen"
        assert receiver.received == [] and deliveries(app, yanshan) == []
    finally:
        other.stop()


# ---------------------------------------------------------------- retries and dead letters

def test_a_receiver_down_then_failing_then_back_gets_the_delivery_exactly_once(app, yanshan, receiver, run_jobs):
    subscribe(app, yanshan, receiver.url, ["topic.created"])
    receiver.stop()  # down: the connection is refused
    before = utcnow()
    raise_topic(app, yanshan)
    run_jobs()
    [row] = deliveries(app, yanshan)
    assert (row.state, row.attempts, row.last_error, row.last_status) == ("pending", 1, "refused", None)
    assert before + delivery.FIRST_WAIT < row.next_attempt_at <= utcnow() + delivery.FIRST_WAIT
    assert row.give_up_at - row.created_at == timedelta(minutes=60)

    retry_pass(app, yanshan, run_jobs)  # not due yet: no attempt
    assert deliveries(app, yanshan)[0].attempts == 1

    receiver.status = 500
    receiver.start()
    make_due(app, yanshan)
    retry_pass(app, yanshan, run_jobs)
    [row] = deliveries(app, yanshan)
    assert (row.state, row.attempts, row.last_error, row.last_status) == ("pending", 2, "status", 500)
    waited = row.next_attempt_at - row.last_attempt_at  # from the attempt's end: its start plus the POST
    assert 2 * delivery.FIRST_WAIT <= waited < 2 * delivery.FIRST_WAIT + delivery.LEASE  # twice as long

    receiver.status = 204
    make_due(app, yanshan)
    retry_pass(app, yanshan, run_jobs)
    make_due(app, yanshan)
    retry_pass(app, yanshan, run_jobs)
    [row] = deliveries(app, yanshan)
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("delivered", 3, 204, None)
    assert len(receiver.received) == 2  # the 500 and the one that got through; nothing after it
    ids = {receiver.header(i, "X-Shangliang-Delivery") for i in range(2)}
    assert ids == {str(row.id)} and receiver.received[0][1] == receiver.received[1][1]


def test_past_the_bound_a_delivery_is_dead_with_its_reason_in_words(app, as_user, yanshan, receiver, run_jobs):
    subscribe(app, yanshan, receiver.url, ["topic.created"])
    receiver.stop()
    raise_topic(app, yanshan)
    run_jobs()
    make_due(app, yanshan, give_up_at=utcnow() - timedelta(seconds=1))  # an hour has gone by
    retry_pass(app, yanshan, run_jobs)
    [row] = deliveries(app, yanshan)
    assert (row.state, row.attempts, row.last_error, row.next_attempt_at) == ("dead", 2, "refused", None)
    retry_pass(app, yanshan, run_jobs)  # dead is dead: the pass leaves it
    assert deliveries(app, yanshan)[0].attempts == 2

    page = as_user("yanshan-admin").get("/t/yanshan/manage/webhooks/").get_data(as_text=True)
    assert "已放弃" in page and "接收方拒绝连接（服务可能没有启动）" in page and "重试期限已过" in page


def test_the_retry_schedule_doubles_its_waits_and_its_last_attempt_falls_on_the_bound():
    start = utcnow()
    row = WebhookDelivery(attempts=0, give_up_at=start + timedelta(minutes=60), state="pending")
    now, waits = start, []
    while row.state == "pending":
        row.attempts += 1
        delivery.record(row, delivery.Outcome(False, None, "refused"), now)
        if row.state == "pending":
            waits.append((row.next_attempt_at - now).total_seconds() / 60)
            now = row.next_attempt_at
    assert waits == [1, 2, 4, 8, 16, 29]  # the last one shortened to fall on the bound
    assert (row.state, row.attempts, now - start) == ("dead", 7, timedelta(minutes=60))


# ---------------------------------------------------------------- 重新发送

def resend_form(page: str) -> dict:
    import re

    m = re.search(r'action="(/t/yanshan/manage/webhooks/deliveries/[^"]+/resend)".*?name="csrf_token" value="([^"]+)"'
                  r'.*?name="seen" value="(\d+)"', page, re.S)
    assert m, "no 重新发送 button"
    return {"url": m.group(1), "csrf_token": m.group(2), "seen": m.group(3)}


def test_resend_sends_a_dead_delivery_again_once_however_often_it_is_clicked(app, as_user, yanshan, receiver,
                                                                            run_jobs):
    subscribe(app, yanshan, receiver.url, ["topic.created"])
    receiver.stop()
    raise_topic(app, yanshan)
    run_jobs()
    make_due(app, yanshan, give_up_at=utcnow() - timedelta(seconds=1))
    retry_pass(app, yanshan, run_jobs)
    assert deliveries(app, yanshan)[0].state == "dead"
    receiver.start()

    admin = as_user("yanshan-admin")
    form = resend_form(admin.get("/t/yanshan/manage/webhooks/").get_data(as_text=True))
    data = {"csrf_token": form["csrf_token"], "seen": form["seen"]}
    first, second = admin.post(form["url"], data=data), admin.post(form["url"], data=data)  # a double click
    assert first.status_code == second.status_code == 302
    run_jobs()
    assert len(receiver.received) == 1
    [row] = deliveries(app, yanshan)
    assert (row.state, row.resends, row.attempts, row.last_status) == ("delivered", 1, 3, 200)
    assert row.give_up_at > utcnow() + timedelta(minutes=59)  # a fresh window
    page = admin.get("/t/yanshan/manage/webhooks/").get_data(as_text=True)
    assert "已送达" in page

    again = resend_form(page)  # a later, deliberate 重新发送 does send again, the same delivery
    assert admin.post(again["url"], data={"csrf_token": again["csrf_token"], "seen": again["seen"]}).status_code == 302
    run_jobs()
    assert len(receiver.received) == 2
    assert receiver.header(1, "X-Shangliang-Delivery") == receiver.header(0, "X-Shangliang-Delivery") == str(row.id)
    with app.app_context(), tenant_context(yanshan.id):
        assert len(db.scalars(select(AuditLog).where(AuditLog.action == "webhook.resend")).all()) == 2


def test_a_paused_subscription_gets_nothing_until_it_is_resumed(app, as_user, yanshan, receiver, run_jobs):
    subscribe(app, yanshan, receiver.url, ["topic.created"])
    admin = as_user("yanshan-admin")
    with app.app_context(), tenant_context(yanshan.id):
        sub_id = db.scalar(select(WebhookSubscription.id))
    from conftest import csrf_token

    token = csrf_token(admin)
    assert admin.post(f"/t/yanshan/manage/webhooks/{sub_id}/active", data={"csrf_token": token, "active": "0"}
                      ).status_code == 302
    raise_topic(app, yanshan)
    run_jobs()
    assert deliveries(app, yanshan) == [] and receiver.received == []
    assert admin.post(f"/t/yanshan/manage/webhooks/{sub_id}/active", data={"csrf_token": token, "active": "1"}
                      ).status_code == 302
    number = raise_topic(app, yanshan)
    run_jobs()
    assert [json.loads(b)["data"]["topic"]["number"] for _h, b in receiver.received] == [number]
    with app.app_context(), tenant_context(yanshan.id):
        actions = db.scalars(select(AuditLog.action).where(AuditLog.action.like("webhook.%")).order_by(AuditLog.id))
        assert list(actions) == ["webhook.create", "webhook.pause", "webhook.resume"]


def test_the_registry_names_every_event_the_issue_asks_for_in_chinese(app):  # the app registers them
    assert {"topic.created", "topic.moved", "topic.transferred", "topic.replied", "topic.closed", "topic.rated",
            "meeting.held", "topic.notice_published", "topic.outcome_published"} <= set(EVENT_TYPES)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.label) for e in EVENT_TYPES.values())


# ---------------------------------------------------------------- where events come from

def test_a_topics_life_and_its_meeting_reach_a_subscriber_of_every_event(app, world, yanshan, receiver, run_jobs):
    from shangliang.topics import publication, transfers
    from shangliang.topics.models import Transfer

    subscribe(app, yanshan, receiver.url, EVENT_TYPES)
    staff = world.users["yanshan-staff"].id
    with app.app_context():
        street = db.get(Tenant, yanshan.id)
        topic = factories.raise_topic(street, staff)
        factories.advance(street, topic, staff)  # 点单 → 商单
        factories.act(street, topic, "transfer", staff, to="shang", data=factories.transfer_to(street, "城管中心"))
        with tenant_context(street.id):
            sent = db.scalar(select(Transfer))
            transfers.reply(street, topic, sent, staff, {"answer": "已勘察，下周施工"})
        factories.advance(street, topic, staff)  # 商单 → 评单
        factories.advance(street, topic, staff)  # rated, 评单 → 收单
        factories.advance(street, topic, staff)  # closed at 收单
        with tenant_context(street.id):
            publication.publish(street, topic, staff, {"title": "楼道灯修好了", "text": "已更换灯泡"})
        meeting = factories.meeting(street, topics=[topic.number])
        factories.hold(street, meeting)
        db.commit()
        number, transfer_id = topic.number, str(sent.id)
    run_jobs()

    rows = deliveries(app, yanshan)
    assert [r.event_type for r in rows] == [
        "topic.created", "topic.moved", "topic.transferred", "topic.replied", "topic.moved", "topic.rated",
        "topic.moved", "topic.closed", "topic.outcome_published", "meeting.held"]
    assert all(r.state == "delivered" for r in rows)
    assert sorted(receiver.header(i, "X-Shangliang-Delivery") for i in range(len(rows))) == sorted(str(r.id) for r in rows)
    data = [r.payload["data"] for r in rows]
    assert (data[1]["from_step"], data[1]["to_step"], data[1]["via"]) == (
        {"key": "dian", "name": "点单"}, {"key": "shang", "name": "商单"}, "advance")
    assert data[2]["transfer"]["id"] == data[3]["transfer"]["id"] == transfer_id
    assert data[2]["transfer"]["department"]["name"] == "城管中心" and data[3]["transfer"]["on_time"] is True
    assert data[5]["rating"]["level"] == "satisfied" and data[5]["rating"]["solved"] is True
    assert data[7]["closed_as"] == "done" and data[7]["topic"]["status"] == "closed"
    assert data[9]["topics"] == [{"id": data[0]["topic"]["id"], "number": number}]
    assert data[9]["meeting"]["number"] == 1 and data[9]["meeting"]["starts_at"].endswith("Z")
    assert len({r.event_id for r in rows}) == len(rows)
    bodies = "".join(b.decode() for _h, b in receiver.received)
    assert "已勘察" not in bodies and "楼道灯修好了" not in bodies  # what people wrote stays on the platform


def test_a_topic_put_on_public_notice_is_announced(app, world, receiver, run_jobs):
    from shangliang.topics import notice

    with app.app_context():
        street = db.get(Tenant, world.langshan.id)
        factories.procedure(street, "four_plus_x")
        db.commit()
    subscribe(app, world.langshan, receiver.url, ["topic.notice_published"])
    with app.app_context():
        street = db.get(Tenant, world.langshan.id)
        topic = factories.topic_at(street, "gongshi", community="一社区", category="x")
        with tenant_context(street.id):
            notice.publish(street, topic, None, {"staff"}, {"title": "征求意见", "text": "请居民提意见"})
        db.commit()
        number = topic.number
    run_jobs()
    [(headers, body)] = receiver.received
    sent = json.loads(body)
    assert sent["type"] == "topic.notice_published" and sent["tenant"] == "langshan"
    assert sent["data"]["topic"]["number"] == number and sent["data"]["corrected"] is False


def test_a_delivery_in_flight_is_not_taken_twice_until_its_claim_runs_out(app, yanshan, receiver):
    subscribe(app, yanshan, receiver.url, ["topic.created"])
    raise_topic(app, yanshan)  # its job is queued, not run: the delivery is due
    [row] = deliveries(app, yanshan)
    now = utcnow()
    with app.app_context(), tenant_context(yanshan.id):
        assert delivery.claim(row.id, now) is True
        db.commit()
        assert delivery.claim(row.id, now + timedelta(seconds=5)) is False  # the retry pass, the event's job
        db.commit()
        assert delivery.claim(row.id, now + delivery.LEASE + timedelta(seconds=1)) is True  # its worker died
        db.commit()
    assert deliveries(app, yanshan)[0].attempts == 2 and receiver.received == []
