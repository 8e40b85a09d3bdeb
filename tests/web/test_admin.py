"""Django's admin: a rep deactivated there, or whose rep profile is deleted there, leaves no open lead behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from leadbaton.accounts.models import RepProfile, User
from leadbaton.leads.models import Handoff, Lead

MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday, 11:00 in Berlin: Alice is at work


@pytest.fixture
def morning() -> Iterator[None]:
    with time_machine.travel(MORNING, tick=False):
        yield


@pytest.fixture
def alice_leads(intake, org, morning) -> list[int]:
    """Two leads of Alice's, the only rep of EMEA, and one she already closed."""
    ids = [intake.post({"email": f"buyer{n}@northwind.example"}).json()["id"] for n in range(3)]
    assert set(Lead.objects.filter(pk__in=ids).values_list("owner_rep_id", flat=True)) == {org.alice.pk}
    Lead.objects.filter(pk=ids[2]).update(stage="purchased")
    return ids[:2]


def admin_client(org) -> Client:
    client = Client()
    client.force_login(org.admin)
    return client


def change_form(user: User, **changes: object) -> dict[str, object]:
    """What the user's change form posts back when saved, with `changes`; an unchecked box is left out."""
    data: dict[str, object] = {
        "email": user.email, "name": user.name, "role": user.role,
        "is_active": "on" if user.is_active else "", "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "", "managed": "on" if user.managed else "",
        "last_login_0": "", "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"), "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != "" or key.startswith("last_login")}


def assert_back_in_the_emea_queue(org, lead_ids: list[int], *, by: User | None, note: str) -> None:
    for lead in Lead.objects.filter(pk__in=lead_ids):
        assert (lead.stage, lead.owner_kind, lead.owner_team_id, lead.owner_rep_id) == ("queued", "team", org.emea.pk, None)
        last = Handoff.objects.filter(lead=lead).order_by("id").last()
        assert (last.reason, last.rule, last.from_rep_id, last.to_team_id) == ("returned", "rep deactivated", org.alice.pk, org.emea.pk)
        assert last.by_user_id == (by.pk if by else None)
        assert note in last.note


def test_a_rep_deactivated_in_the_admin_change_form_leaves_no_open_lead_behind(org, alice_leads):
    answer = admin_client(org).post(f"/admin/accounts/user/{org.alice.pk}/change/", change_form(org.alice, is_active=""))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert User.objects.get(pk=org.alice.pk).is_active is False
    assert_back_in_the_emea_queue(org, alice_leads, by=org.admin, note="Alice Rep was deactivated by Ada Admin")
    assert Lead.objects.filter(owner_rep=org.alice).count() == 1  # the closed one stays hers: she won it


def test_saving_an_inactive_user_again_changes_no_lead(org, alice_leads):
    client = admin_client(org)
    client.post(f"/admin/accounts/user/{org.alice.pk}/change/", change_form(org.alice, is_active=""))
    handoffs = Handoff.objects.count()
    alice = User.objects.get(pk=org.alice.pk)
    answer = client.post(f"/admin/accounts/user/{org.alice.pk}/change/", change_form(alice, name="Alice R."))
    assert answer.status_code == 302
    assert (User.objects.get(pk=org.alice.pk).name, Handoff.objects.count()) == ("Alice R.", handoffs)


def test_other_changes_in_the_admin_keep_the_reps_leads(org, alice_leads):
    answer = admin_client(org).post(f"/admin/accounts/user/{org.alice.pk}/change/", change_form(org.alice, name="Alice Example"))
    assert answer.status_code == 302
    assert list(Lead.objects.filter(pk__in=alice_leads).values_list("owner_rep_id", flat=True)) == [org.alice.pk] * 2


def test_the_admins_bulk_action_deactivates_and_returns_the_leads(org, alice_leads):
    answer = admin_client(org).post(
        "/admin/accounts/user/", {"action": "deactivate_selected", "_selected_action": [org.alice.pk, org.outsider.pk]}, follow=True
    )
    assert "Deactivated 1 user; 2 open leads went back to their team&#x27;s queue." in answer.content.decode()
    assert User.objects.get(pk=org.alice.pk).is_active is False
    assert_back_in_the_emea_queue(org, alice_leads, by=org.admin, note="Alice Rep was deactivated by Ada Admin")


def test_deleting_a_rep_profile_in_the_admin_returns_the_leads_to_its_team(org, alice_leads):
    profile = RepProfile.objects.get(user=org.alice)
    answer = admin_client(org).post(f"/admin/accounts/repprofile/{profile.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert not RepProfile.objects.filter(pk=profile.pk).exists()
    for lead in Lead.objects.filter(pk__in=alice_leads):
        assert (lead.stage, lead.owner_kind, lead.owner_team_id) == ("queued", "team", org.emea.pk)
        last = Handoff.objects.filter(lead=lead).order_by("id").last()
        assert (last.reason, last.rule, last.by_user_id) == ("returned", "rep profile deleted", org.admin.pk)
        assert "Alice Rep is no longer a rep (profile deleted by Ada Admin)" in last.note
    assert User.objects.get(pk=org.alice.pk).is_active is True  # still a user; only no longer a rep
