"""The brand pages (品牌) of a tenant, and the public stylesheet and images of its versions."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, g, make_response, redirect, render_template, \
    request, url_for
from flask_login import current_user

from ..core import menu
from ..core.first_steps import Check, first_step
from ..core.lifecycle import Attempt
from ..core.permissions import can, public, require
from ..core.storage import StorageError, StorageUnavailable, own_key
from ..i18n import _
from . import brand, fields, images, operations as ops

bp = Blueprint("branding", __name__, url_prefix="/t/<slug>")
menu.entry("branding.index", "品牌", 120, "settings", "brand.manage", kinds={"street"}, current="branding.")
first_step("brand", "品牌", "设置名称、颜色和标志，预览后发布", 10, "brand.manage",
           Check("branding.index", lambda tenant: tenant.brand_number is not None))

FORM_FIELDS = ("display_name", "brand_name", "slogan", "intro", "primary_colour", "accent_colour", "text_colour",
               "hotlines", "mailbox", "stations", "footer", "note", "base")
IMMUTABLE = "public, max-age=31536000, immutable"
# The pages a preview shows, by path: whichever view serves them renders with the draft brand.
PREVIEW_PAGES = {"portal": "/t/{slug}/", "staff": "/t/{slug}/manage/"}


def _visible_version(number: int):
    """A version for the public routes: published ones for anyone, drafts for brand managers."""
    row = ops.version(g.tenant, number)
    if row is None:
        abort(404)
    published = row.published_at is not None
    if not published and not can("brand.manage"):
        abort(404)  # a draft does not exist for anyone else
    return row, published


def _cache(resp: Response, published: bool) -> Response:
    # A version never changes, so its URL can be cached for good; a draft is not cached at all.
    resp.headers["Cache-Control"] = IMMUTABLE if published else "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/brand/<int:number>.css")
@public  # published versions are public; drafts only for brand managers (checked inside)
def css(number: int):
    row, published = _visible_version(number)
    resp = Response(brand.stylesheet(brand.brand_of(g.tenant, row)), mimetype="text/css")
    return _cache(resp, published)


@bp.get("/brand/<int:number>/<kind>")
@public  # as css()
def image(number: int, kind: str):
    if kind not in images.IMAGE_KINDS:
        abort(404)
    row, published = _visible_version(number)
    key = getattr(row, f"{kind}_key")
    if not key:
        abort(404)
    try:
        data = current_app.extensions["storage"].get(own_key(g.tenant.id, key))
    except StorageUnavailable:
        raise  # away for a moment (503), not a missing image
    except StorageError:  # gone, or not this tenant's (logged)
        abort(404)
    ext = key.rsplit(".", 1)[-1]
    resp = Response(data, mimetype=images.CONTENT_TYPES.get(ext, "application/octet-stream"))
    resp.headers["Content-Disposition"] = f'inline; filename="{kind}.{ext}"'
    # Even if the bytes were something else, they may run nothing from our origin.
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _cache(resp, published)


@bp.route("/manage/brand/", methods=["GET", "POST"])
@require("brand.manage")
def index():
    errors, status = {}, 200
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in FORM_FIELDS}
        for kind in images.IMAGE_KINDS:
            form[f"remove_{kind}"] = request.form.get(f"remove_{kind}", "")
        with Attempt() as attempt:
            row = ops.save_version(g.tenant, current_user.id, form, request.files)
            flash(_("已保存为第 {n} 版（草稿）。请预览，确认后发布。", n=row.number), "success")
            return redirect(url_for(".preview", number=row.number))
        refusal = attempt.refusal  # a brand's messages carry values to format once translated
        errors = refusal.messages(_) if isinstance(refusal, fields.BrandInvalid) else attempt.errors
        status = attempt.status
        if any(getattr(request.files.get(k), "filename", "") for k in images.IMAGE_KINDS):
            errors.setdefault("form", _("已填写的内容都已保留；选择的图片浏览器无法保留，请重新选择后再保存。"))
    else:
        form = brand.form_values(g.tenant, ops.latest_version(g.tenant))  # edit on from the newest
    base = ops.version(g.tenant, int(form["base"])) if str(form.get("base") or "").isdigit() else None
    rows = ops.versions(g.tenant)
    return render_template("branding/index.html", form=form, errors=errors, base=base, rows=rows,
                           authors=ops.authors(rows), rules=images.IMAGE_RULES, labels=fields.FIELD_LABELS,
                           current_number=g.tenant.brand_number), status


@bp.get("/manage/brand/preview/<int:number>")
@require("brand.manage")
def preview(number: int):
    """The tenant's real pages, drawn with version `number`: the public portal or the staff overview."""
    row = ops.version(g.tenant, number)
    if row is None:
        abort(404)
    show = request.args.get("show", "portal")
    if show not in PREVIEW_PAGES:
        abort(404)
    g.brand_preview = row
    adapter = current_app.url_map.bind("localhost")
    endpoint, args = adapter.match(PREVIEW_PAGES[show].format(slug=g.tenant.slug), method="GET")
    args.pop("slug", None)  # the tenant is already resolved: this request's
    resp = make_response(current_app.view_functions[endpoint](**args))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/manage/brand/publish/<int:number>")
@require("brand.manage")
def publish(number: int):
    """发布 or 恢复: first a page saying what the public and the staff pages will show; done once confirmed."""
    row = ops.version(g.tenant, number)
    if row is None:
        abort(404)
    restoring = row.published_at is not None
    if request.form.get("confirm") != "1":
        return _confirm(row, restoring)
    ops.publish(g.tenant, current_user.id, number)
    flash(_("已恢复第 {n} 版品牌，公开页面和工作页面已使用此版本。", n=number) if restoring else
          _("已发布第 {n} 版品牌，公开页面和工作页面已使用此版本。", n=number), "success")
    return redirect(url_for(".index"))


def _confirm(row, restoring: bool):
    current = ops.version(g.tenant, g.tenant.brand_number) if g.tenant.brand_number else None
    what = dict(n=row.number, name=row.display_name, brand=row.brand_name)
    lead = [_("恢复后，公开页面和工作人员页面立即使用第 {n} 版品牌：{name}「{brand}」。", **what) if restoring else
            _("发布后，公开页面和工作人员页面立即使用第 {n} 版品牌：{name}「{brand}」。", **what)]
    if current is None:
        lead.append(_("此前这些页面使用默认的名称和颜色。"))
    elif current.number == row.number:
        lead.append(_("第 {n} 版已在使用，页面不会有变化。", n=row.number))
    else:
        changed = ops.differences(current, row)
        lead.append(_("与正在使用的第 {m} 版相比，改变的是：{fields}。", m=current.number,
                      fields="、".join(_(label) for label in changed)) if changed else
                    _("与正在使用的第 {m} 版内容相同。", m=current.number))
    return render_template("confirm.html", heading=_("恢复第 {n} 版品牌？", n=row.number) if restoring else
                           _("发布第 {n} 版品牌？", n=row.number), lead=lead, shown=None, images=None,
                           after=[_("以后随时可以恢复之前的版本。")], fields=[], action=url_for(".publish", number=row.number),
                           confirm_label=_("确认恢复") if restoring else _("确认发布"),
                           back_url=url_for(".preview", number=row.number), back_label=_("返回预览"))
