"""Trend charts as SVG, drawn by the server: no script, no outside asset, and only presentation
attributes (the CSP refuses inline styles). Readable printed in black and white: the median is a
solid line with dots, a street's own (or the selected street's) values a dashed line with squares,
every other street a thin faint line, the quartile band a grey area with dotted edges; axes carry
their units, and <title>/<desc> say the same in words."""
from __future__ import annotations

import math

from markupsafe import Markup, escape

from ..i18n import _
from .periods import Period
from .reports import shown

WIDTH, HEIGHT = 400, 250
LEFT, RIGHT, BOTTOM = 50, 14, 42
LEGEND_ROW = 17
FONT = 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
INK, MUTED, GRID, BAND, OWN, FAINT = "#1f2328", "#5f6670", "#e3e5e8", "#d0d7de", "#b3261e", "#8c959f"
UNIT_AXIS = {"rate": "%", "hours": "小时", "count": "件", "per_10k": "件/万户", "score": "分"}


def trend_svg(defn: dict, band: list[tuple], own: list[tuple] | None = None, *, heading: bool = False,
              lines: list[tuple] | None = None, own_name: str | None = None, lines_name: str = "") -> Markup:
    """`band`: [(period, q1, median, q3)] of the compared tenants; `own`: [(period, value)] of one
    of them (named `own_name`, else 本街道), over the same periods; `lines`: [(slug, name, [(period,
    value)])] of the others, drawn faint and named `lines_name` in the legend. `heading`: draw the
    measure's name (a file shown on its own)."""
    unit, name = defn["unit"], defn["name"]
    periods = [p for p, *_rest in band]
    lines = lines or []
    values = [v for _p, *qs in band for v in qs if v is not None] + [v for _p, v in own or [] if v is not None] \
        + [v for _s, _n, series in lines for _p, v in series if v is not None]
    legend = _legend_rows(_legend_items(unit, band, own, own_name, lines_name if lines else ""))
    top = (20 if heading else 4) + LEGEND_ROW * len(legend) + 22  # the legend, then room for the unit
    lo, hi, step = _scale(unit, values)
    x = _xs(len(periods))

    def y(v):
        return top + (HEIGHT - top - BOTTOM) * (1 - (v - lo) / (hi - lo))

    uid = f"chart-{defn['key']}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-labelledby="{uid}-t {uid}-d" class="chart" '
             f'font-family=\'{FONT}\' font-size="12">',
             f'<title id="{uid}-t">{escape(_("{name}趋势", name=name))}</title>',
             f'<desc id="{uid}-d">{escape(_describe(unit, band, own))}</desc>',
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    if heading:
        parts.append(f'<text x="4" y="15" font-size="14" font-weight="bold" fill="{INK}">{escape(name)}</text>')
    parts += _axes(unit, periods, lo, hi, step, x, y, top)
    if not values:
        parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{(top + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
                     f'fill="{MUTED}" font-size="14">{escape(_("暂无数据"))}</text>')
    else:
        parts += _band(band, x, y)
        parts += _faint(lines, x, y)
        parts += _line([(i, med) for i, (_p, _q1, med, _q3) in enumerate(band)], x, y, INK, dashed=False)
        if own is not None:
            parts += _line([(i, v) for i, (_p, v) in enumerate(own)], x, y, OWN, dashed=True)
    first_row = (20 if heading else 4) + 11
    for r, row in enumerate(legend):
        for at, mark, text in row:
            parts.append(f'<g transform="translate({at},{first_row + r * LEGEND_ROW})">{mark}'
                         f'<text x="23" y="4" fill="{INK}">{escape(text)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


RATE_STEPS = (0.05, 0.1, 0.2, 0.25, 0.5)


def _scale(unit: str, values: list[float]) -> tuple[float, float, float]:
    """The value axis (low, high, tick step), in round steps: rates within 0–100% around the
    values, everything else from 0. At most five steps, at least two."""
    if unit == "rate":
        if not values:
            return 0.0, 1.0, 0.25
        for step in RATE_STEPS:  # each divides 100%, so the top never passes it
            lo = math.floor(min(values) / step + 1e-9) * step
            hi = math.ceil(max(values) / step - 1e-9) * step
            if hi - lo < 2 * step:  # a flat line is drawn inside the chart, not along its edge
                lo, hi = (hi - 2 * step, hi) if hi >= 2 * step else (0.0, 2 * step)
            if round((hi - lo) / step) <= 5:
                return lo, hi, step
        return 0.0, 1.0, 0.25
    peak = max(values, default=0)
    if peak <= 0:
        return 0.0, 4.0, 1.0
    for power in range(-2, 12):
        for mult in (1, 2, 2.5, 5):
            step = mult * 10 ** power
            if peak / step <= 5:
                return 0.0, max(2, math.ceil(peak / step - 1e-9)) * step, step
    return 0.0, peak, peak / 4


def _xs(n: int):
    width = WIDTH - LEFT - RIGHT

    def x(i):
        return LEFT + (width * i / (n - 1) if n > 1 else width / 2)
    return x


def _tick(unit: str, v: float) -> str:
    if unit == "rate":
        return f"{v * 100:.0f}%"
    return f"{v:g}"


def _axes(unit, periods: list[Period], lo, hi, step, x, y, top) -> list[str]:
    out = []
    for k in range(round((hi - lo) / step) + 1):
        v = lo + k * step
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{GRID}" '
                   f'stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="{MUTED}">{_tick(unit, v)}</text>')
    out.append(f'<text x="4" y="{top - 9}" fill="{MUTED}" font-size="11">{escape(_(UNIT_AXIS[unit]))}</text>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" '
               f'stroke="{MUTED}"/>')
    year = None
    for i, p in enumerate(periods):
        out.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM + 4}" '
                   f'stroke="{MUTED}"/>')
        if (len(periods) - 1 - i) % 2:  # every other tick is named, the latest always
            continue
        label = _period_label(p)
        out.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 17}" text-anchor="middle" fill="{INK}">'
                   f'{escape(label)}</text>')
        if p.kind != "year" and p.year != year:  # the year under the first named tick of each
            out.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 32}" text-anchor="middle" fill="{MUTED}" '
                       f'font-size="11">{p.year}</text>')
        year = p.year
    return out


def _period_label(p: Period) -> str:
    if p.kind == "year":
        return str(p.year)
    return _("{n}月", n=p.n) if p.kind == "month" else _("{n}季度", n=p.n)


def _runs(points: list[tuple[int, float | None]]) -> list[list[tuple[int, float]]]:
    """Consecutive points with a value: a gap in the data is a gap in the line."""
    runs, run = [], []
    for i, v in points:
        if v is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append((i, v))
    return runs + ([run] if run else [])


def _band(band, x, y) -> list[str]:
    out = []
    quart = [(i, (q1, q3)) for i, (_p, q1, _m, q3) in enumerate(band)]
    for run in _runs([(i, qs if qs[0] is not None else None) for i, qs in quart]):
        if len(run) == 1:
            i, (q1, q3) = run[0]
            out.append(f'<rect x="{x(i) - 4:.1f}" y="{y(q3):.1f}" width="8" height="{max(y(q1) - y(q3), 1):.1f}" '
                       f'fill="{BAND}"/>')
            continue
        upper = " ".join(f"{x(i):.1f},{y(q3):.1f}" for i, (_q1, q3) in run)
        lower = " ".join(f"{x(i):.1f},{y(q1):.1f}" for i, (q1, _q3) in reversed(run))
        out.append(f'<polygon points="{upper} {lower}" fill="{BAND}" fill-opacity="0.7"/>')
        for edge in (0, 1):
            pts = " ".join(f"{x(i):.1f},{y(qs[edge]):.1f}" for i, qs in run)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{MUTED}" stroke-width="1" '
                       f'stroke-dasharray="1 3"/>')
    return out


def _line(points, x, y, colour: str, *, dashed: bool) -> list[str]:
    out = []
    for run in _runs(points):
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
    for run in _runs(points):
        for i, v in run:
            if dashed:
                out.append(f'<rect x="{x(i) - 3.5:.1f}" y="{y(v) - 3.5:.1f}" width="7" height="7" fill="#ffffff" '
                           f'stroke="{colour}" stroke-width="1.5"/>')
            else:
                out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
    return out


def _faint(lines, x, y) -> list[str]:
    """The other streets, one thin light line each, named in its <title> (a tooltip)."""
    out = []
    for _slug, name, series in lines:
        for run in _runs([(i, v) for i, (_p, v) in enumerate(series)]):
            pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            if len(run) == 1:
                out.append(f'<circle class="street-line" cx="{x(run[0][0]):.1f}" cy="{y(run[0][1]):.1f}" r="1.5" '
                           f'fill="{FAINT}" fill-opacity="0.6"><title>{escape(name)}</title></circle>')
                continue
            out.append(f'<polyline class="street-line" points="{pts}" fill="none" stroke="{FAINT}" stroke-width="1" '
                       f'stroke-opacity="0.6"><title>{escape(name)}</title></polyline>')
    return out


def _last(points):
    return next((v for v in reversed(points) if v is not None), None)


def _legend_items(unit, band, own, own_name=None, lines_name="") -> list[tuple[str, str]]:
    """What each mark is, with the latest value of each."""
    med = _last([m for _p, _q1, m, _q3 in band])
    last_q = next(((q1, q3) for _p, q1, _m, q3 in reversed(band) if q1 is not None), (None, None))
    items = [(f'<line x1="0" x2="18" y1="0" y2="0" stroke="{INK}" stroke-width="2"/><circle cx="9" cy="0" r="3" '
              f'fill="{INK}"/>', _("中位数 {v}", v=shown(unit, med))),
             (f'<rect x="0" y="-5" width="18" height="10" fill="{BAND}" stroke="{MUTED}" stroke-dasharray="1 3"/>',
              _("四分位 {a}–{b}", a=shown(unit, last_q[0]), b=shown(unit, last_q[1])))]
    if own is not None:
        items.append((f'<line x1="0" x2="18" y1="0" y2="0" stroke="{OWN}" stroke-width="2" stroke-dasharray="6 4"/>'
                      f'<rect x="5.5" y="-3.5" width="7" height="7" fill="#ffffff" stroke="{OWN}" stroke-width="1.5"/>',
                      _("{name} {v}", name=own_name or _("本街道"), v=shown(unit, _last([v for _p, v in own])))))
    if lines_name:
        items.append((f'<line x1="0" x2="18" y1="0" y2="0" stroke="{FAINT}" stroke-width="1"/>', lines_name))
    return items


def _legend_rows(items) -> list[list[tuple[float, str, str]]]:
    """The legend laid out along the top, on as many rows as it needs: [[(x, mark, text)]]."""
    rows, at = [[]], 4
    for mark, text in items:
        width = 23 + 12 * _width(text) + 14
        if rows[-1] and at + width > WIDTH:
            rows.append([])
            at = 4
        rows[-1].append((at, mark, text))
        at += width
    return rows


def _width(text: str) -> float:
    """Roughly how many 12-point glyphs wide: a CJK character is one, anything else about 0.6."""
    return sum(1 if ord(c) > 0x2E80 else 0.6 for c in text)


def _describe(unit: str, band, own) -> str:
    """The chart in words, period by period, for screen readers."""
    out = []
    for i, (p, q1, med, q3) in enumerate(band):
        text = _("{period}：中位数 {m}（四分位 {a}–{b}）", period=p.label, m=shown(unit, med), a=shown(unit, q1),
                 b=shown(unit, q3))
        if own is not None:
            text += _("，本街道 {v}", v=shown(unit, own[i][1]))
        out.append(text)
    return "；".join(out)
