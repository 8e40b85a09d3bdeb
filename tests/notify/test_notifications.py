"""The rep is told: in the app, by email over real SMTP, by signed webhooks and chat, with the context card."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from standardwebhooks import Webhook, WebhookVerificationError

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.core import clock
from leadbaton.notify.models import ChatTarget, DeliveryAttempt, Notification, OutboxMessage
from leadbaton.notify.services import outbox_redeliver, subscription_create
from leadbaton.worker.loop import Worker
from tests.receivers import HttpReceiver, Inbox, SmtpServer, free_port

MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, a Wednesday
DANA = {
    "email": "dana@northwind-traders.example", "phone": "+49 30 1234567", "first_name": "Dana", "last_name": "Whitfield",
    "title": "Director of Operations", "message": "Can we see a demo this week?", "product_interest": "Forecasting",
    "campaign": "Hannover fair", "utm_source": "linkedin", "utm_medium": "paid", "utm_campaign": "q4",
}


@pytest.fixture
def lena(db) -> User:
    team = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    user = User.objects.create_user("lena@lumen.example", "pw", name="Lena Hoffmann", role=Role.REP)
    RepProfile.objects.create(user=user, team=team, time_zone="Europe/Berlin", hours={"wed": [["08:00", "18:00"]]})
    return user


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        yield server


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=True) as traveller:
        yield traveller


def work() -> int:
    return Worker(poll_seconds=0).tick()


def test_the_rep_gets_an_email_with_the_context_card(intake, lena, smtp, morning):
    lead = intake.post(DANA).json()
    assert lead["owner"]["id"] == lena.pk
    assert work() == 1
    [message] = smtp.inbox.wait_for(1)
    assert message["To"] == "lena@lumen.example"
    assert message["Subject"] == "New lead for you: Dana Whitfield (Northwind Traders)"
    text = message.get_payload()[0].get_payload(decode=True).decode()
    html = message.get_payload()[1].get_payload(decode=True).decode()
    for expected in ("Director of Operations", "+49301234567", "Can we see a demo this week?", "Forecasting",
                     "Hannover fair", "linkedin", "Company guessed from the email domain northwind-traders.example",
                     f"/leads/{lead['id']}/"):
        assert expected in text
    assert 'href="tel:+49301234567"' in html
    assert OutboxMessage.objects.get().status == "sent"


def test_the_rep_sees_the_lead_in_their_notifications(intake, lena, morning):
    lead = intake.post(DANA).json()
    notification = Notification.objects.get(user=lena)
    assert (notification.lead_id, notification.event, notification.title) == (lead["id"], "lead.assigned", "New lead for you: Dana Whitfield")
    assert notification.card["message"] == "Can we see a demo this week?"


def test_the_owner_hears_when_their_lead_comes_back(intake, lena, smtp, morning):
    intake.post(DANA)
    intake.post({"email": "dana@northwind-traders.example", "message": "Any news on the demo?"})
    work()
    messages = smtp.inbox.wait_for(2)
    assert [m["Subject"].split(":")[0] for m in messages] == ["New lead for you", "Your lead came back"]
    body = messages[1].get_payload()[0].get_payload(decode=True).decode()
    assert "Any news on the demo?" in body
    assert "Can we see a demo this week?" in body  # the earlier inquiry is on the card too


def test_a_webhook_is_signed_so_an_off_the_shelf_verifier_accepts_it(intake, lena, morning):
    with HttpReceiver() as receiver:
        subscription = subscription_create(url=receiver.url, events=["lead.created", "lead.assigned"], description="CRM", now=clock.now())
        lead = intake.post(DANA).json()
        work()
    assert len(receiver.requests) == 2
    verifier = Webhook(subscription.secret)
    events = [verifier.verify(request.body, request.headers) for request in receiver.requests]
    assert [event["type"] for event in events] == ["lead.created", "lead.assigned"]
    assert events[1]["data"]["lead"]["lead_id"] == lead["id"]
    assert events[1]["data"]["owner"] == {"kind": "rep", "team_id": lena.rep.team_id, "rep_id": lena.pk}
    tampered = receiver.requests[0].body.replace(b"lead.created", b"lead.deleted")
    with pytest.raises(WebhookVerificationError):
        verifier.verify(tampered, receiver.requests[0].headers)


def test_a_stale_webhook_is_refused_by_the_verifier(intake, lena):
    with HttpReceiver() as receiver:
        subscription = subscription_create(url=receiver.url, events=["lead.assigned"], description="", now=clock.now())
        with time_machine.travel(MORNING, tick=False):
            intake.post(DANA)
            work()
    [request] = receiver.requests
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(subscription.secret).verify(request.body, request.headers)  # verified now, long after MORNING


def test_a_receiver_failing_five_times_gets_exactly_one_accepted_delivery(intake, lena, morning):
    with HttpReceiver(fail_first=5) as receiver:
        subscription_create(url=receiver.url, events=["lead.assigned"], description="", now=clock.now())
        intake.post(DANA)
        for _ in range(8):
            work()
            morning.shift(timedelta(hours=11))  # past the longest wait between tries
    assert [request.headers["webhook-id"] for request in receiver.requests] == [receiver.requests[0].headers["webhook-id"]] * 6
    message = OutboxMessage.objects.get(channel="webhook")
    assert (message.status, message.attempts) == ("sent", 6)
    log = list(DeliveryAttempt.objects.filter(message=message).values_list("ok", "status_code"))
    assert log == [(False, 503)] * 5 + [(True, 200)]


def test_a_message_that_never_gets_through_becomes_a_dead_letter_and_can_be_redelivered(intake, lena, morning):
    with HttpReceiver(fail_first=100) as receiver:
        subscription_create(url=receiver.url, events=["lead.assigned"], description="", now=clock.now())
        intake.post(DANA)
        for _ in range(10):
            work()
            morning.shift(timedelta(hours=11))
        message = OutboxMessage.objects.get(channel="webhook")
        assert (message.status, message.attempts) == ("dead", 8)
        assert "503" in message.last_error
        receiver.fail_first = 0
        outbox_redeliver(message=message, now=clock.now())
        work()
    message.refresh_from_db()
    assert message.status == "sent"


def test_chat_goes_through_apprise_and_a_failing_target_blocks_nothing(intake, lena, smtp, morning):
    with HttpReceiver() as receiver:
        ChatTarget.objects.create(team=lena.rep.team, label="EMEA channel", url=f"json://127.0.0.1:{receiver.port}/chat")
        ChatTarget.objects.create(rep=lena, label="broken", url="json://127.0.0.1:9/nothing-listens-here")
        lead = intake.post(DANA).json()
        work()
    [request] = receiver.requests
    chat = json.loads(request.body)
    assert chat["title"] == "New lead for you: Dana Whitfield"
    assert "Dana Whitfield at Northwind Traders: Can we see a demo this week?" in chat["message"]
    assert f"/leads/{lead['id']}/" in chat["message"]
    assert len(smtp.inbox.wait_for(1)) == 1  # email went out although one chat target is down
    broken = OutboxMessage.objects.get(chat_target__label="broken")
    assert (broken.status, broken.attempts) == ("pending", 1)
    assert broken.due_at > clock.now()


def test_nothing_is_written_for_a_lead_nobody_owns_personally(intake, lena):
    intake.post(DANA)  # evening in Berlin: the lead waits in the team queue
    assert Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_a_batch_stops_sending_at_half_its_lease_and_gives_the_rest_back(db, settings):
    from leadbaton.notify.services import outbox_claim, outbox_deliver_batch, outbox_message, outbox_write_all

    settings.WORKER_LEASE_SECONDS = 2  # half of it is spent on the first slow delivery
    with HttpReceiver(delay=1.1) as receiver:
        subscription = subscription_create(url=receiver.url, events=["lead.created"], description="", now=clock.now())
        outbox_write_all([outbox_message(channel="webhook", event="lead.created", payload={"n": n}, now=clock.now(),
                                         subscription=subscription) for n in range(3)])
        claimed = outbox_claim(now=clock.now(), lease=timedelta(seconds=2))
        assert len(claimed) == 3
        outbox_deliver_batch(message_ids=claimed, now=clock.now())
    rows = list(OutboxMessage.objects.order_by("id").values_list("status", "attempts", "claimed_until"))
    assert rows == [("sent", 1, None), ("pending", 0, None), ("pending", 0, None)]  # the rest go with the next batch
    assert len(receiver.requests) == 1


def test_a_batch_of_emails_goes_over_one_smtp_connection(db, smtp):
    from leadbaton.notify.services import outbox_claim, outbox_deliver_batch, outbox_message, outbox_write_all

    outbox_write_all([outbox_message(channel="email", event="lead.created", recipient=f"rep{n}@lumen.example", now=clock.now(),
                                     payload={"headline": "New lead", "subject": f"Lead {n}", "card": _card(n)}) for n in range(3)])
    claimed = outbox_claim(now=clock.now(), lease=timedelta(seconds=30))
    assert outbox_deliver_batch(message_ids=claimed, now=clock.now()) == 3
    assert len(smtp.inbox.wait_for(3)) == 3
    assert len(smtp.inbox.connections) == 1  # not a connection, greeting and goodbye per email


def test_a_mail_server_that_cannot_be_reached_fails_each_email_on_record_and_stops_nothing_else(db, settings):
    from leadbaton.notify.services import outbox_claim, outbox_deliver_batch, outbox_message, outbox_write_all

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2  # nobody listens there
    with HttpReceiver() as receiver:
        subscription = subscription_create(url=receiver.url, events=["lead.created"], description="", now=clock.now())
        outbox_write_all([
            outbox_message(channel="email", event="lead.created", recipient="rep@lumen.example", now=clock.now(),
                           payload={"headline": "New lead", "subject": "Lead", "card": _card(1)}),
            outbox_message(channel="webhook", event="lead.created", payload={"n": 1}, now=clock.now(), subscription=subscription),
        ])
        claimed = outbox_claim(now=clock.now(), lease=timedelta(seconds=30))
        assert outbox_deliver_batch(message_ids=claimed, now=clock.now()) == 1
    email, webhook = OutboxMessage.objects.order_by("id")
    assert (email.status, webhook.status) == ("pending", "sent")
    assert "Connection refused" in email.last_error
    assert email.due_at > clock.now()
    assert len(receiver.requests) == 1


def _card(number: int) -> dict[str, object]:
    from leadbaton.leads.models import Lead
    from leadbaton.notify.card import card_for

    return card_for(Lead(pk=number, email=f"buyer{number}@example.com", received_at=clock.now()))


def test_when_the_mail_server_hangs_up_mid_batch_the_next_emails_connect_again(db, settings):
    from leadbaton.notify.services import outbox_claim, outbox_deliver_batch, outbox_message, outbox_write_all

    class HangsUpOnce(Inbox):
        async def handle_DATA(self, server, session, envelope):
            if not self.hung_up:
                self.hung_up = True
                return "421 closing the connection"  # smtplib closes its socket on a 421
            return await super().handle_DATA(server, session, envelope)

    with SmtpServer() as server:
        server.controller.handler = server.inbox = inbox = HangsUpOnce()
        inbox.hung_up = False
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        outbox_write_all([outbox_message(channel="email", event="lead.created", recipient=f"rep{n}@lumen.example", now=clock.now(),
                                         payload={"headline": "New lead", "subject": f"Lead {n}", "card": _card(n)}) for n in range(3)])
        claimed = outbox_claim(now=clock.now(), lease=timedelta(seconds=30))
        assert outbox_deliver_batch(message_ids=claimed, now=clock.now()) == 2
        assert [message["Subject"] for message in inbox.wait_for(2)] == ["Lead 1", "Lead 2"]
        assert len(inbox.connections) == 1  # the two after the hang-up share the new connection
    assert list(OutboxMessage.objects.order_by("id").values_list("status", flat=True)) == ["pending", "sent", "sent"]


def test_a_kind_of_work_that_fails_does_not_keep_the_outbox_from_sending(intake, lena, smtp, morning, monkeypatch, caplog):
    from leadbaton.worker import loop
    from leadbaton.worker.work import TIMED_WORK, TimedWork

    def broken_rows():
        raise RuntimeError("a bug in a kind of work")

    failing = TimedWork("always failing", broken_rows, lambda ids, now: 0)
    monkeypatch.setattr(loop, "TIMED_WORK", (failing, *TIMED_WORK))
    intake.post(DANA)
    assert work() == 1  # the failing kind is logged, the round goes on to the outbox
    assert "always failing failed" in caplog.text
    assert len(smtp.inbox.wait_for(1)) == 1
