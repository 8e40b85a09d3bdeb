"""The leaderboard (P5): the period's best follow-up in a team, for the whole team to see.

Four boards, each naming at most three reps with a short "why": the fastest first touches (of the leads each rep
received, the share they touched themselves within 5 minutes of receiving them), the best share of clocks met, the most
in-progress leads moved on, the most purchases. A rep is named only past a bar for doing well (FAST_SHARE,
CLOCKS_SHARE, PROGRESS_SHARE, a purchase), and nobody else is listed: it celebrates, it never ranks who is worst.
Clocks, purchases and progress are the service levels' and progress's figures for the same period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from leadbaton.leads.models import Activity
from leadbaton.reports.periods import Period
from leadbaton.reports.progress import ProgressRow, progress
from leadbaton.reports.reconciliation import FIGURE_SQL, named_in_order, period_holdings
from leadbaton.reports.service_levels import SECONDS_BETWEEN, WITHIN_SECONDS, ServiceRow, Speed, duration_text, service_levels

SHOWN = 3  # names per board
MIN_LEADS = 2  # leads a rep needs to have received for their speed to count: one quick call is luck, not a habit
# The bar a rep clears to be named at all, so a board never lists a whole team from best to worst.
FAST_SHARE = 0.5  # of the leads received, at least half touched within 5 minutes of arriving with the rep
CLOCKS_SHARE = 0.8  # of the clocks that ended, at least this share met
PROGRESS_SHARE = 0.5  # of the leads in progress at the start, at least half moved on


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
    rep_id: int | None
    name: str
    email: str
    service: ServiceRow
    progress: ProgressRow
    speed: Speed


_ACTIVITY = Activity._meta.db_table
# A rep's own first touch of a lead while they held it (after the handoff that gave it to them: at one moment, the
# ledger puts activities before a handoff), and the seconds to it from receiving the lead (NULL: not touched yet).
_TOUCHES = ", ".join(f"'{kind}'" for kind in Activity.TOUCHES)
_OWN_TOUCH = (f"SELECT MIN(a.at) FROM {_ACTIVITY} a WHERE a.lead_id = h.lead_id AND a.by_user_id = h.rep_id "
              f"AND a.kind IN ({_TOUCHES}) AND a.at > h.started_at "
              "AND (h.closed_at IS NULL OR a.at <= h.closed_at)")
_OWN_SPEED_SQL = {vendor: seconds.format(later=f"({_OWN_TOUCH})", earlier="h.started_at") for vendor, seconds in SECONDS_BETWEEN.items()}


def leaderboard(period: Period, *, now: datetime, team_id: int | None) -> Leaderboard:
    """The boards of team `team_id` (every team: None) for `period`."""
    served = {row.rep_id: row for row in service_levels(period, team_id=team_id).rows}
    moved = {row.rep_id: row for row in progress(period, now=now, team_id=team_id).rows}
    speeds = _own_speeds(period, team_id)
    reps = named_in_order(_Rep(rep_id, "", "", served.get(rep_id) or ServiceRow(rep_id, ""), moved.get(rep_id) or ProgressRow(rep_id, ""),
                               speeds.get(rep_id) or Speed()) for rep_id in {*served, *moved, *speeds} if rep_id is not None)
    return Leaderboard(period, [
        _board("fastest_first_touch", "Fastest first touches", reps, _fastest, "Nobody has touched enough new leads fast enough yet."),
        _board("clocks_met", "Clocks met", reps, _clocks, "Nobody has met enough clocks yet."),
        _board("progressed", "Leads moved on", reps, _progressed, "Nobody has moved on enough leads in progress yet."),
        _board("purchases", "Purchases", reps, _purchases, "No purchase yet."),
    ])


def _own_speeds(period: Period, team_id: int | None) -> dict[int, Speed]:
    """Per rep, the seconds from receiving each lead of the period to touching it themselves, and those not touched yet."""
    holdings, terms = period_holdings(period, team_id, None)
    speeds: dict[int, Speed] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT h.rep_id, {_OWN_SPEED_SQL[connection.vendor]} FROM ({holdings}) h WHERE {FIGURE_SQL['received']}", terms)
        for rep_id, seconds in cursor.fetchall():
            speeds.setdefault(rep_id, Speed()).record(None if seconds is None else max(0.0, seconds))
    return speeds


def _board(key: str, title: str, reps: list[_Rep], judge: Callable[[_Rep], tuple[Any, str] | None], empty: str) -> Board:
    """The reps `judge` finds worth naming (it gives a sort key, best first, and the why), the best SHOWN of them, with
    places: reps level on the sort key share a place, and a level place at the cut is shown whole."""
    judged = [(judgement, rep) for rep in reps if (judgement := judge(rep)) is not None]
    judged.sort(key=lambda each: (each[0][0], each[1].name.lower()))
    named: list[Named] = []
    for index, ((order, why), rep) in enumerate(judged):
        place = named[-1].place if named and order == judged[index - 1][0][0] else index + 1
        if place > SHOWN:
            break
        named.append(Named(place, rep.rep_id or 0, rep.name, rep.email, why))
    return Board(key, title, named, empty)


def _fastest(rep: _Rep) -> tuple[Any, str] | None:
    """The share of the leads received that the rep touched within 5 minutes of receiving them, those not touched yet
    counted against it; level shares by the median, in the minutes the why shows."""
    speed = rep.speed
    received = len(speed.seconds) + speed.waiting
    if received < MIN_LEADS or speed.within is None or speed.within < FAST_SHARE or speed.median is None:
        return None
    return (-round(speed.within, 4), int(speed.median // 60)), (
        f"touched {speed.within_count} of {received} new leads within {WITHIN_SECONDS // 60} minutes; median {duration_text(speed.median)}")


def _clocks(rep: _Rep) -> tuple[Any, str] | None:
    met = sum(counts["met"] for counts in rep.service.clocks.values())
    breached = sum(counts["breached"] for counts in rep.service.clocks.values())
    if met == 0 or met / (met + breached) < CLOCKS_SHARE:
        return None
    share = met / (met + breached)
    why = f"{met} of {met + breached} clocks met ({share:.0%})" if breached else f"{met} clock{'s' if met != 1 else ''} met, none breached"
    return (-round(share, 4), -met), why


def _progressed(rep: _Rep) -> tuple[Any, str] | None:
    row = rep.progress
    if not row.progressed or (row.share or 0) < PROGRESS_SHARE:
        return None
    return (-row.progressed, -round(row.share or 0, 4)), f"moved on {row.progressed} of {row.in_progress_at_start} leads in progress ({row.share:.0%})"


def _purchases(rep: _Rep) -> tuple[Any, str] | None:
    row = rep.service
    if not row.purchased:
        return None
    won = ", ".join(f"{value:,.2f} {currency}" for currency, value in sorted(row.value_won.items()))
    return (-row.purchased,), f"{row.purchased} purchase{'s' if row.purchased != 1 else ''}" + (f", {won}" if won else "")
