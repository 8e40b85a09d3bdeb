"""Sales service levels (P3, S4): speed to lead, touches before a conversation, clocks met and breached, close rate, value won."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from leadbaton.accounts.models import Role
from leadbaton.core import clock
from leadbaton.leads.models import Activity, Handoff, touches_before_conversation
from leadbaton.pipeline.followup import activity_log, outcome_record
from leadbaton.pipeline.ownership import lead_reassign
from leadbaton.reports.periods import period_parse
from leadbaton.reports.reconciliation import ledger_check
from leadbaton.reports.service_levels import duration_text, service_levels
from leadbaton.sla.models import Deadline
from tests.api.test_rep_api import as_user, person
from tests.reports.test_reconciliation import MONDAY, arrive, emea_with
from tests.reports.test_reconciliation_pages import browser


def test_each_reps_speed_to_lead_touches_clocks_and_close_rate(week):
    report = service_levels(period_parse("2026-W48", "Europe/Berlin"), team_id=week["emea"].pk)
    jonas, lena = report.rows
    assert (lena.name, lena.first_owned, lena.to_owner.median, lena.to_first_touch.seconds, lena.to_first_touch.waiting) == (
        "Lena Rep", 2, 0.0, [180.0], 1)
    assert lena.to_first_touch.within == 0.5  # of her two leads, one touched within 5 minutes; Carla not yet
    assert (lena.touches_before_conversation, lena.with_conversation, lena.without_conversation) == (1, 1, 1)
    assert lena.clocks["first_response"] == {"met": 1, "breached": 1}
    assert (lena.purchased, lena.not_interested, lena.close_rate, dict(lena.value_won)) == (1, 0, 1.0, {"EUR": Decimal("1200.00")})
    assert (jonas.first_owned, jonas.to_first_touch.seconds, jonas.to_first_touch.within, jonas.touches_before_conversation) == (1, [1200.0], 0.0, 0)
    assert jonas.clocks["first_response"] == {"met": 0, "breached": 1}
    assert (jonas.purchased, jonas.not_interested, jonas.close_rate) == (0, 1, 0.0)
    total = report.total
    assert (total.first_owned, total.to_first_touch.within, total.close_rate, total.touches_per_conversation) == (3, 1 / 3, 0.5, 0.5)
    assert (total.to_first_touch.median, total.to_first_touch.p90) == (690.0, 1200.0)  # of 180 and 1200 seconds
    before = service_levels(period_parse("2026-W47", "Europe/Berlin"), team_id=week["emea"].pk)
    assert (before.total.first_owned, before.total.close_rate, before.total.to_owner.median) == (0, None, None)


def test_the_page_the_api_and_the_terminal_show_the_same_figures(week, capsys):
    page = browser(week["maria"]).get("/reports/service-levels/?period=2026-W48").content.decode()
    lena = re.search(r'<th scope="row">Lena Rep</th>(.*?)</tr>', page, re.DOTALL)[1]
    assert '<td data-label="To first touch">3 min, 3 min, 50% <span class="muted">(1 not yet)</span></td>' in lena
    assert '<td data-label="First response">1 / 1</td>' in lena
    assert '<td data-label="Close rate">100% <span class="muted">(1 of 1)</span></td>' in lena
    assert '<td data-label="Won">1,200.00 EUR</td>' in lena
    assert 'aria-current="page">Service levels</a>' in page
    body = as_user(week["maria"]).get("/api/v1/reports/service-levels?period=2026-W48").json()
    assert body["team"] == "emea"
    lena_api = next(row for row in body["rows"] if row["rep"]["name"] == "Lena Rep")
    assert lena_api["to_first_touch"] == {"median_seconds": 180.0, "p90_seconds": 180.0, "within_5_minutes": 0.5, "leads": 1, "waiting": 1}
    assert (lena_api["value_won"], lena_api["close_rate"], lena_api["clocks"]["first_response"]) == ({"EUR": "1200.00"}, 1.0, {"met": 1, "breached": 1})
    assert body["total"]["close_rate"] == 0.5
    with time_machine.travel(MONDAY + timedelta(days=8), tick=False):
        call_command("report", "weekly", "--team", "emea", "--week", "2026-W48")
    printed = capsys.readouterr().out
    assert "Service levels: EMEA, 2026-W48" in printed
    assert re.search(r"Lena Rep\s*│\s*2\s*│\s*0 s\s*│\s*3 min, 3 min\s*│\s*50%\s*│\s*1\.0\s*│\s*1 / 1", printed), printed


def test_a_rep_reads_their_own_service_levels_only(week):
    own = as_user(week["lena"]).get("/api/v1/reports/service-levels?period=2026-W48").json()
    assert [row["rep"]["name"] for row in own["rows"]] == ["Lena Rep"]
    assert as_user(week["lena"]).get(f"/api/v1/reports/service-levels?rep={week['jonas'].pk}").status_code == 403
    assert browser(person("Mark Marketer", Role.MARKETING)).get("/reports/service-levels/").status_code == 403
    assert as_user(week["maria"]).get("/api/v1/reports/service-levels?period=soon").json()["errors"][0]["field"] == "period"


@pytest.mark.parametrize(("seconds", "text"), [(None, "—"), (0, "0 s"), (59.6, "1 min"), (45, "45 s"), (180, "3 min"), (3600, "1 h"),
                                               (7500, "2 h 5 min"), (86400 * 3 + 3600 * 4, "3 d 4 h"), (86400, "1 d")])
def test_durations_read_as_people_say_them(seconds, text):
    assert duration_text(seconds) == text


def test_touches_before_a_conversation_are_counted_as_the_leads_timeline_orders_them(web_form):
    emea, _, (lena,) = emea_with("Lena Rep")
    with time_machine.travel(MONDAY, tick=False):
        dana, eli = arrive(web_form, "dana@contoso.example"), arrive(web_form, "eli@contoso.example")
        for kind, result in (("email", "other"), ("call", "no_answer"), ("call", "connected"), ("meeting", "other")):  # at one moment: by id
            activity_log(lead_id=dana["id"], by=lena, kind=kind, result=result, note="", now=clock.now())
        activity_log(lead_id=eli["id"], by=lena, kind="note", result="", note="looked them up", now=clock.now())
        activity_log(lead_id=eli["id"], by=lena, kind="meeting", result="other", note="", now=clock.now())
    timeline = list(Activity.objects.filter(lead_id=dana["id"]).order_by("at", "id"))
    assert touches_before_conversation(timeline) == 2
    row = service_levels(period_parse("2026-W48", "Europe/Berlin"), team_id=emea.pk).rows[0]
    assert (row.touches_before_conversation, row.with_conversation, row.without_conversation) == (2, 2, 0)  # a note is not a touch


def test_a_lead_handed_on_in_the_moment_it_was_first_owned_counts_once_for_its_first_owner(web_form):
    # The manager's move took its time before the lead was routed and waited for its lock: it is recorded at the same
    # moment, and the lead is still Lena's first.
    emea, maria, (_, jonas) = emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(MONDAY, tick=False):
        anna = arrive(web_form, "anna@northwind.example")
    lead_reassign(lead_id=anna["id"], by=maria, reason="cover", to_rep_id=jonas.pk, now=MONDAY - timedelta(seconds=1))
    report = service_levels(period_parse("2026-W48", "Europe/Berlin"), team_id=emea.pk)
    assert [(row.name, row.first_owned) for row in report.rows] == [("Jonas Berg", 0), ("Lena Rep", 1)]
    assert report.total.first_owned == 1


def test_an_outcome_that_took_its_time_before_a_move_is_recorded_after_it_for_the_new_owner(web_form):
    emea, maria, (_, jonas) = emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(MONDAY, tick=False):
        anna = arrive(web_form, "anna@northwind.example")
    moved = MONDAY + timedelta(minutes=11)
    lead_reassign(lead_id=anna["id"], by=maria, reason="cover", to_rep_id=jonas.pk, now=moved)
    outcome_record(lead_id=anna["id"], by=maria, outcome="purchased", value=Decimal(500), currency="EUR", now=moved - timedelta(minutes=1))
    assert ledger_check() == []
    rows = {row.name: row for row in service_levels(period_parse("2026-W48", "Europe/Berlin"), team_id=emea.pk).rows}
    assert (rows["Jonas Berg"].purchased, rows["Lena Rep"].purchased) == (1, 0)
    assert list(Activity.objects.filter(lead_id=anna["id"]).values_list("at", flat=True)) == [moved + timedelta(microseconds=1)]


def test_the_report_tabs_keep_the_period_and_a_wrong_rep_keeps_the_team(week):
    page = browser(week["maria"]).get("/reports/service-levels/?period=2026-W47").content.decode()
    assert '<a href="/reports/reconciliation/?period=2026-W47&amp;team=emea" >Reconciliation</a>' in page
    wrong = browser(week["maria"]).get("/reports/reconciliation/?team=emea&rep=999999").content.decode()
    assert "no person 999999 in the teams you may read" in wrong
    assert "Reconciliation: EMEA" in wrong


def test_the_new_owners_clocks_start_when_the_handoff_was_recorded_not_before(web_form):
    _, maria, (_, jonas) = emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(MONDAY, tick=False):
        anna = arrive(web_form, "anna@northwind.example")
    lead_reassign(lead_id=anna["id"], by=maria, reason="cover", to_rep_id=jonas.pk, now=MONDAY - timedelta(minutes=3))
    handed = Handoff.objects.filter(lead_id=anna["id"]).latest("id")
    first_response = Deadline.objects.get(lead_id=anna["id"], rep=jonas, kind="first_response")
    assert (handed.at, first_response.started_at) == (MONDAY, MONDAY)  # Jonas gets his whole five minutes
