"""The query planner's statistics. PostgreSQL keeps its own (autovacuum analyzes a table as it changes); SQLite has
none until asked, and without them it may read a report's rows through the wrong index: one team's service levels read
every clock the team ever had through the team's index instead of the clocks that ended in the week."""

from __future__ import annotations

from django.db import connection, transaction

ROWS_SAMPLED = 1000  # per index: approximate statistics, in milliseconds however large the tables


def statistics_refresh() -> int:
    """On SQLite, gather the planner's statistics (ANALYZE, sampled); elsewhere nothing. Returns 0: nobody waits on it."""
    if connection.vendor != "sqlite":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:  # a write: it queues with the others (core.sqlite)
        cursor.execute(f"PRAGMA analysis_limit={ROWS_SAMPLED}")
        cursor.execute("ANALYZE")
    return 0
