"""Conditions on a lead's fields, shared by the lead definition and routing rules.

A condition is written as a mapping with a field and exactly one operator:

    {"field": "country", "in": ["US", "CA"]}
    {"field": "company_size", "at_least": 50}
    {"field": "title", "contains": ["director", "vp"]}
    {"field": "fields.budget", "is_set": true}

Text compares without regard to case. A number operator on a missing or
non-numeric value does not match. `fields.NAME` reads a custom field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The facts about a lead that a condition can test.
LEAD_FIELDS = frozenset(
    {
        "email", "phone", "first_name", "last_name", "company", "title", "company_size", "country",
        "region", "city", "message", "product_interest", "campaign", "utm_source", "utm_medium",
        "utm_campaign", "source", "company_domain", "free_mail", "consent_marketing", "score",
    }
)
OPERATORS = ("equals", "in", "not_in", "at_least", "at_most", "contains", "is_set")


class ConditionError(ValueError):
    """A condition that cannot be evaluated; `path` says where it was written."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: Any

    def describe(self) -> str:
        return f"{self.field} {self.operator.replace('_', ' ')} {self.value!r}"

    def matches(self, facts: Mapping[str, Any]) -> bool:
        actual = fact_get(facts, self.field)
        if self.operator == "is_set":
            return _is_set(actual) == bool(self.value)
        if self.operator in ("at_least", "at_most"):
            number = _number(actual)
            if number is None:
                return False
            return number >= self.value if self.operator == "at_least" else number <= self.value
        if not _is_set(actual):
            return self.operator == "not_in"
        text = _text(actual)
        if self.operator == "equals":
            return text == _text(self.value)
        if self.operator == "in":
            return text in {_text(item) for item in self.value}
        if self.operator == "not_in":
            return text not in {_text(item) for item in self.value}
        # contains: any of the words appears in the value
        words = self.value if isinstance(self.value, list) else [self.value]
        return any(_text(word) in text for word in words)


def fact_get(facts: Mapping[str, Any], field: str) -> Any:
    if field.startswith("fields."):
        custom = facts.get("fields") or {}
        return custom.get(field.removeprefix("fields.")) if isinstance(custom, Mapping) else None
    return facts.get(field)


def condition_parse(raw: Any, *, path: str, known_fields: frozenset[str], extra_keys: frozenset[str] = frozenset()) -> Condition:
    """Read one condition as written in configuration; raise ConditionError naming `path` if it is wrong."""
    if not isinstance(raw, Mapping):
        raise ConditionError(path, f"must be a mapping like {{field: country, in: [US, CA]}}, not {raw!r}")
    field = raw.get("field")
    if not isinstance(field, str) or not field:
        raise ConditionError(f"{path}.field", "is required: the lead field to test")
    if field not in known_fields and not (field.startswith("fields.") and len(field) > len("fields.")):
        raise ConditionError(
            f"{path}.field", f"{field!r} is not a lead field; use one of {', '.join(sorted(known_fields))} or fields.NAME"
        )
    operators = [key for key in raw if key in OPERATORS]
    unknown = [key for key in raw if key not in OPERATORS and key != "field" and key not in extra_keys]
    if unknown:
        raise ConditionError(f"{path}.{unknown[0]}", f"is not an operator; use one of {', '.join(OPERATORS)}")
    if len(operators) != 1:
        raise ConditionError(path, f"needs exactly one operator out of {', '.join(OPERATORS)}")
    operator = operators[0]
    value = raw[operator]
    where = f"{path}.{operator}"
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ConditionError(where, f"must be a non-empty list, not {_shown(value)}")
    elif operator in ("at_least", "at_most"):
        if isinstance(value, bool) or not isinstance(value, int | float):  # an int is finite however long; math.isfinite would overflow
            raise ConditionError(where, f"must be a number, not {_shown(value)}")
    elif operator == "is_set":
        if not isinstance(value, bool):
            raise ConditionError(where, f"must be true or false, not {_shown(value)}")
    elif operator == "contains":
        words = value if isinstance(value, list) else [value]
        if not words or not all(isinstance(word, str) and word for word in words):
            raise ConditionError(where, f"must be a word or a list of words, not {_shown(value)}")
    elif operator == "equals" and isinstance(value, list | dict):
        raise ConditionError(where, f"must be a single value, not {_shown(value)}; use 'in' for a list")
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, float) and not math.isfinite(item):  # infinity or not-a-number: no field holds one, JSON stores neither
            raise ConditionError(where, f"must be a finite number, not {_shown(item)}")
    return Condition(field=field, operator=operator, value=value)


def _shown(value: Any) -> str:
    """A value in a message, cut short: a message never grows with what was sent."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:80]}…"


def condition_as_dict(condition: Condition) -> dict[str, Any]:
    return {"field": condition.field, condition.operator: condition.value}


def _is_set(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _text(value: Any) -> str:
    return str(value).strip().casefold()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None
