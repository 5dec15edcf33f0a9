"""A photo uploaded at a step that asks for one counts as its evidence once checked, unless the
person unticks the box (issue 15: it stayed "照片 1 张" outstanding until a second click); a file
whose check ends after the topic moved on stays a file, recorded by hand if wanted."""
from __future__ import annotations

import re

from sqlalchemy import select

from conftest import uploaded_key
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics.models import Topic, TopicEvent
from support.uploads import upload
from test_topic_pages import PNG, act, page_of, raise_topic, staff  # noqa: F401  (the fixture)


def at_jiedan(app, world, client) -> object:
    """Topic #1 of 七步订单 at 接单 with its fields recorded: only the site photo (实地走访) is missing."""
    assert raise_topic(client).status_code == 302
    assert act(client, "advance", to="jiedan").status_code == 302
    assert act(client, "record", category="公共设施", urgency="normal", place="2 号楼").status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        return db.scalar(select(Topic.id).where(Topic.number == 1))


def attached(app, world) -> list[dict]:
    with app.app_context(), tenant_context(world.yanshan.id):
        return [dict(e.data, actor_id=e.actor_id, step=e.from_step or e.to_step) for e in db.scalars(
            select(TopicEvent).join(Topic, Topic.id == TopicEvent.topic_id)
            .where(Topic.number == 1, TopicEvent.action == "attach").order_by(TopicEvent.seq))]


def test_a_photo_uploaded_at_a_step_asking_for_one_counts_as_its_evidence(app, world, staff, run_jobs):
    topic_id = at_jiedan(app, world, staff)
    box = re.search(r'<input type="checkbox" data-as-evidence[^>]*>', page_of(staff)).group(0)
    assert "checked" in box  # the step asks for a photo: ticked
    assert "照片 1 张" in page_of(staff)
    att_id = upload(staff, "yanshan", "topic", topic_id, PNG, "现场.png", as_evidence=True)
    run_jobs()
    assert [(a["attachment_id"], a["kind"], a["actor_id"]) for a in attached(app, world)] == \
        [(att_id, "photo", world.users["yanshan-staff"].id)]
    assert act(staff, "advance", to="candan").status_code == 302  # nothing outstanding: on it goes


def test_unticked_it_is_only_a_file(app, world, staff, run_jobs):
    topic_id = at_jiedan(app, world, staff)
    upload(staff, "yanshan", "topic", topic_id, PNG, "现场.png", as_evidence=False)
    run_jobs()
    assert attached(app, world) == []
    resp = act(staff, "advance", to="candan")
    assert resp.status_code == 400 and "照片 1 张" in resp.get_data(as_text=True)


def test_a_check_that_ends_after_the_topic_moved_on_records_nothing_at_the_new_step(app, world, staff, request):
    topic_id = at_jiedan(app, world, staff)
    late = upload(staff, "yanshan", "topic", topic_id, PNG, "晚到的.png", as_evidence=True)
    with app.app_context():  # meanwhile another photo, already checked, is recorded by hand
        key = uploaded_key(world.yanshan.id, owner_id=topic_id)
    assert act(staff, "attach", key=key).status_code == 302
    assert act(staff, "advance", to="candan").status_code == 302  # 接单 → 参单
    request.getfixturevalue("run_jobs")()  # a worker from now on: the late one passes after the move
    assert [a["key"] for a in attached(app, world)] == [key]
    assert late in page_of(staff)  # a file of the topic still, to record by hand if wanted


def test_only_a_file_uploaded_during_the_steps_present_visit_is_recorded(app, world, staff):
    """The rule itself: uploaded before the topic entered its step (an earlier visit of it, or the
    step before), a file is not evidence of this one."""
    from datetime import timedelta

    from shangliang.files.models import Attachment
    from shangliang.files.topic_files import record_evidence
    from shangliang.tenants.models import Tenant

    topic_id = at_jiedan(app, world, staff)
    with app.app_context(), tenant_context(world.yanshan.id):
        tenant, topic = db.get(Tenant, world.yanshan.id), db.scalar(select(Topic).where(Topic.id == topic_id))
        key = uploaded_key(world.yanshan.id, owner_id=topic_id)
        att = db.scalar(select(Attachment).where(Attachment.key == key))
        att.as_evidence, att.created_by = True, world.users["yanshan-staff"].id
        att.created_at = topic.step_entered_at - timedelta(seconds=1)
        record_evidence(tenant, topic, att)
        assert not [e for e in db.scalars(select(TopicEvent).where(TopicEvent.topic_id == topic_id))
                    if e.action == "attach"]
        att.created_at = topic.step_entered_at + timedelta(seconds=1)
        record_evidence(tenant, topic, att)
        db.commit()
    assert [a["key"] for a in attached(app, world)] == [key]
