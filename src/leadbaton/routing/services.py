"""Writes of the routing capability."""

from __future__ import annotations

from typing import Any

from leadbaton.accounts.models import Team
from leadbaton.core.rows import fields_update
from leadbaton.routing.models import RoutingRule


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
