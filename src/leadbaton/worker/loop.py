"""The worker: one loop that claims due rows and hands each to a use case.

Runs as a thread beside the web server (`leadbaton serve`) or on its own
(`leadbaton worker`). Every claim is a conditional UPDATE with a lease, so any
number of workers can run against PostgreSQL without doing anything twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

from leadbaton.core import clock
from leadbaton.core.claims import heartbeat_start
from leadbaton.core.wakeup import wait_for_work, work_queued
from leadbaton.intake.services import rate_windows_prune
from leadbaton.notify.services import outbox_claim, outbox_deliver_batch
from leadbaton.pipeline.intake import unfinished_submissions_retry
from leadbaton.pipeline.queue import queues_hand_out

log = logging.getLogger(__name__)

HAND_OUT_EVERY = timedelta(seconds=5)


class Worker:
    def __init__(self, *, poll_seconds: float | None = None) -> None:
        self.poll_seconds = settings.WORKER_POLL_SECONDS if poll_seconds is None else poll_seconds
        self.stopping = threading.Event()
        self._last_prune = clock.now() - timedelta(hours=1)
        self._last_hand_out = clock.now() - HAND_OUT_EVERY

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
            if not busy and not self.stopping.is_set():
                wait_for_work(self.poll_seconds)
        log.info("worker stopped")

    def tick(self) -> int:
        """Do what is due now. Returns how many things were done."""
        now = clock.now()
        lease = timedelta(seconds=settings.WORKER_LEASE_SECONDS)
        done = 0
        claimed = outbox_claim(now=now, lease=lease)
        if claimed:
            outbox_deliver_batch(message_ids=claimed, now=clock.now())
            done += len(claimed)
        done += unfinished_submissions_retry(now=now, lease=lease)
        if now - self._last_hand_out >= HAND_OUT_EVERY:
            # Reps become available as time passes (hours start, caps reset), so queues are offered again regularly.
            done += queues_hand_out(now=now)
            self._last_hand_out = now
        if now - self._last_prune > timedelta(minutes=10):
            rate_windows_prune(now=now)
            self._last_prune = now
        return done

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="leadbaton-worker", daemon=True)
        thread.start()
        return thread
