"""Everything LeadBaton does later, in one place: each kind of due row and what handles it.

A newcomer looking for what happens to a lead after its request was answered reads this file.
Every kind is a model deriving from core.models.DueRow, claimed by core.due.due_claim; adding
timed work means a row type and one line below, never a second scheduler.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from leadbaton.core import clock
from leadbaton.core.due import periodic_job_ran
from leadbaton.core.models import DueRow, PeriodicJob
from leadbaton.core.statistics import statistics_refresh
from leadbaton.intake.models import Submission
from leadbaton.intake.services import rate_windows_prune
from leadbaton.notify.models import OutboxMessage
from leadbaton.notify.services import outbox_deliver_batch
from leadbaton.pipeline.clocks import deadlines_fire
from leadbaton.pipeline.digest import digests_send
from leadbaton.pipeline.intake import submissions_retry
from leadbaton.pipeline.ownership import inactive_owners_return
from leadbaton.pipeline.queue import queues_hand_out
from leadbaton.pipeline.recycle import leads_recycle
from leadbaton.sla.models import Deadline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A job that runs every `every` (a PeriodicJob row each); `run` returns how many things it did."""

    name: str
    every: timedelta
    run: Callable[[datetime], int]
    why: str


def _prune(now: datetime) -> int:
    rate_windows_prune(now=now)
    return 0  # housekeeping: nothing a person waits for


PERIODIC: tuple[Periodic, ...] = (
    Periodic(
        "queues.hand_out", timedelta(seconds=5), lambda now: queues_hand_out(now=now),
        "give queued leads to reps who became available (hours started, a cap reset, a pause ended)",
    ),
    Periodic(
        "ownership.inactive_owners", timedelta(minutes=1), lambda now: inactive_owners_return(now=now),
        "give back open leads still owned by someone deactivated outside the app's own paths (a shell, an SQL UPDATE)",
    ),
    Periodic("intake.rate_windows_prune", timedelta(minutes=10), _prune, "forget rate-limit counts older than an hour"),
    Periodic(
        "leads.recycle", timedelta(minutes=5), lambda now: leads_recycle(now=now),
        "send leads closed as not interested, not now, back to marketing's nurture when their cool-off ends (N3)",
    ),
    Periodic(
        "reports.weekly_digest", timedelta(minutes=5), lambda now: digests_send(now=now),
        "email each manager, rep and marketer their last week on Monday morning in their time zone, once (P7)",
    ),
    Periodic(
        "database.statistics", timedelta(hours=6), lambda now: statistics_refresh(),
        "on SQLite, gather the query planner's statistics, so that reports read through the right index",
    ),
)


@dataclass(frozen=True)
class TimedWork:
    """One kind of due row: which rows, how many to claim at once, and the handler of the claimed ids."""

    name: str
    rows: Callable[[], QuerySet[DueRow]]
    handle: Callable[[list[int], datetime], int]
    batch: int = 20
    # Looked for on every wake-up (a request queued some: the new lead's email); else at most once a poll
    # interval, and again at once while batches come full. Every look is a query, and a busy web tier wakes
    # its workers with every request.
    on_wake_up: bool = False


def _deliver(message_ids: list[int], now: datetime) -> int:
    outbox_deliver_batch(message_ids=message_ids, now=now)
    return len(message_ids)


def _periodic_run(job_ids: list[int], now: datetime) -> int:
    """Run the claimed periodic jobs; each is due again one period later, whether or not its run failed."""
    by_name = {job.name: job for job in PERIODIC}
    done = 0
    for job in PeriodicJob.objects.filter(pk__in=job_ids).order_by("due_at"):
        periodic = by_name[job.name]
        try:
            done += periodic.run(now)
        except Exception:
            log.exception("periodic job %s failed; it runs again in %s", job.name, periodic.every)
            periodic_job_ran(job.pk, every=periodic.every, now=clock.now(), error=traceback.format_exc())
        else:
            periodic_job_ran(job.pk, every=periodic.every, now=now)
    return done


TIMED_WORK: tuple[TimedWork, ...] = (
    # A submission whose processing failed, or that a crash left unprocessed: process it again.
    TimedWork("unfinished submission", lambda: Submission.objects.all(), submissions_retry),
    # The periodic jobs above.
    TimedWork("periodic job", lambda: PeriodicJob.objects.filter(name__in=[job.name for job in PERIODIC]), _periodic_run, batch=len(PERIODIC)),
    # Service-level clocks, after the periodic jobs (a lead a departed rep held goes back first): a reminder, a breach, the manager's alert, an SLA reassignment, each once (pipeline.clocks).
    TimedWork("service-level deadline", lambda: Deadline.objects.all(), deadlines_fire, batch=50),
    # Tell people: emails, signed webhooks and chat messages, written with the change they report. Last, so
    # what the work before wrote goes out in the same round.
    TimedWork("outbox message", lambda: OutboxMessage.objects.all(), _deliver, on_wake_up=True),
)
