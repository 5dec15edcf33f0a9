"""Issue 14's end to end: one topic from a signed 12345 order to 办结, every step taken through the
API by the real actors with their own personal tokens: the street's staff (受理, 转办, on to 评单),
a member (认领), the county department's contact (接收, 答复, through the transfer API at the
county's slug) and the street's administrator (办结, the step only they hold); the hotline sends its
回访 signed. The stand-in hotline is down (connections refused), then failing (500), then back, and
the retries are the job runner's periodic pass made due (no waiting): it receives every status
callback exactly once. The topic's log names each actor with their role. Both modes."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

import factories
from hotline_world import config, county, hotline  # noqa: F401  (fixtures)
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics.models import Topic
from support.hotline import order
from test_hotline_callbacks import deliveries, retry_due
from test_personal_tokens import auth, make_token

NUMBER = "DZ20261207009"


class Actor:
    """Someone acting through the API with their own token, in their own tenant."""

    def __init__(self, client, secret: str, slug: str = "yanshan"):
        self.client, self.headers, self.slug = client, auth(secret), slug

    def get(self, path: str):
        resp = self.client.get(f"/api/v1/t/{self.slug}/{path}", headers=self.headers)
        assert resp.status_code == 200, (path, resp.get_json())
        return resp.get_json()

    def post(self, path: str, json=None, status: int = 200):
        resp = self.client.post(f"/api/v1/t/{self.slug}/{path}", headers=self.headers, json=json)
        assert resp.status_code == status, (path, resp.status_code, resp.get_json())
        return resp.get_json()

    def act(self, number: int, action: str, **more) -> dict:
        version = self.get(f"topics/{number}")["version"]
        return self.post(f"topics/{number}/actions", {"action": action, "version": version, **more})

    def move_on(self, number: int) -> dict:
        """The way on the topic's detail offers (advance, or close at the last step), with what the
        step still asks for given first, as the topic page would ask for it."""
        offered = [a for a in self.get(f"topics/{number}")["actions"] if a["kind"] in ("advance", "close")]
        assert offered, f"nothing leads on for this token at topic {number}"
        way = offered[0]
        for item in way["missing"]:
            kind, _, name = item.partition(":")
            if kind == "field":
                self.act(number, "record", data={name: "楼道灯" if name != "summary" else "已修好，来电人满意"})
            elif kind == "consultation_record":
                self.act(number, "consult", data={"agreement": "由区住建局更换楼道灯"})
            else:
                raise AssertionError(f"the test does not supply {item}")
        return self.act(number, way["kind"], to=way["to"])


def test_a_signed_order_goes_to_closure_by_the_real_actors_tokens_and_the_hotline_hears_each_status_once(
        app, client, as_user, world, county, hotline, run_jobs):
    users = world.users
    with app.app_context():
        liaison = factories.create_user("lx-zhujian", "区住建局联络员", factories.PASSWORD)
        bureau = factories.department(world.lixia, "区住建局", "county_department", contacts=[liaison])
        db.commit()
        bureau_value = f"{world.lixia.id}:{bureau.id}"
    staff = Actor(client, make_token(as_user("yanshan-staff"), scopes=("read", "topics")))
    member = Actor(client, make_token(as_user("yanshan-member"), scopes=("read", "topics")))
    admin = Actor(client, make_token(as_user("yanshan-admin"), scopes=("read", "topics")))
    contact = Actor(client, make_token(as_user("lx-zhujian"), "lixia", scopes=("read", "topics")), "lixia")

    placed = hotline.send(client, "lixia", "orders", order(NUMBER))
    assert placed.status_code == 201 and placed.get_json()["street"]["slug"] == "yanshan"
    number = placed.get_json()["topic"]["number"]
    documented = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["HotlineOrder"]
    assert set(placed.get_json()) == set(documented["properties"])  # as the document describes it
    assert staff.move_on(number)["step"] == "shang"  # 受理 at 点单
    run_jobs()
    assert [a["event"] for a in hotline.accepted()] == ["hotline.accepted"]

    hotline.stop()  # the hotline is down: connections refused
    member.act(number, "claim")
    staff.act(number, "transfer", to="shang", data={"departments": [bureau_value], "asked": "更换楼道灯，三日内答复"})
    (sent,) = staff.get(f"topics/{number}")["transfers"]
    assert (sent["department_name"], sent["state"], sent["may_answer"]) == ("区住建局", "sent", False)

    inbox = contact.get("transfers")["items"]  # the county department's inbox, across the county's streets
    assert [(t["id"], t["street_slug"], t["topic_number"]) for t in inbox] == [(sent["id"], "yanshan", number)]
    assert inbox[0]["may_answer"] and inbox[0]["asked"] == "更换楼道灯，三日内答复"
    accepted = contact.post(f"transfers/{sent['id']}/accept")
    assert accepted["state"] == "accepted" and accepted["accepted_by"] == liaison.id
    contact.post(f"transfers/{sent['id']}/reply", {"answer": ""}, status=422)  # nothing said: nothing kept
    replied = contact.post(f"transfers/{sent['id']}/reply", {"answer": "已更换三楼和四楼的楼道灯"})
    assert (replied["state"], replied["answer"], replied["on_time"]) == ("replied", "已更换三楼和四楼的楼道灯", True)
    assert contact.get("transfers?state=answered")["items"][0]["id"] == sent["id"]
    run_jobs()
    waiting = [d for d in deliveries(app, world) if d.state == "pending"]
    assert [d.event_type for d in waiting] == ["hotline.transferred", "hotline.replied"]
    assert all(d.last_error == "refused" and d.attempts == 1 for d in waiting)

    hotline.status = 500  # back, but failing
    hotline.start()
    retry_due(app, world, run_jobs)
    assert [a["status"] for a in hotline.answered[1:]] == [500, 500]
    hotline.status = 200  # well again: what waited gets through, then the rest as it happens
    retry_due(app, world, run_jobs)

    assert staff.move_on(number)["step"] == "ping"  # 商单 → 评单: 待回访
    run_jobs()
    visit = hotline.send(client, "lixia", f"orders/{NUMBER}/visit",
                         {"level": "satisfied", "solved": True, "comment": "灯修好了，谢谢"})
    assert visit.status_code == 200 and visit.get_json()["result"] == "rated"
    run_jobs()
    assert staff.move_on(number)["step"] == "shou"  # 评单 → 收单
    closed = admin.move_on(number)  # 办结: the street administrator's step
    assert closed["status"] == "closed" and closed["closed_as"] == "done"
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
    transferred = bodies["hotline.transferred"]["transfer"]
    assert (transferred["id"], transferred["department"]) == (sent["id"], "区住建局")  # the id the API takes
    assert bodies["hotline.replied"]["transfer"]["answer"] == "已更换三楼和四楼的楼道灯"

    log = closed["events"]  # the log names each person who acted, with the role they acted in
    who = {e["action"]: (e["actor_id"], e["actor_role"]) for e in log}
    assert who["claim"] == (users["yanshan-member"].id, "member")
    assert who["transfer"] == (users["yanshan-staff"].id, "staff")
    assert who["transfer_accept"] == who["transfer_reply"] == (liaison.id, "department")
    assert who["close"] == (users["yanshan-admin"].id, "street_admin")
    assert [e["actor_id"] for e in log if e["action"] == "advance"] == [users["yanshan-staff"].id] * 3
    assert closed["transfers"][0]["state"] == "replied"
    with app.app_context(), tenant_context(world.yanshan.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        assert topic.status == "closed" and topic.details["hotline_order"] == NUMBER
