"""Leads whose first inquiry carried only a utm_campaign come with that campaign in marketing's report, past ones too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from tests.leads.test_rejected_reason_migration import _migrate

BEFORE, AFTER = ("leads", "0012_report_indexes"), ("leads", "0013_original_campaign_from_utm")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_a_past_lead_that_came_from_a_tracked_link_gets_its_utm_campaign():
    apps = _migrate(BEFORE)
    Lead, Inquiry = apps.get_model("leads", "Lead"), apps.get_model("leads", "Inquiry")

    def lead(email: str, *inquiries: tuple[str, str], original: str = ""):
        row = Lead.objects.create(email=email, email_key=email, source_slug="web", stage="nurture", owner_kind="marketing",
                                  original_campaign=original, received_at=NOW, last_inquiry_at=NOW, updated_at=NOW)
        for number, (campaign, utm) in enumerate(inquiries):
            Inquiry.objects.create(lead=row, received_at=NOW + timedelta(hours=number), source_slug="web", campaign=campaign, utm_campaign=utm)

    lead("tracked@x.example", ("", "q4-forecasting"), ("", "winter"))
    lead("named@x.example", ("spring-webinar", "q4-forecasting"), original="spring-webinar")
    lead("later@x.example", ("", ""), ("", "winter"))  # the tracking came only with a later inquiry: not what it came with
    lead("none@x.example")
    try:
        apps = _migrate(AFTER)
        campaigns = dict(apps.get_model("leads", "Lead").objects.values_list("email", "original_campaign"))
        assert campaigns == {"tracked@x.example": "q4-forecasting", "named@x.example": "spring-webinar", "later@x.example": "", "none@x.example": ""}
    finally:
        call_command("migrate", verbosity=0)
