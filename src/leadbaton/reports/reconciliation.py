"""The weekly reconciliation (P1): every lead a rep held in a period, balanced like a ledger.

    open at start + received - purchased - not interested - rejected - reassigned away = open at end

Counted in one statement from the holdings (leads.Holding: one row per rep's holding of a lead, kept in the same
transaction as the handoff, touch or outcome that changes it, always what leads.holdings.replay makes of the ledger),
so any past period is counted again the same way and gives the same answer. Each figure's leads come from the same
conditions (`figure_leads`). A lead that cannot be accounted for is listed as unaccounted with the reason: against the
leads' present state when the period reaches now; against the whole ledger, replayed, by `ledger_check`
(`leadbaton report check`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.db import connection

from leadbaton.accounts.models import RepProfile, User
from leadbaton.leads.holdings import HANDED_OVER, Span, replay
from leadbaton.leads.models import Activity, Handoff, Holding, Lead, OwnerKind, Stage
from leadbaton.reports.periods import Period

OPEN = (Stage.ASSIGNED, Stage.IN_PROGRESS)

# How a lead came to the rep who received it (Holding.came), in the order reports show them.
CAME = {str(value): str(label) for value, label in Holding.Came.choices}

# The ledger's figures, in the order of its equation; each one's name as reports show it.
FIGURES = {
    "open_at_start": "Open at start",
    "received": "Received",
    "purchased": "Purchased",
    "not_interested": "Not interested",
    "rejected": "Rejected",
    "reassigned_away": "Reassigned away",
    "open_at_end": "Open at end",
}
LEAVING = ("purchased", "not_interested", "rejected", "reassigned_away")
SPLIT = {"untouched": "untouched", "in_progress": "in progress"}  # how open leads split, at the start and at the end

_HOLDING, _LEAD = Holding._meta.db_table, Lead._meta.db_table
_OPEN_AT = "h.started_at < {at} AND (h.closed_at IS NULL OR h.closed_at >= {at})"
_CLOSED_IN = "h.closed_at >= %(start)s AND h.closed_at < %(end)s AND h.closed_how = '{how}'"

# Each figure as a condition on a holding `h` of the period (one that started before its end and was open at some
# moment of it). At a period's start or end, a holding that starts or closes at that very moment counts as after it.
FIGURE_SQL: dict[str, str] = {
    "open_at_start": _OPEN_AT.format(at="%(start)s"),
    "received": "h.started_at >= %(start)s",
    "purchased": _CLOSED_IN.format(how=Holding.Closed.PURCHASED),
    "not_interested": _CLOSED_IN.format(how=Holding.Closed.NOT_INTERESTED),
    "rejected": _CLOSED_IN.format(how=Holding.Closed.REJECTED),
    "reassigned_away": _CLOSED_IN.format(how=Holding.Closed.AWAY),
    "open_at_end": "(h.closed_at IS NULL OR h.closed_at >= %(end)s)",
}
FIGURE_SQL |= {f"received_{how}": f"h.started_at >= %(start)s AND h.came = '{how}'" for how in CAME}
for _moment, _when in (("open_at_start", "%(start)s"), ("open_at_end", "%(end)s")):
    FIGURE_SQL[f"{_moment}_untouched"] = f"{FIGURE_SQL[_moment]} AND (h.touched_at IS NULL OR h.touched_at >= {_when})"
    FIGURE_SQL[f"{_moment}_in_progress"] = f"{FIGURE_SQL[_moment]} AND h.touched_at < {_when}"

# The holdings of the period, in two parts each read through its own index: still open (holding_open), and closed
# since the period began (holding_closed). {scope}: the team's or the rep's only.
_PERIOD_SQL = f"""
SELECT * FROM {_HOLDING} h WHERE h.closed_at IS NULL AND h.started_at < %(end)s{{scope}}
UNION ALL
SELECT * FROM {_HOLDING} h WHERE h.closed_at >= %(start)s AND h.started_at < %(end)s{{scope}}
"""


@dataclass
class LedgerRow:
    """One rep's ledger for the period (or the sum of several: `rep_id` None): each of FIGURE_SQL counted."""

    rep_id: int | None
    name: str
    email: str = ""
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def count(self, figure: str) -> int:
        return self.counts.get(figure, 0)

    @property
    def balanced(self) -> bool:
        return self.count("open_at_start") + self.count("received") - sum(self.count(name) for name in LEAVING) == self.count("open_at_end")

    def add(self, other: LedgerRow) -> None:
        for figure, count in other.counts.items():
            self.counts[figure] += count

    def figures(self) -> dict[str, Any]:
        """The counts as the API and the CSV give them."""
        counted: dict[str, Any] = {name: self.count(name) for name in FIGURES}
        counted["received_by"] = {how: self.count(f"received_{how}") for how in CAME}
        for moment in ("open_at_start", "open_at_end"):
            counted[f"{moment}_split"] = {split: self.count(f"{moment}_{split}") for split in SPLIT}
        return counted


@dataclass(frozen=True)
class Unaccounted:
    lead_id: int
    rep_id: int | None
    reason: str


@dataclass
class Reconciliation:
    period: Period
    rows: list[LedgerRow]
    total: LedgerRow
    unaccounted: list[Unaccounted]


def period_holdings(period: Period, team_id: int | None, rep_id: int | None) -> tuple[str, dict[str, Any]]:
    """The SQL of the holdings of the period (of a team, of a rep), and its terms: for reports to read from."""
    terms: dict[str, Any] = {"start": _at(period.start), "end": _at(period.end), "team": team_id, "rep": rep_id}
    scope = (" AND h.team_id = %(team)s" if team_id is not None else "") + (" AND h.rep_id = %(rep)s" if rep_id is not None else "")
    return _PERIOD_SQL.format(scope=scope), terms


def _at(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def reconciliation(period: Period, *, now: datetime, team_id: int | None = None, rep_id: int | None = None) -> Reconciliation:
    """Each rep's ledger for `period`: the reps who held a lead of team `team_id` (every team: None) in it, or `rep_id`
    alone, and the team's active reps with nothing to count. A holding counts for the team its handoff named. One
    statement for the counts; when the period reaches `now`, two more hold the holdings to the leads' present state."""
    holdings, terms = period_holdings(period, team_id, rep_id)
    figures = list(FIGURE_SQL)
    sql = (f"SELECT h.rep_id, {', '.join(f'SUM(CASE WHEN {FIGURE_SQL[name]} THEN 1 ELSE 0 END)' for name in figures)} "
           f"FROM ({holdings}) h GROUP BY h.rep_id")
    rows: dict[int, LedgerRow] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, terms)
        for rep, *counts in cursor.fetchall():
            rows[rep] = LedgerRow(rep, "", counts=defaultdict(int, zip(figures, (int(count or 0) for count in counts), strict=True)))
    for listed in reps_listed(team_id, rep_id):
        rows.setdefault(listed, LedgerRow(listed, ""))
    ordered = named_in_order(rows.values())
    total = LedgerRow(None, "Total")
    for each in ordered:
        total.add(each)
    unaccounted = present_misfits(team_id=team_id, rep_id=rep_id) if period.end > now else []
    for each in [*ordered, total]:
        if not each.balanced:  # by construction it always is; if it were not, it must be seen, not hidden
            unaccounted.append(Unaccounted(0, each.rep_id, f"{each.name}'s ledger does not balance"))
    return Reconciliation(period, ordered, total, unaccounted)


def figure_leads(period: Period, figure: str, *, team_id: int | None = None, rep_id: int | None = None) -> list[int]:
    """The lead ids behind one figure (a key of FIGURE_SQL), in the order they came; a lead received twice, twice."""
    holdings, terms = period_holdings(period, team_id, rep_id)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT h.lead_id FROM ({holdings}) h WHERE {FIGURE_SQL[figure]} ORDER BY h.started_at, h.lead_id", terms)
        return [row[0] for row in cursor.fetchall()]


# Holdings against the leads as they stand now: an open holding of a lead that is not open with that rep, a lead open
# with a rep and no open holding, and a lead whose stage says touched or untouched against its holding.
_PRESENT_SQL = f"""
SELECT h.lead_id, h.rep_id, l.owner_kind, l.owner_rep_id, l.stage, h.touched_at IS NOT NULL
FROM {_HOLDING} h JOIN {_LEAD} l ON l.id = h.lead_id
WHERE h.closed_at IS NULL{{holding_scope}}
  AND (l.owner_kind <> '{OwnerKind.REP}' OR l.owner_rep_id <> h.rep_id OR l.stage NOT IN ('{Stage.ASSIGNED}', '{Stage.IN_PROGRESS}')
       OR (l.stage = '{Stage.IN_PROGRESS}') <> (h.touched_at IS NOT NULL))
UNION ALL
SELECT l.id, NULL, l.owner_kind, l.owner_rep_id, l.stage, NULL
FROM {_LEAD} l LEFT JOIN {_HOLDING} h ON h.lead_id = l.id AND h.closed_at IS NULL
WHERE l.owner_kind = '{OwnerKind.REP}' AND l.stage IN ('{Stage.ASSIGNED}', '{Stage.IN_PROGRESS}') AND h.id IS NULL{{lead_scope}}
"""


def present_misfits(*, team_id: int | None = None, rep_id: int | None = None) -> list[Unaccounted]:
    """Leads whose holdings disagree with where they stand now, each with the reason. Normally none."""
    holding_scope = (" AND h.team_id = %(team)s" if team_id is not None else "") + (" AND h.rep_id = %(rep)s" if rep_id is not None else "")
    lead_scope = (" AND l.owner_team_id = %(team)s" if team_id is not None else "") + (" AND l.owner_rep_id = %(rep)s" if rep_id is not None else "")
    names = _Names()
    found = []
    with connection.cursor() as cursor:
        cursor.execute(_PRESENT_SQL.format(holding_scope=holding_scope, lead_scope=lead_scope), {"team": team_id, "rep": rep_id})
        for lead_id, rep, kind, owner_rep, stage, touched in cursor.fetchall():
            if rep is None:
                found.append(Unaccounted(lead_id, owner_rep, f"it is open with {names.rep(owner_rep)}, but no handoff in its history leaves it open with a rep"))
            elif kind != OwnerKind.REP or stage not in OPEN:
                found.append(Unaccounted(lead_id, rep, f"its history leaves it open with {names.rep(rep)}, but it is {stage.replace('_', ' ')} "
                                                       f"with {names.owner(kind, owner_rep)}"))
            elif owner_rep != rep:
                found.append(Unaccounted(lead_id, rep, f"it is open with {names.rep(owner_rep)}, but its last handoff gave it to {names.rep(rep)}"))
            else:
                found.append(Unaccounted(lead_id, rep, f"it is {stage.replace('_', ' ')}, but its history says {'in progress' if touched else 'untouched'}"))
    return found


def ledger_check(lead_ids: Iterable[int] | None = None) -> list[Unaccounted]:
    """The holdings of `lead_ids` (every lead a rep ever held: None) against their ledger replayed (leads.holdings):
    each lead whose history does not fit, and each whose holdings are not what its history makes them. Normally none."""
    if lead_ids is None:
        lead_ids = Handoff.objects.filter(to_kind=OwnerKind.REP).values_list("lead_id", flat=True).distinct()
    names = _Names()
    found: list[Unaccounted] = []
    for batch in _batches(sorted(set(lead_ids)), 500):
        handoffs: dict[int, list[Any]] = defaultdict(list)
        activities: dict[int, list[Any]] = defaultdict(list)
        stored: dict[int, list[Span]] = defaultdict(list)
        for lead_id, *rest in Handoff.objects.filter(lead_id__in=batch).values_list(
                "lead_id", "at", "id", "from_kind", "from_rep_id", "to_kind", "to_team_id", "to_rep_id", "reason"):
            handoffs[lead_id].append(rest)
        for lead_id, *rest in Activity.objects.filter(lead_id__in=batch, kind__in=[*Activity.TOUCHES, Activity.Kind.OUTCOME]).values_list(
                "lead_id", "at", "id", "kind", "detail"):
            activities[lead_id].append(rest)
        for row in Holding.objects.filter(lead_id__in=batch).order_by("started_at", "id"):
            stored[row.lead_id].append(Span(row.lead_id, row.rep_id, row.team_id, row.came, row.started_at, row.touched_at, row.closed_at,
                                            row.closed_how))
        for lead_id in batch:
            spans, misfits = replay(lead_id, handoffs[lead_id], activities[lead_id])
            for misfit in misfits:
                reason = misfit.reason
                if misfit.reason == HANDED_OVER:
                    reason = f"the ledger hands it over from {names.rep(misfit.other_rep_id)}, but {names.rep(misfit.rep_id)} held it"
                found.append(Unaccounted(lead_id, misfit.rep_id, f"{reason} ({misfit.at:%Y-%m-%d %H:%M} UTC)"))
            if [span.key() for span in spans] != [span.key() for span in stored[lead_id]]:
                kept, replayed = (", ".join(_span_text(span, names) for span in each) or "none" for each in (stored[lead_id], spans))
                found.append(Unaccounted(lead_id, spans[-1].rep_id if spans else None,
                                         f"its holdings are not what its ledger makes them: kept {kept}; replayed {replayed}"))
    return found


def _span_text(span: Span, names: _Names) -> str:
    """A holding in a few words: "Lena Rep by routing, 2026-11-23 09:00 to 2026-11-24 10:00 (away)"."""
    until = f"{span.closed_at:%Y-%m-%d %H:%M} ({span.closed_how})" if span.closed_at else "now"
    touched = f", touched {span.touched_at:%Y-%m-%d %H:%M}" if span.touched_at else ""
    return f"{names.rep(span.rep_id)} by {span.came}, {span.started_at:%Y-%m-%d %H:%M} to {until}{touched}"


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for first in range(0, len(ids), size):
        yield ids[first:first + size]


def reps_listed(team_id: int | None, rep_id: int | None) -> list[int]:
    """The reps a reconciliation lists even with nothing to count: the one asked for, or the team's (every team's) active reps."""
    if rep_id is not None:
        return [rep_id]
    reps = RepProfile.objects.filter(user__is_active=True)
    return list((reps.filter(team_id=team_id) if team_id is not None else reps).values_list("user_id", flat=True))


class _Names:
    """People's names for the reasons of unaccounted leads, read when first needed (the list is normally empty)."""

    def __init__(self) -> None:
        self.known: dict[int, str] = {}

    def rep(self, rep_id: int | None) -> str:
        if rep_id is None:
            return "nobody"
        if rep_id not in self.known:
            user = User.objects.filter(pk=rep_id).only("name", "email").first()
            self.known[rep_id] = user.display_name if user else f"user {rep_id}"
        return self.known[rep_id]

    def owner(self, kind: str, rep_id: int | None) -> str:
        if kind == OwnerKind.REP:
            return self.rep(rep_id)
        return {str(OwnerKind.TEAM): "a team queue", str(OwnerKind.MARKETING): "marketing"}.get(kind, "nobody")


class _RepRow(Protocol):
    rep_id: int | None
    name: str
    email: str


_Row = TypeVar("_Row", bound=_RepRow)


def named_in_order(rows: Iterable[_Row]) -> list[_Row]:
    """A report's rows with their reps' names and addresses filled in, ordered by name. One query."""
    rows = list(rows)
    people = {user.pk: user for user in User.objects.filter(pk__in=[each.rep_id for each in rows]).only("name", "email")}
    for each in rows:
        person = people.get(each.rep_id or 0)
        each.name, each.email = (person.display_name, person.email) if person else (f"user {each.rep_id}", "")
    return sorted(rows, key=lambda each: (each.name.lower(), each.rep_id or 0))
