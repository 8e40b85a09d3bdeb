"""Writes of the intake capability: sources and keys, the submission log, rate windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from leadbaton.core.claims import claim_values, holder_current
from leadbaton.core.due import Backoff, due_claim_one, due_failed
from leadbaton.core.rows import fields_update
from leadbaton.core.tokens import secret_new
from leadbaton.intake.models import ANSWER_CODES, IdempotencyKey, Source, SourceKey, Submission


class SourceError(ValueError):
    """A source operation that cannot be done as asked."""


@dataclass(frozen=True)
class IssuedKey:
    source: Source
    key: SourceKey
    plaintext: str


def source_create(*, slug: str, name: str, kind: str = Source.Kind.API, default_region: str = "", now: datetime) -> IssuedKey:
    """Create a source and its first API key. The key's plaintext exists only in the return value."""
    if Source.objects.filter(slug=slug).exists():
        raise SourceError(f"a source with slug {slug!r} exists already; choose another slug or revoke and re-key it")
    source = Source.objects.create(slug=slug, name=name, kind=kind, default_region=default_region, created_at=now)
    return source_key_issue(source=source, now=now)


def source_key_issue(*, source: Source, now: datetime) -> IssuedKey:
    secret = secret_new("src")
    key = SourceKey.objects.create(source=source, prefix=secret.prefix, digest=secret.digest, created_at=now)
    return IssuedKey(source=source, key=key, plaintext=secret.plaintext)


def source_keys_revoke(*, source: Source, now: datetime) -> int:
    """Revoke every live key of a source; requests with them answer 401 from now on."""
    return SourceKey.objects.filter(source=source, revoked_at__isnull=True).update(revoked_at=now)


def source_key_revoke(*, key: SourceKey, now: datetime) -> bool:
    """Revoke one key of a source (the others keep working: issue the new one first, then revoke the old). True if it was live."""
    revoked = SourceKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now) == 1
    if revoked:
        key.revoked_at = now
    return revoked


def rate_window_hit(*, key_id: int, now: datetime) -> tuple[int, int]:
    """Count one request for the key in the current minute; return (count so far, seconds until the window ends).

    One statement, atomic on both databases, so every web process shares the count.
    """
    minute = int(now.timestamp()) // 60
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intake_ratewindow (key_id, minute, count) VALUES (%s, %s, 1) "
            "ON CONFLICT (key_id, minute) DO UPDATE SET count = intake_ratewindow.count + 1 "
            "RETURNING count",
            [key_id, minute],
        )
        (count,) = cursor.fetchone()
    return int(count), 60 - int(now.timestamp()) % 60


def rate_windows_prune(*, now: datetime) -> int:
    from leadbaton.intake.models import RateWindow

    deleted, _ = RateWindow.objects.filter(minute__lt=int(now.timestamp()) // 60 - 60).delete()
    return deleted


def submission_store(
    *,
    key: SourceKey | None,
    received_at: datetime,
    headers: dict[str, str],
    body: bytes,
    body_size: int,
    body_truncated: bool,
    idempotency_key: str,
    remote_addr: str,
    rejection: tuple[str, list[dict[str, str]]] | None = None,
    retry_after: timedelta = timedelta(seconds=60),
    source: Source | None = None,
) -> Submission:
    """Store one request as it came (with the key that sent it; a lead staff typed in has `source` and no key).
    With `rejection` (outcome, errors) it is stored already rejected.

    A submission to be processed is stored claimed by this process for
    `retry_after` (see core.claims): if the process dies, the worker takes it
    over at once; if it finishes, the claim and due time are cleared.
    """
    source_id = key.source_id if key is not None else source.pk if source is not None else None
    if source_id is None:
        raise ValueError("a submission comes with the key that sent it, or from a source")
    errors: list[dict[str, str]] = []
    status, outcome = Submission.Status.RECEIVED, ""
    if rejection is not None:
        status, (outcome, errors) = Submission.Status.REJECTED, rejection
    return Submission.objects.create(
        source_id=source_id,
        key=key,
        received_at=received_at,
        remote_addr=remote_addr[:64],
        headers=headers,
        body=body,
        body_size=body_size,
        body_truncated=body_truncated,
        idempotency_key=idempotency_key,
        status=status,
        outcome=outcome,
        http_status=ANSWER_CODES.get(outcome),
        errors=errors,
        processed_at=received_at if rejection is not None else None,
        **({} if rejection is not None else {"due_at": received_at, **claim_values(now=received_at, lease=retry_after)}),
    )


def submission_copy(*, original: Submission, now: datetime) -> Submission:
    """A new submission with the original's request, to process again (a staff replay); the original stays as it was."""
    return Submission.objects.create(
        source=original.source,
        key=original.key,
        received_at=now,
        remote_addr=original.remote_addr,
        headers=original.headers,
        body=original.body,
        body_size=original.body_size,
        body_truncated=original.body_truncated,
        idempotency_key=original.idempotency_key,
        replay_of=original,
    )


def submission_finish(
    *,
    submission: Submission,
    outcome: str,
    now: datetime,
    lead_id: int | None = None,
    merged: bool = False,
    errors: list[dict[str, str]] | None = None,
    warnings: list[dict[str, str]] | None = None,
    replay_of_id: int | None = None,
) -> None:
    """Record what became of the submission (an Outcome): rejected for a refusal, else processed."""
    submission.status = Submission.Status.REJECTED if outcome in Submission.REFUSALS else Submission.Status.PROCESSED
    submission.outcome = outcome
    submission.http_status = ANSWER_CODES[outcome]
    submission.lead_id = lead_id
    submission.merged = merged
    submission.errors = errors or []
    submission.warnings = warnings or []
    submission.processed_at = now
    submission.due_at = None
    submission.claimed_until, submission.claimed_by_id = None, None
    if replay_of_id is not None:
        submission.replay_of_id = replay_of_id
    submission.save(
        update_fields=[
            "status", "outcome", "http_status", "lead", "merged", "errors", "warnings", "processed_at",
            "due_at", "claimed_until", "claimed_by", "replay_of",
        ]
    )


def retry_backoff(max_attempts: int) -> Backoff:
    """Waits between tries of a failed submission: 10 s, 20 s, 40 s, … at most an hour; `max_attempts` tries in all."""
    return Backoff.doubling(first=timedelta(seconds=10), cap=timedelta(hours=1), tries=max_attempts)


def submission_fail(*, submission_id: int, error: str, now: datetime, max_attempts: int) -> Submission:
    """Record an unexpected failure. The worker retries it with backoff until max_attempts, then it stays as a dead letter.

    Only while it is unfinished and this process holds it (or nobody does): a try that outlived its
    claim must not turn a submission another process has since finished into a failed one.
    """
    submission = Submission.objects.select_for_update().get(pk=submission_id)
    if submission.status not in Submission.DUE_STATES or submission.claimed_by_id not in (None, holder_current()):
        return submission
    submission.status, submission.outcome = Submission.Status.FAILED, Submission.Outcome.PENDING
    submission.http_status = ANSWER_CODES[submission.outcome]
    submission.attempts = max(submission.attempts, 1)  # the first try happened in the request itself
    fields = due_failed(submission, error=error, now=now, backoff=retry_backoff(max_attempts))
    submission.save(update_fields=[*fields, "outcome", "http_status", "attempts"])
    return submission


def idempotency_claim(*, submission: Submission, body_digest: str, now: datetime) -> IdempotencyKey | None:
    """Claim the submission's Idempotency-Key; return the earlier claim if another submission holds it.

    A key whose submission was rejected was not used up: this submission takes
    it over. Concurrent claims of one key wait on its unique index.
    """
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                source_id=submission.source_id, key=submission.idempotency_key, body_digest=body_digest,
                submission=submission, created_at=now,
            )
        return None
    except IntegrityError:
        earlier = (
            IdempotencyKey.objects.select_for_update(of=("self",)).select_related("submission")
            .get(source_id=submission.source_id, key=submission.idempotency_key)
        )
    if earlier.submission.status == Submission.Status.REJECTED:
        earlier.submission, earlier.body_digest, earlier.created_at = submission, body_digest, now
        earlier.save(update_fields=["submission", "body_digest", "created_at"])
        return None
    return earlier


def submission_claim(*, submission_id: int, now: datetime, lease: timedelta, due_only: bool = True) -> bool:
    """Claim an unfinished submission for this process (core.due). True if this caller won the claim.

    `due_only=False` (a staff replay): whether or not its next try is due.
    """
    return due_claim_one(Submission, submission_id, now=now, lease=lease, due_only=due_only)


def submission_headers(meta: dict[str, Any]) -> dict[str, str]:
    """The request headers worth keeping with a submission (never the key itself)."""
    kept = ("CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_USER_AGENT", "HTTP_IDEMPOTENCY_KEY", "HTTP_X_FORWARDED_FOR", "HTTP_REFERER", "HTTP_ORIGIN")
    headers = {}
    for name in kept:
        if meta.get(name):
            pretty = name.removeprefix("HTTP_").replace("_", "-").title()
            headers[pretty] = str(meta[name])[:2000]
    return headers


def source_configure(
    *, slug: str, kind: str, name: str, default_region: str, rate_limit_per_minute: int | None, now: datetime
) -> tuple[Source, bool, list[str]]:
    """Create or update a source the organisation file describes; it becomes managed and active.

    Returns (source, created, changed field names). A new source has no key yet: issue one with source_key_issue.
    """
    values = {
        "kind": kind, "name": name, "default_region": default_region,
        "rate_limit_per_minute": rate_limit_per_minute, "active": True, "managed": True,
    }
    source = Source.objects.filter(slug=slug).first()
    if source is None:
        return Source.objects.create(slug=slug, created_at=now, **values), True, []
    return source, False, fields_update(source, values)


def sources_deactivate(*, keep_slugs: set[str]) -> list[Source]:
    """Deactivate the managed sources not kept: their keys answer 401 from now on, their submissions stay."""
    gone = list(Source.objects.filter(managed=True, active=True).exclude(slug__in=keep_slugs).order_by("slug"))
    Source.objects.filter(pk__in=[source.pk for source in gone]).update(active=False)
    return gone


MANUAL_SOURCE = "manual"


def manual_source(*, now: datetime) -> Source:
    """The built-in source of leads staff type in (a phone call, a business card): made the first time it is needed.
    The organisation file does not manage it, so `config apply` leaves it be."""
    source, _ = Source.objects.get_or_create(slug=MANUAL_SOURCE, defaults={"kind": Source.Kind.MANUAL, "name": "Entered by hand",
                                                                           "created_at": now})
    return source
