"""Service levels through the API: the policies in force, the organisation's and each team's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from leadbaton.accounts.models import Role
from leadbaton.api.auth import STAFF_AUTH, caller, require_role
from leadbaton.api.schemas import refusals
from leadbaton.core import clock
from leadbaton.pipeline.teams import policy_change, policy_drop
from leadbaton.sla.models import Clock, SlaPolicy
from leadbaton.sla.queries import policies_active
from leadbaton.sla.services import escalation_of, escalation_text, policy_for

router = Router(tags=["service levels"], auth=STAFF_AUTH)


class PolicyIn(Schema):
    """Every field may be left out: the organisation's policy then takes the product's default, a team's the organisation's value."""

    first_response_minutes: int | None = None
    attempts: int | None = None
    attempts_within_days: int | None = None
    progress_every_days: int | None = None
    business_hours: bool | None = None
    business_days: bool | None = None
    remind_before_minutes: int | None = None
    escalation: dict[str, Any] | None = None  # {"first_response": ["remind at 50%", "reassign at breach"]}; kinds left out: default steps


class PolicyOut(Schema):
    scope: str  # "default" (the organisation's) or a team's slug
    team: str | None
    first_response_minutes: int
    attempts: int
    attempts_within_days: int
    progress_every_days: int
    business_hours: bool
    business_days: bool
    remind_before_minutes: int
    escalation: dict[str, list[str]]  # every clock kind's steps besides the breach itself, as written
    updated_at: datetime


def _out(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "scope": policy.team.slug if policy.team else "default", "team": policy.team.name if policy.team else None,
        **{field: getattr(policy, field) for field in ("first_response_minutes", "attempts", "attempts_within_days",
                                                        "progress_every_days", "business_hours", "business_days",
                                                        "remind_before_minutes", "updated_at")},
        "escalation": {kind: escalation_text(escalation_of(policy, kind)) for kind in Clock.values},
    }


@router.get("/sla/policies", response={200: list[PolicyOut], **refusals(401)}, summary="The service levels in force")
def policies_get(request: HttpRequest) -> Any:
    """The organisation's policy (`scope` default) first, then each team's own; a team without one follows the organisation's."""
    caller(request)
    return [_out(policy) for policy in policies_active()]


@router.put("/sla/policies/{scope}", response={200: PolicyOut, **refusals(400, 401, 403, 404, 422)}, summary="Set a service-level policy")
def policy_put(request: HttpRequest, scope: str, payload: PolicyIn) -> Any:
    """`default` sets the organisation's (admins); a team's slug sets that team's own (admins, and the team's manager).

    Applies to clocks started from now on. The organisation file, applied again, sets what it writes.
    """
    user = caller(request)
    require_role(user, Role.ADMIN, Role.MANAGER)
    return _out(policy_change(scope=scope, by=user, values=payload.model_dump(), now=clock.now()))


@router.delete("/sla/policies/{scope}", response={200: PolicyOut, **refusals(401, 403, 404, 422)},
               summary="A team follows the organisation's service levels again")
def policy_delete(request: HttpRequest, scope: str) -> Any:
    """Switch off a team's own policy (admins, and the team's manager): its clocks started from now on run to the
    organisation's, which the answer shows; running clocks keep theirs. `default` cannot be removed, only changed (422)."""
    user = caller(request)
    require_role(user, Role.ADMIN, Role.MANAGER)
    policy_drop(scope=scope, by=user, now=clock.now())
    return _out(policy_for(None))
