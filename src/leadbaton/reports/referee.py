"""The referee view (P8): marketing's service levels and sales' side by side for a period, each with its trend over the
12 weeks that end with the period's last week, so neither side grades its own homework.

Marketing (S3): sales-ready leads against the target, and the share sales accepted against its target. Sales (S1, S4):
the share of new leads first touched within 5 minutes, the share of first-response clocks met, of all clocks met, and
the close rate. Every figure is the organisation's, in the default team's time zone, and means exactly what the same
figure means in reports.marketing and reports.service_levels (a test holds each week to them), but the 12 weeks are
counted together: four statements, each over the 12 weeks at once and grouped by week, instead of both reports asked
twelve times over (issue 16; docs/performance.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection

from leadbaton.leads.models import Handoff, Holding, Lead
from leadbaton.qualification.queries import targets_now
from leadbaton.reports.marketing import REJECTED_SINCE, SALES_READY_SQL, MarketingRow, Targets, targets_for
from leadbaton.reports.periods import Period, week_of
from leadbaton.reports.service_levels import SECONDS_BETWEEN, WITHIN_LIMIT
from leadbaton.sla.models import Clock, Deadline

TREND_WEEKS = 12


@dataclass(frozen=True)
class Sides:
    """One period's figures, both sides. Shares from 0 to 1; None where there was nothing to count."""

    label: str
    marketing: MarketingRow  # its sales-ready and rejected leads
    targets: Targets
    first_owned: int = 0
    within_5_minutes: float | None = None
    first_response_met: float | None = None
    clocks_met: float | None = None
    close_rate: float | None = None

    @property
    def sales_ready(self) -> int:
        return self.marketing.sales_ready

    @property
    def accepted(self) -> int:
        return self.marketing.accepted

    @property
    def acceptance(self) -> float | None:
        return self.marketing.acceptance

    @property
    def sales_ready_target(self) -> int | None:
        return self.targets.sales_ready

    @property
    def acceptance_target(self) -> int | None:
        return self.targets.acceptance_rate

    @property
    def sales_ready_met(self) -> bool | None:
        return self.targets.sales_ready_met(self.marketing)

    @property
    def acceptance_met(self) -> bool | None:
        return self.targets.acceptance_met(self.marketing)


@dataclass(frozen=True)
class Referee:
    period: Period
    now: Sides  # the period asked
    weeks: list[Sides]  # the TREND_WEEKS weeks ending with the period's last week, oldest first


def referee(period: Period, *, weeks: int = TREND_WEEKS) -> Referee:
    """The period's figures and the trend of the `weeks` weeks that end with the week of its last day."""
    last = week_of(period.last_day, period.time_zone)
    trend = sides_of([week_of(last.first_day - timedelta(days=7 * back), period.time_zone) for back in range(weeks - 1, -1, -1)])
    return Referee(period, trend[-1] if period.label == last.label else sides_of([period])[0], trend)


_HOLDING, _HANDOFF, _DEADLINE = Holding._meta.db_table, Handoff._meta.db_table, Deadline._meta.db_table
_CLOSED = (Holding.Closed.PURCHASED, Holding.Closed.NOT_INTERESTED)

# Of the leads first owned in the span, per period: how many, and how many were first touched within 5 minutes of the
# first inquiry (WITHIN_LIMIT, as reports.service_levels counts them). reports.service_levels finds each lead's first
# holding, for its rep; with no rep to name, the lead's owned_at says when that holding began (index lead_owned).
_FIRST_OWNED_SQL = f"""
SELECT {{period}} AS p, COUNT(*), SUM(CASE WHEN {{to_touch}} < %(within)s THEN 1 ELSE 0 END)
FROM {Lead._meta.db_table} l WHERE l.owned_at >= %(start)s AND l.owned_at < %(end)s GROUP BY 1
"""
# Clocks that ended in the span, per period, kind and how (the status a constant: grouping by the column too costs SQLite
# three times as much). Indexes deadline_met and deadline_breached.
_CLOCKS_SQL = f"""
SELECT {{met}} AS p, d.kind, '{Deadline.Status.MET}', COUNT(*) FROM {_DEADLINE} d
WHERE d.status = '{Deadline.Status.MET}' AND d.met_at >= %(start)s AND d.met_at < %(end)s GROUP BY 1, 2
UNION ALL
SELECT {{breached}} AS p, d.kind, '{Deadline.Status.BREACHED}', COUNT(*) FROM {_DEADLINE} d
WHERE d.status = '{Deadline.Status.BREACHED}' AND d.breached_at >= %(start)s AND d.breached_at < %(end)s GROUP BY 1, 2
"""
# Holdings closed as purchased or not interested in the span, per period and how: read from index holding_closed alone.
_CLOSED_SQL = f"""
SELECT {{period}} AS p, h.closed_how, COUNT(*) FROM {_HOLDING} h
WHERE h.closed_at >= %(start)s AND h.closed_at < %(end)s AND h.closed_how IN ({", ".join(f"'{how}'" for how in _CLOSED)}) GROUP BY 1, 2
"""
# Leads handed from marketing to sales in each period (as reports.marketing counts them), and of them those rejected since.
_READY_SQL = f"""
SELECT {{period}} AS p, COUNT(DISTINCT h.lead_id), COUNT(DISTINCT CASE WHEN {REJECTED_SINCE} THEN h.lead_id END)
FROM {_HANDOFF} h WHERE {SALES_READY_SQL} GROUP BY 1
"""


def sides_of(periods: list[Period]) -> list[Sides]:
    """Both sides' figures, for the whole organisation, for each of `periods`: one after the other, none between."""
    first, last = periods[0], periods[-1]
    if any(before.end != after.start for before, after in itertools.pairwise(periods)):
        raise ValueError("the periods must follow one another")
    adapt = connection.ops.adapt_datetimefield_value
    terms: dict[str, Any] = {"start": adapt(first.start), "end": adapt(last.end), "within": WITHIN_LIMIT}
    terms |= {f"b{n}": adapt(each.end) for n, each in enumerate(periods)}

    def period(at: str) -> str:
        """The index of the period `at` falls in, for a time known to fall in the span."""
        if len(periods) == 1:
            return "0"
        return "CASE " + " ".join(f"WHEN {at} < %(b{n})s THEN {n}" for n in range(len(periods) - 1)) + f" ELSE {len(periods) - 1} END"

    counted: list[dict[str, Any]] = [{"first_owned": 0, "within": 0, "clocks": {}, "closed": {}, "ready": 0, "rejected": 0} for _ in periods]
    with connection.cursor() as cursor:
        to_touch = SECONDS_BETWEEN[connection.vendor].format(later="l.first_touch_at", earlier="l.received_at")
        cursor.execute(_FIRST_OWNED_SQL.format(period=period("l.owned_at"), to_touch=to_touch), terms)
        for index, leads, within in cursor.fetchall():
            counted[index] |= {"first_owned": int(leads), "within": int(within or 0)}
        cursor.execute(_CLOCKS_SQL.format(met=period("d.met_at"), breached=period("d.breached_at")), terms)
        for index, kind, status, count in cursor.fetchall():
            counted[index]["clocks"][(kind, status)] = int(count)
        cursor.execute(_CLOSED_SQL.format(period=period("h.closed_at")), terms)
        for index, how, count in cursor.fetchall():
            counted[index]["closed"][how] = int(count)
        cursor.execute(_READY_SQL.format(period=period("h.at")), terms)
        for index, ready, rejected in cursor.fetchall():
            counted[index] |= {"ready": int(ready), "rejected": int(rejected)}
    targets = targets_now()
    return [_sides(each, figures, targets_for(each, targets)) for each, figures in zip(periods, counted, strict=True)]


def _sides(period: Period, figures: dict[str, Any], targets: Targets) -> Sides:
    clocks, closed = figures["clocks"], figures["closed"]
    first_response = [clocks.get((str(Clock.FIRST_RESPONSE), status), 0) for status in (Deadline.Status.MET, Deadline.Status.BREACHED)]
    met = sum(count for (_, status), count in clocks.items() if status == Deadline.Status.MET)
    purchased = closed.get(Holding.Closed.PURCHASED, 0)
    return Sides(
        label=period.label, marketing=MarketingRow("", "Total", sales_ready=figures["ready"], rejected=figures["rejected"]), targets=targets,
        first_owned=figures["first_owned"], within_5_minutes=_share(figures["within"], figures["first_owned"]),
        first_response_met=_share(first_response[0], sum(first_response)), clocks_met=_share(met, sum(clocks.values())),
        close_rate=_share(purchased, purchased + closed.get(Holding.Closed.NOT_INTERESTED, 0)),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
