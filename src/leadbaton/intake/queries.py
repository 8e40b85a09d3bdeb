"""Reads of the intake capability."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from leadbaton.core.cache import cached
from leadbaton.core.tokens import secret_matches, secret_prefix
from leadbaton.intake.models import IdempotencyKey, Source, SourceKey, Submission


def source_key_find(authorization: str | None) -> SourceKey | None:
    """The live key named by an `Authorization: Bearer …` header, or None.

    The live keys of active sources are kept in memory until the configuration
    changes (revoking a key or switching a source off changes it).
    """
    if not authorization or not authorization.startswith("Bearer "):
        return None
    plaintext = authorization.removeprefix("Bearer ").strip()
    prefix = secret_prefix(plaintext, "src")
    if prefix is None:
        return None
    key = cached("live source keys", _live_keys).get(prefix)
    if key is None or not secret_matches(plaintext, key.digest):
        return None
    return key


def _live_keys() -> dict[str, SourceKey]:
    live = SourceKey.objects.select_related("source").filter(revoked_at__isnull=True, source__active=True)
    return {key.prefix: key for key in live}


def submissions_list(
    *, status: str | None = None, source_slug: str | None = None, where: Q | None = None, limit: int = 50
) -> QuerySet[Submission]:
    """The newest submissions first; `where` narrows them (say, to those whose lead the reader may read)."""
    rows = Submission.objects.select_related("source").order_by("-received_at", "-id")
    if where is not None:
        rows = rows.filter(where)
    if status:
        rows = rows.filter(status=status)
    if source_slug:
        rows = rows.filter(source__slug=source_slug)
    return rows[:limit]


def source_slugs() -> list[str]:
    """The slugs of every source there is (retired ones and the built-in manual one too), in order."""
    return list(Source.objects.order_by("slug").values_list("slug", flat=True))


def submission_status(submission_id: int) -> str:
    return str(Submission.objects.filter(pk=submission_id).values_list("status", flat=True).get())


def idempotency_find(*, source_id: int, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.select_related("submission").filter(source_id=source_id, key=key).first()
