"""Routing through the API: the ordered rules (read and replace) and why a lead is where it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from leadbaton.accounts.models import Role
from leadbaton.api.auth import STAFF_AUTH, Forbidden, caller, require_role
from leadbaton.api.schemas import OwnerOut, RowId, refusals
from leadbaton.core import clock
from leadbaton.leads.queries import handoff_sides, owner_summary
from leadbaton.pipeline.catch_up import catch_up_terms
from leadbaton.pipeline.followup import lead_readable
from leadbaton.pipeline.ownership import reps_seen_by
from leadbaton.pipeline.rules import rules_save
from leadbaton.routing.models import RoutingRule, Strategy
from leadbaton.routing.queries import routing_explain, rules_active

router = Router(tags=["routing"], auth=STAFF_AUTH)


class RuleIn(Schema):
    name: str
    when: list[Any] = []
    team: str
    strategy: str = Strategy.ROUND_ROBIN.value


class RulesIn(Schema):
    rules: list[RuleIn]


class RuleOut(Schema):
    name: str
    when: list[dict[str, Any]]
    team: str
    strategy: str
    position: int
    managed: bool


class RulesOut(Schema):
    rules: list[RuleOut]


class TeamOut(Schema):
    id: int
    slug: str
    name: str


class RepCheckOut(Schema):
    rep_id: int
    name: str
    eligible: bool
    reasons: list[str]


class HandoffStepOut(Schema):
    at: datetime
    from_owner: OwnerOut | None
    to_owner: OwnerOut
    reason: str
    note: str
    rule: str
    by: str | None


class ExplainOut(Schema):
    lead_id: int
    stage: str
    at: datetime
    owner: OwnerOut
    team: TeamOut | None
    decided_by: str
    strategy: str | None
    note: str
    reps: list[RepCheckOut]
    handoffs: list[HandoffStepOut]


def _rules(rules: list[RoutingRule]) -> dict[str, Any]:
    return {
        "rules": [
            {"name": rule.name, "when": rule.conditions, "team": rule.team.slug, "strategy": rule.strategy,
             "position": rule.position, "managed": rule.managed}
            for rule in rules
        ]
    }


@router.get("/routing/rules", response={200: RulesOut, **refusals(401, 403)}, summary="The routing rules, in the order they are tried")
def rules_get(request: HttpRequest) -> Any:
    """The active rules; the first whose conditions all match a sales-ready lead decides its team. `managed`: written by the organisation file."""
    require_role(caller(request), Role.ADMIN, Role.MANAGER)
    return _rules(rules_active())


@router.put("/routing/rules", response={200: RulesOut, **refusals(400, 401, 403, 409, 422)}, summary="Replace the routing rules")
def rules_put(request: HttpRequest, payload: RulesIn) -> Any:
    """The whole ordered list at once, in one transaction: active rules not listed are switched off.

    Errors name their path (`rules[2].when[0].in`); with any error nothing changes. Admins, and managers
    who manage every active team: a rule anywhere in the list changes which leads every team after it gets.
    """
    user = caller(request)
    require_role(user, Role.ADMIN, Role.MANAGER)
    rules_save(by=user, rules=[rule.model_dump() for rule in payload.rules])
    return _rules(rules_active())


@router.get("/leads/{lead_id}/routing", response={200: ExplainOut, **refusals(401, 403, 404, 422)}, summary="Why a lead is where it is")
def lead_routing_get(request: HttpRequest, lead_id: RowId) -> Any:
    """Where routing would send the lead now, each rep of that team with every reason they could not take it, and the handoffs so far.

    For whoever may read the lead (leads.access), except that a rep explains only the leads they own.
    """
    user = caller(request)
    lead = lead_readable(lead_id=lead_id, by=user)
    if user.role == Role.REP and not user.is_superuser and lead.owner_rep_id != user.pk:
        raise Forbidden("a sales rep can explain only the leads they own; this one waits in your team's queue")
    explained = routing_explain(lead, clock.now(), catch_up_for=catch_up_terms)
    choice = explained.choice
    handoffs = []
    for handoff in explained.handoffs:
        from_owner, to_owner = handoff_sides(handoff)
        handoffs.append({
            "at": handoff.at, "from_owner": from_owner, "to_owner": to_owner, "reason": handoff.reason, "note": handoff.note,
            "rule": handoff.rule, "by": handoff.by_user.display_name if handoff.by_user else None,
        })
    return {
        "lead_id": lead.pk, "stage": lead.stage, "at": explained.at, "owner": owner_summary(lead),
        "team": {"id": choice.team.pk, "slug": choice.team.slug, "name": choice.team.name} if choice else None,
        "decided_by": choice.rule if choice else "", "strategy": choice.strategy if choice else None,
        "note": explained.note(), "handoffs": handoffs,
        "reps": reps_seen_by(by=user, team_id=choice.team.pk if choice else None, reps=explained.reps),
    }

