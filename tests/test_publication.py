"""办理公示 is reviewed, not automatic: a concluded topic is public only once staff publish its
public text and the photos they chose; never with the resident's name or phone."""
from __future__ import annotations

import re

from sqlalchemy import select

import factories
from conftest import csrf_token, uploaded_key
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics.models import Topic


def post(client, url, **form):
    return client.post(url, data={"csrf_token": csrf_token(client), **form})


def concluded(app, world, **intake) -> int:
    """A topic through SMALL to its end, with a photo recorded at 点单 and one at 收单."""
    with app.app_context():
        factories.procedure(world.yanshan)
        topic = factories.raise_topic(world.yanshan, **intake)
        photo = {"key": uploaded_key(world.yanshan.id), "kind": "photo"}
        factories.act(world.yanshan, topic, "attach", data=photo)  # at 点单
        for _ in range(3):  # 点单 → 商单 → 评单 → 收单
            factories.advance(world.yanshan, topic)
        factories.act(world.yanshan, topic, "attach", data={**photo, "key": uploaded_key(world.yanshan.id)})
        factories.advance(world.yanshan, topic)  # 收单: closed as done
        db.commit()
        assert topic.status == "closed" and topic.closed_as == "done"
        return topic.number


def photo_seqs(html: str, number: int) -> list[int]:
    return [int(s) for s in re.findall(rf"/gongshi/{number}/photos/(\d+)", html)]


def test_a_concluded_topic_is_public_only_once_staff_publish_it(app, client, as_user, world):
    number = concluded(app, world, title="立功小区路灯", resident_name="王秀英", resident_phone="13912345678")
    assert "立功小区路灯" not in client.get("/t/yanshan/gongshi").get_data(as_text=True)  # not yet reviewed
    staff = as_user("yanshan-staff")
    queue = staff.get("/t/yanshan/publication/").get_data(as_text=True)
    assert "立功小区路灯" in queue
    url = f"/t/yanshan/publication/{number}"
    resp = post(staff, url, do="publish", title="立功小区路灯", text="王秀英反映的路灯已修好")
    assert resp.status_code == 400 and "不能包含居民姓名" in resp.get_data(as_text=True)
    assert "王秀英反映的路灯已修好" in resp.get_data(as_text=True)  # what was typed is kept
    resp = post(staff, url, do="publish", title="立功小区路灯", text="联系电话 13912345678")
    assert resp.status_code == 400 and "不能包含电话号码" in resp.get_data(as_text=True)
    resp = post(staff, url, do="publish", title="", text="已修好")
    assert resp.status_code == 400 and "公示标题" in resp.get_data(as_text=True)

    with app.app_context(), tenant_context(world.yanshan.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        from shangliang.topics.publication import photos_of

        seqs = [seq for seq, _ in photos_of([topic])[topic.id]]
    assert len(seqs) == 2
    resp = post(staff, url, do="publish", title="立功小区路灯修好了", text="街道城管中心更换了 6 盏路灯",
                photos=str(seqs[1]), confirm="1")
    assert resp.status_code == 302
    page = client.get("/t/yanshan/gongshi").get_data(as_text=True)
    assert "立功小区路灯修好了" in page and "更换了 6 盏路灯" in page
    assert "王秀英" not in page and "13912345678" not in page
    assert photo_seqs(page, number) == [seqs[1]]  # only the photo chosen
    assert client.get(f"/t/yanshan/gongshi/{number}/photos/{seqs[0]}").status_code == 404
    assert "立功小区路灯修好了" in client.get("/t/yanshan/").get_data(as_text=True)  # the portal's latest


def test_a_topic_can_be_withheld_with_a_reason_and_leaves_the_portal(app, client, as_user, world):
    number = concluded(app, world, title="邻里纠纷")
    staff = as_user("yanshan-staff")
    url = f"/t/yanshan/publication/{number}"
    resp = post(staff, url, do="withhold", reason="")
    assert resp.status_code == 400 and "请说明不予公示的理由" in resp.get_data(as_text=True)
    assert post(staff, url, do="publish", title="邻里纠纷", text="已调解", confirm="1").status_code == 302
    assert "邻里纠纷" in client.get("/t/yanshan/gongshi").get_data(as_text=True)
    assert post(staff, url, do="withhold", reason="涉及家庭隐私").status_code == 302
    assert "邻里纠纷" not in client.get("/t/yanshan/gongshi").get_data(as_text=True)
    assert "邻里纠纷" not in staff.get("/t/yanshan/publication/").get_data(as_text=True)  # reviewed
    timeline = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "不予公示" in timeline and "涉及家庭隐私" in timeline


def test_only_staff_of_the_street_review_and_only_concluded_topics(app, as_user, world):
    number = concluded(app, world)
    url = f"/t/yanshan/publication/{number}"
    assert post(as_user("yanshan-member"), url, do="publish", title="x", text="y").status_code == 403
    assert post(as_user("guangwumen-staff"), url, do="publish", title="x", text="y").status_code == 404
    with app.app_context():
        open_one = factories.raise_topic(world.yanshan).number
        db.commit()
    resp = post(as_user("yanshan-staff"), f"/t/yanshan/publication/{open_one}", do="publish", title="x", text="y")
    assert resp.status_code == 409 and "只有办结的议题可以公示" in resp.get_data(as_text=True)


def test_a_photo_value_that_is_not_one_of_the_topics_is_refused(app, as_user, world):
    number = concluded(app, world)
    url = f"/t/yanshan/publication/{number}"
    staff = as_user("yanshan-staff")
    for photos in ("not-a-seq", "99999999999999999999"):
        resp = post(staff, url, do="publish", title="路灯", text="已修好", photos=photos)
        assert resp.status_code == 400 and "所选照片不属于这个议题" in resp.get_data(as_text=True)


def test_publishing_shows_what_becomes_public_and_publishes_only_once_confirmed(app, client, as_user, world):
    from html import unescape

    number = concluded(app, world, title="立功小区路灯", resident_name="王秀英", resident_phone="13912345678")
    with app.app_context(), tenant_context(world.yanshan.id):
        from shangliang.topics.publication import photos_of

        topic = db.scalar(select(Topic).where(Topic.number == number))
        seqs = [seq for seq, _ in photos_of([topic])[topic.id]]
    staff = as_user("yanshan-staff")
    url = f"/t/yanshan/publication/{number}"
    typed = {"do": "publish", "title": "立功小区路灯修好了", "text": "街道城管中心更换了 6 盏路灯", "photos": [str(s) for s in seqs]}
    asked = post(staff, url, **typed)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"公示 #{number}？" in page and "data-confirm" in page
    assert "公示后，居民在门户的“办理公示”中立即能看到" in page
    assert "立功小区路灯修好了" in page and "更换了 6 盏路灯" in page and "2 张" in page
    assert "不会公开：居民的称呼和电话" in page and "王秀英" not in page and "13912345678" not in page
    assert page.count('class="confirm-photos"') == 1 and page.count("<img src=") >= 2
    # nothing is public yet, nor marked published
    assert "立功小区路灯修好了" not in client.get("/t/yanshan/gongshi").get_data(as_text=True)
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(Topic.published_at).where(Topic.number == number)) is None
    # 返回修改 brings the form back as typed, one photo unticked staying unticked
    form = page[page.index('id="confirm"'):]
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form)
    assert ("photos", str(seqs[0])) in hidden and ("confirm", "1") in hidden
    back = post(staff, url, do="edit", title=typed["title"], text=typed["text"], photos=str(seqs[1]))
    html = unescape(back.get_data(as_text=True))
    assert back.status_code == 200 and 'value="立功小区路灯修好了"' in html and "更换了 6 盏路灯" in html
    assert f'value="{seqs[0]}">' in html and f'value="{seqs[1]}" checked>' in html
    # confirmed: published, and the message says what residents see
    done = staff.post(url, data={"csrf_token": csrf_token(staff), **typed, "confirm": "1"}, follow_redirects=True)
    assert f"#{number} 已公示：居民在门户的“办理公示”中能看到标题、内容和 2 张照片，看不到居民的称呼和电话" in \
        done.get_data(as_text=True)
    assert "立功小区路灯修好了" in client.get("/t/yanshan/gongshi").get_data(as_text=True)
