"""Team queues: leads wait when nobody can take them, the manager hears once per burst, and they go out first when a rep is free."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.leads.models import Handoff, Lead
from leadbaton.notify.models import Notification, OutboxMessage
from leadbaton.worker.loop import Worker

EVENING = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # Wednesday, 21:00 in Berlin
NEXT_MORNING = datetime(2026, 11, 26, 7, 0, 30, tzinfo=UTC)  # Thursday, 08:00:30 in Berlin
OFFICE_HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def emea(db) -> Team:
    claudia = User.objects.create_user("claudia@lumen.example", "pw", name="Claudia Brandt", role=Role.MANAGER)
    return Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", manager=claudia, is_default=True)


def rep(team: Team, name: str, **profile) -> User:
    user = User.objects.create_user(f"{name.lower()}@lumen.example", "pw", name=name, role=Role.REP)
    RepProfile.objects.create(user=user, team=team, time_zone="Europe/Berlin", hours=OFFICE_HOURS, **profile)
    return user


def test_a_trade_show_flood_waits_in_the_queue_and_the_manager_hears_once(intake, emea):
    rep(emea, "Lena")
    with time_machine.travel(EVENING, tick=False):
        answers = [intake.post({"email": f"visitor{n}@fair.example"}).json() for n in range(5)]
    assert {answer["stage"] for answer in answers} == {"queued"}
    alerts = Notification.objects.filter(user=emea.manager)
    assert alerts.count() == 1
    assert alerts.get().title == "Leads are waiting in the EMEA queue"
    email = OutboxMessage.objects.get(channel="email")
    assert email.recipient == "claudia@lumen.example"
    assert "Lena: outside working hours" in email.payload["why"]


def test_queued_leads_go_out_highest_score_first_when_hours_start(intake, emea):
    lena, jonas = rep(emea, "Lena"), rep(emea, "Jonas")
    with time_machine.travel(EVENING, tick=False):
        low = intake.post({"email": "low@fair.example"}).json()
        Lead.objects.filter(pk=low["id"]).update(score=10)
        high = intake.post({"email": "high@fair.example"}).json()
        Lead.objects.filter(pk=high["id"]).update(score=90)
        assert Worker(poll_seconds=0).tick() == 1  # only the manager's email: nobody is at work
    with time_machine.travel(NEXT_MORNING, tick=False):
        Worker(poll_seconds=0).tick()
    high_lead, low_lead = Lead.objects.get(pk=high["id"]), Lead.objects.get(pk=low["id"])
    assert (high_lead.stage, high_lead.owner_rep_id) == ("assigned", lena.pk)  # first in rotation gets the best lead
    assert (low_lead.stage, low_lead.owner_rep_id) == ("assigned", jonas.pk)
    handoff = Handoff.objects.filter(lead=high_lead).order_by("id").last()
    assert (handoff.from_kind, handoff.to_kind, handoff.reason) == ("team", "rep", "routed")
    assert "handed out from the team queue" in handoff.note
    assert Notification.objects.filter(user=lena, event="lead.assigned").count() == 1


def test_a_lead_goes_out_when_a_rep_at_their_ceiling_closes_one(intake, emea):
    lena = rep(emea, "Lena", open_ceiling=1)
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), tick=False) as traveller:
        first = intake.post({"email": "first@buyer.example"}).json()
        second = intake.post({"email": "second@buyer.example"}).json()
        assert (first["stage"], second["stage"]) == ("assigned", "queued")
        Worker(poll_seconds=0).tick()
        assert Lead.objects.get(pk=second["id"]).stage == "queued"
        Lead.objects.filter(pk=first["id"]).update(stage="purchased")
        traveller.shift(timedelta(seconds=6))
        Worker(poll_seconds=0).tick()
    assert Lead.objects.get(pk=second["id"]).owner_rep_id == lena.pk


def test_a_new_burst_alerts_the_manager_again_once_the_queue_emptied(intake, emea):
    rep(emea, "Lena")
    with time_machine.travel(EVENING, tick=False):
        intake.post({"email": "one@fair.example"})
    with time_machine.travel(NEXT_MORNING, tick=False):
        Worker(poll_seconds=0).tick()  # handed out: the queue is empty
    with time_machine.travel(EVENING + timedelta(days=1), tick=False):
        intake.post({"email": "two@fair.example"})
    assert Notification.objects.filter(user=emea.manager).count() == 2


@pytest.fixture
def definition(db):
    from leadbaton.core import clock
    from leadbaton.qualification.services import definition_publish

    return definition_publish(name="d", description="", required=[], threshold=10, signed_off_by=[], now=clock.now(),
                              fit_rules=[{"field": "title", "contains": "director", "points": 50},
                                         {"field": "title", "contains": "analyst", "points": 20}])


def test_a_full_team_sends_low_priority_leads_to_nurture_and_queues_the_rest(intake, emea, definition):
    Team.objects.filter(pk=emea.pk).update(overflow_nurture_below=40)
    rep(emea, "Lena")
    with time_machine.travel(EVENING, tick=False):
        low = intake.post({"email": "analyst@fair.example", "title": "Analyst"}).json()
        high = intake.post({"email": "director@fair.example", "title": "Director"}).json()
    assert (low["stage"], low["owner"]["kind"], low["score"]) == ("nurture", "marketing", 20)
    assert (high["stage"], high["owner"]["kind"]) == ("queued", "team")
    handoff = Handoff.objects.get(lead_id=low["id"])
    assert (handoff.to_kind, handoff.reason) == ("marketing", "created")
    assert handoff.note.startswith("sales-ready with score 20, below 40: EMEA sends such leads to nurture")
    assert "Lena: outside working hours" in handoff.note
    assert handoff.rule.endswith("overflow to nurture")
    # Only the queued lead is the manager's concern.
    assert Notification.objects.filter(user=emea.manager).count() == 1
    with time_machine.travel(NEXT_MORNING, tick=False):
        Worker(poll_seconds=0).tick()
    assert Lead.objects.get(pk=high["id"]).stage == "assigned"
    assert Lead.objects.get(pk=low["id"]).stage == "nurture"  # the queue hands out only what waits in it


def test_overflow_applies_only_when_nobody_can_take_the_lead(intake, emea, definition):
    Team.objects.filter(pk=emea.pk).update(overflow_nurture_below=40)
    lena = rep(emea, "Lena")
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), tick=False):
        answer = intake.post({"email": "analyst@buyer.example", "title": "Analyst"}).json()
    assert (answer["stage"], answer["owner"]["id"]) == ("assigned", lena.pk)


def test_without_an_overflow_score_every_sales_ready_lead_waits(intake, emea, definition):
    rep(emea, "Lena")
    with time_machine.travel(EVENING, tick=False):
        answer = intake.post({"email": "analyst@fair.example", "title": "Analyst"}).json()
    assert answer["stage"] == "queued"


def test_a_burst_that_goes_quiet_for_half_an_hour_alerts_again(intake, emea):
    rep(emea, "Lena")
    for minutes, email in ((0, "one"), (10, "two"), (29, "three"), (60, "four"), (75, "five")):
        with time_machine.travel(EVENING + timedelta(minutes=minutes), tick=False):
            assert intake.post({"email": f"{email}@fair.example"}).json()["stage"] == "queued"
    alerts = Notification.objects.filter(user=emea.manager).order_by("id")
    assert [alert.lead.email for alert in alerts] == ["one@fair.example", "four@fair.example"]
