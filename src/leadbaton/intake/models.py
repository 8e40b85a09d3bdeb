"""Where leads come from: sources, their keys, and every submission verbatim."""

from __future__ import annotations

from django.db import models

from leadbaton.core.models import ConfigModel, DueRow


class Source(ConfigModel):
    class Kind(models.TextChoices):
        API = "api", "API"
        FORM = "form", "Web form"
        AD = "ad", "Ad platform"
        EVENT = "event", "Event / trade show"
        PHONE = "phone", "Phone"
        CSV = "csv", "CSV import"
        MANUAL = "manual", "Manual entry"

    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.API)
    name = models.CharField(max_length=200)
    default_region = models.CharField(
        max_length=2, blank=True, help_text="ISO country used to read phone numbers written without +country code"
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests a minute per key; empty = LEADBATON_INTAKE_RATE_LIMIT"
    )
    active = models.BooleanField(default=True)
    managed = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.slug


class SourceKey(ConfigModel):
    """An API key of a source. Stored as a digest; the key itself is shown once."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=8, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source.slug}:{self.prefix}…"


class Submission(DueRow):
    """One authenticated request, stored as it came, committed before it is processed.

    Timed work too (core.models.DueRow): one received but not finished (its process died) or
    failed is tried again by the worker when `due_at` comes; a failed one whose tries ran out
    stays failed with no due time (a dead letter, replayable by staff).
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="submissions")
    key = models.ForeignKey(SourceKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField()
    remote_addr = models.CharField(max_length=64, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField()
    body_size = models.PositiveIntegerField(help_text="Bytes of body the request sent")
    body_truncated = models.BooleanField(default=False, help_text="Only the first bytes are kept (body too large)")
    idempotency_key = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merged = models.BooleanField(default=False)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    processed_at = models.DateTimeField(null=True, blank=True)

    DUE_STATES = (Status.RECEIVED, Status.FAILED)
    DEAD_STATUS = Status.FAILED

    class Meta:
        indexes = [
            models.Index(fields=["source", "received_at"], name="submission_source_time"),
            models.Index(fields=["status", "received_at"], name="submission_status_time"),
            models.Index(
                fields=["due_at"],
                condition=models.Q(status__in=["received", "failed"], due_at__isnull=False),
                name="submission_unfinished_due",
            ),
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} ({self.status})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class IdempotencyKey(models.Model):
    """The first submission a source sent with a given Idempotency-Key."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_digest = models.CharField(max_length=64)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="one_idempotency_key_per_source")]


class RateWindow(models.Model):
    """Requests counted per key and minute, shared by every web process."""

    key = models.ForeignKey(SourceKey, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField(help_text="Minutes since the Unix epoch")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "minute"], name="one_rate_window_per_minute")]
