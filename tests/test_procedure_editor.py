"""The procedure editor as a street administrator uses it (issue 15): the form is the editor, a
refusal keeps every edit and names the step by number and name and the field in words, YAML is an
export and import without the template files' notes, no identifier reaches the page, and publishing
or adopting asks first what will change, then says what did."""
from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest

import factories
from conftest import csrf_token
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.procedures.schema import parse
from support.procedures import SMALL

EDIT = "/t/yanshan/manage/procedure/edit"
INDEX = "/t/yanshan/manage/procedure/"
TEMPLATES = Path(__file__).resolve().parents[1] / "tenants" / "procedures"
STEPS = {"dian": ("点单", "Order", "24", "hours", ["staff", "resident"]),
         "shang": ("商单", "Consult", "5", "working_days", ["member", "staff"]),
         "ping": ("评单", "Rate", "", "none", ["resident", "staff"]),
         "shou": ("收单", "Close", "", "none", ["street_admin"])}


@pytest.fixture
def street(app, world):
    with app.app_context():
        factories.procedure(world.yanshan)
        db.commit()
    return world.yanshan


def form_of(client, **changes):
    """The editor's form for SMALL as the page sends it (names, time limits, roles), with `changes`."""
    form = {"csrf_token": csrf_token(client), "base": 1, "text": SMALL, "action": "preview"}
    for key, (zh, en, amount, unit, roles) in STEPS.items():
        form.update({f"{key}.zh": zh, f"{key}.en": en, f"{key}.amount": amount, f"{key}.unit": unit,
                     f"{key}.roles": roles})
    form.update(changes)
    return form


def value_of(html, name):
    found = re.search(rf'name="{re.escape(name)}"[^>]*? value="([^"]*)"', html)
    return htmllib.unescape(found.group(1)) if found else None


def visible(html):
    """What a person reads: no hidden fields (the draft travels in one), no attributes, and not the
    YAML section (folded away, for advanced users: YAML's words are its keys)."""
    html = re.sub(r'<input type="hidden"[^>]*>', "", html)
    html = re.sub(r'<details class="card advanced".*?</details>', "", html, flags=re.S)
    return re.sub(r'(class|name|value|id|for|href)="[^"]*"', "", html)


def versions(app, street):
    with app.app_context(), tenant_context(street.id):
        from shangliang.procedures.operations import current_version

        return current_version(street).number


def test_a_refusal_keeps_every_edit_and_names_the_step_and_the_field(app, as_user, street):
    c = as_user("yanshan-admin")
    resp = c.post(EDIT, data=form_of(c, **{"shang.amount": "3", "dian.zh": "群众点单", "shang.roles": []}))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "第 2 步「商单」：请至少选择一个可办理的角色" in page
    assert value_of(page, "shang.amount") == "3" and value_of(page, "dian.zh") == "群众点单"  # nothing lost
    assert "shang.roles 至少" not in page and "至少选择一个可操作角色" not in page
    assert versions(app, street) == 1

    resp = c.post(EDIT, data=form_of(c, **{"shang.amount": "三", "shang.zh": "议事会"}))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "第 2 步「议事会」：时限请填写" in page  # named as it was just typed
    assert value_of(page, "shang.amount") == "三" and value_of(page, "shang.zh") == "议事会"


def test_a_problem_the_procedure_checks_find_is_named_in_words(as_user, street):
    c = as_user("yanshan-admin")
    form = form_of(c, **{"ping.t.count": "3", "ping.t0.kind": "advance", "ping.t0.to": "shou",
                         "ping.t1.kind": "reopen", "ping.t1.to": "shang", "ping.t1.rounds": "",
                         "shou.phase": "execution"})
    page = c.post(EDIT, data=form).get_data(as_text=True)
    assert "第 3 步「评单」：第 2 条去向（复盘）请填写最多轮数（1–20）" in page
    form["ping.t1.rounds"] = "2"
    page = c.post(EDIT, data=form).get_data(as_text=True)
    assert "没有办结阶段的步骤" in page and "closure" not in visible(page)
    assert value_of(page, "ping.t1.rounds") == "2"


def test_the_form_edits_evidence_paths_and_phases_and_the_preview_follows(as_user, street):
    c = as_user("yanshan-admin")
    form = form_of(c, **{"shang.evidence": "1", "shang.evidence.fields": ["plan", "department"],
                         "shang.evidence.photos": "2", "shang.evidence.consultation_record": "1",
                         "dian.amount": "48"})
    resp = c.post(EDIT, data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200, page
    draft = parse(htmllib.unescape(value_of(page, "text")))
    shang = draft["steps"][1]
    assert shang["evidence"]["fields"] == ["plan", "department"] and shang["evidence"]["photos"] == 2
    assert draft["steps"][0]["time_limit"] == {"hours": 48}
    preview = visible(page.split('id="preview"')[1])
    assert "解决方案、部门或单位" in preview and "照片 2 张" in preview and "48 小时" in preview
    for identifier in ("plan", "department", "consultation_record", "deliberation"):
        assert identifier not in preview


def test_a_step_is_inserted_without_typing_an_identifier(as_user, street):
    c = as_user("yanshan-admin")
    form = form_of(c, action="insert", **{"new.after": "ping", "new.zh": "回访", "new.en": "",
                                          "new.phase": "evaluation", "new.roles": ["staff"]})
    page = c.post(EDIT, data=form).get_data(as_text=True)
    names = [s["name"]["zh"] for s in parse(htmllib.unescape(value_of(page, "text")))["steps"]]
    assert names == ["点单", "商单", "评单", "回访", "收单"] and "第 4 步「回访」" in page


@pytest.mark.parametrize("key", ["four_plus_x", "qibu_dingdan", "sihuan_babu", "tiyi_banping",
                                 "sanji_liangti_yizhuan"])
def test_no_comment_of_a_template_file_reaches_a_page_or_an_export(as_user, world, key):
    c = as_user("yanshan-admin")
    notes = [line.lstrip("# ").strip() for line in (TEMPLATES / f"{key}.yaml").read_text("utf-8").splitlines()
             if line.lstrip().startswith("#") and len(line.lstrip("# ").strip()) > 6]
    assert notes
    exported = c.get(f"/t/yanshan/manage/procedure/export?template={key}")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    for text in (c.get(f"{EDIT}?template={key}").get_data(as_text=True), exported.get_data(as_text=True)):
        assert "tenants/procedures" not in text and "our default" not in text and "assumption" not in text
        for note in notes:
            assert htmllib.escape(note) not in text and note not in text
    assert parse(exported.get_data(as_text=True))["key"] == key  # the export reads back as the procedure


def test_the_version_note_and_the_pages_name_things_in_words(as_user, world):
    c = as_user("yanshan-admin")
    c.post("/t/yanshan/manage/procedure/adopt", data={"csrf_token": csrf_token(c), "template": "four_plus_x",
                                                      "confirm": "1"})
    page = c.get(INDEX).get_data(as_text=True)
    assert "采用模板《4+X 协商》" in page and "采用模板 four_plus_x" not in page
    flow = page.split('class="flow"')[1].split("</ol>")[0]
    for identifier in ("channel", "description", "community", "summary", "department", "staff", "member",
                       "zhengji", "intake"):
        assert identifier not in visible(flow), identifier
    assert "渠道、情况说明、社区" in flow


def test_the_comparison_names_phases_roles_and_paths_in_words(as_user, street):
    c = as_user("yanshan-admin")
    changed = SMALL.replace("roles: [member, staff]", "roles: [member]").replace(
        "phase: deliberation", "phase: execution")
    assert c.post(EDIT, data={"csrf_token": csrf_token(c), "text": changed, "base": 1, "action": "publish",
                              "confirm": "1"}).status_code == 302
    page = c.get("/t/yanshan/manage/procedure/compare?a=1&b=2").get_data(as_text=True)
    table = page.split("<table")[1]
    assert "政协委员、工作人员" in table and "协商" in table and "办理" in table
    assert "deliberation" not in table and "staff" not in table and "advance" not in table


def test_publishing_asks_first_what_will_change_and_then_says_what_did(app, as_user, street):
    with app.app_context():
        for i in range(3):
            factories.raise_topic(street, title=f"在办议题 {i}")
        db.commit()
    c = as_user("yanshan-admin")
    form = form_of(c, action="publish", note="商单时限改为 3 个工作日", **{"shang.amount": "3"})
    resp = c.post(EDIT, data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and versions(app, street) == 1  # nothing published yet
    assert "发布后，新登记的议题按「小流程」第 2 版办理；已在办的 3 件议题仍按原版本办完。" in page
    assert "确认发布" in page and "3 个工作日" in page
    ask = next(f for f in re.findall(r"<form.*?</form>", page, re.S) if 'name="confirm"' in f)
    confirmed = {k: htmllib.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', ask)}
    assert confirmed["confirm"] == "1" and confirmed["action"] == "publish"
    resp = c.post(EDIT, data=confirmed)
    assert resp.status_code == 302 and versions(app, street) == 2
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已发布第 2 版「小流程」：新登记的议题按此版本办理；已在办的 3 件议题仍按原版本办完。" in page
    assert "商单时限改为 3 个工作日" in page


def test_adopting_a_template_asks_first_and_changes_nothing_until_confirmed(app, as_user, street):
    c = as_user("yanshan-admin")
    resp = c.post("/t/yanshan/manage/procedure/adopt", data={"csrf_token": csrf_token(c), "template": "qibu_dingdan"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and versions(app, street) == 1
    assert "采用后，「七步订单」将作为第 2 版发布，取代当前的「小流程」（第 1 版）" in page
    assert "确认采用" in page and "qibu_dingdan" in page.split('name="template"')[1][:40]
    resp = c.post("/t/yanshan/manage/procedure/adopt", data={"csrf_token": csrf_token(c), "template": "qibu_dingdan",
                                                             "confirm": "1"})
    assert resp.status_code == 302 and versions(app, street) == 2
    assert "已发布第 2 版「七步订单」" in c.get(INDEX).get_data(as_text=True)


def test_yaml_import_replaces_the_draft_and_a_bad_one_keeps_what_was_pasted(as_user, street):
    c = as_user("yanshan-admin")
    bad = SMALL.replace("to: ping}", "to: nowhere}")
    resp = c.post(EDIT, data=form_of(c, action="import", yaml=bad))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "没有步骤 nowhere" in page and "to: nowhere" in page
    assert value_of(page, "dian.zh") == "点单"  # the form still holds the draft
    good = SMALL.replace("{zh: 商单, en: Consult}", "{zh: 议事会, en: Meeting}")
    page = c.post(EDIT, data=form_of(c, action="import", yaml=good)).get_data(as_text=True)
    assert value_of(page, "shang.zh") == "议事会"


def test_other_tenants_and_staff_cannot_export_or_adopt(as_user, street):
    assert as_user("langshan-admin").get("/t/yanshan/manage/procedure/export").status_code == 404
    staff = as_user("yanshan-staff")
    assert staff.get("/t/yanshan/manage/procedure/export").status_code == 200  # they see the procedure
    assert staff.post("/t/yanshan/manage/procedure/adopt", data={"csrf_token": csrf_token(staff),
                                                                 "template": "qibu_dingdan"}).status_code == 403


def test_a_version_published_with_the_older_note_names_its_template_in_words(app, as_user, world):
    from shangliang.procedures.operations import builtin_templates, publish

    with app.app_context(), tenant_context(world.yanshan.id):  # as versions published before notes named it
        publish(world.yanshan, None, builtin_templates()["qibu_dingdan"]["text"], note="采用模板 qibu_dingdan")
        db.commit()
    c = as_user("yanshan-admin")
    for url in (INDEX, "/t/yanshan/manage/procedure/v/1"):
        page = c.get(url).get_data(as_text=True)
        assert "采用模板《七步订单》" in page and "qibu_dingdan" not in visible(page)


def test_the_editor_speaks_english_too(as_user, street):
    c = as_user("yanshan-admin")
    c.get("/lang/en?next=/")
    page = c.post(EDIT, data=form_of(c, **{"shang.roles": []})).get_data(as_text=True)
    assert "Step 2 “商单”: Choose at least one role that acts at this step" in page
    assert "Check and preview" in page


def test_each_problem_of_the_checks_is_shown_at_its_field(app, world):
    from shangliang.procedures.form import worded

    with app.app_context():
        found = worded([("steps[shang].time_limit", "时限不对"), ("steps[ping].transitions[1].max_rounds", "须限定最多轮数"),
                        ("steps[dian]", "从第一步无法到达此步骤"), ("steps", "没有办结（closure）阶段的步骤")], parse(SMALL))
    assert found == {"shang.amount": "第 2 步「商单」：时限：时限不对",
                     "ping.t1.kind": "第 3 步「评单」：第 2 条去向：须限定最多轮数",
                     "dian.zh": "第 1 步「点单」：从第一步无法到达此步骤",
                     "procedure": "整个工作法：没有办结阶段的步骤"}
