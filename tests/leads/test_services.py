"""A lead's own writes: what a repeat inquiry of the same person changes, and how owners and the ledger move together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import transaction

from leadbaton.core import clock
from leadbaton.intake.models import Submission
from leadbaton.leads import services as leads
from leadbaton.leads.models import Handoff, Inquiry, Lead, Owner
from leadbaton.pipeline.ownership import lead_reassign
from leadbaton.qualification.services import definition_publish

FIRST = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 21:00 in Berlin, 15:00 in New York
MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 11:00 in Berlin: Alice is at work
LATER = FIRST + timedelta(minutes=40)
EVEN_LATER = FIRST + timedelta(minutes=90)


def post_at(moment, intake, body: dict) -> dict:
    with time_machine.travel(moment, tick=False):
        answer = intake.post(body)
    assert answer.status_code in (200, 201), answer.json()
    return answer.json()


def reassign_at(moment, org, lead_id: int, **to) -> Lead:
    with time_machine.travel(moment, tick=False):
        return lead_reassign(lead_id=lead_id, by=org.admin, reason="coverage", now=moment, **to)


def test_a_repeat_inquiry_adds_its_custom_fields_and_keeps_the_leads_others(intake, org):
    first = post_at(FIRST, intake, {"email": "dana@northwind.example", "fields": {"budget": "50k", "seats": 40}})
    post_at(LATER, intake, {"email": "dana@northwind.example", "fields": {"seats": 45, "timeline": "Q1"}})
    assert Lead.objects.get(pk=first["id"]).fields == {"budget": "50k", "seats": 45, "timeline": "Q1"}


def test_a_repeat_inquiry_without_custom_fields_leaves_the_leads_alone(intake, org):
    first = post_at(FIRST, intake, {"email": "dana@northwind.example", "fields": {"budget": "50k"}})
    post_at(LATER, intake, {"email": "dana@northwind.example", "message": "any news?"})
    assert Lead.objects.get(pk=first["id"]).fields == {"budget": "50k"}


def test_a_repeat_inquiry_moves_the_last_inquiry_and_update_times_but_not_the_first(intake, org):
    first = post_at(FIRST, intake, {"email": "dana@northwind.example"})
    post_at(LATER, intake, {"email": "dana@northwind.example", "message": "any news?"})
    lead = Lead.objects.get(pk=first["id"])
    assert (lead.received_at, lead.last_inquiry_at, lead.updated_at, lead.inquiry_count) == (FIRST, LATER, LATER, 2)


def test_the_lead_keeps_marketing_consent_until_the_person_withdraws_it(intake, org):
    first = post_at(FIRST, intake, {"email": "dana@northwind.example", "consent_marketing": True})
    assert Lead.objects.get(pk=first["id"]).consent_marketing is True
    post_at(LATER, intake, {"email": "dana@northwind.example", "message": "consent not mentioned"})
    assert Lead.objects.get(pk=first["id"]).consent_marketing is True
    post_at(EVEN_LATER, intake, {"email": "dana@northwind.example", "consent_marketing": False})
    assert Lead.objects.get(pk=first["id"]).consent_marketing is False


def test_absorbing_an_inquiry_names_the_details_it_changed(intake, org):
    first = post_at(FIRST, intake, {"email": "dana@northwind.example", "title": "Analyst"})
    lead = Lead.objects.get(pk=first["id"])
    values = {"email": "dana@northwind.example", "title": "Director", "company": "", "phone": "+14155550134",
              "fields": {"seats": 5}}
    changed = leads.lead_absorb(lead=lead, values=values, contact_free={"phone": True}, now=LATER)
    assert changed == ["title", "phone", "fields"]
    assert (lead.title, lead.phone, lead.fields) == ("Director", "+14155550134", {"seats": 5})
    unchanged = leads.lead_absorb(lead=lead, values={"title": "Director"}, contact_free={}, now=LATER)
    assert unchanged == []
    phone_only = Lead.objects.get(pk=post_at(FIRST, intake, {"phone": "+1 415 555 0199"})["id"])
    values = {"email": "lee@contoso.example", "email_key": "lee@contoso.example", "company_domain": "contoso.example",
              "free_mail": False}
    assert leads.lead_absorb(lead=phone_only, values=values, contact_free={"email": True}, now=LATER) == ["email"]


def test_giving_a_lead_to_its_current_owner_writes_nothing(intake, org):
    lead_id = post_at(FIRST, intake, {"email": "dana@northwind.example"})["id"]
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        assert leads.lead_set_owner(lead=lead, to=lead.owner, at=LATER, reason=Handoff.Reason.REASSIGNED) is None
    lead.refresh_from_db()
    assert lead.updated_at == FIRST
    assert Handoff.objects.filter(lead_id=lead_id).count() == 1


def test_a_move_between_team_queues_does_not_make_a_rep_the_owner(intake, org):
    lead_id = post_at(FIRST, intake, {"email": "dana@northwind.example"})["id"]  # after hours in Berlin: the EMEA queue
    assert Lead.objects.get(pk=lead_id).owner == Owner.team(org.emea.pk)
    moved = reassign_at(LATER, org, lead_id, to_team_id=org.amer.pk)
    assert (moved.owner, moved.owned_at, moved.updated_at) == (Owner.team(org.amer.pk), None, LATER)
    assert Lead.objects.get(pk=lead_id).owned_at is None


def test_the_first_rep_who_owned_a_lead_sets_when_it_was_first_owned(intake, org):
    lead_id = post_at(FIRST, intake, {"email": "dana@northwind.example"})["id"]
    reassign_at(LATER, org, lead_id, to_rep_id=org.bob.pk)
    reassign_at(EVEN_LATER, org, lead_id, to_rep_id=org.alice.pk)
    lead = Lead.objects.get(pk=lead_id)
    assert (lead.owner_rep_id, lead.owned_at, lead.updated_at) == (org.alice.pk, LATER, EVEN_LATER)


def test_the_ledger_keeps_a_note_and_a_rule_up_to_their_length(intake, org):
    lead_id = post_at(FIRST, intake, {"email": "dana@northwind.example"})["id"]
    lead = Lead.objects.get(pk=lead_id)
    exact = leads.handoff_record(lead=lead, to=Owner.marketing(), at=LATER, reason=Handoff.Reason.RETURNED,
                                 note="n" * 500, rule="r" * 200)
    longer = leads.handoff_record(lead=lead, to=Owner.marketing(), at=LATER, reason=Handoff.Reason.RETURNED,
                                  note="n" * 500 + "cut", rule="r" * 200 + "cut")
    bare = leads.handoff_record(lead=lead, to=Owner.marketing(), at=LATER, reason=Handoff.Reason.RETURNED)
    assert (bare.note, bare.rule) == ("", "")
    for handoff in (exact, longer):
        handoff.refresh_from_db()
        assert (handoff.note, handoff.rule) == ("n" * 500, "r" * 200)


def test_the_ledger_says_who_had_the_lead_before(intake, org):
    lead_id = post_at(FIRST, intake, {"email": "dana@northwind.example"})["id"]
    reassign_at(LATER, org, lead_id, to_rep_id=org.bob.pk)
    first, second = Handoff.objects.filter(lead_id=lead_id).order_by("id")
    assert (first.from_kind, first.from_team_id, first.from_rep_id) == ("", None, None)
    assert (second.from_kind, second.from_team_id, second.from_rep_id) == ("team", org.emea.pk, None)
    assert (second.to_kind, second.to_team_id, second.to_rep_id, second.at) == ("rep", org.amer.pk, org.bob.pk, LATER)
    assert (second.reason, second.note, second.rule, second.by_user_id) == ("reassigned", "coverage", "by hand", org.admin.pk)


def test_a_repeat_inquiry_fills_in_the_email_the_lead_lacked(intake, org):
    first = post_at(FIRST, intake, {"phone": "+1 415 555 0134", "first_name": "Lee"})
    post_at(LATER, intake, {"phone": "+1 415 555 0134", "email": "Lee@Contoso.example"})
    lead = Lead.objects.get(pk=first["id"])
    assert (lead.email, lead.email_key, lead.company_domain, lead.free_mail) == (
        "Lee@contoso.example", "lee@contoso.example", "contoso.example", False)


def test_a_repeat_inquiry_fills_in_the_phone_the_lead_lacked(intake, org):
    first = post_at(FIRST, intake, {"email": "dana@northwind.example"})
    post_at(LATER, intake, {"email": "dana@northwind.example", "phone": "+1 415 555 0134"})
    assert Lead.objects.get(pk=first["id"]).phone == "+14155550134"


def test_absorbing_leaves_out_a_contact_another_open_lead_holds(intake, org):
    lead = Lead.objects.get(pk=post_at(FIRST, intake, {"phone": "+1 415 555 0134"})["id"])
    values = {"email": "lee@contoso.example", "email_key": "lee@contoso.example", "company_domain": "contoso.example",
              "free_mail": False, "phone": "+14155550199"}
    assert leads.lead_absorb(lead=lead, values=values, contact_free={"email": False, "phone": True}, now=LATER) == []
    assert (lead.email, lead.phone) == ("", "+14155550134")
    # A phone may be shared (a switchboard), so a lead with an email takes a missing phone whoever else has it.
    bare = Lead.objects.get(pk=post_at(FIRST, intake, {"email": "dana@northwind.example"})["id"])
    assert leads.lead_absorb(lead=bare, values={"phone": "+14155550134"}, contact_free={"email": True}, now=LATER) == ["phone"]
    assert bare.phone == "+14155550134"


def test_an_empty_detail_in_a_repeat_inquiry_erases_nothing(intake, org):
    lead = Lead.objects.get(pk=post_at(FIRST, intake, {"email": "dana@northwind.example", "title": "CTO"})["id"])
    assert leads.lead_absorb(lead=lead, values={"title": "", "company": None}, contact_free={}, now=LATER) == []
    assert lead.title == "CTO"


def test_changing_the_stage_or_the_owner_writes_only_those(intake, org):
    lead_id = post_at(FIRST, intake, {"email": "dana@northwind.example", "title": "CTO"})["id"]
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        lead.title = "changed by someone else, not saved here"
        leads.lead_set_stage(lead=lead, stage="assigned", now=LATER)
        leads.lead_set_owner(lead=lead, to=Owner.rep(org.bob.pk, org.amer.pk), at=LATER, reason=Handoff.Reason.REASSIGNED)
    saved = Lead.objects.get(pk=lead_id)
    assert (saved.title, saved.stage, saved.owner_rep_id, saved.updated_at) == ("CTO", "assigned", org.bob.pk, LATER)
    handoff = Handoff.objects.filter(lead_id=lead_id).order_by("id").last()
    assert (handoff.note, handoff.rule, handoff.by_user_id) == ("", "", None)


def test_a_new_lead_records_its_source_its_judgement_and_its_first_owner(intake, org):
    definition, _ = definition_publish(
        name="Sales-ready", description="", required=["email"], threshold=30, signed_off_by=["Mark Marketer"], now=clock.now(),
        fit_rules=[{"field": "title", "contains": "director", "points": 40, "label": "Decision maker"}],
    )
    lead = Lead.objects.get(pk=post_at(MORNING, intake, {"email": "dana@northwind.example", "title": "Director"})["id"])
    assert (lead.source_slug, lead.score, lead.definition_version) == ("website", 40, definition.version)
    assert lead.score_reasons == ["Decision maker: +40"]
    assert (lead.stage, lead.owner, lead.owned_at, lead.received_at) == (
        "assigned", Owner.rep(org.alice.pk, org.emea.pk), MORNING, MORNING)


def test_a_lead_waiting_in_a_queue_has_no_first_owner_yet(intake, org):
    lead = Lead.objects.get(pk=post_at(FIRST, intake, {"email": "dana@northwind.example"})["id"])
    assert (lead.stage, lead.owner, lead.owned_at) == ("queued", Owner.team(org.emea.pk), None)


def test_each_inquiry_keeps_what_it_brought(intake, org):
    first = post_at(FIRST, intake, {"email": "dana@northwind.example", "message": "Demo?", "utm_source": "google",
                                    "company_size": "51-200", "fields": {"seats": 4}})
    inquiry = Inquiry.objects.get(lead_id=first["id"])
    assert (inquiry.received_at, inquiry.source_slug, inquiry.submission_id, inquiry.message, inquiry.utm_source) == (
        FIRST, "website", Submission.objects.get().pk, "Demo?", "google")
    assert (inquiry.contact, inquiry.fields) == ({"email": "dana@northwind.example", "company_size": 51}, {"seats": 4})
