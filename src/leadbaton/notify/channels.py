"""Delivering one outbox message on its channel. Each function raises DeliveryFailed when it did not get through."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import apprise
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from standardwebhooks import Webhook

from leadbaton.notify.card import card_text
from leadbaton.notify.models import AccountEmail, ChatTarget, OutboxMessage, WebhookSubscription

TIMEOUT_SECONDS = 10


class DeliveryFailed(Exception):
    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Delivered:
    status_code: int | None = None


def email_send(message: OutboxMessage, *, connection: Any = None) -> Delivered:
    """Send one email; with `connection`, over that open SMTP connection (a batch shares one)."""
    payload = message.payload
    if message.event in AccountEmail.values:  # about the person's own account: its own words, no lead
        template, context = "notify/account_email", payload
    elif "sections" in payload:  # a weekly digest: sections of lines, and the link to the reports
        template, context = "notify/weekly_email", payload
    elif "digest" in payload:  # several leads at once: each with its link
        template, context = "notify/digest_email", payload
    else:
        template, context = "notify/lead_email", {"card": payload["card"], "headline": payload["headline"], "text": card_text(payload["card"])}
    mail = EmailMultiAlternatives(
        subject=payload["subject"],
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        connection=connection,
        headers={
            "Message-ID": f"<{message.message_id}@leadbaton>",
            "X-LeadBaton-Event": message.event,
            "X-LeadBaton-Lead": str(message.lead_id or ""),
        },
    )
    mail.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    try:
        mail.send(fail_silently=False)
    except Exception as error:  # any SMTP or socket error: the worker retries
        if connection is not None:
            # The shared connection may be the broken part (the server hung up): the batch's next emails share a new one.
            with contextlib.suppress(Exception):
                connection.close()
            with contextlib.suppress(Exception):
                connection.open()
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
    return Delivered()


def webhook_body(message: OutboxMessage) -> str:
    """The JSON body, the same bytes on every retry (the signature covers them)."""
    return json.dumps(
        {"type": message.event, "timestamp": message.created_at.isoformat(), "data": message.payload},
        separators=(",", ":"),
        sort_keys=True,
    )


def webhook_send(message: OutboxMessage, subscription: WebhookSubscription, now: datetime) -> Delivered:
    """POST the event, signed by the Standard Webhooks scheme; any 2xx is a delivery."""
    body = webhook_body(message)
    signature = Webhook(subscription.secret).sign(message.message_id, now, body)
    request = urllib.request.Request(
        subscription.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "LeadBaton-Webhooks/1",
            "webhook-id": message.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return Delivered(status_code=response.status)
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"the receiver answered {error.code}", status_code=error.code) from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise DeliveryFailed(f"could not reach the receiver: {error}") from error


def chat_send(message: OutboxMessage, target: ChatTarget) -> Delivered:
    """A short message through apprise: who, what they asked, and the link."""
    if "digest" in message.payload:
        body = "\n".join([message.payload["why"], *(f"{lead['name']}{' at ' + lead['company'] if lead['company'] else ''}: {lead['link']}"
                                                     for lead in message.payload["digest"])])
    else:
        card: dict[str, Any] = message.payload["card"]
        asked = card["message"] or card["product_interest"] or "no message"
        body = f"{card['name']}{' at ' + card['company'] if card['company'] else ''}: {asked[:200]}\n{card['link']}"
    notifier = apprise.Apprise()
    if not notifier.add(target.url):
        raise DeliveryFailed(f"{target.label}: apprise does not understand this notification URL")
    if not notifier.notify(title=message.payload["headline"], body=body):
        raise DeliveryFailed(f"{target.label}: the chat service did not accept the message")
    return Delivered()
