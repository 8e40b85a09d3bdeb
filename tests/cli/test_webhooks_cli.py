"""`leadbaton webhooks`: subscriptions, their secrets shown once, the delivery log and redelivery from the command line."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from standardwebhooks import Webhook, WebhookVerificationError

from leadbaton.core import clock
from leadbaton.notify.models import OutboxMessage, WebhookSubscription
from leadbaton.worker.loop import Worker
from tests.receivers import HttpReceiver


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def work() -> int:
    return Worker(poll_seconds=0).tick()


def secret_of(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_add_prints_the_secret_once_and_list_never_shows_it(db):
    output = run("webhooks", "add", "https://crm.example.com/hooks", "--events", "lead.assigned, lead.created", "--description", "CRM")

    secret = secret_of(output)
    subscription = WebhookSubscription.objects.get()
    assert "shown once" in output
    assert (secret, subscription.events, subscription.description) == (subscription.secret, ["lead.assigned", "lead.created"], "CRM")
    listing = run("webhooks", "list")
    assert "https://crm.example.com/hooks" in listing
    assert "lead.assigned, lead.created" in listing
    assert secret not in listing
    assert "whsec_" not in listing


def test_add_names_the_option_and_the_accepted_events(db):
    with pytest.raises(CommandError) as raised:
        run("webhooks", "add", "crm.example.com", "--events", "lead.won")
    assert str(raised.value) == (
        "url: 'crm.example.com' is not an http:// or https:// URL; use one such as https://crm.example.com/hooks/leadbaton; "
        "--events[0]: 'lead.won' is not an event; use one of lead.created, lead.assigned, lead.reassigned, lead.queued, lead.merged, lead.rejected, lead.recycled, sla.reminder, sla.breached"
    )
    assert not WebhookSubscription.objects.exists()


def test_rotate_signs_the_next_delivery_with_the_new_secret_only(intake):
    with HttpReceiver() as receiver:
        added = run("webhooks", "add", receiver.url, "--events", "lead.created")
        subscription = WebhookSubscription.objects.get()
        rotated = run("webhooks", "rotate", str(subscription.pk))
        intake.post({"email": "dana@northwind.example"})
        work()

    [request] = receiver.requests
    assert secret_of(rotated) != secret_of(added)
    assert Webhook(secret_of(rotated)).verify(request.body, request.headers)["type"] == "lead.created"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_of(added)).verify(request.body, request.headers)


def test_disable_stops_new_events_and_enable_starts_them_again(intake):
    run("webhooks", "add", "https://crm.example.com/hooks", "--events", "lead.created")
    subscription = WebhookSubscription.objects.get()
    assert "disabled" in run("webhooks", "disable", str(subscription.pk))
    intake.post({"email": "dana@northwind.example"})
    run("webhooks", "enable", str(subscription.pk))
    intake.post({"email": "raj@contoso.example"})
    assert OutboxMessage.objects.filter(channel="webhook").count() == 1
    with pytest.raises(CommandError, match=f"no webhook 99; webhooks: {subscription.pk}"):
        run("webhooks", "rotate", "99")


def test_deliveries_show_each_attempt_and_a_dead_letter_is_redelivered(intake):
    with time_machine.travel(clock.now(), tick=True) as hands, HttpReceiver(fail_first=100) as receiver:
        run("webhooks", "add", receiver.url, "--events", "lead.created")
        subscription = WebhookSubscription.objects.get()
        intake.post({"email": "dana@northwind.example"})
        for _ in range(9):
            work()
            hands.shift(timedelta(hours=11))
        dead_log = run("webhooks", "deliveries", str(subscription.pk))
        message = OutboxMessage.objects.get(channel="webhook")
        receiver.fail_first = 0
        redelivered = run("webhooks", "redeliver", message.message_id)
        work()
        sent_log = run("webhooks", "deliveries", str(subscription.pk))

    assert message.message_id in dead_log
    assert " dead " in dead_log
    assert dead_log.count("503 the receiver answered 503") == 8
    assert "queued for delivery now" in redelivered
    assert " sent " in sent_log
    assert "200 ok" in sent_log
    with pytest.raises(CommandError, match="no webhook message 'msg_nope'"):
        run("webhooks", "redeliver", "msg_nope")
