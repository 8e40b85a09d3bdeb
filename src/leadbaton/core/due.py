"""Timed work: claiming due rows, trying again after a failure, and giving up visibly.

One shape for every kind of later work (core.models.DueRow). A process claims due rows with
one conditional UPDATE that sets a lease and names it as the holder (core.claims); on
PostgreSQL the candidates are read with SKIP LOCKED, so workers do not queue behind each
other's rows. A failed try is due again after its kind's Backoff; when the backoff runs out
the row stays as a dead letter. Which kinds exist and who handles them is worker.work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import F, QuerySet

from leadbaton.core.claims import claim_free, claim_values, holder_current
from leadbaton.core.models import DueRow, PeriodicJob

Row = TypeVar("Row", bound=DueRow)


@dataclass(frozen=True)
class Backoff:
    """How long to wait after each failed try; after the last wait's try fails, the row is a dead letter."""

    waits: tuple[timedelta, ...]

    @classmethod
    def doubling(cls, *, first: timedelta, cap: timedelta, tries: int) -> Backoff:
        """`tries` tries in all, waiting `first`, then twice as long each time, never more than `cap`."""
        return cls(tuple(min(first * 2**n, cap) for n in range(max(tries - 1, 0))))

    @property
    def tries(self) -> int:
        return len(self.waits) + 1

    def next_due(self, *, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` tries failed; None: no more tries."""
        if attempts >= self.tries:
            return None
        return now + self.waits[max(attempts, 1) - 1]


def due_claim(rows: QuerySet[Row], *, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Claim up to `limit` due rows of `rows` (a kind's rows, maybe narrowed), earliest due first. Returns the ids won.

    A row is due when its status is one of the kind's DUE_STATES, its due time has come and its
    claim is free (core.claims). Each claimed row counts one more attempt.
    """
    model = rows.model
    free = claim_free(now=now)
    with transaction.atomic():
        due = rows.filter(free, status__in=model.DUE_STATES, due_at__lte=now).order_by("due_at", "pk")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        candidates = list(due.values_list("pk", flat=True)[:limit])
        if not candidates:
            return []
        values = claim_values(now=now, lease=lease)
        claimed = model._default_manager.filter(free, pk__in=candidates, status__in=model.DUE_STATES).update(
            **values, attempts=F("attempts") + 1
        )
        if claimed == len(candidates):
            return candidates
        # Only where a row changed under us (another database than these two): which did this process get?
        mine = model._default_manager.filter(pk__in=candidates, claimed_by_id=values["claimed_by_id"], claimed_until=values["claimed_until"])
        return list(mine.values_list("pk", flat=True))


def due_claim_one(model: type[DueRow], pk: int, *, now: datetime, lease: timedelta, due_only: bool = True) -> bool:
    """Claim one row of `model` for this process; True if this caller won it.

    A conditional UPDATE: of several processes racing for the same row, exactly one changes it.
    `due_only=False` takes a row in a due state whether or not its time has come (a staff replay).
    """
    due = {"due_at__lte": now} if due_only else {}
    changed = model._default_manager.filter(claim_free(now=now), pk=pk, status__in=model.DUE_STATES, **due).update(
        **claim_values(now=now, lease=lease), attempts=F("attempts") + 1
    )
    return changed == 1


def due_failed(row: DueRow, *, error: str, now: datetime, backoff: Backoff) -> list[str]:
    """Record a failed try on `row` (not saved): due again after the backoff, or a dead letter. Returns the fields set."""
    row.last_error = error[-4000:]
    row.claimed_until, row.claimed_by_id = None, None
    row.due_at = backoff.next_due(attempts=row.attempts, now=now)
    if row.due_at is None:
        row.status = type(row).DEAD_STATUS
    return ["last_error", "claimed_until", "claimed_by", "due_at", "status"]


def still_mine(rows: QuerySet[Row]) -> QuerySet[Row]:
    """Of `rows`, those this process still holds: one whose claim was taken over (its lease ran out, its
    process was taken for gone) must not have its new holder's claim cleared."""
    return rows.filter(claimed_by_id=holder_current())


# Periodic jobs: one row per job, due again one period after each run.


def periodic_jobs_ensure(names: Iterable[str], *, now: datetime) -> None:
    """Make a row, due now, for each job that has none yet (the first start of a worker that knows it)."""
    PeriodicJob.objects.bulk_create([PeriodicJob(name=name, due_at=now) for name in names], ignore_conflicts=True)


def periodic_job_ran(job_id: int, *, every: timedelta, now: datetime, error: str = "") -> None:
    """Record a run of a claimed job (failed, with `error`) and make it due one period later. A failed run is not tried sooner."""
    values: dict[str, Any] = {"due_at": now + every, "last_run_at": now, "last_error": error[-4000:], "attempts": 0}
    still_mine(PeriodicJob.objects.filter(pk=job_id)).update(**values, claimed_until=None, claimed_by=None)
