"""The rep's side: my leads by urgency, my team's queue, my notifications; touches and outcomes on a lead.

A use case's refusal (core.refusals) is answered by the handler api/errors.py installs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from leadbaton.accounts.models import Role, Team
from leadbaton.accounts.queries import team_ids_of, teams_by_id
from leadbaton.api.auth import STAFF_AUTH, caller
from leadbaton.api.clocks import next_clock_out
from leadbaton.api.schemas import (
    ActivityIn,
    ActivityLogged,
    ActivityOut,
    LeadSummaryOut,
    MeOut,
    MyLeadOut,
    NotificationOut,
    NotificationsMarked,
    NotificationsReadIn,
    OutcomeIn,
    RejectIn,
    RowId,
    refusals,
)
from leadbaton.core import clock
from leadbaton.leads.models import Activity, Lead, Stage
from leadbaton.leads.queries import activities_of, leads_queued, owner_summary, with_owners
from leadbaton.notify.queries import notifications_of
from leadbaton.notify.services import notifications_mark_read
from leadbaton.pipeline.catch_up import rep_availability
from leadbaton.pipeline.followup import (
    EXAMPLE_TIME,
    activity_log,
    lead_readable,
    lead_reject,
    outcome_record,
    viewer_of,
)
from leadbaton.sla.queries import leads_of_rep_by_clock

router = Router(tags=["rep"], auth=STAFF_AUTH)
STAGES = [choice.value for choice in Stage]
CHANGE_REFUSALS = refusals(400, 401, 403, 404, 409, 422)


def _invalid(field: str, message: str) -> Status:
    return Status(422, {"errors": [{"field": field, "message": message}]})


def _limit_problem(limit: int) -> Status | None:
    return None if 1 <= limit <= 200 else _invalid("limit", f"{limit} is out of range; use 1 to 200")


def lead_summary(lead: Lead) -> dict[str, Any]:
    """A lead as lists show it. Needs the owner team and rep loaded."""
    now = clock.now()
    return {
        "id": lead.pk, "stage": lead.stage, "untouched": lead.untouched, "overdue": lead.next_step_overdue(now),
        "score": lead.score, "name": str(lead), "company": lead.company, "email": lead.email, "phone": lead.phone,
        "product_interest": lead.product_interest, "owner": owner_summary(lead), "received_at": lead.received_at,
        "owned_at": lead.owned_at, "first_touch_at": lead.first_touch_at, "touch_count": lead.touch_count,
        "last_progress_at": lead.last_progress_at, "seconds_to_owner": lead.seconds_to_owner,
        "seconds_to_first_touch": lead.seconds_to_first_touch, "blocker": lead.blocker, "next_step": lead.next_step,
        "next_step_at": lead.next_step_at, "value": lead.value, "currency": lead.currency,
        "lost_reason": lead.lost_reason, "closed_at": lead.closed_at, "recycle_at": lead.recycle_at,
    }


def activity_out(activity: Activity) -> dict[str, Any]:
    """An activity with who did it. Needs by_user loaded (or set)."""
    by = activity.by_user
    return {
        "id": activity.pk, "at": activity.at, "kind": activity.kind, "result": activity.result, "note": activity.note,
        "detail": activity.detail, "by": {"id": by.pk, "name": by.display_name},
    }


@router.get("/me", response={200: MeOut, **refusals(401)}, summary="Who I am, and whether I get new leads now")
def me_get(request: HttpRequest) -> Any:
    """You: your role, the team you sell for, the teams you manage, and for a rep whether routing would give you a
    new lead right now, with every reason it would not (outside your hours, time off, paused, daily cap, ceiling,
    catching up on stale leads or overdue next steps). You are back in the rotation the moment no reason is left."""
    user = caller(request)
    own_team_id, managed_team_ids = team_ids_of(user.pk)  # whatever the role: an admin may run a team too
    now = clock.now()
    teams = {team.pk: team for team in teams_by_id({*managed_team_ids, *filter(None, [own_team_id])})}
    availability = None
    if own_team_id is not None:
        found = rep_availability(rep_id=user.pk, team_id=own_team_id, now=now)
        if found is not None:
            availability = {"available": found.eligible, "reasons": found.reasons, "checked_at": now}
    return {
        "id": user.pk, "name": user.display_name, "email": user.email, "role": Role.ADMIN if user.is_superuser else user.role,
        "team": _team_ref(teams.get(own_team_id)) if own_team_id else None,
        "managed_teams": [_team_ref(teams[team_id]) for team_id in sorted(managed_team_ids)],
        "availability": availability,
    }


def _team_ref(team: Team | None) -> dict[str, Any] | None:
    return None if team is None else {"id": team.pk, "slug": team.slug, "name": team.name}


@router.get("/me/leads", response={200: list[MyLeadOut], **refusals(401, 422)}, summary="My leads, most urgent first")
def my_leads_get(request: HttpRequest, stage: str | None = None, limit: int = 50) -> Any:
    """The leads you own, most urgent first: those with a service-level clock of yours breached and not answered
    since by a touch or an outcome, then by the
    clock that runs out first (`next_clock`), then the higher score; then untouched, next step overdue, without
    a next step, due later. `stage` picks one stage; closed stages come newest first."""
    if stage is not None and stage not in STAGES:
        return _invalid("stage", f"{stage!r} is not a stage; use one of {', '.join(STAGES)}")
    if problem := _limit_problem(limit):
        return problem
    now = clock.now()
    rows = leads_of_rep_by_clock(caller(request).pk, now=now, stages=(stage,) if stage else None, limit=limit)
    with_owners([row.lead for row in rows])
    return [{**lead_summary(row.lead), "next_clock": next_clock_out(row.next_clock, now=now)} for row in rows]


@router.get("/me/queue", response={200: list[LeadSummaryOut], **refusals(401, 422)}, summary="My team's queue")
def my_queue_get(request: HttpRequest, limit: int = 50) -> Any:
    """Leads waiting in your team's queue (a manager: the teams you manage; admin and marketing: every team),
    highest score first, then longest waiting."""
    if problem := _limit_problem(limit):
        return problem
    user = caller(request)
    viewer = viewer_of(user)
    if user.is_superuser or user.role in (Role.ADMIN, Role.MARKETING):
        team_ids = None
    else:
        team_ids = sorted(viewer.managed_team_ids | ({viewer.own_team_id} if viewer.own_team_id else set()))
    return [lead_summary(lead) for lead in with_owners(leads_queued(team_ids, limit=limit))]


@router.get("/me/notifications", response={200: list[NotificationOut], **refusals(401, 422)}, summary="My notifications")
def my_notifications_get(request: HttpRequest, unread: bool = False, limit: int = 50) -> Any:
    """Newest first; `unread=true` leaves out the ones already read."""
    if problem := _limit_problem(limit):
        return problem
    return list(notifications_of(caller(request).pk, unread_only=unread, limit=limit))


@router.post("/me/notifications/read", response={200: NotificationsMarked, **refusals(400, 401, 403, 422)}, summary="Mark my notifications read")
def my_notifications_read_post(request: HttpRequest, payload: NotificationsReadIn | None = None) -> Any:
    """Marks the notifications with these `ids` read, or all of yours without `ids`. Says how many changed."""
    ids = payload.ids if payload is not None else None
    return {"marked": notifications_mark_read(user_id=caller(request).pk, ids=ids, now=clock.now())}


@router.get("/leads/{lead_id}/activities", response={200: list[ActivityOut], **refusals(401, 403, 404, 422)},
            summary="A lead's touches, notes and outcomes")
def activities_get(request: HttpRequest, lead_id: RowId) -> Any:
    """Oldest first, each with who did it."""
    lead_readable(lead_id=lead_id, by=caller(request))
    return [activity_out(activity) for activity in activities_of(lead_id)]


@router.post("/leads/{lead_id}/activities", response={201: ActivityLogged, **CHANGE_REFUSALS}, summary="Log a touch or a note")
def activity_post(request: HttpRequest, lead_id: RowId, payload: ActivityIn) -> Any:
    """A call, email, sms or meeting (with its result) or a note. The first touch sets first_touch_at and
    moves an untouched lead to in_progress."""
    logged = activity_log(lead_id=lead_id, by=caller(request), kind=payload.kind, result=payload.result,
                          note=payload.note, now=clock.now())
    return Status(201, {"activity": activity_out(logged.activity), "lead": lead_summary(logged.lead)})


@router.post("/leads/{lead_id}/outcome", response={200: LeadSummaryOut, **CHANGE_REFUSALS}, summary="Record an outcome")
def outcome_post(request: HttpRequest, lead_id: RowId, payload: OutcomeIn) -> Any:
    """in_progress (blocker, next_step, next_step_at), purchased (value, currency) or not_interested (reason, and
    `recycle_after_days` for "not now": back to marketing's nurture that many days later, 1 to 730)."""
    next_step_at = None
    if payload.next_step_at:
        try:
            next_step_at = datetime.fromisoformat(payload.next_step_at.strip())
        except ValueError:
            return _invalid("next_step_at", f"{payload.next_step_at!r} is not a date and time; use ISO 8601, e.g. {EXAMPLE_TIME}")
    logged = outcome_record(
        lead_id=lead_id, by=caller(request), outcome=payload.outcome, blocker=payload.blocker,
        next_step=payload.next_step, next_step_at=next_step_at, value=payload.value,
        currency=payload.currency, reason=payload.reason, recycle_after_days=payload.recycle_after_days, now=clock.now(),
    )
    return lead_summary(logged.lead)


@router.post("/leads/{lead_id}/reject", response={200: LeadSummaryOut, **CHANGE_REFUSALS}, summary="Not a lead: back to marketing")
def reject_post(request: HttpRequest, lead_id: RowId, payload: RejectIn) -> Any:
    """Sales says this is not a lead (Q3): it goes back to the marketing queue, closed as rejected, with the
    reason (spam, student, wrong_person, duplicate with `duplicate_of`, out_of_territory, no_budget_ever,
    other with a `note`), recorded as a handoff. Its clocks stop."""
    logged = lead_reject(lead_id=lead_id, by=caller(request), reason=payload.reason, note=payload.note,
                         duplicate_of=payload.duplicate_of, now=clock.now())
    return lead_summary(logged.lead)
