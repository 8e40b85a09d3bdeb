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

MAX_RULES = 60
MAX_CONDITIONS = 30
MAX_FIELDS = 900  # what the rows may post: under Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1000), with the sample's fields
OPERATOR_LABELS = {
    "equals": "is", "in": "is one of", "not_in": "is none of", "at_least": "is at least", "at_most": "is at most",
    "contains": "contains any of", "is_set": "is set (yes or no)",
}
LISTED = ("in", "not_in", "contains")  # their value: items separated by commas; the others' (but is_set's) one value
_COUNT = re.compile(r"[0-9]{1,4}")
_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]{0,3999})")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,399})(?:\.[0-9]{1,400})?(?:[eE][-+]?[0-9]{1,4})?")
_ITEM = re.compile(r'[ \t]*(?:"((?:[^"]|"")*)"|([^,"]*))[ \t]*(?:,|$)')
_PATH = re.compile(r"^(?:routing|rules)\[(\d+)\](?:\.when\[(\d+)\])?(?:\.(\w+)(?:\[\d+\])?)?$")


class RowsUnread(ValueError):
    """The posted rows are not whole (a count missing or not a number): the form was not the page's."""


def fits(rules: list[RoutingRule]) -> bool:
    """Whether the rule builder can carry these rules: few enough rules and conditions for one form post."""
    def posted(conditions: int) -> int:  # a rule's fields (name, team, strategy, place, remove, counts...), 3 per condition row
        return 7 + 3 * conditions

    fields = sum(posted(len(rule.conditions) + 1) for rule in rules) + posted(2)  # each with an empty row; the new rule with two
    return len(rules) < MAX_RULES and all(len(rule.conditions) < MAX_CONDITIONS for rule in rules) and fields <= MAX_FIELDS


@dataclass
class ConditionRow:
    field: str = ""
    operator: str = "in"
    value: str = ""
    errors: list[str] = dataclasses.field(default_factory=list)
    wrong: str = ""  # the control an error is about: "field" or "value"

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
    wrong: set[str] = dataclasses.field(default_factory=set)  # the controls its errors are about: name, team, strategy, place

    def refuse(self, what: str, message: str) -> None:
        self.errors.append(f"{what.capitalize()}: {message}")
        self.wrong.add(what)

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
        written = ", ".join(_written(item, listed=True) for item in value)
    else:
        written = _written(value, listed=operator in LISTED)
    return ConditionRow(str(condition.get("field", "")), operator, written)


def _written(value: Any, *, listed: bool) -> str:
    """A value as the builder writes it, read back the same by _condition: a text that would read as something else (a
    number, true or false, a comma in a list, a quote, spaces at an end) in double quotes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = "" if value is None else str(value)
    plain = type(_scalar(text)) is str and text == text.strip() and '"' not in text
    if plain and not (listed and ("," in text or not text)):
        return text
    return '"' + text.replace('"', '""') + '"'


def rows_posted(data: QueryDict) -> list[RuleRow]:
    """The builder's rows as posted, every value kept as typed. Raises RowsUnread when a count is missing, not a number
    or over the builder's limits (MAX_RULES, MAX_CONDITIONS): the form was not the page's, and reading part of it
    could drop rules."""
    rows = []
    for index in range(_count(data, "rule_count", MAX_RULES)):
        prefix = f"rule-{index}"
        conditions = [
            ConditionRow(data.get(f"{prefix}-when-{number}-field", "").strip(), data.get(f"{prefix}-when-{number}-operator", ""),
                         data.get(f"{prefix}-when-{number}-value", "").strip())
            for number in range(_count(data, f"{prefix}-condition_count", MAX_CONDITIONS))
        ]
        rows.append(RuleRow(index, data.get(f"{prefix}-name", "").strip(), data.get(f"{prefix}-team", ""),
                            data.get(f"{prefix}-strategy", ""), data.get(f"{prefix}-place", "").strip(),
                            remove=data.get(f"{prefix}-remove") == "yes", conditions=conditions,
                            new=data.get(f"{prefix}-new") == "yes"))
    return rows


def _count(data: QueryDict, name: str, most: int) -> int:
    text = data.get(name, "")
    if not _COUNT.fullmatch(text) or int(text) > most:
        raise RowsUnread(f"{name} is {text[:20]!r}; the page sends a whole number of rows up to {most}: load the page again")
    return int(text)


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
            if _COUNT.fullmatch(row.place) and int(row.place) >= 1:
                place = int(row.place)
            else:
                row.refuse("place", f"{row.place[:20]!r} is not a place in the order; write a whole number, 1 for the first rule")
        if not row.name:
            row.refuse("name", "give the rule a name that says what it is for, such as Enterprise accounts")
        if not row.team:
            row.refuse("team", "pick the team that gets the leads this rule matches")
        problems += len(row.errors)
        kept.append((place, row.index, row))
    origins, rules = [], []
    for _, _, row in sorted(kept, key=lambda item: item[:2]):
        conditions = [condition for condition in row.conditions if not condition.blank]
        rule: dict[str, Any] = {"name": row.name, "team": row.team, "strategy": row.strategy}
        if conditions:
            rule["when"] = [_condition(condition) for condition in conditions]
            problems += sum(1 for condition in conditions if condition.errors)
        rules.append(rule)
        origins.append((row, conditions))
    return Read(rules, origins, problems)


def _condition(row: ConditionRow) -> dict[str, Any]:
    """A condition row as the file holds it; a row the builder cannot read says why itself (its value is then left as typed,
    and the rule is not tried)."""
    if row.operator not in OPERATORS:
        row.errors.append(f"{row.operator[:20]!r} is not an operator; pick one from the list")
        row.wrong = "value"
        return {"field": row.field, "equals": row.value}
    value: Any = row.value
    if row.operator == "is_set":
        answer = row.value.lower()
        if answer not in ("yes", "no", "true", "false"):
            row.errors.append(f"write yes (the field is filled in) or no (it is empty), not {row.value[:20]!r}")
            row.wrong = "value"
        value = answer in ("yes", "true")
    else:
        listed = row.operator in LISTED
        items = _items(row.value) if listed or row.value.startswith('"') else [_scalar(row.value)]
        if items is None or (not listed and len(items) != 1):
            row.errors.append('a text in double quotes is not closed, or more follows it; write one in quotes as "Acme, Inc"'
                              if items is None else "takes one value; for a choice of values use is one of")
            row.wrong = "value"
            return {"field": row.field, row.operator: [row.value] if listed else row.value}
        value = items if listed and not (row.operator == "contains" and len(items) == 1) else items[0]
    return {"field": row.field, row.operator: value}


def _items(text: str) -> list[Any] | None:
    """Values separated by commas: one in double quotes is the text inside (a quote in it doubled), a bare one as
    _scalar reads it; None when a quote is left open or text follows a closing quote."""
    items: list[Any] = []
    at = 0
    while at < len(text):
        found = _ITEM.match(text, at)
        if found is None or found.end() == at:
            return None
        quoted, bare = found.group(1), found.group(2)
        if quoted is not None:
            items.append(quoted.replace('""', '"'))
        elif bare.strip():
            items.append(_scalar(bare.strip()))
        at = found.end()
    return items


def _scalar(text: str) -> Any:
    """A value as the file would read it when written bare: a whole or decimal number, true or false, else the text."""
    if _WHOLE.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text) and any(mark in text for mark in ".eE"):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def place_problems(read: Read, problems: list[dict[str, str]]) -> list[dict[str, str]]:
    """Put each problem next to the rule or condition its path names (a rule's own problem on a control the row already
    refused is left out: said once); the ones that name no row are returned."""
    left = []
    for problem in problems:
        found = _PATH.match(problem["field"])
        if found is None or int(found.group(1)) >= len(read.origins):
            left.append(problem)
            continue
        row, conditions = read.origins[int(found.group(1))]
        what = found.group(3) or ""
        if found.group(2) is not None and int(found.group(2)) < len(conditions):
            condition = conditions[int(found.group(2))]
            condition.errors.append(problem["message"])
            condition.wrong = condition.wrong or ("value" if what and what != "field" else "field")
        elif what in row.wrong:
            continue
        elif what:
            row.refuse(what, problem["message"])
        else:
            row.errors.append(problem["message"])
    return left
