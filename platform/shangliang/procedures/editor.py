"""The procedure editor's pages: the form (the editor), YAML export and import for advanced users,
and the confirmations before publishing or adopting (what will change), then what did.

The draft travels with the page as YAML in a hidden field; what the form says of each step is
applied to it on every post (form.py). A post with a problem shows back what was typed, with the
problems by step and field, and keeps the draft as it was; one without shows the new draft."""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.errors import Refused
from ..core.lifecycle import Attempt
from ..core.permissions import require
from ..i18n import _
from . import editing, form as form_reader
from . import operations as ops
from .evidence import EVIDENCE, FIELDS
from .schema import ACTOR_ROLES, PHASES, ProcedureInvalid, load, parse
from .transitions import transition_kinds

MAX_TEXT = 100_000


def _context(**kw) -> dict:
    return {"phases": PHASES, "actor_roles": ACTOR_ROLES, "evidence_kinds": list(EVIDENCE.values()),
            "field_names": FIELDS, "transition_kinds": transition_kinds(), **kw}


def _page(definition: dict | None, base: int, *, errors=None, typed=None, problems=None, yaml_text=None,
          status: int = 200, fresh: bool = False):
    current = ops.current_version(g.tenant)
    text = editing.to_yaml(definition) if definition else ""
    changes = ops.compare(current.definition, definition) if current and definition else None
    return render_template("procedures/edit.html", **_context(
        structured=definition, text=text, base=base, current=current, errors=errors or {}, typed=typed,
        problems=problems or [], yaml_text=text if yaml_text is None else yaml_text, changes=changes, fresh=fresh,
        note=request.form.get("note", ""))), status


@require("procedure.manage")
def edit():
    if request.method == "GET":
        current = ops.current_version(g.tenant)
        template = ops.builtin_templates().get(request.args.get("template", ""))
        definition = template["definition"] if template else current.definition if current else None
        return _page(definition, current.number if current else 0, fresh=True)
    form = request.form
    text, base = form.get("text", ""), form.get("base", type=int, default=0)
    action = form.get("action", "preview").removeprefix("form:")
    if action == "import":
        return _import(text, form.get("yaml", ""), base)
    if len(text) > MAX_TEXT:
        return _page(None, base, problems=[("text", _("内容过长（上限 {n} 字符）", n=MAX_TEXT))], yaml_text="", status=400)
    try:
        definition = parse(text)
    except ProcedureInvalid as exc:  # a draft posted as text (a script, an old page): named as the file has it
        return _page(None, base, problems=exc.problems, yaml_text=text, status=400)
    draft, errors = form_reader.read(definition, form)
    if not errors:
        draft, errors = _restructure(draft, action, form)
    if not errors:
        try:
            draft = load(draft)
        except ProcedureInvalid as exc:
            errors = form_reader.worded(exc.problems, draft)
    if errors:  # the draft stays as it was; the page shows what was typed, the problems beside it
        return _page(definition, base, errors=errors, typed=form, status=400)
    if action == "export":
        return _download(draft, "procedure-draft.yaml")
    if action == "publish":
        return _publish(draft, base, form.get("note", ""))
    return _page(draft, base)


def _restructure(draft: dict, action: str, form) -> tuple[dict, dict]:
    """Removing or inserting a step, once the fields typed have been applied."""
    try:
        if action.startswith("remove:"):
            return editing.remove_step(draft, action.removeprefix("remove:")), {}
        if action == "insert":
            zh = form.get("new.zh", "").strip()
            if not zh:
                return draft, {"new.zh": _("{where}：{what}", where=_("插入步骤"), what=_("请填写新步骤的中文名称"))}
            return editing.insert_step(draft, form.get("new.after", ""), key=form_reader.new_key(draft), zh=zh[:40],
                                       en=form.get("new.en", "").strip()[:80] or zh[:40],
                                       phase=form.get("new.phase", ""), roles=form.getlist("new.roles")), {}
    except Refused as exc:
        return draft, {f"new.{exc.field.removeprefix('new.')}": _(exc.message)}
    return draft, {}


def _import(text: str, source: str, base: int):
    """YAML pasted by an advanced user replaces the draft; a bad one leaves the draft and keeps the text."""
    try:
        kept = parse(text) if text else None
    except ProcedureInvalid:
        kept = None
    if len(source) > MAX_TEXT:
        return _page(kept, base, problems=[("yaml", _("内容过长（上限 {n} 字符）", n=MAX_TEXT))], yaml_text="", status=400)
    try:
        definition = parse(source)
    except ProcedureInvalid as exc:
        return _page(kept, base, problems=exc.problems, yaml_text=source, status=400)
    flash(_("已导入 YAML：请在下方检查每一步，确认后发布"), "success")
    return _page(definition, base)


def _download(definition: dict, filename: str) -> Response:
    return Response(editing.to_yaml(definition), mimetype="application/x-yaml; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def _in_progress_words(name: str, number: int, busy: int, current) -> str:
    if current is None:
        return _("发布后，新登记的议题按「{name}」第 {n} 版办理。", name=name, n=number)
    if not busy:
        return _("发布后，新登记的议题按「{name}」第 {n} 版办理；目前没有在办的议题。", name=name, n=number)
    return _("发布后，新登记的议题按「{name}」第 {n} 版办理；已在办的 {k} 件议题仍按原版本办完。",
             name=name, n=number, k=busy)


def _done(row, busy: int) -> str:
    if not busy:
        return _("已发布第 {n} 版「{name}」：新登记的议题按此版本办理。", n=row.number, name=row.name)
    return _("已发布第 {n} 版「{name}」：新登记的议题按此版本办理；已在办的 {k} 件议题仍按原版本办完。",
             n=row.number, name=row.name, k=busy)


def _publish(draft: dict, base: int, note: str):
    current, busy = ops.current_version(g.tenant), ops.in_progress(g.tenant)
    if not request.form.get("confirm"):  # say what will change, and publish only when confirmed
        name, number = draft["name"]["zh"], (current.number if current else 0) + 1
        return render_template("procedures/confirm.html", **_context(
            heading=_("发布「{name}」第 {n} 版？", name=name, n=number), definition=draft,
            lead=[_in_progress_words(name, number, busy, current)],
            changes=ops.compare(current.definition, draft) if current else None, current=current,
            fields={"text": editing.to_yaml(draft), "base": base, "note": note, "action": "publish"},
            back={"text": editing.to_yaml(draft), "base": base, "note": note, "action": "preview"},
            action=url_for(".edit"), confirm_label=_("确认发布")))
    with Attempt("base") as attempt:  # a refused publication rolls back what it began
        row = ops.publish(g.tenant, current_user.id, editing.to_yaml(draft), note, expected_number=base)
        flash(_done(row, busy), "success")
        return redirect(url_for(".version", number=row.number))
    return _page(draft, base, errors={"base": _(attempt.refusal.message)}, status=attempt.status)


def _adoption(key: str) -> tuple[str, dict] | None:
    """The name and the definition of what `key` would adopt: a built-in, or the county's ('county')."""
    if key == "county":
        rec = ops.recommended(g.tenant, current_user.id)
        return (rec.name, rec.definition) if rec else None
    template = ops.builtin_templates().get(key)
    return (ops.template_name(key), template["definition"]) if template else None


@require("procedure.manage")
def adopt():
    key = request.form.get("template", "")
    if not request.form.get("confirm"):
        found = _adoption(key)
        if found is None:
            flash(_("没有这个工作法模板"), "error")
            return redirect(url_for(".index"))
        name, definition = found
        current, busy = ops.current_version(g.tenant), ops.in_progress(g.tenant)
        number = (current.number if current else 0) + 1
        lead = [_("采用后，「{name}」将作为第 {n} 版发布，取代当前的「{old}」（第 {m} 版）；您对当前版本的修改不会带过去。",
                  name=name, n=number, old=current.name, m=current.number) if current else
                _("采用后，「{name}」将作为第 {n} 版发布。", name=name, n=number),
                _in_progress_words(name, number, busy, current)]
        return render_template("procedures/confirm.html", **_context(
            heading=_("采用「{name}」？", name=name), definition=definition, lead=lead, current=current,
            changes=ops.compare(current.definition, definition) if current else None,
            fields={"template": key}, back=None, action=url_for(".adopt"), confirm_label=_("确认采用")))
    busy = ops.in_progress(g.tenant)
    with Attempt() as attempt:
        row = ops.adopt(g.tenant, current_user.id, key)
        flash(_done(row, busy), "success")
    if attempt.refusal:
        flash(_(attempt.refusal.message), "error")
    return redirect(url_for(".index"))


@require("procedure.view")
def export():
    """The procedure as YAML, for advanced users: a version (`v`), a built-in (`template`) or the current one."""
    template = ops.builtin_templates().get(request.args.get("template", ""))
    if template:
        return _download(template["definition"], f"{request.args['template']}.yaml")
    number = request.args.get("v", type=int)
    row = ops.version(g.tenant, number) if number else ops.current_version(g.tenant)
    if row is None and number:
        abort(404)
    if row is None:  # nothing published yet: nothing to export, said as the 工作法 page says it
        return render_template("procedures/empty.html")
    return _download(row.definition, f"procedure-v{row.number}.yaml")
