"""Reads of the qualification capability."""

from __future__ import annotations

from datetime import date

from leadbaton.core.cache import cached
from leadbaton.qualification.models import CampaignCost, LeadDefinition, MarketingTargets
from leadbaton.qualification.scoring import DefinitionView


def definition_active() -> DefinitionView | None:
    """The lead definition in force (kept in memory until the configuration changes)."""
    return cached("lead definition", _definition_load)


def _definition_load() -> DefinitionView | None:
    row = LeadDefinition.objects.filter(active=True).first()
    if row is None:
        return None
    return DefinitionView(
        version=row.version, name=row.name, required=list(row.required), fit_rules=list(row.fit_rules), threshold=row.threshold
    )


def targets_now() -> MarketingTargets:
    """Marketing's targets (no row yet: none, both 0)."""
    return MarketingTargets.objects.first() or MarketingTargets(sales_ready_per_week=0, acceptance_rate=0)


def campaign_costs(first_day: date, last_day: date) -> list[CampaignCost]:
    """The campaign costs whose days meet the days from `first_day` to `last_day`, by campaign and first day."""
    return list(CampaignCost.objects.filter(first_day__lte=last_day, last_day__gte=first_day).order_by("campaign", "first_day", "id"))
