"""The people page: an admin adds someone (a real email with the link that sets their first password, and they sign in
with it), changes a name or role (a rep who is no longer one gives their leads back), and switches an account off and on;
every refused value is said next to its field; nobody but an admin may; an admin cannot lock themselves out."""

from __future__ import annotations

import time_machine

from leadbaton.accounts.models import RepProfile, User
from leadbaton.leads.models import Lead
from tests.api import test_rep_api
from tests.api.test_rep_api import lead_to
from tests.web import test_accounts
from tests.web.test_accounts import NOON, deliver, reset_link, set_password, sign_in
from tests.web.test_board import page_of, post_as
from tests.web.test_settings import field_error, post_and_follow

sales, morning, mailbox = test_rep_api.sales, test_rep_api.morning, test_accounts.mailbox


def test_an_admin_adds_a_rep_who_sets_their_password_from_the_email_and_signs_in(sales, mailbox):
    with time_machine.travel(NOON, tick=True):
        status, page = post_and_follow(sales.ada, "/settings/people/", {"email": "Nina@Lumen.example", "name": "Nina Neu", "role": "rep",
                                                                       "team": "emea"})
        assert status == 200
        assert "Nina Neu is added as sales rep: an email with the link that sets their password is on its way." in page
        nina = User.objects.get(email="nina@lumen.example")
        profile = RepProfile.objects.get(user=nina)
        assert (profile.team_id, profile.time_zone, profile.hours["mon"]) == (sales.emea.pk, "Europe/Berlin", [["09:00", "17:00"]])
        assert deliver() >= 1
        [message] = mailbox.wait_for(1)
        assert (message["To"], message["Subject"]) == ("nina@lumen.example", "Your LeadBaton account")
        assert "Ada Admin made a LeadBaton account for you" in message.as_string()
        answer = set_password(reset_link(message), "a long new passphrase")
        assert answer.status_code == 302
    assert sign_in("nina@lumen.example", "a long new passphrase")[0] == 302


def test_every_refused_value_is_said_next_to_its_field_and_kept(sales):
    status, page, _ = post_as(sales.ada, "/settings/people/", {"email": "nina at lumen", "name": " ", "role": "boss", "team": ""})
    assert status == 400
    assert field_error(page, "email").startswith("&quot;nina at lumen&quot; is not an email address")
    assert field_error(page, "name").startswith("is required")
    assert field_error(page, "role").startswith("&quot;boss&quot; is not one of admin, marketing, manager, rep")
    assert 'value="nina at lumen"' in page
    status, page, _ = post_as(sales.ada, "/settings/people/", {"email": "LENA@lumen.example", "name": "Lena", "role": "rep", "team": ""})
    assert status == 400
    assert "already has an account" in field_error(page, "email")
    assert field_error(page, "team") == "is required for a rep: the team they sell for"
    assert User.objects.count() == 7


def test_a_rep_made_marketing_gives_their_leads_back_and_marketing_made_a_rep_needs_a_team(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    status, _, _ = post_as(sales.ada, f"/settings/people/{sales.lena.pk}/", {"name": "Lena Rep", "role": "marketing", "team": ""})
    assert status == 302
    assert not RepProfile.objects.filter(user=sales.lena).exists()
    assert Lead.objects.get(pk=lead_id).owner_kind == "team"
    status, page, _ = post_as(sales.ada, f"/settings/people/{sales.mark.pk}/", {"name": "Mark", "role": "rep", "team": ""})
    assert status == 400
    assert field_error(page, "team") == "is required to make someone a rep: the team they sell for"
    assert User.objects.get(pk=sales.mark.pk).role == "marketing"  # nothing half-done
    assert post_as(sales.ada, f"/settings/people/{sales.mark.pk}/", {"name": "Mark", "role": "rep", "team": "amer"})[0] == 302
    assert RepProfile.objects.get(user=sales.mark).team_id == sales.amer.pk


def test_switching_an_account_off_and_on_and_never_ones_own(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    path = f"/settings/people/{sales.lena.pk}/"
    status, page, _ = post_as(sales.ada, f"{path}deactivate/", {"reason": ""})
    assert status == 400
    assert "is required: say why" in field_error(page, "reason")
    status, page = post_and_follow(sales.ada, f"{path}deactivate/", {"reason": "left the company"})
    assert "Lena Rep can no longer sign in. 1 open lead went back to the team&#x27;s queue." in page
    assert Lead.objects.get(pk=lead_id).owner_kind == "team"
    assert post_as(sales.ada, f"{path}activate/", {})[0] == 302
    assert User.objects.get(pk=sales.lena.pk).is_active
    own = f"/settings/people/{sales.ada.pk}/"
    assert post_as(sales.ada, f"{own}deactivate/", {"reason": "oops"})[0] == 403
    assert post_as(sales.ada, own, {"name": "Ada", "role": "marketing"})[0] == 403
    assert User.objects.get(pk=sales.ada.pk).is_active


def test_only_admins_see_or_change_people(sales):
    for user in (sales.maria, sales.lena, sales.mark):
        assert page_of(user, "/settings/people/")[0] == 403
        assert page_of(user, f"/settings/people/{sales.jonas.pk}/")[0] == 403
        assert post_as(user, "/settings/people/", {"email": "x@lumen.example", "name": "X", "role": "admin"})[0] == 403
        assert post_as(user, f"/settings/people/{sales.jonas.pk}/deactivate/", {"reason": "x"})[0] == 403
    assert not User.objects.filter(email="x@lumen.example").exists()
    assert User.objects.get(pk=sales.jonas.pk).is_active


def test_a_manager_of_a_team_is_not_demoted_until_the_team_has_another_and_a_rep_moves_team_here(sales):
    status, page, _ = post_as(sales.ada, f"/settings/people/{sales.maria.pk}/", {"name": "Maria Manager", "role": "marketing"})
    assert status == 400
    assert field_error(page, "role") == "Maria Manager manages EMEA: choose its new manager on its team settings first"
    assert User.objects.get(pk=sales.maria.pk).role == "manager"
    assert post_as(sales.ada, f"/settings/people/{sales.lena.pk}/", {"name": "Lena Rep", "role": "rep", "team": "amer"})[0] == 302
    assert RepProfile.objects.get(user=sales.lena).team_id == sales.amer.pk


def test_a_name_is_kept_on_one_line(sales):
    assert post_as(sales.ada, f"/settings/people/{sales.mark.pk}/", {"name": "Mark\r\nBcc: evil@example.com", "role": "marketing"})[0] == 302
    assert User.objects.get(pk=sales.mark.pk).name == "Mark Bcc: evil@example.com"


def test_an_admin_demoted_a_moment_ago_changes_nobody(sales):
    import pytest

    from leadbaton.core import clock
    from leadbaton.core.refusals import NotAllowed
    from leadbaton.pipeline.people import person_switch_off

    stale = User.objects.get(pk=sales.ada.pk)  # as the request read them
    User.objects.filter(pk=sales.ada.pk).update(is_superuser=False, role="marketing")  # another admin, meanwhile
    with pytest.raises(NotAllowed):
        person_switch_off(by=stale, user_id=sales.lena.pk, why="x", now=clock.now())
    assert User.objects.get(pk=sales.lena.pk).is_active


def test_an_admin_finds_people_by_name_email_and_role(sales):
    def listed(path: str) -> list[str]:
        status, page = page_of(sales.ada, path)
        assert status == 200
        return [row.split("</a>", 1)[0].rsplit(">", 1)[1] for row in page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
                if "/settings/people/" in row]

    assert {"Lena Rep", "Jonas Berg", "Maria Manager", "Ada Admin"} <= set(listed("/settings/people/"))
    assert listed("/settings/people/?q=lena") == ["Lena Rep"]
    assert listed("/settings/people/?q=MARIA%40lumen") == ["Maria Manager"]  # the email, case folded
    assert listed("/settings/people/?q=rep+jordan") == ["Jordan Rep"]  # every word
    assert listed("/settings/people/?role=manager") == ["Frank Manager", "Maria Manager"]
    assert listed("/settings/people/?q=zzz") == []
    assert "Nobody matches." in page_of(sales.ada, "/settings/people/?q=zzz")[1]
    status, page = page_of(sales.ada, "/settings/people/?role=boss")
    assert status == 400
    assert "&#x27;boss&#x27; is not a role; use one of" in page
    assert "Lena Rep" in page  # everyone listed still
    assert page_of(sales.maria, "/settings/people/?q=lena")[0] == 403
