"""The settings pages: a manager sets their reps' hours, caps, weight, team and time off, and deactivates a rep who
left; routing follows at once; every refused value is said next to its field with what was typed kept; another
team's reps are no reps; and the organisation file keeps what a page set unless it names it."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client

from leadbaton.accounts.models import RepProfile, Team, TimeOff, User
from leadbaton.core import clock
from leadbaton.leads.models import Handoff, Lead
from leadbaton.organisation.apply import organisation_apply
from leadbaton.organisation.file import orgfile_parse
from tests.api import test_rep_api
from tests.api.test_rep_api import lead_to
from tests.web.test_board import page_of, post_as

sales, morning = test_rep_api.sales, test_rep_api.morning

GOOD = {"team": "emea", "time_zone": "Europe/Berlin", "country": "DE", "hours": "mon-thu 08:00-12:00, 13:00-17:00\nfri 08:00-14:00",
        "weight": "2", "daily_cap": "6", "max_open": ""}


def post_and_follow(user: User, path: str, data: dict[str, str]) -> tuple[int, str]:
    """Post as `user` and read the page the answer sends them to, with what it says."""
    client = Client()
    client.force_login(user)
    answer = client.post(path, data, follow=True)
    return answer.status_code, answer.content.decode()


def field_error(page: str, field: str) -> str:
    """The error said next to a field (its element has the id id_FIELD_errors)."""
    return page.split(f'id="id_{field}_errors">', 1)[1].split("</", 1)[0]


def test_a_manager_sees_the_reps_of_their_teams_and_nobody_else_does(sales):
    status, page = page_of(sales.maria, "/settings/")
    assert status == 200
    assert "Lena Rep" in page
    assert "Jonas Berg" in page
    assert "Jordan Rep" not in page
    assert "mon-fri 08:00-18:00" in page  # the hours as the file writes them
    status, page = page_of(sales.ada, "/settings/")
    assert status == 200
    assert "Jordan Rep" in page
    assert "Lena Rep" in page
    for outsider in (sales.lena, sales.mark):
        status, page = page_of(outsider, "/settings/")
        assert status == 403, outsider
        assert "Settings are for managers (their teams) and admins." in page
        assert page_of(outsider, f"/settings/reps/{sales.lena.pk}/")[0] == 403


def test_the_manager_saves_a_reps_hours_weight_and_caps(sales):
    status, page = page_of(sales.maria, f"/settings/reps/{sales.lena.pk}/")
    assert status == 200
    assert 'value="emea" selected' in page
    status, page = post_and_follow(sales.maria, f"/settings/reps/{sales.lena.pk}/", GOOD)
    assert status == 200
    assert "Saved Lena Rep&#x27;s settings." in page
    profile = RepProfile.objects.get(user=sales.lena)
    assert profile.hours == {
        "mon": [["08:00", "12:00"], ["13:00", "17:00"]], "tue": [["08:00", "12:00"], ["13:00", "17:00"]],
        "wed": [["08:00", "12:00"], ["13:00", "17:00"]], "thu": [["08:00", "12:00"], ["13:00", "17:00"]], "fri": [["08:00", "14:00"]],
    }
    assert (profile.routing_weight, profile.daily_cap, profile.open_ceiling, profile.country) == (2, 6, None, "DE")
    assert "mon-thu 08:00-12:00, 13:00-17:00\nfri 08:00-14:00</textarea>" in page


def test_every_refused_value_is_said_next_to_its_field_and_nothing_is_saved(sales):
    before = RepProfile.objects.values().get(user=sales.lena)
    wrong = {**GOOD, "hours": "mon-fri 09:00-17:00\nmon-fry 9-17", "time_zone": "Europe/Berln", "country": "UK",
             "weight": "0", "daily_cap": "lots", "max_open": "-3"}
    status, page, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/", wrong)
    assert status == 400
    assert field_error(page, "hours").startswith("line 2: &quot;mon-fry 9-17&quot; is not DAYS HH:MM-HH:MM")
    assert "did you mean Europe/Berlin?" in field_error(page, "time_zone")
    assert "the United Kingdom is GB" in field_error(page, "country")
    assert field_error(page, "weight") == "0 is less than 1; write a routing weight from 1 to 1000 (2 gets twice the leads of 1)"
    assert field_error(page, "daily_cap").startswith("&quot;lots&quot; is not a whole number")
    assert "is not a whole number" in field_error(page, "max_open")
    assert 'value="Europe/Berln"' in page
    assert 'value="lots"' in page
    assert "mon-fry 9-17</textarea>" in page
    assert RepProfile.objects.values().get(user=sales.lena) == before


def test_empty_hours_and_weight_are_refused_not_read_as_none(sales):
    status, page, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/", {**GOOD, "hours": " \n ", "weight": ""})
    assert status == 400
    assert field_error(page, "hours").startswith("is required: the rep&#x27;s working hours")
    assert field_error(page, "weight").startswith("is required")


def test_another_teams_rep_is_no_rep_and_a_rep_moves_only_to_a_team_one_manages(sales):
    jordan = f"/settings/reps/{sales.jordan.pk}/"
    status, page = page_of(sales.maria, jordan)
    assert status == 404
    assert f"here is no rep {sales.jordan.pk} of a team you manage." in page
    for path, data in ((jordan, {**GOOD, "team": "amer"}), (f"{jordan}time-off/", {"from": "2026-12-01", "to": "2026-12-02"}),
                       (f"{jordan}deactivate/", {"reason": "left"}), (f"{jordan}activate/", {})):
        status, page, _ = post_as(sales.maria, path, data)
        assert status == 404, path
    assert User.objects.get(pk=sales.jordan.pk).is_active
    assert not TimeOff.objects.exists()
    status, page, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/", {**GOOD, "team": "amer"})
    assert status == 400
    assert field_error(page, "team") == "&#x27;amer&#x27; is not an active team you manage; use one of: emea"
    assert 'value="emea" selected' in page  # the rep's own team, not the first of the list, if saved again
    assert RepProfile.objects.get(user=sales.lena).team_id == sales.emea.pk
    status, _, _ = post_as(sales.ada, f"/settings/reps/{sales.lena.pk}/", {**GOOD, "team": "amer"})
    assert status == 302
    assert RepProfile.objects.get(user=sales.lena).team_id == sales.amer.pk


def test_a_lower_cap_and_time_off_take_effect_in_routing_at_once(intake, sales, morning):
    lead_to(intake, sales.lena, "first@example.com")  # round robin: Lena, then Jonas
    lead_to(intake, sales.jonas, "second@example.com")
    assert post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/", {**GOOD, "hours": "mon-fri 00:00-24:00", "daily_cap": "1"})[0] == 302
    lead_to(intake, sales.jonas, "third@example.com")  # Lena had her one lead today
    today = clock.now().date().isoformat()
    status, page = post_and_follow(sales.maria, f"/settings/reps/{sales.jonas.pk}/time-off/", {"from": today, "to": today, "reason": "dentist"})
    assert status == 200
    assert "dentist" in page
    assert "Time off added: 25 Nov 2026 to 25 Nov 2026 (1 day)." in page
    answer = intake.post({"email": "fourth@example.com"})
    assert answer.json()["stage"] == "queued"  # Lena is at her cap, Jonas is off today
    period = TimeOff.objects.get(rep__user=sales.jonas)
    assert post_as(sales.maria, f"/settings/reps/{sales.jonas.pk}/time-off/{period.pk}/remove/", {})[0] == 302
    assert not TimeOff.objects.exists()


def test_time_off_errors_name_their_field_and_keep_what_was_typed(sales):
    path = f"/settings/reps/{sales.lena.pk}/time-off/"
    status, page, _ = post_as(sales.maria, path, {"from": "2026-12-24", "to": "2026-12-20", "reason": "Holidays"})
    assert status == 400
    assert "To: 2026-12-20 is before from (2026-12-24); &#x27;to&#x27; is the last day off" in page
    assert 'value="2026-12-24"' in page
    assert 'value="Holidays"' in page
    status, page, _ = post_as(sales.maria, path, {"from": "24.12.2026", "to": ""})
    assert status == 400
    assert "From: &quot;24.12.2026&quot; is not a date; write YYYY-MM-DD such as 2026-12-24" in page
    assert "To: is required: a date such as 2026-12-24" in page
    assert not TimeOff.objects.exists()
    other = TimeOff.objects.create(rep=RepProfile.objects.get(user=sales.jordan), starts_on=clock.now().date(), ends_on=clock.now().date())
    status, page, _ = post_as(sales.maria, f"{path}{other.pk}/remove/", {})
    assert status == 404
    assert TimeOff.objects.filter(pk=other.pk).exists()


def test_deactivating_a_rep_who_left_returns_their_leads_and_needs_a_reason(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "lisa@example.com")
    path = f"/settings/reps/{sales.lena.pk}/"
    status, page, _ = post_as(sales.maria, f"{path}deactivate/", {"reason": "  "})
    assert status == 400
    assert "is required: say why" in field_error(page, "deactivate")
    assert User.objects.get(pk=sales.lena.pk).is_active
    status, page = post_and_follow(sales.maria, f"{path}deactivate/", {"reason": "left the company"})
    assert status == 200
    assert "1 open lead went back to the EMEA queue" in page
    assert "Activate Lena Rep" in page
    assert not User.objects.get(pk=sales.lena.pk).is_active
    lead = Lead.objects.get(pk=lead_id)
    assert (lead.owner_kind, lead.owner_team_id) == ("team", sales.emea.pk)
    handoff = Handoff.objects.filter(lead=lead).order_by("-pk").first()
    assert handoff.by_user_id == sales.maria.pk
    assert "left the company" in handoff.note
    assert post_as(sales.maria, f"{path}activate/", {})[0] == 302
    assert User.objects.get(pk=sales.lena.pk).is_active


def test_the_organisation_file_keeps_what_a_page_set_unless_it_names_it(sales, morning):
    rep = {"email": "lena@lumen.example", "name": "Lena Rep", "team": "emea", "hours": "mon-fri 09:00-17:00"}
    org = {"teams": [{"slug": "emea", "name": "EMEA", "time_zone": "Europe/Berlin", "default": True}], "reps": [rep]}

    def apply(document: dict) -> None:
        organisation_apply(organisation=orgfile_parse(yaml.safe_dump(document)), now=clock.now())

    apply(org)
    assert post_as(sales.ada, f"/settings/reps/{sales.lena.pk}/", {**GOOD, "hours": "mon-fri 10:00-18:00"})[0] == 302
    apply(org)  # names the hours, not the weight, the cap or the country
    profile = RepProfile.objects.get(user=sales.lena)
    assert profile.hours["mon"] == [["09:00", "17:00"]]
    assert (profile.routing_weight, profile.daily_cap, profile.country) == (2, 6, "DE")
    apply({**org, "reps": [{**rep, "weight": 3, "daily_cap": None}]})  # `daily_cap:` with no value: no cap
    profile = RepProfile.objects.get(user=sales.lena)
    assert (profile.routing_weight, profile.daily_cap, profile.country) == (3, None, "DE")
    _status, page = page_of(sales.ada, f"/settings/reps/{sales.lena.pk}/")
    assert 'id="managed"' in page


@pytest.mark.parametrize("hours", ["mon-fri 09:00-17:30", "mon,wed,fri 08:00-12:00, 13:00-17:00\nsat 10:00-14:00"])
def test_the_hours_shown_read_back_as_the_same_hours(sales, hours):
    assert post_as(sales.ada, f"/settings/reps/{sales.lena.pk}/", {**GOOD, "hours": hours})[0] == 302
    stored = RepProfile.objects.get(user=sales.lena).hours
    _, page = page_of(sales.ada, f"/settings/reps/{sales.lena.pk}/")
    shown = page.split('name="hours"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert post_as(sales.ada, f"/settings/reps/{sales.lena.pk}/", {**GOOD, "hours": shown})[0] == 302
    assert RepProfile.objects.get(user=sales.lena).hours == stored


def test_a_manager_changes_only_reps_whose_role_is_rep_and_never_their_own(sales):
    both = User.objects.create_user("mia@lumen.example", "pw", name="Mia Manager", role="manager")
    RepProfile.objects.create(user=both, team=sales.emea, time_zone="Europe/Berlin", hours={"mon": [["09:00", "17:00"]]})
    RepProfile.objects.create(user=sales.ada, team=sales.emea, time_zone="Europe/Berlin", hours={"mon": [["09:00", "17:00"]]})
    RepProfile.objects.create(user=sales.maria, team=sales.emea, time_zone="Europe/Berlin", hours={"mon": [["09:00", "17:00"]]})
    for target, said in ((sales.ada, "Ada Admin is admin as well as a rep; an admin changes their settings"),
                         (both, "Mia Manager is sales manager as well as a rep; an admin changes their settings"),
                         (sales.maria, "an admin changes your own settings as a rep, not you")):
        for action, data in (("deactivate/", {"reason": "bye"}), ("", GOOD), ("activate/", {})):
            status, page, _ = post_as(sales.maria, f"/settings/reps/{target.pk}/{action}", data)
            assert status == 403, (target, action)
            assert said[1:] in page
        assert User.objects.get(pk=target.pk).is_active
    status, _, _ = post_as(sales.ada, f"/settings/reps/{both.pk}/deactivate/", {"reason": "moved on"})
    assert status == 302


@pytest.mark.parametrize(("field", "typed", "said"), [
    ("weight", "9" * 5000, "is not a whole number"),
    ("weight", "1001", "1001 is more than 1000; write a routing weight from 1 to 1000"),
    ("daily_cap", "9999999999", "9999999999 is more than 100000"),
    ("max_open", "100001", "100001 is more than 100000"),
])
def test_numbers_past_what_any_team_needs_are_refused_not_stored(sales, field, typed, said):
    status, page, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/", {**GOOD, field: typed})
    assert status == 400
    assert said in field_error(page, field)


def test_text_with_a_nul_character_is_refused_by_name(sales):
    status, page, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/deactivate/", {"reason": "left\x00"})
    assert status == 400
    status, page, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/time-off/", {"from": "2026-12-24", "to": "2026-12-24",
                                                                                        "reason": "x\x00y"})
    assert status == 400
    assert "Reason: contains a NUL character" in page
    assert not TimeOff.objects.exists()


def test_time_off_that_has_passed_is_refused(sales, morning):
    status, page, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/time-off/", {"from": "2026-11-01", "to": "2026-11-24"})
    assert status == 400
    assert "To: 2026-11-24 has passed (it is 2026-11-25 for Lena Rep); time off is for today or days ahead" in page


def test_a_rep_of_a_team_switched_off_can_still_be_changed_by_its_manager(sales):
    Team.objects.filter(pk=sales.emea.pk).update(active=False, is_default=False)
    assert page_of(sales.maria, f"/settings/reps/{sales.lena.pk}/")[0] == 200
    status, _, _ = post_as(sales.ada, f"/settings/reps/{sales.lena.pk}/", {**GOOD, "weight": "3"})
    assert status == 302
    assert RepProfile.objects.get(user=sales.lena).routing_weight == 3


def test_a_reps_zone_follows_the_team_the_file_names_unless_it_was_set_for_them(sales, morning):
    teams = [{"slug": "emea", "name": "EMEA", "time_zone": "Europe/Berlin", "default": True},
             {"slug": "amer", "name": "Americas", "time_zone": "America/New_York"}]
    lena = {"email": "lena@lumen.example", "name": "Lena Rep", "team": "emea", "hours": "mon-fri 09:00-17:00"}
    jonas = {"email": "jonas@lumen.example", "name": "Jonas Berg", "team": "emea", "hours": "mon-fri 09:00-17:00"}

    def apply(document: dict) -> None:
        organisation_apply(organisation=orgfile_parse(yaml.safe_dump(document)), now=clock.now())

    apply({"teams": teams, "reps": [lena, jonas]})
    assert post_as(sales.ada, f"/settings/reps/{sales.jonas.pk}/", {**GOOD, "time_zone": "Europe/Lisbon"})[0] == 302
    apply({"teams": teams, "reps": [{**lena, "team": "amer"}, {**jonas, "team": "amer"}]})
    zones = dict(RepProfile.objects.values_list("user__email", "time_zone"))
    assert zones["lena@lumen.example"] == "America/New_York"  # she had the team's zone: she has her new team's
    assert zones["jonas@lumen.example"] == "Europe/Lisbon"  # set for him on his page: kept
    apply({"teams": [teams[0], {**teams[1], "time_zone": "America/Chicago"}], "reps": [{**lena, "team": "amer"}, {**jonas, "team": "amer"}]})
    assert RepProfile.objects.get(user=sales.lena).time_zone == "America/Chicago"
