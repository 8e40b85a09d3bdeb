"""The configuration generation: one row whose token changes whenever configuration that processes keep in memory changes.

Sources and their keys, teams, time off, routing rules, the lead definition,
webhook subscriptions and chat targets change seldom but are read by every
lead. Their models derive from ConfigModel: every save, delete and bulk write
through the ORM gives the generation a new token, in the same transaction, so
every process sees the change together with the new token (see core.cache).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import connection, models, router, transaction

GENERATION_ID = 1


class Generation(models.Model):
    """The single row (id 1) whose token says which configuration is current."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


def config_changed() -> None:
    """Start a new configuration generation. Call in the transaction that changes the configuration. Work in a
    configuration scope (core.cache) reads the generation again at its next cached read: it sees its own change."""
    from leadbaton.core.cache import scope_reread  # the cache reads this module's generation row

    token = uuid.uuid4().hex
    if not Generation.objects.filter(pk=GENERATION_ID).update(token=token):
        Generation.objects.create(pk=GENERATION_ID, token=token)
    scope_reread()


def config_lock() -> None:
    """Take the generation row before any configuration row (PostgreSQL; SQLite's write transaction holds all).

    Every transaction that writes configuration takes its locks in this order,
    so two of them (`config apply` and an API edit, say) queue instead of
    deadlocking. Call inside a transaction.
    """
    if connection.features.has_select_for_update:
        list(Generation.objects.select_for_update().filter(pk=GENERATION_ID).values_list("pk", flat=True))


class ConfigQuerySet(models.QuerySet[Any]):
    """Bulk writes of configuration take the generation row first and start a new generation when they write a row.

    (bulk_update goes through update; deletes start one through the post_delete signal, see core.apps.)
    """

    def update(self, **kwargs: Any) -> int:
        with transaction.atomic(using=self.db):
            config_lock()
            changed = super().update(**kwargs)
            if changed:
                config_changed()
        return changed

    def delete(self) -> tuple[int, dict[str, int]]:
        with transaction.atomic(using=self.db):
            config_lock()
            return super().delete()

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        if not objs:
            return []
        with transaction.atomic(using=self.db):
            config_changed()
            return super().bulk_create(objs, *args, **kwargs)


class ConfigModel(models.Model):
    """A model that processes keep in memory: every write starts a new configuration generation.

    A save starts it before writing the row, in the same transaction (the generation row is always
    locked first); a delete, including one cascading from another row, through post_delete.
    """

    objects = ConfigQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self), instance=self)):
            config_changed()
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self), instance=self)):
            config_lock()
            return super().delete(*args, **kwargs)


class Holder(models.Model):
    """A process that may hold claims on due rows: a web process or a worker, on some machine.

    A claim names its holder (`claimed_by`) beside its lease (`claimed_until`). A claim
    whose holder is gone is no claim, whatever its lease says (see core.claims).
    """

    host = models.CharField(max_length=255, help_text="The machine's host name, as the process saw it")
    machine = models.CharField(max_length=100, blank=True, help_text="Boot id and PID namespace: processes that can see each other's PIDs share it")
    pid = models.PositiveIntegerField()
    process_started = models.CharField(max_length=32, blank=True, help_text="The kernel's start time of the PID, so a reused PID is not taken for this process")
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    gone_at = models.DateTimeField(null=True, blank=True, help_text="When another process saw that this one no longer runs")

    class Meta:
        indexes = [models.Index(fields=["heartbeat_at"], name="holder_heartbeat")]

    def __str__(self) -> str:
        return f"process {self.pid} on {self.host}"


class DueRow(models.Model):
    """Timed work: a row that says when something is due, taken by one process at a time.

    Every kind of work that happens later (an outbox message, a submission to try again, a periodic
    job, a service-level deadline) is a model deriving from this one, and the worker's list pairs it
    with its handler (worker.work). Rows are claimed with core.due.due_claim, retried after a
    core.due.Backoff and, when the tries run out, kept as dead letters (`due_at` empty, `last_error`
    saying why): never dropped silently.

    Each kind declares `status` with its own choices and which of them are work (`DUE_STATES`);
    `DEAD_STATUS` is the status a row whose tries ran out keeps.
    """

    status = models.CharField(max_length=10)
    due_at = models.DateTimeField(null=True, blank=True, help_text="When the next try is due; empty: nothing is due")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries so far, counted when a process claims the row")
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="The claim's lease (see core.claims)")
    claimed_by = models.ForeignKey("core.Holder", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_error = models.TextField(blank=True)

    DUE_STATES: ClassVar[tuple[str, ...]] = ()
    DEAD_STATUS: ClassVar[str] = ""

    class Meta:
        abstract = True


class PeriodicJob(DueRow):
    """A job the worker runs every so often (handing out team queues, pruning), one row per job.

    Which jobs exist and how often they run is the worker's list (worker.work.PERIODIC): a row is
    made for each the first time a worker starts. Whichever worker claims the row runs the job, so
    with several workers it still runs once per period.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"

    name = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    last_run_at = models.DateTimeField(null=True, blank=True)

    DUE_STATES = (Status.SCHEDULED,)
    DEAD_STATUS = Status.SCHEDULED  # a failed run is tried again in its next period, never given up

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="periodic_job_due")]

    def __str__(self) -> str:
        return self.name
