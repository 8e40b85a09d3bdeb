"""The routing rules as rows of a form: the rule builder of the routing settings page.

Each rule is a name, a team, a strategy, a place in the order and its conditions; each condition a field, an operator
and a value. The rows are read into the data the organisation file's `routing:` section holds and checked by the same
code (organisation.file.routing_read, then routing's own checks), so the builder and the YAML editor accept and refuse
the same rules. A problem found at a path (`routing[2].when[0]`) is shown next to the rule and the condition it names.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from leadbaton.core.conditions import OPERATORS
from leadbaton.routing.models import RoutingRule, Strategy

MAX_RULES = 100
MAX_CONDITIONS = 20
OPERATOR_LABELS = {
    "equals": "is", "in": "is one of", "not_in": "is none of", "at_least": "is at least", "at_most": "is at most",
    "contains": "contains", "is_set": "is set (yes or no)",
}
LISTED = ("in", "not_in")  # their value: items separated by commas
_WHOLE = re.compile(r"-?(?:0|[1-9]\d{0,14})")
_DECIMAL = re.compile(r"-?(?:0|[1-9]\d{0,14})\.\d{1,6}")
_PATH = re.compile(r"^(?:routing|rules)\[(\d+)\](?:\.when\[(\d+)\])?(?:\.(\w+))?$")


@dataclass
class ConditionRow:
    field: str = ""
    operator: str = "in"
    value: str = ""
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not self.field.strip() and not self.value.strip()


@dataclass
class RuleRow:
    index: int
    name: str = ""
    team: str = ""
    strategy: str = Strategy.ROUND_ROBIN.value
    place: str = ""
    remove: bool = False
    conditions: list[ConditionRow] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    new: bool = False

    @property
    def blank(self) -> bool:
        return not self.name.strip() and not self.team and all(condition.blank for condition in self.conditions)


def rows_of(rules: list[RoutingRule]) -> list[RuleRow]:
    """The rules in force as the builder shows them (a switched-off team's left out, as the YAML leaves them out), each
    with an empty condition row to add one, and an empty rule at the end to add one."""
    rows = [
        RuleRow(index, rule.name, rule.team.slug, rule.strategy, str(index + 1),
                conditions=[_condition_row(condition) for condition in rule.conditions] + [ConditionRow()])
        for index, rule in enumerate(rule for rule in rules if rule.team.active)
    ]
    return [*rows, RuleRow(len(rows), place=str(len(rows) + 1), conditions=[ConditionRow(), ConditionRow()], new=True)]


def _condition_row(condition: dict[str, Any]) -> ConditionRow:
    operator = next((name for name in OPERATORS if name in condition), "equals")
    value = condition.get(operator)
    if operator == "is_set":
        written = "yes" if value else "no"
    elif isinstance(value, list):
        written = ", ".join(_written(item) for item in value)
    else:
        written = _written(value)
    return ConditionRow(str(condition.get("field", "")), operator, written)


def _written(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def rows_posted(data: QueryDict) -> list[RuleRow]:
    """The builder's rows as posted, every value kept as typed (at most MAX_RULES rules of MAX_CONDITIONS conditions)."""
    rows = []
    for index in range(_count(data.get("rule_count"), MAX_RULES)):
        prefix = f"rule-{index}"
        conditions = [
            ConditionRow(data.get(f"{prefix}-when-{number}-field", "").strip(), data.get(f"{prefix}-when-{number}-operator", "in"),
                         data.get(f"{prefix}-when-{number}-value", "").strip())
            for number in range(_count(data.get(f"{prefix}-condition_count"), MAX_CONDITIONS))
        ]
        rows.append(RuleRow(index, data.get(f"{prefix}-name", "").strip(), data.get(f"{prefix}-team", ""),
                            data.get(f"{prefix}-strategy", Strategy.ROUND_ROBIN.value), data.get(f"{prefix}-place", "").strip(),
                            remove=data.get(f"{prefix}-remove") == "yes", conditions=conditions,
                            new=data.get(f"{prefix}-new") == "yes"))
    return rows


def _count(text: str | None, most: int) -> int:
    return min(int(text), most) if text and text.isdigit() else 0


@dataclass
class Read:
    """The builder's rows read: the rules in their order (as routing_read takes them), where each came from (to place a
    problem next to it), and problems of the rows themselves (a place that is not a number)."""

    rules: list[dict[str, Any]]
    origins: list[tuple[RuleRow, list[ConditionRow]]]
    problems: int = 0


def rules_from(rows: list[RuleRow]) -> Read:
    """The rules the rows say, in the order of their places (rows of the same place keep their order on the page); a
    removed rule, an empty rule and an empty condition row are left out."""
    kept: list[tuple[float, int, RuleRow]] = []
    problems = 0
    for row in rows:
        if row.remove or row.blank:
            continue
        place = float(len(rows) + row.index)
        if row.place:
            if _WHOLE.fullmatch(row.place) and int(row.place) >= 1:
                place = int(row.place)
            else:
                row.errors.append(f"Place: {row.place[:20]!r} is not a place in the order; write a whole number, 1 for the first rule")
                problems += 1
        if not row.name:
            row.errors.append("Name: give the rule a name that says what it is for, such as Enterprise accounts")
            problems += 1
        if not row.team:
            row.errors.append("Team: pick the team that gets the leads this rule matches")
            problems += 1
        kept.append((place, row.index, row))
    origins, rules = [], []
    for _, _, row in sorted(kept, key=lambda item: item[:2]):
        conditions = [condition for condition in row.conditions if not condition.blank]
        rule: dict[str, Any] = {"name": row.name, "team": row.team, "strategy": row.strategy}
        if conditions:
            rule["when"] = [_condition(condition) for condition in conditions]
        rules.append(rule)
        origins.append((row, conditions))
    return Read(rules, origins, problems)


def _condition(row: ConditionRow) -> dict[str, Any]:
    operator = row.operator if row.operator in OPERATORS else "equals"
    text = row.value
    value: Any
    if operator == "is_set":
        value = text.lower() not in ("no", "false", "0")
    elif operator in LISTED:
        value = [_scalar(item.strip()) for item in text.split(",") if item.strip()]
    elif operator == "contains":
        value = text
    else:
        value = _scalar(text)
    return {"field": row.field, operator: value}


def _scalar(text: str) -> Any:
    """A value as the file would read it when written bare: a whole or decimal number, true or false, else the text."""
    if _WHOLE.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def place_problems(read: Read, problems: list[dict[str, str]]) -> list[dict[str, str]]:
    """Put each problem next to the rule or condition its path names; the ones that name no row are returned."""
    left = []
    for problem in problems:
        found = _PATH.match(problem["field"])
        if found is None or int(found.group(1)) >= len(read.origins):
            left.append(problem)
            continue
        row, conditions = read.origins[int(found.group(1))]
        what = (found.group(3) or "").replace("_", " ")
        if found.group(2) is not None and int(found.group(2)) < len(conditions):
            conditions[int(found.group(2))].errors.append(problem["message"])
        else:
            row.errors.append(f"{what.capitalize()}: {problem['message']}" if what else problem["message"])
    return left
