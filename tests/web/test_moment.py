"""A time as the pages write it: in the reader's zone with the zone named, and with its year when it is not this year."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine

from leadbaton.web.views import Moment

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_time_of_this_year_is_written_without_it_and_one_of_another_year_with_it():
    with time_machine.travel(datetime(2026, 12, 30, 12, 0, tzinfo=UTC), tick=False):
        assert Moment.of(datetime(2026, 12, 31, 9, 0, tzinfo=UTC), BERLIN).text == "Thu 31 Dec, 10:00 CET"
        assert Moment.of(datetime(2027, 1, 4, 9, 0, tzinfo=UTC), BERLIN).text == "Mon 4 Jan 2027, 10:00 CET"
        assert Moment.of(datetime(2025, 6, 2, 9, 0, tzinfo=UTC), BERLIN).text == "Mon 2 Jun 2025, 11:00 CEST"
        assert Moment.of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), BERLIN).text == "Fri 1 Jan 2027, 00:30 CET"  # the reader's year
        assert Moment.of(datetime(2026, 6, 2, 9, 0, tzinfo=UTC), BERLIN, with_year=True).text == "Tue 2 Jun 2026, 11:00 CEST"


def test_a_lead_link_written_once_per_route_is_what_reverse_writes():
    from django.urls import reverse

    from leadbaton.web.views import lead_href

    for lead_id in (1, 7, 123456789):
        assert lead_href(lead_id) == reverse("lead", args=[lead_id])
        assert lead_href(lead_id, "lead_take") == reverse("lead_take", args=[lead_id])


def test_a_time_is_written_as_strftime_writes_it_every_day_of_the_year():
    from datetime import timedelta

    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC), tick=False):
        for day in range(366):
            at = datetime(2026, 1, 1, 8, 5, tzinfo=UTC) + timedelta(days=day, minutes=day)
            local = at.astimezone(BERLIN)
            year = "" if local.year == 2026 else f" {local.year}"
            assert Moment.of(at, BERLIN).text == f"{local:%a} {local.day} {local:%b}{year}, {local:%H:%M} {local.tzname()}"
