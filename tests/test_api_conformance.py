"""The API holds to its own OpenAPI document: schemathesis generates requests for every operation of
/api/v1/openapi.json (the document's examples, its boundaries, random and invalid data, and chains
of calls) and sends them to the app in this process with a street administrator's token. No answer
may be a server error, and every answer must be one the document describes: a documented status,
its content type, a body its schema accepts. Seeded and derandomized, so a run is repeatable.

A bigger local run, e.g. before changing the API:
    SHANGLIANG_API_FUZZ_EXAMPLES=50 SHANGLIANG_API_FUZZ_CHECKS=all pytest -q -s tests/test_api_conformance.py
(`all`: schemathesis's every check, also those that judge the API's leniency, which this test does
not: a schema-valid request a rule of the street refuses, an unknown query value read as the default.)
"""
from __future__ import annotations

import os
import time
from collections import Counter

import pytest
import schemathesis
from schemathesis.engine import events, from_schema

from shangliang.api.base import OPERATIONS

# The document's promises; `unsupported_method` also sends methods a path does not declare (405 + Allow).
CONFORMANCE = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_schema_conformance", "response_headers_conformance", "unsupported_method")
# Sends its probe with an option the in-process (WSGI) transport cannot take (schemathesis 4.32).
NOT_IN_PROCESS = ("ignored_auth",)
EXAMPLES = int(os.environ.get("SHANGLIANG_API_FUZZ_EXAMPLES", "4"))
CHECKS = os.environ.get("SHANGLIANG_API_FUZZ_CHECKS", ",".join(CONFORMANCE))
SEED = 20250520


def run_config(token: str) -> schemathesis.Config:
    checks = {"enabled": CHECKS == "all", **{name: {"enabled": False} for name in NOT_IN_PROCESS}}
    if CHECKS != "all":
        checks.update({name: {"enabled": True} for name in CHECKS.split(",")})
    return schemathesis.Config.from_dict({
        "seed": SEED, "workers": 1, "continue-on-failure": True, "headers": {"Authorization": f"Bearer {token}"},
        "parameters": {"path.slug": "yanshan"},  # the token's street: elsewhere every answer is 404
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        "checks": checks,
        # the app answers in milliseconds; a slow shared machine must not fail the run
        "suppress-health-check": ["all"],
    })


@pytest.fixture
def street_admin_token(app, world):
    """燕山街道 with a procedure (topics can be recorded and moved) and an administrator's token."""
    from shangliang.accounts.operations import create_api_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import publish
    from support.procedures import SMALL

    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, SMALL)
        _row, secret = create_api_token(world.yanshan, world.users["yanshan-admin"].id, "conformance",
                                        "street_admin")
        db.commit()
    return secret


def describe(failure, label: str) -> str:
    message = " ".join(str(failure.message).split())[:300]
    return f"{label} · {failure.title}: {message}"


def reproduce(recorder, case_id: str) -> str:
    """The request as a command line, and what the app answered."""
    node, interaction = recorder.cases.get(case_id), recorder.interactions.get(case_id)
    answer = interaction.response if interaction is not None else None
    sent = node.value.as_curl_command() if node else ""
    return f"{sent}\n      → {answer.status_code} {answer.content[:300]!r}" if answer is not None else sent


def conform(schema) -> int:
    """Runs schemathesis over `schema`; fails naming every failure and error. Returns how many operations ran."""
    operations = sum(1 for _ in schema.get_all_operations())
    started = time.monotonic()
    cases, failures, errors, examples = Counter(), Counter(), [], {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases[event.phase.value] += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        text = describe(check.failure_info.failure, event.recorder.label)
                        failures[text] += 1
                        examples.setdefault(text, reproduce(event.recorder, case_id))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    print(f"\nschemathesis: {operations} operations, {sum(cases.values())} requests {dict(cases)}, "
          f"{sum(failures.values())} failures, {len(errors)} errors, {time.monotonic() - started:.1f} s")
    assert not errors, "\n".join(errors)
    assert not failures, "\n".join(f"{n:3d} × {text}\n      {examples[text]}" for text, n in failures.most_common())
    return operations


def test_every_operation_answers_as_the_document_says(app, street_admin_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=run_config(street_admin_token))
    assert conform(schema) == len(OPERATIONS)  # every operation declared is in the run


@pytest.fixture
def service_account_token(app, world):
    """燕山街道 with a procedure and a service account for its mini-program (scope `residents`)."""
    from shangliang.accounts.tokens import create_service_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import publish
    from support.procedures import SMALL

    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, SMALL)
        _row, secret = create_service_token(world.yanshan, world.users["yanshan-admin"].id, "conformance-mini",
                                            "wechat_mini")
        db.commit()
    return secret


def test_the_resident_operations_answer_as_the_document_says_for_a_service_account(app, service_account_token):
    """The operations a street administrator's token may not use (403), with the token that may: a
    service account's, raising topics, following them, rating and confirming, refused as documented."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=run_config(service_account_token))
    resident = [op for op in OPERATIONS if op["scope"] == "residents"]
    assert resident and conform(schema.include(path_regex=r"/resident/")) == len(resident)
