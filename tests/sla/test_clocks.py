"""Service-level clocks on real leads: started by routing, reminded, breached, escalated, met, each step once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from leadbaton.core import clock
from leadbaton.core.calendar import TimeOff, WorkingTime, working_days_add, working_time_add
from leadbaton.leads.models import Handoff, Lead
from leadbaton.notify.models import Notification, OutboxMessage
from leadbaton.pipeline.followup import activity_log, outcome_record
from leadbaton.pipeline.ownership import lead_reassign
from leadbaton.sla import services as sla
from leadbaton.sla.models import Deadline, EscalationStep
from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import WEDNESDAY_MORNING_IN_BERLIN, lead_to, lena_only, sales  # noqa: F401  (a fixture)

ARRIVED = WEDNESDAY_MORNING_IN_BERLIN  # 11:00 in Berlin: Lena and Jonas work 08:00-18:00
NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def at(moment: datetime, *, seconds: float = 0) -> int:
    """Run one worker tick at `moment` + seconds; what it did."""
    with time_machine.travel(moment + timedelta(seconds=seconds), tick=False):
        return Worker(poll_seconds=0).tick()


def steps(lead_id: int) -> list[tuple[str, str, bool]]:
    taken = EscalationStep.objects.filter(deadline__lead_id=lead_id).order_by("at", "index")
    return [(step.deadline.kind, step.action, step.skipped) for step in taken]


@pytest.fixture
def lenas_lead(intake, sales):  # noqa: F811
    with time_machine.travel(ARRIVED, tick=False):
        return lead_to(intake, sales.lena, "pat@buyer.example")


# Business time


def test_a_lead_at_22_00_with_a_5_minute_business_clock_is_due_5_minutes_after_the_day_starts():
    berlin = WorkingTime("Europe/Berlin", NINE_TO_FIVE, country="DE")
    late = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # Wednesday 22:00 in Berlin
    assert working_time_add(berlin, late, timedelta(minutes=5)) == datetime(2026, 11, 26, 8, 5, tzinfo=UTC)  # Thursday 09:05


def test_business_time_skips_the_weekend_public_holidays_and_time_off():
    berlin = WorkingTime("Europe/Berlin", NINE_TO_FIVE, country="DE")
    friday = datetime(2026, 11, 27, 15, 58, tzinfo=UTC)  # 16:58 in Berlin
    assert working_time_add(berlin, friday, timedelta(minutes=5)) == datetime(2026, 11, 30, 8, 3, tzinfo=UTC)  # Monday 09:03
    christmas_eve = datetime(2026, 12, 24, 15, 58, tzinfo=UTC)  # Thursday; the 25th and 26th are public holidays in DE
    assert working_time_add(berlin, christmas_eve, timedelta(minutes=5)) == datetime(2026, 12, 28, 8, 3, tzinfo=UTC)
    away = WorkingTime("Europe/Berlin", NINE_TO_FIVE, country="DE", time_off=(TimeOff(date(2026, 11, 30), date(2026, 12, 1)),))
    assert working_time_add(away, friday, timedelta(minutes=5)) == datetime(2026, 12, 2, 8, 3, tzinfo=UTC)  # back on Wednesday


def test_business_time_follows_each_persons_time_zone():
    new_york = WorkingTime("America/New_York", NINE_TO_FIVE, country="US")
    berlin = WorkingTime("Europe/Berlin", NINE_TO_FIVE, country="DE")
    moment = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 16:00 in Berlin, 10:00 in New York
    assert working_time_add(berlin, moment, timedelta(hours=2)) == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 1 h today, 1 h Thursday
    assert working_time_add(new_york, moment, timedelta(hours=2)) == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    # Thanksgiving (Thursday 26 November) is a public holiday in the US: two working days from Wednesday is Monday.
    assert working_days_add(new_york, moment, 2) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def test_nobody_with_no_working_time_has_a_business_deadline():
    assert working_time_add(WorkingTime("UTC", {}), ARRIVED, timedelta(minutes=5)) is None


# The first-response clock on a routed lead


def test_routing_starts_the_owners_first_response_and_attempts_clocks(lenas_lead, sales):  # noqa: F811
    clocks = {deadline.kind: deadline for deadline in Deadline.objects.filter(lead_id=lenas_lead)}
    assert set(clocks) == {"first_response", "attempts"}
    first = clocks["first_response"]
    assert (first.rep_id, first.status, first.breach_at) == (sales.lena.pk, "pending", ARRIVED + timedelta(minutes=5))
    assert first.due_at == ARRIVED + timedelta(minutes=2, seconds=30)  # the first reminder, at half the time
    assert first.terms["counted"] == "working time in Europe/Berlin"
    assert clocks["attempts"].breach_at == ARRIVED + timedelta(days=10)


def test_an_untouched_lead_is_reminded_then_breached_and_reassigned_each_step_once(lenas_lead, sales):  # noqa: F811
    at(ARRIVED, seconds=149)  # sends Lena's new-lead email; no step yet
    assert steps(lenas_lead) == []
    at(ARRIVED, seconds=150)  # half the time: a reminder
    at(ARRIVED, seconds=150)
    assert steps(lenas_lead) == [("first_response", "remind", False)]
    reminder = OutboxMessage.objects.get(event="sla.reminder")
    assert (reminder.recipient, reminder.payload["headline"]) == ("lena@lumen.example", "First response due in 2 min: pat@buyer.example")
    at(ARRIVED, seconds=180)  # two minutes before the breach: the second reminder
    at(ARRIVED, seconds=299)
    assert [step[1] for step in steps(lenas_lead)] == ["remind", "remind"]
    at(ARRIVED, seconds=300)
    assert [step[1] for step in steps(lenas_lead)] == ["remind", "remind", "breach", "alert_manager", "reassign"]
    lead = Lead.objects.get(pk=lenas_lead)
    assert (lead.owner_rep_id, lead.stage) == (sales.jonas.pk, "assigned")
    handoff = Handoff.objects.filter(lead=lead).order_by("id").last()
    assert (handoff.reason, handoff.from_rep_id, handoff.note) == ("sla_breach", sales.lena.pk, "SLA breach: first response, 5 min")
    assert Notification.objects.filter(user=sales.maria, event="sla.breached", lead=lead).count() == 1
    breached = Deadline.objects.get(lead=lead, rep=sales.lena, kind="first_response")
    assert (breached.status, breached.breached_at, breached.cancelled_at) == ("breached", ARRIVED + timedelta(minutes=5), None)
    assert Deadline.objects.get(lead=lead, rep=sales.lena, kind="attempts").status == "cancelled"
    jonas = Deadline.objects.get(lead=lead, rep=sales.jonas, kind="first_response")
    assert (jonas.status, jonas.started_at) == ("pending", ARRIVED + timedelta(minutes=5))
    at(ARRIVED, seconds=301)
    assert EscalationStep.objects.filter(deadline__lead=lead).count() == 5  # nothing twice


def test_a_step_is_recorded_once_however_often_it_is_offered(lenas_lead, sales):  # noqa: F811
    deadline = Deadline.objects.get(lead_id=lenas_lead, kind="first_response")
    now = ARRIVED + timedelta(seconds=150)
    assert sla.step_record(deadline=deadline, index=0, now=now, note="half the time") is True
    assert sla.step_record(deadline=deadline, index=0, now=now + timedelta(seconds=1), skipped=True) is False
    recorded = EscalationStep.objects.get(deadline=deadline)
    assert (recorded.index, recorded.action, recorded.at, recorded.skipped, recorded.note) == (0, "remind", now, False, "half the time")
    assert recorded.planned_at == datetime.fromisoformat(deadline.steps[0]["at"])


def test_a_second_breach_puts_the_lead_in_the_team_queue(lenas_lead, sales):  # noqa: F811
    at(ARRIVED, seconds=300)  # Lena's breach: to Jonas
    at(ARRIVED, seconds=600)  # Jonas's breach too
    lead = Lead.objects.get(pk=lenas_lead)
    assert (lead.stage, lead.owner_kind, lead.owner_team_id) == ("queued", "team", sales.emea.pk)
    handoff = Handoff.objects.filter(lead=lead).order_by("id").last()
    assert (handoff.reason, handoff.note) == ("sla_breach", "SLA breach: first response, 5 min; moved once already")
    assert not Deadline.objects.filter(lead=lead, status="pending").exists()


def test_a_touch_one_second_before_the_breach_meets_the_clock(lenas_lead, sales):  # noqa: F811
    with time_machine.travel(ARRIVED + timedelta(seconds=299), tick=False):
        activity_log(lead_id=lenas_lead, by=sales.lena, kind="call", result="no_answer", note="", now=clock.now())
    at(ARRIVED, seconds=300)
    first = Deadline.objects.get(lead_id=lenas_lead, kind="first_response")
    assert (first.status, first.met_at) == ("met", ARRIVED + timedelta(seconds=299))
    assert Lead.objects.get(pk=lenas_lead).owner_rep_id == sales.lena.pk
    assert "breach" not in [step[1] for step in steps(lenas_lead)]
    assert Deadline.objects.get(lead_id=lenas_lead, kind="attempts").status == "pending"  # one touch of six
    assert Deadline.objects.get(lead_id=lenas_lead, kind="progress").status == "pending"  # in progress now


def test_a_conversation_meets_the_attempts_clock(lenas_lead, sales):  # noqa: F811
    with time_machine.travel(ARRIVED + timedelta(minutes=1), tick=False):
        activity_log(lead_id=lenas_lead, by=sales.lena, kind="call", result="connected", note="", now=clock.now())
    assert set(Deadline.objects.filter(lead_id=lenas_lead, status="met").values_list("kind", flat=True)) == {"first_response", "attempts"}


def test_a_worker_stopped_for_an_hour_takes_each_missed_step_once_and_skips_late_reminders(lenas_lead, sales):  # noqa: F811
    at(ARRIVED, seconds=3600)
    assert steps(lenas_lead) == [
        ("first_response", "remind", True), ("first_response", "remind", True),
        ("first_response", "breach", False), ("first_response", "alert_manager", False), ("first_response", "reassign", False),
    ]
    assert not OutboxMessage.objects.filter(event="sla.reminder").exists()
    assert Lead.objects.get(pk=lenas_lead).owner_rep_id == sales.jonas.pk


def test_closing_a_lead_stops_its_clocks(lenas_lead, sales):  # noqa: F811
    with time_machine.travel(ARRIVED + timedelta(minutes=1), tick=False):
        outcome_record(lead_id=lenas_lead, by=sales.lena, outcome="not_interested", reason="no budget", now=clock.now())
    assert set(Deadline.objects.filter(lead_id=lenas_lead).values_list("status", flat=True)) == {"cancelled"}
    at(ARRIVED, seconds=300)
    assert steps(lenas_lead) == []


def test_in_progress_starts_progress_and_next_step_clocks(lenas_lead, sales):  # noqa: F811
    due = ARRIVED + timedelta(days=2)
    with time_machine.travel(ARRIVED + timedelta(minutes=1), tick=False):
        activity_log(lead_id=lenas_lead, by=sales.lena, kind="call", result="connected", note="", now=clock.now())
        outcome_record(lead_id=lenas_lead, by=sales.lena, outcome="in_progress", blocker="timing", next_step="send the quote",
                       next_step_at=due, now=clock.now())
    pending = {deadline.kind: deadline for deadline in Deadline.objects.filter(lead_id=lenas_lead, status="pending")}
    assert set(pending) == {"progress", "next_step"}
    assert pending["next_step"].breach_at == due
    assert pending["progress"].breach_at == ARRIVED + timedelta(minutes=1, days=7)


def test_a_reassignment_by_hand_stops_the_old_owners_clocks_and_starts_the_new_owners(lenas_lead, sales):  # noqa: F811
    with time_machine.travel(ARRIVED + timedelta(minutes=1), tick=False):
        lead_reassign(lead_id=lenas_lead, by=sales.maria, reason="Jonas speaks their language", now=clock.now(), to_rep_id=sales.jonas.pk)
    assert set(Deadline.objects.filter(lead_id=lenas_lead, rep=sales.lena).values_list("status", flat=True)) == {"cancelled"}
    jonas = Deadline.objects.get(lead_id=lenas_lead, rep=sales.jonas, kind="first_response")
    assert jonas.breach_at == ARRIVED + timedelta(minutes=6)


def test_a_merged_inquiry_does_not_restart_the_clock(intake, lenas_lead, sales):  # noqa: F811
    with time_machine.travel(ARRIVED + timedelta(minutes=2), tick=False):
        assert intake.post({"email": "pat@buyer.example", "message": "still waiting"}).status_code == 200
    first = Deadline.objects.get(lead_id=lenas_lead, kind="first_response")
    assert (Deadline.objects.filter(lead_id=lenas_lead).count(), first.breach_at) == (2, ARRIVED + timedelta(minutes=5))


def test_a_teams_own_policy_sets_its_leads_clocks(intake, sales):  # noqa: F811
    from leadbaton.sla.services import policy_configure

    policy_configure(name="team emea", team=sales.emea, first_response_minutes=15, attempts=3, attempts_within_days=5,
                     progress_every_days=7, business_hours=False, remind_before_minutes=0, now=ARRIVED)
    with time_machine.travel(ARRIVED, tick=False):
        lead_id = lead_to(intake, sales.lena, "sam@buyer.example")
    first = Deadline.objects.get(lead_id=lead_id, kind="first_response")
    assert (first.breach_at, first.terms["counted"]) == (ARRIVED + timedelta(minutes=15), "wall time")
    assert Deadline.objects.get(lead_id=lead_id, kind="attempts").terms["touches"] == 3


def test_a_policy_may_send_a_breached_lead_straight_to_the_team_queue(intake, sales):  # noqa: F811
    from leadbaton.sla.services import policy_configure

    policy_configure(name="default", first_response_minutes=5, attempts=6, attempts_within_days=10, progress_every_days=7,
                     business_hours=True, remind_before_minutes=0, now=ARRIVED,
                     escalation={"first_response": [[1.0, "queue"]]})
    with time_machine.travel(ARRIVED, tick=False):
        lead_id = lead_to(intake, sales.lena, "sam@buyer.example")
    at(ARRIVED, seconds=300)
    assert steps(lead_id) == [("first_response", "breach", False), ("first_response", "queue", False)]
    lead = Lead.objects.get(pk=lead_id)
    assert (lead.stage, lead.owner_kind) == ("queued", "team")
    assert not Notification.objects.filter(user=sales.maria).exists()  # no alert asked for


def test_a_deadline_whose_steps_fail_is_tried_again_and_then_kept_as_a_dead_letter(lenas_lead, sales):  # noqa: F811
    broken = Deadline.objects.get(lead_id=lenas_lead, kind="first_response")
    broken.steps = [{"at": "half past", "do": "remind", "label": "50% of the time"}]  # a row no code of ours writes
    broken.save(update_fields=["steps"])
    moment = ARRIVED + timedelta(minutes=3)
    for wait in (0, 10, 60, 300, 1800):
        moment += timedelta(seconds=wait)
        at(moment)
        broken.refresh_from_db()
    assert (broken.status, broken.due_at, broken.attempts) == ("pending", None, 5)
    assert "ValueError" in broken.last_error
    assert Lead.objects.get(pk=lenas_lead).owner_rep_id == sales.lena.pk  # the other clocks go on; this one waits for a person


def test_reminders_reach_the_owners_chat_and_alerts_the_teams_chat(intake, sales):  # noqa: F811
    from leadbaton.notify.models import ChatTarget

    ChatTarget.objects.create(rep=sales.lena, url="json://chat.example/lena", label="Lena's phone")
    ChatTarget.objects.create(team=sales.emea, url="json://chat.example/emea", label="EMEA channel")
    with time_machine.travel(ARRIVED, tick=False):
        lead_id = lead_to(intake, sales.lena, "sam@buyer.example")
    with time_machine.travel(ARRIVED + timedelta(seconds=150), tick=False):
        from leadbaton.pipeline.clocks import deadlines_fire

        deadlines_fire(list(Deadline.objects.filter(lead_id=lead_id, kind="first_response").values_list("id", flat=True)), clock.now())
    with time_machine.travel(ARRIVED + timedelta(seconds=300), tick=False):
        deadlines_fire(list(Deadline.objects.filter(lead_id=lead_id, kind="first_response").values_list("id", flat=True)), clock.now())
    chats = OutboxMessage.objects.filter(channel="chat", event__startswith="sla.").order_by("id")
    assert [(message.event, message.chat_target.label) for message in chats] == [
        ("sla.reminder", "Lena's phone"), ("sla.breached", "EMEA channel"),
    ]


# Many at once: the worker fires a batch of deadlines together


def _first_responses(lead_ids: list[int]) -> list[int]:
    return list(Deadline.objects.filter(lead_id__in=lead_ids, kind="first_response").values_list("id", flat=True))


def test_a_batch_of_reminders_takes_the_same_statements_for_two_leads_as_for_six(intake, sales):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadbaton.core.cache import config_scope
    from leadbaton.pipeline.clocks import deadlines_fire

    lena_only(sales)
    with time_machine.travel(ARRIVED, tick=False):
        leads = [lead_to(intake, sales.lena, f"buyer{number}@buyer.example") for number in range(8)]
    statements = []
    with time_machine.travel(ARRIVED + timedelta(seconds=150), tick=False):
        for batch in (leads[:2], leads[2:]):
            with CaptureQueriesContext(connection) as queries, config_scope():  # as the worker calls it
                assert deadlines_fire(_first_responses(batch), clock.now()) == len(batch)
            statements.append(len(queries))
    assert statements[0] == statements[1]
    assert all(steps(lead) == [("first_response", "remind", False)] for lead in leads)
    reminders = OutboxMessage.objects.filter(event="sla.reminder", channel="email")
    assert sorted(reminders.values_list("lead_id", flat=True)) == sorted(leads)
    assert Notification.objects.filter(user=sales.lena, event="sla.reminder").count() == 8
    assert not Deadline.objects.filter(lead_id__in=leads, kind="first_response", claimed_by__isnull=False).exists()


def test_in_one_batch_a_broken_clock_waits_a_breached_one_moves_its_lead_and_a_reminder_goes_out(intake, sales):  # noqa: F811
    from leadbaton.pipeline.clocks import deadlines_fire

    with time_machine.travel(ARRIVED, tick=False):
        early = lead_to(intake, sales.lena, "early@buyer.example")
    with time_machine.travel(ARRIVED + timedelta(seconds=150), tick=False):
        reminded, broken = (lead_to(intake, owner, f"{name}@buyer.example") for owner, name in ((sales.jonas, "later"), (sales.lena, "broken")))
    Deadline.objects.filter(lead_id=broken, kind="first_response").update(steps=[{"at": "half past", "do": "remind", "label": "?"}], due_at=ARRIVED)
    with time_machine.travel(ARRIVED + timedelta(seconds=300), tick=False):
        # early: breached (to Jonas); later: its reminder; broken: fails alone, tried again later
        assert deadlines_fire(_first_responses([early, reminded, broken]), clock.now()) == 6  # a skipped reminder counts
    assert steps(early) == [("first_response", "remind", True), ("first_response", "remind", True),  # too late: not sent
                            ("first_response", "breach", False), ("first_response", "alert_manager", False),
                            ("first_response", "reassign", False)]
    assert Lead.objects.get(pk=early).owner_rep_id == sales.jonas.pk
    assert steps(reminded) == [("first_response", "remind", False)]
    failed = Deadline.objects.get(lead_id=broken, kind="first_response")
    assert failed.status == "pending"
    assert "ValueError" in failed.last_error
    assert failed.due_at == ARRIVED + timedelta(seconds=310)  # its first retry


def test_breaches_that_only_alert_are_recorded_together_and_end_their_clocks(intake, sales, caplog):  # noqa: F811
    from leadbaton.sla.services import policy_configure

    policy_configure(name="default", first_response_minutes=5, attempts=6, attempts_within_days=10, progress_every_days=7,
                     business_hours=True, remind_before_minutes=0, now=ARRIVED, escalation={"first_response": [[1.0, "alert_manager"]]})
    lena_only(sales)
    with time_machine.travel(ARRIVED, tick=False):
        leads = [lead_to(intake, sales.lena, f"buyer{number}@buyer.example") for number in range(3)]
    at(ARRIVED, seconds=300)
    for lead_id in leads:
        assert steps(lead_id) == [("first_response", "breach", False), ("first_response", "alert_manager", False)]
        clock_row = Deadline.objects.get(lead_id=lead_id, kind="first_response")
        assert (clock_row.status, clock_row.breached_at, clock_row.due_at, clock_row.steps_taken) == ("breached", ARRIVED + timedelta(minutes=5), None, 2)
        assert Lead.objects.get(pk=lead_id).owner_rep_id == sales.lena.pk  # nobody asked to move it
    assert Notification.objects.filter(user=sales.maria, event="sla.breached").count() == 3
    assert Deadline.objects.filter(lead_id__in=leads, kind="attempts", status="pending").count() == 3  # the other clocks run on
    assert "failed together" not in caplog.text  # taken together, not one by one after a failed batch


def test_a_lead_one_clock_moves_has_its_other_clocks_fired_after_the_move_not_before(lenas_lead, sales, caplog):  # noqa: F811
    from leadbaton.pipeline.clocks import deadlines_fire

    attempts = Deadline.objects.get(lead_id=lenas_lead, kind="attempts")
    attempts.steps = [{"at": (ARRIVED + timedelta(minutes=4)).isoformat(), "do": "remind", "label": "early"}, *attempts.steps]
    attempts.save(update_fields=["steps"])
    first = Deadline.objects.get(lead_id=lenas_lead, kind="first_response")
    with time_machine.travel(ARRIVED + timedelta(minutes=5), tick=False):
        deadlines_fire([attempts.pk, first.pk], clock.now())  # the worker's batch, in whatever order it claimed them
    assert Lead.objects.get(pk=lenas_lead).owner_rep_id == sales.jonas.pk
    attempts.refresh_from_db()
    assert attempts.status == "cancelled"  # the move stopped it before its reminder
    assert not EscalationStep.objects.filter(deadline=attempts).exists()
    assert not OutboxMessage.objects.filter(event="sla.reminder", lead_id=lenas_lead, payload__headline__startswith="Attempts").exists()
    assert "failed together" not in caplog.text
