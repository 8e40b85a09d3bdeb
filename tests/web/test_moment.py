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
