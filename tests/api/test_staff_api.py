"""The staff side of the API: the submission log, replays, leads, tokens, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from leadbaton.accounts.services import token_issue
from leadbaton.core import clock
from leadbaton.intake.models import Submission
from leadbaton.leads.models import Lead
from leadbaton.qualification.models import LeadDefinition
from leadbaton.worker.loop import Worker


def staff_client(user) -> Client:
    token = token_issue(user=user, name="tests", now=clock.now()).plaintext
    return Client(headers={"Authorization": f"Bearer {token}"})


def break_the_lead_definition() -> LeadDefinition:
    return LeadDefinition.objects.create(
        version=1, name="broken", required=[], fit_rules=[{"field": "nope"}], threshold=1, active=True, created_at=clock.now()
    )


def test_it_lists_submissions_newest_first_for_marketing(intake, org):
    intake.post({"email": "dana@northwind.example"})
    intake.post({"first_name": "nobody"})
    answer = staff_client(org.marketer).get("/api/v1/submissions")
    assert answer.status_code == 200
    assert [row["status"] for row in answer.json()] == ["rejected", "processed"]
    assert answer.json()[0]["errors"][0]["field"] == "email"


def test_it_filters_submissions_by_status(intake, org):
    intake.post({"email": "dana@northwind.example"})
    intake.post({"first_name": "nobody"})
    answer = staff_client(org.marketer).get("/api/v1/submissions?status=rejected")
    assert [row["status"] for row in answer.json()] == ["rejected"]


def test_it_names_the_accepted_statuses_for_an_unknown_one(org):
    answer = staff_client(org.admin).get("/api/v1/submissions?status=lost")
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "status", "message": "'lost' is not a status; use one of received, processed, rejected, failed"}
    ]


def test_it_shows_a_submission_verbatim(intake, org):
    raw = b'{"email": "dana@northwind.example", "message": "Hello \xc3\xa9"}'
    submission_id = intake.post(None, raw=raw).json()["submission_id"]
    answer = staff_client(org.admin).get(f"/api/v1/submissions/{submission_id}")
    assert answer.json()["body"] == raw.decode()
    assert answer.json()["headers"]["Content-Type"] == "application/json"
    assert "Authorization" not in answer.json()["headers"]


def test_it_forbids_reps_the_submission_log(org):
    answer = staff_client(org.alice).get("/api/v1/submissions")
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["field"] == "role"
    assert "sales rep" in answer.json()["errors"][0]["message"]


def test_it_refuses_the_staff_api_without_a_token(db):
    answer = Client().get("/api/v1/submissions")
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["field"] == "Authorization"


def test_it_refuses_a_revoked_token(org):
    client = staff_client(org.admin)
    tokens = client.post("/api/v1/tokens", {"name": "laptop"}, content_type="application/json")
    assert tokens.status_code == 201
    laptop = Client(headers={"Authorization": f"Bearer {tokens.json()['token']}"})
    assert laptop.get("/api/v1/submissions").status_code == 200
    assert client.delete(f"/api/v1/tokens/{tokens.json()['id']}").status_code == 204
    assert laptop.get("/api/v1/submissions").status_code == 401


def test_it_names_the_missing_field_when_creating_a_token(org):
    answer = staff_client(org.admin).post("/api/v1/tokens", {}, content_type="application/json")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "name"


def test_it_replays_a_rejected_submission_as_a_new_one(intake, org):
    rejected = intake.post({"email": "dana@northwind.example", "fields": "x"}).json()
    answer = staff_client(org.marketer).post(f"/api/v1/submissions/{rejected['submission_id']}/replay")
    assert answer.status_code == 200
    assert answer.json()["id"] == rejected["id"]
    copy = Submission.objects.get(pk=answer.json()["submission_id"])
    assert copy.replay_of_id == rejected["submission_id"]


def test_it_forbids_managers_to_replay(intake, org):
    submission_id = intake.post({"email": "dana@northwind.example"}).json()["submission_id"]
    assert staff_client(org.manager).post(f"/api/v1/submissions/{submission_id}/replay").status_code == 403


def test_it_replays_a_failed_submission_in_place_once_the_cause_is_fixed(intake, org):
    broken = break_the_lead_definition()
    failed = intake.post({"email": "dana@northwind.example"}).json()
    assert failed["status"] == "failed"
    broken.delete()
    answer = staff_client(org.admin).post(f"/api/v1/submissions/{failed['submission_id']}/replay")
    assert answer.status_code == 201
    assert answer.json()["submission_id"] == failed["submission_id"]
    assert Submission.objects.get().status == "processed"


def test_the_worker_retries_a_failed_submission_with_backoff(intake, org):
    broken = break_the_lead_definition()
    failed = intake.post({"email": "dana@northwind.example"}).json()
    worker = Worker(poll_seconds=0)
    assert worker.tick() == 0  # not due yet: the first retry waits 10 s
    with time_machine.travel(clock.now() + timedelta(seconds=11), tick=False):
        assert worker.tick() == 1  # due, tried, failed again
    submission = Submission.objects.get(pk=failed["submission_id"])
    assert (submission.status, submission.attempts) == ("failed", 2)
    assert submission.due_at > clock.now() + timedelta(seconds=19)
    broken.delete()
    with time_machine.travel(clock.now() + timedelta(seconds=60), tick=False):
        assert worker.tick() == 2  # processed, and the new lead's email sent in the same round
    submission.refresh_from_db()
    assert (submission.status, submission.http_status) == ("processed", 201)
    assert Lead.objects.get().pk == submission.lead_id


def test_the_worker_leaves_a_visible_dead_letter_after_the_last_try(intake, org, settings):
    settings.WORKER_MAX_ATTEMPTS = 2
    break_the_lead_definition()
    submission_id = intake.post({"email": "dana@northwind.example"}).json()["submission_id"]
    with time_machine.travel(clock.now() + timedelta(minutes=5), tick=False):
        assert Worker(poll_seconds=0).tick() == 1
        assert Worker(poll_seconds=0).tick() == 0
    submission = Submission.objects.get(pk=submission_id)
    assert (submission.status, submission.attempts, submission.due_at) == ("failed", 2, None)
    assert "ConditionError" in submission.last_error


def test_two_workers_never_claim_the_same_submission(intake, org):
    from leadbaton.intake.services import submission_claim

    break_the_lead_definition()
    submission_id = intake.post({"email": "dana@northwind.example"}).json()["submission_id"]
    later = clock.now() + timedelta(seconds=30)
    lease = timedelta(seconds=60)
    assert submission_claim(submission_id=submission_id, now=later, lease=lease) is True
    assert submission_claim(submission_id=submission_id, now=later, lease=lease) is False
    # a worker that died releases its claim when the lease runs out
    assert submission_claim(submission_id=submission_id, now=later + timedelta(seconds=61), lease=lease) is True


def test_it_reads_a_lead_with_its_inquiries_and_handoffs(intake, org):
    lead_id = intake.post({"email": "dana@northwind.example", "message": "first"}).json()["id"]
    intake.post({"email": "dana@northwind.example", "message": "second"})
    answer = staff_client(org.manager).get(f"/api/v1/leads/{lead_id}")
    assert answer.status_code == 200
    body = answer.json()
    assert [inquiry["message"] for inquiry in body["inquiries"]] == ["first", "second"]
    assert [handoff["to_kind"] for handoff in body["handoffs"]] == ["team"]
    assert body["owner"] == {"kind": "team", "id": org.emea.pk, "name": "EMEA queue"}


@pytest.mark.parametrize("path", ["/api/v1/leads/999999", "/api/v1/submissions/999999"])
def test_it_answers_404_for_what_does_not_exist(org, path):
    assert staff_client(org.admin).get(path).status_code == 404


def test_a_manager_reads_only_the_submissions_of_their_teams_leads(intake, org):
    from leadbaton.accounts.models import Role, Team, User

    frank = User.objects.create_user("frank@example.com", "pw", name="Frank Manager", role=Role.MANAGER)
    Team.objects.create(slug="apac", name="APAC", time_zone="Asia/Tokyo", manager=frank)
    emea_lead = intake.post({"email": "dana@northwind.example", "first_name": "Dana"}).json()  # waits in the EMEA queue
    nobody = intake.post({"first_name": "nobody"}).json()  # rejected: no lead, no team

    maria, other = staff_client(org.manager), staff_client(frank)

    assert [row["id"] for row in maria.get("/api/v1/submissions").json()] == [emea_lead["submission_id"]]
    assert maria.get(f"/api/v1/submissions/{emea_lead['submission_id']}").json()["body"].count("Dana") == 1
    assert other.get("/api/v1/submissions").json() == []
    for submission_id in (emea_lead["submission_id"], nobody["submission_id"], 999999):
        answer = other.get(f"/api/v1/submissions/{submission_id}")
        assert answer.status_code == 404
        assert answer.json()["errors"] == [{"field": "submission_id", "message": "there is no submission with this id that you can see"}]
    assert maria.get(f"/api/v1/submissions/{nobody['submission_id']}").status_code == 404
    assert staff_client(org.marketer).get(f"/api/v1/submissions/{nobody['submission_id']}").status_code == 200
