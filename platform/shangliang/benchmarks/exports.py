"""Rankings and a street's standing as files: Excel (a sheet of figures, the definitions and
weights they were made with, and the counts behind them) and CSV (UTF-8 with a BOM, which
Chinese Excel needs to read it). A published ranking is written from its frozen rows only."""
from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from ..core import spreadsheets as xl
from .measures import PHASE_NOTE
from .reports import COUNT_LABELS, POSITIONS, StreetReport, Table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
NUMBER_FORMATS = {"rate": "0.0%", "hours": "0.0", "per_10k": "0.0", "count": "0", "score": "0.00"}
KIND_NAMES = {"street": "街道", "county": "区县"}


def _unit_suffix(defn: dict) -> str:
    return {"hours": "（小时）", "per_10k": "（件/万户）", "score": "（1–5 分）"}.get(defn["unit"], "")


def _local(moment, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if moment else ""


# ---------------------------------------------------------------- rankings

def ranking_header(table: Table) -> list[str]:
    return ["排名", "并列", KIND_NAMES[table.compared], "综合得分", "名次变化（正数为上升）",
            *[d["name"] + _unit_suffix(d) for d in table.definitions], "未参与排名的原因"]


def ranking_rows(table: Table) -> list[list]:
    """Numbers stay numbers (a rate as a fraction, formatted as % in Excel)."""
    return [[r["rank"], "并列" if r["tied"] else None, r["name"], r["score"], r["change"],
             *[r["values"].get(d["key"]) for d in table.definitions], r["reason"]] for r in table.rows]


def ranking_xlsx(table: Table, tz: str) -> bytes:
    wb = xl.workbook()
    ws = wb.active
    ws.title = "排名"
    xl.append(ws, [table.title])
    ws["A1"].font = xl.font(bold=True, size=14)
    xl.append(ws, [_status_line(table, tz)])
    xl.append(ws, [])
    header = ranking_header(table)
    xl.append(ws, header)
    _style_header(ws, 4, len(header))
    for row in ranking_rows(table):
        xl.append(ws, row)
    first_measure = 6
    for offset, d in enumerate(table.definitions):
        _format_column(ws, first_measure + offset, 5, NUMBER_FORMATS[d["unit"]])
    _format_column(ws, 4, 5, "0.0")
    _format_column(ws, 5, 5, "+0;-0;0")
    _widths(ws, [6, 6, 16, 10, 12, *[14] * len(table.definitions), 28])
    ws.freeze_panes = "D5"
    _definitions_sheet(wb.create_sheet("口径说明"), table, tz)
    _counts_sheet(wb.create_sheet("明细数据"), table)
    return _saved(wb)


def _status_line(table: Table, tz: str) -> str:
    out = f"统计期：{table.period.label}（{table.period.key}）　数据截至：{_local(table.as_of, tz)}"
    if table.number is not None:
        out += f"　第 {table.number} 号发布，{_local(table.published_at, tz)}"
        if table.publisher:
            out += f"，发布人：{table.publisher}"
    return out


def _definitions_sheet(ws, table: Table, tz: str) -> None:
    xl.append(ws, ["指标", "英文名", "计算方法", "单位", "方向", "权重"])
    _style_header(ws, 1, 6)
    units = {"rate": "比率", "hours": "小时", "count": "件", "per_10k": "件/万户", "score": "分（1–5）"}
    for d in table.definitions:
        weight = table.settings["weights"].get(d["key"])
        xl.append(ws, [d["name"], d["en"], d["formula"], units[d["unit"]], "越高越好" if d["higher_is_better"] else "越低越好",
                   f"{weight}%" if weight else "不计入综合得分"])
    xl.append(ws, [])
    for label, value in (
        ("综合得分", "各计入指标按权重加权平均（0–100），越低越好的指标按 1 − 指标值计；缺少任一计入指标的数据则不排名"),
        ("参与排名的最少议题数", table.settings["min_topics"]),
        ("“基本满意”是否计入满意", "计入" if table.settings["basic_counts"] else "不计入"),
        ("并列", "综合得分相同（保留一位小数）的名次并列，其后的名次顺延"),
        ("阶段口径", PHASE_NOTE),
        ("统计期", f"{table.period.label}（{table.period.key}），议题按进入收集阶段的时间归期"),
        ("数据截至", _local(table.as_of, tz)),
    ):
        xl.append(ws, [label, "", value])
    for row in ws.iter_rows(min_row=2):
        row[2].alignment = xl.alignment(wrap_text=True, vertical="top")
    _widths(ws, [24, 30, 70, 10, 10, 14])


def _counts_sheet(ws, table: Table) -> None:
    xl.append(ws, [KIND_NAMES[table.compared], "户数", *COUNT_LABELS.values()])
    _style_header(ws, 1, len(COUNT_LABELS) + 2)
    for r in table.rows:
        xl.append(ws, [r["name"], r["households"], *[r["figures"].get(c, 0) for c in COUNT_LABELS]])
    _widths(ws, [16, 10, *[12] * len(COUNT_LABELS)])


def ranking_csv(table: Table) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(xl.csv_row(ranking_header(table)))
    for row in ranking_rows(table):
        w.writerow(xl.csv_row([_csv_value(table.definitions, i, v) for i, v in enumerate(row)]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(definitions: list[dict], i: int, v):
    """Rates as 87.5% (Excel reads that as a percentage), other numbers as they are, None as empty."""
    if v is None:
        return ""
    measure = i - 5
    if 0 <= measure < len(definitions) and definitions[measure]["unit"] == "rate":
        return f"{v * 100:.1f}%"
    if isinstance(v, float):
        return f"{v:.1f}" if i == 3 else f"{v:.2f}"
    return v


# ---------------------------------------------------------------- a street's standing

def standing_header() -> list[str]:
    return ["指标", "本街道", "区县中位数", "下四分位", "上四分位", "相对位置", "方向"]


def standing_rows(report: StreetReport) -> list[list]:
    out = []
    for d in report.definitions:
        q1, med, q3 = report.standing.distribution[d["key"]]
        out.append([d["name"] + _unit_suffix(d), report.standing.own.values.get(d["key"]), med, q1, q3,
                    POSITIONS.get(report.positions.get(d["key"]), ""), "越高越好" if d["higher_is_better"] else "越低越好"])
    return out


def standing_xlsx(report: StreetReport, street_name: str, tz: str) -> bytes:
    wb = xl.workbook()
    ws = wb.active
    ws.title = "本街道"
    own = report.standing.own
    xl.append(ws, [f"{street_name}{report.standing.period.label}对标"])
    ws["A1"].font = xl.font(bold=True, size=14)
    rank = f"综合得分 {own.score}，在 {report.standing.streets} 个街道中排第 {own.rank} 名" if own.rank else \
        (own.reason or "")
    xl.append(ws, [f"数据截至：{_local(report.as_of, tz)}　{rank}"])
    xl.append(ws, [])
    xl.append(ws, standing_header())
    _style_header(ws, 4, 7)
    for d, row in zip(report.definitions, standing_rows(report)):
        xl.append(ws, row)
        for col in (2, 3, 4, 5):
            ws.cell(ws.max_row, col).number_format = NUMBER_FORMATS[d["unit"]]
    _widths(ws, [26, 12, 12, 12, 12, 14, 10])
    table = Table(street_name, "street", report.standing.period, "", {k: v for k, v in report.standing.settings.items()
                                                                     if k != "updated_at"},
                  report.definitions, [], report.as_of)
    _definitions_sheet(wb.create_sheet("口径说明"), table, tz)
    return _saved(wb)


def standing_csv(report: StreetReport) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(xl.csv_row(standing_header()))
    for d, row in zip(report.definitions, standing_rows(report)):
        w.writerow(xl.csv_row([_standing_value(d, v) if 1 <= i <= 4 else v for i, v in enumerate(row)]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _standing_value(defn: dict, v):
    if v is None:
        return ""
    return f"{v * 100:.1f}%" if defn["unit"] == "rate" else (f"{v:.2f}" if isinstance(v, float) else v)


# ---------------------------------------------------------------- workbook details

def _style_header(ws, row: int, width: int) -> None:
    for col in range(1, width + 1):
        cell = ws.cell(row, col)
        cell.font, cell.fill = xl.font(bold=True), xl.fill("solid", fgColor="EEF0F3")
        cell.alignment = xl.alignment(wrap_text=True, vertical="center")


def _format_column(ws, col: int, first_row: int, fmt: str) -> None:
    for row in range(first_row, ws.max_row + 1):
        ws.cell(row, col).number_format = fmt


def _widths(ws, widths: list[int]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[xl.column_letter(i)].width = w


def _saved(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
