"""The home page: what it is for a visitor; for staff, the leads they may read by stage and the submissions they may read."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadbaton.accounts.models import Role, Team, User


def home_of(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/").content.decode()


def counts_on(page: str) -> dict[str, int]:
    return {label: int(count) for count, label in re.findall(r'<span class="count">(\d+)</span> ([^<]+)</li>', page)}


@pytest.fixture
def three_queued_and_one_rejected(intake, org) -> list[int]:
    """21:00 in Berlin: three leads wait in the EMEA queue; a fourth submission reached nobody and was rejected."""
    ids = [intake.post({"email": f"buyer{n}@northwind.example"}).json()["id"] for n in range(3)]
    intake.post({"first_name": "nobody"})
    return ids


@pytest.fixture
def frank(org) -> User:
    """A manager of another team (APAC), which has no leads."""
    frank = User.objects.create_user("frank@example.com", "pw", name="Frank Manager", role=Role.MANAGER)
    Team.objects.create(slug="apac", name="APAC", time_zone="Asia/Tokyo", manager=frank)
    return frank


def test_it_tells_a_visitor_what_leadbaton_is_and_where_to_sign_in(db):
    page = Client().get("/")
    assert page.status_code == 200
    assert b"No lead left behind" in page.content
    assert b"/login/" in page.content


def test_it_shows_staff_leads_by_stage_and_the_latest_submissions(intake, org):
    intake.post({"email": "dana@northwind.example"})
    intake.post({"first_name": "nobody"})
    client = Client()
    client.force_login(org.manager)
    page = client.get("/").content.decode()
    assert "Queued" in page
    assert "Rejected" in page
    assert "website" in page


def test_a_rep_of_another_team_sees_none_of_those_leads_and_no_submission_log(three_queued_and_one_rejected, org):
    page = home_of(org.bob)
    assert "Your leads" in page  # a rep's home is their inbox (tests/web/test_inbox.py)
    assert "Nobody is waiting in the queue." in page
    assert "Latest submissions" not in page
    assert not re.search(r'href="/leads/\d+/"', page)


def test_a_rep_sees_their_team_queue_but_reads_no_submission_log(three_queued_and_one_rejected, org):
    page = home_of(org.alice)
    queue = re.search(r'<section id="queue">.*?</section>', page, re.S)
    assert queue is not None
    assert sorted(int(n) for n in re.findall(r'href="/leads/(\d+)/"', queue.group(0))) == three_queued_and_one_rejected
    assert "Latest submissions" not in page


def test_a_manager_sees_the_leads_and_submissions_of_their_teams_only(three_queued_and_one_rejected, org, frank):
    maria = home_of(org.manager)
    assert counts_on(maria)["Queued"] == 3
    assert sorted(int(n) for n in re.findall(r'href="/leads/(\d+)/"', maria)) == three_queued_and_one_rejected
    assert "Rejected</td>" not in maria  # a submission that reached no lead belongs to no team

    page = home_of(frank)
    assert sum(counts_on(page).values()) == 0
    assert "Latest submissions" in page
    assert not re.search(r'href="/leads/\d+/"', page)


@pytest.mark.parametrize("who", ["admin", "marketer"])
def test_admins_and_marketing_see_every_lead_and_the_whole_log(three_queued_and_one_rejected, org, who):
    page = home_of(getattr(org, who))
    assert counts_on(page)["Queued"] == 3
    assert len(re.findall(r'href="/leads/\d+/"', page)) == 3
    assert "Rejected</td>" in page


@pytest.mark.parametrize(("who", "most"), [("admin", 4), ("marketer", 4), ("manager", 6), ("alice", 12)])
def test_it_reads_the_home_page_in_a_constant_number_of_queries(intake, org, who, most):
    client = Client()
    client.force_login(getattr(org, who))
    intake.post({"email": "first@northwind.example"})
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for n in range(10):
        intake.post({"email": f"person{n}@northwind.example"})
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(many) == len(few) <= most


def test_the_health_check_answers_when_the_database_does(db):
    assert Client().get("/healthz").json() == {"status": "ok"}
