"""How a team picks one of its available reps: each strategy with its tie-breaks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from leadbaton.core.calendar import WorkingTime
from leadbaton.routing.availability import Candidate
from leadbaton.routing.strategies import least_loaded, round_robin, taken, weighted

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def candidate(rep_id: int, *, open_in_progress: int = 0, last_assigned_at: datetime | None = None,
              weight: int = 1, rotation_credit: int = 0) -> Candidate:
    return Candidate(
        rep_id=rep_id, name=f"rep {rep_id}", active=True, paused=False, pause_reason="",
        working_time=WorkingTime(time_zone="UTC", hours={}), daily_cap=None, assigned_today=0, open_ceiling=None,
        open_in_progress=open_in_progress, weight=weight, last_assigned_at=last_assigned_at, rotation_credit=rotation_credit,
    )


def test_round_robin_gives_the_lead_to_the_next_rep_after_the_last_one():
    reps = [candidate(7), candidate(3), candidate(5)]
    assert [round_robin(reps, last).rep_id for last in (None, 3, 4, 5, 7, 9)] == [3, 5, 5, 7, 3, 3]
    pick = round_robin(reps, 3)
    assert (pick.credits, pick.how) == ({}, "round robin")


def test_weighted_pays_the_total_of_the_weights_for_each_lead():
    lena, jonas = candidate(1, weight=3), candidate(2, weight=1)
    pick = weighted([lena, jonas])
    assert (pick.rep_id, pick.credits, pick.how) == (1, {1: -1, 2: 1}, "weighted (weight 3 of 4)")


def test_weighted_spreads_leads_evenly_in_proportion_to_weight():
    reps = [candidate(1, weight=3), candidate(2, weight=1)]
    order = []
    for _ in range(8):
        pick = weighted(reps)
        order.append(pick.rep_id)
        reps = [replace(rep, rotation_credit=pick.credits[rep.rep_id]) for rep in reps]
    assert order == [1, 1, 2, 1, 1, 1, 2, 1]


def test_weighted_breaks_a_tie_in_credit_by_the_lowest_id():
    assert weighted([candidate(9, rotation_credit=2), candidate(4, rotation_credit=2)]).rep_id == 4


def test_least_loaded_gives_the_lead_to_the_rep_with_the_fewest_open_leads():
    pick = least_loaded([candidate(1, open_in_progress=3), candidate(2, open_in_progress=1, last_assigned_at=TUESDAY)])
    assert (pick.rep_id, pick.credits, pick.how) == (2, {}, "least loaded (1 open)")


def test_least_loaded_breaks_a_tie_by_who_has_waited_longest():
    recently, long_ago = candidate(1, open_in_progress=2, last_assigned_at=TUESDAY), candidate(2, open_in_progress=2, last_assigned_at=MONDAY)
    assert least_loaded([recently, long_ago]).rep_id == 2


def test_least_loaded_counts_a_rep_who_never_had_a_lead_as_having_waited_longest():
    veteran, newcomer = candidate(1, last_assigned_at=MONDAY), candidate(2)
    assert least_loaded([veteran, newcomer]).rep_id == 2
    assert least_loaded([newcomer, veteran]).rep_id == 2


def test_least_loaded_breaks_a_full_tie_by_the_lowest_id():
    assert least_loaded([candidate(8), candidate(5)]).rep_id == 5
    assert least_loaded([candidate(8, last_assigned_at=MONDAY), candidate(5, last_assigned_at=MONDAY)]).rep_id == 5


def test_a_rep_who_takes_a_lead_pays_for_it_as_if_the_rotation_had_picked_them():
    lena, jonas = candidate(1, weight=3), candidate(2, weight=1)
    pick = taken([lena, jonas], 2)  # Jonas takes one: he pays the total, Lena earns her weight
    assert (pick.rep_id, pick.credits, pick.how) == (2, {1: 3, 2: -3}, "taken from the queue")
    after = [replace(lena, rotation_credit=3), replace(jonas, rotation_credit=-3)]
    assert [weighted(after).rep_id] == [1]  # so the rotation gives the next ones to Lena, not to Jonas again
