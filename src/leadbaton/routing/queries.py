"""Reads of the routing capability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from leadbaton.accounts.models import RepProfile, Team
from leadbaton.core.calendar import TimeOff, WorkingTime
from leadbaton.core.conditions import LEAD_FIELDS, condition_parse
from leadbaton.leads.models import Lead, OwnerKind, Stage
from leadbaton.routing.availability import Candidate, Eligibility, eligibility
from leadbaton.routing.models import RoutingRule, Strategy


@dataclass(frozen=True)
class TeamChoice:
    team: Team
    rule: str
    strategy: str


def team_choose(facts: Mapping[str, Any]) -> TeamChoice | None:
    """The team whose queue a sales-ready lead joins: the first active rule that matches, else the default team.

    One query for the rules (with their teams) and, only when none matches, one for the default team.
    """
    for rule in RoutingRule.objects.filter(active=True, team__active=True).select_related("team"):
        conditions = [
            condition_parse(raw, path=f"routing[{rule.name}].when[{index}]", known_fields=LEAD_FIELDS)
            for index, raw in enumerate(rule.conditions)
        ]
        if all(condition.matches(facts) for condition in conditions):
            return TeamChoice(team=rule.team, rule=f"routing rule {rule.name!r}", strategy=rule.strategy)
    team = Team.objects.filter(is_default=True, active=True).first()
    if team is None:
        return None
    return TeamChoice(team=team, rule="default team", strategy=Strategy.ROUND_ROBIN)


def team_candidates(team_id: int, now: datetime) -> list[tuple[Candidate, RepProfile]]:
    """Every rep of the team as routing sees them at `now`. Two queries (reps with their open load; time off)."""
    open_stages = [Stage.ASSIGNED, Stage.IN_PROGRESS]
    profiles = (
        RepProfile.objects.filter(team_id=team_id)
        .select_related("user")
        .prefetch_related("time_off")
        .annotate(open_in_progress=Count("user__owned_leads", filter=Q(user__owned_leads__stage__in=open_stages)))
        .order_by("user_id")
    )
    return [(candidate_from(profile, now), profile) for profile in profiles]


def candidate_from(profile: RepProfile, now: datetime) -> Candidate:
    working_time = WorkingTime(
        time_zone=profile.time_zone,
        hours=profile.hours,
        country=profile.country,
        time_off=tuple(TimeOff(off.starts_on, off.ends_on, off.reason) for off in profile.time_off.all()),
    )
    today = now.astimezone(working_time.zone()).date()
    return Candidate(
        rep_id=profile.user_id,
        name=profile.user.display_name,
        active=profile.user.is_active,
        paused=profile.paused,
        pause_reason=profile.pause_reason,
        working_time=working_time,
        daily_cap=profile.daily_cap,
        assigned_today=profile.assigned_count if profile.assigned_on == today else 0,
        open_ceiling=profile.open_ceiling,
        open_in_progress=getattr(profile, "open_in_progress", 0),
        weight=max(profile.routing_weight, 1),
        last_assigned_at=profile.last_assigned_at,
        rotation_credit=profile.rotation_credit,
    )


def team_eligibility(team_id: int, now: datetime) -> list[Eligibility]:
    """For each rep of the team: could they take a lead at `now`, and if not, why. Reads only."""
    return [eligibility(candidate, now) for candidate, _ in team_candidates(team_id, now)]


def account_owner_find(company_domain: str) -> int | None:
    """The rep who owns an open lead from this company (the earliest such lead), if any."""
    if not company_domain:
        return None
    return (
        Lead.objects.filter(company_domain=company_domain, owner_kind=OwnerKind.REP, stage__in=[Stage.ASSIGNED, Stage.IN_PROGRESS])
        .order_by("received_at", "id")
        .values_list("owner_rep_id", flat=True)
        .first()
    )
