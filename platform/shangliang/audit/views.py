from __future__ import annotations

from flask import Blueprint, g, render_template, request

from ..core import menu
from ..core.pagination import paginate
from ..core.permissions import require
from ..i18n import _, get_locale
from . import entries
from .kinds import CATEGORIES

bp = Blueprint("audit", __name__, url_prefix="/t/<slug>/manage")
menu.entry("audit.index", "操作日志", 190, "settings", "audit.view")


@bp.get("/audit")
@require("audit.view")
def index():
    """Changes by default; reads of other units' data (many, routine) when asked for."""
    filters, errors = entries.parse(request.args)
    page = paginate(entries.query(filters, g.tenant.timezone))
    return render_template("audit/index.html", page=page, entries=entries.describe(page.items, get_locale()),
                           filters=filters, errors={k: _(v) for k, v in errors.items()}, people=entries.people(),
                           categories=CATEGORIES, en=get_locale() == "en"), 400 if errors else 200
