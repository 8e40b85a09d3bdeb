"""Webhook subscribers hear when sales sends a lead back as not a lead, and when a lead not interested now comes back to nurture."""

from __future__ import annotations

import json
from datetime import timedelta

from django.test import Client
from standardwebhooks import Webhook

from leadbaton.worker.loop import Worker
from tests.api import test_rep_api
from tests.api.test_rep_api import as_user, lead_to, lena_only, post, touch
from tests.receivers import HttpReceiver

sales, morning = test_rep_api.sales, test_rep_api.morning


def subscribe(sales, url: str, events: list[str]) -> str:
    answer = post(as_user(sales.ada), "/api/v1/webhooks", {"url": url, "events": events})
    assert answer.status_code == 201, answer.json()
    return answer.json()["secret"]


def test_subscribers_hear_that_sales_sent_a_lead_back_and_why(intake, sales, morning):
    lena_only(sales)
    with HttpReceiver() as receiver:
        secret = subscribe(sales, receiver.url, ["lead.rejected"])
        lead_id = lead_to(intake, sales.lena, "sam@uni.example", first_name="Sam")
        client = Client()
        client.force_login(sales.lena)
        assert client.post(f"/leads/{lead_id}/reject/", {"reason": "student", "note": "thesis research"}).status_code == 302
        Worker(poll_seconds=0).tick()
    [delivered] = receiver.requests
    event = Webhook(secret).verify(delivered.body, delivered.headers)
    assert event["type"] == "lead.rejected"
    assert event["data"]["lead"]["lead_id"] == lead_id
    assert event["data"]["owner"]["kind"] == "marketing"
    assert event["data"]["rejection"] == {"reason": "student", "note": "thesis research", "duplicate_of": None,
                                          "by": {"id": sales.lena.pk, "name": "Lena Rep"}}


def test_subscribers_hear_that_a_lead_came_back_to_nurture(intake, sales, morning):
    lena_only(sales)
    with HttpReceiver() as receiver:
        subscribe(sales, receiver.url, ["lead.recycled"])
        lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
        assert touch(as_user(sales.lena), lead_id).status_code == 201
        closed = post(as_user(sales.lena), f"/api/v1/leads/{lead_id}/outcome",
                      {"outcome": "not_interested", "reason": "budget frozen", "recycle_after_days": 30})
        assert closed.status_code == 200
        Worker(poll_seconds=0).tick()
        assert receiver.requests == []  # closing is not recycling
        morning.shift(timedelta(days=30, minutes=5))
        Worker(poll_seconds=0).tick()
        Worker(poll_seconds=0).tick()  # the outbox comes after the periodic jobs; a second round is sure to send it
    [delivered] = receiver.requests
    data = json.loads(delivered.body)["data"]
    assert (data["lead"]["lead_id"], data["owner"]["kind"]) == (lead_id, "marketing")
    assert data["recycled"] == {"not_interested_because": "budget frozen", "after_days": 30}
