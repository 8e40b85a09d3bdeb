"""The rep's inbox, their home page (F1): open leads most urgent first, what is due, the views that narrow it, the team queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from leadbaton.accounts.models import RepProfile, User
from leadbaton.core import clock
from leadbaton.intake.services import source_create
from leadbaton.sla.models import Deadline
from leadbaton.sla.queries import leads_of_rep_by_clock
from tests.api import test_rep_api
from tests.api.test_rep_api import as_user, in_progress, lead_to, lena_only, touch
from tests.conftest import IntakeClient

sales, morning = test_rep_api.sales, test_rep_api.morning


def inbox_of(user: User, query: str = "") -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    answer = client.get(f"/{query}")
    return answer.status_code, answer.content.decode()


def listed(page: str) -> list[int]:
    """The lead ids of the inbox's rows, in their order."""
    return [int(n) for n in re.findall(r'<tr data-lead-id="(\d+)"', page)]


@pytest.fixture
def lenas_leads(intake, sales, morning):
    """Lena's open leads at 11:00 in Berlin, one of each kind; returns them by name."""
    lena_only(sales)
    lena = as_user(sales.lena)
    ids = {}
    ids["breached"] = lead_to(intake, sales.lena, "old@buyer.example", first_name="Olga", company="Oldco", message="Still waiting for a call")
    Deadline.objects.filter(lead_id=ids["breached"]).update(status="breached", breached_at=clock.now())
    morning.shift(timedelta(minutes=1))
    ids["fresh"] = lead_to(intake, sales.lena, "fresh@buyer.example", first_name="Finn", message="Demo please", product_interest="Forecasting")
    for name, due, blocker in (("tomorrow", timedelta(days=1), "timing"), ("overdue", timedelta(minutes=30), "budget")):
        ids[name] = lead_to(intake, sales.lena, f"{name}@buyer.example", first_name=name.title())
        assert touch(lena, ids[name]).status_code == 201
        assert in_progress(lena, ids[name], clock.now() + due, blocker=blocker, next_step=f"call {name}").status_code == 200
    morning.shift(timedelta(hours=1))  # 12:01: the overdue lead's next step has passed
    return ids


def test_a_reps_home_lists_their_open_leads_most_urgent_first_with_what_is_due(lenas_leads, sales):
    status, page = inbox_of(sales.lena)
    assert status == 200
    assert listed(page) == [lenas_leads["breached"], lenas_leads["fresh"], lenas_leads["overdue"], lenas_leads["tomorrow"]]
    first = page.split('<tr data-lead-id="')[1]
    assert "Olga" in first
    assert "Oldco" in first
    assert "Still waiting for a call" in first
    assert "Breached" in first
    fresh = page.split('<tr data-lead-id="')[2]
    assert "Demo please" in fresh
    assert re.search(r'First response:\s*<strong class="countdown" data-breaches-at="[^"]+">', fresh)  # counts down in the browser
    overdue = page.split('<tr data-lead-id="')[3]
    assert "call overdue" in overdue
    assert "overdue since Wed 25 Nov, 11:31 CET" in overdue
    assert "held back by budget" in overdue
    assert "Times in Europe/Berlin" in page
    assert "You get new leads now." in page
    assert "/leads/" in page


def test_a_row_says_what_the_person_asked_last_and_where(lenas_leads, sales, morning):
    morning.shift(timedelta(minutes=5))
    webinar = IntakeClient(source_create(slug="webinar", name="Webinar sign-ups", default_region="DE", now=clock.now()).plaintext)
    again = webinar.post({"email": "fresh@buyer.example", "message": "Pricing for 40 seats, please"})
    assert again.status_code == 200, again.json()  # the same person: merged into Finn's open lead
    assert again.json()["id"] == lenas_leads["fresh"]
    _, page = inbox_of(sales.lena)
    fresh = next(row for row in page.split('<tr data-lead-id="')[1:] if row.startswith(f'{lenas_leads["fresh"]}"'))
    assert "Pricing for 40 seats, please" in fresh
    assert "Demo please" not in fresh
    assert "<td>webinar</td>" in fresh
    assert "<td>website</td>" in page  # the others: where they asked


@pytest.mark.parametrize(("query", "expected"), [
    ("?show=untouched", ["breached", "fresh"]),
    ("?show=overdue", ["breached", "overdue"]),
    ("?show=due_today", ["breached", "fresh", "overdue"]),
    ("?blocker=timing", ["tomorrow"]),
    ("?show=overdue&blocker=budget", ["overdue"]),
])
def test_each_view_narrows_the_inbox(lenas_leads, sales, query, expected):
    status, page = inbox_of(sales.lena, query)
    assert status == 200
    assert listed(page) == [lenas_leads[name] for name in expected]


def test_stale_shows_the_leads_in_progress_without_progress_for_the_policys_days(lenas_leads, sales, morning):
    assert listed(inbox_of(sales.lena, "?show=stale")[1]) == []
    morning.shift(timedelta(days=8))
    assert listed(inbox_of(sales.lena, "?show=stale")[1]) == [lenas_leads["overdue"], lenas_leads["tomorrow"]]


def test_an_unknown_view_or_blocker_is_named_with_what_would_do_and_everything_is_shown(lenas_leads, sales):
    status, page = inbox_of(sales.lena, "?show=urgent&blocker=money")
    assert status == 400
    assert "<strong>show</strong>: &#x27;urgent&#x27; is not a view of the inbox; use one of untouched, due_today, overdue, stale" in page
    assert "<strong>blocker</strong>: &#x27;money&#x27; is not a blocker; use one of budget," in page
    assert len(listed(page)) == 4


def test_nobody_elses_leads_appear_and_the_team_queue_is_beside_them(intake, lenas_leads, sales, morning):
    _, jonas_page = inbox_of(sales.jonas)
    assert listed(jonas_page) == []
    assert "Nobody is waiting in the queue." in jonas_page
    RepProfile.objects.filter(user=sales.lena).update(paused=True, pause_reason="training")
    queued = intake.post({"email": "queued@buyer.example"}).json()
    assert queued["owner"]["kind"] == "team"
    _, page = inbox_of(sales.lena)
    queue = re.search(r'<section id="queue">.*?</section>', page, re.S)
    assert queue is not None
    assert f'href="/leads/{queued["id"]}/"' in queue.group(0)
    assert "No new leads for you now: paused (training)." in page


def test_the_inbox_reads_a_constant_number_of_queries(intake, lenas_leads, sales, morning):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(sales.lena)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for number in range(6):
        lead_to(intake, sales.lena, f"more{number}@buyer.example")
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(many) == len(few)


def test_a_breach_answered_by_a_touch_is_no_longer_overdue_nor_first(lenas_leads, sales):
    assert touch(as_user(sales.lena), lenas_leads["breached"]).status_code == 201
    _, page = inbox_of(sales.lena, "?show=overdue")
    assert listed(page) == [lenas_leads["overdue"]]
    _, page = inbox_of(sales.lena)
    assert listed(page)[0] == lenas_leads["fresh"]
    assert "Breached" not in page


def test_a_lead_handed_out_again_with_an_old_next_step_is_not_overdue(lenas_leads, sales):
    from leadbaton.leads.models import Lead

    Lead.objects.filter(pk=lenas_leads["fresh"]).update(next_step="old plan", next_step_at=clock.now() - timedelta(days=3))
    _, page = inbox_of(sales.lena, "?show=overdue")
    assert lenas_leads["fresh"] not in listed(page)


def test_due_today_ends_at_midnight_in_the_reps_zone_not_in_utc(intake, sales):
    import time_machine

    from tests.api.test_rep_api import ALL_DAY

    RepProfile.objects.filter(user=sales.lena).update(hours=ALL_DAY)
    lena_only(sales)
    late_evening = test_rep_api.WEDNESDAY_MORNING_IN_BERLIN.replace(hour=22, minute=0)  # 23:00 in Berlin, still Wednesday in UTC
    with time_machine.travel(late_evening, tick=False):
        lead = lead_to(intake, sales.lena, "night@buyer.example")
        assert touch(as_user(sales.lena), lead).status_code == 201
        assert in_progress(as_user(sales.lena), lead, late_evening + timedelta(hours=1, minutes=30)).status_code == 200  # 00:30 Thursday in Berlin
        Deadline.objects.filter(lead_id=lead, status="pending").exclude(kind="next_step").update(breach_at=late_evening + timedelta(days=9))
        assert listed(inbox_of(sales.lena, "?show=due_today")[1]) == []
        RepProfile.objects.filter(user=sales.lena).update(time_zone="America/New_York")  # 17:00 there: 19:30 is today
        assert listed(inbox_of(sales.lena, "?show=due_today")[1]) == [lead]


def test_a_reps_list_refuses_a_view_it_does_not_know_and_a_view_of_closed_leads(lenas_leads, sales):
    now = clock.now()
    with pytest.raises(ValueError, match="'nope' is not a view of the inbox; use one of untouched, due_today, overdue, stale"):
        leads_of_rep_by_clock(sales.lena.pk, now=now, view="nope")
    with pytest.raises(ValueError, match="narrows open leads"):
        leads_of_rep_by_clock(sales.lena.pk, now=now, stages=("purchased",), view="untouched")
    with pytest.raises(ValueError, match="the 'due_today' view needs day_ends_at"):
        leads_of_rep_by_clock(sales.lena.pk, now=now, view="due_today")
    assert [row.lead.pk for row in leads_of_rep_by_clock(sales.lena.pk, now=now, stages=("purchased",))] == []
