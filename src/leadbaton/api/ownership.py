"""POST /api/v1/leads/{id}/reassign: a manager gives a lead to another rep or back to a queue."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from leadbaton.accounts.models import Team
from leadbaton.api.auth import STAFF_AUTH, caller
from leadbaton.api.schemas import RowId, not_boolean, refusals
from leadbaton.core import clock
from leadbaton.leads.models import Lead
from leadbaton.leads.queries import owner_summary
from leadbaton.pipeline.followup import lead_readable
from leadbaton.pipeline.ownership import lead_reassign

router = Router(tags=["ownership"], auth=STAFF_AUTH)


class ReassignIn(Schema):
    to_rep: Annotated[RowId, not_boolean("a rep's user id such as 7")] | None = None
    to_team: str | None = None
    reason: str = ""


class ReassignOut(Schema):
    id: int
    stage: str
    owner: dict[str, Any]


@router.post("/leads/{lead_id}/reassign", response={200: ReassignOut, **refusals(400, 401, 403, 404, 422)},
             summary="Reassign a lead")
def lead_reassign_post(request: HttpRequest, lead_id: RowId, payload: ReassignIn) -> Any:
    """Give the lead to the rep `to_rep` (a user id) or to the queue of the team `to_team` (a slug), with a reason.

    Managers move leads of the teams they manage; admins any. The change is a handoff in the ledger, with who and why.
    A lead the caller may not read answers as one that does not exist.
    """
    user = caller(request)
    lead_readable(lead_id=lead_id, by=user)
    team_id = None
    if payload.to_team is not None:
        team = Team.objects.filter(slug=payload.to_team).first()
        if team is None:
            known = ", ".join(Team.objects.filter(active=True).order_by("slug").values_list("slug", flat=True))
            return Status(422, {"errors": [{"field": "to_team", "message": f"{payload.to_team!r} is not a team; teams: {known}"}]})
        team_id = team.pk
    lead = lead_reassign(lead_id=lead_id, by=user, reason=payload.reason, to_rep_id=payload.to_rep, to_team_id=team_id, now=clock.now())
    lead = Lead.objects.select_related("owner_team", "owner_rep").get(pk=lead.pk)
    return {"id": lead.pk, "stage": lead.stage, "owner": owner_summary(lead)}
