"""`leadbaton config apply`: the organisation file, applied idempotently, with errors that name their path."""

from __future__ import annotations

import copy
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadbaton.accounts.models import RepProfile, Role, Team, TimeOff, User
from leadbaton.core import clock
from leadbaton.intake.models import Source, SourceKey
from leadbaton.intake.queries import source_key_find
from leadbaton.leads import services as leads
from leadbaton.leads.models import Lead, Owner, Stage
from leadbaton.organisation.apply import ApplyReport, organisation_apply
from leadbaton.organisation.file import OrgFileError, orgfile_parse
from leadbaton.qualification.models import LeadDefinition
from leadbaton.routing.models import RoutingRule
from leadbaton.sla.models import SlaPolicy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "org.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def small_org() -> dict[str, Any]:
    """Two teams, a manager, two reps, a source, two rules, an SLA and a definition; edit a copy per test."""
    return copy.deepcopy(
        {
            "organisation": {"name": "Northwind"},
            "sources": [{"slug": "website", "kind": "form", "name": "Website form"}],
            "teams": [
                {"slug": "emea", "name": "EMEA", "time_zone": "Europe/Berlin", "manager": "maria@northwind.example", "default": True},
                {"slug": "amer", "name": "Americas", "time_zone": "America/New_York"},
            ],
            "users": [{"email": "maria@northwind.example", "name": "Maria Manager", "role": "manager"}],
            "reps": [
                {"email": "alice@northwind.example", "name": "Alice Rep", "team": "emea", "hours": "mon-fri 09:00-17:00"},
                {
                    "email": "bob@northwind.example", "name": "Bob Rep", "team": "amer", "hours": "mon-fri 09:00-17:00",
                    "time_off": [{"from": date(2026, 12, 24), "to": date(2026, 12, 31), "reason": "Holidays"}],
                },
            ],
            "routing": [
                {"name": "Americas", "when": [{"field": "country", "in": ["US", "CA"]}], "team": "amer", "strategy": "weighted"},
                {"name": "Everyone else", "team": "emea"},
            ],
            "sla": {"first_response_minutes": 5},
            "lead_definition": {
                "name": "Sales-ready", "required": ["email"], "threshold": 20,
                "fit": [{"field": "company_size", "at_least": 50, "points": 20, "label": "50+ people"}],
            },
        }
    )


def apply(org: dict[str, Any] | str) -> ApplyReport:
    text = org if isinstance(org, str) else yaml.safe_dump(org, sort_keys=False)
    return organisation_apply(organisation=orgfile_parse(text), now=clock.now())


def problems(org: dict[str, Any]) -> list[str]:
    with pytest.raises(OrgFileError) as raised:
        orgfile_parse(yaml.safe_dump(org, sort_keys=False))
    return raised.value.errors


def row_counts() -> dict[str, int]:
    models = (User, Team, RepProfile, TimeOff, Source, SourceKey, RoutingRule, SlaPolicy, LeadDefinition)
    return {model.__name__: model.objects.count() for model in models}


def test_it_creates_the_example_organisation(db: None) -> None:
    report = apply(EXAMPLE.read_text())

    teams = {team.slug: team for team in Team.objects.select_related("manager")}
    assert set(teams) == {"emea", "amer", "apac"}
    assert [team.slug for team in teams.values() if team.is_default] == ["emea"]
    assert teams["amer"].manager.email == "marcus.reed@lumenmetrics.example"
    assert teams["apac"].time_zone == "Asia/Singapore"
    assert all(team.managed and team.active for team in teams.values())

    reps = {rep.user.email.split("@")[0]: rep for rep in RepProfile.objects.select_related("user", "team")}
    assert len(reps) == 11
    assert len({rep.time_zone for rep in reps.values()}) >= 8
    assert reps["jonas.berg"].hours["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert reps["jonas.berg"].hours["fri"] == [["08:00", "15:00"]]
    assert set(reps["sofia.martin"].hours) == {"mon", "tue", "thu"}
    assert reps["sofia.martin"].daily_cap == 4
    assert reps["dana.whitfield"].routing_weight == 3
    assert reps["dana.whitfield"].open_ceiling == 50
    assert reps["lena.hoffmann"].country == "DE"
    assert reps["wei.tan"].time_zone == "Asia/Singapore"  # none given: the team's
    assert list(reps["tom.oconnell"].time_off.values_list("starts_on", "ends_on", "reason")) == [
        (date(2026, 12, 21), date(2027, 1, 1), "Christmas holidays")
    ]
    assert all(rep.user.role == Role.REP and rep.user.managed and not rep.user.has_usable_password() for rep in reps.values())

    admin = User.objects.get(email="admin@lumenmetrics.example")
    assert (admin.role, admin.is_superuser, admin.is_staff) == (Role.ADMIN, True, True)
    assert User.objects.get(email="mia.schultz@lumenmetrics.example").role == Role.MARKETING
    assert not User.objects.get(email="marcus.reed@lumenmetrics.example").is_superuser

    sources = {source.slug: source for source in Source.objects.all()}
    assert {slug: source.kind for slug, source in sources.items()} == {
        "website": "form", "trade-show-badges": "event", "partner-portal": "api",
    }
    assert sources["trade-show-badges"].default_region == "DE"
    assert sources["partner-portal"].rate_limit_per_minute == 300
    assert sorted(key.source for key in report.keys) == sorted(sources)

    rules = list(RoutingRule.objects.select_related("team"))
    assert [rule.name for rule in rules] == [
        "Enterprise accounts", "Europe, Middle East and Africa", "Americas", "Asia-Pacific", "Everyone else",
    ]
    assert (rules[0].team.slug, rules[0].strategy) == ("amer", "least_loaded")
    assert rules[0].conditions == [{"field": "company_size", "at_least": 1000}]
    assert "NO" in rules[1].conditions[0]["in"]  # Norway, not false
    assert rules[-1].conditions == []

    policy = SlaPolicy.objects.get(name="default")
    assert (policy.first_response_minutes, policy.attempts, policy.attempts_within_days) == (5, 6, 10)
    definition = LeadDefinition.objects.get(active=True)
    assert (definition.version, definition.required, definition.threshold) == (1, ["email"], 50)
    assert all(rule.get("label") for rule in definition.fit_rules)
    assert report.count("created") == 29


def test_it_sets_the_catch_up_gate_from_the_sla_section_and_defaults_it_when_absent(db: None) -> None:
    apply(small_org())
    policy = SlaPolicy.objects.get(name="default")
    assert (policy.catch_up_stale_share, policy.catch_up_overdue_next_steps) == (20, 5)

    org = small_org()
    org["sla"].update(catch_up_stale_share=0, catch_up_overdue_next_steps=3)
    report = apply(org)

    policy.refresh_from_db()
    assert (policy.catch_up_stale_share, policy.catch_up_overdue_next_steps) == (0, 3)
    assert any("catch_up_stale_share" in line and "catch_up_overdue_next_steps" in line for line in report.lines()), report.lines()


def test_it_makes_a_german_director_sales_ready_and_a_student_with_gmail_not(db: None) -> None:
    report = apply(EXAMPLE.read_text())
    key = next(key.plaintext for key in report.keys if key.source == "website")
    client = Client(headers={"Authorization": f"Bearer {key}"})

    def post(body: dict[str, Any]) -> Lead:
        answer = client.post("/api/v1/leads", data=body, content_type="application/json")
        assert answer.status_code == 201, answer.json()
        return Lead.objects.select_related("owner_team").get(pk=answer.json()["id"])

    director = post({
        "email": "greta.vogel@brightwerk.example", "first_name": "Greta", "title": "Director of Operations",
        "company": "Brightwerk GmbH", "company_size": 200, "country": "DE", "product_interest": "Dashboards",
    })
    student = post({
        "email": "sam.student@gmail.com", "title": "Student", "country": "DE", "product_interest": "Free plan",
    })

    assert (director.stage, director.owner_team.slug, director.score) == (Stage.QUEUED, "emea", 70)
    assert student.stage == Stage.NURTURE
    assert student.score < 50


def test_it_changes_nothing_when_applied_twice(db: None) -> None:
    apply(EXAMPLE.read_text())
    before = row_counts()
    policy_updated = SlaPolicy.objects.get().updated_at

    with CaptureQueriesContext(connection) as queries:
        report = apply(EXAMPLE.read_text())

    writes = [query["sql"] for query in queries.captured_queries if query["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert row_counts() == before
    assert list(LeadDefinition.objects.values_list("version", "active")) == [(1, True)]
    assert SlaPolicy.objects.get().updated_at == policy_updated
    assert not report.changed
    assert report.keys == []
    assert report.lines() == ["nothing changed (30 unchanged)"]


def test_it_updates_a_reps_hours(db: None) -> None:
    org = small_org()
    apply(org)
    org["reps"][0]["hours"] = ["mon-thu 08:00-12:00, 13:00-17:00", "fri 08:00-14:00"]

    report = apply(org)

    alice = RepProfile.objects.get(user__email="alice@northwind.example")
    assert alice.hours["thu"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert alice.hours["fri"] == [["08:00", "14:00"]]
    assert report.lines() == ["updated      rep alice@northwind.example: hours", "0 created, 1 updated, 0 deactivated, 9 unchanged"]


def test_it_sets_and_clears_a_teams_overflow_to_nurture(db: None) -> None:
    org = small_org()
    org["teams"][0]["overflow_nurture_below"] = 60
    apply(org)
    assert Team.objects.get(slug="emea").overflow_nurture_below == 60

    del org["teams"][0]["overflow_nurture_below"]  # not named: kept (a settings page may have set it)
    assert apply(org).lines()[0].startswith("nothing changed")
    assert Team.objects.get(slug="emea").overflow_nurture_below == 60

    org["teams"][0]["overflow_nurture_below"] = None  # named with no value: cleared
    report = apply(org)

    assert Team.objects.get(slug="emea").overflow_nurture_below is None
    assert report.lines()[0] == "updated      team emea: overflow_nurture_below"


def test_it_deactivates_a_rep_removed_from_the_file_and_returns_their_leads_to_the_team_queue(db: None) -> None:
    org = small_org()
    apply(org)
    bob = User.objects.get(email="bob@northwind.example")
    lead = leads.lead_create(
        values={"email": "kim@contoso.example", "email_key": "kim@contoso.example"}, stage=Stage.ASSIGNED,
        owner=Owner.rep(bob.pk, bob.rep.team_id), score=60, score_reasons=[], definition_version=1, source_slug="website",
        now=clock.now(),
    )
    del org["reps"][1]

    report = apply(org)

    bob.refresh_from_db()
    lead.refresh_from_db()
    assert not bob.is_active
    assert RepProfile.objects.filter(user=bob).exists()
    assert (lead.owner_kind, lead.owner_team_id, lead.owner_rep_id, lead.stage) == ("team", bob.rep.team_id, None, Stage.QUEUED)
    assert "deactivated  rep bob@northwind.example" in report.lines()

    org["reps"].append({"email": "bob@northwind.example", "name": "Bob Rep", "team": "amer", "hours": "mon-fri 09:00-17:00"})
    apply(org)
    bob.refresh_from_db()
    assert bob.is_active


def test_it_deactivates_teams_sources_and_rules_removed_from_the_file(db: None) -> None:
    org = small_org()
    apply(org)
    org["sources"] = []
    org["routing"] = org["routing"][1:]
    org["reps"] = org["reps"][:1]
    org["teams"] = org["teams"][:1]

    report = apply(org)

    assert not Team.objects.get(slug="amer").active
    assert not Source.objects.get(slug="website").active
    assert not RoutingRule.objects.get(name="Americas").active
    assert RoutingRule.objects.get(name="Everyone else").active
    assert (Team.objects.count(), Source.objects.count(), RoutingRule.objects.count()) == (2, 1, 2)  # deactivated, not deleted
    assert report.count("deactivated") == 4  # team, source, rule, and bob


def test_it_leaves_alone_what_it_does_not_manage(org: Any) -> None:
    """The `org` fixture's people and teams were made in the app: only those the file names become managed."""
    file = small_org()
    file["teams"] = [{"slug": "apac", "name": "APAC", "time_zone": "Asia/Singapore", "default": True}]
    file["reps"] = [{"email": "carol@northwind.example", "team": "apac", "hours": "mon-fri 09:00-18:00"}]
    file["users"] = [{"email": "maria@example.com", "name": "Maria Manager", "role": "manager"}]
    file["routing"] = [{"name": "Everyone", "team": "apac"}]
    file["teams"][0]["manager"] = "maria@example.com"

    apply(file)

    emea = Team.objects.get(slug="emea")
    assert (emea.active, emea.managed, emea.is_default) == (True, False, False)  # the file's default replaces it
    assert Team.objects.get(slug="apac").is_default
    assert User.objects.filter(email__in=["alice@example.com", "bob@example.com", "ada@example.com"], is_active=True).count() == 3
    maria = User.objects.get(email="maria@example.com")
    assert maria.managed
    assert maria.has_usable_password()  # she keeps the password she had


def test_it_leaves_sections_the_file_does_not_write(db: None) -> None:
    apply(EXAMPLE.read_text())
    before = row_counts()

    report = apply({"lead_definition": {"name": "Sales-ready lead", "threshold": 60}})

    assert row_counts() == {**before, "LeadDefinition": before["LeadDefinition"] + 1}
    assert User.objects.filter(is_active=False).count() == 0
    assert Team.objects.filter(active=False).count() == 0
    assert report.count("deactivated") == 0


def test_it_publishes_a_new_definition_version_only_when_it_changes(db: None) -> None:
    org = small_org()
    apply(org)
    org["lead_definition"]["threshold"] = 30

    report = apply(org)

    assert list(LeadDefinition.objects.order_by("version").values_list("version", "active", "threshold")) == [
        (1, False, 20), (2, True, 30),
    ]
    assert "created      lead definition v2 'Sales-ready': replaces v1" in report.lines()
    apply(org)
    assert LeadDefinition.objects.count() == 2


def test_it_replaces_time_off_only_when_it_differs(db: None) -> None:
    org = small_org()
    apply(org)
    first = list(TimeOff.objects.values_list("pk", flat=True))
    assert apply(org).changed is False
    assert list(TimeOff.objects.values_list("pk", flat=True)) == first

    org["reps"][1]["time_off"] = [{"from": "2027-02-01", "to": "2027-02-05", "reason": "Skiing"}]
    report = apply(org)

    assert list(TimeOff.objects.values_list("starts_on", "ends_on", "reason")) == [(date(2027, 2, 1), date(2027, 2, 5), "Skiing")]
    assert "updated      rep bob@northwind.example: time_off" in report.lines()


def test_it_keeps_a_pause_set_in_the_app_when_the_file_does_not_say(db: None) -> None:
    org = small_org()
    apply(org)
    RepProfile.objects.filter(user__email="alice@northwind.example").update(paused=True, pause_reason="At the dentist")

    apply(org)
    assert RepProfile.objects.get(user__email="alice@northwind.example").paused

    org["reps"][0]["paused"] = False
    apply(org)
    alice = RepProfile.objects.get(user__email="alice@northwind.example")
    assert (alice.paused, alice.pause_reason) == (False, "")


def _edit(path: str, value: Any) -> dict[str, Any]:
    """small_org() with `value` set at a dotted path such as reps.1.hours (None deletes the key)."""
    org = small_org()
    *parents, last = path.split(".")
    target: Any = org
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is None:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return org


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("reps.1.hours", "mon-fri 9-17", 'reps[1].hours: "mon-fri 9-17" is not DAYS HH:MM-HH:MM (for example "mon-fri 09:00-17:30")'),
        ("reps.1.hours", ["mon-fri 09:00-17:00", "wed 16:00-18:00"],
         'reps[1].hours[1]: "wed 16:00-18:00": 16:00-18:00 overlaps 09:00-17:00 on wed ("mon-fri 09:00-17:00")'),
        ("reps.1.team", "apac", 'reps[1].team: "apac" is not a team in this file (teams: emea, amer)'),
        ("teams.1.time_zone", "Europe/Berln",
         'teams[1].time_zone: "Europe/Berln" is not a time zone (did you mean Europe/Berlin?); use an IANA name such as Europe/Berlin'),
        ("reps.0.daily_cpa", 3,
         "reps[0].daily_cpa: is not a key of a rep (did you mean daily_cap?); use email, name, team, time_zone, country, hours, "
         "weight, daily_cap, max_open, paused, time_off"),
        ("sla.first_respons_minutes", 5, "sla.first_respons_minutes: is not a key of sla (did you mean first_response_minutes?)"),
        ("routing.0.when.0.in", [], "routing[0].when[0].in: must be a non-empty list, not []"),
        ("routing.0.when.0.in", ["SE", False], "routing[0].when[0].in[1]: false is true/false, but country is text"),
        ("lead_definition.fit.0.points", None, "lead_definition.fit[0].points: is required"),
        ("teams.1.default", True, "teams[1].default: only one team can be the default; teams[0] (emea) is already"),
        ("teams.0.default", None, "teams: no team has default: true; exactly one must"),
        ("teams.1.slug", "emea", 'teams[1].slug: "emea" is already used by teams[0]; each slug must be unique'),
        ("reps.1.email", "Maria@northwind.example", 'reps[1].email: "maria@northwind.example" is already used by users[0]'),
        ("reps.0.time_off", [{"from": "2026-12-24", "to": "2026-12-01"}],
         "reps[0].time_off[0].to: 2026-12-01 is before from (2026-12-24)"),
        ("reps.0.country", "UK", 'reps[0].country: "UK" is not an ISO 3166 two-letter country code (the United Kingdom is GB)'),
        ("sources.0.kind", "webform", 'sources[0].kind: "webform" is not one of api, form, ad, event, phone, csv, manual'),
        ("users.0.role", "rep", 'users[0].role: "rep" is not one of admin, marketing, manager'),
        ("lead_definition.required", ["mobile"], 'lead_definition.required[0]: "mobile" cannot be required'),
        ("teams.0.overflow_nurture_below", "low", 'teams[0].overflow_nurture_below: "low" is not a whole number; write a score such as 60'),
        ("teams.0.overflow_nurture_below", 0, "teams[0].overflow_nurture_below: 0 is less than 1; write a score such as 60"),
        ("teams.0.overflow_nurture_below", 40000, "teams[0].overflow_nurture_below: 40000 is more than 32767"),
        ("sla.catch_up_stale_share", 120,
         "sla.catch_up_stale_share: 120 is more than 100; write a whole percent of a rep's open leads from 0 to 100, such as 20"),
        ("sla.catch_up_stale_share", "20%", 'sla.catch_up_stale_share: "20%" is not a whole number; write a whole percent'),
        ("sla.catch_up_stale_share", -1, "sla.catch_up_stale_share: -1 is less than 0"),
        ("sla.catch_up_overdue_next_steps", 2.5,
         "sla.catch_up_overdue_next_steps: 2.5 is not a whole number; write a whole number of overdue next steps, such as 5; 0 switches it off"),
        ("sla.catch_up_overdue_next_steps", True, "sla.catch_up_overdue_next_steps: true is not a whole number"),
    ],
)
def test_it_names_the_path_of_each_error_and_applies_nothing(db: None, path: str, value: Any, message: str) -> None:
    errors = problems(_edit(path, value))

    assert any(error.startswith(message) for error in errors), errors
    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_it_reports_every_error_at_once(db: None) -> None:
    org = small_org()
    org["reps"][0]["hours"] = "weekdays 9 to 5"
    org["reps"][1]["team"] = "apac"
    org["teams"][0]["time_zone"] = "Berlin"

    errors = problems(org)

    assert [error.split(":")[0] for error in errors] == ["teams[0].time_zone", "reps[0].hours", "reps[1].team"]


def test_it_refuses_a_file_that_is_not_yaml_or_writes_a_key_twice(db: None) -> None:
    with pytest.raises(OrgFileError) as raised:
        orgfile_parse("teams:\n  - slug: emea\n    slug: amer\n")
    assert raised.value.errors[0].startswith("line 3, column 5: the key 'slug' is written twice")
    with pytest.raises(OrgFileError) as raised:
        orgfile_parse("teams: [")
    assert "is not valid YAML" in raised.value.errors[0]
    with pytest.raises(OrgFileError) as raised:
        orgfile_parse("reps:\n")
    assert raised.value.errors == ["reps: is empty; remove reps to leave it alone, or write reps: [] (a list) or reps: {} (a mapping)"]


def test_the_cli_exits_non_zero_and_prints_every_problem(db: None, tmp_path: Path) -> None:
    org = small_org()
    org["reps"][1]["hours"] = "mon-fri 9-17"
    org["reps"][0]["daily_cpa"] = 3
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(org))
    stderr = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("config", "apply", str(path), stderr=stderr, stdout=io.StringIO())

    assert raised.value.returncode == 1
    assert str(raised.value) == f"2 problems in {path}; nothing was applied"
    lines = stderr.getvalue().splitlines()
    assert lines[0].startswith("reps[0].daily_cpa: is not a key of a rep")
    assert lines[1].startswith('reps[1].hours: "mon-fri 9-17" is not DAYS HH:MM-HH:MM')
    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_the_cli_prints_a_new_source_key_once(db: None, tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(small_org()))

    first, second = io.StringIO(), io.StringIO()
    call_command("config", "apply", str(path), stdout=first)
    call_command("config", "apply", str(path), stdout=second)

    key = next(word for word in first.getvalue().split() if word.startswith("lb_src_"))
    assert "shown once" in first.getvalue()
    assert source_key_find(f"Bearer {key}").source.slug == "website"
    assert "lb_src_" not in second.getvalue()
    assert "nothing changed" in second.getvalue()
    assert SourceKey.objects.count() == 1


def test_the_cli_saves_nothing_on_a_dry_run(db: None, tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(small_org()))
    out = io.StringIO()

    call_command("config", "apply", str(path), "--dry-run", stdout=out)

    assert "nothing was saved" in out.getvalue()
    assert "created      team emea" in out.getvalue()
    assert "lb_src_" not in out.getvalue()
    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_a_team_may_write_its_own_service_levels_over_the_organisations(db: None) -> None:
    org = small_org()
    org["sla"] = {"first_response_minutes": 5, "attempts": 8}
    org["teams"][1]["sla"] = {"first_response_minutes": 15, "business_hours": False}
    apply(org)
    amer = SlaPolicy.objects.get(team__slug="amer", active=True)
    assert (amer.first_response_minutes, amer.business_hours, amer.attempts) == (15, False, 8)  # the rest is the organisation's
    assert SlaPolicy.objects.get(name="default").first_response_minutes == 5
    assert not SlaPolicy.objects.filter(team__slug="emea").exists()
    del org["teams"][1]["sla"]
    report = apply(org)
    assert [(change.name, change.action) for change in report.changes if change.kind == "SLA policy"] == [
        ("default", "unchanged"), ("team amer", "deactivated"),
    ]
    assert not SlaPolicy.objects.filter(team__slug="amer", active=True).exists()


def test_a_teams_service_levels_are_checked_like_the_organisations(db: None) -> None:
    assert problems(_edit("teams.1.sla", {"first_response_minutes": 0, "atempts": 3})) == [
        "teams[1].sla.atempts: is not a key of a team's sla (did you mean attempts?); use first_response_minutes, attempts, "
        "attempts_within_days, progress_every_days, business_hours, business_days, remind_before_minutes, escalation, "
        "catch_up_stale_share, catch_up_overdue_next_steps",
        "teams[1].sla.first_response_minutes: 0 is less than 1; write a whole number of minutes, 1 or more",
    ]


def test_it_takes_each_clocks_escalation_steps_and_names_a_wrong_one(db: None) -> None:
    org = small_org()
    org["sla"]["escalation"] = {"first_response": ["remind at 25%", "queue at breach"]}
    apply(org)
    assert SlaPolicy.objects.get(name="default").escalation == {"first_response": [[0.25, "remind"], [1.0, "queue"]]}
    steps = {"first_respons": [], "progress": ["remind at breach", "reassign at 50%", "call at 80%", "remind at 150%"]}
    assert problems(_edit("sla.escalation", steps)) == [
        "sla.escalation.first_respons: 'first_respons' is not a clock; use first_response, attempts, progress, next_step",
        "sla.escalation.progress[0]: 'remind at breach': a reminder comes before the breach; write a share such as 80%",
        "sla.escalation.progress[1]: 'reassign at 50%': the lead moves only at the breach; write reassign at breach",
        "sla.escalation.progress[2]: 'call at 80%' is not a step; write ACTION at NN% or ACTION at breach, "
        'ACTION one of remind, alert_manager, reassign, queue, such as "remind at 50%"',
        "sla.escalation.progress[3]: 'remind at 150%' is not a step; write ACTION at NN% or ACTION at breach, "
        'ACTION one of remind, alert_manager, reassign, queue, such as "remind at 50%"',
    ]
