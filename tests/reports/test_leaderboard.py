"""The leaderboard (P5): the week's best follow-up, at most three names a board with why, never the rest; the team sees it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from leadbaton.accounts.models import Role, Team
from leadbaton.core import clock
from leadbaton.pipeline.followup import activity_log, outcome_record
from leadbaton.pipeline.ownership import lead_reassign
from leadbaton.pipeline.teams import policy_change
from leadbaton.reports.leaderboard import leaderboard
from leadbaton.reports.periods import period_parse
from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import as_user, person
from tests.reports.test_reconciliation import MONDAY, arrive, emea_with
from tests.reports.test_reconciliation_pages import browser

LATER = MONDAY + timedelta(days=2)


@pytest.fixture
def week(web_form):
    """EMEA in 2026-W48: six leads, two each to Lena, Jonas and Sofia. Lena called both of hers after a minute and sold
    one; Jonas called his after two and four minutes; Sofia called one of hers after a minute."""
    emea, maria, (lena, jonas, sofia) = emea_with("Lena Rep", "Jonas Berg", "Sofia Martin")
    with time_machine.travel(MONDAY, tick=False) as traveller:
        leads = [arrive(web_form, f"person{number}@northwind.example") for number in range(6)]
        assert [lead["owner"]["id"] for lead in leads] == [lena.pk, jonas.pk, sofia.pk] * 2
        traveller.shift(timedelta(minutes=1))
        for lead in (leads[0], leads[3]):
            activity_log(lead_id=lead["id"], by=lena, kind="call", result="connected", note="", now=clock.now())
        activity_log(lead_id=leads[2]["id"], by=sofia, kind="call", result="no_answer", note="", now=clock.now())
        traveller.shift(timedelta(minutes=1))
        activity_log(lead_id=leads[1]["id"], by=jonas, kind="call", result="no_answer", note="", now=clock.now())
        traveller.shift(timedelta(minutes=2))
        activity_log(lead_id=leads[4]["id"], by=jonas, kind="email", result="other", note="", now=clock.now())
        traveller.shift(timedelta(hours=3))
        outcome_record(lead_id=leads[0]["id"], by=lena, outcome="purchased", value=Decimal("900"), currency="EUR", now=clock.now())
    return {"emea": emea, "maria": maria, "lena": lena, "jonas": jonas, "sofia": sofia}


def boards_of(board) -> dict[str, list[tuple[int, str, str]]]:
    return {each.key: [(named.place, named.name, named.why) for named in each.named] for each in board.boards}


def test_each_board_names_the_best_with_why_and_nobody_else(week):
    board = leaderboard(period_parse("2026-W48", "Europe/Berlin"), now=LATER, team_id=week["emea"].pk)
    boards = boards_of(board)
    assert boards["fastest_first_touch"] == [  # Sofia's untouched lead counts against her: she just clears the bar of half
        (1, "Lena Rep", "touched 2 of 2 new leads within 5 minutes; median 1 min"),
        (2, "Jonas Berg", "touched 2 of 2 new leads within 5 minutes; median 3 min"),
        (3, "Sofia Martin", "touched 1 of 2 new leads within 5 minutes; median 1 min")]
    assert boards["clocks_met"] == [(1, "Lena Rep", "4 clocks met, none breached"),  # first responses, and attempts (she reached them)
                                    (2, "Jonas Berg", "2 clocks met, none breached"), (3, "Sofia Martin", "1 clock met, none breached")]
    assert boards["purchases"] == [(1, "Lena Rep", "1 purchase, 900.00 EUR")]  # nobody else is listed, not even with none
    assert boards["progressed"] == []
    assert [each.empty for each in board.boards if each.key == "progressed"] == ["Nobody has moved on enough leads in progress yet."]


def test_the_team_sees_its_board_and_only_its_own(week):
    other = Team.objects.create(slug="amer", name="AMER", time_zone="America/New_York")
    with time_machine.travel(LATER, tick=False):
        own = as_user(week["sofia"]).get("/api/v1/reports/leaderboard?period=2026-W48").json()
        assert own["team"] == "emea"
        assert [named["rep"]["name"] for named in own["boards"][3]["named"]] == ["Lena Rep"]  # a rep sees teammates' names here
        refused = as_user(week["sofia"]).get(f"/api/v1/reports/leaderboard?team={other.slug}")
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["field"] == "team"
        assert as_user(person("Mark Marketer", Role.MARKETING)).get("/api/v1/reports/leaderboard").status_code == 403
        assert as_user(week["maria"]).get("/api/v1/reports/leaderboard?team=amer").status_code == 403
        page = browser(week["jonas"]).get("/reports/leaderboard/?period=2026-W48")
        assert page.status_code == 200
        html = page.content.decode()
        assert '<li value="1"><strong>Lena Rep</strong> <span class="why">1 purchase, 900.00 EUR</span></li>' in html
        assert "Nobody has moved on enough leads in progress yet." in html
        assert 'aria-current="page">Leaderboard</a>' in html
        wrong = browser(week["jonas"]).get("/reports/leaderboard/?period=2026-W48&team=nowhere")
        assert wrong.status_code == 400
        assert "no team &#x27;nowhere&#x27;" in wrong.content.decode()


def test_reps_level_at_the_cut_are_all_shown(web_form):
    """Four reps each met one clock: all share first place, and none is cut."""
    emea, _, reps = emea_with("Ana Rep", "Bo Rep", "Cy Rep", "Di Rep")
    with time_machine.travel(MONDAY, tick=False) as traveller:
        leads = [arrive(web_form, f"p{number}@northwind.example") for number in range(4)]
        traveller.shift(timedelta(minutes=1))
        for lead, owner in zip(leads, reps, strict=True):
            activity_log(lead_id=lead["id"], by=owner, kind="call", result="no_answer", note="", now=clock.now())
    board = boards_of(leaderboard(period_parse("2026-W48", "Europe/Berlin"), now=LATER, team_id=emea.pk))
    assert [(place, name) for place, name, _ in board["clocks_met"]] == [(1, "Ana Rep"), (1, "Bo Rep"), (1, "Cy Rep"), (1, "Di Rep")]


def test_speed_is_the_reps_own_touch_from_receiving_the_lead(web_form):
    """Ana's two leads are reassigned to Bo ten seconds after arriving and Bo calls them a minute later: the speed is
    Bo's, not Ana's, though she first owned them."""
    emea, maria, (_, bo) = emea_with("Ana Rep", "Bo Rep")
    with time_machine.travel(MONDAY, tick=False) as traveller:
        leads = [arrive(web_form, f"p{number}@northwind.example") for number in range(4)]
        traveller.shift(timedelta(seconds=10))
        for lead in leads[0::2]:
            lead_reassign(lead_id=lead["id"], to_rep_id=bo.pk, by=maria, reason="Ana is at a fair", now=clock.now())
        traveller.shift(timedelta(minutes=1))
        for lead in leads:
            activity_log(lead_id=lead["id"], by=bo, kind="call", result="no_answer", note="", now=clock.now())
    board = boards_of(leaderboard(period_parse("2026-W48", "Europe/Berlin"), now=LATER, team_id=emea.pk))
    assert board["fastest_first_touch"] == [(1, "Bo Rep", "touched 4 of 4 new leads within 5 minutes; median 1 min")]


def test_nobody_is_named_for_being_least_slow(web_form):
    """Leads touched after most of a day, and clocks mostly breached: no board lists the team from best to worst."""
    emea, _, (ana, bo) = emea_with("Ana Rep", "Bo Rep")
    policy_change(scope="default", by=person("Ada Admin", Role.ADMIN), values={"escalation": {"first_response": ["alert_manager at breach"]}},
                  now=MONDAY)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        leads = [arrive(web_form, f"p{number}@northwind.example") for number in range(4)]
        traveller.shift(timedelta(hours=20))
        Worker(poll_seconds=0).tick()  # every first response has run out
        for lead, owner in zip(leads, (ana, bo, ana, bo), strict=True):
            activity_log(lead_id=lead["id"], by=owner, kind="call", result="no_answer", note="", now=clock.now())
    board = boards_of(leaderboard(period_parse("2026-W48", "Europe/Berlin"), now=LATER, team_id=emea.pk))
    assert (board["fastest_first_touch"], board["clocks_met"], board["progressed"], board["purchases"]) == ([], [], [], [])


def test_the_board_downloads_as_csv(week):
    with time_machine.travel(LATER, tick=False):
        download = browser(week["jonas"]).get("/reports/leaderboard/?period=2026-W48&format=csv")
    assert download["Content-Disposition"] == 'attachment; filename="leaderboard-emea-2026-W48.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(row["board"], row["place"], row["rep"]) for row in rows if row["board"] == "purchases"] == [("purchases", "1", "Lena Rep")]
