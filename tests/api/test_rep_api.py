"""The rep's side of the API: my leads by urgency, touches, outcomes, speed to lead, who may do what, notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.accounts.services import token_issue
from leadbaton.core import clock
from leadbaton.leads.models import Activity, Lead
from leadbaton.qualification.models import LeadDefinition
from leadbaton.routing.models import RoutingRule
from leadbaton.worker.loop import Worker

WEDNESDAY_MORNING_IN_BERLIN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, 05:00 in New York
WEDNESDAY_EVENING_IN_BERLIN = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 21:00 in Berlin: EMEA is off
OFFICE_HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@dataclass
class Sales:
    lena: User  # a rep of EMEA
    jonas: User  # a second rep of EMEA
    jordan: User  # a rep of the Americas
    maria: User  # manages EMEA
    frank: User  # manages the Americas
    mark: User  # marketing
    ada: User  # admin
    emea: Team
    amer: Team


def person(name: str, role: str) -> User:
    first = name.split()[0].lower()
    return User.objects.create_user(f"{first}@lumen.example", "pw", name=name, role=role)


def rep(name: str, team: Team, **profile: Any) -> User:
    user = person(name, Role.REP)
    RepProfile.objects.create(user=user, team=team, time_zone=profile.pop("time_zone", "Europe/Berlin"),
                              hours=profile.pop("hours", OFFICE_HOURS), **profile)
    return user


@pytest.fixture
def sales(db: None) -> Sales:
    maria, frank = person("Maria Manager", Role.MANAGER), person("Frank Manager", Role.MANAGER)
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", manager=maria, is_default=True)
    amer = Team.objects.create(slug="amer", name="Americas", time_zone="America/New_York", manager=frank)
    RoutingRule.objects.create(position=0, name="americas", conditions=[{"field": "country", "in": ["US"]}], team=amer)
    # Round robin takes EMEA's reps in the order they were added: Lena, then Jonas.
    lena, jonas = rep("Lena Rep", emea), rep("Jonas Berg", emea)
    jordan = rep("Jordan Rep", amer, time_zone="America/New_York", hours=ALL_DAY)
    mark = person("Mark Marketer", Role.MARKETING)
    ada = User.objects.create_superuser("ada@lumen.example", "pw", name="Ada Admin")
    return Sales(lena, jonas, jordan, maria, frank, mark, ada, emea, amer)


@pytest.fixture
def morning():
    with time_machine.travel(WEDNESDAY_MORNING_IN_BERLIN, tick=False) as traveller:
        yield traveller


def as_user(user: User) -> Client:
    token = token_issue(user=user, name="tests", now=clock.now()).plaintext
    return Client(headers={"Authorization": f"Bearer {token}"})


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def lead_to(intake, owner: User, email: str, **extra: Any) -> int:
    """Send a lead in through the intake API and check routing gave it to `owner`."""
    answer = intake.post({"email": email, **extra})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["owner"]["id"] == owner.pk, answer.json()["owner"]
    return answer.json()["id"]


def lena_only(sales: Sales) -> None:
    """Jonas is away, so every EMEA lead goes to Lena."""
    RepProfile.objects.filter(user=sales.jonas).update(paused=True, pause_reason="training")


def touch(client: Client, lead_id: int, kind: str = "call", result: str = "no_answer", note: str = "") -> Any:
    return post(client, f"/api/v1/leads/{lead_id}/activities", {"kind": kind, "result": result, "note": note})


def in_progress(client: Client, lead_id: int, due: datetime, blocker: str = "timing", next_step: str = "call back") -> Any:
    body = {"outcome": "in_progress", "blocker": blocker, "next_step": next_step, "next_step_at": due.isoformat()}
    return post(client, f"/api/v1/leads/{lead_id}/outcome", body)


def errors(answer: Any) -> list[tuple[str, str]]:
    return [(error["field"], error["message"]) for error in answer.json()["errors"]]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# My leads, most urgent first


def test_it_lists_my_leads_by_the_clock_that_runs_out_first(intake, sales, morning):
    lena_only(sales)
    lena = as_user(sales.lena)
    later, overdue, no_step = (lead_to(intake, sales.lena, f"{name}@buyer.example") for name in ("later", "overdue", "nostep"))
    morning.shift(timedelta(minutes=1))
    older = lead_to(intake, sales.lena, "older@buyer.example")
    morning.shift(timedelta(minutes=1))
    newer = lead_to(intake, sales.lena, "newer@buyer.example")
    bought = lead_to(intake, sales.lena, "bought@buyer.example")
    for lead_id in (later, overdue, no_step, bought):
        assert touch(lena, lead_id).status_code == 201
    assert in_progress(lena, later, clock.now() + timedelta(days=2)).status_code == 200
    assert in_progress(lena, overdue, clock.now() + timedelta(hours=1)).status_code == 200
    assert post(lena, f"/api/v1/leads/{bought}/outcome", {"outcome": "purchased", "value": 900, "currency": "EUR"}).status_code == 200
    morning.shift(timedelta(hours=3))

    answer = lena.get("/api/v1/me/leads")

    assert answer.status_code == 200
    rows = answer.json()
    # No worker ran, so no clock is recorded breached: the untouched leads' first responses run out first
    # (their time has come: 0 seconds left), then the next steps, then the no_step lead's weekly progress.
    assert [row["id"] for row in rows] == [older, newer, overdue, later, no_step]
    assert [(row["stage"], row["untouched"], row["overdue"]) for row in rows] == [
        ("assigned", True, False), ("assigned", True, False),
        ("in_progress", False, True), ("in_progress", False, False), ("in_progress", False, False),
    ]
    two_minutes_in = WEDNESDAY_MORNING_IN_BERLIN + timedelta(minutes=2)
    assert [row["next_clock"] for row in rows] == [
        {"kind": "first_response", "breaches_at": iso(WEDNESDAY_MORNING_IN_BERLIN + timedelta(minutes=6)), "seconds_left": 0},
        {"kind": "first_response", "breaches_at": iso(WEDNESDAY_MORNING_IN_BERLIN + timedelta(minutes=7)), "seconds_left": 0},
        {"kind": "next_step", "breaches_at": iso(two_minutes_in + timedelta(hours=1)), "seconds_left": 0},
        {"kind": "next_step", "breaches_at": iso(two_minutes_in + timedelta(days=2)), "seconds_left": 45 * 3600},
        {"kind": "progress", "breaches_at": iso(two_minutes_in + timedelta(days=7)), "seconds_left": 165 * 3600},
    ]
    assert rows[0]["name"] == "older@buyer.example"
    assert rows[0]["owner"] == {"kind": "rep", "id": sales.lena.pk, "name": "Lena Rep"}


def test_a_breached_clock_comes_first_then_the_clock_that_runs_out_first_then_the_higher_score(intake, sales, morning):
    LeadDefinition.objects.create(version=1, name="big companies first", required=[], threshold=0, active=True,
                                  fit_rules=[{"field": "company_size", "at_least": 500, "points": 40}], created_at=clock.now())
    lena_only(sales)
    lena = as_user(sales.lena)
    late = lead_to(intake, sales.lena, "late@buyer.example")
    touch(lena, late, "call", "connected")
    assert in_progress(lena, late, clock.now() + timedelta(hours=1)).status_code == 200
    morning.shift(timedelta(hours=1, seconds=1))
    Worker(poll_seconds=0).tick()  # the next step's time has come: Lena's next-step clock is breached
    small = lead_to(intake, sales.lena, "small@buyer.example", company_size=10)
    big = lead_to(intake, sales.lena, "big@buyer.example", company_size=5000)
    morning.shift(timedelta(minutes=1))
    later_big = lead_to(intake, sales.lena, "later-big@buyer.example", company_size=5000)

    rows = lena.get("/api/v1/me/leads").json()

    assert [(row["id"], row["score"]) for row in rows] == [(late, 0), (big, 40), (small, 0), (later_big, 40)]
    assert rows[0]["overdue"] is True
    assert rows[0]["next_clock"]["kind"] in ("attempts", "progress")  # its breached clock is no longer pending
    assert rows[1]["next_clock"] == {"kind": "first_response", "breaches_at": iso(clock.now() + timedelta(minutes=4)), "seconds_left": 240}
    assert rows[3]["next_clock"] == {"kind": "first_response", "breaches_at": iso(clock.now() + timedelta(minutes=5)), "seconds_left": 300}


def test_a_breach_of_the_rep_who_had_the_lead_before_does_not_put_it_first_for_the_next(intake, sales, morning):
    breached = lead_to(intake, sales.lena, "first@buyer.example")  # Lena's; Jonas gets the next
    morning.shift(timedelta(minutes=5))
    Worker(poll_seconds=0).tick()  # Lena's first response is breached: the lead goes to Jonas
    assert Lead.objects.get(pk=breached).owner_rep_id == sales.jonas.pk
    morning.shift(timedelta(seconds=1))
    sooner = lead_to(intake, sales.lena, "second@buyer.example")  # round robin: Lena (Jonas had the last one)

    lenas = as_user(sales.lena).get("/api/v1/me/leads").json()
    jonases = as_user(sales.jonas).get("/api/v1/me/leads").json()

    assert [row["id"] for row in lenas] == [sooner]
    assert [(row["id"], row["next_clock"]["kind"], row["next_clock"]["seconds_left"]) for row in jonases] == [(breached, "first_response", 299)]


def test_a_closed_lead_has_no_next_clock(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    touch(lena, lead_id, "call", "connected")
    post(lena, f"/api/v1/leads/{lead_id}/outcome", {"outcome": "purchased", "value": 900, "currency": "EUR"})
    rows = lena.get("/api/v1/me/leads?stage=purchased").json()
    assert [(row["id"], row["next_clock"]) for row in rows] == [(lead_id, None)]


def test_it_lists_only_my_own_leads(intake, sales, morning):
    mine = lead_to(intake, sales.lena, "dana@northwind.example")
    lead_to(intake, sales.jonas, "raj@contoso.example")
    assert [row["id"] for row in as_user(sales.lena).get("/api/v1/me/leads").json()] == [mine]


def test_it_filters_my_leads_by_stage(intake, sales, morning):
    lena_only(sales)
    lena = as_user(sales.lena)
    untouched = lead_to(intake, sales.lena, "dana@northwind.example")
    lost = lead_to(intake, sales.lena, "raj@contoso.example")
    touch(lena, lost)
    post(lena, f"/api/v1/leads/{lost}/outcome", {"outcome": "not_interested", "reason": "chose a competitor"})

    assert [row["id"] for row in lena.get("/api/v1/me/leads").json()] == [untouched]
    assert [row["id"] for row in lena.get("/api/v1/me/leads?stage=assigned").json()] == [untouched]
    closed = lena.get("/api/v1/me/leads?stage=not_interested").json()
    assert [(row["id"], row["lost_reason"]) for row in closed] == [(lost, "chose a competitor")]


def test_it_names_the_stages_for_an_unknown_one(sales):
    answer = as_user(sales.lena).get("/api/v1/me/leads?stage=won")
    assert answer.status_code == 422
    assert errors(answer) == [
        ("stage", "'won' is not a stage; use one of nurture, queued, assigned, in_progress, purchased, not_interested, rejected")
    ]


def test_it_keeps_the_number_of_queries_for_my_leads_constant(intake, sales, morning):
    lena_only(sales)
    lena = as_user(sales.lena)
    first = lead_to(intake, sales.lena, "lead0@buyer.example")
    touch(lena, first)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert lena.get("/api/v1/me/leads").status_code == 200
        return len(captured.captured_queries)

    one = queries()
    for number in range(1, 10):
        lead_to(intake, sales.lena, f"lead{number}@buyer.example", company=f"Buyer {number}")
    assert len(lena.get("/api/v1/me/leads").json()) == 10
    assert queries() == one


# Touches


def test_the_first_touch_sets_first_touch_at_and_moves_an_untouched_lead_to_in_progress(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    received = clock.now()
    morning.shift(timedelta(seconds=90))
    lena = as_user(sales.lena)

    answer = touch(lena, lead_id, "call", "voicemail", "left a message about the demo")

    assert answer.status_code == 201
    body = answer.json()
    assert body["activity"]["kind"] == "call"
    assert body["activity"]["result"] == "voicemail"
    assert body["activity"]["note"] == "left a message about the demo"
    assert body["activity"]["by"] == {"id": sales.lena.pk, "name": "Lena Rep"}
    assert body["activity"]["at"] == iso(received + timedelta(seconds=90))
    lead = body["lead"]
    assert (lead["stage"], lead["untouched"], lead["touch_count"]) == ("in_progress", False, 1)
    assert lead["first_touch_at"] == iso(received + timedelta(seconds=90))
    assert (lead["seconds_to_owner"], lead["seconds_to_first_touch"]) == (0.0, 90.0)


def test_later_touches_count_but_keep_the_first_touch_time(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    morning.shift(timedelta(minutes=2))
    touch(lena, lead_id, "email", "bounced")
    morning.shift(timedelta(hours=1))
    lead = touch(lena, lead_id, "sms", "other").json()["lead"]
    assert (lead["touch_count"], lead["seconds_to_first_touch"]) == (2, 120.0)
    assert lead["last_progress_at"] == iso(clock.now())


def test_a_note_is_kept_on_the_timeline_but_is_not_a_touch(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    answer = touch(lena, lead_id, "note", "", "She is at a trade show until Friday")
    assert answer.status_code == 201
    lead = answer.json()["lead"]
    assert (lead["stage"], lead["untouched"], lead["touch_count"], lead["first_touch_at"]) == ("assigned", True, 0, None)
    timeline = lena.get(f"/api/v1/leads/{lead_id}/activities").json()
    assert [(row["kind"], row["note"]) for row in timeline] == [("note", "She is at a trade show until Friday")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"kind": "fax", "result": "connected"}, [("kind", "'fax' is not a kind of activity; use one of call, email, sms, meeting, note")]),
        ({"kind": "outcome"}, [("kind", "'outcome' is not a kind of activity; use one of call, email, sms, meeting, note")]),
        ({"kind": "call"}, [("result", "is required for a call; use one of connected, no_answer, voicemail, bounced, other")]),
        ({"kind": "call", "result": "busy"}, [("result", "'busy' is not a result; use one of connected, no_answer, voicemail, bounced, other")]),
        ({"kind": "note"}, [("note", "is required for a note: write what you want the team to know")]),
        ({"kind": "note", "result": "connected", "note": "hi"}, [("result", "a note has no result; leave it out, or log the touch it belongs to")]),
        ({"kind": "meeting", "result": "connected", "note": "x" * 5001}, [("note", "is 5001 characters; at most 5000")]),
        ({"result": "connected"}, [("kind", "is required")]),
    ],
)
def test_it_names_what_is_wrong_with_a_touch(intake, sales, morning, body, expected):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    answer = post(as_user(sales.lena), f"/api/v1/leads/{lead_id}/activities", body)
    assert answer.status_code == 422
    assert errors(answer) == expected
    assert not Activity.objects.exists()
    assert Lead.objects.get().first_touch_at is None


# Speed to lead


def test_speed_to_lead_runs_from_the_first_inquiry_to_the_owner_and_to_the_first_touch(intake, sales, morning):
    LeadDefinition.objects.create(version=1, name="needs a phone", required=["phone"], fit_rules=[], threshold=0,
                                  active=True, created_at=clock.now())
    first = intake.post({"email": "dana@northwind.example"}).json()
    assert first["stage"] == "nurture"
    morning.shift(timedelta(minutes=5))
    second = intake.post({"email": "dana@northwind.example", "phone": "+49 30 901820"}).json()
    assert (second["id"], second["stage"], second["owner"]["id"]) == (first["id"], "assigned", sales.lena.pk)
    lena = as_user(sales.lena)

    before_touch = lena.get(f"/api/v1/leads/{first['id']}").json()
    morning.shift(timedelta(minutes=2))
    touch(lena, first["id"], "call", "connected")
    after_touch = lena.get(f"/api/v1/leads/{first['id']}").json()

    assert (before_touch["seconds_to_owner"], before_touch["seconds_to_first_touch"]) == (300.0, None)
    assert (after_touch["seconds_to_owner"], after_touch["seconds_to_first_touch"]) == (300.0, 420.0)
    assert after_touch["received_at"] == iso(WEDNESDAY_MORNING_IN_BERLIN)
    assert after_touch["owned_at"] == iso(WEDNESDAY_MORNING_IN_BERLIN + timedelta(minutes=5))


def test_a_lead_nobody_owns_yet_has_no_speed_to_lead(intake, sales):
    with time_machine.travel(WEDNESDAY_EVENING_IN_BERLIN, tick=False):
        lead_id = intake.post({"email": "dana@northwind.example"}).json()["id"]
        body = as_user(sales.maria).get(f"/api/v1/leads/{lead_id}").json()
    assert (body["stage"], body["seconds_to_owner"], body["seconds_to_first_touch"]) == ("queued", None, None)


# Outcomes


def test_it_records_in_progress_with_a_blocker_and_a_dated_next_step(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    touch(lena, lead_id, "call", "connected")
    due = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    answer = in_progress(lena, lead_id, due, blocker="waiting_on_us", next_step="send the security questionnaire")

    assert answer.status_code == 200
    lead = answer.json()
    assert (lead["stage"], lead["blocker"], lead["next_step"]) == ("in_progress", "waiting_on_us", "send the security questionnaire")
    assert (lead["next_step_at"], lead["overdue"], lead["closed_at"]) == (iso(due), False, None)
    outcome = lena.get(f"/api/v1/leads/{lead_id}/activities").json()[-1]
    assert (outcome["kind"], outcome["by"]["name"]) == ("outcome", "Lena Rep")
    assert outcome["note"] == "In progress; blocker: waiting on us; next: send the security questionnaire (due 2026-11-27T09:00:00+00:00)"
    assert outcome["detail"] == {"outcome": "in_progress", "blocker": "waiting_on_us",
                                 "next_step": "send the security questionnaire", "next_step_at": "2026-11-27T09:00:00+00:00"}


def test_purchased_closes_the_lead_with_its_value(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    touch(lena, lead_id, "meeting", "connected")
    in_progress(lena, lead_id, clock.now() + timedelta(days=1))

    answer = post(lena, f"/api/v1/leads/{lead_id}/outcome", {"outcome": "purchased", "value": "12500.50", "currency": "eur"})

    assert answer.status_code == 200
    lead = answer.json()
    assert (lead["stage"], lead["value"], lead["currency"], lead["closed_at"]) == ("purchased", "12500.50", "EUR", iso(clock.now()))
    assert (lead["blocker"], lead["next_step"], lead["next_step_at"]) == ("", "", None)
    assert lena.get("/api/v1/me/leads").json() == []


def test_not_interested_closes_the_lead_with_its_reason(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    touch(lena, lead_id, "call", "connected")
    answer = post(lena, f"/api/v1/leads/{lead_id}/outcome", {"outcome": "not_interested", "reason": "  chose a competitor "})
    assert answer.status_code == 200
    assert (answer.json()["stage"], answer.json()["lost_reason"]) == ("not_interested", "chose a competitor")
    assert Lead.objects.get().closed_at == clock.now()


def test_a_purchase_without_a_first_touch_closes_the_lead_too(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    answer = post(as_user(sales.lena), f"/api/v1/leads/{lead_id}/outcome", {"outcome": "purchased", "value": 40, "currency": "USD"})
    assert (answer.status_code, answer.json()["stage"], answer.json()["first_touch_at"]) == (200, "purchased", None)


def test_an_untouched_lead_cannot_be_in_progress_before_its_first_touch(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    answer = in_progress(as_user(sales.lena), lead_id, clock.now() + timedelta(days=1))
    assert answer.status_code == 409
    assert errors(answer) == [("stage", "this lead is untouched (assigned, no touch yet); log the first touch "
                                        f"(POST /api/v1/leads/{lead_id}/activities) before recording it in progress")]


BLOCKERS = "budget, timing, authority, need, competitor, waiting_on_us, not_reached_yet, other"
TOMORROW = "2026-11-26T10:00:00+01:00"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"outcome": "won"}, [("outcome", "'won' is not an outcome; use one of in_progress, purchased, not_interested")]),
        ({"outcome": "in_progress"}, [
            ("blocker", f"is required for in_progress: what holds the customer back; use one of {BLOCKERS}"),
            ("next_step", "is required for in_progress: say what happens next, e.g. 'send the proposal'"),
            ("next_step_at", "is required for in_progress: when the next step is due, e.g. 2026-11-27T10:00:00+01:00"),
        ]),
        ({"outcome": "in_progress", "blocker": "money", "next_step": "call", "next_step_at": TOMORROW},
         [("blocker", f"'money' is not a blocker; use one of {BLOCKERS}")]),
        ({"outcome": "in_progress", "blocker": "budget", "next_step": "call", "next_step_at": "2026-11-25T10:59:00+01:00"},
         [("next_step_at", "must be in the future (it is 2026-11-25 10:00 UTC now)")]),
        ({"outcome": "in_progress", "blocker": "budget", "next_step": "call", "next_step_at": "2026-11-26T10:00:00"},
         [("next_step_at", "has no time zone; add one, e.g. 2026-11-27T10:00:00+01:00")]),
        ({"outcome": "in_progress", "blocker": "budget", "next_step": "x" * 501, "next_step_at": TOMORROW},
         [("next_step", "is 501 characters; at most 500")]),
        ({"outcome": "in_progress", "blocker": "budget", "next_step": "call", "next_step_at": "soon"},
         [("next_step_at", "'soon' is not a date and time; use ISO 8601, e.g. 2026-11-27T10:00:00+01:00")]),
        ({"outcome": "purchased"}, [
            ("value", "is required for purchased: what the deal is worth, e.g. 12500.00"),
            ("currency", "is required for purchased: an ISO 4217 code such as EUR"),
        ]),
        ({"outcome": "purchased", "value": 0, "currency": "EUR"}, [("value", "must be more than 0")]),
        ({"outcome": "purchased", "value": -5, "currency": "EUR"}, [("value", "must be more than 0")]),
        ({"outcome": "purchased", "value": "10.005", "currency": "EUR"},
         [("value", "has more than 2 decimal places; give it to the cent at most")]),
        ({"outcome": "purchased", "value": 1e10, "currency": "EUR"}, [("value", "must be less than 10000000000")]),
        ({"outcome": "purchased", "value": 100, "currency": "EURO"}, [("currency", "'EURO' is not an ISO 4217 code such as EUR")]),
        ({"outcome": "purchased", "value": 100, "currency": "XYZ"}, [("currency", "'XYZ' is not an ISO 4217 code such as EUR")]),
        ({"outcome": "purchased", "value": 100, "currency": "EUR", "blocker": "budget"},
         [("blocker", "applies only to in_progress; leave it out for purchased")]),
        ({"outcome": "not_interested"}, [("reason", "is required for not_interested: say why, e.g. 'chose a competitor'")]),
        ({"outcome": "not_interested", "reason": "no budget", "value": 10},
         [("value", "applies only to purchased; leave it out for not_interested")]),
    ],
)
def test_it_names_what_is_wrong_with_an_outcome(intake, sales, morning, body, expected):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    touch(lena, lead_id)
    answer = post(lena, f"/api/v1/leads/{lead_id}/outcome", body)
    assert answer.status_code == 422
    assert errors(answer) == expected
    lead = Lead.objects.get()
    assert (lead.stage, lead.blocker, lead.value, lead.closed_at) == ("in_progress", "", None, None)
    assert not Activity.objects.filter(kind="outcome").exists()


@pytest.mark.parametrize("outcome", [
    {"outcome": "purchased", "value": 500, "currency": "GBP"},
    {"outcome": "not_interested", "reason": "no budget this year"},
])
def test_a_closed_lead_refuses_new_touches_and_outcomes(intake, sales, morning, outcome):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    touch(lena, lead_id, "call", "connected")
    assert post(lena, f"/api/v1/leads/{lead_id}/outcome", outcome).status_code == 200
    stage = outcome["outcome"].replace("_", " ")
    refusal = [("stage", f"this lead is {stage} (closed 2026-11-25 10:00 UTC); a closed lead takes no new touches or outcomes")]

    again = touch(lena, lead_id)
    reopen = in_progress(lena, lead_id, clock.now() + timedelta(days=1))

    assert (again.status_code, errors(again)) == (409, refusal)
    assert (reopen.status_code, errors(reopen)) == (409, refusal)
    assert Lead.objects.get().touch_count == 1


# Who may do what


@pytest.fixture
def leads_around(intake, sales, morning) -> dict[str, int]:
    """Lena's lead, Jonas's lead, Jordan's lead (Americas), and a lead waiting in the EMEA queue."""
    ids = {
        "lena's": lead_to(intake, sales.lena, "dana@northwind.example"),
        "jonas's": lead_to(intake, sales.jonas, "raj@contoso.example"),
        "jordan's": lead_to(intake, sales.jordan, "lee@fabrikam.example", country="US"),
    }
    morning.move_to(WEDNESDAY_EVENING_IN_BERLIN)  # EMEA has gone home: the next EMEA lead waits in its queue
    queued = intake.post({"email": "kim@tailspin.example"}).json()
    assert (queued["stage"], queued["owner"]["name"]) == ("queued", "EMEA queue")
    ids["queued"] = queued["id"]
    return ids


OK = "ok"
UNSEEN = (404, "lead_id", "there is no lead with this id that you can see")  # the same answer as for an id no lead has
IN_QUEUE = "this lead waits in the EMEA queue; reps can only work their own leads (a manager can assign it)"


@pytest.mark.parametrize(
    ("who", "lead", "read", "work"),
    [
        ("lena", "lena's", OK, OK),
        ("lena", "jonas's", UNSEEN, UNSEEN),
        ("lena", "queued", OK, (403, "owner", IN_QUEUE)),
        ("jordan", "queued", UNSEEN, UNSEEN),
        ("maria", "jonas's", OK, OK),
        ("maria", "jordan's", UNSEEN, UNSEEN),
        ("maria", "queued", OK, (409, "stage", "this lead is queued, not yet with a rep; touches and outcomes are logged once a rep owns it")),
        ("frank", "jordan's", OK, OK),
        ("frank", "jonas's", UNSEEN, UNSEEN),
        ("mark", "jonas's", OK, (403, "role", "marketing reads leads but cannot log touches or outcomes; Jonas Berg of EMEA works this lead")),
        ("ada", "jonas's", OK, OK),
    ],
)
def test_who_may_read_and_work_a_lead(sales, leads_around, who, lead, read, work):
    client = as_user(getattr(sales, who))
    lead_id = leads_around[lead]
    answers = {
        "read": [(client.get(f"/api/v1/leads/{lead_id}"), 200), (client.get(f"/api/v1/leads/{lead_id}/activities"), 200)],
        "work": [(touch(client, lead_id, "call", "connected"), 201),
                 (post(client, f"/api/v1/leads/{lead_id}/outcome", {"outcome": "not_interested", "reason": "test"}), 200)],
    }
    for what, expected in (("read", read), ("work", work)):
        for answer, ok in answers[what]:
            if expected == OK:
                assert answer.status_code == ok, answer.json()
            else:
                status, field, message = expected
                assert (answer.status_code, errors(answer)) == (status, [(field, message)])


def test_a_manager_touch_counts_and_is_attributed_to_the_manager(sales, leads_around):
    answer = touch(as_user(sales.maria), leads_around["jonas's"], "call", "connected", "covering for Jonas")
    assert answer.status_code == 201
    assert answer.json()["activity"]["by"] == {"id": sales.maria.pk, "name": "Maria Manager"}
    assert answer.json()["lead"]["stage"] == "in_progress"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/leads/999999"),
        ("get", "/api/v1/leads/999999/activities"),
        ("post", "/api/v1/leads/999999/activities"),
        ("post", "/api/v1/leads/999999/outcome"),
    ],
)
def test_it_answers_404_for_a_lead_that_does_not_exist(sales, method, path):
    client = as_user(sales.lena)
    body = {"kind": "call", "result": "connected"} if path.endswith("activities") else {"outcome": "purchased"}
    answer = client.get(path) if method == "get" else post(client, path, body)
    assert answer.status_code == 404
    assert errors(answer) == [("lead_id", "there is no lead with this id that you can see")]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/leads/{}", None),
        ("get", "/api/v1/leads/{}/activities", None),
        ("get", "/api/v1/leads/{}/routing", None),
        ("post", "/api/v1/leads/{}/activities", {"kind": "call", "result": "connected"}),
        ("post", "/api/v1/leads/{}/outcome", {"outcome": "not_interested", "reason": "chose a competitor"}),
        ("post", "/api/v1/leads/{}/reassign", {"to_team": "amer", "reason": "US customer"}),
    ],
)
def test_a_lead_you_may_not_read_answers_exactly_as_one_that_does_not_exist(sales, leads_around, method, path, body):
    for who, theirs in (("lena", "jonas's"), ("jordan", "queued"), ("frank", "lena's"), ("maria", "jordan's")):
        client = as_user(getattr(sales, who))
        answers = [client.get(path.format(lead_id)) if method == "get" else post(client, path.format(lead_id), body)
                   for lead_id in (leads_around[theirs], 999999)]
        assert [answer.status_code for answer in answers] == [404, 404], who
        assert answers[0].content == answers[1].content, who
        for name in ("Jonas", "Lena", "Jordan", "EMEA", "Americas"):
            assert name not in answers[0].content.decode(), (who, name)


def test_the_rep_api_needs_a_token(db):
    for path in ("/api/v1/me/leads", "/api/v1/me/queue", "/api/v1/me/notifications"):
        assert Client().get(path).status_code == 401


# The team queue


def test_my_queue_shows_my_teams_waiting_leads_highest_score_first_then_oldest(intake, sales):
    LeadDefinition.objects.create(version=1, name="big companies first", required=[], threshold=0, active=True,
                                  fit_rules=[{"field": "company_size", "at_least": 500, "points": 40}], created_at=clock.now())
    with time_machine.travel(WEDNESDAY_EVENING_IN_BERLIN, tick=False) as evening:
        small_older = intake.post({"email": "a@small.example", "company_size": 10}).json()["id"]
        evening.shift(timedelta(minutes=1))
        big = intake.post({"email": "b@big.example", "company_size": 5000}).json()["id"]
        evening.shift(timedelta(minutes=1))
        small_newer = intake.post({"email": "c@small2.example", "company_size": 10}).json()["id"]
        evening.shift(timedelta(minutes=1))
        intake.post({"email": "d@us.example", "country": "US"})  # Jordan works all day: assigned, not queued

        lena_sees = as_user(sales.lena).get("/api/v1/me/queue").json()
        maria_sees = as_user(sales.maria).get("/api/v1/me/queue").json()
        jordan_sees = as_user(sales.jordan).get("/api/v1/me/queue").json()
        frank_sees = as_user(sales.frank).get("/api/v1/me/queue").json()
        mark_sees = as_user(sales.mark).get("/api/v1/me/queue").json()

    assert [row["id"] for row in lena_sees] == [big, small_older, small_newer]
    assert (lena_sees[0]["score"], lena_sees[0]["stage"], lena_sees[0]["owner"]["name"]) == (40, "queued", "EMEA queue")
    assert [row["id"] for row in maria_sees] == [row["id"] for row in mark_sees] == [big, small_older, small_newer]
    assert (jordan_sees, frank_sees) == ([], [])


# Notifications


def test_it_lists_my_notifications_and_marks_them_read(intake, sales, morning):
    lena_only(sales)
    first = lead_to(intake, sales.lena, "dana@northwind.example", first_name="Dana")
    morning.shift(timedelta(minutes=1))
    second = lead_to(intake, sales.lena, "raj@contoso.example", first_name="Raj")
    lena = as_user(sales.lena)

    listed = lena.get("/api/v1/me/notifications").json()
    assert [(row["lead_id"], row["title"], row["read_at"]) for row in listed] == [
        (second, "New lead for you: Raj", None), (first, "New lead for you: Dana", None),
    ]
    assert listed[0]["event"] == "lead.assigned"
    assert listed[0]["card"]["email"] == "raj@contoso.example"

    assert post(lena, "/api/v1/me/notifications/read", {"ids": [listed[0]["id"]]}).json() == {"marked": 1}
    assert [row["lead_id"] for row in lena.get("/api/v1/me/notifications?unread=true").json()] == [first]
    assert post(lena, "/api/v1/me/notifications/read", {}).json() == {"marked": 1}
    assert lena.get("/api/v1/me/notifications?unread=true").json() == []
    assert lena.get("/api/v1/me/notifications").json()[0]["read_at"] == iso(clock.now())


def test_nobody_marks_someone_elses_notifications_read(intake, sales, morning):
    lead_to(intake, sales.lena, "dana@northwind.example")
    hers = as_user(sales.lena).get("/api/v1/me/notifications").json()[0]["id"]
    assert post(as_user(sales.jonas), "/api/v1/me/notifications/read", {"ids": [hers]}).json() == {"marked": 0}
    assert as_user(sales.lena).get("/api/v1/me/notifications?unread=true").json()[0]["id"] == hers


def test_marking_all_read_needs_no_body(intake, sales, morning):
    lead_to(intake, sales.lena, "dana@northwind.example")
    lena = as_user(sales.lena)
    assert lena.post("/api/v1/me/notifications/read", content_type="application/json").json() == {"marked": 1}


# Reading a lead


def test_a_rep_reads_their_lead_with_its_timeline_and_outcome(intake, sales, morning):
    lead_id = lead_to(intake, sales.lena, "dana@northwind.example", message="Can we see a demo?")
    lena = as_user(sales.lena)
    morning.shift(timedelta(minutes=3))
    touch(lena, lead_id, "call", "connected", "demo booked")
    in_progress(lena, lead_id, datetime(2026, 11, 30, 9, 0, tzinfo=UTC), blocker="authority", next_step="demo with the CFO")

    body = lena.get(f"/api/v1/leads/{lead_id}").json()

    assert [inquiry["message"] for inquiry in body["inquiries"]] == ["Can we see a demo?"]
    assert [handoff["to_rep_id"] for handoff in body["handoffs"]] == [sales.lena.pk]
    call, outcome = body["activities"]
    assert (call["kind"], call["result"], call["note"], outcome["kind"]) == ("call", "connected", "demo booked", "outcome")
    assert (body["stage"], body["untouched"], body["touch_count"]) == ("in_progress", False, 1)
    assert (body["blocker"], body["next_step"], body["next_step_at"]) == ("authority", "demo with the CFO", "2026-11-30T09:00:00Z")
    assert (body["value"], body["currency"], body["lost_reason"], body["closed_at"]) == (None, "", "", None)
    assert (body["seconds_to_owner"], body["seconds_to_first_touch"]) == (0.0, 180.0)
