"""The weekly reconciliation (P1): each rep's leads balance like a ledger, replayed from the handoffs and the outcomes."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from leadbaton.accounts.models import Role, Team, User
from leadbaton.core import clock
from leadbaton.core.refusals import Refused
from leadbaton.intake.services import source_create
from leadbaton.leads.models import Handoff, Holding, Lead, OwnerKind, Stage
from leadbaton.pipeline.followup import activity_log, lead_reject, outcome_record
from leadbaton.pipeline.ownership import lead_reassign
from leadbaton.pipeline.queue import lead_take, queues_hand_out
from leadbaton.pipeline.recycle import leads_recycle
from leadbaton.reports.periods import Period, period_parse, week_of
from leadbaton.reports.reconciliation import (
    CAME,
    FIGURE_SQL,
    FIGURES,
    LedgerRow,
    Reconciliation,
    figure_leads,
    ledger_check,
    reconciliation,
)
from leadbaton.reports.referee import referee
from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import person, rep

EVERY_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, week 2026-W48


def emea_with(*names: str) -> tuple[Team, User, list[User]]:
    """EMEA (Berlin) with its manager Maria and reps working around the clock, every day, in the order given (round robin)."""
    maria = person("Maria Manager", Role.MANAGER)
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", manager=maria, is_default=True)
    return emea, maria, [rep(name, emea, hours=EVERY_DAY) for name in names]


def arrive(client: Client, email: str) -> dict[str, Any]:
    answer = client.post("/api/v1/leads", json.dumps({"email": email, "first_name": email.split("@")[0].title()}), content_type="application/json")
    assert answer.status_code in (200, 201), answer.json()
    return answer.json()


def figures(row: LedgerRow) -> dict[str, int]:
    return {name: row.count(name) for name in FIGURES}


def row_of(report: Reconciliation, user: User) -> LedgerRow:
    return next(row for row in report.rows if row.rep_id == user.pk)


def test_a_rep_given_40_leads_in_a_month_of_whom_5_said_no_and_2_bought_has_33_in_progress(web_form):
    emea, _, (lena,) = emea_with("Lena Rep")
    days = [date(2026, 11, 2) + timedelta(days=n) for n in range(28)]
    weekdays = [day for day in days if day.weekday() < 5][:20]
    lead_ids = []
    for n, day in enumerate(weekdays):
        with time_machine.travel(datetime(day.year, day.month, day.day, 9, tzinfo=UTC), tick=False):
            for m in range(2):
                answer = arrive(web_form, f"person{n}-{m}@contoso.example")
                assert answer["owner"]["id"] == lena.pk
                lead_ids.append(answer["id"])
    with time_machine.travel(datetime(2026, 11, 27, 14, tzinfo=UTC), tick=False):
        for lead_id in lead_ids:
            activity_log(lead_id=lead_id, by=lena, kind="call", result="connected", note="", now=clock.now())
        for lead_id in lead_ids[:5]:
            outcome_record(lead_id=lead_id, by=lena, outcome="not_interested", reason="no budget this year", now=clock.now())
        for lead_id in lead_ids[5:7]:
            outcome_record(lead_id=lead_id, by=lena, outcome="purchased", value=Decimal("1200"), currency="EUR", now=clock.now())

    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False):
        november = period_parse("2026-11", "Europe/Berlin")
        report = reconciliation(november, now=clock.now(), team_id=emea.pk)

    assert [row.name for row in report.rows] == ["Lena Rep"]
    lena_row = row_of(report, lena)
    assert figures(lena_row) == {"open_at_start": 0, "received": 40, "purchased": 2, "not_interested": 5, "rejected": 0,
                                 "reassigned_away": 0, "open_at_end": 33}
    assert lena_row.figures()["received_by"] == {"routing": 40, "queue": 0, "assigned": 0, "reassigned": 0, "sla": 0}
    assert lena_row.figures()["open_at_end_split"] == {"untouched": 0, "in_progress": 33}
    assert figure_leads(november, "purchased", team_id=emea.pk, rep_id=lena.pk) == lead_ids[5:7]  # each figure names its leads
    assert figure_leads(november, "open_at_end", team_id=emea.pk) == lead_ids[7:]
    assert report.unaccounted == []
    # The month's weeks chain: each week starts with the leads the one before ended with.
    periods = [week_of(date(2026, 11, 2) + timedelta(days=7 * n), "Europe/Berlin") for n in range(5)]
    weeks = [reconciliation(period, now=clock.now(), team_id=emea.pk) for period in periods]
    for earlier, later in itertools.pairwise(periods):
        assert figure_leads(earlier, "open_at_end", team_id=emea.pk) == figure_leads(later, "open_at_start", team_id=emea.pk)
    assert sum(row_of(week, lena).count("received") for week in weeks) == 40


def test_a_reassignment_in_the_middle_of_the_week_moves_exactly_one_lead_from_one_rep_to_the_other(web_form):
    emea, maria, (lena, jonas) = emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(MONDAY, tick=False):
        anna = arrive(web_form, "anna@northwind.example")
        ben = arrive(web_form, "ben@northwind.example")
    assert (anna["owner"]["id"], ben["owner"]["id"]) == (lena.pk, jonas.pk)
    before = reconciliation(week_of(MONDAY.date(), "Europe/Berlin"), now=MONDAY + timedelta(days=1), team_id=emea.pk)
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        lead_reassign(lead_id=anna["id"], by=maria, reason="Lena is at the trade show", to_rep_id=jonas.pk, now=clock.now())

    with time_machine.travel(MONDAY + timedelta(days=8), tick=False):
        after = reconciliation(week_of(MONDAY.date(), "Europe/Berlin"), now=clock.now(), team_id=emea.pk)
        following = reconciliation(week_of(MONDAY.date() + timedelta(days=7), "Europe/Berlin"), now=clock.now(), team_id=emea.pk)

    assert [(row.name, row.count("open_at_end")) for row in before.rows] == [("Jonas Berg", 1), ("Lena Rep", 1)]
    assert figures(row_of(after, lena)) == {"open_at_start": 0, "received": 1, "purchased": 0, "not_interested": 0, "rejected": 0,
                                            "reassigned_away": 1, "open_at_end": 0}
    assert figures(row_of(after, jonas)) == {"open_at_start": 0, "received": 2, "purchased": 0, "not_interested": 0, "rejected": 0,
                                             "reassigned_away": 0, "open_at_end": 2}
    assert figure_leads(week_of(MONDAY.date(), "Europe/Berlin"), "reassigned_away", rep_id=lena.pk) == [anna["id"]]
    assert row_of(after, jonas).figures()["received_by"] == {"routing": 1, "queue": 0, "assigned": 0, "reassigned": 1, "sla": 0}
    assert (row_of(after, lena).count("open_at_end") + row_of(after, jonas).count("open_at_end")) == 2  # nothing lost between them
    assert [(row.name, row.count("open_at_start")) for row in following.rows] == [("Jonas Berg", 2), ("Lena Rep", 0)]  # every rep of the team is listed
    assert (after.unaccounted, following.unaccounted) == ([], [])


def test_a_rejection_a_return_to_the_queue_and_a_hand_out_are_each_counted_where_they_belong(web_form):
    emea, maria, (lena, jonas) = emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(MONDAY, tick=False) as traveller:
        anna, ben = arrive(web_form, "anna@northwind.example"), arrive(web_form, "ben@northwind.example")
        traveller.shift(timedelta(hours=1))
        lead_reject(lead_id=anna["id"], by=lena, reason="student", now=clock.now())
        traveller.shift(timedelta(hours=1))
        lead_reassign(lead_id=ben["id"], by=maria, reason="Jonas is ill", to_team_id=emea.pk, now=clock.now())
        traveller.shift(timedelta(hours=1))
        lead_take(lead_id=ben["id"], by=lena, now=clock.now())
        week = reconciliation(week_of(MONDAY.date(), "Europe/Berlin"), now=clock.now())

    assert figures(row_of(week, lena)) == {"open_at_start": 0, "received": 2, "purchased": 0, "not_interested": 0, "rejected": 1,
                                           "reassigned_away": 0, "open_at_end": 1}
    assert row_of(week, lena).figures()["received_by"] == {"routing": 1, "queue": 1, "assigned": 0, "reassigned": 0, "sla": 0}
    assert figures(row_of(week, jonas))["reassigned_away"] == 1
    assert week.unaccounted == []


def test_weeks_begin_at_midnight_on_monday_in_the_teams_own_time_zone():
    berlin, new_york = period_parse("2026-W48", "Europe/Berlin"), period_parse("2026-W48", "America/New_York")
    assert (berlin.start, berlin.end) == (datetime(2026, 11, 22, 23, tzinfo=UTC), datetime(2026, 11, 29, 23, tzinfo=UTC))
    assert (new_york.start, new_york.end) == (datetime(2026, 11, 23, 5, tzinfo=UTC), datetime(2026, 11, 30, 5, tzinfo=UTC))
    assert (berlin.first_day, berlin.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    summer = period_parse("2026-03", "Europe/Berlin")  # the clocks go forward on 29 March: the month is an hour short
    assert (summer.start, summer.end) == (datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
    assert period_parse("2026-11-02..2026-11-04", "UTC").end == datetime(2026, 11, 5, tzinfo=UTC)
    assert period_parse("2026-W01", "UTC").previous().label == "2025-W52"
    assert period_parse("2026-01", "UTC").previous().label == "2025-12"


def test_a_lead_received_late_on_sunday_in_berlin_belongs_to_that_week_there(web_form):
    emea, _, (lena,) = emea_with("Lena Rep")
    with time_machine.travel(datetime(2026, 11, 22, 22, 30, tzinfo=UTC), tick=False):  # Sunday 23:30 in Berlin
        late = arrive(web_form, "late@northwind.example")
    with time_machine.travel(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), tick=False):  # Monday 00:30 in Berlin, Sunday in UTC
        early = arrive(web_form, "early@northwind.example")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    w47, w48 = period_parse("2026-W47", "Europe/Berlin"), period_parse("2026-W48", "Europe/Berlin")
    assert (figure_leads(w47, "received", team_id=emea.pk), figure_leads(w48, "received", team_id=emea.pk)) == ([late["id"]], [early["id"]])
    assert figure_leads(w48, "open_at_start", team_id=emea.pk) == [late["id"]]
    assert row_of(reconciliation(w48, now=now, team_id=emea.pk), lena).count("open_at_end") == 2


@pytest.mark.parametrize(("text", "message"), [
    ("2026-W54", "'2026-W54' is not a period; give an ISO week (2026-W47), a month (2026-11) or a range of days (2026-11-02..2026-11-15)"),
    ("2026-13", "'2026-13' is not a period; give an ISO week (2026-W47), a month (2026-11) or a range of days (2026-11-02..2026-11-15)"),
    ("last week", "'last week' is not a period; give an ISO week (2026-W47), a month (2026-11) or a range of days (2026-11-02..2026-11-15)"),
    ("2026-11-30..2026-11-01", "'2026-11-30..2026-11-01' ends before it starts; give the first day, then the last"),
    ("2020-01-01..2026-01-01", "'2020-01-01..2026-01-01' is 2193 days long; at most 732"),
])
def test_a_period_that_cannot_be_read_is_refused_with_what_would_be(text, message):
    with pytest.raises(ValueError) as refused:
        period_parse(text, "UTC")
    assert str(refused.value) == message


def test_a_lead_whose_state_its_history_does_not_explain_is_listed_as_unaccounted(web_form):
    _, _, (lena, jonas) = emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(MONDAY, tick=False):
        anna = arrive(web_form, "anna@northwind.example")
    Lead.objects.filter(pk=anna["id"]).update(owner_rep=jonas)  # a write that went round the ledger
    report = reconciliation(week_of(MONDAY.date(), "Europe/Berlin"), now=MONDAY + timedelta(hours=1))
    assert [(item.lead_id, item.rep_id, item.reason) for item in report.unaccounted] == [
        (anna["id"], lena.pk, "it is open with Jonas Berg, but its last handoff gave it to Lena Rep")]
    Holding.objects.filter(lead_id=anna["id"]).delete()
    report = reconciliation(week_of(MONDAY.date(), "Europe/Berlin"), now=MONDAY + timedelta(hours=1))
    assert [(item.lead_id, item.rep_id, item.reason) for item in report.unaccounted] == [
        (anna["id"], jonas.pk, "it is open with Jonas Berg, but no handoff in its history leaves it open with a rep")]
    assert [(item.lead_id, item.reason) for item in ledger_check()] == [
        (anna["id"], "its holdings are not what its ledger makes them: kept none; replayed Lena Rep by routing, 2026-11-23 09:00 to now")]
    Handoff.objects.filter(lead_id=anna["id"]).update(from_kind=OwnerKind.REP, from_rep=jonas)  # a handoff from someone who did not hold it
    Handoff.objects.create(lead_id=anna["id"], at=MONDAY + timedelta(minutes=5), from_kind=OwnerKind.REP, from_rep=jonas, to_kind=OwnerKind.REP,
                           to_rep=lena, to_team=Team.objects.get(slug="emea"), reason=Handoff.Reason.REASSIGNED)
    assert "the ledger hands it over from Jonas Berg, but Lena Rep held it (2026-11-23 09:05 UTC)" in [item.reason for item in ledger_check()]


def test_the_terminal_prints_a_teams_week_and_its_csv(web_form, capsys):
    emea_with("Lena Rep")
    with time_machine.travel(MONDAY, tick=False):
        arrive(web_form, "anna@northwind.example")
    with time_machine.travel(MONDAY + timedelta(days=8), tick=False):
        call_command("report", "weekly", "--team", "emea", "--week", "2026-W48")
        table = capsys.readouterr().out
        call_command("report", "weekly", "--team", "emea")  # the last full week, in the team's time zone
        assert "2026-W48 (2026-11-23 to 2026-11-29, Europe/Berlin)" in capsys.readouterr().out
        call_command("report", "weekly", "--team", "emea", "--week", "2026-W48", "--csv")
        rows = capsys.readouterr().out.splitlines()
    assert "Reconciliation: EMEA, 2026-W48 (2026-11-23 to 2026-11-29, Europe/Berlin)" in table
    assert "Unaccounted: none; every lead is accounted for." in table
    assert rows[0] == ("period,first_day,last_day,time_zone,rep,email,open_at_start,received_routing,received_queue,received_assigned,"
                       "received_reassigned,received_sla,received,purchased,not_interested,rejected,reassigned_away,open_at_end_untouched,"
                       "open_at_end_in_progress,open_at_end")
    week = "2026-W48,2026-11-23,2026-11-29,Europe/Berlin"
    assert rows[1:] == [f"{week},Lena Rep,lena@lumen.example,0,1,0,0,0,0,1,0,0,0,0,1,0,1", f"{week},Total,,0,1,0,0,0,0,1,0,0,0,0,1,0,1"]


@pytest.mark.parametrize(("arguments", "message"), [
    (["weekly", "--team", "nowhere"], "--team: no team 'nowhere'; the teams are emea"),
    (["weekly", "--team", "emea", "--week", "2026-11"], "--week: '2026-11' is not an ISO week; give one such as 2026-W47"),
    (["reconciliation", "--period", "soon"], "--period: 'soon' is not a period; give an ISO week (2026-W47), a month (2026-11) or a range of days (2026-11-02..2026-11-15)"),
])
def test_the_terminal_refuses_what_it_cannot_read_and_says_what_it_takes(db, arguments, message):
    emea_with("Lena Rep")
    with pytest.raises(CommandError) as refused:
        call_command("report", *arguments)
    assert str(refused.value) == message


# The property: whatever happens to the leads, in whatever order, every week balances with nothing unaccounted, and
# asking again later gives the same numbers.
PEOPLE = [f"p{n}@contoso.example" for n in range(6)]
STEPS = st.lists(st.one_of(
    st.tuples(st.just("arrive"), st.sampled_from(PEOPLE)),
    *(st.tuples(st.just(name), st.integers(0, 9)) for name in ("touch", "progress", "purchase", "not_interested", "recycle_later", "reject", "to_queue")),
    *(st.tuples(st.just(name), st.integers(0, 9), st.integers(0, 2)) for name in ("reassign", "take")),
    st.tuples(st.sampled_from(["hand_out", "recycle", "worker"]), st.just(0)),
    st.tuples(st.just("wait"), st.integers(1, 60)),
), min_size=1, max_size=30)


class EveryWeekBalances(TestCase):
    def setup_example(self) -> None:
        super().setup_example()  # each example runs in a transaction of its own, rolled back after it
        self.emea, self.maria, self.reps = emea_with("Lena Rep", "Jonas Berg", "Kim Rep")
        key = source_create(slug="website", name="Website", now=MONDAY).plaintext
        self.client = Client(headers={"Authorization": f"Bearer {key}"})

    def act(self, step: tuple[Any, ...], now: datetime) -> None:
        name, *values = step
        leads = list(Lead.objects.order_by("id").values_list("id", "owner_rep_id"))
        lead_id, owner = leads[values[0] % len(leads)] if leads and name not in ("arrive", "wait") else (0, None)
        by = User.objects.filter(pk=owner).first() or self.reps[0]
        later = now + timedelta(days=3)
        actions = {
            "touch": lambda: activity_log(lead_id=lead_id, by=by, kind="call", result="no_answer", note="", now=now),
            "progress": lambda: outcome_record(lead_id=lead_id, by=by, outcome="in_progress", blocker="timing", next_step="call back",
                                               next_step_at=later, now=now),
            "purchase": lambda: outcome_record(lead_id=lead_id, by=by, outcome="purchased", value=Decimal(100), currency="EUR", now=now),
            "not_interested": lambda: outcome_record(lead_id=lead_id, by=by, outcome="not_interested", reason="no need", now=now),
            "recycle_later": lambda: outcome_record(lead_id=lead_id, by=by, outcome="not_interested", reason="not now", recycle_after_days=1, now=now),
            "reject": lambda: lead_reject(lead_id=lead_id, by=by, reason="wrong_person", now=now),
            "to_queue": lambda: lead_reassign(lead_id=lead_id, by=self.maria, reason="back to the queue", to_team_id=self.emea.pk, now=now),
            "reassign": lambda: lead_reassign(lead_id=lead_id, by=self.maria, reason="cover", to_rep_id=self.reps[values[-1]].pk, now=now),
            "take": lambda: lead_take(lead_id=lead_id, by=self.reps[values[-1]], now=now),
            "hand_out": lambda: queues_hand_out(now=now),
            "recycle": lambda: leads_recycle(now=now),
            "worker": lambda: Worker(poll_seconds=0).tick(),
            "arrive": lambda: arrive(self.client, values[0]),
        }
        if name in actions:
            try:
                actions[name]()
                event(f"{name}: done")
            except Refused:  # a step the product refuses (a closed lead takes no outcome): nothing happened
                event(f"{name}: refused")

    def weeks(self, first: date, until: datetime, now: datetime) -> dict[tuple[str, str], dict[int, dict[str, Any]]]:
        """Every week from `first`'s to `until`'s, for the team and for everyone: each rep's counts, and the leads open
        at its start and end."""
        answers = {}
        week = week_of(first, "Europe/Berlin")
        while week.start <= until:
            for scope, team_id in (("emea", self.emea.pk), ("all", None)):
                report = reconciliation(week, now=now, team_id=team_id)
                assert report.unaccounted == [], (week.label, report.unaccounted)
                for row in [*report.rows, report.total]:
                    assert row.balanced, (week.label, row.name, row.figures())
                    assert row.count("received") == sum(row.count(f"received_{how}") for how in CAME)
                    assert row.count("open_at_end") == row.count("open_at_end_untouched") + row.count("open_at_end_in_progress")
                answers[(scope, week.label)] = {row.rep_id or 0: {
                    **{name: row.count(name) for name in FIGURE_SQL},
                    **{f"{name}_leads": figure_leads(week, name, team_id=team_id, rep_id=row.rep_id) for name in ("open_at_start", "open_at_end")},
                } for row in report.rows}
            week = week_of(week.last_day + timedelta(days=1), "Europe/Berlin")
        return answers

    @settings(max_examples=60, deadline=None)
    @given(steps=STEPS)
    def test_every_week_balances_and_stays_as_it_was(self, steps):
        steps = [*(("arrive", email) for email in PEOPLE[:3]), *steps]
        with time_machine.travel(MONDAY, tick=False) as traveller:
            half = len(steps) // 2
            for step in steps[:half]:
                traveller.shift(timedelta(hours=step[1]) if step[0] == "wait" else timedelta(minutes=7))
                self.act(step, clock.now())
            middle = clock.now()
            then = self.weeks(MONDAY.date(), middle, middle)
            for step in steps[half:]:
                traveller.shift(timedelta(hours=step[1]) if step[0] == "wait" else timedelta(minutes=7))
                self.act(step, clock.now())
            traveller.shift(timedelta(minutes=1))
            now = clock.now()
            later = self.weeks(MONDAY.date(), now, now)

        assert ledger_check() == []  # the holdings are what the ledger, replayed, makes them
        for reason in Handoff.objects.values_list("reason", flat=True).distinct():
            event(f"a handoff {reason}")
        finished = {key: value for key, value in then.items() if week_of_label(key[1]).end <= middle}
        assert finished == {key: later[key] for key in finished}  # a past week, asked again later, is what it was
        labels = sorted({label for _, label in later})
        for scope in ("emea", "all"):  # each week starts with the leads the one before ended with
            for earlier, following in itertools.pairwise(labels):
                for rep_id in set(later[(scope, earlier)]) | set(later[(scope, following)]):
                    ended = later[(scope, earlier)].get(rep_id, {}).get("open_at_end_leads", [])
                    assert ended == later[(scope, following)].get(rep_id, {}).get("open_at_start_leads", []), (scope, earlier, rep_id)
        # The last week ends with what each rep holds open now.
        held: dict[int, list[int]] = {}
        for lead_id, rep_id in Lead.objects.filter(owner_kind=OwnerKind.REP, stage__in=[Stage.ASSIGNED, Stage.IN_PROGRESS]).values_list("id", "owner_rep_id"):
            held.setdefault(rep_id, []).append(lead_id)
        last = later[("all", labels[-1])]
        assert {rep_id: sorted(row["open_at_end_leads"]) for rep_id, row in last.items() if row["open_at_end_leads"]} == {
            rep_id: sorted(ids) for rep_id, ids in held.items()}
        # The referee, counting the weeks together, says of each what the marketing report and the service levels say.
        from tests.reports.test_referee import referee_says, reports_say  # it imports this module's arrivals

        trend = referee(week_of_label(labels[-1]), weeks=len(labels)).weeks
        assert [referee_says(sides) for sides in trend] == [reports_say(week_of_label(label)) for label in labels]


def week_of_label(label: str) -> Period:
    return period_parse(label, "Europe/Berlin")


def test_the_terminal_checks_the_whole_ledger_against_the_holdings(web_form, capsys):
    emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(MONDAY, tick=False):
        anna = arrive(web_form, "anna@northwind.example")
    call_command("report", "check")
    assert capsys.readouterr().out == "Every lead's holdings are what its ledger makes them.\n"
    Holding.objects.filter(lead_id=anna["id"]).update(came=Holding.Came.SLA)  # a summary row that went its own way
    with pytest.raises(CommandError) as refused:
        call_command("report", "check")
    assert str(refused.value) == "1 lead(s) not accounted for; see above"
    assert capsys.readouterr().out == (f"lead {anna['id']}: its holdings are not what its ledger makes them: "
                                       "kept Lena Rep by sla, 2026-11-23 09:00 to now; replayed Lena Rep by routing, 2026-11-23 09:00 to now\n")


def test_a_change_that_took_its_time_before_another_was_made_is_recorded_after_it(web_form):
    # A use case reads the time before it locks the lead (the worker one time for a whole batch): the lead's history
    # keeps the order in which the changes were made, so the ledger's replay and the holdings agree.
    emea, maria, (lena, jonas) = emea_with("Lena Rep", "Jonas Berg")
    with time_machine.travel(MONDAY, tick=False):
        anna = arrive(web_form, "anna@northwind.example")
    late = MONDAY + timedelta(hours=2)
    activity_log(lead_id=anna["id"], by=lena, kind="call", result="no_answer", note="", now=late)
    lead_reassign(lead_id=anna["id"], by=maria, reason="cover", to_rep_id=jonas.pk, now=MONDAY + timedelta(hours=1))
    assert list(Handoff.objects.filter(lead_id=anna["id"]).values_list("at", flat=True)) == [MONDAY, late]
    assert ledger_check() == []
    lead_reassign(lead_id=anna["id"], by=maria, reason="to the queue", to_team_id=emea.pk, now=late)
    queues_hand_out(now=late + timedelta(minutes=5))
    lead_reassign(lead_id=anna["id"], by=maria, reason="back to Lena", to_rep_id=lena.pk, now=late + timedelta(minutes=1))
    assert ledger_check() == []
    assert row_of(reconciliation(week_of(MONDAY.date(), "Europe/Berlin"), now=late + timedelta(hours=1)), lena).count("open_at_end") == 1
