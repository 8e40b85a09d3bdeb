"""SQLite writers in one process queue on a lock instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection, connections, transaction

from leadbaton.core.sqlite.base import WRITE_LOCK


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the write lock is SQLite's")


def test_the_database_file_runs_in_wal_mode_with_immediate_transactions_and_a_busy_timeout(tmp_path):
    """The settings a deployment gets, read in a process of its own against a real database file."""
    code = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor();"
        "c.execute('PRAGMA journal_mode'); mode = c.fetchone()[0];"
        "c.execute('PRAGMA synchronous'); sync = c.fetchone()[0];"
        "c.execute('PRAGMA busy_timeout'); busy = c.fetchone()[0];"
        "print(mode, sync, busy, connection.transaction_mode)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(LEADBATON_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="leadbaton.settings")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["wal", "1", "20000", "IMMEDIATE"], result.stderr


def test_a_write_transaction_holds_the_process_lock_until_it_commits(sqlite_only, transactional_db):
    assert not WRITE_LOCK.locked()
    with transaction.atomic():
        assert WRITE_LOCK.locked()
    assert not WRITE_LOCK.locked()


def test_a_failed_transaction_releases_the_lock(sqlite_only, transactional_db):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        1 / 0  # noqa: B018
    assert not WRITE_LOCK.locked()


def test_a_second_writer_waits_for_the_first_and_then_goes_on(sqlite_only, tmp_path, settings, django_db_blocker):
    """Two threads, two connections, one database file: the second BEGIN waits on the lock, not in SQLite."""
    path = tmp_path / "writers.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (n INTEGER)").connection.commit()
    settings.DATABASES["writers"] = {
        **settings.DATABASES["default"], "NAME": str(path), "TEST": {"NAME": str(path)},
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0.05, "init_command": "PRAGMA journal_mode=WAL"},
    }
    order: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with transaction.atomic(using="writers"):
            connections["writers"].cursor().execute("INSERT INTO t VALUES (1)")
            order.append("first writes")
            first_in.set()
            time.sleep(0.3)  # longer than the busy timeout: without the lock the second would fail
            order.append("first commits")
        connections["writers"].close()

    def second() -> None:
        first_in.wait(5)
        with transaction.atomic(using="writers"):
            connections["writers"].cursor().execute("INSERT INTO t VALUES (2)")
            order.append("second writes")
        connections["writers"].close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    with django_db_blocker.unblock():  # a database of this test's own, outside the test database
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
    del settings.DATABASES["writers"]
    assert order == ["first writes", "first commits", "second writes"]
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone()[0] == 2
