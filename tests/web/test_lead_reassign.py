"""Reassigning from the lead page: a manager gives a lead to another rep or back to a queue with a reason, the new owner
finds it in their inbox, and a lead that changed hands meanwhile stays where it is; each refusal is said next to its field."""

from __future__ import annotations

from leadbaton.leads.models import Handoff, Lead
from tests.api import test_rep_api
from tests.api.test_rep_api import lead_to
from tests.web.test_board import page_of, post_as
from tests.web.test_settings import post_and_follow

sales, morning = test_rep_api.sales, test_rep_api.morning


def test_a_manager_reassigns_a_lead_and_the_new_owner_finds_it(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example", first_name="Dana", last_name="Scully")
    status, page = page_of(sales.maria, f"/leads/{lead_id}/")
    assert 'id="move-title"' in page
    choices = page.split('id="move-to"', 1)[1].split("</select>", 1)[0]
    assert f'value="rep:{sales.jonas.pk}"' in choices
    assert f'value="rep:{sales.lena.pk}"' not in choices  # not to whom has it
    assert f'value="rep:{sales.jordan.pk}"' not in choices  # another team's rep
    status, page = post_and_follow(sales.maria, f"/leads/{lead_id}/reassign/",
                                   {"to": f"rep:{sales.jonas.pk}", "reason": "Lena is on leave", "if_owner": f"rep:{sales.lena.pk}"})
    assert status == 200
    assert "Moved to Jonas Berg; the handoff records why." in page
    handoff = Handoff.objects.filter(lead_id=lead_id).order_by("-pk").first()
    assert (handoff.to_rep_id, handoff.by_user_id, handoff.note, handoff.reason) == (sales.jonas.pk, sales.maria.pk, "Lena is on leave", "reassigned")
    assert "Dana Scully" in page_of(sales.jonas, "/")[1]
    assert page_of(sales.lena, "/")[1].count("Dana Scully") == 0


def test_a_refused_move_is_said_next_to_its_field_and_a_lead_that_changed_hands_stays(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    path = f"/leads/{lead_id}/reassign/"
    status, page, _ = post_as(sales.maria, path, {"to": f"rep:{sales.jonas.pk}", "reason": " ", "if_owner": f"rep:{sales.lena.pk}"})
    assert status == 400
    assert page.split('id="move-reason-errors">', 1)[1].startswith("is required: say why the lead changes hands")
    assert f'value="rep:{sales.jonas.pk}" selected' in page
    status, page, _ = post_as(sales.maria, path, {"to": f"rep:{sales.jordan.pk}", "reason": "x", "if_owner": f"rep:{sales.lena.pk}"})
    assert status == 400
    assert page.split('id="move-to-errors">', 1)[1].startswith(f"user {sales.jordan.pk} is not an active rep of a team you manage")
    status, page, _ = post_as(sales.maria, path, {"to": "somebody", "reason": "x"})
    assert status == 400
    assert "choose a rep or a team&#x27;s queue from the list" in page
    status, page, _ = post_as(sales.maria, path, {"to": f"team:{sales.emea.pk}", "reason": "x", "if_owner": f"rep:{sales.jonas.pk}"})
    assert status == 409
    assert "the lead changed hands a moment ago: it is now with Lena Rep" in page
    assert Lead.objects.get(pk=lead_id).owner_rep_id == sales.lena.pk


def test_only_a_manager_of_its_team_or_an_admin_may_move_a_lead(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    assert 'id="move-title"' not in page_of(sales.lena, f"/leads/{lead_id}/")[1]
    status, _, _ = post_as(sales.lena, f"/leads/{lead_id}/reassign/", {"to": f"rep:{sales.jonas.pk}", "reason": "x"})
    assert status == 403
    assert post_as(sales.frank, f"/leads/{lead_id}/reassign/", {"to": f"rep:{sales.jordan.pk}", "reason": "x"})[0] == 404
    assert post_as(sales.ada, f"/leads/{lead_id}/reassign/", {"to": f"team:{sales.emea.pk}", "reason": "back to the queue"})[0] == 302
    assert Lead.objects.get(pk=lead_id).owner_kind == "team"


def test_a_reason_too_long_to_keep_is_refused_not_cut(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    status, page, _ = post_as(sales.maria, f"/leads/{lead_id}/reassign/", {"to": f"rep:{sales.jonas.pk}", "reason": "x" * 501})
    assert status == 400
    assert page.split('id="move-reason-errors">', 1)[1].startswith("is 501 characters long; at most 500 fit")


def test_a_board_move_to_a_number_that_is_not_one_is_refused(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    owner = Lead.objects.get(pk=lead_id).owner_key
    status, _, _ = post_as(sales.maria, "/teams/emea/move/", {"section": "found", "lead": f"{lead_id}@{owner}", "to": "rep:²", "reason": "x"})
    assert status == 400
