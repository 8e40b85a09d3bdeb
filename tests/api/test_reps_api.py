"""Pausing a rep by hand: a manager stops a rep getting new leads for a while, with a reason, and lets them again."""

from __future__ import annotations

from typing import Any

from django.test import Client

from leadbaton.accounts.models import RepProfile
from tests.api import test_rep_api
from tests.api.test_rep_api import as_user, errors, lead_to

# The EMEA and Americas teams, their people, and Wednesday morning in Berlin.
sales, morning = test_rep_api.sales, test_rep_api.morning


def pause(client: Client, rep_id: int, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1/reps/{rep_id}/pause", body if body is not None else {"reason": "training"}, content_type="application/json")


def resume(client: Client, rep_id: int) -> Any:
    return client.post(f"/api/v1/reps/{rep_id}/resume")


def test_a_manager_pauses_a_rep_who_then_gets_no_leads_until_resumed(intake, sales, morning):
    maria = as_user(sales.maria)

    answer = pause(maria, sales.lena.pk, {"reason": "  product   training "})

    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"id": sales.lena.pk, "name": "Lena Rep", "team": "emea", "paused": True, "pause_reason": "product training"}
    lead_to(intake, sales.jonas, "first@buyer.example")
    lead_to(intake, sales.jonas, "second@buyer.example")  # round robin would have come back to Lena
    routing = maria.get(f"/api/v1/leads/{lead_to(intake, sales.jonas, 'third@buyer.example')}/routing").json()
    assert {rep["name"]: rep["reasons"] for rep in routing["reps"]}["Lena Rep"] == ["paused (product training)"]

    answer = resume(maria, sales.lena.pk)

    assert answer.status_code == 200, answer.json()
    assert (answer.json()["paused"], answer.json()["pause_reason"]) == (False, "")
    lead_to(intake, sales.lena, "fourth@buyer.example")


def test_pausing_again_replaces_the_reason_and_resuming_a_rep_not_paused_changes_nothing(sales):
    ada = as_user(sales.ada)
    assert pause(ada, sales.jordan.pk, {"reason": "training"}).status_code == 200
    assert pause(ada, sales.jordan.pk, {"reason": "sick leave"}).json()["pause_reason"] == "sick leave"
    assert resume(ada, sales.jordan.pk).json()["paused"] is False
    assert resume(ada, sales.jordan.pk).json()["paused"] is False


def test_a_pause_needs_a_reason_that_fits(sales):
    maria = as_user(sales.maria)

    for body in ({}, {"reason": "   "}):
        answer = pause(maria, sales.lena.pk, body)
        assert answer.status_code == 422
        assert errors(answer) == [("reason", "is required: say why the rep takes no new leads, such as training or sick leave "
                                             "(their manager sees it)")]
    answer = pause(maria, sales.lena.pk, {"reason": "x" * 201})
    assert (answer.status_code, errors(answer)) == (422, [("reason", "is 201 characters long; at most 200 fit")])
    assert not RepProfile.objects.get(user=sales.lena).paused


def test_only_the_reps_manager_or_an_admin_may_pause_them(sales):
    answer = pause(as_user(sales.frank), sales.lena.pk)  # another team's rep: answered as no rep, naming nobody
    assert (answer.status_code, errors(answer)) == (404, [("rep_id", f"there is no rep {sales.lena.pk} of a team you manage")])
    answer = resume(as_user(sales.jonas), sales.lena.pk)
    assert (answer.status_code, errors(answer)) == (403, [("role", "only managers and admins pause and resume reps; you are sales rep")])
    answer = pause(as_user(sales.mark), 999999)
    assert answer.status_code == 403  # a role refused the endpoint learns nothing about ids
    answer = pause(as_user(sales.maria), 999999)
    assert (answer.status_code, errors(answer)) == (404, [("rep_id", "there is no rep 999999 of a team you manage")])
    answer = pause(as_user(sales.maria), sales.frank.pk)
    assert (answer.status_code, errors(answer)) == (404, [("rep_id", f"there is no rep {sales.frank.pk} of a team you manage")])
    answer = pause(as_user(sales.ada), 999999)
    assert (answer.status_code, errors(answer)) == (404, [("rep_id", "there is no rep 999999")])
    assert not RepProfile.objects.filter(paused=True).exists()
