"""The lead's page: the link in every notification, opened by whoever may read the lead."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadbaton.core import clock
from leadbaton.notify.models import Notification

MORNING_IN_BERLIN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DANA = {
    "email": "dana@northwind-traders.co.uk", "first_name": "Dana", "last_name": "Whitfield", "title": "Head of Operations",
    "phone": "+44 20 7946 0958", "message": "We need a demo for 40 analysts", "product_interest": "Dashboards",
    "campaign": "spring-webinar", "utm_source": "linkedin", "utm_medium": "paid",
}


@pytest.fixture
def dana(intake, org) -> dict:
    with time_machine.travel(MORNING_IN_BERLIN, tick=False):
        answer = intake.post(DANA).json()
    assert answer["owner"]["name"] == "Alice Rep"
    return answer


def without_csrf_token(html: str) -> str:
    """The page without the sign-out form's CSRF token, which differs on every answer."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_notification_link_opens_the_lead_for_its_rep_with_everything_needed_to_call(dana, org):
    card = Notification.objects.get(user=org.alice).card
    link = urlsplit(card["link"])
    assert link.path == f"/leads/{dana['id']}/"

    page = signed_in(org.alice).get(link.path)

    assert page.status_code == 200
    html = page.content.decode()
    for expected in ("Dana Whitfield", "Head of Operations", "Northwind Traders", "(guessed from northwind-traders.co.uk)",
                     'href="mailto:dana@northwind-traders.co.uk"', 'href="tel:+442079460958"', "We need a demo for 40 analysts",
                     "Dashboards", "spring-webinar", "linkedin / paid", "owned by <strong>Alice Rep</strong>", "Routed",
                     "No touches yet."):
        assert expected in html, expected


def test_someone_not_signed_in_is_sent_to_sign_in_and_comes_back_to_the_lead(dana, org):
    path = f"/leads/{dana['id']}/"
    client = Client()

    first = client.get(path)
    assert first.status_code == 302
    assert first["Location"] == f"/login/?next={path}"
    form = client.get(first["Location"])
    assert form.status_code == 200
    assert 'name="next" value="' + path + '"' in form.content.decode()

    signed = client.post("/login/", {"username": "alice@example.com", "password": "pw", "next": path})
    assert (signed.status_code, signed["Location"]) == (302, path)
    assert "Dana Whitfield" in client.get(path).content.decode()


def test_a_wrong_password_is_refused_and_keeps_the_email_typed(db, org):
    page = Client().post("/login/", {"username": "alice@example.com", "password": "nope"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Please enter a correct email and password" in html
    assert 'value="alice@example.com"' in html


def test_a_rep_of_another_team_gets_the_same_page_as_for_a_lead_that_does_not_exist(dana, org):
    bob = signed_in(org.bob)
    page = bob.get(f"/leads/{dana['id']}/")
    assert page.status_code == 404
    html = page.content.decode()
    assert without_csrf_token(html) == without_csrf_token(bob.get("/leads/999999/").content.decode())
    assert "No such lead" in html
    for hidden in ("Dana", "Alice", "EMEA"):
        assert hidden not in html


@pytest.mark.parametrize("who", ["manager", "marketer", "admin"])
def test_the_manager_marketing_and_admins_can_read_it(dana, org, who):
    assert signed_in(getattr(org, who)).get(f"/leads/{dana['id']}/").status_code == 200


def test_a_lead_that_does_not_exist_is_a_404_that_says_so(db, org):
    page = signed_in(org.admin).get("/leads/999999/")
    assert page.status_code == 404
    assert "No such lead" in page.content.decode()


def test_the_page_reads_a_constant_number_of_queries_however_long_the_history(dana, org, intake):
    client = signed_in(org.alice)
    with CaptureQueriesContext(connection) as short:
        client.get(f"/leads/{dana['id']}/")
    with time_machine.travel(MORNING_IN_BERLIN, tick=False):
        for n in range(5):
            intake.post({**DANA, "message": f"follow-up {n}"})
    with CaptureQueriesContext(connection) as long:
        page = client.get(f"/leads/{dana['id']}/")
    assert "follow-up 4" in page.content.decode()
    assert len(long) == len(short) <= 12  # 9, and the clocks, their steps and the viewer's time zone


# Service levels


def test_the_page_shows_each_clock_with_its_status_due_time_in_the_viewers_time_zone_and_steps(dana, org):
    from leadbaton.worker.loop import Worker

    with time_machine.travel(MORNING_IN_BERLIN + timedelta(seconds=150), tick=False):
        Worker(poll_seconds=0).tick()  # half the first-response time: Alice is reminded
    with time_machine.travel(MORNING_IN_BERLIN + timedelta(seconds=200), tick=False):
        alices = signed_in(org.alice).get(f"/leads/{dana['id']}/").content.decode()
        marias = signed_in(org.manager).get(f"/leads/{dana['id']}/").content.decode()  # no rep: the zone of the first team she manages

    clocks = alices[alices.index('id="clocks"'):alices.index("What they asked")]
    assert "Due (Europe/Berlin)" in clocks
    for shown in ("First response", "Attempts", "Alice Rep", "working time in Europe/Berlin"):
        assert shown in clocks, shown
    assert "Pending" in clocks
    assert "2026-11-25 11:05:00 CET" in clocks  # breaches at 10:05 UTC, shown in Berlin time
    assert "Remind the owner: 2026-11-25 11:02:30 CET" in clocks
    assert 'data-breaches-at="2026-11-25T10:05:00+00:00"' in clocks
    assert '<strong class="countdown" data-breaches-at="2026-11-25T10:05:00+00:00">1:40 left</strong>' in clocks
    assert clocks.count("data-breaches-at") == 1  # only the first response counts down
    assert '<script src="/static/web/countdown.js" defer></script>' in alices
    assert "Due (America/New_York)" in marias
    assert "2026-11-25 05:05:00 EST" in marias


def test_a_met_clock_says_when_and_why_and_no_longer_counts_down(dana, org):
    from leadbaton.pipeline.followup import activity_log

    with time_machine.travel(MORNING_IN_BERLIN + timedelta(seconds=90), tick=False):
        activity_log(lead_id=dana["id"], by=org.alice, kind="call", result="connected", note="", now=clock.now())
        html = signed_in(org.alice).get(f"/leads/{dana['id']}/").content.decode()
    clocks = html[html.index('id="clocks"'):html.index("What they asked")]
    assert "Met</span> 2026-11-25 11:01:30 CET" in clocks
    assert "call logged" in clocks
    assert "data-breaches-at" not in clocks


@pytest.mark.parametrize(("seconds", "shown"), [(0, "time is up"), (59, "0:59 left"), (250, "4:10 left"), (3723, "1:02:03 left"),
                                                (2 * 86400 + 3 * 3600 + 4 * 60 + 5, "2 d 3:04:05 left")])
def test_a_countdown_reads_minutes_and_seconds_then_hours_then_days(seconds, shown):
    from leadbaton.web.views import countdown_text

    assert countdown_text(seconds) == shown
