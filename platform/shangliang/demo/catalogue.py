"""What generated topics are about (categories with their titles, plans, outcomes and seasons),
how they come in (channels, the months' weights), and the small random draws the generator makes.
Deterministic: every draw takes the `random.Random` passed in."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..procedures.evaluation import standing
from ..topics.ratings import score_points


@dataclass(frozen=True)
class Category:
    name: str
    titles: tuple[str, ...]
    plan: str
    outcome: str
    season: tuple[float, ...]  # weight by month, January first


ALL_YEAR = (1.0,) * 12
WINTER = (2.6, 2.2, 1.4, 0.3, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 2.4, 2.8)
SUMMER = (0.3, 0.3, 0.5, 0.8, 1.2, 2.2, 2.8, 2.5, 1.2, 0.6, 0.3, 0.3)
SPRING = (0.5, 0.6, 1.6, 2.0, 1.6, 1.0, 0.8, 0.8, 1.0, 1.1, 0.7, 0.5)
CATEGORIES = (
    Category("物业管理", ("小区物业服务不到位，楼道卫生无人清扫", "物业费收支不公开", "单元门禁损坏多日未修"),
             "召集物业、业委会和居民代表协商，明确服务清单和整改时限", "物业已按清单整改，收支在公示栏公示", ALL_YEAR),
    Category("停车管理", ("小区停车位紧张，外来车辆随意停放", "消防通道被私家车占用", "路边停车收费不规范"),
             "划定临时停车位，外来车辆登记放行，消防通道设置隔离桩", "新划车位 40 个，消防通道已畅通", ALL_YEAR),
    Category("老旧小区改造", ("加装电梯意见不一", "楼顶防水层老化漏雨", "外墙保温层脱落"),
             "委员牵头走访住户，测算分摊方案，提交街道纳入改造计划", "改造已完工，居民验收签字", SPRING),
    Category("供暖", ("暖气不热，室温不达标", "供暖管道漏水", "供暖费收取有争议"),
             "约请热力公司现场测温，排查管网，明确整改时限", "热力公司更换阀门，室温达标", WINTER),
    Category("市政设施", ("雨后小区路面积水", "下水道堵塞返味", "路灯不亮，夜间出行不便"),
             "约请城管和排水部门现场查看，制定疏通改造方案", "管道已疏通，积水点完成改造", SUMMER),
    Category("环境卫生", ("垃圾分类投放点异味大", "绿化带缺乏养护", "楼道堆放杂物"),
             "设置定时定点投放，志愿者值守，物业增加清运频次", "投放点已改造，异味消除", SPRING),
    Category("养老服务", ("老人吃饭难，希望设助餐点", "独居老人缺少照应", "老年活动室设施陈旧"),
             "对接城市治理合伙人开设助餐点，组织志愿者结对", "助餐点已开业，60 岁以上老人优惠", ALL_YEAR),
    Category("邻里纠纷", ("楼上漏水影响楼下", "夜间噪音扰民", "公共空间被占用"),
             "委员和律师参与调解，双方签字确认", "双方达成协议并履行", ALL_YEAR),
    Category("电动车充电", ("电动车飞线充电安全隐患", "充电桩数量不足"), "在小区集中建设充电棚，禁止入户充电",
             "充电棚建成，飞线充电清零", SUMMER),
    Category("医保社保", ("城乡居民医保办理不方便", "养老保险资格认证难"), "约请医保部门进社区集中办理",
             "现场办理 120 余人次", ALL_YEAR),
)
# Topics per month, relative: heating in winter, rain in summer, fewer at the Spring Festival.
SEASON = (1.15, 0.75, 0.95, 1.0, 1.05, 1.15, 1.3, 1.2, 1.0, 0.9, 1.05, 1.15)
CHANNELS = (("hotline_12345", 0.24), ("mailbox", 0.1), ("wechat", 0.18), ("door_visit", 0.12), ("meeting", 0.08),
            ("wish", 0.05), ("portal", 0.13), ("grid_worker", 0.1))
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"


def poisson(rnd, lam: float) -> int:
    if lam > 30:
        return max(0, round(rnd.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rnd.random()
    while p > limit:
        k += 1
        p *= rnd.random()
    return k


def weighted(rnd, pairs):
    return pairs[weighted_index(rnd, [w for _k, w in pairs])][0]


def weighted_index(rnd, weights) -> int:
    x, acc = rnd.random() * sum(weights), 0.0
    for i, w in enumerate(weights):
        acc += w
        if x < acc:
            return i
    return len(weights) - 1


def pick_category(rnd, month: int) -> Category:
    return CATEGORIES[weighted_index(rnd, [c.season[month - 1] for c in CATEGORIES])]


def evaluated(step: dict, score: int, rnd) -> dict:
    """What a rating adds where the step names its parties and dimensions (as act() logs it): the
    deciding party's (the residents') evaluation, each dimension scored near the overall score."""
    ev = step.get("evaluation") or {}
    if not ev:
        return {}
    party = ev.get("decides", "residents")
    out = {"party": party, "decides": True, "standing": standing(step, party)} if ev.get("parties") else {}
    if ev.get("dimensions"):
        out["scores"] = {d["key"]: min(5, max(1, score + rnd.choice((-1, 0, 0, 1)))) for d in ev["dimensions"]}
        out["score_points"] = score_points(out["scores"])
    return out
