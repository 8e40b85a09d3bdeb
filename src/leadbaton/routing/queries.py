"""Reads of the routing capability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadbaton.accounts.models import Team
from leadbaton.core.conditions import LEAD_FIELDS, condition_parse
from leadbaton.routing.models import RoutingRule


@dataclass(frozen=True)
class TeamChoice:
    team: Team
    rule: str


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
            return TeamChoice(team=rule.team, rule=f"routing rule {rule.name!r}")
    team = Team.objects.filter(is_default=True, active=True).first()
    if team is None:
        return None
    return TeamChoice(team=team, rule="default team")
