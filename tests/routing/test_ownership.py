"""One accountable owner: managers reassign by hand, and leads never stay with someone who left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.accounts.services import token_issue
from leadbaton.core import clock
from leadbaton.leads.models import Handoff, Lead
from leadbaton.notify.models import Notification
from leadbaton.pipeline.followup import activity_log
from leadbaton.pipeline.ownership import rep_deactivate
from leadbaton.worker.loop import Worker

MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def person(email: str, name: str, role: str) -> User:
    return User.objects.create_user(email, "pw", name=name, role=role)


def rep(team: Team, name: str) -> User:
    user = person(f"{name.lower()}@lumen.example", name, Role.REP)
    RepProfile.objects.create(user=user, team=team, time_zone="Europe/Berlin", hours=HOURS)
    return user


@pytest.fixture
def world(db):
    claudia = person("claudia@lumen.example", "Claudia", Role.MANAGER)
    marcus = person("marcus@lumen.example", "Marcus", Role.MANAGER)
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", manager=claudia, is_default=True)
    amer = Team.objects.create(slug="amer", name="Americas", time_zone="America/New_York", manager=marcus)
    return {"claudia": claudia, "marcus": marcus, "emea": emea, "amer": amer,
            "lena": rep(emea, "Lena"), "jonas": rep(emea, "Jonas"), "jordan": rep(amer, "Jordan")}


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False):
        yield


def as_user(user: User) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_issue(user=user, name='t', now=clock.now()).plaintext}"})


def reassign(user: User, lead_id: int, **body):
    return as_user(user).post(f"/api/v1/leads/{lead_id}/reassign", body, content_type="application/json")


def test_a_manager_reassigns_a_lead_with_a_reason_and_the_ledger_says_so(intake, world, morning):
    lead = intake.post({"email": "dana@northwind.example"}).json()
    assert lead["owner"]["name"] == "Lena"
    answer = reassign(world["claudia"], lead["id"], to_rep=world["jonas"].pk, reason="Jonas speaks German")
    assert answer.status_code == 200
    assert answer.json()["owner"] == {"kind": "rep", "id": world["jonas"].pk, "name": "Jonas"}
    handoff = Handoff.objects.filter(lead_id=lead["id"]).order_by("id").last()
    assert (handoff.from_rep_id, handoff.to_rep_id, handoff.reason, handoff.note, handoff.by_user_id) == (
        world["lena"].pk, world["jonas"].pk, "reassigned", "Jonas speaks German", world["claudia"].pk)
    assert Notification.objects.get(user=world["jonas"]).title == "Lead handed to you: dana@northwind.example"


def test_a_manager_returns_a_lead_to_the_queue(intake, world, morning):
    lead = intake.post({"email": "dana@northwind.example"}).json()
    answer = reassign(world["claudia"], lead["id"], to_team="emea", reason="Lena is off sick")
    assert answer.json()["stage"] == "queued"
    assert Handoff.objects.filter(lead_id=lead["id"]).order_by("id").last().reason == "returned"


@pytest.mark.parametrize(
    ("who", "body", "status", "field", "message"),
    [
        ("marcus", {"to_rep": "jonas", "reason": "mine now"}, 404, "lead_id", "there is no lead with this id that you can see"),
        ("lena", {"to_rep": "jonas", "reason": "too busy"}, 403, "role", "only managers and admins change who owns a lead"),
        ("claudia", {"to_rep": "jonas", "reason": " "}, 422, "reason", "is required"),
        ("claudia", {"to_rep": "jordan", "reason": "US customer"}, 422, "to_rep", "is not an active rep of a team you manage"),
        ("claudia", {"to_team": "apac", "reason": "x"}, 422, "to_team", "'apac' is not a team; teams: amer, emea"),
        ("claudia", {"reason": "x"}, 422, "to", "name either a rep"),
    ],
)
def test_it_refuses_a_reassignment_with_the_reason(intake, world, morning, who, body, status, field, message):
    lead = intake.post({"email": "dana@northwind.example"}).json()
    if "to_rep" in body:
        body = {**body, "to_rep": world[body["to_rep"]].pk}
    answer = reassign(world[who], lead["id"], **body)
    assert answer.status_code == status
    assert answer.json()["errors"][0]["field"] == field
    assert message in answer.json()["errors"][0]["message"]
    assert Lead.objects.get(pk=lead["id"]).owner_rep_id == world["lena"].pk


def test_the_cli_reassigns_too(intake, world, morning):
    lead = intake.post({"email": "dana@northwind.example"}).json()
    out = StringIO()
    call_command("leads", "reassign", str(lead["id"]), "--to", "jonas@lumen.example", "--reason", "coverage",
                 "--by", "claudia@lumen.example", stdout=out)
    assert out.getvalue().strip() == f"lead {lead['id']} is now assigned, owned by Jonas"
    # A manager of another team: the lead is not theirs to see, so it is as if there were none (as in the API and on the web).
    with pytest.raises(CommandError, match="there is no lead with this id that you can see"):
        call_command("leads", "reassign", str(lead["id"]), "--to-queue", "emea", "--reason", "x", "--by", "marcus@lumen.example")


def test_a_rep_removed_from_the_organisation_file_leaves_no_lead_behind(intake, world, morning, tmp_path):
    org = tmp_path / "org.yaml"
    org.write_text(
        "teams:\n  - {slug: emea, name: EMEA, time_zone: Europe/Berlin, default: true}\n"
        "reps:\n  - {email: lena@lumen.example, name: Lena, team: emea, hours: 'mon-fri 08:00-18:00'}\n"
        "  - {email: jonas@lumen.example, name: Jonas, team: emea, hours: 'mon-fri 08:00-18:00'}\n"
    )
    call_command("config", "apply", str(org), stdout=StringIO())
    leads = [intake.post({"email": f"p{n}@buyer.example"}).json() for n in range(4)]
    lena_leads = [lead["id"] for lead in leads if lead["owner"]["id"] == world["lena"].pk]
    assert len(lena_leads) == 2
    org.write_text(org.read_text().replace("  - {email: lena@lumen.example, name: Lena, team: emea, hours: 'mon-fri 08:00-18:00'}\n", ""))
    call_command("config", "apply", str(org), stdout=StringIO())
    for lead in Lead.objects.filter(pk__in=lena_leads):
        assert (lead.stage, lead.owner_kind, lead.owner_team_id) == ("queued", "team", world["emea"].pk)
        last = Handoff.objects.filter(lead=lead).order_by("id").last()
        assert (last.reason, last.rule, last.from_rep_id) == ("returned", "rep deactivated", world["lena"].pk)
        assert last.note == "Lena was deactivated: removed from the organisation file"
    assert User.objects.get(pk=world["lena"].pk).is_active is False


EVENING = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)  # Wednesday, 20:00 in Berlin: nobody is at work
NEXT_MORNING = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def lenas_leads(intake, world) -> list[int]:
    """Four leads in the morning, two of them Lena's (EMEA takes turns); one more of hers already closed."""
    with time_machine.travel(MORNING, tick=False):
        leads = [intake.post({"email": f"p{n}@buyer.example"}).json() for n in range(6)]
    hers = [lead["id"] for lead in leads if lead["owner"]["id"] == world["lena"].pk]
    Lead.objects.filter(pk=hers.pop()).update(stage="purchased")
    assert len(hers) == 2
    return hers


def test_a_rep_deactivated_outside_the_app_has_their_leads_returned_by_the_worker(intake, world):
    hers = lenas_leads(intake, world)
    User.objects.filter(pk=world["lena"].pk).update(is_active=False)  # a shell, an SQL UPDATE: no use case ran
    with time_machine.travel(EVENING, tick=False):
        Worker(poll_seconds=0).tick()
    for lead in Lead.objects.filter(pk__in=hers):
        assert (lead.stage, lead.owner_kind, lead.owner_team_id) == ("queued", "team", world["emea"].pk)
        last = Handoff.objects.filter(lead=lead).order_by("id").last()
        assert (last.reason, last.rule, last.from_rep_id, last.by_user_id) == ("returned", "rep deactivated", world["lena"].pk, None)
        assert last.note == "Lena was deactivated: they were found inactive with open leads"
    assert Lead.objects.filter(owner_rep=world["lena"]).count() == 1  # the closed one stays hers
    with time_machine.travel(NEXT_MORNING, tick=False):
        Worker(poll_seconds=0).tick()
    assert set(Lead.objects.filter(pk__in=hers).values_list("stage", "owner_rep_id")) == {("assigned", world["jonas"].pk)}


def test_the_worker_finds_a_deactivated_owner_within_a_minute(intake, world):
    hers = lenas_leads(intake, world)
    with time_machine.travel(MORNING, tick=False):  # she calls each at once: no service level runs out by the evening
        for lead_id in hers:
            activity_log(lead_id=lead_id, by=world["lena"], kind="call", result="no_answer", note="", now=clock.now())
    with time_machine.travel(EVENING, tick=False) as traveller:
        Worker(poll_seconds=0).tick()  # the periodic check ran: due again in a minute
        traveller.shift(timedelta(seconds=10))
        User.objects.filter(pk=world["lena"].pk).update(is_active=False)
        traveller.shift(timedelta(seconds=20))
        Worker(poll_seconds=0).tick()
        assert set(Lead.objects.filter(pk__in=hers).values_list("owner_rep_id", flat=True)) == {world["lena"].pk}
        traveller.shift(timedelta(seconds=31))
        Worker(poll_seconds=0).tick()
    assert set(Lead.objects.filter(pk__in=hers).values_list("stage", "owner_kind")) == {("queued", "team")}


def test_routing_never_picks_a_deactivated_rep(intake, world, morning):
    hers = lenas_leads(intake, world)
    assert rep_deactivate(rep=world["lena"], by=world["claudia"], why="left the company", now=clock.now()) == 2
    last = Handoff.objects.filter(lead_id=hers[0]).order_by("id").last()
    assert (last.note, last.by_user_id) == ("Lena was deactivated by Claudia: left the company", world["claudia"].pk)
    answers = [intake.post({"email": f"new{n}@buyer.example"}).json() for n in range(3)]
    assert {answer["owner"]["id"] for answer in answers} == {world["jonas"].pk}
    Worker(poll_seconds=0).tick()  # the queue hand-out
    assert set(Lead.objects.filter(pk__in=hers).values_list("owner_rep_id", flat=True)) == {world["jonas"].pk}
    assert rep_deactivate(rep=world["lena"], by=world["claudia"], why="again", now=clock.now()) == 0
