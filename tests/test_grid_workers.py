"""网格员 and 楼院长 have a place: roles of their own, bound to the grids the roster gives them; they
raise topics for residents (channel 网格员代办) and follow their grids' topics, and nobody else's."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.accounts.models import Membership
from shangliang.accounts.operations import add_membership
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics.models import Topic


@pytest.fixture
def grid(app, world):
    """燕山 on 七步订单, with 陈静, 网格员 of 3 网格 who signs in, and topics in 3 网格 and 5 网格."""
    with app.app_context():
        street = world.yanshan
        factories.procedure(street, "qibu_dingdan")
        user = factories.create_user("ys-chenjing", "陈静", factories.PASSWORD)
        with tenant_context(street.id):
            add_membership(street, None, user, "grid_worker")
        factories.person(street, "grid_worker", "陈静", username=user.username, grid="3 网格",
                         community="燕子山社区")
        ours = factories.raise_topic(street, title="3 网格的路灯", grid="3 网格", resident_name="王秀英",
                                     resident_phone="13912345678").number
        theirs = factories.raise_topic(street, title="5 网格的积水", grid="5 网格").number
        db.commit()
        return {"ours": ours, "theirs": theirs, "user": user}


def test_a_grid_worker_raises_a_topic_for_a_resident_in_their_grid(app, as_user, world, grid):
    worker = as_user("ys-chenjing")
    resp = worker.post("/t/yanshan/topics/new", data={
        "csrf_token": csrf_token(worker), "title": "楼道堆放杂物", "description": "2 号楼楼道堆满杂物",
        "resident_name": "李大爷", "resident_phone": "13800001111", "channel": "", "grid": "", "community": "",
        "category": "", "urgency": "normal", "place": ""})
    assert resp.status_code == 302
    number = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context(), tenant_context(world.yanshan.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
    assert topic.channel == "grid_worker" and topic.grid == "3 网格" and topic.created_by == grid["user"].id
    page = worker.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "13800001111" in page  # the resident told them: they see the number they took down


def test_a_grid_worker_follows_their_grids_topics_and_no_others(app, as_user, world, grid):
    worker = as_user("ys-chenjing")
    board = worker.get("/t/yanshan/topics/").get_data(as_text=True)
    assert "3 网格的路灯" in board and "5 网格的积水" not in board
    listing = worker.get("/t/yanshan/topics/list").get_data(as_text=True)
    assert "3 网格的路灯" in listing and "5 网格的积水" not in listing
    assert worker.get(f"/t/yanshan/topics/{grid['theirs']}").status_code == 404
    page = worker.get(f"/t/yanshan/topics/{grid['ours']}").get_data(as_text=True)
    assert "3 网格的路灯" in page and "13912345678" not in page and "139****5678" in page  # staff raised it
    assert "王秀英" not in page
    # the whole street's other pages are not theirs
    assert worker.get("/t/yanshan/manage/members").status_code == 403
    assert worker.get("/t/yanshan/departments/").status_code == 403
    staff_board = as_user("yanshan-staff").get("/t/yanshan/topics/").get_data(as_text=True)
    assert "5 网格的积水" in staff_board


def test_a_grid_worker_without_a_grid_on_the_roster_sees_only_what_they_raised(app, as_user, world, grid):
    with app.app_context():
        user = factories.create_user("ys-louzhang", "吴桂芝", factories.PASSWORD)
        with tenant_context(world.yanshan.id):
            add_membership(world.yanshan, None, user, "building_head")
            assert db.get(Membership, {"tenant_id": world.yanshan.id, "user_id": user.id, "role": "building_head"})
        db.commit()
    head = as_user("ys-louzhang")
    board = head.get("/t/yanshan/topics/").get_data(as_text=True)
    assert "3 网格的路灯" not in board and "5 网格的积水" not in board
    home = head.get("/", follow_redirects=True)  # their street's home, as for anyone with a role there
    assert home.status_code == 200 and "吴桂芝" in home.get_data(as_text=True)


def test_the_board_of_a_grid_worker_counts_their_grid_only(app, as_user, world, grid):
    worker = as_user("ys-chenjing")
    html = worker.get("/t/yanshan/topics/").get_data(as_text=True)
    counts = [int(n) for n in re.findall(r'class="count"[^>]*>(\d+)<', html)]
    assert sum(counts) == 1, counts


def test_a_grid_worker_reaches_no_transfer_of_another_grids_topic(app, as_user, world, grid):
    from shangliang.topics.models import Transfer

    with app.app_context():
        elsewhere = factories.topic_at(world.yanshan, "gendan", title="5 网格转办", grid="5 网格")
        db.commit()
        with tenant_context(world.yanshan.id):
            transfer = db.scalar(select(Transfer).where(Transfer.topic_id == elsewhere.id))
    url = f"/t/yanshan/transfers/{transfer.id}"
    assert as_user("ys-chenjing").get(url).status_code == 404
    assert as_user("yanshan-member").get(url).status_code == 200  # a member follows the street's topics


def test_a_grid_workers_home_names_their_grid_and_its_open_topics(app, as_user, world, grid):
    home = as_user("ys-chenjing").get("/t/yanshan/manage/").get_data(as_text=True)
    assert "我的网格" in home and "3 网格" in home and "1 件议题办理中" in home


def test_a_systems_token_cannot_hold_a_grid_role(app, as_user, world):
    admin = as_user("yanshan-admin")
    resp = admin.post("/t/yanshan/manage/tokens", data={"csrf_token": csrf_token(admin), "name": "网格系统",
                                                        "role": "grid_worker", "scopes": ["read"]})
    assert resp.status_code == 400 and "此处不能分配该角色" in resp.get_data(as_text=True)  # no grid of its own
    assert 'value="grid_worker"' not in admin.get("/t/yanshan/manage/tokens").get_data(as_text=True)


def test_a_grid_workers_own_token_reaches_their_grids_topics_and_no_others(app, client, as_user, world, grid):
    """A person's token is narrowed as they are: it has their grids."""
    worker = as_user("ys-chenjing")
    page = worker.post("/t/yanshan/tokens", data={"csrf_token": csrf_token(worker), "name": "网格小程序",
                                                  "scopes": ["read", "topics"]}).get_data(as_text=True)
    headers = {"Authorization": "Bearer " + re.search(r"(slt_[0-9a-f]{32}_[A-Za-z0-9_-]+)", page).group(1)}
    listed = client.get("/api/v1/t/yanshan/topics", headers=headers).get_json()["items"]
    assert [t["number"] for t in listed] == [grid["ours"]]
    assert listed[0]["resident_phone"] == "139****5678"  # staff raised it: masked for them
    assert client.get(f"/api/v1/t/yanshan/topics/{grid['theirs']}", headers=headers).status_code == 404
    raised = client.post("/api/v1/t/yanshan/topics", headers=headers, json={
        "title": "楼道堆放杂物", "channel": "grid_worker", "grid": "3 网格", "resident_phone": "13800001111"})
    assert raised.status_code == 201 and raised.get_json()["resident_phone"] == "13800001111"
    assert raised.get_json()["created_by"] == grid["user"].id
