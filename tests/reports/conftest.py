from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from leadbaton.accounts.models import Role
from leadbaton.core import clock
from leadbaton.intake.services import source_create
from leadbaton.pipeline.followup import activity_log, outcome_record
from leadbaton.pipeline.teams import policy_change
from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import person
from tests.reports.test_reconciliation import MONDAY, arrive, emea_with


@pytest.fixture
def web_form(db: None) -> Client:
    """A client posting to the intake API as the website's form does."""
    key = source_create(slug="website", name="Website", now=clock.now()).plaintext
    return Client(headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def week(web_form):
    """EMEA in 2026-W48. Anna came to Lena, who called within 3 minutes (no answer), reached her at the second call and
    sold 1,200 EUR; Ben came to Jonas, who reached him only after 20 minutes and lost him; Carla came to Lena and waits.
    A first response runs out after 5 minutes and only alerts the manager."""
    emea, maria, (lena, jonas) = emea_with("Lena Rep", "Jonas Berg")
    policy_change(scope="default", by=person("Ada Admin", Role.ADMIN), values={"escalation": {"first_response": ["alert_manager at breach"]}},
                  now=MONDAY)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        anna, ben = arrive(web_form, "anna@northwind.example"), arrive(web_form, "ben@northwind.example")
        traveller.shift(timedelta(minutes=1))
        carla = arrive(web_form, "carla@northwind.example")
        traveller.shift(timedelta(minutes=2))
        activity_log(lead_id=anna["id"], by=lena, kind="call", result="no_answer", note="", now=clock.now())
        traveller.shift(timedelta(minutes=4))
        Worker(poll_seconds=0).tick()  # Ben's and Carla's first response ran out
        activity_log(lead_id=anna["id"], by=lena, kind="call", result="connected", note="", now=clock.now())
        traveller.shift(timedelta(minutes=13))
        activity_log(lead_id=ben["id"], by=jonas, kind="call", result="connected", note="", now=clock.now())
        traveller.shift(timedelta(days=1))
        outcome_record(lead_id=anna["id"], by=lena, outcome="purchased", value=Decimal("1200"), currency="EUR", now=clock.now())
        outcome_record(lead_id=ben["id"], by=jonas, outcome="not_interested", reason="chose a competitor", now=clock.now())
    assert [lead["owner"]["id"] for lead in (anna, ben, carla)] == [lena.pk, jonas.pk, lena.pk]
    return {"emea": emea, "maria": maria, "lena": lena, "jonas": jonas}
