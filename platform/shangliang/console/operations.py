"""The county's console: onboarding a street (its tenant, communities, first procedure and its
first administrator's invitation, in one transaction) and the overview of its streets. Above
procedures and topics, which it adopts and counts; tenants themselves know neither."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..core.errors import Invalid, Refused
from ..core.first_steps import STEPS, FirstStep
from ..core.tenancy import cross_tenant, tenant_context
from ..procedures.operations import adopt, builtin_templates, current_version, publish, version
from ..tenants.models import Community, Tenant
from ..tenants.operations import create_invitation, create_tenant, parse_communities
from ..departments.operations import answered_by
from ..roster.pairing import paired_members_of_worker
from ..topics import transfers
from ..topics.models import Topic
from ..topics.people import grid_only, grids_of, within_reach


def procedure_choices(county: Tenant | None) -> list[tuple[str, str]]:
    """What a new street may start with: the built-ins, and the county's recommended one first.
    Read in the county's own scope: it is the county's procedure."""
    out = []
    if county is not None and county.is_county:
        with tenant_context(county.id):
            rec = current_version(county)
        if rec is not None:
            out.append((f"county:{rec.number}", f"{county.name}推荐：{rec.name}（第 {rec.number} 版）"))
    out += [(k, t["definition"]["name"]["zh"]) for k, t in builtin_templates().items()]
    return out


def _optional_int(value, field: str, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        raise Refused(f"{label}须为整数", field) from None
    if not 0 <= n <= 100_000_000:
        raise Refused(f"{label}须在 0 到 1 亿之间", field)
    return n


def provision(parent: Tenant, actor_id: int, form: dict) -> tuple[Tenant, str | None]:
    """A county creates a street (or the platform a county) in one transaction: the tenant,
    its communities and grids, its first procedure, and a one-time invitation for its first
    administrator. Returns the tenant and the invitation token (shown once). Nothing is
    committed here: if any part fails the caller rolls back and nothing remains."""
    kind = "street" if parent.is_county else "county" if parent.kind == "platform" else None
    if kind is None:
        raise Refused("街道下不能再设下级单位", "kind")
    households = _optional_int(form.get("households"), "households", "户数")
    population = _optional_int(form.get("population"), "population", "人口")
    parsed = parse_communities(form.get("communities", "")) if kind == "street" else []
    choice = (form.get("procedure") or "").strip()
    if kind == "street" and choice not in {k for k, _ in procedure_choices(parent)}:
        raise Refused("请选择街道起步使用的工作法", "procedure")
    recommended_text = None
    if choice.startswith("county:"):
        with tenant_context(parent.id):
            recommended_text = version(parent, int(choice.split(":", 1)[1])).source_text
    tenant = create_tenant(actor_id, kind=kind, slug=(form.get("slug") or "").strip().lower(),
                           name=form.get("name") or "", parent=parent if kind == "street" else None,
                           households=households)
    tenant.population = population
    with tenant_context(tenant.id, actor_id):
        for i, (name, grids) in enumerate(parsed):
            db.add(Community(tenant_id=tenant.id, name=name, grids=grids, position=i))
        if recommended_text is not None:
            publish(tenant, actor_id, recommended_text, note=f"采用{parent.name}推荐的工作法")
        elif choice:
            adopt(tenant, actor_id, choice)
        token = None
        if form.get("invite", "1") not in ("", "0", None):
            try:
                _inv, token = create_invitation(tenant, actor_id, f"{kind}_admin", form.get("invite_note", ""))
            except Invalid as exc:  # only the note can be wrong here: it is this form's 首位管理员（备注）
                raise Refused(exc.message, "invite_note") from None
        db.flush()
    record(parent.id, actor_id, f"{kind}.create", tenant.slug, {"name": tenant.name, "procedure": choice or None,
                                                                "communities": len(parsed)})
    return tenant, token


def activity(acting: Tenant, actor_id: int, tenants: list[Tenant]) -> dict[int, dict]:
    """Per street: topics raised in the last 30 days, open topics, last topic time.
    Aggregates only, through the audited escape, in one query."""
    ids = [t.id for t in tenants if t.is_street]
    if not ids:
        return {}
    since = utcnow() - timedelta(days=30)
    with cross_tenant(ids, reason=f"street activity for {acting.slug}", actor_id=actor_id,
                      acting_tenant_id=acting.id):
        rows = db.execute(select(Topic.tenant_id, func.count().filter(Topic.created_at >= since),
                                 func.count().filter(Topic.status == "open"), func.max(Topic.created_at))
                          .group_by(Topic.tenant_id))
        return {t: {"recent": r, "open": o, "last": last} for t, r, o, last in rows if t in ids}


def my_work(tenant: Tenant, user_id: int, roles: set[str]) -> dict:
    """What waits for this person on their home page: a department contact's open transfers (across
    the county's streets for a county department, read through the audited path), a grid worker's
    grids, the topics open there and the members paired with those grids (结对委员)."""
    out: dict = {}
    mine = [d for t, d in answered_by(user_id) if t == tenant.id]
    if mine:
        now = utcnow()
        if tenant.is_street:
            out["transfers"] = transfers.waiting(tenant.id, mine, now)
        else:
            with cross_tenant(transfers.streets_of(tenant), reason="department home", actor_id=user_id,
                              acting_tenant_id=tenant.id):
                out["transfers"] = transfers.waiting(tenant.id, mine, now)
    if tenant.is_street and grid_only(roles):
        grids = grids_of(user_id)
        out["grids"] = grids
        out["grid_topics"] = db.scalar(within_reach(select(func.count()).select_from(Topic)
                                                    .where(Topic.status == "open"), roles, user_id)) or 0
        out["paired"] = paired_members_of_worker(user_id)
    return out


@dataclass(frozen=True)
class StepState:
    step: FirstStep
    done: bool
    endpoint: str  # where to go next: the first check not yet done (the first one when all are)


def first_steps(tenant: Tenant, may) -> list[StepState]:
    """The first steps this person may do (`may(permission)`), each ticked from the data: the
    answers from the tenant row, and every EXISTS the areas registered in one statement."""
    steps = [s for s in STEPS if may(s.permission)]
    answers = [[check.done(tenant) for check in s.checks] for s in steps]
    asked = [a for row in answers for a in row if not isinstance(a, bool)]
    values = iter(db.execute(select(*asked)).one() if asked else ())
    out = []
    for step, row in zip(steps, answers):
        done = [a if isinstance(a, bool) else bool(next(values)) for a in row]
        pending = next((c for c, ok in zip(step.checks, done) if not ok), step.checks[0])
        out.append(StepState(step, all(done), pending.endpoint))
    return out
