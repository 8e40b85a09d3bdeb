"""A lead typed in by staff (C1): a phone call or a business card takes exactly the intake path, under the `manual` source."""

from __future__ import annotations

import json
import re

from django.test import Client

from leadbaton.intake.models import Source, Submission
from leadbaton.leads.models import Handoff, Inquiry, Lead
from leadbaton.notify.models import OutboxMessage
from leadbaton.sla.models import Deadline
from tests.api import test_rep_api
from tests.api.test_rep_api import lena_only

sales, morning = test_rep_api.sales, test_rep_api.morning


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_call_typed_in_is_stored_routed_and_announced_like_any_lead(sales, morning):
    lena_only(sales)
    maria = browser(sales.maria)
    answer = maria.post("/leads/new/", {"first_name": "Dana", "last_name": "Whitfield", "email": "Dana@Northwind.example",
                                                        "phone": "030 1234567", "company": "Northwind", "country": "Germany",
                                                        "message": "Called about a demo", "campaign": "Hannover fair"})
    lead = Lead.objects.get()
    assert (answer.status_code, answer["Location"]) == (302, f"/leads/{lead.pk}/")  # Maria manages the team: she may open it
    assert (lead.email_key, lead.phone, lead.country, lead.owner_rep_id, lead.source_slug) == (
        "dana@northwind.example", "+49301234567", "DE", sales.lena.pk, "manual")
    submission = Submission.objects.get()
    assert (submission.source.slug, submission.source.kind, submission.status, submission.headers) == (
        "manual", "manual", "processed", {"Entered-By": "maria@lumen.example", "Entered-By-Id": str(sales.maria.pk)})
    assert json.loads(bytes(submission.body))["message"] == "Called about a demo"  # what was typed, kept verbatim
    assert Handoff.objects.filter(lead=lead, to_rep=sales.lena).exists()
    assert Deadline.objects.filter(lead=lead, kind="first_response", status="pending").exists()
    assert OutboxMessage.objects.filter(lead=lead, recipient="lena@lumen.example").exists()  # Lena is told
    page = maria.get(answer["Location"]).content.decode()
    assert f"Lead created: lead {lead.pk}, with Lena Rep." in page


def test_the_same_person_again_is_merged_into_their_open_lead(intake, sales, morning):
    lena_only(sales)
    first = intake.post({"email": "dana@northwind.example"}).json()
    lena = browser(sales.lena)
    answer = lena.post("/leads/new/", {"email": "dana@northwind.example", "message": "Called again"})
    assert answer["Location"] == f"/leads/{first['id']}/"
    assert Lead.objects.count() == 1
    assert "Merged into the person&#x27;s open lead" in lena.get(answer["Location"]).content.decode()


def test_nobody_to_call_back_is_named_next_to_the_field_and_nothing_typed_is_lost(sales, morning):
    answer = browser(sales.lena).post("/leads/new/", {"first_name": "Dana", "email": "dana@", "company": "Northwind", "message": "demo?"})
    page = answer.content.decode()
    assert answer.status_code == 400
    assert re_field_error(page, "email")
    for kept in ('value="Dana"', 'value="dana@"', 'value="Northwind"', ">demo?</textarea>"):
        assert kept in page
    assert not Lead.objects.exists()
    assert not Submission.objects.exists()  # the person typing corrects it; nothing half-kept
    assert Source.objects.get(slug="manual").kind == "manual"


def test_a_lead_routed_to_someone_else_sends_the_rep_back_to_the_form_saying_to_whom(sales, morning):
    lena_only(sales)
    jordan = browser(sales.jordan)
    answer = jordan.post("/leads/new/", {"email": "kim@contoso.example"})  # Jordan sells in the Americas
    assert answer["Location"] == "/leads/new/"
    page = jordan.get("/leads/new/").content.decode()
    submission = Submission.objects.get()
    assert f"Saved as submission {submission.pk}; the lead is with a team you do not see, and its owner has been told." in page
    assert "Lena" not in page  # a lead one may not see says nothing about itself
    assert submission.headers == {"Entered-By": "jordan@lumen.example", "Entered-By-Id": str(sales.jordan.pk)}


def test_a_phone_that_cannot_be_read_is_refused_even_beside_a_good_email(sales, morning):
    answer = browser(sales.lena).post("/leads/new/", {"email": "dana@northwind.example", "phone": "020 7946 0958"})
    page = answer.content.decode()
    assert answer.status_code == 400
    assert "&#x27;020 7946 0958&#x27; is not a valid phone number; write it with its country code, such as +44 20 7946 0958" in page
    assert 'value="dana@northwind.example"' in page
    assert not Submission.objects.exists()  # nothing half-kept: the person typing corrects it


def re_field_error(page: str, field: str) -> bool:
    import re

    return re.search(rf'<p class="error" id="id_{field}_errors" role="alert">[^<]+</p>', page) is not None


def test_a_form_sent_twice_is_one_lead_and_one_inquiry(sales, morning):
    lena_only(sales)
    maria = browser(sales.maria)
    token = re.search(r'name="form_token" value="([^"]+)"', maria.get("/leads/new/").content.decode()).group(1)
    typed = {"form_token": token, "first_name": "Dana", "email": "dana@northwind.example", "message": "Called about a demo"}
    first = maria.post("/leads/new/", typed)
    again = maria.post("/leads/new/", typed)  # a double click, or the browser posting the form again
    lead = Lead.objects.get()
    assert first["Location"] == again["Location"] == f"/leads/{lead.pk}/"
    assert (lead.inquiry_count, Inquiry.objects.count()) == (1, 1)
    assert OutboxMessage.objects.filter(lead=lead, recipient="lena@lumen.example").count() == 1  # Lena is told once
    assert "This form was sent already; nothing was added" in maria.get(again["Location"]).content.decode()
    changed = maria.post("/leads/new/", {**typed, "message": "Called again: wants pricing too"})  # changed values: a new entry
    assert changed["Location"] == f"/leads/{lead.pk}/"
    assert Lead.objects.get().inquiry_count == 2


def test_a_form_refused_keeps_its_token_so_the_corrected_one_is_still_one_entry(sales, morning):
    maria = browser(sales.maria)
    refused = maria.post("/leads/new/", {"form_token": "tok-812", "first_name": "Nobody"})
    assert refused.status_code == 400
    assert 'name="form_token" value="tok-812"' in refused.content.decode()
