"""A team's settings and the service levels: a manager names their team, its zone and overflow threshold and sets
its service levels (clocks started from then run to them); an admin also names the manager and the default team and
sets the organisation's service levels. Every refused value is said next to its field with what was typed kept."""

from __future__ import annotations

from datetime import timedelta

from leadbaton.accounts.models import Team
from leadbaton.core import clock
from leadbaton.sla.models import Deadline, SlaPolicy
from tests.api import test_rep_api
from tests.api.test_rep_api import lead_to
from tests.web.test_board import page_of, post_as
from tests.web.test_settings import GOOD, field_error, post_and_follow

sales, morning = test_rep_api.sales, test_rep_api.morning

EMEA = {"name": "Europe", "time_zone": "Europe/Paris", "overflow_nurture_below": "40"}
POLICY = {"first_response_minutes": "10", "remind_before_minutes": "3", "attempts": "5", "attempts_within_days": "7",
          "progress_every_days": "5", "business_hours": "on", "escalation_first_response": "remind at 50%\nreassign at breach",
          "escalation_attempts": "", "escalation_progress": "alert_manager at breach", "escalation_next_step": "remind at 80%"}


def test_a_manager_changes_their_team_but_not_who_manages_it(sales):
    status, page = post_and_follow(sales.maria, "/settings/teams/emea/", {**EMEA, "manager": "frank@lumen.example"})
    assert status == 200
    assert "Saved Europe." in page
    assert 'name="manager"' not in page  # an admin's choice
    team = Team.objects.get(slug="emea")
    assert (team.name, team.time_zone, team.overflow_nurture_below, team.manager_id) == ("Europe", "Europe/Paris", 40, sales.maria.pk)
    assert page_of(sales.maria, "/settings/teams/amer/")[0] == 404
    assert post_as(sales.maria, "/settings/teams/amer/", EMEA)[0] == 404
    for outsider in (sales.lena, sales.mark):
        assert page_of(outsider, "/settings/teams/emea/")[0] == 403


def test_an_admin_names_the_manager_and_the_default_team(sales):
    status, _, _ = post_as(sales.ada, "/settings/teams/amer/", {"name": "Americas", "time_zone": "America/New_York",
                                                              "manager": "maria@lumen.example", "default": "on"})
    assert status == 302
    amer, emea = Team.objects.get(slug="amer"), Team.objects.get(slug="emea")
    assert (amer.manager_id, amer.is_default, emea.is_default) == (sales.maria.pk, True, False)
    status, page, _ = post_as(sales.ada, "/settings/teams/amer/", {"name": "Americas", "time_zone": "America/New_York", "manager": ""})
    assert status == 400  # the default box not ticked on the default team
    assert field_error(page, "default").startswith("a default team takes the leads no routing rule matches")
    status, page, _ = post_as(sales.ada, "/settings/teams/amer/", {"name": "Americas", "time_zone": "America/New_York",
                                                                  "manager": "lena@lumen.example", "default": "on"})
    assert status == 400
    assert field_error(page, "manager").startswith("&#x27;lena@lumen.example&#x27; is not an active manager or admin; use one of:")


def test_every_refused_team_value_is_said_next_to_its_field_and_kept(sales):
    status, page, _ = post_as(sales.maria, "/settings/teams/emea/", {"name": " ", "time_zone": "Europe/Pariss", "overflow_nurture_below": "0"})
    assert status == 400
    assert field_error(page, "name").startswith("is required")
    assert "did you mean Europe/Paris?" in field_error(page, "time_zone")
    assert field_error(page, "overflow_nurture_below").startswith("0 is less than 1")
    assert 'value="Europe/Pariss"' in page
    assert Team.objects.get(slug="emea").name == "EMEA"


def test_a_manager_sets_their_teams_service_levels_and_new_clocks_follow(intake, sales, morning):
    status, page = post_and_follow(sales.maria, "/settings/service-levels/emea/", POLICY)
    assert status == 200
    assert "clocks started from now on run to the EMEA team&#x27;s service levels" in page
    policy = SlaPolicy.objects.get(team=sales.emea)
    assert (policy.first_response_minutes, policy.remind_before_minutes, policy.attempts, policy.business_days) == (10, 3, 5, False)
    assert policy.escalation["progress"] == [[1.0, "alert_manager"]]
    assert "remind at 50%\nreassign at breach</textarea>" in page
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    first = Deadline.objects.get(lead_id=lead_id, kind="first_response")
    assert first.breach_at - clock.now() == timedelta(minutes=10)


def test_every_refused_service_level_is_said_next_to_its_field(sales):
    wrong = {**POLICY, "first_response_minutes": "5", "remind_before_minutes": "9", "attempts": "lots",
             "escalation_first_response": "remind at breach\nshout at breach"}
    status, page, _ = post_as(sales.maria, "/settings/service-levels/emea/", wrong)
    assert status == 400
    assert "&#x27;lots&#x27; is not a whole number of touches from 1 to 100000" in field_error(page, "attempts")
    said = field_error(page, "escalation_first_response")
    assert "a reminder comes before the breach" in said
    assert "&#x27;shout at breach&#x27; is not a step" in said
    assert "shout at breach</textarea>" in page
    assert 'value="lots"' in page
    assert not SlaPolicy.objects.filter(team=sales.emea).exists()
    wrong = {**POLICY, "first_response_minutes": "5", "remind_before_minutes": "9"}
    status, page, _ = post_as(sales.maria, "/settings/service-levels/emea/", wrong)
    assert status == 400
    assert field_error(page, "remind_before_minutes") == "9 must be less than first_response_minutes (5); 0 sends no reminder"


def test_the_organisations_service_levels_are_an_admins(sales):
    assert page_of(sales.maria, "/settings/service-levels/default/")[0] == 403
    assert post_as(sales.maria, "/settings/service-levels/default/", POLICY)[0] == 403
    assert page_of(sales.maria, "/settings/service-levels/amer/")[0] == 404
    assert post_as(sales.ada, "/settings/service-levels/default/", POLICY)[0] == 302
    assert SlaPolicy.objects.get(team=None).first_response_minutes == 10


def test_the_organisation_file_keeps_a_teams_overflow_and_manager_set_on_its_page_unless_it_names_them(sales, morning):
    import yaml

    from leadbaton.organisation.apply import organisation_apply
    from leadbaton.organisation.file import orgfile_parse

    team = {"slug": "emea", "name": "EMEA", "time_zone": "Europe/Berlin", "default": True}
    users = [{"email": "maria@lumen.example", "name": "Maria Manager", "role": "manager"}]

    def apply(document: dict) -> None:
        organisation_apply(organisation=orgfile_parse(yaml.safe_dump(document)), now=clock.now())

    apply({"users": users, "teams": [{**team, "manager": "maria@lumen.example"}]})
    assert post_as(sales.ada, "/settings/teams/emea/", {**EMEA, "manager": "frank@lumen.example", "default": "on"})[0] == 302
    apply({"users": users, "teams": [team]})  # names neither the manager nor the overflow threshold
    emea = Team.objects.get(slug="emea")
    assert (emea.name, emea.time_zone, emea.overflow_nurture_below, emea.manager_id) == ("EMEA", "Europe/Berlin", 40, sales.frank.pk)
    apply({"users": users, "teams": [{**team, "manager": "maria@lumen.example", "overflow_nurture_below": 55}]})
    emea.refresh_from_db()
    assert (emea.overflow_nurture_below, emea.manager_id) == (55, sales.maria.pk)
    # The team's service levels set on its page stay until the file writes the team's sla:
    assert post_as(sales.ada, "/settings/service-levels/emea/", POLICY)[0] == 302
    apply({"users": users, "teams": [team]})
    assert SlaPolicy.objects.get(team=emea, active=True).first_response_minutes == 10
    apply({"users": users, "teams": [{**team, "sla": {"first_response_minutes": 15}}]})
    assert SlaPolicy.objects.get(team=emea, active=True).first_response_minutes == 15
    apply({"users": users, "teams": [team]})  # the file's own team policy, no longer written: the organisation's again
    assert not SlaPolicy.objects.filter(team=emea, active=True).exists()


def test_an_admin_adds_a_team_and_each_refused_value_is_said_next_to_its_field(sales):
    status, page = post_and_follow(sales.ada, "/settings/", {"name": "APAC", "slug": "apac", "time_zone": "Asia/Singapore",
                                                              "manager": "frank@lumen.example"})
    assert status == 200
    assert "APAC is added. Send it leads with a routing rule, or make it the default team." in page
    apac = Team.objects.get(slug="apac")
    assert (apac.name, apac.time_zone, apac.manager_id, apac.is_default, apac.managed) == ("APAC", "Asia/Singapore", sales.frank.pk, False, False)
    status, page, _ = post_as(sales.ada, "/settings/", {"name": "", "slug": "apac", "time_zone": "Asia/Singapur", "manager": ""})
    assert status == 400
    assert field_error(page, "name").startswith("is required")
    assert field_error(page, "slug").startswith("&#x27;apac&#x27; is the slug of a team already")
    assert "did you mean Asia/Singapore?" in field_error(page, "time_zone")
    assert 'value="Asia/Singapur"' in page
    assert post_as(sales.maria, "/settings/", {"name": "X", "slug": "x", "time_zone": "UTC"})[0] == 403
    assert not Team.objects.filter(slug="x").exists()


def test_an_admin_of_an_organisation_without_teams_opens_the_settings_to_add_the_first(db):
    from leadbaton.accounts.models import User

    ada = User.objects.create_superuser("ada@lumen.example", "pw", name="Ada Admin")
    status, page = page_of(ada, "/settings/")
    assert status == 200
    assert "Add a team" in page


def test_steps_that_are_not_plain_percentages_too_many_or_twice_are_refused_by_field(sales):
    for steps, said in (("remind at ²%", "&#x27;remind at ²%&#x27; is not a step"),
                        ("\n".join(f"remind at {n}%" for n in range(10, 65, 5)), "has 11 steps; at most 10 fit"),
                        ("remind at 50%\nremind at 50%", "&#x27;remind at 50%&#x27; is written twice")):
        status, page, _ = post_as(sales.maria, "/settings/service-levels/emea/", {**POLICY, "escalation_first_response": steps})
        assert status == 400, steps
        assert said in field_error(page, "escalation_first_response")
    assert not SlaPolicy.objects.filter(team=sales.emea).exists()


def test_a_switched_off_team_is_never_the_default_and_has_no_service_levels_to_set(sales):
    Team.objects.filter(pk=sales.amer.pk).update(active=False)
    status, page, _ = post_as(sales.ada, "/settings/teams/amer/", {"name": "Americas", "time_zone": "America/New_York", "default": "on"})
    assert status == 400
    assert field_error(page, "default").startswith("Americas is switched off")
    assert 'name="default" checked' in page  # what was ticked stays ticked
    assert Team.objects.get(slug="emea").is_default
    assert page_of(sales.ada, "/settings/service-levels/amer/")[0] == 404


def test_the_organisation_file_writes_only_the_service_levels_it_names(sales, morning):
    import yaml

    from leadbaton.organisation.apply import organisation_apply
    from leadbaton.organisation.file import orgfile_parse

    def apply(document: dict) -> None:
        organisation_apply(organisation=orgfile_parse(yaml.safe_dump(document)), now=clock.now())

    team = {"slug": "emea", "name": "EMEA", "time_zone": "Europe/Berlin", "default": True, "sla": {"first_response_minutes": 15}}
    apply({"sla": {"first_response_minutes": 5}, "teams": [team]})
    assert post_as(sales.ada, "/settings/service-levels/default/", {**POLICY, "first_response_minutes": "5", "attempts": "3"})[0] == 302
    assert post_as(sales.ada, "/settings/service-levels/emea/", {**POLICY, "first_response_minutes": "15", "attempts": "2"})[0] == 302
    apply({"sla": {"first_response_minutes": 5}, "teams": [team]})
    assert SlaPolicy.objects.get(team=None).attempts == 3
    assert (SlaPolicy.objects.get(team=sales.emea).attempts, SlaPolicy.objects.get(team=sales.emea).first_response_minutes) == (2, 15)


def test_an_admin_switches_a_team_off_only_once_nothing_depends_on_it_and_on_again(intake, sales, morning):
    from leadbaton.routing.models import RoutingRule

    american = lead_to(intake, sales.jordan, "dana@northwind.example", country="US")  # the americas rule: Jordan's
    status, page, _ = post_as(sales.ada, "/settings/teams/amer/switch/", {})
    assert status == 400
    said = page.split('id="switch-errors"', 1)[1].split("</ul>", 1)[0]
    assert "1 active rep sells for it (Jordan Rep); move them to another team" in said
    assert "1 open lead of reps still belongs to it (a breach or a return sends them back to its queue)" in said
    assert "the routing rule americas sends it leads; change the routing rules first" in said
    assert Team.objects.get(slug="amer").active
    status, page, _ = post_as(sales.ada, "/settings/teams/emea/switch/", {})
    assert status == 400
    assert "it is the default team" in page.split('id="switch-errors"', 1)[1].split("</ul>", 1)[0]

    # What the refusal says to do, done through the pages: the rule gone, Jordan to EMEA, their lead moved from the board.
    assert post_as(sales.ada, "/settings/routing/", {"action": "save", "rules": "[]"})[0] == 302
    assert not RoutingRule.objects.filter(active=True, team=sales.amer).exists()
    assert post_as(sales.ada, f"/settings/reps/{sales.jordan.pk}/", {**GOOD, "team": "emea"})[0] == 302
    status, page, _ = post_as(sales.ada, "/settings/teams/amer/switch/", {})
    assert status == 400  # the lead Jordan took along still belongs to the Americas
    assert "1 open lead of reps still belongs to it" in page
    status, _, _ = post_as(sales.ada, "/teams/amer/move/", {"section": "found", "lead": f"{american}@rep:{sales.jordan.pk}",
                                                            "to": f"rep:{sales.lena.pk}", "reason": "the Americas close"})
    assert status in (200, 302)
    assert post_as(sales.frank, "/settings/teams/amer/switch/", {})[0] == 403  # its manager may not
    status, page = post_and_follow(sales.ada, "/settings/teams/amer/switch/", {})
    assert status == 200
    assert "Americas is switched off" in page
    assert "Switch Americas on" in page
    assert not Team.objects.get(slug="amer").active
    assert '<a href="/settings/teams/amer/">Americas</a>' in page_of(sales.ada, "/settings/")[1]  # found again under switched-off teams
    status, page, _ = post_as(sales.ada, "/settings/people/", {"email": "new@lumen.example", "name": "New Rep", "role": "rep", "team": "amer"})
    assert status == 400
    assert field_error(page, "team").startswith("&#x27;amer&#x27; is not an active team")
    status, page = post_and_follow(sales.ada, "/settings/teams/amer/switch/", {"on": "yes"})
    assert "Americas is switched on" in page
    assert Team.objects.get(slug="amer").active


def test_a_rep_of_a_switched_off_team_is_not_switched_on_again_there(sales):
    status, _ = post_and_follow(sales.ada, f"/settings/reps/{sales.jordan.pk}/deactivate/", {"reason": "left"})
    assert status == 200
    Team.objects.filter(pk=sales.amer.pk).update(active=False)  # as the file leaves a team out (accounts.teams_deactivate)
    status, page, _ = post_as(sales.ada, f"/settings/reps/{sales.jordan.pk}/activate/", {})
    assert status == 400
    assert "Americas is switched off: move Jordan Rep to an active team first" in page
    status, page, _ = post_as(sales.ada, f"/settings/people/{sales.jordan.pk}/activate/", {})
    assert status == 400
    assert "Jordan Rep sells for Americas, which is switched off" in page
    assert not type(sales.jordan).objects.get(pk=sales.jordan.pk).is_active


def test_a_team_goes_back_to_the_organisations_service_levels_on_its_page_and_through_the_api(intake, sales, morning):
    from tests.api.test_rep_api import as_user

    assert post_as(sales.maria, "/settings/service-levels/emea/", POLICY)[0] == 302
    status, page = post_and_follow(sales.maria, "/settings/service-levels/emea/drop/", {})
    assert status == 200
    assert "EMEA follows the organisation&#x27;s service levels" in page
    assert "The team follows the organisation's; saving gives it its own." in page
    assert not SlaPolicy.objects.filter(team=sales.emea, active=True).exists()
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    first = Deadline.objects.get(lead_id=lead_id, kind="first_response")
    assert first.breach_at - clock.now() == timedelta(minutes=5)  # the organisation's (the product's) five minutes

    assert post_as(sales.maria, "/settings/service-levels/emea/", POLICY)[0] == 302
    answer = as_user(sales.maria).delete("/api/v1/sla/policies/emea")
    assert answer.status_code == 200
    assert answer.json()["scope"] == "default"
    assert not SlaPolicy.objects.filter(team=sales.emea, active=True).exists()
    answer = as_user(sales.maria).delete("/api/v1/sla/policies/amer")
    assert answer.status_code == 403  # Frank's team
    answer = as_user(sales.ada).delete("/api/v1/sla/policies/default")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "scope"
    assert post_as(sales.maria, "/settings/service-levels/amer/drop/", {})[0] == 404
