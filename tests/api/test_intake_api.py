"""POST /api/v1/leads: answers, errors, and that every submission is kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadbaton.core import clock
from leadbaton.intake.models import Submission
from leadbaton.intake.services import source_keys_revoke
from leadbaton.leads.models import Handoff, Inquiry, Lead
from leadbaton.qualification.services import definition_publish

DANA = {
    "email": "Dana.Whitfield@Northwind.example",
    "phone": "+49 30 1234567",
    "first_name": "Dana",
    "last_name": "Whitfield",
    "company": "Northwind Analytics",
    "title": "Director of Operations",
    "company_size": "201-500",
    "country": "Germany",
    "city": "Berlin",
    "message": "We need a demo before the end of the quarter.",
    "product_interest": "Forecasting",
    "utm_source": "google",
    "utm_medium": "cpc",
    "utm_campaign": "q4-forecasting",
    "consent_marketing": True,
    "fields": {"budget": "50k", "seats": 40},
}


@pytest.fixture
def definition(db):
    definition, _ = definition_publish(
        name="Sales-ready",
        description="",
        required=["email"],
        fit_rules=[
            {"field": "company_size", "at_least": 100, "points": 30, "label": "Mid-size or larger"},
            {"field": "title", "contains": ["director", "vp", "head"], "points": 30, "label": "Decision maker"},
            {"field": "product_interest", "is_set": True, "points": 20},
        ],
        threshold=60,
        signed_off_by=["Mark Marketer", "Maria Manager"],
        now=clock.now(),
    )
    return definition


def only_submission() -> Submission:
    return Submission.objects.get()


def test_it_creates_a_lead_and_answers_with_its_owner(intake, org, definition):
    answer = intake.post(DANA)
    assert answer.status_code == 201
    body = answer.json()
    lead = Lead.objects.get(pk=body["id"])
    assert body == {
        "id": lead.pk,
        "submission_id": only_submission().pk,
        "stage": "queued",
        "score": 80,
        "merged": False,
        "owner": {"kind": "team", "id": org.emea.pk, "name": "EMEA queue"},
        "received_at": body["received_at"],
        "warnings": [],
    }
    assert (lead.email, lead.email_key, lead.phone, lead.country, lead.company_size) == (
        "Dana.Whitfield@northwind.example", "dana.whitfield@northwind.example", "+49301234567", "DE", 201,
    )
    assert lead.company_domain == "northwind.example"
    assert lead.definition_version == definition.version
    assert lead.fields == {"budget": "50k", "seats": 40}


def test_it_records_the_first_handoff_in_the_ledger(intake, org, definition):
    lead_id = intake.post(DANA).json()["id"]
    handoff = Handoff.objects.get(lead_id=lead_id)
    assert (handoff.from_kind, handoff.to_kind, handoff.to_team_id, handoff.reason) == ("", "team", org.emea.pk, "routed")
    assert "score 80" in handoff.note
    assert f"lead definition v{definition.version}" in handoff.rule


def test_it_sends_a_lead_below_the_threshold_to_marketing(intake, org, definition):
    answer = intake.post({"email": "student@gmail.com", "title": "Student"})
    assert answer.status_code == 201
    assert answer.json()["stage"] == "nurture"
    assert answer.json()["owner"] == {"kind": "marketing", "id": None, "name": "Marketing queue"}
    assert Handoff.objects.get().to_kind == "marketing"


def test_it_keeps_every_inquiry_when_the_same_person_comes_back(intake, org, definition):
    first = intake.post(DANA).json()
    again = intake.post({"email": "  dana.whitfield@NORTHWIND.example ", "message": "Still waiting for that demo!", "title": "VP Operations"})
    assert again.status_code == 200
    assert again.json()["merged"] is True
    assert again.json()["id"] == first["id"]
    assert Lead.objects.count() == 1
    messages = list(Inquiry.objects.filter(lead_id=first["id"]).values_list("message", flat=True))
    assert messages == [DANA["message"], "Still waiting for that demo!"]
    lead = Lead.objects.get()
    assert (lead.inquiry_count, lead.title, lead.first_name) == (2, "VP Operations", "Dana")
    assert Handoff.objects.count() == 1  # still owned by the same queue: no new handoff


def test_it_recognises_the_same_person_by_phone(intake, org, definition):
    first = intake.post({"phone": "+1 415 555 0134", "first_name": "Lee"}).json()
    again = intake.post({"phone": "(415) 555-0134", "email": "lee@contoso.example"})
    assert again.json()["id"] == first["id"]
    assert Lead.objects.get().email == "lee@contoso.example"  # the merge filled in what the lead lacked


def test_it_hands_a_nurtured_lead_to_sales_when_a_new_inquiry_qualifies_it(intake, org, definition):
    first = intake.post({"email": "dana@northwind.example", "product_interest": "Forecasting"}).json()
    assert first["stage"] == "nurture"
    again = intake.post({"email": "dana@northwind.example", "title": "Head of Planning", "company_size": 300}).json()
    assert (again["stage"], again["owner"]["kind"], again["score"]) == ("queued", "team", 80)
    handoffs = list(Handoff.objects.order_by("id").values_list("to_kind", "reason"))
    assert handoffs == [("marketing", "created"), ("team", "qualified")]


def test_it_starts_a_new_lead_when_the_persons_last_one_is_closed(intake, org, definition):
    first = intake.post(DANA).json()
    Lead.objects.filter(pk=first["id"]).update(stage="purchased")
    again = intake.post(DANA)
    assert again.status_code == 201
    assert again.json()["id"] != first["id"]


def test_it_answers_warnings_for_unusable_fields_and_keeps_them_in_the_submission(intake, org, definition):
    answer = intake.post({"email": "dana@northwind.example", "country": "Atlantis", "company_size": "lots"})
    assert answer.status_code == 201
    fields = [warning["field"] for warning in answer.json()["warnings"]]
    assert fields == ["country", "company_size"]
    submission = only_submission()
    assert b"Atlantis" in bytes(submission.body)
    assert submission.warnings == answer.json()["warnings"]


def test_it_queues_for_the_default_team_without_a_lead_definition(intake, org):
    answer = intake.post({"email": "dana@northwind.example"}).json()
    assert (answer["stage"], answer["owner"]["id"]) == ("queued", org.emea.pk)
    assert Lead.objects.get().definition_version is None


# Bad input: each answer names the field, says what would be accepted, and the submission is kept.


def test_it_answers_422_when_nobody_could_be_reached(intake, org):
    answer = intake.post({"first_name": "Dana", "email": "dana(at)northwind", "phone": "12"})
    assert answer.status_code == 422
    body = answer.json()
    assert [error["field"] for error in body["errors"]] == ["email", "phone"]
    assert "is not a valid email address" in body["errors"][0]["message"]
    assert "country code" in body["errors"][1]["message"]
    submission = Submission.objects.get(pk=body["submission_id"])
    assert (submission.status, submission.http_status, submission.errors) == ("rejected", 422, body["errors"])
    assert b"dana(at)northwind" in bytes(submission.body)
    assert Lead.objects.count() == 0


def test_it_answers_422_for_a_json_array(intake, org):
    answer = intake.post([DANA])
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "body", "message": "must be a JSON object with the lead's fields, such as {\"email\": \"dana@northwind.example\", \"first_name\": \"Dana\"}; not an array"}]
    assert only_submission().status == "rejected"


def test_it_answers_422_for_a_null_body_and_says_what_it_takes(intake, org):
    answer = intake.post(None)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "body", "message": "must be a JSON object with the lead's fields, such as {\"email\": \"dana@northwind.example\", \"first_name\": \"Dana\"}; not null"}]
    submission = only_submission()
    assert (submission.status, submission.http_status, bytes(submission.body)) == ("rejected", 422, b"null")


def test_it_does_not_take_true_for_a_company_size(intake, org):
    answer = intake.post({**DANA, "company_size": True})
    assert answer.status_code == 201
    assert answer.json()["warnings"] == [{"field": "company_size", "message": (
        "true is not a number of employees; send a number such as 250 or a range such as 51-200; "
        "the value was not used (kept in the submission)")}]
    assert Lead.objects.get().company_size is None
    assert b'"company_size": true' in bytes(only_submission().body)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"email": "dana@northwind.example"', "is not valid JSON: Expecting ',' delimiter at line 1, column 35"),
        (b'{"email": "dana\xff@northwind.example"}', "is not UTF-8 text (byte 15 cannot be read); send JSON encoded as UTF-8"),
        (b"   ", "is empty; send the lead as a JSON object"),
    ],
)
def test_it_answers_400_for_a_body_that_is_not_json_or_not_utf8(intake, raw, message):
    answer = intake.post(None, raw=raw)
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "body", "message": message}]
    submission = Submission.objects.get(pk=answer.json()["submission_id"])
    assert (submission.status, submission.http_status, bytes(submission.body)) == ("rejected", 400, raw)


def test_it_answers_401_without_a_key(intake):
    answer = intake.post(DANA, key=False)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["field"] == "Authorization"
    assert "is missing" in answer.json()["errors"][0]["message"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    # Unauthenticated requests cannot be attributed to a source and are not stored (see docs/decisions).
    assert Submission.objects.count() == 0


@pytest.mark.parametrize("key", ["lb_src_00000000_unknown", "not-even-our-shape"])
def test_it_answers_401_for_an_unknown_key(intake, key):
    answer = intake.post(DANA, key=key)
    assert answer.status_code == 401
    assert "not a live source key" in answer.json()["errors"][0]["message"]


def test_it_answers_401_for_a_revoked_key(intake, source):
    assert intake.post(DANA).status_code == 201
    source_keys_revoke(source=source.source, now=clock.now())
    answer = intake.post(DANA)
    assert answer.status_code == 401
    assert "revoked" in answer.json()["errors"][0]["message"]


def test_it_answers_413_for_a_body_over_64_kib_and_keeps_its_start(intake):
    raw = b'{"email": "dana@northwind.example", "message": "' + b"x" * 70_000 + b'"}'
    answer = intake.post(None, raw=raw)
    assert answer.status_code == 413
    assert answer.json()["errors"] == [{"field": "body", "message": f"is {len(raw)} bytes; at most 65536 bytes are accepted"}]
    submission = Submission.objects.get(pk=answer.json()["submission_id"])
    assert (submission.status, submission.http_status, submission.body_truncated, submission.body_size) == ("rejected", 413, True, len(raw))
    assert bytes(submission.body) == raw[:65536]


def test_it_answers_429_with_retry_after_past_the_rate_limit(intake, source, settings):
    settings.INTAKE_RATE_LIMIT_PER_MINUTE = 3
    answers = [intake.post({"email": f"person{n}@northwind.example"}) for n in range(4)]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["field"] == "Authorization"
    assert "3 requests a minute" in refused.json()["errors"][0]["message"]
    submission = Submission.objects.get(pk=refused.json()["submission_id"])
    assert (submission.status, submission.http_status) == ("rejected", 429)
    assert b"person3@northwind.example" in bytes(submission.body)


def test_it_uses_the_sources_own_rate_limit_when_set(intake, source, settings):
    settings.INTAKE_RATE_LIMIT_PER_MINUTE = 1000
    source.source.rate_limit_per_minute = 1
    source.source.save()
    statuses = [intake.post({"email": f"p{n}@northwind.example"}).status_code for n in range(2)]
    assert statuses == [201, 429]


# Idempotency


def test_it_replays_a_retry_with_the_same_idempotency_key(intake, org):
    first = intake.post(DANA, idempotency_key="form-7781")
    retry = intake.post(DANA, idempotency_key="form-7781")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["replay_of"] == first.json()["submission_id"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    assert Inquiry.objects.count() == 1  # a replay is not a new inquiry
    assert Submission.objects.count() == 2  # but it is stored


def test_it_answers_409_for_the_same_idempotency_key_with_another_body(intake, org):
    intake.post(DANA, idempotency_key="form-7781")
    answer = intake.post({**DANA, "message": "something else"}, idempotency_key="form-7781")
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert "different body" in answer.json()["errors"][0]["message"]
    submission = Submission.objects.get(pk=answer.json()["submission_id"])
    assert (submission.status, submission.http_status) == ("rejected", 409)
    assert b"something else" in bytes(submission.body)


def test_it_treats_idempotency_keys_of_different_sources_apart(intake, org, db):
    from leadbaton.intake.services import source_create
    from tests.conftest import IntakeClient

    other = IntakeClient(source_create(slug="partner", name="Partner portal", now=clock.now()).plaintext)
    first = intake.post(DANA, idempotency_key="1")
    second = other.post({"email": "someone@else.example"}, idempotency_key="1")
    assert (first.status_code, second.status_code) == (201, 201)


def test_it_refuses_an_idempotency_key_over_255_characters(intake):
    answer = intake.post(DANA, idempotency_key="k" * 256)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert only_submission().status == "rejected"
    assert only_submission().headers["Idempotency-Key"] == "k" * 256


# A failure we did not foresee: kept, answered 202, retried.


def test_it_keeps_a_submission_whose_processing_fails_and_answers_202(intake, org, db):
    from leadbaton.qualification.models import LeadDefinition

    # A definition that cannot be evaluated, written past the validation of `config apply`.
    LeadDefinition.objects.create(version=1, name="broken", required=[], fit_rules=[{"field": "nope"}], threshold=1, active=True, created_at=clock.now())
    answer = intake.post(DANA)
    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["submission_id"]) == ("failed", only_submission().pk)
    submission = only_submission()
    assert (submission.status, submission.attempts) == ("failed", 1)
    assert submission.due_at is not None
    assert "ConditionError" in submission.last_error
    assert Lead.objects.count() == 0


def test_it_keeps_the_number_of_queries_per_intake_small_and_constant(intake, org, definition, on_postgres):
    intake.post({**DANA, "email": "warmup@northwind.example", "phone": "+49 30 7654321"})  # starts the queue's burst (its alert is a one-off)
    with CaptureQueriesContext(connection) as new_lead:
        assert intake.post(DANA).status_code == 201
    with CaptureQueriesContext(connection) as merged:
        assert intake.post({**DANA, "message": "again"}).status_code == 200
    # Savepoints are the test's own transaction wrapping; in production they are BEGIN and COMMIT.
    statements = [[q["sql"][:60] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]] for queries in (new_lead, merged)]
    # Each entry is one round trip to the database. On PostgreSQL the phone's lock, which decides
    # between two inquiries with one number (no unique index can: people share numbers), travels
    # with the person's lookup: a statement of its own, sent in the same round trip.
    # Routing to a rep counts the team's leads once (the catch-up gate, on by default): one aggregate statement.
    assert len(statements[0]) <= 13, statements[0]
    lookups = [q["sql"] for q in new_lead.captured_queries if "leads_leadidentity WHERE kind" in q["sql"]]
    assert [sql.startswith("SELECT pg_advisory_xact_lock(") for sql in lookups] == [on_postgres]
    assert len(statements[1]) <= 9, statements[1]  # a repeat with known addresses records no identity: the lock fits
