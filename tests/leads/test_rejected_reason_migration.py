"""Leads rejected before the reason had a column of its own get it from the rejection's outcome activity."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = ("leads", "0005_service_level_clocks"), ("leads", "0006_rejected_reason")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _migrate(to: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([to])
    return executor.loader.project_state([to]).apps


@pytest.mark.django_db(transaction=True)
def test_each_rejected_lead_gets_the_reason_its_rejection_recorded():
    apps = _migrate(BEFORE)
    User, Lead, Activity = (apps.get_model(*name.split(".")) for name in ("accounts.User", "leads.Lead", "leads.Activity"))
    rep = User.objects.create(email="lena@lumen.example", name="Lena", password="!")

    def lead(email: str, stage: str, owner_kind: str = "marketing"):
        return Lead.objects.create(email=email, email_key=email, source_slug="web", stage=stage, owner_kind=owner_kind,
                                   received_at=NOW, last_inquiry_at=NOW, updated_at=NOW)

    student, spam, lost = lead("s@x.example", "rejected"), lead("p@x.example", "rejected"), lead("n@x.example", "not_interested")
    for row, detail in ((student, {"outcome": "rejected", "reason": "student"}), (spam, {"outcome": "in_progress", "blocker": "need"}),
                        (spam, {"outcome": "rejected", "reason": "spam", "note": ""}), (lost, {"outcome": "not_interested", "reason": "no budget"})):
        Activity.objects.create(lead=row, by_user=rep, at=NOW, kind="outcome", detail=detail)
    try:
        apps = _migrate(AFTER)
        reasons = dict(apps.get_model("leads", "Lead").objects.values_list("email", "rejected_reason"))
        assert reasons == {"s@x.example": "student", "p@x.example": "spam", "n@x.example": ""}
    finally:
        call_command("migrate", verbosity=0)  # the latest state, whatever failed, for the tests after this one
