"""Sales service levels (P3, S4): per rep for a period, how fast leads were owned and touched, how many touches came
before a conversation, each clock kind met or breached, the close rate and the value won.

Speed to lead belongs to the lead's first owner: the leads a rep first owned in the period, from the lead's first
inquiry to the rep owning it and to the first touch (whoever made it). Clocks count where they ended in the period:
met, or breached. The close rate is purchased / (purchased + not interested) of the leads the rep closed in the period
(a rejection says it was not a lead, so it is neither); the value won is summed per currency.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum

from leadbaton.leads.models import Activity, Holding, Lead
from leadbaton.reports.periods import Period
from leadbaton.reports.reconciliation import named_in_order, period_holdings, reps_listed
from leadbaton.sla.models import Clock, Deadline

WITHIN_SECONDS = 5 * 60  # the first response the product promises by default
# Within 5 minutes to the millisecond: a wait, as the database counts it (SECONDS_BETWEEN; SQLite's day arithmetic is
# off by some microseconds), is within when it is less than this. Every report that says "within 5 minutes" asks it.
WITHIN_LIMIT = WITHIN_SECONDS + 0.0005


@dataclass
class Speed:
    """Seconds from the first inquiry to something (to the millisecond), over the leads it happened to, and how many of
    them within WITHIN_SECONDS; `waiting`: leads it has not happened to yet."""

    seconds: list[float] = field(default_factory=list)
    waiting: int = 0
    within_count: int = 0

    def record(self, seconds: float | None) -> None:
        """One lead's wait as the database counted it; None: it is still waiting."""
        if seconds is None:
            self.waiting += 1
            return
        self.seconds.append(round(seconds, 3))
        self.within_count += seconds < WITHIN_LIMIT

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def p90(self) -> float | None:
        if not self.seconds:
            return None
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(0.9 * len(ordered)) - 1))]

    @property
    def within(self) -> float | None:
        """The share (0 to 1) that happened within WITHIN_SECONDS, of all the leads, those still waiting included."""
        total = len(self.seconds) + self.waiting
        return self.within_count / total if total else None

    def add(self, other: Speed) -> None:
        self.seconds += other.seconds
        self.waiting += other.waiting
        self.within_count += other.within_count

    def out(self) -> dict[str, Any]:
        return {"median_seconds": self.median, "p90_seconds": self.p90, "within_5_minutes": self.within, "leads": len(self.seconds),
                "waiting": self.waiting}


@dataclass
class ServiceRow:
    rep_id: int | None
    name: str
    email: str = ""
    first_owned: int = 0
    to_owner: Speed = field(default_factory=Speed)
    to_first_touch: Speed = field(default_factory=Speed)
    touches_before_conversation: int = 0  # in all, of the leads that had a conversation
    with_conversation: int = 0
    without_conversation: int = 0
    clocks: dict[str, dict[str, int]] = field(default_factory=lambda: {str(kind): {"met": 0, "breached": 0} for kind in Clock})
    purchased: int = 0
    not_interested: int = 0
    value_won: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def close_rate(self) -> float | None:
        closed = self.purchased + self.not_interested
        return self.purchased / closed if closed else None

    @property
    def touches_per_conversation(self) -> float | None:
        """Touches before the first conversation, on average, of the leads that had one."""
        return self.touches_before_conversation / self.with_conversation if self.with_conversation else None

    def add(self, other: ServiceRow) -> None:
        self.first_owned += other.first_owned
        self.to_owner.add(other.to_owner)
        self.to_first_touch.add(other.to_first_touch)
        self.touches_before_conversation += other.touches_before_conversation
        self.with_conversation += other.with_conversation
        self.without_conversation += other.without_conversation
        for kind, counts in other.clocks.items():
            for status, count in counts.items():
                self.clocks[kind][status] += count
        self.purchased += other.purchased
        self.not_interested += other.not_interested
        for currency, value in other.value_won.items():
            self.value_won[currency] += value


@dataclass
class ServiceLevels:
    period: Period
    rows: list[ServiceRow]
    total: ServiceRow


_LEAD, _ACTIVITY, _HOLDING = Lead._meta.db_table, Activity._meta.db_table, Holding._meta.db_table
_TOUCH_KINDS = ", ".join(f"'{kind}'" for kind in Activity.TOUCHES)

# The leads a rep first owned in the period: holdings of the period (reconciliation.period_holdings) that started then
# and are their lead's first (by id: two holdings may start at one moment, the first handed on at once).
_FIRST_OWNED_SQL = """
SELECT h.rep_id, {to_owner}, {to_touch}
FROM ({holdings}) h JOIN {lead} l ON l.id = h.lead_id
WHERE h.started_at >= %(start)s AND h.id = (SELECT MIN(x.id) FROM {holding} x WHERE x.lead_id = h.lead_id)
"""
# Seconds from one time to a later one, counted by the database (a quarter's 160,000 leads would otherwise be 320,000
# times to read in Python): NULL while the later has not happened.
SECONDS_BETWEEN = {
    "postgresql": "EXTRACT(EPOCH FROM {later} - {earlier})::float8",
    "sqlite": "(julianday({later}) - julianday({earlier})) * 86400.0",
}

# Per rep, of those leads: the touches before each one's first conversation (a touch that connected, or a meeting; the
# first by time, then id) in all, the leads that had one, and the leads.
_CONVERSATION = f"t.kind IN ({_TOUCH_KINDS}) AND (t.result = '{Activity.Result.CONNECTED}' OR t.kind = '{Activity.Kind.MEETING}')"
_TOUCHES_SQL = f"""
SELECT f.rep_id,
       SUM(CASE WHEN c.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM {_ACTIVITY} b WHERE b.lead_id = f.lead_id AND b.kind IN ({_TOUCH_KINDS})
                                                AND (b.at < c.at OR (b.at = c.at AND b.id < c.id))) END),
       SUM(CASE WHEN c.id IS NULL THEN 0 ELSE 1 END), COUNT(*)
FROM (SELECT h.rep_id, h.lead_id FROM ({{holdings}}) h JOIN {_LEAD} l ON l.id = h.lead_id
      WHERE h.started_at >= %(start)s AND h.id = (SELECT MIN(x.id) FROM {_HOLDING} x WHERE x.lead_id = h.lead_id)) f
LEFT JOIN {_ACTIVITY} c ON c.id = (SELECT t.id FROM {_ACTIVITY} t WHERE t.lead_id = f.lead_id AND {_CONVERSATION} ORDER BY t.at, t.id LIMIT 1)
GROUP BY f.rep_id
"""




def service_levels(period: Period, *, team_id: int | None = None, rep_id: int | None = None) -> ServiceLevels:
    """Each rep's service levels for `period` (of team `team_id`'s holdings and clocks, or every team's; or `rep_id`'s),
    the team's active reps listed with nothing to count. Six queries however many leads."""
    rows: dict[int, ServiceRow] = {}

    def row(rep: int) -> ServiceRow:  # called for each lead: a row is made once, not made and thrown away each time
        found = rows.get(rep)
        if found is None:
            found = rows[rep] = ServiceRow(rep, "")
        return found

    holdings = Holding.objects.all()
    clocks = Deadline.objects.all()
    if team_id is not None:
        holdings, clocks = holdings.filter(team_id=team_id), clocks.filter(team_id=team_id)
    if rep_id is not None:
        holdings, clocks = holdings.filter(rep_id=rep_id), clocks.filter(rep_id=rep_id)
    holdings_sql, terms = period_holdings(period, team_id, rep_id)
    with connection.cursor() as cursor:
        seconds = SECONDS_BETWEEN[connection.vendor]
        cursor.execute(_FIRST_OWNED_SQL.format(holdings=holdings_sql, lead=_LEAD, holding=_HOLDING,
                                               to_owner=seconds.format(later="l.owned_at", earlier="l.received_at"),
                                               to_touch=seconds.format(later="l.first_touch_at", earlier="l.received_at")), terms)
        for rep, to_owner, to_touch in cursor.fetchall():
            counted = row(rep)
            counted.first_owned += 1
            counted.to_owner.record(to_owner)
            counted.to_first_touch.record(to_touch)
        cursor.execute(_TOUCHES_SQL.format(holdings=holdings_sql), terms)
        for rep, before, with_conversation, leads in cursor.fetchall():
            counted = row(rep)
            counted.touches_before_conversation += int(before or 0)
            counted.with_conversation += int(with_conversation or 0)
            counted.without_conversation += int(leads) - int(with_conversation or 0)
    ended = Q(status=Deadline.Status.MET, met_at__gte=period.start, met_at__lt=period.end) | Q(
        status=Deadline.Status.BREACHED, breached_at__gte=period.start, breached_at__lt=period.end)
    for rep, kind, status, count in clocks.filter(ended).values_list("rep_id", "kind", "status").annotate(count=Count("id")).order_by():
        row(rep).clocks[kind][status] += count
    closed = holdings.filter(closed_at__gte=period.start, closed_at__lt=period.end,
                             closed_how__in=[Holding.Closed.PURCHASED, Holding.Closed.NOT_INTERESTED])
    for rep, how, count in closed.values_list("rep_id", "closed_how").annotate(count=Count("id")).order_by():
        setattr(row(rep), how, getattr(row(rep), how) + count)
    won = closed.filter(closed_how=Holding.Closed.PURCHASED, lead__value__isnull=False)
    for rep, currency, value in won.values_list("rep_id", "lead__currency").annotate(value=Sum("lead__value")).order_by():
        row(rep).value_won[currency or "?"] += Decimal(value)
    for listed in reps_listed(team_id, rep_id):
        row(listed)
    ordered = named_in_order(rows.values())
    total = ServiceRow(None, "Total")
    for each in ordered:
        total.add(each)
    return ServiceLevels(period, ordered, total)


def duration_text(seconds: float | None) -> str:
    """A duration as a report shows it: 45 s, 3 min, 2 h 5 min, 3 d 4 h; an empty one as —."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def share_text(share: float | None) -> str:
    """A share (0 to 1) as a report shows it: 58%; nothing to count as —."""
    return "—" if share is None else f"{share:.0%}"
