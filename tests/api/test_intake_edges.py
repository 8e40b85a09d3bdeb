"""Intake at its edges: hostile bodies, crashes, retries racing each other, people with several addresses."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from leadbaton.core import clock
from leadbaton.intake.models import Source, Submission
from leadbaton.intake.services import submission_store
from leadbaton.leads.models import Inquiry, Lead
from leadbaton.pipeline.intake import submission_process
from leadbaton.qualification.models import LeadDefinition
from leadbaton.worker.loop import Worker


def break_the_lead_definition() -> LeadDefinition:
    return LeadDefinition.objects.create(
        version=1, name="broken", required=[], fit_rules=[{"field": "nope"}], threshold=1, active=True, created_at=clock.now()
    )


def test_it_answers_400_for_json_nested_too_deeply_and_keeps_it(intake):
    raw = b'{"email": "dana@northwind.example", "fields": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    answer = intake.post(None, raw=raw)
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "body", "message": "is nested too deeply to read; send a flat JSON object"}]
    assert bytes(Submission.objects.get().body) == raw


def test_it_answers_400_for_nan_which_json_does_not_have(intake):
    answer = intake.post(None, raw=b'{"email": "dana@northwind.example", "fields": {"score": NaN}}')
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["message"] == "is not valid JSON: NaN is not a JSON number; send a number or a string"
    assert Submission.objects.get().status == "rejected"


def test_it_leaves_out_characters_no_database_stores_and_says_so(intake, org):
    raw = json.dumps({"email": "dana@northwind.example", "first_name": "Da\u0000na", "fields": {"note": "\ud800", "seats": 4}}).encode()
    answer = intake.post(None, raw=raw)
    assert answer.status_code == 201
    assert [warning["field"] for warning in answer.json()["warnings"]] == ["first_name", "fields.note"]
    lead = Lead.objects.get()
    assert (lead.first_name, lead.fields) == ("", {"seats": 4})
    assert bytes(Submission.objects.get().body) == raw


def test_it_refuses_an_email_with_a_nul_when_it_is_the_only_contact(intake):
    answer = intake.post({"email": "dana\u0000@northwind.example"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "email"
    assert "cannot be stored" in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize("size", ["3000000000", 10**20])
def test_it_warns_about_a_company_size_no_company_has(intake, org, size):
    answer = intake.post({"email": "dana@northwind.example", "company_size": size})
    assert answer.status_code == 201
    assert answer.json()["warnings"][0]["field"] == "company_size"
    assert Lead.objects.get().company_size is None


def test_the_worker_processes_a_submission_a_crash_left_unprocessed(source, org):
    # What a process killed right after storing leaves behind: a committed, received submission.
    submission = submission_store(
        key=source.key, received_at=clock.now(), headers={}, body=b'{"email": "dana@northwind.example"}',
        body_size=35, body_truncated=False, idempotency_key="", remote_addr="127.0.0.1",
    )
    assert Worker(poll_seconds=0).tick() == 0  # the request may still be working on it
    with time_machine.travel(clock.now() + timedelta(minutes=2), tick=False):
        assert Worker(poll_seconds=0).tick() == 2  # processed, and the new lead's email sent in the same round
    submission.refresh_from_db()
    assert (submission.status, submission.http_status, submission.due_at) == ("processed", 201, None)
    assert Lead.objects.get().pk == submission.lead_id


def test_a_finished_submission_is_never_processed_twice(intake, org):
    broken = break_the_lead_definition()
    failed = intake.post({"email": "dana@northwind.example"}).json()
    broken.delete()
    submission = Submission.objects.get(pk=failed["submission_id"])
    first = submission_process(submission=submission)
    again = submission_process(submission=submission)  # e.g. a staff replay racing the worker
    assert (first.outcome, again.outcome) == ("created", "created")
    assert again.body["id"] == first.body["id"]
    assert Inquiry.objects.count() == 1
    assert Lead.objects.get().inquiry_count == 1


def test_a_failed_request_keeps_its_idempotency_key(intake, org):
    broken = break_the_lead_definition()
    first = intake.post({"email": "dana@northwind.example"}, idempotency_key="k-1")
    assert first.status_code == 202
    other = intake.post({"email": "someone.else@northwind.example"}, idempotency_key="k-1")
    assert other.status_code == 409
    retry = intake.post({"email": "dana@northwind.example"}, idempotency_key="k-1")
    assert retry.status_code == 202
    assert retry.json()["replay_of"] == first.json()["submission_id"]
    broken.delete()
    with time_machine.travel(clock.now() + timedelta(minutes=5), tick=False):
        Worker(poll_seconds=0).tick()
    assert Submission.objects.get(pk=first.json()["submission_id"]).status == "processed"
    later = intake.post({"email": "dana@northwind.example"}, idempotency_key="k-1")
    assert later.status_code == 200
    assert later.json()["id"] == Lead.objects.get().pk
    assert Inquiry.objects.count() == 1


def test_a_refused_request_does_not_use_up_its_idempotency_key(intake, org):
    refused = intake.post({"first_name": "Dana"}, idempotency_key="k-2")
    assert refused.status_code == 422
    corrected = intake.post({"first_name": "Dana", "email": "dana@northwind.example"}, idempotency_key="k-2")
    assert corrected.status_code == 201


def test_it_replays_when_only_the_key_order_or_spacing_differs(intake, org):
    first = intake.post(None, raw=b'{"email": "dana@northwind.example", "first_name": "Dana"}', idempotency_key="k-3")
    retry = intake.post(None, raw=b'{ "first_name":"Dana",\n "email":"dana@northwind.example" }', idempotency_key="k-3")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]


def test_the_202_answer_has_every_field_of_an_intake_answer(intake, org):
    break_the_lead_definition()
    body = intake.post({"email": "dana@northwind.example"}).json()
    assert set(body) >= {"id", "submission_id", "stage", "score", "merged", "owner", "received_at", "warnings"}
    assert body["owner"] == {"kind": "marketing", "id": None, "name": "Marketing queue"}
    assert (body["id"], body["status"]) == (None, "failed")


def test_it_recognises_a_person_by_any_phone_they_have_used_with_their_email(intake, org):
    first = intake.post({"email": "dana@northwind.example", "phone": "+1 415 555 0134"}).json()
    second = intake.post({"email": "DANA@northwind.example", "phone": "+1 415 555 0199"}).json()
    third = intake.post({"phone": "(415) 555-0199"})
    assert third.status_code == 200
    assert first["id"] == second["id"] == third.json()["id"]
    assert Lead.objects.count() == 1


def test_another_email_with_the_same_phone_is_another_lead_and_keeps_its_own_company(intake, org):
    first = intake.post({"email": "dana@northwind.example", "phone": "+1 415 555 0134"}).json()
    second = intake.post({"email": "dana.w@gmail.com", "phone": "+1 415 555 0134"}).json()
    assert second["id"] != first["id"]
    leads = Lead.objects.order_by("id")
    assert [(lead.email, lead.company_domain, lead.free_mail) for lead in leads] == [
        ("dana@northwind.example", "northwind.example", False), ("dana.w@gmail.com", "", True),
    ]


def test_it_answers_401_for_a_key_of_a_deactivated_source(intake, source):
    Source.objects.filter(pk=source.source.pk).update(active=False)
    assert intake.post({"email": "dana@northwind.example"}).status_code == 401


def test_a_retry_of_a_failed_first_request_answers_202_with_the_first_requests_status(intake, org):
    break_the_lead_definition()
    first = intake.post({"email": "dana@northwind.example"}, idempotency_key="k-2")
    retry = intake.post({"email": "dana@northwind.example"}, idempotency_key="k-2")
    assert (first.status_code, retry.status_code) == (202, 202)
    answer = retry.json()
    assert (answer["status"], answer["replay_of"]) == ("failed", first.json()["submission_id"])
    assert "failed and is retried automatically" in answer["message"]


def test_a_retry_takes_over_a_first_request_whose_process_died_and_answers_with_its_lead(intake, source, org):
    from django.db import transaction

    from leadbaton.core.models import Holder
    from leadbaton.intake.services import idempotency_claim
    from leadbaton.pipeline.intake import body_digest

    now = clock.now()
    dead = Holder.objects.create(host="web-1", machine="boot/pid:[1]", pid=4242, started_at=now, heartbeat_at=now, gone_at=now)
    payload = {"email": "dana@northwind.example"}
    with transaction.atomic():  # the first request was stored, then its process was killed before processing it
        first = submission_store(
            key=source.key, received_at=now, headers={}, body=json.dumps(payload).encode(), body_size=35,
            body_truncated=False, idempotency_key="k-3", remote_addr="127.0.0.1",
        )
        idempotency_claim(submission=first, body_digest=body_digest(payload), now=now)
    Submission.objects.filter(pk=first.pk).update(claimed_by=dead)

    retry = intake.post(payload, idempotency_key="k-3")

    assert retry.status_code == 200, retry.json()
    assert retry.json()["replay_of"] == first.pk
    assert retry.json()["id"] == Lead.objects.get().pk
    assert Submission.objects.get(pk=first.pk).status == "processed"


def a_submission_being_processed_elsewhere(intake) -> Submission:  # type: ignore[no-untyped-def]
    """A request's submission, stored received and claimed by a live process on another machine (its request is slow)."""
    from django.db.models.functions import Now

    from leadbaton.core.models import Holder

    submission_id = intake.post({"email": "dana@northwind.example"}).json()["submission_id"]
    Lead.objects.all().delete()
    Inquiry.objects.all().delete()
    now = clock.now()
    busy = Holder.objects.create(host="web-2.internal", machine="another-boot/pid:[1]", pid=4242, started_at=now, heartbeat_at=Now())
    Submission.objects.filter(pk=submission_id).update(
        status=Submission.Status.RECEIVED, lead=None, processed_at=None, http_status=None,
        due_at=now, claimed_until=now + timedelta(seconds=60), claimed_by=busy,
    )
    return Submission.objects.get(pk=submission_id)


def test_a_staff_replay_of_a_submission_being_processed_answers_409_and_leaves_it_alone(intake, org):
    from leadbaton.accounts.services import token_issue

    submission = a_submission_being_processed_elsewhere(intake)
    token = token_issue(user=org.admin, name="tests", now=clock.now()).plaintext

    answer = Client(headers={"Authorization": f"Bearer {token}"}).post(f"/api/v1/submissions/{submission.pk}/replay")

    assert answer.status_code == 409, answer.json()
    assert answer.json()["errors"] == [{"field": "submission_id", "message": "this submission is being processed; try again in a moment"}]
    assert (Lead.objects.count(), Submission.objects.get(pk=submission.pk).status) == (0, "received")


def test_the_replay_command_says_a_submission_is_being_processed_and_fails(intake, org):
    from io import StringIO

    from django.core.management import CommandError, call_command

    submission = a_submission_being_processed_elsewhere(intake)
    err = StringIO()

    with pytest.raises(CommandError, match="being processed; try again in a moment"):
        call_command("submissions", "replay", str(submission.pk), stdout=StringIO(), stderr=err)

    assert "being processed; try again in a moment" in err.getvalue()
    assert Lead.objects.count() == 0


def test_a_staff_replay_of_a_received_submission_whose_process_died_processes_it(intake, org):
    from leadbaton.core.models import Holder
    from leadbaton.pipeline.intake import submission_replay

    submission = a_submission_being_processed_elsewhere(intake)
    Holder.objects.filter(pk=submission.claimed_by_id).update(gone_at=clock.now())

    assert submission_replay(submission_id=submission.pk).outcome == "created"
    assert Submission.objects.get(pk=submission.pk).status == "processed"
