"""Transfers (转办) through the API (api/transfers.py), as on the department's pages: a contact's
inbox of their departments' transfers, the street's list of what it sent, one transfer, and the
contact's accept, reply and return with their own token. Only the department's contacts answer;
the street's people who follow the topic read it (403 to answer); anyone else gets 404. The 12345
platform's signed endpoints are in the OpenAPI document with their own security scheme."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import factories
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics.models import TopicEvent
from test_personal_tokens import auth, make_token


@pytest.fixture
def sent(app, world):
    """A topic of 燕山 at 商单 sent to its 城管中心, whose contact is the clerk; and 区住建局 of the
    county with its own contact, who answers for another department."""
    with app.app_context():
        factories.procedure(world.yanshan)
        clerk = factories.login(world.yanshan, "staff", "ys-clerk", "城管中心干事")
        factories.department(world.yanshan, "城管中心", contacts=[clerk])
        liaison = factories.create_user("lx-zhujian", "区住建局联络员", factories.PASSWORD)
        factories.department(world.lixia, "区住建局", "county_department", contacts=[liaison])
        topic = factories.topic_at(world.yanshan, "shang", title="立功小区楼道灯")
        staff = world.users["yanshan-staff"].id
        factories.act(world.yanshan, topic, "transfer", staff, {"staff"}, to="shang",
                      data=factories.transfer_to(world.yanshan, "城管中心", asked="更换楼道灯"))
        db.commit()
        return {"number": topic.number, "clerk": clerk.id}


def test_a_street_departments_contact_answers_with_their_own_token(app, client, as_user, world, sent):
    clerk = auth(make_token(as_user("ys-clerk"), scopes=("read", "topics")))
    inbox = client.get("/api/v1/t/yanshan/transfers", headers=clerk).get_json()
    (item,) = inbox["items"]
    assert (item["topic_number"], item["street_slug"], item["department_name"], item["state"]) == (
        sent["number"], "yanshan", "城管中心", "sent")
    assert item["asked"] == "更换楼道灯" and item["may_answer"] and item["answer"] is None and inbox["page"] == 1
    url = f"/api/v1/t/yanshan/transfers/{item['id']}"
    assert client.get(url, headers=clerk).get_json() == item

    refused = client.post(url + "/return", headers=clerk, json={"reason": ""})
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    assert client.post(url + "/return", headers=clerk, json={}).status_code == 422
    back = client.post(url + "/return", headers=clerk, json={"reason": "不属于本部门职责，建议转交区住建局"})
    assert back.status_code == 200, back.get_json()
    assert (back.get_json()["state"], back.get_json()["answer"]) == ("returned", "不属于本部门职责，建议转交区住建局")
    again = client.post(url + "/accept", headers=clerk)
    assert again.status_code == 409 and "已退回" in again.get_json()["error"]["message"]
    assert client.get("/api/v1/t/yanshan/transfers", headers=clerk).get_json()["items"] == []  # off the open list
    assert [t["id"] for t in client.get("/api/v1/t/yanshan/transfers?state=answered",
                                        headers=clerk).get_json()["items"]] == [item["id"]]

    with app.app_context(), tenant_context(world.yanshan.id):
        event = db.scalar(select(TopicEvent).where(TopicEvent.action == "transfer_return"))
        assert (event.actor_id, event.actor_role, event.comment) == (sent["clerk"], "department",
                                                                     "不属于本部门职责，建议转交区住建局")


def test_only_the_departments_contacts_answer_and_others_do_not_find_it(app, client, as_user, world, sent):
    staff = auth(make_token(as_user("yanshan-staff"), scopes=("read", "topics")))
    (item,) = client.get("/api/v1/t/yanshan/transfers", headers=staff).get_json()["items"]  # what the street sent
    assert item["may_answer"] is False
    detail = client.get(f"/api/v1/t/yanshan/topics/{sent['number']}", headers=staff).get_json()
    assert [t["id"] for t in detail["transfers"]] == [item["id"]]  # the topic names its transfers' ids
    url = f"/api/v1/t/yanshan/transfers/{item['id']}"
    assert client.get(url, headers=staff).status_code == 200
    refused = client.post(url + "/accept", headers=staff)  # follows the topic, answers for no department
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    member = auth(make_token(as_user("yanshan-member"), scopes=("read", "topics")))
    assert client.post(url + "/accept", headers=member).status_code == 403  # members do not see transfers

    liaison = auth(make_token(as_user("lx-zhujian"), "lixia", scopes=("read", "topics")))
    other = f"/api/v1/t/lixia/transfers/{item['id']}"  # a contact of another department
    assert client.get(other, headers=liaison).status_code == 404
    assert client.post(other + "/accept", headers=liaison).status_code == 404
    assert client.get("/api/v1/t/lixia/transfers", headers=liaison).get_json()["items"] == []
    langshan = auth(make_token(as_user("langshan-admin"), "langshan", scopes=("read", "topics")))
    assert client.get(f"/api/v1/t/langshan/transfers/{item['id']}", headers=langshan).status_code == 404
    assert client.post(f"/api/v1/t/langshan/transfers/{item['id']}/reply", headers=langshan,
                       json={"answer": "x"}).status_code == 404

    clerk = auth(make_token(as_user("ys-clerk"), scopes=("read",)))  # answering acts on topics: its scope
    denied = client.post(url + "/accept", headers=clerk)
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "insufficient_scope"


def test_the_document_describes_the_transfer_operations(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    for path in ("/t/{slug}/transfers/{transfer_id}/accept", "/t/{slug}/transfers/{transfer_id}/reply",
                 "/t/{slug}/transfers/{transfer_id}/return"):
        assert paths[path]["post"]["x-scope"] == "topics" and {"200", "403", "404", "409"} <= set(
            paths[path]["post"]["responses"])
    assert paths["/t/{slug}/transfers"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TransferPage"}
    assert {"id", "topic_number", "street_slug", "department_name", "state", "asked", "due_at", "answer"} <= set(
        doc["components"]["schemas"]["Transfer"]["properties"])
