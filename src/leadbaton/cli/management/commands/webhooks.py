"""leadbaton webhooks add|list|rotate|disable|enable|deliveries|redeliver: signed webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rich.markup import escape
from rich.table import Table

from leadbaton.cli.tables import table_text
from leadbaton.core import clock
from leadbaton.notify import queries as notify_queries
from leadbaton.notify import services as notify
from leadbaton.notify.models import Event, OutboxMessage, WebhookSubscription


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


class Command(BaseCommand):
    help = "Manage webhook subscriptions (signed with Standard Webhooks) and their delivery log."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Subscribe a URL to events and print its signing secret (shown once)")
        add.add_argument("url")
        add.add_argument("--events", required=True, help=f"comma-separated: {', '.join(Event.values)}")
        add.add_argument("--description", default="")
        sub.add_parser("list", help="Subscriptions (never their secrets)")
        rotate = sub.add_parser("rotate", help="A new signing secret (shown once); the old one stops working at once")
        rotate.add_argument("id", type=int)
        disable = sub.add_parser("disable", help="Send no new events to a subscription (queued ones still go)")
        disable.add_argument("id", type=int)
        enable = sub.add_parser("enable", help="Send events to a disabled subscription again")
        enable.add_argument("id", type=int)
        deliveries = sub.add_parser("deliveries", help="The delivery log of a subscription, newest first")
        deliveries.add_argument("id", type=int)
        deliveries.add_argument("--limit", type=int, default=20)
        redeliver = sub.add_parser("redeliver", help="Send a message again now (its webhook-id, msg_…)")
        redeliver.add_argument("message_id")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            events = [event.strip() for event in options["events"].split(",") if event.strip()]
            try:
                with transaction.atomic():
                    subscription = notify.subscription_add(url=options["url"], events=events, description=options["description"], now=clock.now())
            except notify.SubscriptionInvalid as error:
                raise CommandError("; ".join(f"{_option(field)}: {message}" for field, message in error.problems)) from None
            self._print_secret(subscription, "created")
        elif action == "list":
            table = Table("id", "url", "events", "active", "description", "created")
            for subscription in notify_queries.subscriptions_list():
                table.add_row(str(subscription.pk), escape(subscription.url), ", ".join(subscription.events),
                              "yes" if subscription.active else "no", escape(subscription.description), _time(subscription.created_at))
            self.stdout.write(table_text(table))
        elif action == "rotate":
            subscription = self._subscription(options["id"])
            with transaction.atomic():
                notify.subscription_rotate(subscription=subscription)
            self._print_secret(subscription, "rotated; the old secret no longer verifies")
        elif action in ("disable", "enable"):
            subscription = self._subscription(options["id"])
            with transaction.atomic():
                notify.subscription_update(subscription=subscription, active=action == "enable")
            self.stdout.write(f"webhook {subscription.pk} ({subscription.url}) {action}d")
        elif action == "deliveries":
            self._deliveries(self._subscription(options["id"]), options["limit"])
        else:
            self._redeliver(options["message_id"])

    def _subscription(self, subscription_id: int) -> WebhookSubscription:
        found = WebhookSubscription.objects.filter(pk=subscription_id).first()
        if found is None:
            known = ", ".join(str(pk) for pk in WebhookSubscription.objects.order_by("id").values_list("id", flat=True)) or "none yet"
            raise CommandError(f"no webhook {subscription_id}; webhooks: {known}")
        return found

    def _print_secret(self, subscription: WebhookSubscription, what: str) -> None:
        self.stdout.write(f"webhook {subscription.pk} ({subscription.url}) {what}. Signing secret (shown once, store it now):")
        self.stdout.write(subscription.secret)

    def _deliveries(self, subscription: WebhookSubscription, limit: int) -> None:
        if not 1 <= limit <= 500:
            raise CommandError(f"--limit: {limit} is out of range; use 1 to 500")
        table = Table("message", "event", "lead", "status", "tries", "created", "sent / next try", "attempts (time, answer)")
        for message in notify_queries.delivery_log(subscription.pk, limit=limit):
            attempts = [
                f"{attempt.at.strftime('%H:%M:%S')} {attempt.status_code or ''} {'ok' if attempt.ok else attempt.error[:60]}".replace("  ", " ")
                for attempt in message.delivery_attempts.all()
            ]
            when = _time(message.sent_at) if message.status == OutboxMessage.Status.SENT else ""
            if message.status == OutboxMessage.Status.PENDING:
                when = f"next {_time(message.due_at)}"
            table.add_row(message.message_id, message.event, str(message.lead_id or ""), message.status, str(message.attempts),
                          _time(message.created_at), when, escape("\n".join(attempts)))
        self.stdout.write(table_text(table, width=200))

    def _redeliver(self, message_id: str) -> None:
        message = notify_queries.webhook_message_find(message_id)
        if message is None:
            raise CommandError(f"no webhook message {message_id!r}; `leadbaton webhooks deliveries ID` lists them (msg_…)")
        try:
            with transaction.atomic():
                notify.webhook_redeliver(message=message, now=clock.now())
        except notify.DeliveryInFlight as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{message.message_id} queued for delivery now; a running worker sends it")


def _option(field: str) -> str:
    """A service's field name as the command line spells it."""
    return field if field == "url" else f"--{field}"
