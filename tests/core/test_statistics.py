"""The query planner's statistics: gathered on SQLite by a periodic job, left to PostgreSQL's own autovacuum."""

from __future__ import annotations

import pytest
from django.db import connection

from leadbaton.core.models import PeriodicJob
from leadbaton.worker.loop import Worker


def _analysed_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchall():
            return set()
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_first_worker_gathers_sqlites_statistics_and_again_every_six_hours():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL analyzes its tables itself")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    assert _analysed_tables() == set()
    Worker(poll_seconds=0).tick()
    assert {"django_migrations", "core_periodicjob"} <= _analysed_tables()  # every table with rows (an empty one has no statistics)
    job = PeriodicJob.objects.get(name="database.statistics")
    assert (job.last_error, (job.due_at - job.last_run_at).total_seconds()) == ("", 6 * 3600)


@pytest.mark.django_db
def test_on_postgresql_the_job_does_nothing():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no statistics until asked")
    from leadbaton.core.statistics import statistics_refresh

    assert statistics_refresh() == 0
