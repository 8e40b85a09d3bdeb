"""Telling people: in-app notifications, and the outbox of messages to send by email, webhook and chat.

An outbox message is written in the same transaction as the change it reports,
so a committed assignment always has its notifications, and a rolled-back one
never does. The worker sends what is due.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from leadbaton.core.models import ConfigModel, DueRow


class Event(models.TextChoices):
    LEAD_CREATED = "lead.created", "Lead created"
    LEAD_ASSIGNED = "lead.assigned", "Lead assigned"
    LEAD_REASSIGNED = "lead.reassigned", "Lead reassigned"
    LEAD_QUEUED = "lead.queued", "Lead queued"
    LEAD_MERGED = "lead.merged", "Inquiry merged into a lead"
    LEAD_REJECTED = "lead.rejected", "Rejected by sales: not a lead"
    LEAD_RECYCLED = "lead.recycled", "Back to nurture after not now"
    SLA_REMINDER = "sla.reminder", "Service-level reminder"
    SLA_BREACHED = "sla.breached", "Service level breached"


class AccountEmail(models.TextChoices):
    """Emails to a person about their own account: by email only, never offered to webhooks or chat (not an Event)."""

    PASSWORD_RESET = "account.password_reset", "Password reset"


class Notification(models.Model):
    """What a person sees in the app's notification list."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=30)
    title = models.CharField(max_length=300)
    card = models.JSONField(default=dict, help_text="The context card as it was when the notification was made")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_user_time")]


class WebhookSubscription(ConfigModel):
    """A receiver of signed JSON events (Standard Webhooks). The secret signs; it is shown once."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Event names, e.g. ['lead.assigned']")
    secret = models.CharField(max_length=100, help_text="whsec_…; needed to sign every delivery")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.url


class ChatTarget(ConfigModel):
    """An apprise notification URL (Slack, Teams, Mattermost, Telegram, SMS, …) for a team or a rep."""

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="chat_targets")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="chat_targets")
    label = models.CharField(max_length=100)
    url = models.CharField(max_length=1000, help_text="An apprise URL; it may hold a token, so it is never shown in full")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=False, rep__isnull=True) | models.Q(team__isnull=True, rep__isnull=False),
                name="chat_target_for_team_or_rep",
            )
        ]


class OutboxMessage(DueRow):
    """One message to deliver on one channel: timed work (core.models.DueRow), claimed by a worker, retried with backoff."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"
        CHAT = "chat", "Chat / SMS"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead letter"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    event = models.CharField(max_length=30)
    message_id = models.CharField(max_length=40, unique=True, help_text="Stable across retries (the webhook-id)")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient = models.CharField(max_length=254, blank=True, help_text="Email address, for email")
    subscription = models.ForeignKey(WebhookSubscription, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    chat_target = models.ForeignKey(ChatTarget, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    payload = models.JSONField(help_text="What to send, rendered when the message was written")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    DUE_STATES = (Status.PENDING,)
    DEAD_STATUS = Status.DEAD

    class Meta:
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(status="pending"), name="outbox_pending_due"),
            models.Index(fields=["subscription", "-created_at"], name="outbox_subscription_time"),
            models.Index(fields=["recipient", "event", "-created_at"], condition=models.Q(channel="email", event__in=AccountEmail.values),
                         name="outbox_account_email"),
        ]


class DeliveryAttempt(models.Model):
    """One try at delivering an outbox message: the delivery log."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    at = models.DateTimeField()
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]
