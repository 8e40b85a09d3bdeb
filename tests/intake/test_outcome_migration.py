"""Submissions stored before outcomes were kept get the outcome their answer stood for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from leadbaton.intake.models import ANSWER_CODES

BEFORE, AFTER = ("intake", "0004_submission_is_timed_work"), ("intake", "0005_submission_outcome")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _migrate(to: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([to])
    return executor.loader.project_state([to]).apps


@pytest.mark.django_db(transaction=True)
def test_it_gives_every_stored_answer_the_outcome_that_answers_the_same():
    apps = _migrate(BEFORE)
    Source, Submission = apps.get_model("intake", "Source"), apps.get_model("intake", "Submission")
    source = Source.objects.create(slug="web", name="Web", created_at=NOW)
    first = Submission.objects.create(source=source, received_at=NOW, body=b"{}", body_size=2, status="processed", http_status=201)
    rows = {
        "created": first,
        "merged": Submission.objects.create(source=source, received_at=NOW, body=b"{}", body_size=2, status="processed",
                                            http_status=200, merged=True),
        "replayed": Submission.objects.create(source=source, received_at=NOW, body=b"{}", body_size=2, status="processed",
                                              http_status=200, replay_of=first),
        "pending": Submission.objects.create(source=source, received_at=NOW, body=b"{}", body_size=2, status="failed", http_status=202),
        "": Submission.objects.create(source=source, received_at=NOW, body=b"{}", body_size=2, status="received"),
    }
    for status in (400, 409, 413, 422, 429):
        rows[str(status)] = Submission.objects.create(source=source, received_at=NOW, body=b"{}", body_size=2, status="rejected",
                                                      http_status=status)
    try:
        apps = _migrate(AFTER)
        migrated = {row.pk: row for row in apps.get_model("intake", "Submission").objects.all()}
        for expected, row in rows.items():
            outcome = migrated[row.pk].outcome
            if expected.isdigit():
                assert ANSWER_CODES[outcome] == int(expected), (expected, outcome)
            else:
                assert outcome == expected
        assert migrated[rows["413"].pk].outcome == "too_large"
    finally:
        _migrate(AFTER)  # the latest state, whatever failed, for the tests after this one
