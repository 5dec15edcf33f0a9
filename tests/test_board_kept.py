"""The board's content is rendered once per street and kept by the web process (topics/views.py
board) until a topic of the street, its procedure, places or members change, here or elsewhere:
never stale, never another street's, never one person's view shown to another."""
from __future__ import annotations

import pytest

import factories
from conftest import changes_settled
from shangliang.accounts.operations import add_membership
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from test_changes import elsewhere

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
