"""Transfers (转办) through the API, as on the department's pages (topics/transfer_views.py): a
contact's inbox of their departments' transfers, or the street's list of what it sent; one
transfer; and what a contact does with it: accept, reply, return. A personal token acts as its
owner, so the topic's log names the contact, as when they answer on the page.

The path names the tenant whose token it is, where the contact belongs: a street's own department
answers at the street's slug; a county department's contact at the county's, reading the
transfers its streets sent through the audited cross-tenant path, as its inbox page does, and
answering in the street the transfer lives in (the topic's street, like the page at the street's
address that the transfer lets them into). Anyone else: 404, as for another tenant's object; the
street's people who may follow the topic read it, and are refused answering it (403)."""
from __future__ import annotations

from contextlib import contextmanager, nullcontext

from flask import abort, g, jsonify, request
from sqlalchemy import select

from ..core.db import db
from ..core.pagination import PER_PAGE, Page, page_arg, paginate
from ..core.permissions import TenantSuspended, can, require
from ..core.tenancy import cross_tenant, tenant_context
from ..departments.operations import answered_by
from ..tenants.models import Tenant
from ..topics import transfers as ops
from ..topics.log import clock
from ..topics.models import Topic, Transfer
from ..topics.people import reaches
from .base import body, bp, found, operation, page_json
from .transfer_schemas import (STATE_QUERY, VIEW_QUERY, TransferPageSchema, TransferReplySchema,
                               TransferReturnSchema, TransferSchema, transfer_json)

STATES = ("open", "answered", "all")
PATH = "/t/{slug}/transfers/{transfer_id}"


def _mine_here() -> list:
    if g.api_actor is None:  # a system's token answers for no department
        return []
    return [d for t, d in answered_by(g.api_actor) if t == g.tenant.id]


def _streets_read():
    """The county's streets, read through the audited path (a street reads its own rows)."""
    if g.tenant.is_street:
        return nullcontext()
    return cross_tenant(ops.streets_of(g.tenant), reason="department inbox", actor_id=g.api_actor,
                        acting_tenant_id=g.tenant.id, ip=request.remote_addr)


@bp.get("/t/<slug>/transfers")
@operation("/t/{slug}/transfers", "get", "Transfers: a department contact's (their departments'), or those the "
           "street sent (its staff), 50 a page", response=TransferPageSchema, paged=True,
           query=[STATE_QUERY, VIEW_QUERY])
@require("transfers.view")
def transfers():
    mine = _mine_here()
    view = request.args.get("view") or ("mine" if mine else "sent")
    state = request.args.get("state") if request.args.get("state") in STATES else "open"
    if view == "mine" and mine:
        with _streets_read():
            page = paginate(ops.listing(state, g.tenant.id, mine), scalars=False)
    elif view == "sent" and g.tenant.is_street and can("topics.view"):
        page = paginate(ops.listing(state), scalars=False)
    else:  # nothing to list for this person here
        page = Page([], page_arg(), PER_PAGE, False)
    now, answering = clock(), set(mine)
    items = [transfer_json(r.Transfer, r.number, r.title, street_slug=r.street_slug, street_name=r.street_name,
                           now=now, answering=r.Transfer.department_tenant_id == g.tenant.id
                           and r.Transfer.department_id in answering) for r in page.items]
    return jsonify(page_json(page, items))


def _reached(transfer_id) -> tuple[Transfer, Topic, Tenant, bool]:
    """The transfer, its topic and street, and whether this token's person answers for it; else 404."""
    if g.tenant.is_street:
        transfer = found(ops.find(transfer_id), "transfer")
        topic = db.scalar(select(Topic).where(Topic.id == transfer.topic_id))
        answering = g.api_actor is not None and ops.answers_for(g.api_actor, transfer)
        if not (answering or (can("topics.view") and reaches(topic, g.api_roles, g.api_actor))):
            found(None, "transfer")
        return transfer, topic, g.tenant, answering
    mine = _mine_here()
    if not mine:  # a county's people reach a street's transfer only as its department's contacts
        found(None, "transfer")
    with _streets_read():
        transfer = ops.find(transfer_id)
        if transfer is None or transfer.department_tenant_id != g.tenant.id or transfer.department_id not in mine:
            found(None, "transfer")
        topic = db.scalar(select(Topic).where(Topic.id == transfer.topic_id))
    return transfer, topic, db.get(Tenant, transfer.tenant_id), True


@contextmanager
def _answering(transfer_id):
    """The transfer its contact acts on, in its street (a county department's answer is written there)."""
    transfer, topic, street, answering = _reached(transfer_id)
    if not answering:
        abort(403)
    if street.status == "suspended":  # its people may read, not change (as on the street's pages)
        raise TenantSuspended()
    with tenant_context(street.id, g.api_actor) if street.id != g.tenant.id else nullcontext():
        yield transfer, topic, street


def _answer(transfer, topic, street):
    return jsonify(transfer_json(transfer, topic.number, topic.title, street, answering=True))


@bp.get("/t/<slug>/transfers/<uuid:transfer_id>")
@operation(PATH, "get", "A transfer: what is asked, by when, and the department's answer", response=TransferSchema)
@require("transfers.view")
def transfer(transfer_id):
    t, topic, street, answering = _reached(transfer_id)
    return jsonify(transfer_json(t, topic.number, topic.title, street, answering=answering))


@bp.post("/t/<slug>/transfers/<uuid:transfer_id>/accept")
@operation(PATH + "/accept", "post", "Accept a transfer (接收): its department's contact takes it on",
           response=TransferSchema, subject="transfer", scope="topics")
@require("transfers.view")  # who answers: its contacts (_answering)
def accept(transfer_id):
    with _answering(transfer_id) as (t, topic, street):
        ops.accept(street, topic, t, g.api_actor)
        return _answer(t, topic, street)


@bp.post("/t/<slug>/transfers/<uuid:transfer_id>/reply")
@operation(PATH + "/reply", "post", "Reply to a transfer (答复): what was done; it reaches the street's topic log",
           body=TransferReplySchema, response=TransferSchema, subject="answer", scope="topics")
@require("transfers.view")  # who answers: its contacts (_answering)
def reply(transfer_id):
    with _answering(transfer_id) as (t, topic, street):
        ops.reply(street, topic, t, g.api_actor, body(TransferReplySchema))
        return _answer(t, topic, street)


@bp.post("/t/<slug>/transfers/<uuid:transfer_id>/return")
@operation(PATH + "/return", "post", "Return a transfer (退回) with the reason: the street arranges otherwise",
           body=TransferReturnSchema, response=TransferSchema, subject="reason", scope="topics")
@require("transfers.view")  # who answers: its contacts (_answering)
def give_back(transfer_id):
    with _answering(transfer_id) as (t, topic, street):
        ops.give_back(street, topic, t, g.api_actor, body(TransferReturnSchema))
        return _answer(t, topic, street)
