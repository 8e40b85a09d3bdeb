"""Webhook subscriptions through the API: a secret shown once, rotation, the delivery log, redelivery, and who may."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from standardwebhooks import Webhook, WebhookVerificationError

from leadbaton.accounts.services import token_issue
from leadbaton.core import clock
from leadbaton.notify.models import OutboxMessage, WebhookSubscription
from leadbaton.worker.loop import Worker
from tests.receivers import HttpReceiver

EVENTS = "lead.created, lead.assigned, lead.reassigned, lead.queued, lead.merged, lead.rejected, lead.recycled, sla.reminder, sla.breached"


def staff_client(user) -> Client:
    token = token_issue(user=user, name="tests", now=clock.now()).plaintext
    return Client(headers={"Authorization": f"Bearer {token}"})


def work() -> int:
    return Worker(poll_seconds=0).tick()


@pytest.fixture
def hands():
    """The clock, to move between delivery attempts (it keeps ticking from the suite's fixed start)."""
    with time_machine.travel(clock.now(), tick=True) as traveller:
        yield traveller


@pytest.fixture
def admin(org) -> Client:
    return staff_client(org.admin)


def subscribe(admin: Client, url: str, events: list[str] | None = None) -> dict:
    answer = admin.post("/api/v1/webhooks", {"url": url, "events": events or ["lead.created"], "description": "CRM"},
                        content_type="application/json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def log(admin: Client, subscription_id: int) -> list[dict]:
    answer = admin.get(f"/api/v1/webhooks/{subscription_id}/deliveries")
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_it_shows_the_secret_once_and_never_lists_it(admin):
    created = subscribe(admin, "https://crm.example.com/hooks/leadbaton", ["lead.created", "lead.assigned"])

    assert created["secret"].startswith("whsec_")
    assert (created["url"], created["events"], created["active"]) == ("https://crm.example.com/hooks/leadbaton", ["lead.created", "lead.assigned"], True)
    listing = admin.get("/api/v1/webhooks")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()] == [created["id"]]
    assert "secret" not in listing.json()[0]
    assert created["secret"] not in listing.content.decode()


def test_a_delivery_verifies_with_the_secret_and_rotating_it_changes_the_signature(admin, intake):
    with HttpReceiver() as receiver:
        created = subscribe(admin, receiver.url)
        intake.post({"email": "dana@northwind.example"})
        work()
        rotated = admin.post(f"/api/v1/webhooks/{created['id']}/rotate")
        intake.post({"email": "raj@contoso.example"})
        work()

    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]
    before, after = receiver.requests
    assert Webhook(created["secret"]).verify(before.body, before.headers)["data"]["lead"]["email"] == "dana@northwind.example"
    assert Webhook(rotated.json()["secret"]).verify(after.body, after.headers)["data"]["lead"]["email"] == "raj@contoso.example"
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(after.body, after.headers)
    assert "secret" not in admin.get("/api/v1/webhooks").json()[0]


def test_the_delivery_log_shows_each_attempt_with_its_answer_code(admin, intake, hands):
    with HttpReceiver(fail_first=2) as receiver:
        created = subscribe(admin, receiver.url)
        lead = intake.post({"email": "dana@northwind.example"}).json()
        work()
        [pending] = log(admin, created["id"])
        for _ in range(2):
            hands.shift(timedelta(minutes=31))  # past the 5 s and 5 min waits
            work()

    assert (pending["status"], pending["attempts"], pending["last_status_code"]) == ("pending", 1, 503)
    assert pending["next_attempt_at"] is not None
    [delivery] = log(admin, created["id"])
    assert delivery["message_id"] == receiver.requests[0].headers["webhook-id"]
    assert (delivery["event"], delivery["lead_id"], delivery["status"], delivery["attempts"]) == ("lead.created", lead["id"], "sent", 3)
    assert (delivery["last_status_code"], delivery["sent_at"] is not None, delivery["next_attempt_at"]) == (200, True, None)
    assert [(a["ok"], a["status_code"]) for a in delivery["history"]] == [(False, 503), (False, 503), (True, 200)]
    assert delivery["history"][0]["error"] == "the receiver answered 503"
    assert delivery["history"][0]["at"] < delivery["history"][1]["at"] < delivery["history"][2]["at"]


def test_a_dead_letter_is_delivered_when_redelivered(admin, intake, hands):
    with HttpReceiver(fail_first=100) as receiver:
        created = subscribe(admin, receiver.url)
        intake.post({"email": "dana@northwind.example"})
        for _ in range(9):
            work()
            hands.shift(timedelta(hours=11))  # past the longest wait between tries
        [dead] = log(admin, created["id"])
        receiver.fail_first = 0
        answer = admin.post(f"/api/v1/webhooks/{created['id']}/deliveries/{dead['message_id']}/redeliver")
        work()

    assert (dead["status"], dead["attempts"], len(dead["history"])) == ("dead", 8, 8)
    assert answer.status_code == 202
    assert answer.json()["status"] == "pending"
    [delivered] = log(admin, created["id"])
    assert (delivered["status"], delivered["last_status_code"]) == ("sent", 200)
    assert delivered["history"][-1]["ok"] is True
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1  # the same message, so receivers can tell


def test_it_names_the_field_and_the_accepted_values(admin):
    answer = admin.post("/api/v1/webhooks", {"url": "ftp://crm.example.com/x", "events": ["lead.created", "lead.deleted"]},
                        content_type="application/json")

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "url", "message": "'ftp://crm.example.com/x' is not an http:// or https:// URL; use one such as https://crm.example.com/hooks/leadbaton"},
        {"field": "events[1]", "message": f"'lead.deleted' is not an event; use one of {EVENTS}"},
    ]
    assert admin.post("/api/v1/webhooks", {"url": "https://x.example", "events": []}, content_type="application/json").json()["errors"] == [
        {"field": "events", "message": f"is empty; name at least one of {EVENTS}"}
    ]
    missing = admin.post("/api/v1/webhooks", {"url": "https://x.example"}, content_type="application/json")
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "events")
    assert WebhookSubscription.objects.count() == 0


def test_a_change_is_checked_and_a_disabled_subscription_gets_no_new_events(admin, intake):
    created = subscribe(admin, "https://crm.example.com/hooks")
    bad = admin.patch(f"/api/v1/webhooks/{created['id']}", {"events": ["lead.won"]}, content_type="application/json")
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "events[0]")

    changed = admin.patch(f"/api/v1/webhooks/{created['id']}", {"active": False, "description": "old CRM"}, content_type="application/json")
    intake.post({"email": "dana@northwind.example"})

    assert changed.status_code == 200
    assert (changed.json()["active"], changed.json()["description"], changed.json()["events"]) == (False, "old CRM", ["lead.created"])
    assert not OutboxMessage.objects.filter(channel="webhook").exists()


def test_it_says_which_message_it_does_not_know(admin):
    created = subscribe(admin, "https://crm.example.com/hooks")
    answer = admin.post(f"/api/v1/webhooks/{created['id']}/deliveries/msg_nope/redeliver")
    assert answer.status_code == 404
    assert answer.json()["errors"] == [{"field": "message_id", "message": f"'msg_nope' is not a message of webhook {created['id']}"}]
    assert admin.get(f"/api/v1/webhooks/{created['id']}/deliveries?limit=0").json()["errors"][0]["field"] == "limit"


@pytest.mark.parametrize("who", ["alice", "manager", "marketer"])
def test_only_admins_manage_webhooks(org, who):
    client = staff_client(getattr(org, who))
    for answer in (client.get("/api/v1/webhooks"),
                   client.post("/api/v1/webhooks", {"url": "https://x.example", "events": ["lead.created"]}, content_type="application/json")):
        assert answer.status_code == 403
        [error] = answer.json()["errors"]
        assert error["field"] == "role"
        assert error["message"].endswith("cannot do this; it needs: admin")
    assert WebhookSubscription.objects.count() == 0
