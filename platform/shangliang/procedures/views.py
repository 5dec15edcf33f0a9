from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..core import menu
from ..core.lifecycle import Attempt
from ..core.permissions import can, require
from ..i18n import _
from . import editing
from . import operations as ops
from .evidence import EVIDENCE, FieldValues
from .schema import ACTOR_ROLES, PHASE_LABELS, PHASES, ProcedureInvalid, parse
from .transitions import TRANSITIONS

bp = Blueprint("procedure", __name__, url_prefix="/t/<slug>/manage/procedure")
menu.entry("procedure.index", "工作法", 140, "settings", "procedure.view", kinds={"county", "street"}, current="procedure.")
MAX_TEXT = 100_000


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


def _context(**kw):
    return {"phases": PHASES, "templates": ops.builtin_templates(), **kw}


@bp.get("/")
@require("procedure.view")
def index():
    current = ops.current_version(g.tenant)
    rec = ops.recommended(g.tenant, current_user.id) if can("procedure.manage") else None
    return render_template("procedures/index.html", **_context(current=current, versions=ops.versions(g.tenant),
                                                              recommended=rec))


@bp.post("/adopt")
@require("procedure.manage")
def adopt():
    with Attempt() as attempt:
        row = ops.adopt(g.tenant, current_user.id, request.form.get("template", ""))
        flash(_("已发布第 {n} 版：{name}", n=row.number, name=row.name), "success")
    if attempt.refusal:
        flash(_(attempt.refusal.message), "error")
    return redirect(url_for(".index"))


@bp.route("/edit", methods=["GET", "POST"])
@require("procedure.manage")
def edit():
    current = ops.current_version(g.tenant)
    template = ops.builtin_templates().get(request.args.get("template", ""))
    text = template["text"] if template else (current.source_text if current else "")
    base = current.number if current else 0
    problems, preview, changes, status = [], None, None, 200
    if request.method == "POST":
        text = request.form.get("text", "")
        base = request.form.get("base", type=int, default=0)
        if len(text) > MAX_TEXT:
            problems, status = [("text", _("内容过长（上限 {n} 字符）", n=MAX_TEXT))], 400
        else:
            try:
                with Attempt("base") as attempt:  # a refused publication rolls back what it began
                    if request.form.get("action", "").startswith("form:"):
                        text = _apply_form(text, request.form)
                    if request.form.get("action") == "publish":
                        row = ops.publish(g.tenant, current_user.id, text, request.form.get("note", ""),
                                          expected_number=base)
                        flash(_("已发布第 {n} 版：{name}", n=row.number, name=row.name), "success")
                        return redirect(url_for(".version", number=row.number))
                    preview = parse(text)
                    changes = ops.compare(current.definition, preview) if current else None
                if attempt.refusal:
                    problems, status = list(attempt.errors.items()), attempt.status
            except ProcedureInvalid as exc:  # found before anything is written
                problems, status = exc.problems, 400
                preview = None
    structured = None
    try:
        structured = parse(text) if text else None
    except ProcedureInvalid:
        pass  # the text box shows the problems; the form editor needs a valid procedure
    return render_template("procedures/edit.html", structured=structured, actor_roles=ACTOR_ROLES, **_context(
        text=text, base=base, current=current, problems=problems, preview=preview, changes=changes,
        note=request.form.get("note", ""))), status


def _apply_form(text: str, form) -> str:
    """The form editor: one structured change to the definition in the text box, back as YAML."""
    definition = parse(text)
    action = form["action"]
    if action == "form:steps":
        for step in definition["steps"]:
            k = step["key"]
            definition = editing.update_step(definition, k, zh=form.get(f"{k}.zh", ""), en=form.get(f"{k}.en", ""),
                                             amount=form.get(f"{k}.amount", ""), unit=form.get(f"{k}.unit", "none"),
                                             roles=form.getlist(f"{k}.roles"),
                                             notice=bool(form.get(f"{k}.notice")))
    elif action.startswith("form:remove:"):
        definition = editing.remove_step(definition, action.removeprefix("form:remove:"))
    elif action == "form:insert":
        definition = editing.insert_step(definition, form.get("new.after", ""), key=form.get("new.key", "").strip(),
                                         zh=form.get("new.zh", ""), en=form.get("new.en", ""),
                                         phase=form.get("new.phase", ""), roles=form.getlist("new.roles"))
    return editing.to_yaml(definition)


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
