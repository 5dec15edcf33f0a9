"""委员-网格员结对: staff pair CPPCC members with the street's grids (一对一, 一对多); the pairs are
read by claim suggestions, the duty rota, a new topic's notifications and a grid worker's home;
no pair outlives its member or its grid."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.audit.models import AuditLog
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.models import Notification
from shangliang.roster import operations as ops
from shangliang.roster import pairing
from shangliang.roster.models import MemberGridPair, Person
from shangliang.roster.suggestions import suggest_members
from shangliang.tenants.models import Tenant
from shangliang.tenants.operations import save_places
from shangliang.topics.models import Topic

PLACES = "燕子山社区：1 网格，2 网格，3 网格\n立功社区：5 网格，6 网格"
GRIDS = "/t/yanshan/roster/grids"


@pytest.fixture
def street(app, world):
    """燕山街道 on 七步订单 with its communities and grids; members 李明华 (lives in 立功社区),
    张建国 (lives in 燕子山社区 3 网格) and 王秀兰, who sign in, and 刘芳, who does not; 陈静, 网格员
    of 燕子山社区 3 网格 who signs in, and 吴桂芝, 楼院长 of 2 网格."""
    with app.app_context():
        tenant = world.yanshan
        factories.procedure(tenant, "qibu_dingdan")
        with tenant_context(tenant.id):
            save_places(tenant, None, PLACES, "")
        users, people = {}, {}
        for username, name, fields in (("ys-limh", "李明华", {"community": "立功社区", "phone": "13905310101"}),
                                       ("ys-zhangjg", "张建国", {"community": "燕子山社区", "grid": "3 网格"}),
                                       ("ys-wangxl", "王秀兰", {"community": "立功社区"})):
            users[name], people[name] = factories.member(tenant, name, username, **fields)
        people["刘芳"] = factories.person(tenant, "member", "刘芳", community="立功社区")
        users["陈静"] = factories.login(tenant, "grid_worker", "ys-chenj", "陈静")
        people["陈静"] = factories.person(tenant, "grid_worker", "陈静", username="ys-chenj", community="燕子山社区",
                                        grid="3 网格")
        people["吴桂芝"] = factories.person(tenant, "building_head", "吴桂芝", grid="2 网格")
        db.commit()
        return {"tenant": tenant, "users": {k: u.id for k, u in users.items()},
                "people": {k: p.id for k, p in people.items()}}


def post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def pairs(app, street) -> set[tuple[str, str, str]]:
    with app.app_context(), tenant_context(street["tenant"].id):
        rows = db.execute(select(Person.name, MemberGridPair.community, MemberGridPair.grid)
                          .join(Person, Person.id == MemberGridPair.person_id)).all()
    return {tuple(r) for r in rows}


def pair(app, street, name, *grids):
    with app.app_context(), tenant_context(street["tenant"].id):
        tenant = db.get(Tenant, street["tenant"].id)
        person = ops.find_person(street["people"][name])
        pairing.set_pairs(tenant, None, person, [pairing.place_value(*g.split(" ", 1)) for g in grids])
        db.commit()


def audit(app, street, action):
    with app.app_context(), tenant_context(street["tenant"].id):
        return [(r.target, r.detail) for r in db.scalars(select(AuditLog).where(AuditLog.action == action)
                                                          .order_by(AuditLog.at))]


def member_page(street, name):
    return f"/t/yanshan/roster/{street['people'][name]}/grids"


# ---------------------------------------------------------------- setting pairs

def test_staff_pair_a_member_with_one_grid_or_several_on_the_members_page(app, as_user, street):
    staff = as_user("yanshan-staff")
    page = staff.get(member_page(street, "李明华"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "结对网格：李明华" in html and 'value="燕子山社区:3 网格"' in html and "立功社区" in html
    resp = post(staff, member_page(street, "李明华"), grids=["燕子山社区:3 网格", "立功社区:6 网格"])
    assert resp.status_code == 302
    assert pairs(app, street) == {("李明华", "燕子山社区", "3 网格"), ("李明华", "立功社区", "6 网格")}
    html = staff.get(member_page(street, "李明华")).get_data(as_text=True)
    assert re.search(r'value="燕子山社区:3 网格" checked', html) and not re.search(r'value="燕子山社区:1 网格" checked', html)
    # the same form sent twice (a double click) changes nothing the second time
    assert post(staff, member_page(street, "李明华"), grids=["燕子山社区:3 网格", "立功社区:6 网格"]).status_code == 302
    assert len(audit(app, street, "roster.pair.add")) == 2
    # a grid paired with several members (一个网格多名委员)
    post(staff, member_page(street, "王秀兰"), grids=["燕子山社区:3 网格"])
    # unticking ends a pair, in the audit log
    post(staff, member_page(street, "李明华"), grids=["立功社区:6 网格"])
    assert pairs(app, street) == {("李明华", "立功社区", "6 网格"), ("王秀兰", "燕子山社区", "3 网格")}
    assert audit(app, street, "roster.pair.remove") == [
        (str(street["people"]["李明华"]), {"community": "燕子山社区", "grid": "3 网格"})]
    # the roster shows the way there; the member's own edit page says what they are paired with
    roster = staff.get("/t/yanshan/roster/?kind=member").get_data(as_text=True)
    assert member_page(street, "李明华") in roster
    edit = as_user("yanshan-admin").get(f"/t/yanshan/roster/{street['people']['李明华']}").get_data(as_text=True)
    assert "立功社区 6 网格" in edit and "结对网格随之解除" in edit


@pytest.mark.parametrize("value, message", [
    ("燕子山社区:9 网格", "本街道没有这个网格：燕子山社区:9 网格"),
    ("立功社区:3 网格", "本街道没有这个网格：立功社区:3 网格"),  # a grid of another community
    ("3 网格", "本街道没有这个网格：3 网格"),  # typed free, without its community
    ("12345678901234567890", "本街道没有这个网格：12345678901234567890"),
])
def test_a_grid_is_chosen_from_the_streets_list(app, as_user, street, value, message):
    staff = as_user("yanshan-staff")
    resp = post(staff, member_page(street, "李明华"), grids=["燕子山社区:1 网格", value])
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert message in html
    assert re.search(r'value="燕子山社区:1 网格" checked', html)  # what was ticked is kept
    assert pairs(app, street) == set()


def test_who_may_be_paired_and_who_may_pair(app, as_user, street, world):
    staff = as_user("yanshan-staff")
    assert staff.get(member_page(street, "陈静")).status_code == 404  # a grid worker is no member to pair
    assert staff.get("/t/yanshan/roster/00000000-0000-0000-0000-000000000000/grids").status_code == 404
    # a member cannot pair, a grid worker cannot even see the overview
    assert post(as_user("yanshan-member"), member_page(street, "李明华"), grids=["燕子山社区:1 网格"]).status_code == 403
    assert as_user("ys-chenj").get(GRIDS).status_code == 403
    # nothing ticked: no pair, and no error
    assert post(staff, member_page(street, "李明华")).status_code == 302
    assert pairs(app, street) == set()


def test_a_street_without_listed_grids_says_where_to_list_them(app, as_user, world):
    with app.app_context():
        factories.person(world.yanshan, "member", "刘芳")
        db.commit()
    staff = as_user("yanshan-staff")
    assert "本街道还没有登记社区与网格" in staff.get(GRIDS).get_data(as_text=True)
    with app.app_context(), tenant_context(world.yanshan.id):
        person_id = db.scalar(select(Person.id))
    resp = post(staff, f"/t/yanshan/roster/{person_id}/grids", grids=["燕子山社区:1 网格"])
    assert resp.status_code == 400 and "本街道还没有登记社区与网格，请先在“社区与类别”中填写" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- the overview

def test_the_overview_shows_each_grids_members_and_workers_and_flags_the_gaps(app, as_user, street):
    pair(app, street, "李明华", "燕子山社区 3 网格")
    pair(app, street, "王秀兰", "燕子山社区 3 网格", "立功社区 5 网格")
    html = as_user("yanshan-staff").get(GRIDS).get_data(as_text=True)
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr>\s*<td>[^<]*</td>\s*<td[^>]*><strong>([^<]+)</strong>"
                                                        r".*?</tr>", html, re.S)}
    assert set(rows) == {"1 网格", "2 网格", "3 网格", "5 网格", "6 网格"}
    assert "李明华" in rows["3 网格"] and "王秀兰" in rows["3 网格"] and "陈静" in rows["3 网格"]
    assert "未结对委员" not in rows["3 网格"] and "未结对委员" in rows["6 网格"]
    assert "吴桂芝" in rows["2 网格"] and "未结对委员" in rows["2 网格"]
    assert re.search(r"未结对委员 <b>3</b>", html) and re.search(r"全部网格 <b>5</b>", html)
    gaps = as_user("yanshan-staff").get(GRIDS + "?gaps=1").get_data(as_text=True)
    assert "6 网格" in gaps and "<strong>3 网格</strong>" not in gaps
    mine = as_user("yanshan-staff").get(GRIDS + "?community=立功社区").get_data(as_text=True)
    assert "<strong>5 网格</strong>" in mine and "<strong>3 网格</strong>" not in mine
    # members read it (no forms); they see no phone number on it
    member = as_user("yanshan-member").get(GRIDS).get_data(as_text=True)
    assert "李明华" in member and "解除" not in member and "添加结对委员" not in member and "13905310101" not in member


def test_staff_pair_and_unpair_from_the_overview(app, as_user, street):
    staff = as_user("yanshan-staff")
    li = str(street["people"]["李明华"])
    resp = post(staff, GRIDS + "/pair", person_id=li, grid="立功社区:6 网格", gaps="1")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/roster/grids?gaps=1")
    again = post(staff, GRIDS + "/pair", person_id=li, grid="立功社区:6 网格")  # a double submit
    assert again.status_code == 302
    assert "李明华 已与该网格结对" in staff.get(GRIDS).get_data(as_text=True)
    assert pairs(app, street) == {("李明华", "立功社区", "6 网格")}
    with app.app_context(), tenant_context(street["tenant"].id):
        pair_id = db.scalar(select(MemberGridPair.id))
    assert post(staff, f"/t/yanshan/roster/pairs/{pair_id}/remove").status_code == 302
    assert pairs(app, street) == set()
    assert post(staff, f"/t/yanshan/roster/pairs/{pair_id}/remove").status_code == 404  # gone already
    assert [a for a, _d in audit(app, street, "roster.pair.add")] == [li]
    assert [a for a, _d in audit(app, street, "roster.pair.remove")] == [li]


@pytest.mark.parametrize("data, field_message", [
    ({"person_id": "", "grid": "立功社区:6 网格"}, "请选择政协委员"),
    ({"person_id": "12345678901234567890", "grid": "立功社区:6 网格"}, "请选择政协委员"),
    ({"person_id": "LIU", "grid": ""}, "请选择政协委员"),
    ({"grid": "立功社区:7 网格"}, "本街道没有这个网格：立功社区:7 网格"),
    ({"grid": ""}, "本街道没有这个网格："),
    ({"person": "陈静", "grid": "立功社区:6 网格"}, "只有政协委员可以结对网格"),
])
def test_a_refused_pairing_names_what_is_wrong_and_keeps_the_choice(app, as_user, street, data, field_message):
    data = dict(data)
    data.setdefault("person_id", str(street["people"][data.pop("person", "李明华")]))
    resp = post(as_user("yanshan-staff"), GRIDS + "/pair", **data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert field_message in html
    assert pairs(app, street) == set()
    if data["grid"] == "立功社区:6 网格" and data["person_id"] in {str(v) for v in street["people"].values()}:
        assert re.search(r"<details open>", html)  # the row that was being filled stays open


def test_another_streets_member_cannot_be_paired_here(app, as_user, street, world):
    with app.app_context():
        theirs = factories.person(world.guangwumen, "member", "冯刚")
        db.commit()
        theirs_id = str(theirs.id)
    resp = post(as_user("yanshan-admin"), GRIDS + "/pair", person_id=theirs_id, grid="立功社区:6 网格")
    assert resp.status_code == 400 and "请选择政协委员" in resp.get_data(as_text=True)
    assert pairs(app, street) == set()


def test_the_overview_costs_the_same_queries_at_5_and_120_grids(app, as_user, street, query_counter):
    pair(app, street, "李明华", "燕子山社区 3 网格")
    staff = as_user("yanshan-staff")
    staff.get(GRIDS)
    with query_counter() as small:
        assert staff.get(GRIDS).status_code == 200
    many = "\n".join(f"社区{i}：" + "，".join(f"{j} 网格" for j in range(1, 9)) for i in range(15))
    with app.app_context(), tenant_context(street["tenant"].id):
        save_places(db.get(Tenant, street["tenant"].id), None, PLACES + "\n" + many, "")
        tenant = db.get(Tenant, street["tenant"].id)
        for i in range(15):
            ops.create_person(tenant, None, {"kind": "grid_worker", "name": f"网格员{i}", "community": f"社区{i}",
                                             "grid": "1 网格"})
            ops.create_person(tenant, None, {"kind": "member", "name": f"委员{i}"})
        db.commit()
        for i in range(15):
            person = db.scalar(select(Person).where(Person.name == f"委员{i}"))
            pairing.set_pairs(tenant, None, person, [f"社区{i}:1 网格", f"社区{i}:2 网格"])
        db.commit()
    staff.get(GRIDS)  # the street's row changed: read again once, then kept (core/changes.py)
    with query_counter() as large:
        assert staff.get(GRIDS).status_code == 200
    assert len(small) == len(large)
    html = staff.get(GRIDS + "?page=3").get_data(as_text=True)
    assert "第 3 页" in html and "上一页" in html


# ---------------------------------------------------------------- no pair left dangling

def test_deactivating_a_member_or_making_them_another_kind_ends_their_pairs(app, as_user, street):
    pair(app, street, "李明华", "燕子山社区 3 网格", "立功社区 5 网格")
    pair(app, street, "王秀兰", "立功社区 5 网格")
    admin = as_user("yanshan-admin")
    assert post(admin, f"/t/yanshan/roster/{street['people']['李明华']}/active", active="0").status_code == 302
    assert pairs(app, street) == {("王秀兰", "立功社区", "5 网格")}
    ended = audit(app, street, "roster.pair.end")
    assert sorted(d["grid"] for _t, d in ended) == ["3 网格", "5 网格"]
    # restored to the roster, they start with no pairs (staff pair them again)
    post(admin, f"/t/yanshan/roster/{street['people']['李明华']}/active", active="1")
    assert pairs(app, street) == {("王秀兰", "立功社区", "5 网格")}
    with app.app_context(), tenant_context(street["tenant"].id):
        tenant = db.get(Tenant, street["tenant"].id)
        wang = ops.find_person(street["people"]["王秀兰"])
        ops.update_person(tenant, None, wang, {**ops.person_form(wang), "kind": "resident_rep"})
        db.commit()
    assert pairs(app, street) == set()


def test_an_import_that_makes_a_member_another_kind_ends_their_pairs(app, as_user, street, run_jobs):
    admin = as_user("yanshan-admin")

    def upload(kind):
        body = f"编号,类别,姓名,电话\nYS-001,{kind},孟凡,13905319999\n".encode()
        resp = admin.post("/t/yanshan/roster/import", data={"csrf_token": csrf_token(admin),
                                                            "file": (io.BytesIO(body), "名册.csv")},
                          content_type="multipart/form-data")
        assert resp.status_code == 302
        run_jobs()

    upload("政协委员")
    with app.app_context(), tenant_context(street["tenant"].id):
        street["people"]["孟凡"] = db.scalar(select(Person.id).where(Person.name == "孟凡"))
    pair(app, street, "孟凡", "立功社区 6 网格")
    pair(app, street, "李明华", "立功社区 6 网格")
    upload("政协委员")  # unchanged: the pair stays
    assert pairs(app, street) == {("孟凡", "立功社区", "6 网格"), ("李明华", "立功社区", "6 网格")}
    upload("居民代表")
    assert pairs(app, street) == {("李明华", "立功社区", "6 网格")}


def test_a_paired_grid_cannot_leave_the_streets_list(app, as_user, street):
    pair(app, street, "李明华", "燕子山社区 3 网格")
    pair(app, street, "王秀兰", "燕子山社区 3 网格")
    admin = as_user("yanshan-admin")
    typed = "燕子山社区：1 网格，2 网格，三网格\n立功社区：5 网格，6 网格"  # 3 网格 renamed
    resp = post(admin, "/t/yanshan/manage/places", communities=typed, categories="")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "燕子山社区3 网格（李明华、王秀兰）" in html and "请先在名册的“网格结对”中解除结对" in html
    assert "三网格" in html  # what was typed is kept
    with app.app_context(), tenant_context(street["tenant"].id):
        assert pairing.street_places(db.get(Tenant, street["tenant"].id))["燕子山社区"][2] == "3 网格"
    # a grid nobody is paired with goes, and so does a paired one once it is unpaired
    assert post(admin, "/t/yanshan/manage/places", communities=PLACES.replace("，6 网格", ""),
                categories="").status_code == 302
    post(admin, member_page(street, "李明华"))
    post(admin, member_page(street, "王秀兰"))
    assert post(admin, "/t/yanshan/manage/places", communities=typed, categories="").status_code == 302


# ---------------------------------------------------------------- where pairs are read

def test_a_paired_member_is_suggested_before_one_who_merely_lives_there(app, street):
    pair(app, street, "李明华", "燕子山社区 3 网格")
    with app.app_context():
        number = factories.raise_topic(street["tenant"], title="楼道灯不亮", community="燕子山社区",
                                       grid="3 网格").number
        db.commit()
    with app.app_context(), tenant_context(street["tenant"].id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        ranked = suggest_members(db.get(Tenant, street["tenant"].id), topic)
    got = [(p.name, reasons) for p, _score, reasons in ranked]
    assert got == [("李明华", ["结对网格：3 网格", "暂无在办议题"]),
                   ("张建国", ["同社区：燕子山社区", "同网格：3 网格", "暂无在办议题"]),
                   ("王秀兰", ["暂无在办议题"])]  # 刘芳 has no login
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_the_rota_offers_the_members_paired_with_a_grid_stations_grids_first(app, as_user, street):
    pair(app, street, "王秀兰", "燕子山社区 3 网格")
    with app.app_context():
        estation = factories.station(street["tenant"], "燕子山小区庭院网格e站", community="燕子山社区")
        studio = factories.station(street["tenant"], "委员工作室", kind="member_studio")
        db.commit()
        ids = {"e": str(estation.id), "studio": str(studio.id)}

    def picker(url):
        """The assignment form's members in order, and those marked 结对 (not hidden)."""
        html = as_user("yanshan-staff").get(url).get_data(as_text=True)
        form = html[html.index('id="assign"'):]
        labels = re.findall(r'<label data-order="\d+" data-paired-at="[^"]*">(.*?)</label>', form, re.S)
        names = [re.search(r'name="person_ids" value="[^"]+"> (\S+)', label).group(1) for label in labels]
        marked = [name for name, label in zip(names, labels) if re.search(r'class="kind paired-mark"[^>]*" >', label)]
        return names, marked, html

    names, marked, html = picker(f"/t/yanshan/duty/?station={ids['e']}")
    assert names[0] == "王秀兰" and set(names) == {"李明华", "张建国", "王秀兰", "刘芳"}
    assert marked == ["王秀兰"] and "结对 3 网格" in html
    assert re.search(rf'<option value="{ids["e"]}" selected>', html)
    assert f"station={ids['e']}#assign" in html  # each station's row leads to its assignment form
    # a 委员工作室 serves no grid in particular: the roster's order, nobody marked
    names, marked, _html = picker(f"/t/yanshan/duty/?station={ids['studio']}")
    with app.app_context(), tenant_context(street["tenant"].id):
        order = [p.name for p in ops.people_for_choice(("member",))]
    assert names == order and marked == []
    # a refused assignment keeps the station it was for
    resp = post(as_user("yanshan-staff"), "/t/yanshan/duty/assign", station_id=ids["e"])
    assert resp.status_code == 400 and re.search(rf'<option value="{ids["e"]}" selected>', resp.get_data(as_text=True))


def test_a_topic_raised_in_a_grid_tells_the_members_paired_with_it(app, as_user, street):
    pair(app, street, "李明华", "燕子山社区 3 网格")
    pair(app, street, "张建国", "燕子山社区 3 网格")
    pair(app, street, "刘芳", "燕子山社区 3 网格")  # no login: nobody to tell
    pair(app, street, "王秀兰", "立功社区 5 网格")
    worker = as_user("ys-chenj")  # 陈静 raises it in her grid (3 网格)
    resp = post(worker, "/t/yanshan/topics/new", title="楼道堆放杂物", description="2 号楼楼道堆满杂物",
                resident_name="李大爷", resident_phone="13800001111", channel="", grid="", community="",
                category="", urgency="normal", place="")
    assert resp.status_code == 302
    number = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context(), tenant_context(street["tenant"].id):
        told = {n.user_id: n for n in db.scalars(select(Notification).where(Notification.kind == "topic.paired_grid"))}
        assert set(told) == {street["users"]["李明华"], street["users"]["张建国"]}
        note = told[street["users"]["李明华"]]
        assert note.title == f"您结对的3 网格有新议题：#{number} 楼道堆放杂物"  # she names no community
        assert note.link == f"/t/yanshan/topics/{number}"
        assert "李大爷" not in note.title + note.body and "13800001111" not in note.title + note.body
    # the paired member who raises a topic in their grid is not told of their own topic
    member = as_user("ys-zhangjg")
    post(member, "/t/yanshan/topics/new", title="路灯不亮", description="", channel="door_visit", grid="3 网格",
         community="燕子山社区", category="", urgency="normal", place="", resident_name="", resident_phone="")
    with app.app_context(), tenant_context(street["tenant"].id):
        titles = [(n.user_id, n.title) for n in db.scalars(select(Notification).where(
            Notification.kind == "topic.paired_grid", Notification.title.like("%路灯不亮%")))]
    assert titles == [(street["users"]["李明华"], titles[0][1])]


def test_a_grid_workers_home_shows_the_members_paired_with_their_grid(app, as_user, street):
    pair(app, street, "李明华", "燕子山社区 3 网格")
    pair(app, street, "王秀兰", "燕子山社区 1 网格")
    home = as_user("ys-chenj").get("/t/yanshan/manage/").get_data(as_text=True)
    card = home[home.index("结对委员"):]
    assert "燕子山社区 3 网格" in card and "李明华" in card and "王秀兰" not in card
    assert "13905310101" not in home and "联系方式请向街道政协委员联络室了解" in card  # grid roles see no phones
    # a building head's grid without a paired member says so
    with app.app_context():
        factories.login(street["tenant"], "building_head", "ys-wugz", "吴桂芝")
        with tenant_context(street["tenant"].id):
            tenant = db.get(Tenant, street["tenant"].id)
            head = ops.find_person(street["people"]["吴桂芝"])
            ops.update_person(tenant, None, head, {**ops.person_form(head), "username": "ys-wugz"})
        db.commit()
    home = as_user("ys-wugz").get("/t/yanshan/manage/").get_data(as_text=True)
    assert "燕子山社区 2 网格" in home and "还没有政协委员与这个网格结对" in home
