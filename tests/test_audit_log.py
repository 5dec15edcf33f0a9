"""The audit log as people read it (issue 15, item 7): every entry in words with its object and a
link where the object has a page, no UUID or code on the page; filters by person, kind and date;
reads of other units' data left out unless asked for, never removed; and every action the code
records has its words (audit/kinds.py)."""
from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

from shangliang.audit import kinds
from shangliang.audit.operations import record
from shangliang.core.db import db, utcnow
from shangliang.core.tenancy import cross_tenant, tenant_context
from shangliang.meetings import operations as meetings  # noqa: F401 (registers its kinds)
from shangliang.roster import operations as roster

PACKAGE = Path(__file__).resolve().parents[1] / "platform" / "shangliang"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CODE = re.compile(r"\b[a-z_]+\.[a-z_]+(\.[a-z_]+)?\b")


# ---------------------------------------------------------------- every recorded action has words

def _recorders(tree: ast.Module) -> set[str]:
    """The names `record` is imported as from audit.operations in a module."""
    return {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and (node.module or "").endswith("audit.operations") for a in node.names if a.name == "record"}


def _actions(node: ast.AST, tree: ast.Module) -> list[str]:
    """The action codes an argument can be: literals, either side of `a if c else b`, f-strings as
    patterns, a module constant, or a parameter's default (its other values are literals too)."""
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _actions(node.body, tree) + _actions(node.orelse, tree)
    if isinstance(node, ast.JoinedStr):
        return ["re:" + "".join(re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z_]+" for v in node.values)]
    if isinstance(node, ast.Name):
        for n in ast.walk(tree):
            if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == node.id for t in n.targets):
                return _actions(n.value, tree)
            if isinstance(n, ast.FunctionDef):
                args = n.args.args[len(n.args.args) - len(n.args.defaults):]
                for a, d in zip(args, n.args.defaults):
                    if a.arg == node.id:
                        return _actions(d, tree)
    raise AssertionError(f"cannot tell the action of {ast.unparse(node)}")


def recorded_actions() -> dict[str, str]:
    """Every action the code records → where."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        names = _recorders(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in names and len(node.args) >= 3:
                for action in _actions(node.args[2], tree):
                    out[action] = f"{path.relative_to(PACKAGE)}:{node.lineno}"
    return out


def test_every_action_the_code_records_has_words(app):
    from shangliang.tenants.operations import STATUS_ACTIONS
    from shangliang.topics.notice import DECISIONS

    actions = recorded_actions()
    assert len(actions) > 60 and "meeting.create" in actions and "cross_tenant.read" not in actions
    missing = []
    for action, where in actions.items():
        if action.startswith("re:"):
            if not any(re.fullmatch(action[3:], code) for code in kinds.KINDS):
                missing.append((action, where))
        elif action not in kinds.KINDS:
            missing.append((action, where))
    assert not missing, f"audited actions with no words in audit/kinds.py: {missing}"
    # the values the f-strings take, each with words of its own
    dynamic = [f"tenant.{a}" for a in STATUS_ACTIONS] + [f"notice.comment.{d}" for d in DECISIONS] + \
        ["street.create", "county.create", "meeting.hold", "meeting.cancel"] + \
        [f"hotline.order.{s}" for s in ("created", "queued", "updated")] + ["cross_tenant.read", "tenant.unarchive"]
    assert [code for code in dynamic if code not in kinds.KINDS] == []
    for kind in kinds.KINDS.values():  # words, in both languages, and a known category
        assert re.search(r"[\u4e00-\u9fff]", kind.zh) and not CODE.search(kind.zh) and kind.en, kind
        assert kind.category in kinds.CATEGORIES


def test_every_cross_tenant_read_has_a_reason_in_words(app):
    reasons = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "cross_tenant":
                for kw in node.keywords:
                    if kw.arg == "reason" and isinstance(kw.value, ast.Constant):
                        reasons.add(kw.value.value)
                    elif kw.arg == "reason" and isinstance(kw.value, ast.JoinedStr):
                        reasons.add(kw.value.values[0].value.strip())
    assert len(reasons) > 10
    assert [r for r in reasons if kinds.reason_of(r) is None and kinds.reason_of(r + " 2026-11") is None] == []


# ---------------------------------------------------------------- the page

def entries(app, world):
    """A street's log: a meeting, a person on the roster, a member added, and reads of its county."""
    with app.app_context(), tenant_context(world.yanshan.id):
        admin = world.users["yanshan-admin"].id
        person = roster.create_person(world.yanshan, admin, {"name": "李秀兰", "kind": "member", "phone": "13800000001"})
        meeting = meetings.create_meeting(world.yanshan, admin, {
            "title": "加装电梯协商会", "form": "on_site", "starts_at": "2026-12-20 09:00", "place": "议事室", "topics": [],
            "participants": [{"name": "召集人", "group": "member", "convener": True}]})
        old = record(world.yanshan.id, None, "benchmarks.history", None, {"streets": 1})
        old.at = utcnow() - timedelta(days=40)
        db.commit()
    with app.app_context(), cross_tenant([world.lixia.id], reason="benchmark settings", actor_id=admin,
                                         acting_tenant_id=world.yanshan.id):
        pass
    with app.app_context(), cross_tenant([world.lixia.id, world.langshan.id], reason="benchmark standing 2026-11",
                                         actor_id=admin, acting_tenant_id=world.yanshan.id):
        pass
    return person, meeting


def body(html: str) -> str:
    """The page's main content, without the menus and the form's own values."""
    main = html[html.index("<h1>"):]
    return re.sub(r'value="[^"]*"', "", main)


def test_the_log_reads_in_words_with_links_and_no_identifiers(app, world, as_user):
    person, meeting = entries(app, world)
    client = as_user("yanshan-admin")
    html = client.get("/t/yanshan/manage/audit").get_data(as_text=True)
    main = body(html)
    assert "添加名册人员" in main and "李秀兰" in main
    assert f'href="/t/yanshan/roster/{person.id}"' in main  # a link to the person's page
    assert "新建议事会" in main and f"#{meeting.number} 加装电梯协商会" in main
    assert f'href="/t/yanshan/meetings/{meeting.number}"' in main
    assert "生成演示用的历史数据" in main
    text = re.sub(r"<[^>]+>", " ", main)  # what a reader sees: no UUID, no action code
    assert not UUID.search(text) and not CODE.search(text), (UUID.search(text), CODE.search(text))
    # reads of other units' data: not shown by default, in words when asked for, and never removed
    assert "查看区县的对标设置" not in main and "显示查看记录" in main
    everything = body(client.get("/t/yanshan/manage/audit?kind=all").get_data(as_text=True))
    assert "查看区县的对标设置" in everything and "查看本街道在区县中的位置" in everything
    assert "2026年11月" in everything and "涉及 2 个单位" in everything
    reads = body(client.get("/t/yanshan/manage/audit?kind=read").get_data(as_text=True))
    assert "查看区县的对标设置" in reads and "新建议事会" not in reads
    text = re.sub(r"<[^>]+>", " ", everything)
    assert not UUID.search(text) and not CODE.search(text)


def test_the_log_is_filtered_by_person_kind_and_date(app, world, as_user):
    entries(app, world)
    client = as_user("yanshan-admin")
    admin = world.users["yanshan-admin"].id
    mine = body(client.get(f"/t/yanshan/manage/audit?who={admin}").get_data(as_text=True))
    assert "新建议事会" in mine and "生成演示用的历史数据" not in mine
    system = body(client.get("/t/yanshan/manage/audit?who=system").get_data(as_text=True))
    assert "生成演示用的历史数据" in system and "新建议事会" not in system
    changes = body(client.get("/t/yanshan/manage/audit?kind=change").get_data(as_text=True))
    assert "新建议事会" in changes and "生成演示用的历史数据" not in changes
    today = utcnow().date()
    recent = body(client.get(f"/t/yanshan/manage/audit?from={(today - timedelta(days=2)).isoformat()}")
                  .get_data(as_text=True))
    assert "新建议事会" in recent and "生成演示用的历史数据" not in recent
    early = (today - timedelta(days=30)).isoformat()
    before = body(client.get(f"/t/yanshan/manage/audit?to={early}").get_data(as_text=True))
    assert "生成演示用的历史数据" in before and "新建议事会" not in before
    wrong = client.get("/t/yanshan/manage/audit?from=12/01/2026")
    assert wrong.status_code == 400 and "起始日期须为 2026-12-01 这样的日期" in wrong.get_data(as_text=True)
    assert f'<option value="{admin}" selected>' in client.get(f"/t/yanshan/manage/audit?who={admin}").get_data(
        as_text=True)
    # another street's log is its own
    other = as_user("guangwumen-admin").get("/t/guangwumen/manage/audit?kind=all").get_data(as_text=True)
    assert "李秀兰" not in other and "加装电梯协商会" not in other
