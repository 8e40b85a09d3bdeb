"""Catching up (H3): a rep behind on their leads gets no new ones, says why, and is back the moment they catch up."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadbaton.core import clock
from leadbaton.leads.models import Handoff, Lead
from leadbaton.sla import services as sla
from tests.api import test_rep_api
from tests.api.test_rep_api import Sales, as_user, in_progress, lead_to, lena_only, touch

# The EMEA and Americas teams, their people, and Wednesday morning in Berlin.
sales, morning = test_rep_api.sales, test_rep_api.morning

STALE = "catching up: 2 of 5 open leads stale (over 20%)"


def policy(**catch_up: int) -> None:
    """The default service levels, with these catch-up limits."""
    sla.policy_configure(name="default", first_response_minutes=5, attempts=6, attempts_within_days=10, progress_every_days=7,
                         business_hours=True, remind_before_minutes=2, now=clock.now(), **catch_up)


def leads_in_progress(intake: Any, sales: Sales, count: int, *, next_step_in: timedelta) -> list[int]:
    """`count` leads for Lena, each touched and in progress with a next step `next_step_in` from now."""
    lena = as_user(sales.lena)
    ids = [lead_to(intake, sales.lena, f"buyer{number}@buyer.example") for number in range(count)]
    for lead_id in ids:
        assert touch(lena, lead_id).status_code == 201
        assert in_progress(lena, lead_id, clock.now() + next_step_in).status_code == 200
    return ids


def queued(intake: Any, email: str) -> dict[str, Any]:
    answer = intake.post({"email": email})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["stage"] == "queued", answer.json()
    return answer.json()


def test_a_rep_with_too_many_stale_leads_gets_none_until_the_touch_that_brings_them_under(intake, sales, morning):
    lena_only(sales)
    ids = leads_in_progress(intake, sales, 5, next_step_in=timedelta(days=30))
    morning.shift(timedelta(days=8))  # the next Thursday, 11:00 in Berlin
    for lead_id in ids[:3]:
        assert touch(as_user(sales.lena), lead_id).status_code == 201

    waiting = queued(intake, "first@waiting.example")  # 2 of 5 stale: 40%

    handoff = Handoff.objects.filter(lead_id=waiting["id"]).latest("at")
    assert STALE in handoff.note
    assert touch(as_user(sales.lena), ids[3]).status_code == 201  # 1 of 5: 20% is not over 20%
    lead_to(intake, sales.lena, "second@waiting.example")


def test_a_reassignment_or_an_outcome_counts_at_once_too(intake, sales, morning):
    lena_only(sales)
    ids = leads_in_progress(intake, sales, 5, next_step_in=timedelta(days=30))
    morning.shift(timedelta(days=8))
    for lead_id in ids[:3]:
        assert touch(as_user(sales.lena), lead_id).status_code == 201
    queued(intake, "first@waiting.example")

    answer = as_user(sales.maria).post(f"/api/v1/leads/{ids[3]}/reassign", {"to_team": "emea", "reason": "Lena is behind"},
                                       content_type="application/json")
    assert answer.status_code == 200, answer.json()
    waiting = queued(intake, "second@waiting.example")
    assert "catching up: 1 of 4 open leads stale (over 20%)" in Handoff.objects.filter(lead_id=waiting["id"]).latest("at").note
    assert in_progress(as_user(sales.lena), ids[4], clock.now() + timedelta(days=3)).status_code == 200  # an outcome is progress

    lead_to(intake, sales.lena, "third@waiting.example")


def test_a_rep_with_too_many_overdue_next_steps_gets_none_until_one_is_moved(intake, sales, morning):
    lena_only(sales)
    policy(catch_up_stale_share=0, catch_up_overdue_next_steps=2)
    ids = leads_in_progress(intake, sales, 3, next_step_in=timedelta(hours=1))
    morning.shift(timedelta(hours=2))

    waiting = queued(intake, "first@waiting.example")

    assert "catching up: 3 next steps overdue (over 2)" in Handoff.objects.filter(lead_id=waiting["id"]).latest("at").note
    assert in_progress(as_user(sales.lena), ids[0], clock.now() + timedelta(days=1)).status_code == 200
    lead_to(intake, sales.lena, "second@waiting.example")  # 2 overdue is not over 2


def test_limits_of_zero_switch_the_gate_off_and_count_nothing(intake, sales, morning):
    lena_only(sales)
    policy(catch_up_stale_share=0, catch_up_overdue_next_steps=0)
    leads_in_progress(intake, sales, 2, next_step_in=timedelta(hours=1))
    morning.shift(timedelta(days=8))

    with CaptureQueriesContext(connection) as captured:
        lead_to(intake, sales.lena, "next@buyer.example")

    assert not [query for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]


def test_the_gate_counts_every_rep_of_the_team_in_the_query_that_reads_the_reps(intake, sales, morning):
    from leadbaton.accounts.models import RepProfile

    lena_only(sales)
    leads_in_progress(intake, sales, 2, next_step_in=timedelta(hours=1))

    with CaptureQueriesContext(connection) as captured:
        intake.post({"email": "next@buyer.example"})

    counts = [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1, counts
    assert f"FROM {RepProfile._meta.db_table} p" in counts[0]  # no round trip of its own


def test_routing_explain_names_the_reason_in_the_api_and_the_cli(intake, sales, morning):
    lena_only(sales)
    ids = leads_in_progress(intake, sales, 5, next_step_in=timedelta(days=30))
    morning.shift(timedelta(days=8))
    for lead_id in ids[:3]:
        assert touch(as_user(sales.lena), lead_id).status_code == 201

    answer = as_user(sales.maria).get(f"/api/v1/leads/{ids[0]}/routing")

    assert answer.status_code == 200, answer.json()
    reps = {rep["name"]: rep for rep in answer.json()["reps"]}
    assert reps["Lena Rep"]["eligible"] is False
    assert reps["Lena Rep"]["reasons"] == [STALE]
    assert "nobody in EMEA can take a lead now" in answer.json()["note"]
    out = StringIO()
    call_command("routing", "explain", str(ids[0]), stdout=out)
    assert STALE in out.getvalue()
    assert Lead.objects.get(pk=ids[0]).owner_rep_id == sales.lena.pk


def test_the_rep_sees_for_themselves_why_they_get_no_new_leads_and_when_that_ends(intake, sales, morning):
    lena_only(sales)
    ids = leads_in_progress(intake, sales, 5, next_step_in=timedelta(days=30))
    lena = as_user(sales.lena)
    me = lena.get("/api/v1/me").json()
    assert me["team"] == {"id": sales.emea.pk, "slug": "emea", "name": "EMEA"}
    assert (me["role"], me["managed_teams"]) == ("rep", [])
    assert (me["availability"]["available"], me["availability"]["reasons"]) == (True, [])

    morning.shift(timedelta(days=8))
    for lead_id in ids[:3]:
        assert touch(lena, lead_id).status_code == 201
    sales.lena.rep.paused, sales.lena.rep.pause_reason = True, "training"
    sales.lena.rep.save(update_fields=["paused", "pause_reason"])

    availability = lena.get("/api/v1/me").json()["availability"]
    assert availability["available"] is False
    assert availability["reasons"] == ["paused (training)", STALE]

    sales.lena.rep.paused = False
    sales.lena.rep.save(update_fields=["paused"])
    assert touch(lena, ids[3]).status_code == 201  # 1 of 5 stale: back in the rotation at once
    availability = lena.get("/api/v1/me").json()["availability"]
    assert (availability["available"], availability["reasons"]) == (True, [])
    assert availability["checked_at"] == clock.now().isoformat().replace("+00:00", "Z")


def test_a_manager_sees_the_teams_they_run_and_no_availability_of_their_own(sales):
    me = as_user(sales.maria).get("/api/v1/me").json()
    assert me["name"] == sales.maria.display_name
    assert (me["role"], me["team"], me["availability"]) == ("manager", None, None)
    assert me["managed_teams"] == [{"id": sales.emea.pk, "slug": "emea", "name": "EMEA"}]
    sales.amer.manager = sales.ada
    sales.amer.save(update_fields=["manager"])
    ada = as_user(sales.ada).get("/api/v1/me").json()
    assert (ada["role"], ada["managed_teams"]) == ("admin", [{"id": sales.amer.pk, "slug": "amer", "name": "Americas"}])


def test_the_gate_reads_no_untouched_lead_until_a_rep_has_a_stale_one(intake, sales, morning):
    lena_only(sales)
    for number in range(3):
        lead_to(intake, sales.lena, f"untouched{number}@buyer.example")
    with CaptureQueriesContext(connection) as queries:
        lead_to(intake, sales.lena, "fourth@buyer.example")
    counted = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert counted, "the gate counts the in-progress leads"
    assert not [sql for sql in counted if "'assigned'" in sql], counted  # the open leads' count waits for a stale lead


def test_the_board_says_what_routing_says_of_a_rep_catching_up(intake, sales, morning):
    from leadbaton.sla.models import Deadline
    from tests.web.test_board import numbers, page_of, rep_row

    policy(catch_up_overdue_next_steps=2)
    lena_only(sales)
    breached = lead_to(intake, sales.lena, "late@buyer.example")  # untouched: its first response will have run out
    ids = leads_in_progress(intake, sales, 5, next_step_in=timedelta(days=2))
    morning.shift(timedelta(days=8))  # every next step overdue, every lead stale
    for lead_id in ids[:3]:
        assert touch(as_user(sales.lena), lead_id).status_code == 201
    morning.shift(timedelta(hours=1))  # the touched ones an hour old: fresh, and not touched "now"
    Deadline.objects.filter(lead_id=breached, kind="first_response").update(status="breached", breached_at=clock.now(), due_at=None)
    stale = "catching up: 2 of 6 open leads stale (over 20%)"
    overdue = "catching up: 5 next steps overdue (over 2)"  # the breach is overdue on the board, but no next step
    row = rep_row(page_of(sales.maria, "/teams/emea/")[1], sales.lena)  # counted by the board's own query, not routing's
    assert numbers(row) == ["6", "1", "6", "6", "2"]  # open, untouched, due today, overdue (5 next steps and the breach), stale
    assert stale in row
    assert overdue in row
    inbox = page_of(sales.lena, "/")[1]  # routing's count, for the rep alone
    assert stale in inbox
    assert overdue in inbox
    handoff = Handoff.objects.filter(lead_id=queued(intake, "first@waiting.example")["id"]).latest("at")
    assert stale in handoff.note  # and routing itself
    assert overdue in handoff.note
