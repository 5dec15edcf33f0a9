"""The departments page of a street or county: the list, adding and editing a department, and
binding the people who answer for it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..core import menu
from ..core.lifecycle import Attempt
from ..core.permissions import can, require
from ..i18n import _
from . import operations as ops
from .models import KINDS

bp = Blueprint("departments", __name__, url_prefix="/t/<slug>/departments")
menu.entry("departments.index", "部门", 150, "settings", "departments.view", kinds={"county", "street"},
           current="departments.")
FIELDS = ("name", "kind", "phone", "note")


def _no_platform():
    if g.tenant.kind == "platform":
        abort(404)


@bp.route("/", methods=["GET", "POST"])
@require("departments.view")
def index():
    _no_platform()
    form, errors, status = {"kind": "street_office" if g.tenant.is_street else "county_department"}, {}, 200
    if request.method == "POST":
        if not can("departments.manage"):
            abort(403)
        form = {k: request.form.get(k, "") for k in FIELDS}
        with Attempt() as attempt:
            dept = ops.save(g.tenant, current_user.id, form)
            flash(_("已添加：{name}。可在下方为它绑定联系人。", name=dept.name), "success")
            return redirect(url_for(".edit", department_id=dept.id))
        errors, status = attempt.errors, 400
    departments = ops.listed()
    county = [c for c in ops.choices(g.tenant, current_user.id) if c.county] if g.tenant.is_street else []
    return render_template("departments/index.html", departments=departments, kinds=KINDS, form=form,
                           errors=errors, contacts=ops.contacts(d.id for d in departments), county=county), status


@bp.route("/<uuid:department_id>", methods=["GET", "POST"])
@require("departments.manage")
def edit(department_id):
    _no_platform()
    dept = ops.find(department_id)
    if dept is None:
        abort(404)
    form = {k: getattr(dept, k) or "" for k in FIELDS} | {"active": "1" if dept.active else "0"}
    errors, status = {}, 200
    if request.method == "POST":
        action = request.form.get("do", "save")
        form = {k: request.form.get(k, "") for k in (*FIELDS, "active")} if action == "save" else form
        with Attempt() as attempt:
            if action == "add_contact":
                user = ops.add_contact(g.tenant, current_user.id, dept, request.form.get("username", ""))
                flash(_("{name} 现在是「{dept}」的联系人，可在“转办待办”中接收和答复。", name=user.display_name,
                        dept=dept.name), "success")
            elif action == "remove_contact":
                ops.remove_contact(g.tenant, current_user.id, dept, request.form.get("user_id", type=int))
                flash(_("已移除联系人"), "success")
            else:
                ops.save(g.tenant, current_user.id, form, dept)
                flash(_("已保存：{name}", name=dept.name), "success")
            return redirect(url_for(".edit", department_id=dept.id))
        errors, status = attempt.errors, 400
    return render_template("departments/edit.html", dept=dept, kinds=KINDS, form=form, errors=errors,
                           contacts=ops.contacts([dept.id]).get(dept.id, []),
                           username=request.form.get("username", "")), status
