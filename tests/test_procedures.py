"""Procedures as data: checks that name the step and field, versions, comparison, and the pages."""
from __future__ import annotations

import pytest

from conftest import csrf_token
from shangliang.procedures.schema import ProcedureInvalid, parse
from support.procedures import SMALL


def problems_of(text):
    with pytest.raises(ProcedureInvalid) as err:
        parse(text)
    return err.value.problems


def test_a_good_procedure_parses():
    d = parse(SMALL)
    assert [s["key"] for s in d["steps"]] == ["dian", "shang", "ping", "shou"]
    assert d["steps"][0]["evidence"]["fields"] == ["category", "description"]
    assert d["steps"][2]["transitions"][1] == {"kind": "reopen", "to": "shang", "max_rounds": 3}


@pytest.mark.parametrize("change, where, words", [
    (("time_limit: {hours: 24}", "time_limit: {hours: 24, working_days: 1}"), "steps[dian].time_limit.hours", "之一"),
    (("roles: [street_admin]", "roles: [mayor]"), "steps[shou].roles.0", "one of"),
    (("to: ping}", "to: nowhere}"), "steps[shang].transitions[0].to", "没有步骤 nowhere"),
    (("phase: deliberation", "phase: chatting"), "steps[shang].phase", "one of"),
    (("{kind: reopen, to: shang, max_rounds: 3}", "{kind: reopen, to: shang}"),
     "steps[ping].transitions[1].max_rounds", "轮数"),
    (("evidence: {rating: true}", "evidence: {rating: false}"), "steps[ping].transitions[1]", "满意度"),
    (("key: shou", "key: dian"), "steps[dian]", "重复"),
    (("phase: closure", "phase: execution"), "steps", "办结"),
    (("{kind: transfer, to: shang}", "{kind: transfer, to: shang, level: county}"),
     "steps[shang].transitions[2].level", "提请"),
    (("{kind: escalate}", "{kind: escalate, level: province}"), "steps[shang].transitions[1].level", "one of"),
])
def test_problems_name_the_step_and_the_field(change, where, words):
    found = problems_of(SMALL.replace(*change))
    assert any(w == where and words in m for w, m in found), found


def test_unreachable_steps_and_dead_ends_are_named():
    text = SMALL + """
  - key: island
    name: {zh: 孤岛, en: Island}
    phase: execution
    roles: [staff]
    transitions: [{kind: advance, to: island}]
"""
    found = dict(problems_of(text))
    assert "无法到达此步骤" in found["steps[island]"] or "无法到达办结" in found["steps[island]"]


def test_a_step_that_cannot_reach_closure_is_named():
    text = SMALL.replace("transitions: [{kind: advance, to: ping}, {kind: escalate}, {kind: transfer, to: shang}]",
                         "transitions: [{kind: transfer, to: shang}]")
    found = dict(problems_of(text))
    assert found["steps[shang]"] == "从此步骤无法到达办结"


def test_broken_yaml_names_the_line():
    found = problems_of("key: x\nsteps: [\n")
    assert found[0][0].startswith("line ")


# ---------------------------------------------------------------- versions through the pages

def publish(client, text, base, note="", action="publish", confirm="1"):
    """Publishing asks for confirmation first (editor.py): `confirm` is the answer given."""
    return client.post("/t/yanshan/manage/procedure/edit", data={
        "csrf_token": csrf_token(client), "text": text, "base": base, "note": note, "action": action,
        "confirm": confirm})


def test_publish_versions_and_compare(as_user, world):
    c = as_user("yanshan-admin")
    page = c.get("/t/yanshan/manage/procedure/").get_data(as_text=True)
    assert "还没有发布工作法" in page
    assert publish(c, SMALL, 0, "first").status_code == 302
    page = c.get("/t/yanshan/manage/procedure/").get_data(as_text=True)
    assert "小流程" in page and "第 1 版" in page and "商单" in page

    changed = SMALL.replace("{zh: 商单, en: Consult}", "{zh: 议事会, en: Meeting}").replace(
        "time_limit: {working_days: 5}", "time_limit: {working_days: 3}")
    preview = publish(c, changed, 1, action="preview").get_data(as_text=True)
    assert "预览" in preview and "议事会" in preview and "5 个工作日" in preview and "3 个工作日" in preview
    assert publish(c, changed, 1, "shorter").status_code == 302

    diff = c.get("/t/yanshan/manage/procedure/compare?a=1&b=2").get_data(as_text=True)
    assert '商单 / <span lang="en">Consult</span>' in diff and '议事会 / <span lang="en">Meeting</span>' in diff and "时限" in diff
    assert c.get("/t/yanshan/manage/procedure/v/1").status_code == 200
    assert c.get("/t/yanshan/manage/procedure/v/3").status_code == 404


def test_invalid_publish_is_refused_with_its_problems_and_changes_nothing(app, as_user, world):
    c = as_user("yanshan-admin")
    publish(c, SMALL, 0)
    bad = SMALL.replace("to: ping}", "to: nowhere}")
    resp = publish(c, bad, 1)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "steps[shang].transitions[0].to" in html and "没有步骤 nowhere" in html
    assert "to: nowhere" in html  # the text is kept for fixing, nothing lost
    with app.app_context():
        from shangliang.core.tenancy import tenant_context
        from shangliang.procedures.operations import current_version

        with tenant_context(world.yanshan.id):
            assert current_version(world.yanshan).number == 1


def test_publishing_over_someone_elses_new_version_is_refused(as_user, world):
    first, second = as_user("yanshan-admin"), as_user("lixia-admin")
    publish(first, SMALL, 0)
    assert publish(first, SMALL.replace("小流程", "甲"), 1).status_code == 302
    resp = publish(second, SMALL.replace("小流程", "乙"), 1)  # started from v1, v2 exists now
    assert resp.status_code == 409 and "第 2 版" in resp.get_data(as_text=True)


def test_versions_are_immutable(app, as_user, world):
    from sqlalchemy import select
    from sqlalchemy.exc import DatabaseError

    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.models import ProcedureVersion

    publish(as_user("yanshan-admin"), SMALL, 0)
    with app.app_context(), tenant_context(world.yanshan.id):
        row = db.scalars(select(ProcedureVersion)).one()
        row.name = "changed"
        with pytest.raises(DatabaseError, match="append-only"):
            db.flush()
        db.rollback()


def test_staff_see_the_procedure_but_may_not_change_it(as_user, world):
    publish(as_user("yanshan-admin"), SMALL, 0)
    staff = as_user("yanshan-staff")
    page = staff.get("/t/yanshan/manage/procedure/").get_data(as_text=True)
    assert "小流程" in page and "修改并发布新版本" not in page
    assert staff.get("/t/yanshan/manage/procedure/edit").status_code == 403
    assert publish(staff, SMALL, 1).status_code == 403


def test_a_huge_text_is_refused_with_the_limit(as_user, world):
    resp = publish(as_user("yanshan-admin"), "#" * 100_001, 0)
    assert resp.status_code == 400 and "内容过长" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- the form editor

def test_removing_a_step_sends_its_paths_on(world):
    from shangliang.procedures import editing

    d = editing.remove_step(parse(SMALL), "shang")
    assert [s["key"] for s in d["steps"]] == ["dian", "ping", "shou"]
    dian = d["steps"][0]["transitions"]
    assert {"kind": "advance", "to": "ping"} in dian
    assert all(t.get("to") != "shang" for s in d["steps"] for t in s["transitions"])
    # ping's reopen led back to the removed step, whose path led to ping itself: dropped, not a loop
    assert [t["kind"] for t in d["steps"][1]["transitions"]] == ["advance"]
    parse(editing.to_yaml(d))  # still a valid procedure


def test_inserting_a_step_puts_it_on_the_path(world):
    from shangliang.procedures import editing

    d = editing.insert_step(parse(SMALL), "ping", key="huifang", zh="回访", en="Follow-up", phase="evaluation",
                            roles=["staff"])
    keys = [s["key"] for s in d["steps"]]
    assert keys == ["dian", "shang", "ping", "huifang", "shou"]
    assert {"kind": "advance", "to": "huifang"} in d["steps"][2]["transitions"]
    assert d["steps"][3]["transitions"] == [{"kind": "advance", "to": "shou"}]
    assert [s["key"] for s in parse(editing.to_yaml(d))["steps"]] == keys


def test_the_form_editor_renames_retimes_and_publishes(as_user, world):
    c = as_user("yanshan-admin")
    publish(c, SMALL, 0)
    form = {"csrf_token": csrf_token(c), "base": 1, "text": SMALL, "action": "form:steps"}
    for key, zh, en, amount, unit in (("dian", "点单", "Order", "24", "hours"), ("shang", "议事会", "Meeting", "7",
                                                                                "working_days"),
                                      ("ping", "评单", "Rate", "", "none"), ("shou", "收单", "Close", "", "none")):
        form.update({f"{key}.zh": zh, f"{key}.en": en, f"{key}.amount": amount, f"{key}.unit": unit})
    form.update({"dian.roles": ["staff", "resident"], "shang.roles": ["member", "staff"],
                 "ping.roles": ["resident", "staff"], "shou.roles": ["street_admin"]})
    resp = c.post("/t/yanshan/manage/procedure/edit", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "预览" in html and "议事会" in html and "7 个工作日" in html
    import re
    import html as htmllib

    text = htmllib.unescape(re.search(r'<textarea id="yaml"[^>]*>(.*?)</textarea>', html, re.S).group(1))
    assert publish(c, text, 1, "改名").status_code == 302
    diff = c.get("/t/yanshan/manage/procedure/compare?a=1&b=2").get_data(as_text=True)
    assert '商单 / <span lang="en">Consult</span>' in diff and '议事会 / <span lang="en">Meeting</span>' in diff


def test_the_form_editor_names_a_bad_entry(as_user, world):
    c = as_user("yanshan-admin")
    publish(c, SMALL, 0)
    resp = c.post("/t/yanshan/manage/procedure/edit", data={
        "csrf_token": csrf_token(c), "base": 1, "text": SMALL, "action": "insert", "new.after": "ping",
        "new.zh": "", "new.en": "Dup", "new.phase": "evaluation", "new.roles": ["staff"]})
    assert resp.status_code == 400 and "插入步骤：请填写新步骤的中文名称" in resp.get_data(as_text=True)
    resp = c.post("/t/yanshan/manage/procedure/edit", data={
        "csrf_token": csrf_token(c), "base": 1, "text": SMALL, "action": "form:remove:dian"})
    assert resp.status_code == 400  # without its first step the procedure is refused, problems named
    assert "intake" in resp.get_data(as_text=True) or "无法到达" in resp.get_data(as_text=True)


def test_a_default_limit_is_shown_as_one_until_the_street_sets_its_own(as_user, world):
    c = as_user("yanshan-admin")
    marked = SMALL.replace("time_limit: {working_days: 5}", "time_limit: {working_days: 5, default: true}")
    publish(c, marked, 0)
    page = c.get("/t/yanshan/manage/procedure/").get_data(as_text=True)
    assert "默认值，可调整" in page

    from shangliang.procedures.editing import update_step

    definition = parse(marked)
    kept = update_step(definition, "shang", zh="商单", en="Consult", amount="5", unit="working_days",
                       roles=["member"])
    assert next(s for s in kept["steps"] if s["key"] == "shang")["time_limit"] == {"working_days": 5,
                                                                                   "default": True}
    own = update_step(definition, "shang", zh="商单", en="Consult", amount="4", unit="working_days",
                      roles=["member"])
    assert next(s for s in own["steps"] if s["key"] == "shang")["time_limit"] == {"working_days": 4}


def test_adopting_a_template_names_it_in_words(as_user, world):
    c = as_user("yanshan-admin")
    resp = c.post("/t/yanshan/manage/procedure/adopt", data={"csrf_token": csrf_token(c), "template": "qibu_dingdan",
                                                             "confirm": "1"})
    assert resp.status_code == 302
    page = c.get("/t/yanshan/manage/procedure/").get_data(as_text=True)
    assert "采用模板《七步订单》" in page and "采用模板 qibu_dingdan" not in page
