"""Progress (P2): of the leads each rep had in progress when a period began, those that progressed in it, against the
period before; and now: stale, next steps overdue, by blocker."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from leadbaton.accounts.models import RepProfile, Role, Team
from leadbaton.core import clock
from leadbaton.pipeline.followup import activity_log, outcome_record
from leadbaton.pipeline.ownership import lead_reassign
from leadbaton.pipeline.teams import policy_change
from leadbaton.reports.periods import period_parse
from leadbaton.reports.progress import progress, progress_leads
from leadbaton.sla.queries import leads_of_rep_by_clock
from tests.api.test_rep_api import as_user, person
from tests.reports.test_reconciliation import MONDAY, arrive, emea_with
from tests.reports.test_reconciliation_pages import browser

W46, W47 = MONDAY - timedelta(days=14), MONDAY - timedelta(days=7)
NOW = MONDAY + timedelta(days=7, hours=12)  # Monday of 2026-W49, 22:00 in Berlin


@pytest.fixture
def weeks(web_form):
    """EMEA. In 2026-W46 Anna, Carla and Eve came to Lena, Ben and Dana to Jonas; each was called but Eve. In W47 Lena
    called Anna again and nobody else progressed. In W48 Lena called Anna and put Carla in progress (budget, next
    step due that Wednesday); Jonas lost Ben; Dana was left alone."""
    emea, maria, (lena, jonas) = emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(W46, tick=False) as traveller:
        anna, ben, carla, dana, eve = (arrive(web_form, f"{name}@northwind.example") for name in ("anna", "ben", "carla", "dana", "eve"))
        traveller.shift(timedelta(minutes=3))
        for lead, owner in ((anna, lena), (ben, jonas), (carla, lena), (dana, jonas)):
            activity_log(lead_id=lead["id"], by=owner, kind="call", result="no_answer", note="", now=clock.now())
        traveller.move_to(W47 + timedelta(days=2))
        activity_log(lead_id=anna["id"], by=lena, kind="email", result="other", note="", now=clock.now())
        traveller.move_to(MONDAY + timedelta(days=1))
        activity_log(lead_id=anna["id"], by=lena, kind="call", result="connected", note="", now=clock.now())
        outcome_record(lead_id=carla["id"], by=lena, outcome="in_progress", blocker="budget", next_step="send the quote",
                       next_step_at=clock.now() + timedelta(days=1), now=clock.now())
        outcome_record(lead_id=ben["id"], by=jonas, outcome="not_interested", reason="chose a competitor", now=clock.now())
    assert [lead["owner"]["id"] for lead in (anna, ben, carla, dana, eve)] == [lena.pk, jonas.pk, lena.pk, jonas.pk, lena.pk]
    return {"emea": emea, "maria": maria, "lena": lena, "jonas": jonas, "ids": {name: lead["id"] for name, lead in
                                                                                zip(("anna", "ben", "carla", "dana", "eve"), (anna, ben, carla, dana, eve), strict=True)}}


def test_each_reps_share_progressed_against_the_week_before_and_where_their_leads_stand_now(weeks):
    report = progress(period_parse("2026-W48", "Europe/Berlin"), now=NOW, team_id=weeks["emea"].pk)
    jonas, lena = report.rows
    assert report.before.label == "2026-W47"
    assert (lena.in_progress_at_start, lena.progressed, lena.share) == (2, 2, 1.0)  # Eve was never touched: not in progress
    assert (lena.before_at_start, lena.before_progressed, lena.before_share, lena.change) == (2, 1, 0.5, 0.5)
    assert (jonas.in_progress_at_start, jonas.progressed, jonas.share, jonas.before_share, jonas.change) == (2, 1, 0.5, 0.0, 0.5)  # losing Ben is an outcome
    assert (lena.in_progress, lena.stale, lena.overdue, dict(lena.blockers)) == (2, 0, 1, {"": 1, "budget": 1})
    assert (jonas.in_progress, jonas.stale, jonas.overdue, dict(jonas.blockers)) == (1, 1, 0, {"": 1})  # Dana: nothing since W46
    assert (report.total.progressed, report.total.in_progress_at_start, report.total.change) == (3, 4, 0.5)
    assert report.blockers_seen == [("budget", "Budget"), ("", "none recorded")]
    ids = weeks["ids"]
    period = period_parse("2026-W48", "Europe/Berlin")
    assert progress_leads(period, "not_progressed", now=NOW, team_id=weeks["emea"].pk) == [ids["dana"]]
    assert progress_leads(period, "progressed", now=NOW, rep_id=weeks["lena"].pk) == [ids["anna"], ids["carla"]]
    assert progress_leads(period, "stale", now=NOW, team_id=weeks["emea"].pk) == [ids["dana"]]
    assert progress_leads(period, "overdue", now=NOW, team_id=weeks["emea"].pk) == [ids["carla"]]
    assert progress_leads(period, "blocker:budget", now=NOW, team_id=weeks["emea"].pk) == [ids["carla"]]
    assert sorted(progress_leads(period, "blocker:", now=NOW, team_id=weeks["emea"].pk)) == sorted([ids["anna"], ids["dana"]])
    with pytest.raises(ValueError, match="'soon' is not a figure of the progress report; use one of in_progress_at_start"):
        progress_leads(period, "soon", now=NOW)


def test_a_past_week_gives_the_same_answer_when_asked_again_later(weeks):
    period = period_parse("2026-W47", "Europe/Berlin")
    before = progress(period, now=NOW, team_id=weeks["emea"].pk)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        for lead, owner in (("dana", "jonas"), ("anna", "lena")):
            activity_log(lead_id=weeks["ids"][lead], by=weeks[owner], kind="call", result="connected", note="", now=clock.now())
        lead_reassign(lead_id=weeks["ids"]["carla"], to_rep_id=weeks["jonas"].pk, by=weeks["maria"], reason="covering", now=clock.now())
    after = progress(period, now=NOW + timedelta(hours=2), team_id=weeks["emea"].pk)
    assert [(row.name, row.in_progress_at_start, row.progressed, row.before_at_start, row.before_progressed) for row in after.rows] == [
        (row.name, row.in_progress_at_start, row.progressed, row.before_at_start, row.before_progressed) for row in before.rows]
    now_rows = {row.name: (row.in_progress, row.stale) for row in after.rows}
    assert now_rows == {"Jonas Berg": (2, 0), "Lena Rep": (1, 0)}  # now moved on: Carla is Jonas's, Dana touched


def test_a_lead_reassigned_away_unprogressed_counts_against_the_rep_who_held_it(weeks):
    """Moved in the middle of W49 without a touch: Lena's lead did not progress with her; Jonas did not hold it at the
    start, so it is not his to progress this week."""
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        lead_reassign(lead_id=weeks["ids"]["anna"], to_rep_id=weeks["jonas"].pk, by=weeks["maria"], reason="Lena is away", now=clock.now())
    report = progress(period_parse("2026-W49", "Europe/Berlin"), now=NOW + timedelta(days=2), team_id=weeks["emea"].pk)
    jonas, lena = report.rows
    assert (lena.in_progress_at_start, lena.progressed, lena.in_progress) == (2, 0, 1)
    assert (jonas.in_progress_at_start, jonas.progressed, jonas.in_progress) == (1, 0, 2)


def test_the_page_lists_a_figures_leads_and_the_api_and_csv_give_the_same_figures(weeks):
    with time_machine.travel(NOW, tick=False):
        page = browser(weeks["maria"]).get("/reports/progress/?period=2026-W48")
        assert page.status_code == 200
        html = page.content.decode()
        lena = re.search(r'<th scope="row">Lena Rep</th>(.*?)</tr>', html, re.DOTALL)[1]
        assert re.search(r'data-label="Share progressed">100%</td>\s*<td data-label="2026-W47">50% <span class="muted">\(1 of 2\)</span>', lena)
        assert '<td data-label="Change"><strong>+50 points</strong></td>' in lena
        assert 'aria-current="page">Progress</a>' in html
        assert 'Budget</th>' in html
        link = re.search(r'href="([^"]+show=' + str(weeks["jonas"].pk) + r'%3Astale[^"]*)"', html)[1].replace("&amp;", "&")
        shown = browser(weeks["maria"]).get("/reports/progress/" + link).content.decode()
        assert "Jonas Berg: stale now (1)" in shown
        assert "Dana" in shown
        assert "Last progress" in shown
        bad = browser(weeks["maria"]).get("/reports/progress/?period=2026-W48&show=total:soon")
        assert bad.status_code == 400
        assert "names no figure of this report" in bad.content.decode()
        body = as_user(weeks["maria"]).get("/api/v1/reports/progress?period=2026-W48").json()
        assert (body["before"]["label"], body["team"]) == ("2026-W47", "emea")
        lena_api = next(row for row in body["rows"] if row["rep"]["name"] == "Lena Rep")
        assert (lena_api["share"], lena_api["before"], lena_api["change"]) == (1.0, {"in_progress_at_start": 2, "progressed": 1, "share": 0.5}, 0.5)
        assert lena_api["now"]["by_blocker"]["budget"] == 1
        assert lena_api["now"]["overdue_next_steps"] == 1
        listed = as_user(weeks["maria"]).get("/api/v1/reports/progress/leads?period=2026-W48&figure=not_progressed").json()
        assert listed["lead_ids"] == [weeks["ids"]["dana"]]
        wrong = as_user(weeks["maria"]).get("/api/v1/reports/progress/leads?figure=soon")
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "figure"
        download = browser(weeks["maria"]).get("/reports/progress/?period=2026-W48&format=csv")
        assert download["Content-Disposition"] == 'attachment; filename="progress-emea-2026-W48.csv"'
        rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(row["rep"], row["progressed"], row["share"], row["before_share"], row["stale_now"]) for row in rows] == [
        ("Jonas Berg", "1", "0.5", "0.0", "1"), ("Lena Rep", "2", "1.0", "0.5", "0"), ("Total", "3", "0.75", "0.25", "1")]


def test_a_rep_reads_their_own_progress_only_and_marketing_none(weeks):
    with time_machine.travel(NOW, tick=False):
        own = as_user(weeks["lena"]).get("/api/v1/reports/progress?period=2026-W48").json()
        assert [row["rep"]["name"] for row in own["rows"]] == ["Lena Rep"]
        assert as_user(weeks["lena"]).get(f"/api/v1/reports/progress?rep={weeks['jonas'].pk}").status_code == 403
        assert browser(person("Mark Marketer", Role.MARKETING)).get("/reports/progress/").status_code == 403
        answer = as_user(weeks["maria"]).get("/api/v1/reports/progress?period=2026-W99")
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "period"


def test_service_levels_download_as_csv(weeks):
    with time_machine.travel(NOW, tick=False):
        outcome_record(lead_id=weeks["ids"]["anna"], by=weeks["lena"], outcome="purchased", value=Decimal("900"), currency="EUR", now=clock.now())
        download = browser(weeks["maria"]).get("/reports/service-levels/?period=2026-W49&format=csv")
    assert download["Content-Disposition"] == 'attachment; filename="service-levels-emea-2026-W49.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(row["rep"], row["purchased"], row["close_rate"], row["won_EUR"]) for row in rows] == [
        ("Jonas Berg", "0", "", "0.00"), ("Lena Rep", "1", "1.0", "900.00"), ("Total", "1", "1.0", "900.00")]


def test_the_terminals_weekly_report_ends_with_progress(weeks, capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("report", "weekly", "--team", "emea", "--week", "2026-W48")
    printed = capsys.readouterr().out
    assert "Progress: EMEA, 2026-W48" in printed
    assert re.search(r"Lena Rep\s*│\s*2\s*│\s*2\s*│\s*100%\s*│\s*50%\s*│\s*\+50 points\s*│\s*2\s*│\s*0\s*│\s*1\s*│\s*1\s*│\s*1", printed), printed


def test_a_lead_handed_away_and_back_progresses_when_touched_in_its_second_holding(weeks):
    lena, jonas, ids = weeks["lena"], weeks["jonas"], weeks["ids"]
    with time_machine.travel(NOW + timedelta(days=1), tick=False) as traveller:
        lead_reassign(lead_id=ids["anna"], to_rep_id=jonas.pk, by=weeks["maria"], reason="Lena is at a fair", now=clock.now())
        traveller.shift(timedelta(hours=1))
        lead_reassign(lead_id=ids["anna"], to_rep_id=lena.pk, by=weeks["maria"], reason="Lena is back", now=clock.now())
        traveller.shift(timedelta(hours=1))
        activity_log(lead_id=ids["anna"], by=lena, kind="call", result="connected", note="", now=clock.now())
    period = period_parse("2026-W49", "Europe/Berlin")
    lena_row = next(row for row in progress(period, now=NOW + timedelta(days=2), team_id=weeks["emea"].pk).rows if row.rep_id == lena.pk)
    assert (lena_row.in_progress_at_start, lena_row.progressed) == (2, 1)
    assert progress_leads(period, "progressed", now=NOW + timedelta(days=2), rep_id=lena.pk) == [ids["anna"]]


def test_now_counts_a_reps_leads_where_and_as_their_team_and_inbox_do_after_they_move_team(weeks):
    """Lena moves to the Americas, whose leads are stale after 3 days: its manager sees her leads, stale as her inbox says."""
    frank = person("Frank Manager", Role.MANAGER)
    amer = Team.objects.create(slug="amer", name="Americas", time_zone="Europe/Berlin", manager=frank)
    policy_change(scope="amer", by=person("Ada Admin", Role.ADMIN), values={"progress_every_days": 3}, now=NOW)
    RepProfile.objects.filter(user=weeks["lena"]).update(team=amer)
    inbox = leads_of_rep_by_clock(weeks["lena"].pk, now=NOW, view="stale", stale_before=NOW - timedelta(days=3))
    assert sorted(row.lead.pk for row in inbox) == sorted([weeks["ids"]["anna"], weeks["ids"]["carla"]])  # last touched 6.5 days ago
    lena = progress(period_parse("2026-W48", "Europe/Berlin"), now=NOW, team_id=amer.pk).rows[0]
    assert (lena.name, lena.in_progress, lena.stale) == ("Lena Rep", 2, 2)
    assert sorted(progress_leads(period_parse("2026-W48", "Europe/Berlin"), "stale", now=NOW, team_id=amer.pk)) == sorted(
        [weeks["ids"]["anna"], weeks["ids"]["carla"]])


def test_the_first_period_one_may_ask_for_has_none_before_it(weeks):
    with time_machine.travel(NOW, tick=False):
        page = browser(weeks["maria"]).get("/reports/progress/?period=2000-01")
        assert page.status_code == 200
        assert "against the period before" in page.content.decode()
        body = as_user(weeks["maria"]).get("/api/v1/reports/progress?period=2000-01").json()
        assert (body["before"], body["total"]["change"]) == (None, None)
        assert browser(weeks["maria"]).get("/reports/progress/?period=2000-01&format=csv").status_code == 200
