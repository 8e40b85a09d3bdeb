"""POST /api/v1/reps/{id}/pause and /resume: a manager stops a rep getting new leads for a while, with a reason."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from leadbaton.accounts.models import RepProfile
from leadbaton.api.auth import STAFF_AUTH, caller
from leadbaton.api.schemas import RowId, refusals
from leadbaton.core import clock
from leadbaton.pipeline.ownership import rep_pause, rep_resume

router = Router(tags=["reps"], auth=STAFF_AUTH)


class PauseIn(Schema):
    reason: str = ""


class RepPauseOut(Schema):
    id: int
    name: str
    team: str
    paused: bool
    pause_reason: str


@router.post("/reps/{rep_id}/pause", response={200: RepPauseOut, **refusals(400, 401, 403, 404, 422)}, summary="Pause a rep")
def rep_pause_post(request: HttpRequest, rep_id: RowId, payload: PauseIn) -> Any:
    """Routing gives the rep no new leads until they are resumed; `reason` (required) is shown to their manager.

    The manager of the rep's team, or an admin. The rep's own leads stay theirs. Pausing again replaces the reason.
    """
    profile = rep_pause(rep_id=rep_id, by=caller(request), reason=payload.reason, now=clock.now())
    return _answer(profile)


@router.post("/reps/{rep_id}/resume", response={200: RepPauseOut, **refusals(401, 403, 404, 422)}, summary="Resume a paused rep")
def rep_resume_post(request: HttpRequest, rep_id: RowId) -> Any:
    """The rep takes new leads again (their team's queue goes out to them within seconds). The same people as may pause them."""
    profile = rep_resume(rep_id=rep_id, by=caller(request), now=clock.now())
    return _answer(profile)


def _answer(profile: RepProfile) -> dict[str, Any]:
    return {"id": profile.user_id, "name": profile.user.display_name, "team": profile.team.slug,
            "paused": profile.paused, "pause_reason": profile.pause_reason}
