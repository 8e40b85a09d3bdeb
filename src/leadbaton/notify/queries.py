"""Reads of the notify capability."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from leadbaton.core.cache import cached
from leadbaton.notify.models import ChatTarget, Notification, OutboxMessage, WebhookSubscription


def subscriptions_for(events: list[str]) -> list[tuple[str, WebhookSubscription]]:
    """(event, subscription) for every active subscription to each event. Kept in memory until the configuration changes."""
    active = cached("webhook subscriptions", lambda: list(WebhookSubscription.objects.filter(active=True).order_by("id")))
    return [(event, subscription) for event in events for subscription in active if event in subscription.events]


def chat_targets_for(*, team_id: int | None, rep_id: int | None) -> list[ChatTarget]:
    """The active chat targets of the team and of the rep. Kept in memory until the configuration changes."""
    active = cached("chat targets", lambda: list(ChatTarget.objects.filter(active=True).order_by("id")))
    return [target for target in active if (team_id and target.team_id == team_id) or (rep_id and target.rep_id == rep_id)]


def notifications_of(user_id: int, *, unread_only: bool = False, limit: int = 50) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user_id=user_id)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows[:limit]


def deliveries_of(subscription_id: int, *, limit: int = 50) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(subscription_id=subscription_id).order_by("-created_at", "-id")[:limit]


def subscriptions_list() -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.order_by("id"))


def delivery_log(subscription_id: int, *, limit: int = 50) -> list[OutboxMessage]:
    """The subscription's messages, newest first, each with its delivery attempts (oldest first). Two queries."""
    return list(deliveries_of(subscription_id, limit=limit).prefetch_related("delivery_attempts"))


def webhook_message_find(message_id: str, *, subscription_id: int | None = None) -> OutboxMessage | None:
    """A webhook message by its webhook-id (msg_…), optionally only if it belongs to this subscription. None for text
    that cannot be one (no database is asked about a NUL character or a thousand characters)."""
    if len(message_id) > 40 or not message_id.isascii() or not message_id.isprintable():
        return None
    rows = OutboxMessage.objects.filter(message_id=message_id, channel=OutboxMessage.Channel.WEBHOOK)
    if subscription_id is not None:
        rows = rows.filter(subscription_id=subscription_id)
    return rows.select_related("subscription").first()


def account_email_sent_since(*, recipient: str, event: str, since: datetime) -> bool:
    """Whether an account email of this kind was queued for the address at or after `since` (a partial index answers)."""
    return OutboxMessage.objects.filter(channel=OutboxMessage.Channel.EMAIL, event=event, recipient=recipient, created_at__gte=since).exists()
