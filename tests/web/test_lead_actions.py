"""Working a lead on its page (F2, F4, Q3): a call's result in one click, the other touches, the outcome, "not a lead";
each through the use case the API uses, each refusal next to its field with what was typed kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from leadbaton.leads.models import Activity, Handoff, Lead
from leadbaton.sla.models import Deadline
from tests.api import test_rep_api
from tests.api.test_rep_api import as_user, lead_to, lena_only, touch

sales, morning = test_rep_api.sales, test_rep_api.morning


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lenas(intake, sales, morning) -> int:
    lena_only(sales)
    return lead_to(intake, sales.lena, "pat@buyer.example", first_name="Pat")


def test_one_click_logs_a_calls_result_and_the_page_says_so(lenas, sales):
    lena = browser(sales.lena)
    page = lena.get(f"/leads/{lenas}/").content.decode()
    assert '<button class="button small" type="submit" name="result" value="no_answer">No answer</button>' in page
    answer = lena.post(f"/leads/{lenas}/touch/", {"kind": "call", "result": "no_answer"})
    assert (answer.status_code, answer["Location"]) == (302, f"/leads/{lenas}/")
    page = lena.get(answer["Location"]).content.decode()
    assert "Call: no answer logged." in page
    assert "Call: No answer" in page  # on the timeline
    lead = Lead.objects.get(pk=lenas)
    assert (lead.stage, lead.touch_count) == ("in_progress", 1)
    assert Deadline.objects.get(lead=lead, kind="first_response").status == "met"


def test_a_note_without_text_is_refused_next_to_its_field_and_keeps_the_choice(lenas, sales):
    answer = browser(sales.lena).post(f"/leads/{lenas}/touch/", {"kind": "note", "result": "", "note": "  "})
    page = answer.content.decode()
    assert answer.status_code == 400
    assert "is required for a note: write what you want the team to know" in page
    assert '<option value="note" selected>' in page
    assert not Activity.objects.filter(lead_id=lenas).exists()


def test_in_progress_takes_the_next_steps_time_in_the_reps_zone_and_shows_it_so(lenas, sales):
    lena = browser(sales.lena)
    lena.post(f"/leads/{lenas}/touch/", {"kind": "call", "result": "connected"})
    answer = lena.post(f"/leads/{lenas}/outcome/", {"outcome": "in_progress", "blocker": "timing", "next_step": "send the proposal",
                                                    "next_step_at": "2026-11-26T10:00", "value": "ignored", "reason": "ignored"})
    assert answer.status_code == 302
    lead = Lead.objects.get(pk=lenas)
    assert lead.next_step_at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
    page = lena.get(f"/leads/{lenas}/").content.decode()
    assert "Recorded: in progress." in page
    assert "send the proposal (Thu 26 Nov 2026, 10:00 CET)" in page
    timeline = page[page.index('<h2 id="timeline">Timeline</h2>'):page.index('<h2 id="handoffs">Handoffs</h2>')]
    assert "In progress; blocker: timing; next: send the proposal" in timeline
    assert "Thu 26 Nov 2026, 10:00 CET" in timeline
    assert "09:00" not in re.sub(r'datetime="[^"]*"', "", timeline)  # no UTC, no machine text


def test_each_missing_outcome_field_is_named_next_to_it_and_what_was_typed_stays(lenas, sales):
    lena = browser(sales.lena)
    touch(as_user(sales.lena), lenas)
    answer = lena.post(f"/leads/{lenas}/outcome/", {"outcome": "in_progress", "blocker": "", "next_step": "demo for the board",
                                                    "next_step_at": "tomorrow"})
    page = answer.content.decode()
    assert answer.status_code == 400
    assert "&#x27;tomorrow&#x27; is not a date and time; pick one such as 2026-11-27 10:00" in page
    answer = lena.post(f"/leads/{lenas}/outcome/", {"outcome": "in_progress", "blocker": "", "next_step": "demo for the board",
                                                    "next_step_at": "2026-11-20T10:00"})
    page = answer.content.decode()
    assert "is required for in_progress: what holds the customer back" in page
    assert "must be in the future" in page
    assert 'value="demo for the board"' in page
    assert '<input type="radio" name="outcome" value="in_progress" checked' in page
    assert Lead.objects.get(pk=lenas).stage == "in_progress"  # the touch's doing, nothing more
    assert not Activity.objects.filter(lead_id=lenas, kind="outcome").exists()


def test_in_progress_before_the_first_touch_is_a_conflict_that_says_what_to_do(lenas, sales):
    answer = browser(sales.lena).post(f"/leads/{lenas}/outcome/", {"outcome": "in_progress", "blocker": "timing", "next_step": "call",
                                                                   "next_step_at": "2026-11-26T10:00"})
    assert answer.status_code == 409
    assert "log the first touch" in answer.content.decode()


def test_purchased_reads_an_amount_as_people_write_it(lenas, sales):
    lena = browser(sales.lena)
    assert lena.post(f"/leads/{lenas}/outcome/", {"outcome": "purchased", "value": "12,500.50", "currency": "eur"}).status_code == 302
    lead = Lead.objects.get(pk=lenas)
    assert (lead.stage, str(lead.value), lead.currency) == ("purchased", "12500.50", "EUR")
    page = lena.get(f"/leads/{lenas}/").content.decode()
    assert "Work this lead" not in page  # closed: nothing more to log
    answer = lena.post(f"/leads/{lenas}/touch/", {"kind": "call", "result": "connected"})
    assert answer.status_code == 409


def test_not_a_lead_goes_back_to_marketing_with_its_reason_and_stops_the_clocks(intake, lenas, sales):
    other = lead_to(intake, sales.lena, "pat.smith@buyer.example")
    lena = browser(sales.lena)
    answer = lena.post(f"/leads/{lenas}/reject/", {"reason": "duplicate", "duplicate_of": ""})
    assert answer.status_code == 400
    assert "is required for duplicate: the id of the lead this one repeats" in answer.content.decode()
    answer = lena.post(f"/leads/{lenas}/reject/", {"reason": "duplicate", "duplicate_of": "99999"})
    assert "99999: there is no lead with this id that you can see" in answer.content.decode()
    assert lena.post(f"/leads/{lenas}/reject/", {"reason": "duplicate", "duplicate_of": str(other)}).status_code == 302
    lead = Lead.objects.get(pk=lenas)
    assert (lead.stage, lead.owner_kind, lead.lost_reason) == ("rejected", "marketing", f"Not a lead: a duplicate of another lead (lead {other})")
    handoff = Handoff.objects.filter(lead=lead).order_by("id").last()
    assert (handoff.reason, handoff.from_rep_id, handoff.by_user_id) == ("rejected", sales.lena.pk, sales.lena.pk)
    assert not Deadline.objects.filter(lead=lead, status="pending").exists()
    assert Activity.objects.get(lead=lead, kind="outcome").detail == {"outcome": "rejected", "reason": "duplicate", "note": "", "duplicate_of": other}


def test_other_needs_a_note(lenas, sales):
    answer = browser(sales.lena).post(f"/leads/{lenas}/reject/", {"reason": "other", "note": ""})
    assert answer.status_code == 400
    assert "is required for other: say why this is not a lead" in answer.content.decode()


def test_marketing_reads_the_page_without_the_forms_and_cannot_post_them(lenas, sales):
    mark = browser(sales.mark)
    page = mark.get(f"/leads/{lenas}/").content.decode()
    assert "Work this lead" not in page
    answer = mark.post(f"/leads/{lenas}/touch/", {"kind": "call", "result": "connected"})
    assert answer.status_code == 403
    assert "works this lead" in answer.content.decode()
    assert browser(sales.jordan).post(f"/leads/{lenas}/touch/", {"kind": "call", "result": "connected"}).status_code == 404
    assert Client().post(f"/leads/{lenas}/touch/", {"kind": "call", "result": "connected"}).status_code == 302  # to sign in
    assert not Activity.objects.filter(lead_id=lenas).exists()


def test_every_form_on_the_page_names_its_fields_and_carries_csrf(lenas, sales):
    page = browser(sales.lena).get(f"/leads/{lenas}/").content.decode()
    forms = re.findall(r"<form .*?</form>", page[page.index('id="work"'):], re.S)
    assert len(forms) == 4
    for form in forms:
        assert "csrfmiddlewaretoken" in form
        for field_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', form):
            assert f'<label for="{field_id}"' in form, field_id


def test_the_api_rejects_the_same_way(lenas, sales):
    from tests.api.test_rep_api import post

    lena = as_user(sales.lena)
    answer = post(lena, f"/api/v1/leads/{lenas}/reject", {"reason": "homework"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "reason"
    assert "use one of spam, student, wrong_person, duplicate, out_of_territory, no_budget_ever, other" in answer.json()["errors"][0]["message"]
    answer = post(lena, f"/api/v1/leads/{lenas}/reject", {"reason": "student", "duplicate_of": 3})
    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (422, "duplicate_of")
    answer = post(lena, f"/api/v1/leads/{lenas}/reject", {"reason": "student"})
    assert (answer.status_code, answer.json()["stage"], answer.json()["owner"]["kind"]) == (200, "rejected", "marketing")
    assert post(lena, f"/api/v1/leads/{lenas}/reject", {"reason": "student"}).status_code == 404  # marketing's now, not hers to see


def test_a_next_step_never_shows_in_utc_for_a_rep_elsewhere(lenas, sales, morning):
    from leadbaton.accounts.models import RepProfile

    RepProfile.objects.filter(user=sales.lena).update(time_zone="Asia/Singapore")
    lena = browser(sales.lena)
    touch(as_user(sales.lena), lenas)
    assert lena.post(f"/leads/{lenas}/outcome/", {"outcome": "in_progress", "blocker": "timing", "next_step": "call",
                                                  "next_step_at": "2026-11-26T10:00"}).status_code == 302
    assert Lead.objects.get(pk=lenas).next_step_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    page = lena.get(f"/leads/{lenas}/").content.decode()
    assert "Thu 26 Nov 2026, 10:00 +08" in page
    assert "02:00" not in re.sub(r'datetime="[^"]*"', "", page)
