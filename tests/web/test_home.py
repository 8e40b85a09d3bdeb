"""The home page: what it is for a visitor, leads by stage and the latest submissions for staff."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


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


def test_it_reads_the_home_page_in_a_constant_number_of_queries(intake, org):
    client = Client()
    client.force_login(org.admin)
    intake.post({"email": "first@northwind.example"})
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for n in range(10):
        intake.post({"email": f"person{n}@northwind.example"})
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(many) == len(few) <= 5


def test_the_health_check_answers_when_the_database_does(db):
    assert Client().get("/healthz").json() == {"status": "ok"}
