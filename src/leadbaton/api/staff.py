"""Staff endpoints: the submission log, leads, personal tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from leadbaton.accounts.models import ApiToken, Role, User
from leadbaton.accounts.services import token_issue, token_revoke
from leadbaton.api.auth import STAFF_AUTH, Forbidden, caller, require_role
from leadbaton.api.clocks import clock_out, speed_to_lead_out
from leadbaton.api.intake import intake_answer
from leadbaton.api.rep import activity_out
from leadbaton.api.schemas import (
    IntakeErrorsOut,
    LeadAccepted,
    LeadDetailOut,
    LeadPending,
    RowId,
    SubmissionDetail,
    SubmissionOut,
    TokenIn,
    TokenIssued,
    refusals,
)
from leadbaton.core import clock
from leadbaton.intake.models import Submission
from leadbaton.intake.queries import submissions_list
from leadbaton.leads.access import submissions_readable
from leadbaton.leads.queries import activities_of, owner_summary
from leadbaton.pipeline.followup import lead_readable, viewer_of
from leadbaton.pipeline.intake import submission_replay
from leadbaton.pipeline.person import possible_duplicates_seen_by
from leadbaton.sla.queries import clocks_of

router = Router(tags=["staff"], auth=STAFF_AUTH)
OFFICE = (Role.ADMIN, Role.MARKETING, Role.MANAGER)
STATUSES = [choice for choice, _ in Submission.Status.choices]


def _submission(row: Submission, *, detail: bool = False) -> dict[str, Any]:
    out = {
        "id": row.pk, "source": row.source.slug, "received_at": row.received_at, "status": row.status,
        "http_status": row.http_status, "idempotency_key": row.idempotency_key, "lead_id": row.lead_id,
        "merged": row.merged, "errors": row.errors, "warnings": row.warnings, "attempts": row.attempts,
        "next_attempt_at": row.due_at, "replay_of_id": row.replay_of_id, "body_size": row.body_size,
        "body_truncated": row.body_truncated,
    }
    if detail:
        out.update(headers=row.headers, body=row.body_text, last_error=row.last_error)
    return out


@router.get("/submissions", response={200: list[SubmissionOut], **refusals(401, 403, 422)}, summary="List submissions")
def submissions_get(request: HttpRequest, status: str | None = None, source: str | None = None, limit: int = 50) -> Any:
    """The newest submissions first, optionally of one status (received, processed, rejected, failed) or source.

    A manager sees only the submissions of leads they may read (the teams they manage)."""
    where = _submissions_of(caller(request))
    if status is not None and status not in STATUSES:
        return Status(422, {"errors": [{"field": "status", "message": f"{status!r} is not a status; use one of {', '.join(STATUSES)}"}]})
    if not 1 <= limit <= 500:
        return Status(422, {"errors": [{"field": "limit", "message": f"{limit} is out of range; use 1 to 500"}]})
    return [_submission(row) for row in submissions_list(status=status, source_slug=source, where=where, limit=limit)]


@router.get("/submissions/{submission_id}", response={200: SubmissionDetail, **refusals(401, 403, 404, 422)},
            summary="Read a submission")
def submission_get(request: HttpRequest, submission_id: RowId) -> Any:
    """One submission with its stored headers and body. One the caller may not read answers as one that does not exist."""
    where = _submissions_of(caller(request))
    row = Submission.objects.select_related("source").filter(where, pk=submission_id).first()
    if row is None:
        return Status(404, {"errors": [{"field": "submission_id", "message": "there is no submission with this id that you can see"}]})
    return _submission(row, detail=True)


def _submissions_of(user: User) -> Q:
    """Which submissions `user` may read (leads.access); Forbidden when their role may not read the log."""
    require_role(user, *OFFICE)
    where = submissions_readable(viewer_of(user))
    if where is None:  # a role require_role lets through must read something; never the whole log by accident
        raise Forbidden("your role cannot read the submission log")
    return where


@router.post(
    "/submissions/{submission_id}/replay",
    response={200: LeadAccepted, 201: LeadAccepted, 202: LeadPending, **refusals(401, 403, 404, 409),
              frozenset({400, 413, 422}): IntakeErrorsOut},
    summary="Process a submission again",
)
def submission_replay_post(request: HttpRequest, submission_id: RowId) -> JsonResponse:
    """A failed submission is processed in place; any other is copied to a new submission and processed.

    The answer is the one the intake endpoint gives (`400`, `413`, `422` for a stored body it refuses);
    `409` while another process is processing the submission (try again in a moment).
    """
    require_role(caller(request), Role.ADMIN, Role.MARKETING)
    get_object_or_404(Submission, pk=submission_id)
    return intake_answer(submission_replay(submission_id=submission_id))


@router.get("/leads/{lead_id}", response={200: LeadDetailOut, **refusals(401, 403, 404, 422)}, summary="Read a lead")
def lead_get(request: HttpRequest, lead_id: RowId) -> Any:
    """The lead with every inquiry, handoff, activity and service-level clock, its outcome and speed to lead; for whoever
    may see it (leads.access)."""
    user = caller(request)
    lead = lead_readable(lead_id=lead_id, by=user)
    now = clock.now()
    activities, clocks = activities_of(lead.pk), clocks_of(lead.pk)
    lists = ("owner", "inquiries", "handoffs", "activities", "possible_duplicates", "clocks", "speed_to_lead")
    out = {name: getattr(lead, name) for name in LeadDetailOut.model_fields if hasattr(lead, name) and name not in lists}
    out.update(owner=owner_summary(lead), inquiries=list(lead.inquiries.all()), handoffs=list(lead.handoffs.all()),
               activities=[activity_out(activity) for activity in activities],
               possible_duplicates=possible_duplicates_seen_by(lead_id=lead.pk, by=user),
               clocks=[clock_out(deadline, now=now) for deadline in clocks],
               speed_to_lead=speed_to_lead_out(lead, activities=activities, clocks=clocks))
    return out


@router.post("/tokens", response={201: TokenIssued, **refusals(400, 401, 403, 422)}, summary="Create a personal API token")
def token_post(request: HttpRequest, payload: TokenIn) -> Any:
    """The token is shown once, in this answer; only its digest is stored."""
    issued = token_issue(user=caller(request), name=payload.name, now=clock.now())
    return Status(201, {"id": issued.token.pk, "name": issued.token.name, "token": issued.plaintext})


@router.delete("/tokens/{token_id}", response={204: None, **refusals(401, 403, 404, 422)}, summary="Revoke a personal API token")
def token_delete(request: HttpRequest, token_id: RowId) -> Any:
    token = get_object_or_404(ApiToken, pk=token_id, user=caller(request))
    token_revoke(token=token, now=clock.now())
    return Status(204, None)
