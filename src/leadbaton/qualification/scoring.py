"""Judging a lead against the lead definition. Pure: no queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leadbaton.core.conditions import LEAD_FIELDS, condition_parse, fact_get

REQUIRABLE = frozenset({"email", "phone", "first_name", "last_name", "company", "title", "country", "company_size"})


@dataclass(frozen=True)
class Verdict:
    score: int
    sales_ready: bool
    version: int | None
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DefinitionView:
    """What scoring needs of a LeadDefinition row."""

    version: int
    name: str
    required: list[str]
    fit_rules: list[dict[str, Any]]
    threshold: int


def lead_judge(facts: Mapping[str, Any], definition: DefinitionView | None) -> Verdict:
    """Score a lead's facts and say whether it is sales-ready.

    Without a definition every reachable lead is sales-ready: nothing has been
    agreed that would hold it back, and sales should see it.
    """
    if definition is None:
        return Verdict(score=0, sales_ready=True, version=None, reasons=["no lead definition is active"])
    score = 0
    reasons: list[str] = []
    for index, rule in enumerate(definition.fit_rules):
        condition = condition_parse(
            rule, path=f"fit[{index}]", known_fields=LEAD_FIELDS, extra_keys=frozenset({"points", "label"})
        )
        if condition.matches(facts):
            points = int(rule.get("points", 0))
            score += points
            reasons.append(f"{rule.get('label') or condition.describe()}: {points:+d}")
    missing = [name for name in definition.required if not fact_get(facts, name)]
    if missing:
        reasons.append(f"missing required {', '.join(missing)}")
    ready = not missing and score >= definition.threshold
    return Verdict(score=score, sales_ready=ready, version=definition.version, reasons=reasons)
