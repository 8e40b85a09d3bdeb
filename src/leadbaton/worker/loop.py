"""The worker: one loop that claims due rows and hands each to a use case.

Runs as a thread beside the web server (`leadbaton serve`) or on its own
(`leadbaton worker`). Every claim is a conditional UPDATE with a lease, so any
number of workers can run against PostgreSQL without doing anything twice.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

from leadbaton.core import clock
from leadbaton.core.cache import config_scope
from leadbaton.core.claims import heartbeat_start
from leadbaton.core.due import due_claim, periodic_jobs_ensure
from leadbaton.core.wakeup import wait_for_work, work_queued
from leadbaton.worker.work import PERIODIC, TIMED_WORK

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, *, poll_seconds: float | None = None) -> None:
        self.poll_seconds = settings.WORKER_POLL_SECONDS if poll_seconds is None else poll_seconds
        self.stopping = threading.Event()
        self._periodic_jobs_made = False
        self._next_look: dict[str, float] = {}  # per kind of timed work not looked for on every wake-up: when to look next (monotonic)
        self._more = False  # the last round had a full batch: look again at once

    def stop(self) -> None:
        self.stopping.set()
        work_queued()  # wake the loop if it is waiting

    def run_forever(self) -> None:
        heartbeat_start()  # its thread also finds processes of this machine that died holding claims (core.claims)
        log.info("worker started (polling every %.2f s)", self.poll_seconds)
        while not self.stopping.is_set():
            try:
                busy = self.tick()
            except Exception:
                log.exception("worker tick failed; trying again shortly")
                busy = 0
            finally:
                close_old_connections()
            if not busy and not self._more and not self.stopping.is_set():
                # No longer than until a kind of work is to be looked for again.
                soonest = min(self._next_look.values(), default=time.monotonic() + self.poll_seconds)
                wait_for_work(min(self.poll_seconds, max(0.0, soonest - time.monotonic())))
        log.info("worker stopped")

    def tick(self) -> int:
        """Claim and handle what is due now, each kind of timed work in the order of worker.work. Returns how many things were done."""
        now = clock.now()
        lease = timedelta(seconds=settings.WORKER_LEASE_SECONDS)
        if not self._periodic_jobs_made:
            periodic_jobs_ensure([job.name for job in PERIODIC], now=now)
            self._periodic_jobs_made = True
        done, self._more = 0, False
        for work in TIMED_WORK:
            looked_at = time.monotonic()
            if not work.on_wake_up and looked_at < self._next_look.get(work.name, 0.0):
                continue
            try:
                # The time now, not the round's start: what the work before wrote (a reminder's email) is due already.
                claimed = due_claim(work.rows(), now=clock.now(), lease=lease, limit=work.batch)
                full = len(claimed) == work.batch
                self._next_look[work.name] = looked_at + (0.0 if full else self.poll_seconds)
                self._more |= full  # a full batch: more may be waiting, whatever the handler reports
                if claimed:
                    with config_scope():  # one read of the configuration generation for the batch, as for one request
                        done += work.handle(claimed, clock.now())
            except Exception:  # one kind failing does not stop the others (the outbox comes last)
                log.exception("worker: %s failed; the other kinds of work go on", work.name)
        return done

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="leadbaton-worker", daemon=True)
        thread.start()
        return thread
