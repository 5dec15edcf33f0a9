"""The built-in procedures in tenants/procedures/ are valid and keep what their articles say."""
from __future__ import annotations

from pathlib import Path

import pytest

from shangliang.procedures.schema import ProcedureInvalid, parse
from shangliang.topics import operations  # noqa: F401  (registers the transition kinds a procedure may use)

TEMPLATES = Path(__file__).resolve().parents[1] / "tenants" / "procedures"
FILES = sorted(TEMPLATES.glob("*.yaml"))
EXPECTED = {"qibu_dingdan", "sanji_liangti_yizhuan", "sihuan_babu", "tiyi_banping", "four_plus_x"}


def load(name: str) -> dict:
    return parse((TEMPLATES / f"{name}.yaml").read_text("utf-8"))


def transitions(definition: dict, kind: str) -> list[tuple[dict, dict]]:
    return [(s, t) for s in definition["steps"] for t in s["transitions"] if t["kind"] == kind]


def test_the_five_seed_practices_are_there():
    assert {p.stem for p in FILES} == EXPECTED


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_is_a_valid_procedure(path):
    try:
        definition = parse(path.read_text("utf-8"))
    except ProcedureInvalid as err:
        pytest.fail(f"{path.name}: {err.problems}")
    assert definition["key"] == path.stem  # templates are looked up by key


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_rating_step_reopens_with_a_limit(path):
    definition = load(path.stem)
    by_key = {s["key"]: s for s in definition["steps"]}
    reopens = transitions(definition, "reopen")
    assert reopens
    for step, t in reopens:
        assert step["evidence"]["rating"] and step["phase"] == "evaluation"
        assert t["max_rounds"] >= 1
        assert by_key[t["to"]]["phase"] in ("deliberation", "execution")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_out_of_scope_topics_can_be_closed_from_triage(path):
    definition = load(path.stem)
    phase = {s["key"]: s["phase"] for s in definition["steps"]}
    closes = transitions(definition, "close_out_of_scope")
    assert any(step["phase"] == "triage" and phase[t["to"]] == "closure" for step, t in closes)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_phases_cover_intake_evaluation_and_closure(path):
    phases = {s["phase"] for s in load(path.stem)["steps"]}
    assert {"intake", "evaluation", "closure"} <= phases


def test_qibu_dingdan_has_the_seven_steps_in_order():
    definition = load("qibu_dingdan")
    assert [s["name"]["zh"] for s in definition["steps"]] == ["点单", "接单", "参单", "跟单", "商单", "评单", "收单"]
    assert definition["brand"] == "有事莫心急 下楼来商量"
    shangdan = next(s for s in definition["steps"] if s["name"]["zh"] == "商单")
    assert shangdan["evidence"]["consultation_record"]


def test_sanji_liangti_yizhuan_escalates_transfers_and_signs():
    definition = load("sanji_liangti_yizhuan")
    assert transitions(definition, "escalate") and transitions(definition, "transfer")
    assert any(s["evidence"]["signatures"] for s in definition["steps"])


@pytest.mark.parametrize("name, step", [("sihuan_babu", "zhuanhua"), ("four_plus_x", "luoshi")])
def test_an_outcome_is_handed_to_the_departments_that_carry_it_out(name, step):
    """四环八步's 成果转化 (“转化为党委政府决策、民生实事项目”) and 4+X's 采纳落实 are the departments' work:
    the step hands the outcome to them (转交) and stays where it is while their contacts answer from
    their inbox. A 转交 asks for none of a step's evidence, so it is not the way out of the meeting
    before it: that needs the consultation record."""
    definition = load(name)
    by_key = {s["key"]: s for s in definition["steps"]}
    assert [(s["key"], t["to"]) for s, t in transitions(definition, "transfer")] == [(step, step)]
    assert "department" in by_key[step]["roles"] and by_key[step]["phase"] == "execution"


def test_tiyi_banping_carries_its_brand():
    definition = load("tiyi_banping")
    four = [s["name"]["zh"] for s in definition["steps"] if s["phase"] not in ("triage", "closure")]
    assert four == ["提", "议", "办", "评"]
    assert definition["brand"] == "月月说事"


# ---------------------------------------------------------------- what a street receives

@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_street_receives_the_file_without_our_notes(path):
    """The files' comments (sources, which numbers are ours) are for us; the text a street edits
    has none of them and means exactly what the file means."""
    from shangliang.procedures.operations import builtin_templates

    text = builtin_templates()[path.stem]["text"]
    assert "#" not in text and "assumption" not in text and "tenants/" not in text
    assert parse(text) == load(path.stem)


def test_limits_the_articles_do_not_give_are_marked_as_defaults():
    sanji, tiyi = load("sanji_liangti_yizhuan"), load("tiyi_banping")
    first = next(s["time_limit"] for s in tiyi["steps"] if s.get("time_limit"))
    assert first == {"hours": 24}  # "群众意见天天收集": the article's own, not a default
    assert sanji["steps"][0]["time_limit"] == {"hours": 24, "default": True}  # "立即", but no number
    for name in ("qibu_dingdan", "four_plus_x", "sihuan_babu"):  # their articles give no limit at all
        limits = [s["time_limit"] for s in load(name)["steps"] if s.get("time_limit")]
        assert limits and all(limit.get("default") for limit in limits), name


@pytest.mark.parametrize("limit, words", [("{default: true}", "hours 或 working_days"),
                                          ("{hours: 2, working_days: 1}", "hours 或 working_days"),
                                          ("{working_days: 2, default: maybe}", "default")])
def test_a_time_limit_is_one_unit_and_a_flag(limit, words):
    from support.procedures import SMALL

    with pytest.raises(ProcedureInvalid) as err:
        parse(SMALL.replace("time_limit: {working_days: 5}", f"time_limit: {limit}"))
    assert any(words in f"{where} {message}" for where, message in err.value.problems), err.value.problems
