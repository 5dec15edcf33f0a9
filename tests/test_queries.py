"""Pages cost the same number of SQL statements whatever the size of their lists."""
from __future__ import annotations

from conftest import changes_settled
from shangliang.accounts.models import Membership, User
from shangliang.audit.operations import record
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context


def grow(app, world, n):
    """Add n members and n audit rows to 燕山街道, straight in the database (no hashing per user)."""
    with app.app_context(), tenant_context(world.yanshan.id):
        start = db.query(User).count()
        for i in range(n):
            u = User(username=f"bulk-{start}-{i}", display_name=f"委员{i}", password_hash="x")
            db.add(u)
            db.flush()
            db.add(Membership(user_id=u.id, role="member"))
            record(world.yanshan.id, None, "membership.add", u.username, {"role": "member"})
        db.commit()


def statements(query_counter, client, url):
    """A page's statements once the process keeps what it reads on every request (core/changes.py):
    the first visit after the data grew reads them again, which is not what grows with the data.
    Every change committed so far is taken in first: a notice arriving between the two visits
    would make the counted one read again (it flaked so, 4 statements apart)."""
    changes_settled(client.application)
    assert client.get(url).status_code == 200
    with query_counter() as stmts:
        assert client.get(url).status_code == 200
    return len(stmts)


def test_list_pages_cost_the_same_at_10_and_200_rows(app, as_user, world, query_counter):
    client = as_user("yanshan-admin")
    pages = ["/t/yanshan/manage/members", "/t/yanshan/manage/audit", "/t/yanshan/manage/",
             "/t/yanshan/notifications/", "/t/yanshan/"]
    grow(app, world, 10)
    small = {url: statements(query_counter, client, url) for url in pages}
    grow(app, world, 190)
    large = {url: statements(query_counter, client, url) for url in pages}
    assert small == large
    assert max(large.values()) <= 13, large  # the street's dashboard: 12, and one for today's duty card


def test_operator_pages_cost_the_same_at_10_and_200_tenants(app, as_user, world, query_counter):
    from shangliang.tenants.operations import create_tenant

    def add_streets(n, prefix):
        with app.app_context():
            for i in range(n):
                create_tenant(None, kind="street", slug=f"{prefix}-{i}", name=f"街道{i}", parent=world.lixia)
            db.commit()

    client = as_user("operator")
    pages = ["/", "/t/platform/manage/", "/t/platform/manage/tenants", "/t/lixia/manage/tenants"]
    small = {url: statements(query_counter, client, url) for url in pages}
    add_streets(200, "more")
    large = {url: statements(query_counter, client, url) for url in pages}
    assert small == large


def test_topic_pages_cost_the_same_at_10_and_200_topics(app, as_user, world, query_counter):
    from shangliang.procedures.operations import publish
    from shangliang.topics.operations import act, create_topic
    from support.procedures import SMALL

    def add_topics(n):
        with app.app_context(), tenant_context(world.yanshan.id):
            for i in range(n):
                t = create_topic(world.yanshan, None, {"title": f"议题{i}", "channel": "wechat", "category": "市政",
                                                      "description": "说明"})
                if i % 3 == 0:
                    act(world.yanshan, None, {"staff"}, t, "advance", expected_version=t.version, to="shang")
            db.commit()

    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, SMALL)
        db.commit()
    add_topics(10)
    client = as_user("yanshan-admin")
    pages = ["/t/yanshan/topics/", "/t/yanshan/topics/list", "/t/yanshan/topics/list?category=市政",
             "/t/yanshan/topics/1"]
    small = {url: statements(query_counter, client, url) for url in pages}
    add_topics(190)
    large = {url: statements(query_counter, client, url) for url in pages}
    assert small == large


def test_a_page_reads_the_published_brand_once_per_version_and_a_one_street_menu_from_the_request(
        app, as_user, world, query_counter):
    """The fixed cost of a page: a published brand version never changes, so it is read once per
    process; publishing another is seen on the next page. A person of one street gets the
    switcher from the tenant the request already read."""
    from test_brand import brand_form, save

    save(app, world.yanshan, brand_form(brand_name="第一版"), publish=True)
    resident, staff = app.test_client(), as_user("yanshan-staff")

    def brand_reads(client, url):
        with query_counter() as stmts:
            html = client.get(url).get_data(as_text=True)
        switcher = sum("FROM tenants" in s and "CASE" in s for s in stmts)  # visible_tenants' ordering
        return sum("brand_versions" in s for s in stmts), switcher, html

    reads, _, html = brand_reads(resident, "/t/yanshan/")
    assert "第一版" in html and reads <= 1
    assert brand_reads(resident, "/t/yanshan/")[0] == 0
    reads, switcher, html = brand_reads(staff, "/t/yanshan/manage/")
    assert reads == 0 and switcher == 0 and "燕山街道" in html
    assert brand_reads(as_user("lixia-admin"), "/t/yanshan/manage/")[1] == 1  # a county admin's list is read
    save(app, world.yanshan, brand_form(brand_name="第二版"), publish=True)
    reads, _, html = brand_reads(resident, "/t/yanshan/")
    assert "第二版" in html and "第一版" not in html and reads == 1
