"""Reads of the qualification capability."""

from __future__ import annotations

from leadbaton.qualification.models import LeadDefinition
from leadbaton.qualification.scoring import DefinitionView


def definition_active() -> DefinitionView | None:
    row = LeadDefinition.objects.filter(active=True).first()
    if row is None:
        return None
    return DefinitionView(
        version=row.version, name=row.name, required=list(row.required), fit_rules=list(row.fit_rules), threshold=row.threshold
    )
