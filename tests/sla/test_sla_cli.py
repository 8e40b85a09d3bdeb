"""`leadbaton sla`: the clocks by team, one lead's clocks explained, the policies."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import WEDNESDAY_MORNING_IN_BERLIN, lead_to, sales  # noqa: F401  (a fixture)

ARRIVED = WEDNESDAY_MORNING_IN_BERLIN


def run(*args: str) -> str:
    out = StringIO()
    call_command("sla", *args, stdout=out)
    return out.getvalue()


def test_status_counts_each_teams_clocks(intake, sales):  # noqa: F811
    with time_machine.travel(ARRIVED, tick=False):
        lead_to(intake, sales.lena, "pat@buyer.example")
        lead_to(intake, sales.jonas, "sam@buyer.example")
    with time_machine.travel(ARRIVED + timedelta(minutes=5), tick=False):
        Worker(poll_seconds=0).tick()  # both breach; Lena's goes to Jonas and Jonas's to Lena
        lines = [line.split("│") for line in run("status").splitlines() if "EMEA" in line or "Americas" in line]
    cells = {row[1].strip(): [cell.strip() for cell in row[2:6]] for row in lines}
    # Running: the two new owners' first response and attempts clocks; breached today: the two first responses.
    assert cells == {"Americas": ["0", "0", "0", "0"], "EMEA": ["4", "2", "2", "0"]}


def test_status_names_an_unknown_team(sales):  # noqa: F811
    with pytest.raises(CommandError, match="no active team 'apac'"):
        run("status", "--team", "apac")


def test_explain_shows_how_each_clock_was_counted_and_each_step(intake, sales):  # noqa: F811
    with time_machine.travel(ARRIVED, tick=False):
        lead_id = lead_to(intake, sales.lena, "pat@buyer.example")
    with time_machine.travel(ARRIVED + timedelta(minutes=5), tick=False):
        Worker(poll_seconds=0).tick()  # the first tick since the lead came: both reminders are too late now
    text = run("explain", str(lead_id))
    assert "First response for Lena Rep: breached" in text
    assert "runs out 2026-11-25 10:05:00 UTC (working time in Europe/Berlin)" in text
    assert text.count("skipped (too late)") == 2
    assert text.count("│ done") == 3  # the breach, the manager's alert, the reassignment
    assert "First response for Jonas Berg: pending" in text
    assert "Attempts for Lena Rep: cancelled" in text


def test_policies_show_the_organisation_and_each_team(sales):  # noqa: F811
    from leadbaton.core import clock
    from leadbaton.sla.services import policy_configure

    for name, team, minutes in (("default", None, 5), ("team emea", sales.emea, 15)):
        policy_configure(name=name, team=team, first_response_minutes=minutes, attempts=6, attempts_within_days=10,
                         progress_every_days=7, business_hours=True, remind_before_minutes=2, now=clock.now())
    text = run("policies")
    assert text.index("the organisation") < text.index("team EMEA")
    assert "15 min" in text
    assert "6 in 10 days" in text
