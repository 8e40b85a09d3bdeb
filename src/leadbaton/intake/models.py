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

    class Outcome(models.TextChoices):
        """What became of the submission, in the product's words; empty until it is finished."""

        CREATED = "created", "A new lead"
        MERGED = "merged", "Merged into the person's open lead"
        REPLAYED = "replayed", "A retry with the same Idempotency-Key: the first request's lead"
        PENDING = "pending", "Kept without a lead yet (processing failed, or the first request with its key is unfinished)"
        MALFORMED = "malformed", "Refused: the body is not JSON"
        INVALID = "invalid", "Refused: a request that cannot be used as sent"
        UNREACHABLE = "unreachable", "Refused: nobody could be contacted"
        TOO_LARGE = "too_large", "Refused: the body is too large"
        RATE_LIMITED = "rate_limited", "Refused: the key sent too many requests"
        KEY_REUSED = "key_reused", "Refused: the Idempotency-Key came with another body"

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
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The status the source was answered with")
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merged = models.BooleanField(default=False)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    processed_at = models.DateTimeField(null=True, blank=True)

    DUE_STATES = (Status.RECEIVED, Status.FAILED)
    DEAD_STATUS = Status.FAILED
    REFUSALS = (
        Outcome.MALFORMED, Outcome.INVALID, Outcome.UNREACHABLE, Outcome.TOO_LARGE, Outcome.RATE_LIMITED, Outcome.KEY_REUSED,
    )

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


# The HTTP status a source's request is answered with, by outcome: the one table of it. The API
# answers with it and the submission log keeps it (`http_status`), so the two cannot disagree
# (decision 0021). A submission that did not come over HTTP (a CSV row, an e-mail) keeps none.
ANSWER_CODES: dict[str, int] = {
    Submission.Outcome.CREATED: 201,
    Submission.Outcome.MERGED: 200,
    Submission.Outcome.REPLAYED: 200,
    Submission.Outcome.PENDING: 202,
    Submission.Outcome.MALFORMED: 400,
    Submission.Outcome.INVALID: 422,
    Submission.Outcome.UNREACHABLE: 422,
    Submission.Outcome.TOO_LARGE: 413,
    Submission.Outcome.RATE_LIMITED: 429,
    Submission.Outcome.KEY_REUSED: 409,
}


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
