"""Not interested, not now (N3): a lead closed with a cool-off goes back to marketing's nurture when it ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from leadbaton.core import clock
from leadbaton.leads.models import Activity, Handoff, Lead
from leadbaton.worker.loop import Worker
from tests.api import test_rep_api
from tests.api.test_rep_api import as_user, errors, lead_to, lena_only, post, touch

sales, morning = test_rep_api.sales, test_rep_api.morning


def not_interested(sales, lead_id: int, **extra):
    return post(as_user(sales.lena), f"/api/v1/leads/{lead_id}/outcome", {"outcome": "not_interested", "reason": "budget frozen", **extra})


@pytest.fixture
def closed(intake, sales, morning):
    """Dana's lead, touched and then closed by Lena as not interested, not now: back in 30 days."""
    lena_only(sales)
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example", first_name="Dana")
    assert touch(as_user(sales.lena), lead_id).status_code == 201
    answer = not_interested(sales, lead_id, recycle_after_days=30)
    assert answer.status_code == 200, answer.json()
    assert answer.json()["recycle_at"] == (clock.now() + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    return lead_id


def test_a_lead_not_interested_now_goes_back_to_nurture_when_its_cool_off_ends(closed, sales, morning):
    lead = Lead.objects.get(pk=closed)
    assert (lead.stage, lead.recycle_at) == ("not_interested", clock.now() + timedelta(days=30))
    assert "back to marketing's nurture in 30 days" in Activity.objects.filter(lead=lead, kind="outcome").get().note
    morning.shift(timedelta(days=29))
    Worker(poll_seconds=0).tick()
    assert Lead.objects.get(pk=closed).stage == "not_interested"
    morning.shift(timedelta(days=1, minutes=5))
    Worker(poll_seconds=0).tick()
    lead = Lead.objects.get(pk=closed)
    assert (lead.stage, lead.owner_kind, lead.closed_at, lead.recycle_at) == ("nurture", "marketing", None, None)
    handoff = Handoff.objects.filter(lead=lead).latest("id")
    assert (handoff.reason, handoff.from_rep_id, handoff.to_kind) == ("recycled", sales.lena.pk, "marketing")
    assert "not interested then (budget frozen); back to nurture after 30 days" in handoff.note
    Worker(poll_seconds=0).tick()
    assert Handoff.objects.filter(lead=lead, reason="recycled").count() == 1  # once


def test_a_person_who_came_back_meanwhile_keeps_their_new_lead_and_the_old_one_stays_closed(closed, intake, sales, morning):
    morning.shift(timedelta(days=10))
    again = intake.post({"email": "dana@northwind.example", "message": "Budget is back!"}).json()
    assert again["id"] != closed  # a closed lead is not merged into: a new lead
    morning.shift(timedelta(days=21))
    Worker(poll_seconds=0).tick()
    lead = Lead.objects.get(pk=closed)
    assert (lead.stage, lead.recycle_at) == ("not_interested", None)
    assert not Handoff.objects.filter(lead=lead, reason="recycled").exists()


def test_a_colleague_sharing_the_switchboard_number_is_not_the_same_person(intake, sales, morning):
    lena_only(sales)
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example", phone="+49 30 1234567")
    assert touch(as_user(sales.lena), lead_id).status_code == 201
    assert not_interested(sales, lead_id, recycle_after_days=30).status_code == 200
    intake.post({"email": "erik@northwind.example", "phone": "+49 30 1234567"})  # another person, the same number
    morning.shift(timedelta(days=30, minutes=5))
    Worker(poll_seconds=0).tick()
    lead = Lead.objects.get(pk=lead_id)
    assert (lead.stage, lead.lost_reason) == ("nurture", "")  # back with marketing, no closing reason left on it


def test_a_person_calling_from_a_number_they_once_gave_has_their_open_lead_and_the_old_one_stays_closed(intake, sales, morning):
    lena_only(sales)
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    intake.post({"email": "dana@northwind.example", "phone": "+49 170 5550100"})  # her mobile, kept on her lead
    assert touch(as_user(sales.lena), lead_id).status_code == 201
    assert not_interested(sales, lead_id, recycle_after_days=30).status_code == 200
    again = intake.post({"phone": "+49 170 5550100", "first_name": "Dana"}).json()  # she calls in: a lead of its own
    assert again["id"] != lead_id
    morning.shift(timedelta(days=30, minutes=5))
    Worker(poll_seconds=0).tick()
    assert Lead.objects.get(pk=lead_id).stage == "not_interested"


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"recycle_after_days": 0}, "recycle_after_days", "0 is not a number of days from 1 to 730"),
    ({"recycle_after_days": 900}, "recycle_after_days", "900 is not a number of days from 1 to 730"),
    ({"recycle_after_days": True}, "recycle_after_days", "a number of days such as 90"),
])
def test_a_cool_off_that_cannot_be_used_is_refused_with_what_would_be(intake, sales, morning, body, field, message):
    lena_only(sales)
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    assert touch(as_user(sales.lena), lead_id).status_code == 201
    answer = not_interested(sales, lead_id, **body)
    assert answer.status_code == 422
    assert any(found == field and message in said for found, said in errors(answer)), errors(answer)
    assert Lead.objects.get(pk=lead_id).stage == "in_progress"


def test_only_not_interested_takes_a_cool_off(intake, sales, morning):
    lena_only(sales)
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    answer = post(as_user(sales.lena), f"/api/v1/leads/{lead_id}/outcome",
                  {"outcome": "purchased", "value": 100, "currency": "EUR", "recycle_after_days": 30})
    assert answer.status_code == 422
    assert ("recycle_after_days", "applies only to not_interested; leave it out for purchased") in errors(answer)


def test_the_lead_page_offers_not_now_with_a_cool_off(intake, sales, morning):
    lena_only(sales)
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    client = Client()
    client.force_login(sales.lena)
    assert 'name="recycle_after_days"' in client.get(f"/leads/{lead_id}/").content.decode()
    answer = client.post(f"/leads/{lead_id}/outcome/", {"outcome": "not_interested", "reason": "next year", "recycle_after_days": "90"},
                         follow=True)
    assert "Recorded: not interested. It goes back to marketing&#x27;s nurture in 90 days." in answer.content.decode()
    assert "back to marketing's nurture on <time datetime=\"2027-02-23T10:00:00+00:00\">Tue 23 Feb 2027</time>" in answer.content.decode()  # when
    assert Lead.objects.get(pk=lead_id).recycle_at == clock.now() + timedelta(days=90)


@pytest.mark.parametrize(("typed", "message"), [
    ("-5", "-5 is not a number of days from 1 to 730"),
    ("abc", "&#x27;abc&#x27; is not a number of days; choose one from the list"),
    ("²", "&#x27;²&#x27; is not a number of days; choose one from the list"),
])
def test_a_cool_off_typed_wrongly_on_the_lead_page_is_said_next_to_the_field_and_the_lead_stays_open(intake, sales, morning, typed, message):
    lena_only(sales)
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    client = Client()
    client.force_login(sales.lena)
    answer = client.post(f"/leads/{lead_id}/outcome/", {"outcome": "not_interested", "reason": "next year", "recycle_after_days": typed})
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert Lead.objects.get(pk=lead_id).stage == "assigned"
