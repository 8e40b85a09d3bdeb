"""The referee view (P8): marketing's and sales' service levels side by side, each with its trend over 12 weeks."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from leadbaton.accounts.models import Role
from leadbaton.leads.models import Lead
from leadbaton.pipeline.marketing import targets_change
from leadbaton.reports.marketing import marketing_report
from leadbaton.reports.periods import Period, period_parse
from leadbaton.reports.referee import Sides, referee, sides_of
from leadbaton.reports.service_levels import service_levels
from leadbaton.sla.models import Clock
from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import as_user, person
from tests.reports.test_reconciliation import MONDAY
from tests.reports.test_reconciliation_pages import browser

LATER = MONDAY + timedelta(days=8)


def test_both_sides_for_the_week_and_the_twelve_before(week):
    """The service levels' week: three leads, all sales-ready; Anna touched in 3 minutes and bought, Ben in 20 and lost,
    Carla not yet; one first response of three in time."""
    targets_change(by=person("Sam Admin", Role.ADMIN), values={"sales_ready_per_week": 5, "acceptance_rate": 80}, now=MONDAY)
    report = referee(period_parse("2026-W48", "Europe/Berlin"))
    now = report.now
    assert (now.sales_ready, now.sales_ready_target, now.sales_ready_met) == (3, 5, False)
    assert (now.acceptance, now.acceptance_target, now.acceptance_met) == (1.0, 80, True)
    assert (now.first_owned, now.within_5_minutes, now.first_response_met, now.close_rate) == (3, pytest.approx(1 / 3), pytest.approx(1 / 3), 0.5)
    assert [week.label for week in report.weeks] == [f"2026-W{number}" for number in range(37, 49)]
    assert [week.sales_ready for week in report.weeks] == [0] * 11 + [3]
    assert (report.weeks[0].acceptance, report.weeks[0].within_5_minutes, report.weeks[0].sales_ready_target) == (None, None, 5)
    month = referee(period_parse("2026-11", "Europe/Berlin"))
    assert (month.now.label, month.now.sales_ready, month.now.sales_ready_target, month.weeks[-1].label) == ("2026-11", 3, 21, "2026-W49")  # 30 November is a Monday


def test_the_page_and_the_api_show_both_sides_to_both_sides(week):
    with time_machine.travel(LATER, tick=False):
        for reader in (week["maria"], person("Mia Marketer", Role.MARKETING)):
            page = browser(reader).get("/reports/referee/?period=2026-W48")
            assert page.status_code == 200
            html = page.content.decode()
            assert "<h1>Both sides: 2026-W48</h1>" in html
            assert "<dt>New leads touched within 5 minutes</dt><dd>33% <span class=\"muted\">of 3</span></dd>" in html
            assert len(re.findall(r'<figure class="chart"><img src="data:image/svg\+xml;base64,', html)) == 2
            assert len(re.findall(r'<tr><th scope="row">2026-W\d\d</th>', html)) == 12
        assert browser(week["lena"]).get("/reports/referee/").status_code == 403
        body = as_user(week["maria"]).get("/api/v1/reports/referee?period=2026-W48").json()
        assert (body["now"]["week"], body["now"]["sales_ready"], body["now"]["close_rate"]) == ("2026-W48", 3, 0.5)
        assert len(body["weeks"]) == 12
        assert as_user(week["lena"]).get("/api/v1/reports/referee").status_code == 403
        wrong = as_user(week["maria"]).get("/api/v1/reports/referee?period=last-week")
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "period"


def test_both_sides_download_as_csv(week):
    with time_machine.travel(LATER, tick=False):
        download = browser(week["maria"]).get("/reports/referee/?period=2026-W48&format=csv")
    assert download["Content-Disposition"] == 'attachment; filename="both-sides-every-team-2026-W48.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [row["week"] for row in rows] == ["2026-W48", *(f"2026-W{number}" for number in range(37, 49))]
    assert (rows[0]["sales_ready"], rows[0]["close_rate"], rows[0]["sales_ready_target"]) == ("3", "0.5", "")


def reports_say(period: Period) -> tuple[Any, ...]:
    """One period's figures as the marketing report and the service levels give them: what the referee must agree with."""
    marketing, served = marketing_report(period).total, service_levels(period).total
    met = sum(counts["met"] for counts in served.clocks.values())
    first = served.clocks[str(Clock.FIRST_RESPONSE)]
    return (period.label, marketing.sales_ready, marketing.accepted, marketing.acceptance, served.first_owned, served.to_first_touch.within,
            share(first["met"], first["met"] + first["breached"]), share(met, met + sum(counts["breached"] for counts in served.clocks.values())),
            served.close_rate)


def referee_says(sides: Sides) -> tuple[Any, ...]:
    return (sides.label, sides.sales_ready, sides.accepted, sides.acceptance, sides.first_owned, sides.within_5_minutes, sides.first_response_met,
            sides.clocks_met, sides.close_rate)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def test_each_week_of_the_trend_says_what_the_two_reports_say_of_it(week):
    """The 12 weeks are counted together, grouped by week; each must be what the marketing report and the service
    levels say of that week alone, and a month what they say of the month."""
    with time_machine.travel(LATER, tick=False):
        Worker(poll_seconds=0).tick()  # Carla's clocks run on into the next week
    for asked in ("2026-W48", "2026-W49", "2026-11", "2026-11-25..2026-12-02"):
        report = referee(period_parse(asked, "Europe/Berlin"))
        assert [referee_says(sides) for sides in report.weeks] == [reports_say(period_parse(sides.label, "Europe/Berlin")) for sides in report.weeks]
        assert referee_says(report.now) == reports_say(period_parse(asked, "Europe/Berlin"))
    # Of six clocks that ended, four were met: Anna's first response, attempts and progress, and Ben's attempts.
    assert referee_says(referee(period_parse("2026-W48", "Europe/Berlin")).now)[1:] == (3, 3, 1.0, 3, pytest.approx(1 / 3), pytest.approx(1 / 3),
                                                                                        pytest.approx(2 / 3), 0.5)


def test_periods_that_do_not_follow_one_another_are_not_counted_together(db):
    weeks = [period_parse(label, "Europe/Berlin") for label in ("2026-W47", "2026-W49")]
    with pytest.raises(ValueError, match="follow one another"):
        sides_of(weeks)


@pytest.mark.parametrize("microseconds", [0, 400, 500, 600])
def test_a_first_touch_at_the_five_minute_line_is_judged_alike_by_both(week, microseconds):
    """Within 5 minutes is to the millisecond, and the service levels, the leaderboard and both sides draw the line at
    the same place: a touch 5 minutes and half a millisecond after the inquiry is not within."""
    ben = Lead.objects.get(email="ben@northwind.example")
    Lead.objects.filter(pk=ben.pk).update(first_touch_at=ben.received_at + timedelta(minutes=5, microseconds=microseconds))
    asked = period_parse("2026-W48", "Europe/Berlin")
    assert referee_says(referee(asked).now) == reports_say(asked)
    assert service_levels(asked).total.to_first_touch.within_count == (2 if microseconds < 500 else 1)  # Anna's 3 minutes, and Ben's
