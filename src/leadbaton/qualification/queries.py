"""Reads of the qualification capability."""

from __future__ import annotations

from leadbaton.core.cache import cached
from leadbaton.qualification.models import LeadDefinition
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
