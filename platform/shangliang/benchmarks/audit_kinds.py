"""Benchmarking's entries in the audit log, in words (audit/kinds.py): its settings, published
rankings, and the reads of the compared units' figures, with the period (and measure) read."""
from __future__ import annotations

from ..audit.kinds import register, register_reason
from ..core.errors import Refused
from .measures import BY_KEY
from .periods import parse


def period_words(text: str) -> str:
    """`2026-11` → 2026年11月; `2026-11 response_rate` → 2026年11月 响应率; nothing it cannot read."""
    words = []
    for part in text.split():
        try:
            words.append(parse(part).label)
        except Refused:
            if part in BY_KEY:
                words.append(BY_KEY[part].name)
    return " ".join(words)


def _settings(_target, _detail):
    return "benchmarks.settings", {}


def _published_name(_target, detail):
    return f"第 {detail.get('number')} 号 {detail.get('title', '')}".strip() if detail.get("number") else None


def _published(_target, detail):
    return ("benchmarks.published_ranking", {"number": detail["number"]}) if detail.get("number") else None


register("benchmark.settings", "修改对标设置", "Benchmark settings changed", name=lambda t, d: "对标设置", link=_settings)
register("benchmark.publish", "发布对标排名", "Ranking published", name=_published_name, link=_published)
for prefix, zh, en in (("benchmark settings", "查看区县的对标设置", "The county's benchmark settings"),
                       ("benchmarking", "查看对标排名", "The benchmark ranking"),
                       ("benchmark trend", "查看对标趋势", "The benchmark trends"),
                       ("benchmark standing", "查看本街道在区县中的位置", "The street's standing in its county"),
                       ("benchmark drill-down", "查看指标背后的议题", "The topics behind a figure"),
                       ("benchmark 12345", "查看对标中的 12345 工单", "12345 orders in the benchmark"),
                       ("benchmark rollup", "汇总各街道的对标数据", "Rolling up the streets' figures"),
                       ("benchmark rebuild", "重算对标数据", "Rebuilding the figures"),
                       ("department replies", "查看部门按时答复", "Departments' replies on time")):
    register_reason(prefix, zh, en, period_words)
# Written by the demo's history (demo/history_store.py), named here: the log's page does not load the demo.
register("benchmarks.history", "生成演示用的历史数据", "Demo history generated", "system")
