"""Every object the API returns carries the ids other operations take, so that a client needs nothing
but the API's own JSON (no page to scrape); and the procedure (工作法) is readable through it."""
from __future__ import annotations

import pytest

import factories
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from support import samples
from support.files import empty_store  # noqa: F401  (fixture: services runs share one bucket)
from support.procedures import SMALL
from support.uploads import post_to_storage


@pytest.fixture
def staff_token(app, world):
    """燕山's staff member's own token, with every scope."""
    from shangliang.accounts.models import SCOPES, User
    from shangliang.accounts.tokens import create_personal_token
    from shangliang.tenants.models import Tenant

    with app.app_context():
        factories.procedure(world.yanshan)
        with tenant_context(world.yanshan.id, world.users["yanshan-staff"].id):
            _row, secret = create_personal_token(db.get(Tenant, world.yanshan.id),
                                                 db.get(User, world.users["yanshan-staff"].id), "小程序", SCOPES)
        db.commit()
    return {"Authorization": f"Bearer {secret}"}


API = "/api/v1/t/yanshan"


def test_topic_and_meeting_json_carry_their_ids(client, world, staff_token):
    made = client.post(f"{API}/topics", headers=staff_token, json={"title": "路灯不亮", "channel": "wechat"})
    topic = made.get_json()
    assert made.status_code == 201 and topic["number"] == 1 and len(topic["id"]) == 36
    assert topic["created_by"] == world.users["yanshan-staff"].id
    listed = client.get(f"{API}/topics", headers=staff_token).get_json()["items"][0]
    detail = client.get(f"{API}/topics/1", headers=staff_token).get_json()
    assert listed["id"] == detail["id"] == topic["id"]
    assert detail["events"][0]["id"] and detail["events"][0]["actor_id"] == world.users["yanshan-staff"].id

    called = client.post(f"{API}/meetings", headers=staff_token, json={
        "title": "路灯议事会", "form": "online", "starts_at": "2025-05-20T14:30",
        "participants": [{"name": "王书记", "convener": True}], "topics": [1]}).get_json()
    assert called["id"] and called["number"] == 1 and called["created_by"] == world.users["yanshan-staff"].id
    assert called["topics"][0]["id"] == topic["id"] and called["topics"][0]["number"] == 1
    assert client.get(f"{API}/meetings", headers=staff_token).get_json()["items"][0]["id"] == called["id"]
    work = client.post(f"{API}/meetings/1/work", headers=staff_token, json={
        "title": "换灯", "owner_name": "物业", "due_on": "2025-05-23", "topic_number": 1}).get_json()["work_items"][0]
    assert (work["meeting_id"], work["meeting_number"], work["topic_id"]) == (called["id"], 1, topic["id"])
    across = client.get(f"{API}/work-items", headers=staff_token).get_json()["items"][0]
    assert (across["id"], across["meeting_number"], across["meeting_id"]) == (work["id"], 1, called["id"])
    # the pair a work item's own path takes, both read from the list across meetings
    moved = client.post(f"{API}/meetings/{across['meeting_number']}/work/{across['id']}", headers=staff_token,
                        json={"status": "in_progress"})
    assert moved.status_code == 200


def test_a_photo_is_attached_using_only_ids_from_the_api(app, client, world, staff_token, run_jobs):
    client.post(f"{API}/topics", headers=staff_token, json={"title": "井盖缺失", "channel": "wechat"})
    topic = client.get(f"{API}/topics", headers=staff_token).get_json()["items"][0]  # no page scraped
    data = samples.photo()
    started = client.post(f"{API}/files/uploads", headers=staff_token, json={
        "owner_kind": "topic", "owner_id": topic["id"], "filename": "现场.jpg", "size": len(data)})
    assert started.status_code == 201, started.get_json()
    upload = started.get_json()
    assert upload["owner_id"] == topic["id"] and upload["created_by"] == world.users["yanshan-staff"].id
    assert post_to_storage(client, upload["form"], data, "现场.jpg") in (200, 201, 204)
    assert client.post(f"{API}/files/{upload['id']}/complete", headers=staff_token).status_code == 202
    run_jobs()
    listed = client.get(f"{API}/files?owner_kind=topic&owner_id={topic['id']}", headers=staff_token).get_json()
    assert [(a["id"], a["status"]) for a in listed["items"]] == [(upload["id"], "ready")]

    detail = client.get(f"{API}/topics/{topic['number']}", headers=staff_token).get_json()
    attached = client.post(f"{API}/topics/{topic['number']}/actions", headers=staff_token, json={
        "action": "attach", "version": detail["version"], "data": {"attachment_id": listed["items"][0]["id"]}})
    assert attached.status_code == 200, attached.get_json()
    assert attached.get_json()["events"][-1]["data"]["attachment_id"] == upload["id"]


def test_the_procedure_is_readable_through_the_api(app, client, world, staff_token):
    current = client.get(f"{API}/procedure", headers=staff_token)
    assert current.status_code == 200
    proc = current.get_json()
    assert proc["current"] is True and proc["key"] == "small" and proc["name"] == {"zh": "小流程", "en": "Small"}
    steps = {s["key"]: s for s in proc["steps"]}
    assert [s["key"] for s in proc["steps"]] == ["dian", "shang", "ping", "shou"]
    assert steps["dian"]["name"] == {"zh": "点单", "en": "Order"} and steps["dian"]["roles"] == ["staff", "resident"]
    assert steps["dian"]["time_limit"] == {"hours": 24} and steps["shang"]["time_limit"] == {"working_days": 5}
    assert steps["ping"]["time_limit"] is None and steps["dian"]["phase"] == "intake"
    assert {"kind": "advance", "to": "shang"} in steps["dian"]["transitions"]
    assert {"kind": "reopen", "to": "shang", "max_rounds": 3} in steps["ping"]["transitions"]
    assert steps["shang"]["evidence"]["consultation_record"] is True

    made = client.post(f"{API}/topics", headers=staff_token, json={"title": "x", "channel": "wechat"}).get_json()
    assert made["procedure_version"] == proc["number"]
    with app.app_context():
        with tenant_context(world.yanshan.id):
            from shangliang.procedures.operations import publish

            publish(world.yanshan, None, SMALL.replace("{hours: 24}", "{hours: 48}"), note="点单放宽到 48 小时")
        db.commit()
    newer = client.get(f"{API}/procedure", headers=staff_token).get_json()
    assert newer["number"] == proc["number"] + 1 and newer["steps"][0]["time_limit"] == {"hours": 48}
    older = client.get(f"{API}/procedure/versions/{made['procedure_version']}", headers=staff_token).get_json()
    assert older["current"] is False and older["steps"][0]["time_limit"] == {"hours": 24}  # the topic's own
    versions = client.get(f"{API}/procedure/versions", headers=staff_token).get_json()["items"]
    assert [(v["number"], v["current"]) for v in versions][:2] == [(newer["number"], True), (proc["number"], False)]
    assert versions[0]["note"] == "点单放宽到 48 小时" and "steps" not in versions[0]
    assert client.get(f"{API}/procedure/versions/99", headers=staff_token).status_code == 404


def test_a_member_reads_the_procedure_with_a_read_only_token(app, client, world):
    from shangliang.accounts.models import User
    from shangliang.accounts.tokens import create_personal_token
    from shangliang.tenants.models import Tenant

    with app.app_context():
        factories.procedure(world.yanshan)
        with tenant_context(world.yanshan.id, world.users["yanshan-member"].id):
            _row, secret = create_personal_token(db.get(Tenant, world.yanshan.id),
                                                 db.get(User, world.users["yanshan-member"].id), "读", ["read"])
        db.commit()
    resp = client.get(f"{API}/procedure", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 200 and resp.get_json()["steps"][1]["roles"] == ["member", "staff"]


def test_the_document_describes_the_ids(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name, ids in {"Topic": {"id", "number", "created_by"}, "TopicDetail": {"id", "number"},
                      "Meeting": {"id", "number", "created_by"}, "MeetingDetail": {"id", "number"},
                      "MeetingTopic": {"id", "number"}, "WorkItem": {"id", "meeting_id", "meeting_number", "topic_id"},
                      "Attachment": {"id", "owner_id", "created_by"}, "Participant": {"id", "person_id"},
                      "Person": {"id", "user_id"}, "Event": {"id", "actor_id"}, "Member": {"user_id"},
                      "Procedure": {"id", "number", "published_by"}, "Token": {"id"}, "Entry": {"person_id", "user_id"},
                      "PublicationSummary": {"number", "published_by_id"}, "Tenant": {"id", "slug", "parent_id"}}.items():
        assert ids <= set(schemas[name]["properties"]), (name, ids - set(schemas[name]["properties"]))
    assert "owner_id" in schemas["Topic"]["properties"]["id"]["description"]
