from __future__ import annotations

import re

from flask import Blueprint, abort, g, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..core import menu
from ..core.first_steps import Check, first_step
from ..core.permissions import can, require
from ..i18n import _
from . import editor
from . import operations as ops
from .evidence import EVIDENCE, FieldValues
from .models import ProcedureVersion
from .schema import PHASE_LABELS, PHASES
from .transitions import TRANSITIONS

bp = Blueprint("procedure", __name__, url_prefix="/t/<slug>/manage/procedure")
menu.entry("procedure.index", "工作法", 140, "settings", "procedure.view", kinds={"county", "street"}, current="procedure.")
first_step("procedure", "工作法", "选用或修改本街道的协商工作法并发布", 20, "procedure.manage",
           Check("procedure.index", lambda tenant: select(ProcedureVersion.id).exists()))


@bp.app_template_global()
def evidence_words(evidence: dict) -> list[str]:
    """What a step asks for besides field values, in words, for the flow diagram."""
    return [_(words, **values) for words, values in
            (k.shown(evidence.get(k.key)) for k in EVIDENCE.values()
             if not isinstance(k, FieldValues) and k.asked(evidence.get(k.key)))]


@bp.app_template_global()
def transition_label(kind: str) -> str:
    return _(TRANSITIONS[kind].label) if kind in TRANSITIONS else kind


@bp.app_template_global()
def phase_label(phase: str) -> str:
    return _(PHASE_LABELS.get(phase, phase))


OLD_NOTE = re.compile(r"^采用模板 ([a-z][a-z0-9_]*)$")  # as versions published before notes named templates say


@bp.app_template_global()
def version_note(note: str) -> str:
    """A version's note as a person reads it: an older 'adopted template <key>' names the template."""
    found = OLD_NOTE.match(note or "")
    return f"采用模板《{ops.template_name(found[1])}》" if found else note


def _context(**kw):
    return {"phases": PHASES, "templates": ops.builtin_templates(), **kw}


@bp.get("/")
@require("procedure.view")
def index():
    current = ops.current_version(g.tenant)
    rec = ops.recommended(g.tenant, current_user.id) if can("procedure.manage") else None
    return render_template("procedures/index.html", **_context(current=current, versions=ops.versions(g.tenant),
                                                              recommended=rec))


# The editor, the confirmations and YAML export (editor.py)
bp.add_url_rule("/adopt", "adopt", editor.adopt, methods=["POST"])
bp.add_url_rule("/edit", "edit", editor.edit, methods=["GET", "POST"])
bp.add_url_rule("/export", "export", editor.export)


@bp.get("/v/<int:number>")
@require("procedure.view")
def version(number: int):
    row = ops.version(g.tenant, number)
    if row is None:
        abort(404)
    return render_template("procedures/version.html", **_context(row=row, current=ops.current_version(g.tenant)))


@bp.get("/compare")
@require("procedure.view")
def compare():
    if "a" not in request.args or "b" not in request.args:  # nothing chosen yet: offer the choice
        return render_template("procedures/compare.html", **_context(a=None, b=None, rows=[],
                                                                     versions=ops.versions(g.tenant)))
    a = ops.version(g.tenant, request.args.get("a", type=int, default=0))
    b = ops.version(g.tenant, request.args.get("b", type=int, default=0))
    if a is None or b is None:
        abort(404)
    return render_template("procedures/compare.html", **_context(a=a, b=b, rows=ops.compare(a.definition, b.definition),
                                                                 versions=ops.versions(g.tenant)))
