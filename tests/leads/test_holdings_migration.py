"""An existing ledger gets its holdings when the migration that adds them runs: each rep's holding of each lead, replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from tests.leads.test_rejected_reason_migration import _migrate

BEFORE, AFTER = ("leads", "0007_recycle"), ("leads", "0008_holdings")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_the_ledger_written_before_holdings_existed_gets_them():
    apps = _migrate(BEFORE)
    User, Team, Lead, Handoff, Activity = (apps.get_model(*name.split(".")) for name in (
        "accounts.User", "accounts.Team", "leads.Lead", "leads.Handoff", "leads.Activity"))
    lena, jonas = (User.objects.create(email=f"{name}@lumen.example", name=name.title(), password="!") for name in ("lena", "jonas"))
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin")

    def lead(email: str, stage: str, rep):
        return Lead.objects.create(email=email, email_key=email, source_slug="web", stage=stage, owner_kind="rep", owner_rep=rep,
                                   owner_team=emea, received_at=NOW, last_inquiry_at=NOW, updated_at=NOW)

    def handoff(row, at, to_rep, reason, from_rep=None):
        Handoff.objects.create(lead=row, at=at, from_kind="rep" if from_rep else "marketing", from_rep=from_rep, to_kind="rep", to_rep=to_rep,
                               to_team=emea, reason=reason)

    anna, ben = lead("anna@x.example", "in_progress", jonas), lead("ben@x.example", "purchased", lena)
    handoff(anna, NOW, lena, "routed")
    Activity.objects.create(lead=anna, by_user=lena, at=NOW + timedelta(hours=1), kind="call", result="no_answer")
    handoff(anna, NOW + timedelta(days=1), jonas, "reassigned", from_rep=lena)
    handoff(ben, NOW, lena, "routed")
    Activity.objects.create(lead=ben, by_user=lena, at=NOW + timedelta(hours=2), kind="outcome", detail={"outcome": "purchased"})
    try:
        apps = _migrate(AFTER)
        holdings = apps.get_model("leads", "Holding").objects.order_by("lead_id", "started_at")
        assert [(row.lead.email, row.rep.name, row.came, row.started_at, row.touched_at, row.closed_at, row.closed_how) for row in holdings] == [
            ("anna@x.example", "Lena", "routing", NOW, NOW + timedelta(hours=1), NOW + timedelta(days=1), "away"),
            ("anna@x.example", "Jonas", "reassigned", NOW + timedelta(days=1), NOW + timedelta(days=1), None, ""),
            ("ben@x.example", "Lena", "routing", NOW, None, NOW + timedelta(hours=2), "purchased"),
        ]
    finally:
        call_command("migrate", verbosity=0)  # the latest state, whatever failed, for the tests after this one
