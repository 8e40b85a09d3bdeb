"""Marketing's pages: the submission log with each request as it arrived and replay, the leads sales sent back
with their reasons, and the nurture list; who may open each."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from leadbaton.core import clock
from leadbaton.intake.models import Submission
from leadbaton.leads.models import Lead
from leadbaton.qualification.models import LeadDefinition
from tests.api import test_rep_api
from tests.api.test_rep_api import lead_to, lena_only

sales, morning = test_rep_api.sales, test_rep_api.morning


def page_of(user, path: str) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    answer = client.get(path)
    return answer.status_code, answer.content.decode()


def post_as(user, path: str, data: dict[str, str] | None = None):
    client = Client()
    client.force_login(user)
    return client.post(path, data or {})


def rows(page: str, prefix: str) -> list[int]:
    return [int(n) for n in re.findall(rf'<tr id="{prefix}-(\d+)">', page)]


@pytest.fixture
def log(intake, sales, morning):
    """Three requests: a lead for Lena, one refused (no way to reach the person), and one for Jordan in the Americas."""
    lena_only(sales)
    ours = intake.post({"email": "dana@northwind.example", "first_name": "Dana", "message": "A demo, please"}).json()
    refused = intake.post({"first_name": "Nobody"}).json()
    theirs = intake.post({"email": "jo@usa.example", "country": "US"}).json()
    return {"ours": ours, "refused": refused, "theirs": theirs}


def test_marketing_reads_the_whole_log_newest_first_and_narrows_it_by_status(log, sales):
    status, page = page_of(sales.mark, "/submissions/")
    assert status == 200
    assert rows(page, "submission") == [log["theirs"]["submission_id"], log["refused"]["submission_id"], log["ours"]["submission_id"]]
    refused = page.split(f'<tr id="submission-{log["refused"]["submission_id"]}">', 1)[1].split("</tr>", 1)[0]
    assert "Rejected" in refused
    assert "422" in refused
    assert "email" in refused
    status, page = page_of(sales.mark, "/submissions/?status=rejected")
    assert rows(page, "submission") == [log["refused"]["submission_id"]]


def test_an_unknown_status_or_source_is_named_and_the_whole_log_still_shown(log, sales):
    status, page = page_of(sales.mark, "/submissions/?status=lost&source=fax")
    assert status == 400
    assert "&#x27;lost&#x27; is not a status; use one of received, processed, rejected, failed" in page
    assert "&#x27;fax&#x27; is not a source; use one of" in page
    assert len(rows(page, "submission")) == 3


def test_a_manager_reads_only_the_submissions_of_their_teams_leads_and_a_rep_none(log, sales):
    _, page = page_of(sales.maria, "/submissions/")
    assert rows(page, "submission") == [log["ours"]["submission_id"]]
    assert page_of(sales.maria, f"/submissions/{log['theirs']['submission_id']}/")[0] == 404
    assert page_of(sales.lena, "/submissions/")[0] == 403
    assert page_of(sales.lena, f"/submissions/{log['ours']['submission_id']}/")[0] == 403


def test_a_submission_shows_what_was_sent_and_what_became_of_it(log, sales):
    status, page = page_of(sales.mark, f"/submissions/{log['ours']['submission_id']}/")
    assert status == 200
    assert "&quot;message&quot;: &quot;A demo, please&quot;" in page  # the JSON body laid out, escaped
    assert f'href="/leads/{log["ours"]["id"]}/"' in page
    assert "Process again" in page
    _, page = page_of(sales.mark, f"/submissions/{log['refused']['submission_id']}/")
    assert "Refused" in page
    assert "<strong>email</strong>" in page
    _, page = page_of(sales.maria, f"/submissions/{log['ours']['submission_id']}/")
    assert "Process again" not in page  # managers read; marketing and admins replay


def test_replaying_a_finished_submission_processes_a_copy_and_keeps_the_original(log, sales):
    original = log["ours"]["submission_id"]
    answer = post_as(sales.mark, f"/submissions/{original}/replay/")
    copy = Submission.objects.get(replay_of_id=original)
    assert answer.status_code == 302
    assert answer["Location"] == f"/submissions/{copy.pk}/"
    assert copy.lead_id == log["ours"]["id"]
    assert copy.merged
    _, page = page_of(sales.mark, f"/submissions/{original}/")
    assert f'href="/submissions/{copy.pk}/"' in page  # replayed as
    assert post_as(sales.maria, f"/submissions/{original}/replay/").status_code == 403
    assert post_as(sales.mark, "/submissions/999999/replay/").status_code == 404


# Leads sales sent back


@pytest.fixture
def rejected(intake, sales, morning):
    lena_only(sales)
    client = Client()
    client.force_login(sales.lena)
    ids = {}
    for email, reason in (("sam@uni.example", "student"), ("spam@bot.example", "spam"), ("kim@uni.example", "student")):
        ids[email] = lead_to(intake, sales.lena, email, first_name=email.split("@")[0].title())
        assert client.post(f"/leads/{ids[email]}/reject/", {"reason": reason}).status_code == 302
        morning.shift(timedelta(minutes=1))
    return ids


def test_leads_sales_sent_back_are_listed_with_why_and_by_whom_and_counted_by_reason_and_source(rejected, sales):
    status, page = page_of(sales.mark, "/marketing/rejected/")
    assert status == 200
    assert rows(page, "lead") == [rejected["kim@uni.example"], rejected["spam@bot.example"], rejected["sam@uni.example"]]
    row = page.split(f'<tr id="lead-{rejected["sam@uni.example"]}">', 1)[1].split("</tr>", 1)[0]
    assert "Not a lead: a student" in row
    assert "Lena Rep" in row
    assert "EMEA" in row
    why = page.split('id="why-title"', 1)[1].split("</section>", 1)[0]
    assert re.search(r"A student</a></td><td>2</td>", why)
    assert re.search(r"Spam</a></td><td>1</td>", why)
    assert "(3 in all)" in page
    status, page = page_of(sales.mark, "/marketing/rejected/?reason=student")
    assert rows(page, "lead") == [rejected["kim@uni.example"], rejected["sam@uni.example"]]
    assert Lead.objects.get(pk=rejected["sam@uni.example"]).rejected_reason == "student"


def test_the_rejected_list_keeps_to_its_period_and_names_what_it_cannot_use(rejected, sales, morning):
    morning.shift(timedelta(days=8))
    _, page = page_of(sales.mark, "/marketing/rejected/?days=7")
    assert rows(page, "lead") == []
    status, page = page_of(sales.mark, "/marketing/rejected/?days=2&reason=rude")
    assert status == 400
    assert "&#x27;2&#x27; is not a period; use one of 7, 30, 90, 365 (days)" in page
    assert "&#x27;rude&#x27; is not a reason; use one of spam, student" in page
    assert len(rows(page, "lead")) == 3  # the default 30 days, every reason


@pytest.mark.parametrize("path", ["/marketing/rejected/", "/marketing/nurture/"])
def test_only_marketing_and_admins_open_the_rejected_and_nurture_lists(sales, path):
    for who, status in (("lena", 403), ("maria", 403), ("mark", 200), ("ada", 200)):
        assert page_of(getattr(sales, who), path)[0] == status, who


def test_the_nurture_list_shows_each_person_with_why_they_are_not_sales_ready(intake, sales, morning):
    LeadDefinition.objects.create(version=1, name="needs a phone and a title", required=[],
                                  fit_rules=[{"field": "title", "is_set": True, "points": 50, "label": "Gave a title"},
                                             {"field": "phone", "is_set": True, "points": 50, "label": "Gave a phone"}],
                                  threshold=100, active=True, created_at=clock.now())
    half = intake.post({"email": "half@northwind.example", "title": "Buyer", "campaign": "Spring webinar"}).json()
    none = intake.post({"email": "none@northwind.example"}).json()
    assert (half["stage"], none["stage"]) == ("nurture", "nurture")
    status, page = page_of(sales.mark, "/marketing/nurture/")
    assert status == 200
    assert rows(page, "lead") == [half["id"], none["id"]]  # best score first
    row = page.split(f'<tr id="lead-{half["id"]}">', 1)[1].split("</tr>", 1)[0]
    assert "Gave a title" in row
    assert "Score 50 is below the sales-ready threshold" in row  # why it is here, not only what it scored for
    assert "Spring webinar" in row
    status, page = page_of(sales.mark, "/marketing/nurture/?source=fax")
    assert status == 400
    assert "&#x27;fax&#x27; is not a source" in page


@pytest.mark.parametrize("body", [
    b'{"email": "s@x.example", "first_name": "\\ud800"}',  # a lone surrogate, escaped in JSON: not writable to a page as it is
    b"[" * 5000 + b"]" * 5000,  # deeper than the reader goes: refused at intake, and the page shows it as it came
])
def test_a_submission_whatever_its_body_can_be_read(intake, sales, body):
    answer = intake.post(None, raw=body)
    assert answer.status_code in (201, 400), answer.content
    submission = Submission.objects.latest("id")
    status, page = page_of(sales.mark, f"/submissions/{submission.pk}/")
    assert status == 200
    assert "What was sent" in page


def test_a_second_click_on_process_again_does_not_process_it_twice(log, sales):
    original = log["ours"]["submission_id"]
    client = Client()
    client.force_login(sales.mark)
    seen = re.search(r'name="seen" value="([^"]+)"', client.get(f"/submissions/{original}/").content.decode()).group(1)
    first = client.post(f"/submissions/{original}/replay/", {"seen": seen})
    again = client.post(f"/submissions/{original}/replay/", {"seen": seen}, follow=True)
    copies = list(Submission.objects.filter(replay_of_id=original).values_list("pk", flat=True))
    assert len(copies) == 1
    assert first["Location"] == f"/submissions/{copies[0]}/"
    assert f"It was processed again already since you opened it, as submission {copies[0]}" in again.content.decode()


def test_processing_again_a_request_with_an_idempotency_key_says_nothing_new_was_processed(intake, sales, morning):
    lena_only(sales)
    first = intake.post({"email": "dana@northwind.example"}, idempotency_key="form-812").json()
    client = Client()
    client.force_login(sales.mark)
    answer = client.post(f"/submissions/{first['submission_id']}/replay/", follow=True)
    assert f"Answered with lead {first['id']}, the lead of the first request with its Idempotency-Key; nothing new was processed." in answer.content.decode()


def test_a_failed_submission_processed_in_place_is_not_processed_again_by_a_second_click(intake, sales, morning):
    lena_only(sales)
    lead = intake.post({"email": "dana@northwind.example"}).json()
    Submission.objects.filter(pk=lead["submission_id"]).update(status="failed", outcome="", attempts=1)  # as a crash leaves it
    client = Client()
    client.force_login(sales.mark)
    seen = re.search(r'name="seen" value="([^"]+)"', client.get(f"/submissions/{lead['submission_id']}/").content.decode()).group(1)
    client.post(f"/submissions/{lead['submission_id']}/replay/", {"seen": seen})
    again = client.post(f"/submissions/{lead['submission_id']}/replay/", {"seen": seen}, follow=True)
    assert "It was processed again already since you opened it" in again.content.decode()
    assert not Submission.objects.filter(replay_of_id=lead["submission_id"]).exists()
