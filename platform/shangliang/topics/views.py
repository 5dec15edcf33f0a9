from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import and_, bindparam, exists, func, or_, select, union_all

from ..accounts.models import Membership, User
from ..core import menu
from ..core.first_steps import Check, first_step
from ..core.changes import kept, watch
from ..core.db import db
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import require, roles_in
from ..core.storage import own_link
from ..i18n import _, get_locale
from ..procedures import evaluation
from ..procedures.operations import current_version
from . import operations as ops
from . import outcomes, places, ratings, supervision
from .actions import ACTIONS, event_label
from .channels import CHANNELS
from .counts import by_step as counts_by_step
from .intake import field_value
from .models import Topic, TopicEvent
from .page import parts, register_part
from .people import acting_roles, grid_only, grids_of, reaches, within_reach
from .receipts import raise_for_resident

bp = Blueprint("topics", __name__, url_prefix="/t/<slug>/topics")
menu.entry("topics.board", "议题", 30, "topics", "topics.view", kinds={"street"}, current="topics.")
first_step("topic", "第一个议题", "登记第一个议题，按工作法走一遍", 50, "topics.create",
           Check("topics.new", lambda tenant: select(Topic.id).exists()))
FILTERS = ("category", "community", "channel")
BOARD_CARDS = 20  # per step column; the list view pages through the rest
# What a card shows (topics/_card.html), read as plain rows: a board of 140 cards loaded whole
# topics (description, resident, details) into the session only to print eight fields.
CARD = (Topic.number, Topic.round, Topic.title, Topic.community, Topic.category, Topic.overdue, Topic.due_at,
        Topic.urgency)


def topic_evaluation(topic, log, roles, user_id) -> dict:
    """The rating form's parties (those this person may speak for) and dimensions, at this step."""
    return {"rating_parties": evaluation.parties_of(topic.step, acting_roles(roles)) if topic.status == "open" else [],
            "rating_dimensions": evaluation.dimensions(topic.step) if topic.status == "open" else []}


register_part("evaluation", topic_evaluation)


@bp.record_once
def _helpers(state):
    """Ratings are made and shown on staff pages and on the public portal alike; actions are
    named from their registry."""
    state.app.jinja_env.globals.update(rating_levels=ratings.LEVELS, rating_of=ratings.rating_of,
                                       rating_label=lambda level: _(ratings.LABELS.get(level, level)),
                                       action_label=lambda kind: _(event_label(kind)), field_value=field_value,
                                       evaluation_label=evaluation.label,
                                       evaluation_dimensions=evaluation.dimensions,
                                       street_lists=lambda: places.lists(g.tenant.id))


def _reach(stmt):
    """What this person may follow: a grid worker's grids; everyone else, the whole street."""
    return within_reach(stmt, roles_in(current_user, g.tenant), current_user.id)


def _filtered(stmt):
    stmt = _reach(stmt)
    args = {k: request.args.get(k, "").strip() for k in FILTERS + ("step", "status", "member")}
    for name in FILTERS:
        if args[name]:
            stmt = stmt.where(getattr(Topic, name) == args[name])
    if args["step"]:  # one column of the board, as a list (a phone's board links each step here)
        stmt = stmt.where(Topic.step_key == args["step"])
    if args["member"].isdigit():  # topics the member claimed or was invited to
        uid = int(args["member"])
        took_part = or_(and_(TopicEvent.action == "claim", TopicEvent.actor_id == uid),
                        and_(TopicEvent.action == "invite", TopicEvent.data["user_id"].as_integer() == uid))
        stmt = stmt.where(exists().where(TopicEvent.topic_id == Topic.id, took_part))
    status = args["status"] or "open"
    return _in_status(stmt, status), {**args, "status": status}


def _in_status(stmt, status: str):
    if status == "overdue":
        return stmt.where(Topic.status == "open", Topic.overdue.is_(True))
    if status in ("open", "closed"):
        return stmt.where(Topic.status == status)
    return stmt


def _first_cards(steps: list[dict], stmt, params: dict) -> dict[str, list]:
    """The first cards of every step in one statement: a branch per step, each a short read off
    ix_topics_tenant_step (earliest due first), so it costs the same at any number of topics."""
    by_step: dict[str, list] = {s["key"]: [] for s in steps}
    for row in db.execute(stmt, params):
        by_step[row.step_key].append(row)
    for cards in by_step.values():  # a union promises no order: each column's again, overdue then earliest due first
        cards.sort(key=lambda t: (not t.overdue, 0, t.due_at, t.number) if t.due_at else (not t.overdue, 1, t.number))
    return by_step


def _card_branch(stmt, key):
    return stmt.where(Topic.step_key == key).order_by(Topic.due_at, Topic.number).limit(BOARD_CARDS).subquery().select()


@lru_cache(maxsize=256)
def _street_cards(steps: int, status: str):
    """The whole street's first cards, for any procedure of `steps` steps: built once per process
    (building the union cost more than running it), the step keys bound at each request."""
    card = _in_status(select(*CARD, Topic.step_key), status)
    return union_all(*(_card_branch(card, bindparam(f"step{i}")) for i in range(steps)))


# The member filter's list, kept by the process until the street's memberships or anyone's name change
MEMBERS = watch("members", "memberships", whole=("users",))


def _members(limit: int = 300) -> tuple:
    """The street's CPPCC members, for the member filter."""
    return kept(MEMBERS, g.tenant.id, lambda: tuple(tuple(row) for row in db.execute(
        select(User.id, User.display_name).join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == g.tenant.id, Membership.role == "member")
        .order_by(User.display_name).limit(limit))),
        part=lambda _: g.tenant.id)


# The board's content, kept by the process until the street's topics, procedure, places, members or
# anyone's name change: rendering 140 cards was most of what the page cost, and staff reload it all day.
BOARD = watch("board", "topics", "procedure_versions", "communities", "memberships", "tenants", whole=("users",))


@bp.get("/")
@require("topics.view")
def board():
    """Topics by step of the current procedure: counts for every step, the first cards of each."""
    roles = roles_in(current_user, g.tenant)
    args = _filtered(select(Topic))[1]
    content = lambda: Markup(_board_content(roles, args))  # noqa: E731
    # Kept only where the cards depend on the topics' own rows: not a grid worker's (their grids are
    # rows of the roster) nor the member filter (claims and invitations are rows of the log).
    if grid_only(roles) or args["member"]:
        return render_template("topics/board.html", content=content())
    key = (g.tenant.id, request.script_root, get_locale(), tuple(sorted(roles)), tuple(args.items()))
    return render_template("topics/board.html", content=kept(BOARD, key, content, part=lambda _: g.tenant.id))


def _board_content(roles: set[str], args: dict) -> str:
    version = current_version(g.tenant)
    steps = version.steps if version else []
    narrower = grid_only(roles) or any(args[name] for name in FILTERS + ("step",)) or args["member"].isdigit()
    if not steps:
        counts, late, by_step = {}, {}, {}
    elif narrower:  # a narrower view counts its own and builds its own statement
        counts = dict(db.execute(_filtered(select(Topic.step_key, func.count()).group_by(Topic.step_key))[0]).all())
        late = dict(db.execute(_filtered(select(Topic.step_key, func.count()).where(Topic.overdue.is_(True))
                                         .group_by(Topic.step_key))[0]).all()) if args["status"] != "closed" else {}
        by_step = _first_cards(steps, union_all(*(_card_branch(_filtered(select(*CARD, Topic.step_key))[0], s["key"])
                                                  for s in steps)), {})
    else:  # the whole street: a few rows whatever its size, and a statement built once
        counts = counts_by_step(args["status"])
        late = counts_by_step("overdue") if args["status"] != "closed" else {}
        by_step = _first_cards(steps, _street_cards(len(steps), args["status"]),
                               {f"step{i}": s["key"] for i, s in enumerate(steps)})
    columns = [{"step": s, "count": counts.get(s["key"], 0), "overdue": late.get(s["key"], 0), "cards": by_step[s["key"]]}
               for s in steps]
    known = {s["key"] for s in steps}
    others = db.execute(_filtered(select(*CARD).where(Topic.step_key.not_in(known)))[0]
                        .order_by(Topic.number).limit(BOARD_CARDS)).all() if set(counts) - known else []
    # A card's link is the topic page's path with its number: built once, not once per card.
    card_href = url_for(".show", number=0).removesuffix("0")
    return render_template("topics/_board.html", version=version, columns=columns, others=others, args=args,
                           channels=CHANNELS, total=sum(counts.values()), members=_members(), card_href=card_href)


@bp.get("/list")
@require("topics.view")
def index():
    stmt, args = _filtered(select(Topic))
    page = paginate(stmt.order_by(Topic.number.desc()))
    version = current_version(g.tenant) if args["step"] else None
    step = next((s for s in version.steps if s["key"] == args["step"]), None) if version else None
    return render_template("topics/list.html", page=page, args=args, channels=CHANNELS, members=_members(), step=step)


@bp.route("/new", methods=["GET", "POST"])
@require("topics.create")
def new():
    form, errors = {}, {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("title", "description", "channel", "category", "urgency",
                                                     "community", "grid", "place", "resident_name", "resident_phone")}
        with Attempt() as attempt:
            roles = roles_in(current_user, g.tenant)
            if grid_only(roles):  # 网格员代办: raised for a resident, in the worker's grid unless another is named
                mine = grids_of(current_user.id)
                form["channel"] = form["channel"] or "grid_worker"
                form["grid"] = form["grid"] or (mine[0] if len(mine) == 1 else "")
            topic, code = raise_for_resident(g.tenant, current_user.id, form,
                                             actor_role=next(iter(sorted(roles)), None))
            flash(_("已登记议题 #{n}", n=topic.number), "success")
            if code:  # shown this once: only its hash is kept
                flash(_("居民的回执码：{code}（只显示这一次）。请交给居民，凭回执码和手机号码后四位在公开页面查询进度、确认方案和评价。",
                        code=code), "warning")
            return redirect(url_for(".show", number=topic.number))
        errors = attempt.errors
    return render_template("topics/new.html", form=form, errors=errors, channels=CHANNELS,
                           version=current_version(g.tenant)), 400 if errors else 200


def _download_url(key: str, name: str | None) -> str | None:
    """A short-lived signed link, for evidence logged before attachments were checked (no attachment_id);
    None for a key that is not this tenant's."""
    return own_link(g.tenant.id, key, filename=name or None)


def _topic(number: int) -> Topic:
    topic = db.scalar(select(Topic).where(Topic.number == number))
    if topic is None or not reaches(topic, roles_in(current_user, g.tenant), current_user.id):
        abort(404)  # a grid worker's view of another grid's topic: as if it were not there
    return topic


@bp.get("/<int:number>")
@require("topics.view")
def show(number: int, errors=None, status=200, typed=None):
    topic = _topic(number)
    log = ops.events(topic)
    roles = roles_in(current_user, g.tenant)
    actions = ops.available_actions(topic, roles, current_user.id, log)
    invited = {e.data.get("user_id") for e in log if e.action == "invite"}
    people = dict(db.execute(select(User.id, User.display_name).where(User.id.in_(invited))).all()) if invited else {}
    return render_template("topics/show.html", topic=topic, log=log, actions=actions, errors=errors or {},
                           typed=typed or {}, people=people, download_url=_download_url,
                           **parts(topic, log, roles, current_user.id),
                           handles=ops.handles(topic, roles, current_user.id, log), channels=CHANNELS,
                           missing=ops.missing_evidence(topic, ops.this_visit(topic, log))
                           if topic.status == "open" else []), status


@bp.post("/<int:number>/act")
@require("topics.view")
def act(number: int):
    topic = _topic(number)
    kind = request.form.get("action", "")
    # A field given several times (the departments of a transfer) stays a list.
    data = {k: vs if len(vs) > 1 else vs[0] for k, vs in request.form.lists()
            if k not in ("csrf_token", "action", "to", "version", "comment", "confirm")}
    action = ACTIONS.get(kind)
    if action is not None and action.confirm and request.form.get("confirm") != "1":
        # irreversible: say what will change and ask (the shared confirmation page), what was typed carried along
        label = _(action.label)
        return render_template(
            "confirm.html", heading=_("确认{action}议题 #{n}？", action=label, n=topic.number), lead=[topic.title],
            after=[_(action.confirm)], action=url_for(".act", number=number),
            fields=[(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirm")],
            confirm_label=_("确认{action}", action=label), back_url=url_for(".show", number=number),
            back_label=_("返回，暂不{action}", action=label))
    with Attempt() as attempt:
        event = ops.act(g.tenant, current_user.id, roles_in(current_user, g.tenant), topic, kind,
                        expected_version=request.form.get("version", type=int, default=-1),
                        to=request.form.get("to") or None, comment=request.form.get("comment", ""), data=data)
        told = outcomes.recipients(topic, event, ops.events(topic), current_user.id)
        flash(outcomes.message(topic, event, told), "success")
        return redirect(url_for(".show", number=number))
    # the refused form shows again with what was typed
    return show(number, errors={**attempt.errors, "action": kind}, status=attempt.status, typed=request.form)


@bp.post("/<int:number>/supervise")
@require("topics.supervise")
def supervise(number: int):
    """督办, from the topic page: a refused note shows the page again with what was typed."""
    topic = _topic(number)
    with Attempt("note") as attempt:
        supervision.supervise(g.tenant, topic, current_user.id, roles_in(current_user, g.tenant), request.form)
        flash(_("已督办：新的期限已通知办理人员"), "success")
        return redirect(url_for(".show", number=number))
    return show(number, errors={**attempt.errors, "action": "supervise"}, status=attempt.status, typed=request.form)
