"""The lead's page: the link in every notification, opened by whoever may read the lead."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

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
    assert len(long) == len(short) <= 10
