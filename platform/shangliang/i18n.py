"""Chinese first, English available. Source strings are the Chinese text; `translations/en.json`
maps them to English. Missing entries fall back to Chinese, never to a key."""
from __future__ import annotations

import json
from pathlib import Path

from flask import g, has_request_context, request

LANGUAGES = ("zh", "en")
_DIR = Path(__file__).parent / "translations"


def load_catalog(lang: str) -> dict[str, str]:
    """`<lang>.json` plus any `<lang>-<area>.json`, so each area keeps its own strings."""
    out: dict[str, str] = {}
    for path in sorted(_DIR.glob(f"{lang}*.json")):
        out.update(json.loads(path.read_text("utf-8")))
    return out


_CATALOGS = {"en": load_catalog("en")}


def get_locale() -> str:
    if not has_request_context():
        return "zh"
    if "lang" not in g:
        lang = request.cookies.get("lang")
        g.lang = lang if lang in LANGUAGES else "zh"
    return g.lang


def gettext(text: str, **values) -> str:
    lang = get_locale()
    out = _CATALOGS[lang].get(text, text) if lang != "zh" else text
    return out.format(**values) if values else out


_ = gettext
