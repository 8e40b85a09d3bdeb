"""SQLite backend whose writers queue on a lock instead of sleeping.

SQLite allows one writer at a time. Threads that start an IMMEDIATE
transaction while another holds the write lock sleep in SQLite's busy
handler, which backs off in steps of up to 100 ms: at eight concurrent
writers the tail latency explodes. Here every write transaction in this
process first takes a process-wide lock, so writers wait on a lock that
wakes them the moment the previous writer commits. `leadbaton serve` runs
the web threads and the worker in one process, so all their writes queue
on this lock; the busy timeout remains for writers in other processes.

The database holds webhook secrets and chat tokens: its file is created 0600
before SQLite opens it (SQLite would make it 0644), and SQLite gives the -wal
and -shm files the database file's mode.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base

from leadbaton.core.datadir import file_make_private

WRITE_LOCK = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        name = str(conn_params.get("database") or "")
        if name and name != ":memory:" and not name.startswith("file:"):
            file_make_private(Path(name))
        return super().get_new_connection(conn_params)

    def _start_transaction_under_autocommit(self) -> None:
        WRITE_LOCK.acquire()
        self._holds_write_lock = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            WRITE_LOCK.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_write_lock()
