"""The API keeps its OpenAPI document: every answer it gives, to any input, is declared there with its shape.

Schemathesis generates requests for every operation from the document (valid ones, and invalid ones
that must be refused), sends them to the app in-process, and runs all of its checks on each answer:
no 5xx, no undeclared status code or content type, every body matching its schema, invalid input
refused, authentication not ignored. It runs once as an admin with a personal token and once as a
source with its key, against a small organisation with leads, submissions and a webhook with
deliveries, so that ids in paths sometimes name real rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from leadbaton.accounts.services import token_issue
from leadbaton.core import clock
from leadbaton.notify.models import OutboxMessage
from leadbaton.notify.services import subscription_add
from leadbaton.worker.loop import Worker
from leadbaton.wsgi import application

EXAMPLES_PER_OPERATION = 50

CONFIG = SchemathesisConfig.from_dict({
    "seed": 13,
    "checks": {
        # Valid input that the domain refuses (a lead nobody can reach, a row that is not there, a lead
        # in the wrong stage) is answered 4xx by design; these are the answers such input may get.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]},
        # Far above any answer's real time (milliseconds), so a busy test machine does not make it flaky.
        "max_response_time": 10.0,
    },
})
SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)

# The organisation fixture fills these: the Authorization header of the caller, and ids of real rows.
CALLER: dict[str, str] = {}
STAND_IN = "Bearer the-caller-of-this-run"
REAL: dict[str, list[Any]] = {}
OWN_TOKEN: set[int] = set()


@SCHEMA.auth(refresh_interval=None)
class Caller:
    """The caller of this run: an admin's personal token or a source key (schemathesis still sends cases without it).

    Some cases are made while tests are collected, before the organisation exists: they carry a
    stand-in that is swapped for the caller's key when the request is sent.
    """

    def get(self, case: Any, context: Any) -> str:
        return STAND_IN

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.headers and case.headers.get("Authorization") == STAND_IN:
        case.headers["Authorization"] = CALLER["Authorization"]


@SCHEMA.hook
def map_case(context: Any, case: Any) -> Any:
    """Steer generated cases towards real data, deterministically (from what was generated).

    Every other valid case asks for a real row (an odd id becomes the id of one) or, sent to the intake,
    carries an email that reaches someone, so leads are made and merged from generated fields. The
    caller never revokes its own token: the rest of its run would be 401s.
    """
    parameters = case.path_parameters or {}
    if parameters.get("token_id") in OWN_TOKEN:
        parameters["token_id"] = REAL["token_id"][0]
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return case
    if case.operation.label == "POST /api/v1/leads" and isinstance(case.body, dict) and len(case.body) % 2 == 0:
        case.body["email"] = f"person{len(case.body) % 3}@northwind.example"
    for name, value in parameters.items():
        rows = REAL.get(name)
        if rows and isinstance(value, int) and value % 2:
            parameters[name] = rows[value // 2 % len(rows)]
        elif rows and isinstance(value, str) and len(value) % 2:
            parameters[name] = rows[len(value) // 2 % len(rows)]
    return case


@pytest.fixture
def organisation(org, intake, source, settings) -> dict[str, str]:
    """A small organisation with data; returns the Authorization header of each kind of caller."""
    settings.INTAKE_RATE_LIMIT_PER_MINUTE = 1_000_000  # the rate limit has its own tests
    now = clock.now()
    subscription = subscription_add(url="http://127.0.0.1:9/hooks", events=["lead.created"], description="CRM", now=now)
    leads = [
        intake.post({"email": "dana@northwind.example", "first_name": "Dana", "company": "Northwind", "country": "DE",
                     "company_size": 250, "message": "demo please", "product_interest": "Forecasting"}),
        intake.post({"email": "lee@contoso.example", "country": "US", "company_size": 5000}),
        intake.post({"phone": "+1 415 555 0134"}),
    ]
    intake.post({"first_name": "nobody"})  # rejected
    Worker(poll_seconds=0).tick()  # the receiver is not there: deliveries with a failed attempt
    token = token_issue(user=org.admin, name="contract", now=now)
    laptop = token_issue(user=org.admin, name="laptop", now=now).token  # one to revoke; the caller keeps its own
    CALLER.clear()
    REAL.clear()
    OWN_TOKEN.clear()
    OWN_TOKEN.add(token.token.pk)
    REAL.update(
        lead_id=[answer.json()["id"] for answer in leads],
        submission_id=[answer.json()["submission_id"] for answer in leads],
        subscription_id=[subscription.pk],
        token_id=[laptop.pk],
        message_id=list(OutboxMessage.objects.filter(subscription=subscription).values_list("message_id", flat=True)),
    )
    return {"admin": f"Bearer {token.plaintext}", "source": f"Bearer {intake.key}"}


@pytest.fixture(params=["admin", "source"])
def caller(request: pytest.FixtureRequest, organisation: dict[str, str]) -> Iterator[None]:
    CALLER["Authorization"] = organisation[request.param]
    # As Django's test client does: a request must not close the test's connection (and its transaction).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_is_declared_with_its_shape(case: Any, caller: None) -> None:
    case.call_and_validate()
