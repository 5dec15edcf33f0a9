"""The pages of 委员-网格员结对: the street's grids with their paired members and grid workers
(网格结对), and a member's own grids (结对网格). Thin: parse, authorise, call pairing.py, render."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.lifecycle import Attempt
from ..core.pagination import page_arg
from ..core.permissions import can, require
from ..i18n import _
from . import operations as ops
from . import pairing
from .views import street_only

bp = Blueprint("pairing", __name__, url_prefix="/t/<slug>/roster")


def _filters() -> dict[str, str]:
    """The overview's filters, kept across its forms and pages."""
    return {"community": request.values.get("community", "").strip()[:60],
            "gaps": "1" if request.values.get("gaps") == "1" else ""}


@bp.get("/grids")
@require("roster.view")
@street_only
def overview(errors=None, form=None, status=200):
    args = _filters()
    places = pairing.street_places(g.tenant)
    page = pairing.overview(places, args["community"] or None, args["gaps"] == "1", page_arg())
    members = ops.people_for_choice(("member",)) if can("pairing.manage") else []
    return render_template("roster/grids.html", view=page, args=args, places=places, members=members,
                           errors=errors or {}, form=form or {}, kinds=ops.KIND_LABELS), status


def _back_to_overview():
    args = {k: v for k, v in _filters().items() if v}
    page = request.form.get("page", "").strip()
    return redirect(url_for(".overview", page=page if page.isdigit() and page != "1" else None, **args))


@bp.post("/grids/pair")
@require("pairing.manage")
@street_only
def pair():
    form = request.form.to_dict()
    with Attempt() as attempt:
        person, new = pairing.add_pair(g.tenant, current_user.id, form.get("person_id"), form.get("grid"))
        flash(_("已结对：{name}", name=person.name) if new else _("{name} 已与该网格结对", name=person.name), "success")
        return _back_to_overview()
    return overview(errors=attempt.errors, form=form, status=attempt.status)


@bp.post("/pairs/<uuid:pair_id>/remove")
@require("pairing.manage")
@street_only
def unpair(pair_id):
    pair = pairing.find_pair(pair_id)
    if pair is None:
        abort(404)
    person_id = pair.person_id
    pairing.remove_pair(g.tenant, current_user.id, pair)
    flash(_("已解除结对"), "success")
    if request.form.get("back") == "member":
        return redirect(url_for(".member_grids", person_id=person_id))
    return _back_to_overview()


@bp.route("/<uuid:person_id>/grids", methods=["GET", "POST"])
@require("pairing.manage")
@street_only
def member_grids(person_id):
    """A member's 结对网格: every grid of the street, ticked where they are paired."""
    person = ops.find_person(person_id)
    if person is None or person.kind != "member":
        abort(404)
    chosen = [pairing.place_value(p.community, p.grid) for p in pairing.pairs_of(person.id)]
    errors, status = {}, 200
    if request.method == "POST":
        chosen = request.form.getlist("grids")
        with Attempt("grids") as attempt:
            added, removed = pairing.set_pairs(g.tenant, current_user.id, person, chosen)
            flash(_("已保存结对网格：新增 {added} 个，解除 {removed} 个", added=added, removed=removed), "success")
            return redirect(url_for(".member_grids", person_id=person.id))
        errors, status = attempt.errors, attempt.status
    return render_template("roster/member_grids.html", person=person, chosen=set(chosen), errors=errors,
                           places=pairing.street_places(g.tenant), levels=ops.LEVEL_LABELS,
                           place_value=pairing.place_value), status
