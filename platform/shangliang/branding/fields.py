"""A brand form's text and colour fields: checked all at once, every problem named by its field."""
from __future__ import annotations

import re

from ..core.errors import Refused
from .colours import MIN_CONTRAST, PAGE_BACKGROUND, contrast_ratio, normalise_colour, shown_ratio

FIELD_LABELS = {
    "display_name": "显示名称", "brand_name": "品牌名称", "slogan": "口号", "intro": "简介",
    "primary_colour": "主色", "accent_colour": "强调色", "text_colour": "文字颜色", "hotlines": "热线电话",
    "mailbox": "信箱", "stations": "站点", "footer": "页脚", "note": "修改说明",
    "logo": "标志", "banner": "横幅图片", "qr": "微信群二维码",
}
# Column lengths of BrandVersion (intro is Text: bounded here).
MAX_LENGTHS = {"display_name": 40, "brand_name": 20, "slogan": 40, "intro": 2000, "mailbox": 200,
               "footer": 300, "note": 200}
REQUIRED = ("display_name", "brand_name")
COLOURS = ("primary_colour", "accent_colour", "text_colour")
HEX_RE = re.compile(r"#[0-9a-f]{6}")
MAX_HOTLINES, MAX_STATIONS = 8, 20
HOTLINE_NUMBER_RE = re.compile(r"[0-9+\-() ]{3,20}")
STATION_LIMITS = {"name": 40, "address": 100, "hours": 60}


class BrandInvalid(Refused):
    """Every problem of a submitted brand at once: `errors` maps a field to (message, values),
    the message being the Chinese source string the page translates. `message` and `field` are
    the first problem, formatted, as for any Refused."""

    def __init__(self, errors: dict[str, tuple[str, dict]]):
        first_field, (text, values) = next(iter(errors.items()))
        super().__init__(text.format(**values), first_field, "validation_error")
        self.errors = errors

    def messages(self, translate=None) -> dict[str, str]:
        translate = translate or (lambda text, **values: text.format(**values) if values else text)
        # Field names inside a message ("标志", "地址") are interface strings too.
        return {f: translate(text, **{k: translate(v) if k in ("label", "what") else v for k, v in values.items()})
                for f, (text, values) in self.errors.items()}


def _lines(text: str) -> list[tuple[int, str]]:
    return [(i, line.strip()) for i, line in enumerate((text or "").splitlines(), 1) if line.strip()]


def parse_hotlines(text: str, errors: dict) -> list[dict]:
    """One per line, `名称: 号码` (a full-width colon works too)."""
    out = []
    rows = _lines(text)
    if len(rows) > MAX_HOTLINES:
        errors["hotlines"] = ("热线电话最多 {n} 条", {"n": MAX_HOTLINES})
        return []
    for n, line in rows:
        label, sep, number = line.replace("：", ":").rpartition(":")
        label, number = label.strip(), number.strip()
        if not sep or not label:
            errors["hotlines"] = ("热线电话第 {line} 行：格式为“名称: 号码”，例如 委员商量热线: 0531-86000000",
                                  {"line": n})
            return []
        if not HOTLINE_NUMBER_RE.fullmatch(number) or sum(ch.isdigit() for ch in number) < 3:
            errors["hotlines"] = ("热线电话第 {line} 行：号码须为 3–20 位数字，可含空格、+、- 和括号", {"line": n})
            return []
        if len(label) > 20:
            errors["hotlines"] = ("热线电话第 {line} 行：名称不能超过 {n} 个字", {"line": n, "n": 20})
            return []
        out.append({"label": label, "number": number})
    return out


def parse_stations(text: str, errors: dict) -> list[dict]:
    """One per line, `名称 | 地址 | 开放时间` (full-width ｜ works too); the hours may be left out."""
    out = []
    rows = _lines(text)
    if len(rows) > MAX_STATIONS:
        errors["stations"] = ("站点最多 {n} 个", {"n": MAX_STATIONS})
        return []
    for n, line in rows:
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            errors["stations"] = ("站点第 {line} 行：格式为“名称 | 地址 | 开放时间”，名称和地址必填", {"line": n})
            return []
        row = dict(zip(("name", "address", "hours"), parts + [""] * (3 - len(parts))))
        for key, limit in STATION_LIMITS.items():
            if len(row[key]) > limit:
                what = {"name": "名称", "address": "地址", "hours": "开放时间"}[key]
                errors["stations"] = ("站点第 {line} 行：{what}不能超过 {n} 个字", {"line": n, "what": what, "n": limit})
                return []
        out.append(row)
    return out


def hotlines_text(hotlines: list[dict]) -> str:
    return "\n".join(f"{h['label']}: {h['number']}" for h in hotlines or [])


def stations_text(stations: list[dict]) -> str:
    return "\n".join(" | ".join(p for p in (s["name"], s["address"], s.get("hours", "")) if p)
                     for s in stations or [])


def check_fields(form: dict) -> tuple[dict, dict]:
    """(clean values, errors) for the text and colour fields of a brand form."""
    errors: dict[str, tuple[str, dict]] = {}
    values: dict = {}
    for name, limit in MAX_LENGTHS.items():
        text = (form.get(name) or "").strip()
        if name != "intro":
            text = " ".join(text.split())  # one line: no line breaks or tabs in a name
        if name in REQUIRED and not text:
            errors[name] = ("请填写{label}", {"label": FIELD_LABELS[name]})
        elif len(text) > limit:
            errors[name] = ("{label}不能超过 {n} 个字（现在 {m} 个）",
                            {"label": FIELD_LABELS[name], "n": limit, "m": len(text)})
        values[name] = text
    for name in COLOURS:
        colour = normalise_colour(form.get(name))
        if not HEX_RE.fullmatch(colour):
            errors[name] = ("{label}须为 #rrggbb 形式的十六进制颜色，例如 #b3261e", {"label": FIELD_LABELS[name]})
        values[name] = colour
    if "primary_colour" not in errors and "text_colour" not in errors:
        ratio = contrast_ratio(values["primary_colour"], values["text_colour"])
        if ratio < MIN_CONTRAST:
            errors["primary_colour"] = ("主色与文字颜色的对比度为 {ratio}:1，低于 {min}:1，请加深主色或调整文字颜色",
                                        {"ratio": shown_ratio(ratio), "min": MIN_CONTRAST})
    if "accent_colour" not in errors:
        ratio = contrast_ratio(values["accent_colour"], PAGE_BACKGROUND)
        if ratio < MIN_CONTRAST:
            errors["accent_colour"] = ("强调色在白色页面上的对比度为 {ratio}:1，低于 {min}:1（强调色用于链接），请加深强调色",
                                       {"ratio": shown_ratio(ratio), "min": MIN_CONTRAST})
    values["hotlines"] = parse_hotlines(form.get("hotlines") or "", errors)
    values["stations"] = parse_stations(form.get("stations") or "", errors)
    return values, errors
