"""Judging a lead against the lead definition."""

from __future__ import annotations

import pytest

from leadbaton.core import clock
from leadbaton.core.conditions import LEAD_FIELDS, ConditionError, condition_parse
from leadbaton.qualification.models import LeadDefinition
from leadbaton.qualification.scoring import DefinitionView, lead_judge
from leadbaton.qualification.services import definition_publish

DEFINITION = DefinitionView(
    version=3,
    name="B2B",
    required=["email", "company"],
    fit_rules=[
        {"field": "country", "in": ["DE", "AT", "CH"], "points": 20, "label": "DACH"},
        {"field": "company_size", "at_least": 50, "points": 30},
        {"field": "title", "contains": ["director", "head"], "points": 25},
        {"field": "product_interest", "is_set": True, "points": 15},
        {"field": "free_mail", "equals": True, "points": -40, "label": "Free mail"},
        {"field": "fields.budget", "is_set": True, "points": 10},
    ],
    threshold=60,
)
DIRECTOR = {"email": "d@n.example", "company": "Northwind", "country": "DE", "company_size": 200,
            "title": "Sales Director", "product_interest": "", "free_mail": False, "fields": {}}


def test_it_adds_the_points_of_every_rule_that_matches():
    verdict = lead_judge(DIRECTOR, DEFINITION)
    assert (verdict.score, verdict.sales_ready, verdict.version) == (75, True, 3)
    assert verdict.reasons == ["DACH: +20", "company_size at least 50: +30", "title contains ['director', 'head']: +25"]


def test_it_subtracts_negative_points():
    verdict = lead_judge({**DIRECTOR, "free_mail": True}, DEFINITION)
    assert (verdict.score, verdict.sales_ready) == (35, False)


def test_it_reads_custom_fields():
    assert lead_judge({**DIRECTOR, "fields": {"budget": "50k"}}, DEFINITION).score == 85


def test_it_holds_back_a_lead_missing_required_contact_data_whatever_its_score():
    verdict = lead_judge({**DIRECTOR, "company": ""}, DEFINITION)
    assert (verdict.score, verdict.sales_ready) == (75, False)
    assert verdict.reasons[-1] == "missing required company"


@pytest.mark.parametrize(
    ("condition", "facts", "expected"),
    [
        ({"field": "country", "equals": "de"}, {"country": "DE"}, True),
        ({"field": "country", "not_in": ["US"]}, {"country": "DE"}, True),
        ({"field": "country", "not_in": ["US"]}, {"country": ""}, True),
        ({"field": "company_size", "at_most": 10}, {"company_size": None}, False),
        ({"field": "company_size", "at_most": 10}, {"company_size": 10}, True),
        ({"field": "title", "contains": "VP"}, {"title": "vp sales"}, True),
        ({"field": "region", "is_set": False}, {"region": ""}, True),
    ],
)
def test_each_operator_compares_as_a_person_would(condition, facts, expected):
    assert condition_parse(condition, path="c", known_fields=LEAD_FIELDS).matches(facts) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "colour", "equals": "red"}, "c.field: 'colour' is not a lead field"),
        ({"field": "country", "in": []}, "c.in: must be a non-empty list"),
        ({"field": "country", "within": ["DE"]}, "c.within: is not an operator; use one of equals, in"),
        ({"field": "company_size", "at_least": "many"}, "c.at_least: must be a number, not 'many'"),
        ({"field": "country"}, "c: needs exactly one operator"),
    ],
)
def test_it_names_what_is_wrong_with_a_condition(condition, message):
    with pytest.raises(ConditionError) as error:
        condition_parse(condition, path="c", known_fields=LEAD_FIELDS)
    assert str(error.value).startswith(message)


def publish(threshold: int) -> tuple[LeadDefinition, bool]:
    return definition_publish(name="B2B", description="", required=["email"], fit_rules=[], threshold=threshold,
                              signed_off_by=["marketing", "sales"], now=clock.now())


def test_it_versions_the_definition_only_when_it_changes(db):
    first, created = publish(50)
    same, created_again = publish(50)
    changed, created_changed = publish(60)
    assert (created, created_again, created_changed) == (True, False, True)
    assert (first.version, same.version, changed.version) == (1, 1, 2)
    assert list(LeadDefinition.objects.filter(active=True).values_list("version", flat=True)) == [2]
