"""Communities, grids and categories are chosen from the street's own lists (its 社区与类别 page),
never typed free where the street keeps a list; the board filters by them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.core.db import db
from shangliang.core.errors import Refused
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.models import Community, Tenant

PLACES = "燕子山社区：1 网格，2 网格\n立功社区：5 网格"
CATEGORIES = "停车管理\n环境卫生、燃气供暖"


def post(client, url, **form):
    return client.post(url, data={"csrf_token": csrf_token(client), **form})


@pytest.fixture
def listed(app, as_user, world):
    admin = as_user("yanshan-admin")
    assert post(admin, "/t/yanshan/manage/places", communities=PLACES, categories=CATEGORIES).status_code == 302
    with app.app_context():
        factories.procedure(world.yanshan)
        db.commit()
    return admin


def test_a_street_keeps_its_communities_grids_and_categories(app, as_user, world, listed):
    with app.app_context(), tenant_context(world.yanshan.id):
        places = {c.name: c.grids for c in db.scalars(select(Community).order_by(Community.position))}
        categories = db.get(Tenant, world.yanshan.id).categories
    assert places == {"燕子山社区": ["1 网格", "2 网格"], "立功社区": ["5 网格"]}
    assert categories == ["停车管理", "环境卫生", "燃气供暖"]
    page = listed.get("/t/yanshan/manage/places").get_data(as_text=True)
    assert "燕子山社区：1 网格，2 网格" in page and "燃气供暖" in page
    resp = post(listed, "/t/yanshan/manage/places", communities="燕子山社区\n燕子山社区", categories="x")
    assert resp.status_code == 400 and "重复" in resp.get_data(as_text=True)
    assert "燕子山社区\n燕子山社区" in resp.get_data(as_text=True)  # what was typed is kept
    resp = post(listed, "/t/yanshan/manage/places", communities=PLACES, categories="长" * 40)
    assert resp.status_code == 400 and "过长" in resp.get_data(as_text=True)
    assert as_user("yanshan-staff").get("/t/yanshan/manage/places").status_code == 403
    assert as_user("lixia-admin").get("/t/lixia/manage/places").status_code == 403  # a county files no topics


def test_a_topic_is_filed_under_the_streets_lists_only(app, world, listed):
    street = world.yanshan
    with app.app_context():
        topic = factories.raise_topic(street, community="立功社区", grid="5 网格", category="停车管理")
        assert topic.grid == "5 网格"
        for field, values, message in (("community", {"community": "不存在社区"}, "社区名单"),
                                       ("grid", {"community": "立功社区", "grid": "1 网格"}, "该社区的网格"),
                                       ("category", {"category": "乱填"}, "议题类别")):
            with pytest.raises(Refused) as err:
                factories.raise_topic(street, **values)
            assert err.value.field == field and message in err.value.message
        with pytest.raises(Refused) as err:  # recorded later: the same lists
            factories.act(street, topic, "record", data={"category": "乱填"})
        assert err.value.field == "category"
        db.rollback()


def test_the_forms_and_the_board_offer_the_lists(app, as_user, world, listed):
    staff = as_user("yanshan-staff")
    form = staff.get("/t/yanshan/topics/new").get_data(as_text=True)
    assert '<select name="category" id="category">' in form and "<option>燃气供暖</option>" in form
    assert '<optgroup label="立功社区"><option>5 网格</option></optgroup>' in form
    board = staff.get("/t/yanshan/topics/").get_data(as_text=True)
    assert '<select name="community" aria-label="社区">' in board
