"""Reads of the SLA capability: the state of the clocks, for the CLI, pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q

from leadbaton.accounts.models import Team
from leadbaton.sla.models import Deadline, SlaPolicy


@dataclass(frozen=True)
class TeamClocks:
    """How a team's clocks stand now: pending, running out within the hour, breached and met today (its time zone)."""

    team: Team
    pending: int
    due_within_hour: int
    breached_today: int
    met_today: int


def clocks_by_team(*, now: datetime, team_slug: str | None = None) -> list[TeamClocks]:
    """One row per active team (or the one named), in name order. One query per team."""
    teams = Team.objects.filter(active=True).order_by("name")
    if team_slug is not None:
        teams = teams.filter(slug=team_slug)
    rows = []
    for team in teams:
        local = now.astimezone(ZoneInfo(team.time_zone))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        counts = Deadline.objects.filter(team=team).aggregate(
            pending=Count("id", filter=Q(status=Deadline.Status.PENDING)),
            due=Count("id", filter=Q(status=Deadline.Status.PENDING, breach_at__lte=now + timedelta(hours=1))),
            breached=Count("id", filter=Q(status=Deadline.Status.BREACHED, breached_at__gte=midnight)),
            met=Count("id", filter=Q(status=Deadline.Status.MET, met_at__gte=midnight)),
        )
        rows.append(TeamClocks(team, counts["pending"], counts["due"], counts["breached"], counts["met"]))
    return rows


def deadlines_of(lead_id: int) -> list[Deadline]:
    """Every clock of a lead, oldest first, with its owner and the steps taken (prefetched)."""
    return list(Deadline.objects.filter(lead_id=lead_id).select_related("rep", "team").prefetch_related("taken").order_by("started_at", "id"))


def policies_active() -> list[SlaPolicy]:
    """The organisation's policy first, then the teams' own, by team name."""
    rows = SlaPolicy.objects.filter(active=True).select_related("team")
    return sorted(rows, key=lambda policy: (policy.team_id is not None, policy.team.name if policy.team else ""))
