"""Writes of the routing capability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from leadbaton.accounts.models import RepProfile, Team, User
from leadbaton.core.rows import fields_update
from leadbaton.routing.availability import Eligibility, eligibility
from leadbaton.routing.models import RoutingRule, RoutingState, Strategy
from leadbaton.routing.queries import account_owner_find, team_candidates
from leadbaton.routing.strategies import Pick, least_loaded, round_robin, weighted


def rule_configure(
    *, name: str, position: int, conditions: list[dict[str, Any]], team: Team, strategy: str
) -> tuple[RoutingRule, bool, list[str]]:
    """Create or update the routing rule with this name; it becomes managed and active.

    Returns (rule, created, changed field names). Conditions are stored as given: validate them first.
    """
    values: dict[str, Any] = {
        "position": position, "conditions": conditions, "team_id": team.pk, "strategy": strategy,
        "active": True, "managed": True,
    }
    rule = RoutingRule.objects.filter(name=name).first()
    if rule is None:
        return RoutingRule.objects.create(name=name, **values), True, []
    return rule, False, fields_update(rule, values)


def rules_deactivate(*, keep_names: set[str]) -> list[RoutingRule]:
    """Deactivate the managed rules not kept; leads already routed by them keep their record."""
    gone = list(RoutingRule.objects.filter(managed=True, active=True).exclude(name__in=keep_names).order_by("position", "id"))
    RoutingRule.objects.filter(pk__in=[rule.pk for rule in gone]).update(active=False)
    return gone


@dataclass(frozen=True)
class Routed:
    """The outcome of routing a lead within a team: the rep (None when nobody can take it), how, and why not others."""

    rep: User | None
    how: str
    eligibility: list[Eligibility]

    def nobody_because(self) -> str:
        if not self.eligibility:
            return "the team has no reps"
        return "; ".join(f"{check.name}: {', '.join(check.reasons)}" for check in self.eligibility)


def rep_choose(*, team_id: int, strategy: str, company_domain: str, now: datetime) -> Routed:
    """Pick an available rep of the team for a new lead and remember it. Call inside the intake transaction.

    The team's RoutingState row is locked first (FOR UPDATE on PostgreSQL; on
    SQLite the write transaction holds the database), so leads arriving at the
    same instant are routed one after the other and see each other's counts:
    two leads never go to the same rep by accident of timing.
    """
    state, _ = RoutingState.objects.select_for_update().get_or_create(team_id=team_id)
    candidates = team_candidates(team_id, now)
    checks = [eligibility(candidate, now) for candidate, _ in candidates]
    available = [candidate for (candidate, _), check in zip(candidates, checks, strict=True) if check.eligible]
    profiles = {candidate.rep_id: profile for candidate, profile in candidates}

    pick: Pick | None = None
    if strategy == Strategy.ACCOUNT_OWNER:
        owner_id = account_owner_find(company_domain)
        owner = next((candidate for candidate in available if candidate.rep_id == owner_id), None)
        if owner is not None:
            pick = Pick(owner.rep_id, {}, f"account owner ({company_domain})")
    if pick is None and available:
        if strategy == Strategy.WEIGHTED:
            pick = weighted(available)
        elif strategy == Strategy.LEAST_LOADED:
            pick = least_loaded(available)
        else:
            pick = round_robin(available, state.last_rep_id)
            if strategy == Strategy.ACCOUNT_OWNER:
                pick = Pick(pick.rep_id, {}, "account owner not available; round robin")
    if pick is None:
        return Routed(rep=None, how="", eligibility=checks)

    _remember(state, profiles, pick, now)
    return Routed(rep=profiles[pick.rep_id].user, how=pick.how, eligibility=checks)


def _remember(state: RoutingState, profiles: dict[int, RepProfile], pick: Pick, now: datetime) -> None:
    """Write what the next routing must know: the rotation, the rep's daily count, weighted credits."""
    state.last_rep_id, state.updated_at = pick.rep_id, now
    state.save(update_fields=["last_rep", "updated_at"])
    chosen = profiles[pick.rep_id]
    today = now.astimezone(ZoneInfo(chosen.time_zone)).date()
    chosen.assigned_count = chosen.assigned_count + 1 if chosen.assigned_on == today else 1
    chosen.assigned_on, chosen.last_assigned_at = today, now
    chosen.save(update_fields=["assigned_count", "assigned_on", "last_assigned_at"])
    changed = []
    for rep_id, credit in pick.credits.items():
        if profiles[rep_id].rotation_credit != credit:
            profiles[rep_id].rotation_credit = credit
            changed.append(profiles[rep_id])
    RepProfile.objects.bulk_update(changed, ["rotation_credit"])  # one statement
