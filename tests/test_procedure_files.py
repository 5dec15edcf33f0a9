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


def test_tiyi_banping_carries_its_brand():
    definition = load("tiyi_banping")
    four = [s["name"]["zh"] for s in definition["steps"] if s["phase"] not in ("triage", "closure")]
    assert four == ["提", "议", "办", "评"]
    assert definition["brand"] == "月月说事"
