"""Pages rendered once and kept by the web process: the board's content per street (topics/views.py
board) until a topic of the street, its procedure, places or members change, and the portal's front
page (portal/views.py home) until its topics, procedure or brand change, here or elsewhere: never
stale, never another street's, never one person's view shown to another."""
from __future__ import annotations

import pytest

import factories
from conftest import changes_settled
from shangliang.accounts.operations import add_membership
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from test_changes import elsewhere
from test_publication import concluded

BOARD = "/t/yanshan/topics/"
TOPIC_READS = ("FROM topics", "FROM topic_step_counts")

pytestmark = pytest.mark.services  # the embedded mode keeps nothing (core/changes.py)


@pytest.fixture
def street(app, world):
    """燕山 on the small procedure with a topic at 商单, and one in 广武门 to change."""
    with app.app_context():
        factories.procedure(world.yanshan)
        factories.procedure(world.guangwumen)
        ours = factories.topic_at(world.yanshan, "shang", title="楼道灯坏了")
        theirs = factories.topic_at(world.guangwumen, "shang", title="广场积水")
        db.commit()
        return {"ours": ours.number, "theirs": theirs.number}


def topic_reads(query_counter, client, url=BOARD) -> tuple[list[str], str]:
    with query_counter() as stmts:
        resp = client.get(url)
    assert resp.status_code == 200
    return [s for s in stmts if any(k in s for k in TOPIC_READS)], resp.get_data(as_text=True)


def test_the_board_reads_no_topic_while_the_street_is_unchanged(app, as_user, street, query_counter):
    staff = as_user("yanshan-staff")
    first, page = topic_reads(query_counter, staff)
    assert first and "楼道灯坏了" in page
    changes_settled(app)
    again, page_again = topic_reads(query_counter, staff)
    assert again == [] and page_again == page


def test_a_topic_changed_elsewhere_is_on_the_board_at_the_next_request(app, as_user, world, street,
                                                                       query_counter):
    staff = as_user("yanshan-staff")
    staff.get(BOARD)
    elsewhere(app, "UPDATE topics SET title = '楼道灯已报修' WHERE tenant_id = :t AND number = :n",
              t=world.yanshan.id, n=street["ours"])
    reads, page = topic_reads(query_counter, staff)
    assert reads and "楼道灯已报修" in page and "楼道灯坏了" not in page


def test_a_topic_raised_by_this_process_is_on_the_board_at_once(app, as_user, world, street):
    staff = as_user("yanshan-staff")
    staff.get(BOARD)
    with app.app_context():
        factories.raise_topic(world.yanshan, title="小区门口路面塌陷")
        db.commit()
    assert "小区门口路面塌陷" in staff.get(BOARD).get_data(as_text=True)


def test_another_streets_change_keeps_this_streets_board(app, as_user, world, street, query_counter):
    staff = as_user("yanshan-staff")
    staff.get(BOARD)
    elsewhere(app, "UPDATE topics SET title = '广场积水已排' WHERE tenant_id = :t", t=world.guangwumen.id)
    changes_settled(app)
    assert topic_reads(query_counter, staff)[0] == []


def test_each_language_and_filter_has_its_own_board(app, as_user, street):
    staff = as_user("yanshan-staff")
    assert "议题看板" in staff.get(BOARD).get_data(as_text=True)
    staff.set_cookie("lang", "en")
    english = staff.get(BOARD).get_data(as_text=True)
    assert "议题看板" not in english and "楼道灯坏了" in english
    staff.set_cookie("lang", "zh")
    closed = staff.get(BOARD + "?status=closed").get_data(as_text=True)
    assert "楼道灯坏了" not in closed and "楼道灯坏了" in staff.get(BOARD).get_data(as_text=True)


def test_a_grid_workers_board_is_their_own_and_never_kept(app, as_user, world, street, query_counter):
    """The staff's board, kept, is not what a grid worker sees: theirs is their grids' and read each time."""
    with app.app_context():
        user = factories.create_user("ys-chenjing", "陈静", factories.PASSWORD)
        with tenant_context(world.yanshan.id):
            add_membership(world.yanshan, None, user, "grid_worker")
        factories.person(world.yanshan, "grid_worker", "陈静", username=user.username, grid="3 网格")
        factories.raise_topic(world.yanshan, title="3 网格的路灯", grid="3 网格")
        db.commit()
    staff, worker = as_user("yanshan-staff"), as_user("ys-chenjing")
    assert "楼道灯坏了" in staff.get(BOARD).get_data(as_text=True)
    changes_settled(app)
    for _ in range(2):
        reads, page = topic_reads(query_counter, worker)
        assert reads and "3 网格的路灯" in page and "楼道灯坏了" not in page


def test_the_portal_front_page_reads_nothing_while_the_street_is_unchanged(app, client, world, query_counter):
    client.get("/t/yanshan/")
    changes_settled(app)
    with query_counter() as stmts:
        assert client.get("/t/yanshan/").status_code == 200
    assert stmts == []


def test_a_topic_published_elsewhere_is_on_the_portal_at_the_next_request(app, client, world):
    number = concluded(app, world, title="立功小区路灯")
    assert "立功小区路灯" not in client.get("/t/yanshan/").get_data(as_text=True)  # not yet reviewed
    elsewhere(app, "UPDATE topics SET published_at = now(), publication = CAST(:p AS json) "
                   "WHERE tenant_id = :t AND number = :n",
              p='{"title": "立功小区路灯修好了", "text": "更换了 6 盏路灯", "photos": []}',
              t=world.yanshan.id, n=number)
    assert "立功小区路灯修好了" in client.get("/t/yanshan/").get_data(as_text=True)


def test_the_portal_front_page_of_staff_is_not_the_residents(app, client, as_user, world):
    """The resident's page invites staff to sign in; a signed-in person's, kept apart, does not."""
    login = "/login?next="
    assert login in client.get("/t/yanshan/").get_data(as_text=True)
    staff = as_user("yanshan-staff")
    assert login not in staff.get("/t/yanshan/").get_data(as_text=True)
    assert login in client.get("/t/yanshan/").get_data(as_text=True)
