"""The leaderboard (P5): the period's best follow-up in a team, for the whole team to see.

Four boards, each naming at most three reps with a short "why": the fastest first touches, the most clocks met, the
most in-progress leads moved on, the most purchases. A rep is named only for something done well (a fastest first
touch needs at least MIN_LEADS touched leads; clocks met need none breached to outweigh them), and nobody else is
listed: it celebrates, it never ranks who is worst. The figures are the service levels' and progress's for the same
period, so the board and those reports cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadbaton.reports.periods import Period
from leadbaton.reports.progress import ProgressRow, progress
from leadbaton.reports.service_levels import WITHIN_SECONDS, ServiceRow, duration_text, service_levels

SHOWN = 3  # names per board
MIN_LEADS = 2  # touched leads a rep needs for their speed to count: one quick call is luck, not a habit


@dataclass(frozen=True)
class Named:
    """A rep on a board: their place (reps level on the same figures share it), who, and why."""

    place: int
    rep_id: int
    name: str
    email: str
    why: str


@dataclass(frozen=True)
class Board:
    key: str
    title: str
    named: list[Named]
    empty: str  # what the board says when nobody has earned a place yet


@dataclass(frozen=True)
class Leaderboard:
    period: Period
    boards: list[Board]


@dataclass
class _Rep:
    service: ServiceRow
    progress: ProgressRow


def leaderboard(period: Period, *, now: datetime, team_id: int | None) -> Leaderboard:
    """The boards of team `team_id` (every team: None) for `period`."""
    served = service_levels(period, team_id=team_id)
    moved = {row.rep_id: row for row in progress(period, now=now, team_id=team_id).rows}
    reps = [_Rep(row, moved.get(row.rep_id) or ProgressRow(row.rep_id, row.name)) for row in served.rows]
    return Leaderboard(period, [
        _board("fastest_first_touch", "Fastest first touches", reps, _fastest, "Nobody has touched enough new leads yet."),
        _board("clocks_met", "Clocks met", reps, _clocks, "No clock has been met yet."),
        _board("progressed", "Leads moved on", reps, _progressed, "No lead in progress has moved on yet."),
        _board("purchases", "Purchases", reps, _purchases, "No purchase yet."),
    ])


def _board(key: str, title: str, reps: list[_Rep], judge: Callable[[_Rep], tuple[Any, str] | None], empty: str) -> Board:
    """The reps `judge` finds worth naming (it gives a sort key, best first, and the why), the best SHOWN of them, with
    places: reps level on the sort key share a place, and a level place at the cut is shown whole."""
    judged = [(judgement, rep) for rep in reps if (judgement := judge(rep)) is not None]
    judged.sort(key=lambda each: (each[0][0], each[1].service.name.lower()))
    named: list[Named] = []
    for index, ((order, why), rep) in enumerate(judged):
        place = named[-1].place if named and order == judged[index - 1][0][0] else index + 1
        if place > SHOWN:
            break
        named.append(Named(place, rep.service.rep_id or 0, rep.service.name, rep.service.email, why))
    return Board(key, title, named, empty)


def _fastest(rep: _Rep) -> tuple[Any, str] | None:
    touch = rep.service.to_first_touch
    if len(touch.seconds) < MIN_LEADS or touch.median is None:
        return None
    within = sum(1 for each in touch.seconds if each <= WITHIN_SECONDS)
    return (round(touch.median),), (f"median {duration_text(touch.median)} to the first touch of {len(touch.seconds)} new leads; "
                                    f"{within} within {WITHIN_SECONDS // 60} minutes")


def _clocks(rep: _Rep) -> tuple[Any, str] | None:
    met = sum(counts["met"] for counts in rep.service.clocks.values())
    breached = sum(counts["breached"] for counts in rep.service.clocks.values())
    if met == 0 or breached >= met:
        return None
    return (-met, breached), (f"{met} of {met + breached} clocks met" if breached else f"{met} clock{'s' if met != 1 else ''} met, none breached")


def _progressed(rep: _Rep) -> tuple[Any, str] | None:
    row = rep.progress
    if not row.progressed:
        return None
    return (-row.progressed, -(row.share or 0)), f"moved on {row.progressed} of {row.in_progress_at_start} leads in progress"


def _purchases(rep: _Rep) -> tuple[Any, str] | None:
    row = rep.service
    if not row.purchased:
        return None
    won = ", ".join(f"{value:,.2f} {currency}" for currency, value in sorted(row.value_won.items()))
    return (-row.purchased,), f"{row.purchased} purchase{'s' if row.purchased != 1 else ''}" + (f", {won}" if won else "")
