"""Chinese first, English available. Source strings are the Chinese text; `translations/en.json`
maps them to English. Missing entries fall back to Chinese, never to a key."""
from __future__ import annotations

import json
from pathlib import Path

from flask import g, has_request_context, request

LANGUAGES = ("zh", "en")
_CATALOGS = {"en": json.loads((Path(__file__).parent / "translations" / "en.json").read_text("utf-8"))}


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
