"""The member ledger as Excel: the whole street's table, or one member's file for the annual
review (a summary with the points rules, and every activity with its date). Each workbook says
which street, period and scale it was made with, so a printed copy explains itself."""
from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo


from ..core import spreadsheets as xl
from ..benchmarks.measures import POINT_LABELS
from ..core.db import utcnow
from ..roster.operations import LEVEL_LABELS
from ..topics.ratings import LABELS as RATING_LABELS
from .operations import KINDS, Activity, Entry, Ledger, scale_words, signed

COLUMNS = {"claim": "认领或受邀议题", "close": "牵头办结", "attend": "出席议事会", "convene": "召集议事会",
           "duty_kept": "轮值到岗", "duty_missed": "轮值缺岗", "rated_satisfied": "满意评价",
           "rated_unsatisfied": "不满意评价"}
WHAT = {"claim": "认领议题", "invited": "受邀参与议题", "close": "牵头的议题办结", "attend": "出席议事会",
        "convene": "召集议事会", "duty_kept": "轮值到岗", "duty_missed": "轮值缺岗",
        "rated_satisfied": "牵头的议题获满意评价", "rated_unsatisfied": "牵头的议题获不满意评价",
        "rated_basic": "牵头的议题获基本满意评价（不计分）"}


def _head(ws, row: list) -> None:
    xl.append(ws, row)
    for cell in ws[ws.max_row]:
        cell.font = xl.font(bold=True)


def _widths(ws, widths: list[int]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[xl.column_letter(i)].width = w


def _about(ws, ledger: Ledger, title: str) -> None:
    xl.append(ws, [title])
    ws["A1"].font = xl.font(bold=True, size=14)
    xl.append(ws, ["街道", ledger.street.name])
    first, last = ledger.period.start_day(), ledger.period.end_day() - timedelta(days=1)
    xl.append(ws, ["统计期", f"{ledger.period.label}（{first.isoformat()} 至 {last.isoformat()}）"])
    xl.append(ws, ["导出时间", utcnow().astimezone(ZoneInfo(ledger.street.timezone)).strftime("%Y-%m-%d %H:%M")])


def _rules(ws, ledger: Ledger) -> None:
    """The county's scale, one row a kind: what counts, and its points."""
    xl.append(ws, [])
    _head(ws, ["积分规则", "每项分值", "计算口径"])
    for r in scale_words(ledger.scale, ledger.basic_counts):
        xl.append(ws, [r["label"], f"{signed(r['points'])} 分/{r['unit']}",
                       "；".join(filter(None, (r["rule"], r["note"])))])
    xl.append(ws, ["", "", "积分 = 各项次数 × 分值之和；分值由县（区）政协在对标设置中设定"])


def _entry_row(e: Entry) -> list:
    p = e.person
    return [p.name, p.sector or "", LEVEL_LABELS.get(p.level or "", ""), p.community or "",
            "在册" if p.active else "已停用", *[e.counts[k] for k in KINDS], e.counts["invited"],
            e.counts["rated_basic"], e.score_avg if e.score_avg is not None else "", e.points]


def ledger_xlsx(ledger: Ledger, entries: list[Entry]) -> bytes:
    """Every member of the street, one row each, and the rules."""
    wb = xl.workbook()
    ws = wb.active
    ws.title = "履职档案"
    _head(ws, ["姓名", "界别", "级别", "社区", "状态", *[COLUMNS[k] for k in KINDS], "其中受邀",
               "基本满意（不计分）", "平均评分", "积分"])
    for e in entries:
        xl.append(ws, _entry_row(e))
    ws.freeze_panes = "B2"
    _widths(ws, [12, 12, 8, 14, 8, *[11] * len(KINDS), 9, 12, 9, 8])
    about = wb.create_sheet("说明")
    _about(about, ledger, f"{ledger.street.name}政协委员履职档案")
    xl.append(about, ["在册委员", ledger.members_total])
    xl.append(about, ["本期有履职的委员", ledger.members_active])
    _rules(about, ledger)
    _widths(about, [22, 14, 70])
    return _bytes(wb)


def member_xlsx(ledger: Ledger, entry: Entry, activities: list[Activity]) -> bytes:
    """One member for the annual review: 汇总 (who, the counts × points, the rules) and 履职明细."""
    wb = xl.workbook()
    ws = wb.active
    ws.title = "汇总"
    p = entry.person
    _about(ws, ledger, f"{p.name}履职档案")
    xl.append(ws, ["姓名", p.name])
    xl.append(ws, ["界别", p.sector or ""])
    xl.append(ws, ["级别", LEVEL_LABELS.get(p.level or "", "")])
    xl.append(ws, ["社区", p.community or ""])
    xl.append(ws, [])
    _head(ws, ["履职项目", "次数", "每项分值", "小计"])
    subtotals = entry.subtotals(ledger.scale)
    for k in KINDS:
        xl.append(ws, [POINT_LABELS[k], entry.counts[k], ledger.scale[k], subtotals[k]])
    xl.append(ws, ["合计积分", "", "", entry.points])
    ws[ws.max_row][0].font = ws[ws.max_row][3].font = xl.font(bold=True)
    xl.append(ws, ["其中受邀参与议题", entry.counts["invited"]])
    xl.append(ws, ["获基本满意评价（不计分）", entry.counts["rated_basic"]])
    xl.append(ws, ["所牵头议题平均评分（1–5）", entry.score_avg if entry.score_avg is not None else "无"])
    _rules(ws, ledger)
    _widths(ws, [26, 14, 60, 8])
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = xl.alignment(wrap_text=True, vertical="top")
    items = wb.create_sheet("履职明细")
    _head(items, ["日期", "时间", "履职项目", "议题/议事会/站点", "评价", "评分", "积分"])
    for a in activities:
        xl.append(items, _activity_row(a))
    if not activities:
        xl.append(items, ["本期没有履职记录"])
    items.freeze_panes = "A2"
    _widths(items, [12, 8, 20, 44, 10, 6, 6])
    return _bytes(wb)


def _activity_row(a: Activity) -> list:
    what = WHAT["invited" if a.invited else a.kind]
    if a.topic_number is not None:
        ref = f"议题 #{a.topic_number} {a.topic_title}"
    elif a.meeting_number is not None:
        ref = f"议事会 #{a.meeting_number} {a.meeting_title}"
    else:
        ref = a.station or ""
    return [a.day.isoformat(), a.time or "", what, ref, RATING_LABELS.get(a.level or "", ""),
            a.score if a.score is not None else "", a.points]


def _bytes(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
