"""Writes of the notify capability: notifications, the outbox, webhook subscriptions, delivery."""

from __future__ import annotations

import base64
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q

from leadbaton.notify.channels import DeliveryFailed, chat_send, email_send, webhook_send
from leadbaton.notify.models import ChatTarget, DeliveryAttempt, Notification, OutboxMessage, WebhookSubscription

log = logging.getLogger(__name__)

# Waits between tries: about a day in all (the Standard Webhooks schedule), then a dead letter.
RETRY_DELAYS = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def notification_create(*, user_id: int, lead_id: int | None, event: str, title: str, card: dict[str, Any], now: datetime) -> Notification:
    return Notification.objects.create(user_id=user_id, lead_id=lead_id, event=event, title=title[:300], card=card, created_at=now)


def notifications_mark_read(*, user_id: int, ids: list[int] | None, now: datetime) -> int:
    rows = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=now)


def outbox_message(
    *,
    channel: str,
    event: str,
    payload: dict[str, Any],
    now: datetime,
    lead_id: int | None = None,
    recipient: str = "",
    subscription: WebhookSubscription | None = None,
    chat_target: ChatTarget | None = None,
) -> OutboxMessage:
    """A message to queue (not yet saved): give a batch of them to outbox_write_all."""
    return OutboxMessage(
        channel=channel, event=event, message_id=f"msg_{uuid.uuid4().hex}", lead_id=lead_id, recipient=recipient,
        subscription=subscription, chat_target=chat_target, payload=payload, due_at=now, created_at=now,
    )


def outbox_write_all(messages: list[OutboxMessage]) -> None:
    """Queue messages in one statement. Call in the transaction of the change they report: they exist exactly when it does."""
    if messages:
        OutboxMessage.objects.bulk_create(messages)


def secret_generate() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def subscription_create(*, url: str, events: list[str], description: str, now: datetime) -> WebhookSubscription:
    return WebhookSubscription.objects.create(url=url, events=events, description=description, secret=secret_generate(), created_at=now)


def subscription_rotate(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """A new secret; deliveries from now on are signed with it."""
    subscription.secret = secret_generate()
    subscription.save(update_fields=["secret"])
    return subscription


def outbox_claim(*, now: datetime, lease: timedelta, limit: int = 20) -> list[int]:
    """Claim due messages for this worker: ids whose claim this caller won.

    Candidates are read with SKIP LOCKED on PostgreSQL, so workers do not queue
    behind each other's rows; each claim is a conditional UPDATE that exactly
    one worker can win. A worker that dies holds its claim only until `lease` ends.
    """
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        due = OutboxMessage.objects.filter(free, status=OutboxMessage.Status.PENDING, due_at__lte=now).order_by("due_at")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        candidates = list(due.values_list("id", flat=True)[:limit])
        won = []
        for message_id in candidates:
            claimed = OutboxMessage.objects.filter(free, pk=message_id, status=OutboxMessage.Status.PENDING).update(
                claimed_until=now + lease, attempts=F("attempts") + 1
            )
            if claimed == 1:
                won.append(message_id)
    return won


def outbox_deliver(*, message_id: int, now: datetime) -> bool:
    """Send one claimed message and record the try. True when it got through.

    Idempotent per message: a message already sent is not sent again. Sending
    happens outside any transaction; only the bookkeeping is written after.
    """
    message = OutboxMessage.objects.select_related("subscription", "chat_target").get(pk=message_id)
    if message.status != OutboxMessage.Status.PENDING:
        return message.status == OutboxMessage.Status.SENT
    started = datetime.now(now.tzinfo)
    status_code, error = None, ""
    try:
        if message.channel == OutboxMessage.Channel.EMAIL:
            status_code = email_send(message).status_code
        elif message.channel == OutboxMessage.Channel.WEBHOOK and message.subscription is not None:
            status_code = webhook_send(message, message.subscription, now).status_code
        elif message.channel == OutboxMessage.Channel.CHAT and message.chat_target is not None:
            status_code = chat_send(message, message.chat_target).status_code
        else:
            raise DeliveryFailed(f"nothing to send it to (channel {message.channel})")
    except DeliveryFailed as failure:
        status_code, error = failure.status_code, str(failure)
    except Exception as failure:  # a bug in a channel must not stop the others
        log.exception("delivering outbox message %s failed", message.pk)
        error = f"{type(failure).__name__}: {failure}"
    elapsed = int((datetime.now(now.tzinfo) - started).total_seconds() * 1000)
    with transaction.atomic():
        DeliveryAttempt.objects.create(message=message, at=now, ok=not error, status_code=status_code, error=error[:2000], duration_ms=elapsed)
        if not error:
            message.status, message.sent_at, message.last_error = OutboxMessage.Status.SENT, now, ""
        elif message.attempts >= MAX_ATTEMPTS:
            message.status, message.last_error = OutboxMessage.Status.DEAD, error
        else:
            message.due_at, message.last_error = now + RETRY_DELAYS[message.attempts - 1], error
        message.claimed_until = None
        message.save(update_fields=["status", "sent_at", "last_error", "due_at", "claimed_until"])
    return not error


def outbox_redeliver(*, message: OutboxMessage, now: datetime) -> OutboxMessage:
    """Send a message again now, as staff asked: a dead letter, or a delivered one the receiver lost."""
    message.status, message.due_at, message.claimed_until = OutboxMessage.Status.PENDING, now, None
    message.attempts = min(message.attempts, MAX_ATTEMPTS - 1)
    message.save(update_fields=["status", "due_at", "claimed_until", "attempts"])
    return message
