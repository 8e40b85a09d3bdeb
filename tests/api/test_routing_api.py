"""Routing through the API: the ordered rules replaced at once, and why a lead is where it is."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadbaton.accounts.models import RepProfile, Role, User
from leadbaton.accounts.services import token_issue
from leadbaton.core import clock
from leadbaton.leads import services as leads
from leadbaton.leads.models import Lead, Owner, Stage
from leadbaton.organisation.apply import organisation_apply
from leadbaton.organisation.file import orgfile_parse
from leadbaton.routing.models import RoutingRule

ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def staff_client(user) -> Client:
    token = token_issue(user=user, name="tests", now=clock.now()).plaintext
    return Client(headers={"Authorization": f"Bearer {token}"})


def put_rules(client: Client, rules: list[dict]) -> object:
    return client.put("/api/v1/routing/rules", {"rules": rules}, content_type="application/json")


def rep(team, name: str, **profile) -> User:
    user = User.objects.create_user(f"{name.lower()}@example.com", "pw", name=name, role=Role.REP)
    RepProfile.objects.create(user=user, team=team, time_zone=profile.pop("time_zone", "Europe/Berlin"), hours=profile.pop("hours", ALL_DAY), **profile)
    return user


def test_put_replaces_the_rules_in_order_and_the_next_lead_follows_them(org, intake):
    RoutingRule.objects.create(position=0, name="Everything to EMEA", conditions=[], team=org.emea)
    manager = staff_client(org.manager)

    answer = put_rules(manager, [
        {"name": "North America", "when": [{"field": "country", "in": ["US", "CA"]}], "team": "amer", "strategy": "weighted"},
        {"name": "Everyone else", "team": "emea"},
    ])

    assert answer.status_code == 200, answer.json()
    assert answer.json()["rules"] == [
        {"name": "North America", "when": [{"field": "country", "in": ["US", "CA"]}], "team": "amer", "strategy": "weighted",
         "position": 0, "managed": False},
        {"name": "Everyone else", "when": [], "team": "emea", "strategy": "round_robin", "position": 1, "managed": False},
    ]
    assert manager.get("/api/v1/routing/rules").json() == answer.json()
    assert not RoutingRule.objects.get(name="Everything to EMEA").active  # switched off, not deleted
    lead = intake.post({"email": "raj@contoso.example", "country": "United States"}).json()
    assert lead["owner"] == {"kind": "rep", "id": org.bob.pk, "name": "Bob Rep"}  # 15:00 in New York: Bob is at work


def test_put_names_the_path_of_every_problem_and_changes_nothing(org):
    RoutingRule.objects.create(position=0, name="Everything to EMEA", conditions=[], team=org.emea)

    answer = put_rules(staff_client(org.admin), [
        {"name": "Partners", "team": "apac"},
        {"name": "Nordics", "when": [{"field": "country", "in": []}], "team": "emea"},
        {"name": "Partners", "team": "emea", "strategy": "fastest"},
        {"name": "Big", "when": [{"field": "headcount", "at_least": 500}], "team": "amer"},
    ])

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "rules[0].team", "message": "'apac' is not an active team; use the slug of one of: amer, emea"},
        {"field": "rules[1].when[0].in", "message": "must be a non-empty list, not []"},
        {"field": "rules[2].name", "message": "'Partners' is already used by rules[0]; each name must be unique"},
        {"field": "rules[2].strategy", "message": "'fastest' is not one of round_robin, weighted, least_loaded, account_owner"},
        {"field": "rules[3].when[0].field", "message": answer.json()["errors"][4]["message"]},
    ]
    assert answer.json()["errors"][4]["message"].startswith("'headcount' is not a lead field; use one of campaign, city,")
    assert list(RoutingRule.objects.values_list("name", "active")) == [("Everything to EMEA", True)]


def test_rules_written_through_the_api_are_left_alone_by_the_organisation_file(org):
    file = yaml.safe_dump({"routing": [{"name": "Americas", "when": [{"field": "country", "in": ["US"]}], "team": "amer"},
                                       {"name": "Rest", "team": "emea"}],
                           "teams": [{"slug": "emea", "name": "EMEA", "time_zone": "Europe/Berlin", "default": True},
                                     {"slug": "amer", "name": "Americas", "time_zone": "America/New_York"}]})
    organisation_apply(organisation=orgfile_parse(file), now=clock.now())
    put_rules(staff_client(org.admin), [{"name": "Partners", "when": [{"field": "source", "equals": "partner-portal"}], "team": "amer"},
                                        {"name": "Rest", "team": "emea"}])
    assert not RoutingRule.objects.get(name="Americas").active

    report = organisation_apply(organisation=orgfile_parse(file), now=clock.now())

    rules = {rule.name: (rule.active, rule.managed) for rule in RoutingRule.objects.all()}
    assert rules == {"Americas": (True, True), "Rest": (True, True), "Partners": (True, False)}
    assert report.count("deactivated") == 0


@pytest.mark.parametrize(("who", "method"), [("alice", "get"), ("marketer", "get"), ("alice", "put")])
def test_only_admins_and_managers_see_and_change_the_rules(org, who, method):
    client = staff_client(getattr(org, who))
    answer = client.get("/api/v1/routing/rules") if method == "get" else put_rules(client, [{"name": "All", "team": "emea"}])
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["message"].endswith("it needs: admin, sales manager")


def test_explain_shows_why_each_rep_could_or_could_not_take_the_lead(org, intake):
    # 21:00 in Berlin: Alice's day ended. Three more EMEA reps, each held back by something else, and one who can.
    rep(org.emea, "Jonas", paused=True, pause_reason="training")
    rep(org.emea, "Sofia", daily_cap=1, assigned_on=date(2026, 11, 25), assigned_count=1)
    rep(org.emea, "Liam", time_zone="Asia/Tokyo")  # 05:00 on Thursday in Tokyo, and he works round the clock
    lead = intake.post({"email": "dana@northwind.example", "country": "DE"}).json()

    answer = staff_client(org.manager).get(f"/api/v1/leads/{lead['id']}/routing")

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["lead_id"], body["owner"]) == (lead["id"], lead["owner"])
    assert (body["team"]["slug"], body["decided_by"], body["strategy"]) == ("emea", "default team", "round_robin")
    reasons = {check["name"]: (check["eligible"], check["reasons"]) for check in body["reps"]}
    assert reasons == {
        "Alice Rep": (False, ["outside working hours (wed 09:00-17:00, Europe/Berlin; it is 21:00 there)"]),
        "Jonas": (False, ["paused (training)"]),
        "Sofia": (False, ["daily cap reached (1 of 1 new leads today)"]),
        "Liam": (True, []),
    }
    [handoff] = body["handoffs"]
    assert (handoff["from_owner"], handoff["reason"]) == (None, "routed")
    assert handoff["to_owner"] == lead["owner"]
    assert handoff["note"]
    assert handoff["rule"]


def test_explain_follows_the_rules_and_reads_a_constant_number_of_queries(org, intake):
    put_rules(staff_client(org.admin), [{"name": "Germany", "when": [{"field": "country", "equals": "DE"}], "team": "amer"}])
    lead = intake.post({"email": "dana@northwind.example", "country": "DE"}).json()
    manager = staff_client(org.manager)

    with CaptureQueriesContext(connection) as one_rep:
        body = manager.get(f"/api/v1/leads/{lead['id']}/routing").json()
    for name in ("Ann", "Ben", "Cem"):
        rep(org.amer, name)
    with CaptureQueriesContext(connection) as four_reps:
        manager.get(f"/api/v1/leads/{lead['id']}/routing")

    assert (body["team"]["slug"], body["decided_by"]) == ("amer", "routing rule 'Germany'")
    assert len(four_reps) == len(one_rep)


def test_a_rep_may_explain_only_the_leads_they_own(org):
    lead = leads.lead_create(
        values={"email": "kim@contoso.example", "email_key": "kim@contoso.example"}, stage=Stage.ASSIGNED,
        owner=Owner.rep(org.alice.pk, org.emea.pk), score=60, score_reasons=[], definition_version=None, source_slug="website",
        now=clock.now(),
    )
    leads.handoff_record(lead=lead, to=lead.owner, at=clock.now(), reason="routed", note="by test", rule="")

    mine = staff_client(org.alice).get(f"/api/v1/leads/{lead.pk}/routing")
    theirs = staff_client(org.bob).get(f"/api/v1/leads/{lead.pk}/routing")

    assert mine.status_code == 200
    assert mine.json()["handoffs"][0]["to_owner"] == {"kind": "rep", "id": org.alice.pk, "name": "Alice Rep"}
    assert theirs.status_code == 404  # not Bob's to read: answered as if there were no such lead
    assert theirs.json()["errors"] == [{"field": "lead_id", "message": "there is no lead with this id that you can see"}]
    assert Lead.objects.count() == 1


def test_a_rep_may_read_but_not_explain_a_lead_waiting_in_their_team_queue(org, intake):
    lead = intake.post({"email": "dana@northwind.example"}).json()  # 21:00 in Berlin: it waits in the EMEA queue
    assert lead["owner"]["kind"] == "team"
    alice = staff_client(org.alice)
    assert alice.get(f"/api/v1/leads/{lead['id']}").status_code == 200
    answer = alice.get(f"/api/v1/leads/{lead['id']}/routing")
    assert answer.status_code == 403
    assert answer.json()["errors"] == [
        {"field": "role", "message": "a sales rep can explain only the leads they own; this one waits in your team's queue"}]


def test_a_manager_of_some_teams_only_cannot_replace_the_rules_and_nothing_changes(org):
    from leadbaton.accounts.models import Team

    RoutingRule.objects.create(position=0, name="Americas", conditions=[{"field": "country", "in": ["US"]}], team=org.amer)
    frank = User.objects.create_user("frank@example.com", "pw", name="Frank Manager", role=Role.MANAGER)
    Team.objects.filter(pk=org.amer.pk).update(manager=frank)  # Maria keeps EMEA only

    answer = put_rules(staff_client(org.manager), [{"name": "Everything to EMEA", "team": "emea"}])

    assert answer.status_code == 403
    assert answer.json()["errors"] == [{"field": "role", "message": (
        "the routing rules decide between all teams (each rule's place decides which leads the teams after it get), "
        "so an admin or a manager of every team replaces them; you do not manage Americas")}]
    assert list(RoutingRule.objects.values_list("name", "active")) == [("Americas", True)]
    assert staff_client(org.manager).get("/api/v1/routing/rules").json()["rules"][0]["name"] == "Americas"  # reads them all


def _lead_of(owner: User, team) -> Lead:
    lead = leads.lead_create(
        values={"email": "kim@contoso.example", "email_key": "kim@contoso.example"}, stage=Stage.ASSIGNED,
        owner=Owner.rep(owner.pk, team.pk), score=60, score_reasons=[], definition_version=None, source_slug="website",
        now=clock.now(),
    )
    leads.handoff_record(lead=lead, to=lead.owner, at=clock.now(), reason="routed", note="by test", rule="")
    return lead


def test_a_rep_explaining_their_lead_sees_that_a_teammate_is_paused_but_not_why(org):
    rep(org.emea, "Jonas", paused=True, pause_reason="sick leave")
    lead = _lead_of(org.alice, org.emea)

    reps = staff_client(org.alice).get(f"/api/v1/leads/{lead.pk}/routing").json()["reps"]
    by_manager = staff_client(org.manager).get(f"/api/v1/leads/{lead.pk}/routing").json()["reps"]

    assert {check["name"]: check["reasons"][0] for check in reps} == {
        "Alice Rep": "outside working hours (wed 09:00-17:00, Europe/Berlin; it is 21:00 there)", "Jonas": "paused"}
    assert {check["name"]: check["reasons"][0] for check in by_manager}["Jonas"] == "paused (sick leave)"


def test_a_manager_does_not_see_the_reps_of_a_team_they_do_not_manage_when_routing_would_send_the_lead_there(org):
    # Bob's lead is the Americas manager's to read; with no rule matching it, routing would now pick EMEA, the default team.
    americas = User.objects.create_user("andre@example.com", "pw", name="Andre Manager", role=Role.MANAGER)
    org.amer.manager = americas
    org.amer.save()
    lead = _lead_of(org.bob, org.amer)

    answer = staff_client(americas).get(f"/api/v1/leads/{lead.pk}/routing")

    assert answer.status_code == 200
    assert (answer.json()["team"]["slug"], answer.json()["reps"]) == ("emea", [])
    assert [check["name"] for check in staff_client(org.admin).get(f"/api/v1/leads/{lead.pk}/routing").json()["reps"]] == ["Alice Rep"]
