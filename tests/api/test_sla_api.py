"""The service-level policies through the API: read by staff, set by admins and a team's manager, every bad value named."""

from __future__ import annotations

from leadbaton.sla.models import SlaPolicy
from leadbaton.sla.services import policy_for
from tests.api.test_rep_api import as_user, sales  # noqa: F401  (a fixture)


def put(client, scope: str, body: dict):
    return client.put(f"/api/v1/sla/policies/{scope}", body, content_type="application/json")


def test_a_manager_sets_their_teams_policy_over_the_organisations(sales):  # noqa: F811
    assert put(as_user(sales.ada), "default", {"first_response_minutes": 10, "attempts": 4}).status_code == 200
    answer = put(as_user(sales.maria), "emea", {"first_response_minutes": 20})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["scope"], body["first_response_minutes"], body["attempts"], body["business_hours"]) == ("emea", 20, 4, True)
    assert policy_for(sales.emea.pk).first_response_minutes == 20
    assert policy_for(sales.amer.pk).first_response_minutes == 10  # the organisation's
    listed = as_user(sales.lena).get("/api/v1/sla/policies").json()
    assert [(policy["scope"], policy["first_response_minutes"]) for policy in listed] == [("default", 10), ("emea", 20)]


def test_a_manager_may_not_set_another_teams_or_the_organisations_policy(sales):  # noqa: F811
    other = put(as_user(sales.maria), "amer", {"first_response_minutes": 20})
    assert (other.status_code, other.json()["errors"][0]["message"]) == (403, "only an admin or the manager of Americas sets its service levels")
    assert put(as_user(sales.maria), "default", {}).status_code == 403
    assert not SlaPolicy.objects.exists()


def test_it_names_each_value_it_cannot_use(sales):  # noqa: F811
    admin = as_user(sales.ada)
    answer = put(admin, "default", {"first_response_minutes": 0, "attempts_within_days": 200000})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "first_response_minutes", "message": "0 is not a whole number of minutes from 1 to 100000"},
        {"field": "attempts_within_days", "message": "200000 is not a whole number of days from 1 to 100000"},
    ]
    wrong_type = put(admin, "default", {"attempts": "six"})
    assert wrong_type.status_code == 422
    assert [error["field"] for error in wrong_type.json()["errors"]] == ["attempts"]
    unknown = put(admin, "apac", {})
    assert (unknown.status_code, unknown.json()["errors"]) == (
        404, [{"field": "scope", "message": "'apac' is neither default nor the slug of an active team"}]
    )
    assert not SlaPolicy.objects.exists()
