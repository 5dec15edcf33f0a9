"""Procedures: the built-in templates, a tenant's published versions, and comparing them."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml
from flask import has_app_context
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from ..accounts.models import ROLE_LABELS
from ..audit.operations import record
from ..core.errors import Refused
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.caches import cached
from ..core.changes import attach, detached_copy, kept, watch, watch_table
from ..core.db import db
from ..core.tenancy import cross_tenant
from ..tenants.models import Tenant
from .editing import to_yaml
from .evidence import EVIDENCE
from .models import ProcedureVersion
from .schema import PHASE_LABELS, parse
from .transitions import TRANSITIONS

TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "tenants" / "procedures"


def without_notes(text: str) -> str:
    """A built-in file as a street receives it: its comments are our notes (where a quote comes
    from, which numbers are ours), not theirs, so they are left out of what a street edits."""
    return to_yaml(yaml.safe_load(text))


@lru_cache
def builtin_templates() -> dict[str, dict]:
    """key → {"definition": ..., "text": ...} for every file in tenants/procedures/."""
    out = {}
    for path in sorted(TEMPLATES_DIR.glob("*.yaml")):
        definition = parse(path.read_text("utf-8"))
        out[definition["key"]] = {"definition": definition, "text": without_notes(path.read_text("utf-8"))}
    return out


def template_name(key: str) -> str:
    """A built-in's name in words (七步订单), for notes and messages; the key only if none is known."""
    found = builtin_templates().get(key)
    return found["definition"]["name"]["zh"] if found else key


# How many topics are still being worked on a street's procedure (they finish on the version they
# started on): filled by topics, above procedures, so that a publication can say so beforehand.
_in_progress: list[Callable[[Tenant], int]] = []


def register_in_progress(count: Callable[[Tenant], int]) -> None:
    _in_progress.append(count)


def in_progress(tenant: Tenant) -> int:
    return sum(count(tenant) for count in _in_progress)


watch_table("procedure_versions", "tenant_id")
PROCEDURES = watch("procedures", "procedure_versions")


def current_version(tenant: Tenant) -> ProcedureVersion | None:
    """The newest version, kept by the process until the street publishes another."""
    return attach(kept(PROCEDURES, tenant.id, lambda: _current_copy(tenant.id), part=lambda v: v.tenant_id))


def _current_copy(tenant_id: int) -> ProcedureVersion | None:
    # named, not only scoped: a copy is kept under this tenant whatever scope it was read in
    row = db.scalar(select(ProcedureVersion).where(ProcedureVersion.tenant_id == tenant_id)
                    .order_by(ProcedureVersion.number.desc()).limit(1))
    return detached_copy(row) if row is not None else None


def version_of(tenant_id: int, version_id) -> ProcedureVersion:
    """The version a topic runs on. Never changed once published, so each process keeps one copy
    under its id (shared by its threads: read, never attached); a topic page, the portal's list
    and 公示 no longer read the procedure's whole definition with every topic."""
    if not has_app_context():  # a job: no app to keep it on, its own session holds it
        return _version_row(tenant_id, version_id)
    return cached("procedure_versions", (tenant_id, version_id),
                  lambda: detached_copy(_version_row(tenant_id, version_id)))


def _version_row(tenant_id: int, version_id) -> ProcedureVersion:
    row = db.scalar(select(ProcedureVersion).where(ProcedureVersion.tenant_id == tenant_id,
                                                   ProcedureVersion.id == version_id))
    if row is None:
        raise LookupError(f"no procedure version {version_id} in tenant {tenant_id}")
    return row


def versions(tenant: Tenant, limit: int = 100) -> list[ProcedureVersion]:
    return list(db.scalars(select(ProcedureVersion).order_by(ProcedureVersion.number.desc()).limit(limit)))


def version(tenant: Tenant, number: int) -> ProcedureVersion | None:
    return db.scalar(select(ProcedureVersion).where(ProcedureVersion.number == number))


def publish(tenant: Tenant, actor_id: int | None, text: str, note: str = "",
            expected_number: int | None = None) -> ProcedureVersion:
    """Check `text` and publish it as the tenant's next version.

    A bad procedure raises ProcedureInvalid and changes nothing. `expected_number` is the
    version the editor started from: if someone published meanwhile, the edit is refused
    rather than silently overwriting theirs.
    """
    definition = parse(text)
    latest = db.scalar(select(func.max(ProcedureVersion.number))) or 0
    if expected_number is not None and expected_number != latest:
        raise Refused(f"在您编辑期间已发布了第 {latest} 版，请基于最新版本重新修改", "base", "conflict")
    row = ProcedureVersion(tenant_id=tenant.id, number=latest + 1, template_key=definition["key"],
                           name=definition["name"]["zh"], definition=definition, source_text=text,
                           note=(note or "").strip()[:500], published_by=actor_id)
    db.add(row)
    try:
        db.flush()
    except IntegrityError:  # two publishes at once: the unique number lets one win
        db.rollback()
        raise Refused("另一位管理员刚刚发布了新版本，请刷新后重试", "base", "conflict") from None
    record(tenant.id, actor_id, "procedure.publish", f"v{row.number} {row.name}",
           {"template": definition["key"], "steps": [s["key"] for s in definition["steps"]]})
    return row


def recommended(tenant: Tenant, actor_id: int | None) -> ProcedureVersion | None:
    """The procedure the street's county recommends: its county's newest version.
    Read through the audited escape, as every read of another tenant is."""
    if not tenant.is_street or tenant.parent_id is None:
        return None
    with cross_tenant([tenant.parent_id], reason="county recommended procedure", actor_id=actor_id,
                      acting_tenant_id=tenant.id):
        row = db.scalar(select(ProcedureVersion).where(ProcedureVersion.tenant_id == tenant.parent_id)
                        .options(undefer(ProcedureVersion.source_text))  # read here, used after
                        .order_by(ProcedureVersion.number.desc()).limit(1))
        if row is not None:
            db.expunge(row)  # a snapshot: it must not be written back from the street's scope
        return row


def adopt(tenant: Tenant, actor_id: int | None, template_key: str) -> ProcedureVersion:
    if template_key == "county":
        rec = recommended(tenant, actor_id)
        if rec is None:
            raise Refused("所属区县还没有推荐工作法", "template")
        return publish(tenant, actor_id, rec.source_text, note=f"采用区县推荐的工作法（第 {rec.number} 版）")
    templates = builtin_templates()
    if template_key not in templates:
        raise Refused("没有这个工作法模板", "template")
    name = template_name(template_key)
    return publish(tenant, actor_id, templates[template_key]["text"], note=f"采用模板《{name}》")


# ---------------------------------------------------------------- comparing versions

def _limit(step) -> str:
    tl = step.get("time_limit") or {}
    if "hours" in tl:
        return f"{tl['hours']} 小时"
    if "working_days" in tl:
        return f"{tl['working_days']} 个工作日"
    return "不限"


def _transitions(step, names: dict[str, str]) -> list[str]:
    return sorted(f"{TRANSITIONS[t['kind']].label if t['kind'] in TRANSITIONS else t['kind']}→"
                  f"{names.get(t.get('to'), t.get('to')) if t.get('to') else '上级'}"
                  + (f"（最多 {t['max_rounds']} 轮）" if t.get("max_rounds") else "") for t in step["transitions"])


def _role(role: str) -> str:
    return "居民" if role == "resident" else ROLE_LABELS.get(role, role)


def _evidence(step) -> str:
    ev = step["evidence"]
    asked = [k.requirement(ev.get(k.key)) for k in EVIDENCE.values() if k.asked(ev.get(k.key))]
    return "；".join(asked) or "无"


ASPECTS = (("name", "名称", lambda s, n: Markup('{} / <span lang="en">{}</span>').format(s["name"]["zh"], s["name"]["en"])),
           ("phase", "阶段", lambda s, n: PHASE_LABELS.get(s["phase"], s["phase"])),
           ("roles", "谁来办", lambda s, n: "、".join(_role(r) for r in s["roles"])),
           ("time_limit", "时限", lambda s, n: _limit(s)),
           ("evidence", "完成条件", lambda s, n: _evidence(s)),
           ("transitions", "去向", lambda s, n: "，".join(_transitions(s, n))),
           ("notice", "议题公示", lambda s, n: "公示" if s.get("notice") else "不公示"),
           ("description", "说明", lambda s, n: s["description"]))


def compare(old: dict, new: dict) -> list[dict]:
    """Step by step, side by side: one row per step key in either version, with what changed."""
    old_steps = {s["key"]: s for s in old["steps"]}
    new_steps = {s["key"]: s for s in new["steps"]}
    order = [s["key"] for s in new["steps"]] + [k for k in old_steps if k not in new_steps]
    names = {s["key"]: s["name"]["zh"] for s in old["steps"] + new["steps"]}
    rows = []
    for key in order:
        a, b = old_steps.get(key), new_steps.get(key)
        status = "added" if a is None else "removed" if b is None else "same"
        changes = []
        for aspect, label, show in ASPECTS:
            va, vb = (show(a, names) if a else ""), (show(b, names) if b else "")
            if a and b and va != vb:
                changes.append({"aspect": aspect, "label": label, "old": va, "new": vb})
        if status == "same" and changes:
            status = "changed"
        rows.append({"key": key, "status": status, "old": a, "new": b, "changes": changes})
    return rows
