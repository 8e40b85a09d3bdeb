"""The webhooks pages: an admin subscribes a URL (its secret shown once, and it verifies real deliveries), changes or
switches it off, rotates the secret, reads the delivery log with every attempt and sends a message again; every
refused value is said next to its field; nobody but an admin may see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from leadbaton.notify.models import OutboxMessage, WebhookSubscription
from tests.api import test_webhooks_api
from tests.api.test_webhooks_api import work
from tests.receivers import HttpReceiver
from tests.web.test_board import page_of, post_as
from tests.web.test_settings import field_error, post_and_follow

hands = test_webhooks_api.hands


def secret_shown(page: str) -> str:
    found = re.search(r'<code class="secret">(whsec_[^<]+)</code>', page)
    assert found is not None, page[-1500:]
    return found[1]


def test_an_admin_subscribes_a_url_and_the_secret_shown_verifies_its_deliveries(org, intake, hands):
    with HttpReceiver(fail_first=1) as receiver:
        status, page, _ = post_as(org.admin, "/settings/webhooks/", {"url": receiver.url, "events": ["lead.created"], "description": "CRM"})
        assert status == 200
        secret = secret_shown(page)
        assert intake.post({"email": "dana@northwind.example"}).status_code == 201
        work()  # the receiver answers 503 the first time
        hands.shift(timedelta(minutes=5))
        work()
        assert len(receiver.requests) == 2
        delivered = receiver.requests[-1]
        Webhook(secret).verify(delivered.body, delivered.headers)
    subscription = WebhookSubscription.objects.get()
    status, page = page_of(org.admin, f"/settings/webhooks/{subscription.pk}/")
    assert status == 200
    assert secret not in page  # never shown again
    row = page.split('id="message-', 1)[1].split("</tr>", 1)[0]
    assert "lead.created" in row
    assert "Sent" in row
    assert "2, last ok (200)" in row
    assert "failed 503" in row


def test_a_message_is_sent_again_with_the_same_webhook_id(org, intake, hands):
    with HttpReceiver() as receiver:
        assert post_as(org.admin, "/settings/webhooks/", {"url": receiver.url, "events": ["lead.created"]})[0] == 200
        intake.post({"email": "dana@northwind.example"})
        work()
        message = OutboxMessage.objects.get(channel="webhook")
        subscription = WebhookSubscription.objects.get()
        status, page = post_and_follow(org.admin, f"/settings/webhooks/{subscription.pk}/deliveries/{message.message_id}/redeliver/", {})
        assert status == 200
        assert f"{message.message_id} (lead.created) goes out again within seconds" in page
        work()
        assert [request.headers["webhook-id"] for request in receiver.requests] == [message.message_id, message.message_id]
    status, page, _ = post_as(org.admin, f"/settings/webhooks/{subscription.pk}/deliveries/msg_nothere/redeliver/", {})
    assert status == 404


def test_changing_switching_off_and_rotating(org):
    assert post_as(org.admin, "/settings/webhooks/", {"url": "https://crm.example.com/in", "events": ["lead.created"]})[0] == 200
    subscription = WebhookSubscription.objects.get()
    old = subscription.secret
    path = f"/settings/webhooks/{subscription.pk}/"
    status, page = post_and_follow(org.admin, path, {"url": "https://crm.example.com/v2", "events": ["lead.assigned", "sla.breached"],
                                                    "description": "CRM v2"})
    assert status == 200
    assert "Saved." in page
    subscription.refresh_from_db()
    assert (subscription.url, subscription.events, subscription.description, subscription.active) == (
        "https://crm.example.com/v2", ["lead.assigned", "sla.breached"], "CRM v2", False)  # the box "On" was not ticked
    status, page, _ = post_as(org.admin, f"{path}rotate/", {})
    assert status == 200
    subscription.refresh_from_db()
    assert secret_shown(page) == subscription.secret != old


def test_every_refused_value_is_said_next_to_its_field_and_kept(org):
    status, page, _ = post_as(org.admin, "/settings/webhooks/", {"url": "crm.example.com/in", "description": "x" * 201})
    assert status == 400
    assert field_error(page, "url").startswith("&#x27;crm.example.com/in&#x27; is not an http:// or https:// URL")
    assert field_error(page, "events").startswith("is empty; name at least one of lead.created")
    assert field_error(page, "description") == "is 201 characters long; at most 200 fit"
    assert 'value="crm.example.com/in"' in page
    assert not WebhookSubscription.objects.exists()
    assert post_as(org.admin, "/settings/webhooks/", {"url": "https://crm.example.com/in", "events": ["lead.created"]})[0] == 200
    subscription = WebhookSubscription.objects.get()
    status, page, _ = post_as(org.admin, f"/settings/webhooks/{subscription.pk}/", {"url": "https://crm.example.com/in",
                                                                                    "events": ["lead.created", "lead.eaten"], "active": "on"})
    assert status == 400
    assert "&#x27;lead.eaten&#x27; is not an event" in field_error(page, "events")
    assert WebhookSubscription.objects.get().events == ["lead.created"]


@pytest.mark.parametrize("who", ["manager", "marketer", "alice"])
def test_only_admins_see_or_change_webhooks(org, who):
    assert post_as(org.admin, "/settings/webhooks/", {"url": "https://crm.example.com/in", "events": ["lead.created"]})[0] == 200
    subscription = WebhookSubscription.objects.get()
    user = getattr(org, who)
    for path in ("/settings/webhooks/", f"/settings/webhooks/{subscription.pk}/"):
        assert page_of(user, path)[0] == 403
    for path in ("/settings/webhooks/", f"/settings/webhooks/{subscription.pk}/", f"/settings/webhooks/{subscription.pk}/rotate/"):
        assert post_as(user, path, {"url": "https://evil.example.com", "events": ["lead.created"]})[0] == 403
    assert WebhookSubscription.objects.get().url == "https://crm.example.com/in"


def test_an_address_that_cannot_be_read_or_a_message_id_that_cannot_be_one_is_refused_not_a_500(org):
    status, page, _ = post_as(org.admin, "/settings/webhooks/", {"url": "http://[oops/x", "events": ["lead.created"]})
    assert status == 400
    assert "is not an http:// or https:// URL" in field_error(page, "url")
    assert post_as(org.admin, "/settings/webhooks/", {"url": "https://crm.example.com/in", "events": ["lead.created"]})[0] == 200
    subscription = WebhookSubscription.objects.get()
    assert post_as(org.admin, f"/settings/webhooks/{subscription.pk}/deliveries/a%00b/redeliver/", {})[0] == 404
