"""A nudge from the code that queued work to a worker in the same process.

The worker polls the database every LEADBATON_WORKER_POLL_MS; when the web
request that queued a notification runs in the same process (always so on
SQLite), it wakes the worker at once instead, so the rep hears of a lead in
milliseconds. Workers in other processes still find the work by polling.
"""

from __future__ import annotations

import threading

_work_queued = threading.Event()


def work_queued() -> None:
    _work_queued.set()


def wait_for_work(timeout: float) -> None:
    """Sleep until work is queued in this process or `timeout` seconds pass."""
    _work_queued.wait(timeout)
    _work_queued.clear()
