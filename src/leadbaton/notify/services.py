"""Writes of the notify capability: notifications, the outbox, webhook subscriptions, delivery."""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import apprise
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q

from leadbaton.core.due import Backoff, due_claim, due_failed, still_mine
from leadbaton.core.rows import fields_update
from leadbaton.core.wakeup import work_queued
from leadbaton.notify.channels import DeliveryFailed, chat_send, email_send, webhook_send
from leadbaton.notify.models import (
    AccountEmail,
    ChatTarget,
    DeliveryAttempt,
    Event,
    Notification,
    OutboxMessage,
    WebhookSubscription,
)

log = logging.getLogger(__name__)

# Waits between tries: about a day in all (the Standard Webhooks schedule), then a dead letter.
RETRY = Backoff((timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                 timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)))
MAX_ATTEMPTS = RETRY.tries


def notification_create(*, user_id: int, lead_id: int | None, event: str, title: str, card: dict[str, Any], now: datetime) -> Notification:
    row = notification(user_id=user_id, lead_id=lead_id, event=event, title=title, card=card, now=now)
    row.save()
    return row


def notification(*, user_id: int, lead_id: int | None, event: str, title: str, card: dict[str, Any], now: datetime) -> Notification:
    """A notification to write (not yet saved): give a batch of them to notifications_write_all."""
    return Notification(user_id=user_id, lead_id=lead_id, event=event, title=title[:300], card=card, created_at=now)


def notifications_write_all(notifications: list[Notification]) -> None:
    if notifications:
        Notification.objects.bulk_create(notifications)


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


def account_email(*, recipient: str, event: str, subject: str, lines: list[str], link: str, link_text: str, now: datetime) -> OutboxMessage:
    """Queue an email to a person about their own account (an AccountEmail event): the lines, then the link.

    The link is a credential (a password reset's): it is kept only until the email is sent (outbox_deliver_batch).
    """
    message = outbox_message(channel=OutboxMessage.Channel.EMAIL, event=event, recipient=recipient, now=now,
                             payload={"subject": subject, "lines": lines, "link": link, "link_text": link_text})
    outbox_write_all([message])
    transaction.on_commit(work_queued)
    return message


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
    """Claim due messages for this worker (core.due): ids whose claim this caller won."""
    return due_claim(OutboxMessage.objects.all(), now=now, lease=lease, limit=limit)


def outbox_deliver_batch(*, message_ids: list[int], now: datetime) -> int:
    """Send claimed messages and record every try in one transaction. Returns how many got through.

    Idempotent per message: one already sent is not sent again. Sending happens
    outside any transaction, emails of the batch over one SMTP connection; only
    the bookkeeping is written after.
    """
    messages = list(OutboxMessage.objects.select_related("subscription", "chat_target").filter(pk__in=message_ids).order_by("id"))
    pending = [message for message in messages if message.status == OutboxMessage.Status.PENDING]
    attempts = []
    # A batch stops sending once half its lease has gone (slow receivers): a message whose claim ran out
    # could be taken and sent by another process too. What is left is given back, its try not counted.
    stop_at = time.monotonic() + settings.WORKER_LEASE_SECONDS / 2
    with _smtp_connection(any(message.channel == OutboxMessage.Channel.EMAIL for message in pending)) as smtp:
        for message in pending:
            if time.monotonic() >= stop_at:
                break
            attempts.append(_attempt(message, now, smtp))
    unsent, pending = pending[len(attempts):], pending[:len(attempts)]
    if unsent:
        still_mine(OutboxMessage.objects.filter(pk__in=[message.pk for message in unsent])).update(
            claimed_until=None, claimed_by=None, attempts=F("attempts") - 1
        )
    sent = [message.pk for message, attempt in zip(pending, attempts, strict=True) if attempt.ok]
    failed = [message for message, attempt in zip(pending, attempts, strict=True) if not attempt.ok]
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(attempts)  # every try is on record, whoever holds the message now
        # Only for the messages this process still holds: one statement for those sent, one for those to try again.
        kept = still_mine(OutboxMessage.objects.filter(pk__in=sent)).update(
            status=OutboxMessage.Status.SENT, sent_at=now, last_error="", claimed_until=None, claimed_by=None
        ) if sent else 0
        if sent and any(message.event in AccountEmail.values for message in pending):
            # A sent password reset link is nobody's business any more, whoever reads the table later.
            OutboxMessage.objects.filter(pk__in=sent, event__in=AccountEmail.values).update(payload={"link": "", "sent": True})
        for message, attempt in zip(pending, attempts, strict=True):
            if not attempt.ok:
                due_failed(message, error=attempt.error, now=now, backoff=RETRY)
        for message in failed:
            if message.status == OutboxMessage.Status.DEAD and message.event in AccountEmail.values:
                message.payload = {"link": "", "sent": False}  # never sent: the link is nobody's to use
        if failed:
            kept += still_mine(OutboxMessage.objects.all()).bulk_update(failed, ["status", "last_error", "due_at", "claimed_until", "claimed_by", "payload"])
        if kept < len(pending):
            log.warning("%d outbox message(s) were taken over by another process while this one sent them", len(pending) - kept)
    return sum(attempt.ok for attempt in attempts)


@contextlib.contextmanager
def _smtp_connection(needed: bool) -> Iterator[Any]:
    """One open SMTP connection for a batch's emails, closed at the end; None when the batch has none.

    Opened here: a connection Django opens itself for a send is closed after that one email. When the
    server cannot be reached, the error (a DeliveryFailed) stands in for the connection, and each email
    of the batch fails with it, on record, without trying again to connect.
    """
    if not needed:
        yield None
        return
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:
        yield DeliveryFailed(f"{type(error).__name__}: {error}")
        return
    try:
        yield connection
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def _attempt(message: OutboxMessage, now: datetime, smtp: Any) -> DeliveryAttempt:
    """Try one message on its channel; the try as a row to record (not saved)."""
    started = datetime.now(now.tzinfo)
    status_code, error = None, ""
    try:
        if message.channel == OutboxMessage.Channel.EMAIL:
            if isinstance(smtp, DeliveryFailed):
                raise smtp
            status_code = email_send(message, connection=smtp).status_code
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
    return DeliveryAttempt(message=message, at=now, ok=not error, status_code=status_code, error=error[:2000], duration_ms=elapsed)


def outbox_redeliver(*, message: OutboxMessage, now: datetime) -> OutboxMessage:
    """Send a message again now, as staff asked: a dead letter, or a delivered one the receiver lost."""
    message.status, message.due_at, message.claimed_until, message.claimed_by_id = OutboxMessage.Status.PENDING, now, None, None
    message.attempts = min(message.attempts, MAX_ATTEMPTS - 1)
    message.save(update_fields=["status", "due_at", "claimed_until", "claimed_by", "attempts"])
    return message


# Webhook subscriptions as staff manage them (API and CLI): checked here, so both say the same thing.

SUBSCRIPTION_EXAMPLE_URL = "https://crm.example.com/hooks/leadbaton"


class SubscriptionInvalid(ValueError):
    """What is wrong with a subscription's values: (field, message) pairs, each saying what would be accepted."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


def subscription_problems(*, url: str | None = None, events: list[str] | None = None, description: str | None = None) -> list[tuple[str, str]]:
    """Every problem with the values given (None: not given, not checked)."""
    problems: list[tuple[str, str]] = []
    if url is not None:
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError:  # such as "http://[oops/x": an IPv6 address that does not close
            parts, hostname = urlsplit(""), None
        if parts.scheme not in ("http", "https") or not hostname or any(c.isspace() for c in url):
            problems.append(("url", f"{url[:100]!r} is not an http:// or https:// URL; use one such as {SUBSCRIPTION_EXAMPLE_URL}"))
        elif len(url) > 500:
            problems.append(("url", f"is {len(url)} characters long; at most 500 fit"))
    if events is not None:
        accepted = ", ".join(Event.values)
        if not events:
            problems.append(("events", f"is empty; name at least one of {accepted}"))
        for index, event in enumerate(events):
            if event not in Event.values:
                problems.append((f"events[{index}]", f"{event!r} is not an event; use one of {accepted}"))
    if description is not None and len(description) > 200:
        problems.append(("description", f"is {len(description)} characters long; at most 200 fit"))
    return problems


def subscription_add(*, url: str, events: list[str], description: str, now: datetime) -> WebhookSubscription:
    """A checked new subscription (raises SubscriptionInvalid). Its secret is in the returned row: show it once."""
    url, description = url.strip(), description.strip()
    problems = subscription_problems(url=url, events=events, description=description)
    if problems:
        raise SubscriptionInvalid(problems)
    return subscription_create(url=url, events=list(dict.fromkeys(events)), description=description, now=now)


def subscription_update(
    *, subscription: WebhookSubscription, url: str | None = None, events: list[str] | None = None,
    description: str | None = None, active: bool | None = None,
) -> list[str]:
    """Change what is given (None: keep); raises SubscriptionInvalid. Returns the fields written.

    Messages already queued keep going to the subscription: a new URL or secret applies to their next try.
    """
    url = url.strip() if url is not None else None
    description = description.strip() if description is not None else None
    problems = subscription_problems(url=url, events=events, description=description)
    if problems:
        raise SubscriptionInvalid(problems)
    values: dict[str, Any] = {"url": url, "events": list(dict.fromkeys(events)) if events is not None else None,
                              "description": description, "active": active}
    return fields_update(subscription, {name: value for name, value in values.items() if value is not None})


def webhook_redeliver(*, message: OutboxMessage, now: datetime) -> OutboxMessage:
    """Staff asked to send a webhook message again (same webhook-id, so receivers can tell a repeat); wakes the worker."""
    if message.status == OutboxMessage.Status.PENDING and message.claimed_until is not None and message.claimed_until > now:
        raise DeliveryInFlight(f"{message.message_id} is being delivered right now; look at its log again in a minute")
    outbox_redeliver(message=message, now=now)
    transaction.on_commit(work_queued)
    return message


class DeliveryInFlight(Exception):
    """A worker holds the message at this moment; sending it again now could deliver it twice."""


# Chat targets from the organisation file: one row per apprise URL of a team or a rep.


def chat_url_understood(url: str) -> bool:
    """Whether apprise knows this notification URL's service and can read it."""
    with _apprise_quiet():
        return bool(apprise.Apprise().add(url))


@contextlib.contextmanager
def _apprise_quiet() -> Iterator[None]:
    """Apprise logs a URL it cannot read in full, token and all: keep it out of the logs while checking."""
    logger = logging.getLogger("apprise")
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled


def chat_url_shown(url: str) -> str:
    """The URL as it may be printed: scheme and host only, with apprise masking a host that is a token.

    Apprise URLs carry tokens (a Telegram bot token is the host; a Slack webhook's
    tokens are the path), so the full URL never appears in output or logs.
    """
    if chat_url_understood(url):
        with _apprise_quiet():
            plugin = apprise.Apprise.instantiate(url)
        if plugin is not None:
            url = plugin.url(privacy=True)
    try:
        parts = urlsplit(url)
    except ValueError:  # such as "slack://[bad": an IPv6 host that does not close
        return "(not a URL)"
    host = parts.netloc.rpartition("@")[2]
    if host and "." not in host and len(host) > 8 and "..." not in host:
        host = f"{host[0]}...{host[-1]}"
    return f"{parts.scheme}://{host}" if parts.scheme else "(not a URL)"


def chat_target_configure(*, team_id: int | None, rep_id: int | None, url: str) -> tuple[ChatTarget, bool, list[str]]:
    """Create or reactivate the chat target with this URL for a team or a rep. (target, created, changed fields)."""
    target = ChatTarget.objects.filter(_chat_owner(team_id, rep_id), url=url).order_by("id").first()
    if target is None:
        label = chat_url_shown(url)[:100]
        return ChatTarget.objects.create(team_id=team_id, rep_id=rep_id, url=url, label=label, active=True), True, []
    return target, False, fields_update(target, {"active": True})


def chat_target_switch_off(*, target: ChatTarget) -> bool:
    """Stop sending to one chat target (kept, with its delivery log). True if it was on."""
    changed = ChatTarget.objects.filter(pk=target.pk, active=True).update(active=False) == 1
    target.active = False
    return changed


def chat_targets_deactivate(*, team_id: int | None, rep_id: int | None, keep_urls: set[str]) -> list[ChatTarget]:
    """Switch off the team's or rep's active chat targets whose URL is not kept. Never deletes: the delivery log stays."""
    gone = [target for target in ChatTarget.objects.filter(_chat_owner(team_id, rep_id), active=True).order_by("id")
            if target.url not in keep_urls]
    ChatTarget.objects.filter(pk__in=[target.pk for target in gone]).update(active=False)
    return gone


def _chat_owner(team_id: int | None, rep_id: int | None) -> Q:
    """A team's targets or a rep's (a target belongs to exactly one of them)."""
    return Q(team_id=team_id, rep__isnull=True) if team_id is not None else Q(rep_id=rep_id, team__isnull=True)
