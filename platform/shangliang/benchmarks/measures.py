"""The measures of benchmarking (对标), one registry: how each is read off a rollup row, what it
means in words (pages, exports and every published ranking carry these words), and the
county's default settings."""
from __future__ import annotations

from dataclasses import asdict, dataclass

PHASE_NOTE = "各阶段按步骤所属的标准阶段（收集、受理、协商、办理、评价、办结）判定，不同工作法按同一口径统计。"


@dataclass(frozen=True)
class Measure:
    key: str
    name: str
    en: str
    unit: str  # rate | count | hours | per_10k | score (1–5)
    formula: str
    numerator: str | None = None  # rollup columns; a rate is numerator / denominator
    denominator: str | None = None
    higher_is_better: bool = True
    weighable: bool = False  # may carry a weight in the composite score

    def value(self, fig: dict, settings: dict | None = None, households: int | None = None) -> float | None:
        """The measure's value from a rollup row's figures; None when there is nothing to divide by."""
        if self.unit == "hours":
            return fig.get(self.key)
        if self.key == "collected":
            return fig.get("collected", 0)
        if self.key == "collected_per_10k":
            return fig.get("collected", 0) * 10_000 / households if households else None
        if self.key == "consultations":
            return fig.get("meetings_held", 0)
        num, den = self.parts(fig, settings)
        if self.unit == "score":  # kept in hundredths, so that months and streets add up
            return num / den / 100 if den else None
        return num / den if den else None

    def parts(self, fig: dict, settings: dict | None = None) -> tuple[int, int]:
        if self.key == "satisfaction_rate":
            num = fig.get("rated_very_satisfied", 0) + fig.get("rated_satisfied", 0)
            if (settings or DEFAULT_SETTINGS)["basic_counts"]:
                num += fig.get("rated_basic", 0)
            return num, fig.get("rated", 0)
        return fig.get(self.numerator, 0), fig.get(self.denominator, 0)

    def sample(self, fig: dict, settings: dict | None = None) -> int | None:
        """How many topics (or members, evaluations) the value rests on: a rate's or a mean
        score's denominator; None for counts, hours and per-household figures."""
        if self.unit not in ("rate", "score"):
            return None
        return self.parts(fig, settings)[1]

    def describe(self, settings: dict | None = None) -> dict:
        out = asdict(self)
        if self.key == "satisfaction_rate":
            counted = (settings or DEFAULT_SETTINGS)["basic_counts"]
            out["formula"] += "（“基本满意”计入满意）" if counted else "（“基本满意”不计入满意）"
        return out


MEASURES = [
    Measure("collected", "收集议题", "Topics collected", "count",
            "本期进入收集阶段的议题数（按受理时间归期，下同）"),
    Measure("collected_per_10k", "每万户议题", "Topics per 10,000 households", "per_10k",
            "收集议题数 ÷ 辖区户数 × 10000；未填户数的不计算"),
    Measure("response_rate", "响应率", "Response rate", "rate",
            "收集后第一次处理（离开收集阶段）在收集步骤时限内的议题 ÷ 应响应的议题（已响应或时限已到）；"
            "收集步骤未设时限的不计入", "responded_on_time", "response_due", weighable=True),
    Measure("on_time_rate", "按期办结率", "On-time completion rate", "rate",
            "在工作法主流程时限总和内办结的议题 ÷ 应办结的议题（已办结或总时限已到）；不予受理的、工作法未设时限的不计入",
            "completed_on_time", "completion_due", weighable=True),
    Measure("resolution_rate", "解决率", "Resolution rate", "rate",
            "最后一次有效评价为“已解决”的议题 ÷ 有有效评价的议题", "rated_solved", "rated", weighable=True),
    Measure("satisfaction_rate", "满意率", "Satisfaction rate", "rate",
            "最后一次有效评价为“非常满意”或“满意”的议题 ÷ 有有效评价的议题", weighable=True),
    Measure("valid_rating_rate", "有效评价率", "Valid rating rate", "rate",
            "已办结且有有效评价的议题 ÷ 已办结的议题（不予受理的不计入）", "closed_rated", "closed", weighable=True),
    Measure("reopen_rate", "复盘率", "Reopen rate", "rate",
            "已办结的议题中因不满意被退回重办过的 ÷ 已办结的议题", "closed_reopened", "closed",
            higher_is_better=False, weighable=True),
    Measure("response_p50_h", "首次响应用时（中位数）", "Time to first response, median", "hours",
            "从收集到第一次离开收集阶段的小时数，取中位数（最近秩）", higher_is_better=False),
    Measure("response_p90_h", "首次响应用时（90%）", "Time to first response, 90th percentile", "hours",
            "同上，取第 90 百分位（最近秩）", higher_is_better=False),
    Measure("close_p50_h", "办结用时（中位数）", "Time to close, median", "hours",
            "从收集到办结的小时数（不予受理的不计入），取中位数（最近秩）", higher_is_better=False),
    Measure("close_p90_h", "办结用时（90%）", "Time to close, 90th percentile", "hours",
            "同上，取第 90 百分位（最近秩）", higher_is_better=False),
    Measure("consultations", "召开议事会", "Consultations held", "count", "本期召开（已召开状态）的议事会场数"),
    Measure("adoption_rate", "成果采纳率", "Outcomes adopted", "rate",
            "有协商记录、其后推进到办理、评价或办结阶段的议题 ÷ 有协商记录的议题", "adopted", "consulted", weighable=True),
    Measure("participation_rate", "委员参与率", "Member participation", "rate",
            "本期至少有一次履职（认领或受邀参与议题、出席或召集议事会、轮值到岗）的委员 ÷ 名册上在册的委员",
            "members_active", "members_total", weighable=True),
    Measure("supervision_rate", "督办率", "Topics supervised", "rate",
            "被区县或街道督办过（超时或提请后）的议题 ÷ 收集议题", "supervised", "collected",
            higher_is_better=False, weighable=True),
    Measure("supervised_closed_rate", "督办办结率", "Supervised topics closed", "rate",
            "被督办过、已办结的议题 ÷ 被督办过的议题", "supervised_closed", "supervised", weighable=True),
    Measure("officials_satisfaction_rate", "党政点评满意率", "Party and government review satisfied", "rate",
            "党政点评（街道、区县管理员所作的非决定性评价）最后一次为“非常满意”或“满意”的议题 ÷ 有党政点评的议题；"
            "工作法未设党政点评的不计算", "officials_satisfied", "officials_rated", weighable=True),
    Measure("members_satisfaction_rate", "委员评议满意率", "Members' review satisfied", "rate",
            "委员评议（委员所作的非决定性评价）最后一次为“非常满意”或“满意”的议题 ÷ 有委员评议的议题；"
            "工作法未设委员评议的不计算", "members_satisfied", "members_rated", weighable=True),
    Measure("evaluation_score", "评价平均分", "Mean evaluation score", "score",
            "工作法规定的评分维度（如提议办评的时长、类型、成效，各 1–5 分）：每次评价取各维度平均，再对本期议题的全部评分评价取平均；"
            "工作法未设评分维度的不计算", "score_points", "scored"),
]
BY_KEY = {m.key: m for m in MEASURES}

DEFAULT_POINTS = {"claim": 2, "close": 3, "attend": 2, "convene": 3, "duty_kept": 2, "duty_missed": -2,
                  "rated_satisfied": 1, "rated_unsatisfied": -1}
POINT_LABELS = {"claim": "认领或受邀参与议题", "close": "牵头的议题办结", "attend": "出席议事会", "convene": "召集议事会",
                "duty_kept": "轮值到岗", "duty_missed": "轮值缺岗", "rated_satisfied": "牵头议题获满意评价",
                "rated_unsatisfied": "牵头议题获不满意评价"}
DEFAULT_SETTINGS = {
    "weights": {"response_rate": 30, "resolution_rate": 35, "satisfaction_rate": 35},
    "min_topics": 10,
    "min_denominator": 5,
    "measures": [m.key for m in MEASURES],
    "basic_counts": False,
    "show_names": False,
    "points": DEFAULT_POINTS,
}


def definitions(settings: dict) -> list[dict]:
    """The words of every measure shown, as a ranking made with `settings` reads them."""
    return [BY_KEY[k].describe(settings) for k in settings["measures"] if k in BY_KEY]


def short_sample(m: Measure, fig: dict, settings: dict) -> int | None:
    """The measure's sample when it is below the county's minimum (`min_denominator`), else None.
    A measure short of its sample is shown with its counts but not compared: it is left out of
    the county's median and quartiles and out of the street's composite score (operations.score)."""
    n = m.sample(fig, settings)
    return n if n is not None and n < settings.get("min_denominator", 0) else None
