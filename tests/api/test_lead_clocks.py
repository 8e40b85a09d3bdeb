"""A lead's service-level clocks and speed to lead, as GET /api/v1/leads/{id} shows them to whoever may read the lead."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import WEDNESDAY_MORNING_IN_BERLIN, as_user, iso, lead_to, sales, touch  # noqa: F401  (a fixture)

ARRIVED = WEDNESDAY_MORNING_IN_BERLIN  # 11:00 in Berlin: Lena and Jonas work 08:00-18:00
NO_STEPS: list = []


def at(moment, *, seconds: float = 0) -> None:
    """One worker tick at `moment` + seconds."""
    with time_machine.travel(moment + timedelta(seconds=seconds), tick=False):
        Worker(poll_seconds=0).tick()


def read(user, lead_id: int, *, seconds: float) -> dict:
    with time_machine.travel(ARRIVED + timedelta(seconds=seconds), tick=False):
        answer = as_user(user).get(f"/api/v1/leads/{lead_id}")
    assert answer.status_code == 200, answer.json()
    return answer.json()


@pytest.fixture
def lenas_lead(intake, sales):  # noqa: F811
    with time_machine.travel(ARRIVED, tick=False):
        return lead_to(intake, sales.lena, "pat@buyer.example")


def test_a_new_lead_shows_its_owners_pending_clocks_with_the_time_left(lenas_lead, sales):  # noqa: F811
    body = read(sales.lena, lenas_lead, seconds=60)

    first, attempts = body["clocks"]
    assert first == {
        "id": first["id"], "kind": "first_response", "owner": {"id": sales.lena.pk, "name": "Lena Rep"}, "status": "pending",
        "started_at": iso(ARRIVED), "breaches_at": iso(ARRIVED + timedelta(minutes=5)), "met_at": None, "breached_at": None,
        "cancelled_at": None, "why_closed": "", "seconds_left": 240,
        "terms": {"counted": "working time in Europe/Berlin", "minutes": 5, "days": None, "touches": None}, "steps": NO_STEPS,
    }
    assert (attempts["kind"], attempts["status"], attempts["seconds_left"]) == ("attempts", "pending", 10 * 86400 - 60)
    assert attempts["terms"] == {"counted": "calendar days", "minutes": None, "days": 10, "touches": 6}
    assert body["speed_to_lead"] == {
        "seconds_to_owner": 0.0, "seconds_to_first_touch": None, "touches_before_conversation": None,
        "by_clock": {kind: {"met": 0, "breached": 0} for kind in ("first_response", "attempts", "progress", "next_step")},
    }


def test_a_pending_clock_whose_time_has_passed_shows_no_time_left_not_less(lenas_lead, sales):  # noqa: F811
    body = read(sales.lena, lenas_lead, seconds=900)  # no worker ran: the clock is still pending
    first = body["clocks"][0]
    assert (first["kind"], first["status"], first["seconds_left"]) == ("first_response", "pending", 0)


def test_a_breach_shows_every_step_taken_and_the_next_owners_clocks(lenas_lead, sales):  # noqa: F811
    at(ARRIVED, seconds=150)  # a reminder at half the time
    at(ARRIVED, seconds=300)  # the breach (the reminder 2 min before it is too late now): the manager is alerted, the lead goes to Jonas

    body = read(sales.maria, lenas_lead, seconds=360)

    assert [(clock["kind"], clock["owner"]["name"], clock["status"], clock["seconds_left"]) for clock in body["clocks"]] == [
        ("first_response", "Lena Rep", "breached", None), ("attempts", "Lena Rep", "cancelled", None),
        ("first_response", "Jonas Berg", "pending", 240), ("attempts", "Jonas Berg", "pending", 10 * 86400 - 60),
    ]
    lenas = body["clocks"][0]
    assert (lenas["breached_at"], lenas["met_at"]) == (iso(ARRIVED + timedelta(minutes=5)), None)
    assert [(step["action"], step["planned_at"], step["at"], step["skipped"]) for step in lenas["steps"]] == [
        ("remind", iso(ARRIVED + timedelta(seconds=150)), iso(ARRIVED + timedelta(seconds=150)), False),
        ("remind", iso(ARRIVED + timedelta(minutes=3)), iso(ARRIVED + timedelta(minutes=5)), True),  # no worker ran in time
        ("breach", iso(ARRIVED + timedelta(minutes=5)), iso(ARRIVED + timedelta(minutes=5)), False),
        ("alert_manager", iso(ARRIVED + timedelta(minutes=5)), iso(ARRIVED + timedelta(minutes=5)), False),
        ("reassign", iso(ARRIVED + timedelta(minutes=5)), iso(ARRIVED + timedelta(minutes=5)), False),
    ]
    assert body["clocks"][1]["why_closed"] != ""
    assert body["clocks"][2]["started_at"] == iso(ARRIVED + timedelta(minutes=5))
    assert body["speed_to_lead"]["by_clock"]["first_response"] == {"met": 0, "breached": 1}


def test_speed_to_lead_counts_the_touches_before_the_first_conversation_and_the_clocks_met(lenas_lead, sales):  # noqa: F811
    lena = as_user(sales.lena)
    for seconds, kind, result in ((60, "call", "no_answer"), (120, "email", "other"), (180, "call", "connected"), (240, "meeting", "connected")):
        with time_machine.travel(ARRIVED + timedelta(seconds=seconds), tick=False):
            assert touch(lena, lenas_lead, kind, result).status_code == 201

    body = read(sales.lena, lenas_lead, seconds=300)

    speed = body["speed_to_lead"]
    assert (speed["seconds_to_owner"], speed["seconds_to_first_touch"], speed["touches_before_conversation"]) == (0.0, 60.0, 2)
    # Each touch after the first meets the progress clock the one before it started.
    assert speed["by_clock"] == {"first_response": {"met": 1, "breached": 0}, "attempts": {"met": 1, "breached": 0},
                                 "progress": {"met": 3, "breached": 0}, "next_step": {"met": 0, "breached": 0}}
    first = body["clocks"][0]
    assert (first["status"], first["met_at"], first["seconds_left"]) == ("met", iso(ARRIVED + timedelta(seconds=60)), None)
    assert first["why_closed"] != ""


def test_a_meeting_is_a_conversation_whatever_its_result(lenas_lead, sales):  # noqa: F811
    with time_machine.travel(ARRIVED + timedelta(seconds=60), tick=False):
        assert touch(as_user(sales.lena), lenas_lead, "meeting", "other").status_code == 201
    assert read(sales.lena, lenas_lead, seconds=90)["speed_to_lead"]["touches_before_conversation"] == 0


def test_a_reader_who_may_not_read_the_lead_sees_no_clocks(lenas_lead, sales):  # noqa: F811
    with time_machine.travel(ARRIVED, tick=False):
        answer = as_user(sales.jordan).get(f"/api/v1/leads/{lenas_lead}")
    assert answer.status_code == 404
    assert "clocks" not in answer.json()
