"""The weekly reconciliation (P1): every lead a rep held in a period, balanced like a ledger.

    open at start + received - purchased - not interested - rejected - reassigned away = open at end

It is replayed from the handoff ledger and the activities (touches and outcomes), never from the leads' present
state, so any past period can be recomputed and gives the same answer. A lead is held by a rep from the handoff that
gives it to them to the next handoff of that lead; while held it is open until an outcome closes it (purchased, not
interested) or a handoff takes it away (rejected back to marketing, reassigned to another rep, returned or moved to a
queue). A lead whose history does not fit that story, or whose present state disagrees with its history, is listed as
unaccounted with the reason, and never silently dropped or counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q

from leadbaton.accounts.models import RepProfile, User
from leadbaton.leads.models import Activity, Handoff, Lead, OwnerKind, Stage
from leadbaton.reports.periods import Period

OPEN = (Stage.ASSIGNED, Stage.IN_PROGRESS)

# How a lead came to the rep who received it, from its handoff (`_came`), in the order reports show them.
CAME = {
    "routing": "Routing",
    "queue": "Queue hand-out",
    "assigned": "Manual assignment",
    "reassigned": "Reassignment in",
    "sla": "SLA reassignment",
}

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

_CHUNK = 500  # lead ids per IN list


@dataclass
class LedgerRow:
    """One rep's ledger for the period (or the sum of several: `rep_id` None). `leads` holds the lead ids behind each
    figure: the FIGURES, `received_<how>` for each of CAME, and `open_at_start_<split>` / `open_at_end_<split>` for
    each of SPLIT. A lead appears once per movement: received twice in a week, it is counted twice."""

    rep_id: int | None
    name: str
    email: str = ""
    leads: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def count(self, figure: str) -> int:
        return len(self.leads.get(figure, ()))

    @property
    def balanced(self) -> bool:
        return self.count("open_at_start") + self.count("received") - sum(self.count(name) for name in LEAVING) == self.count("open_at_end")

    def add(self, other: LedgerRow) -> None:
        for figure, ids in other.leads.items():
            self.leads[figure].extend(ids)

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


@dataclass
class _Holding:
    rep_id: int
    team_id: int | None
    open: bool = True
    touched: bool = False


def reconciliation(period: Period, *, now: datetime, team_id: int | None = None, rep_id: int | None = None) -> Reconciliation:
    """Each rep's ledger for `period`: the reps who held a lead of team `team_id` (every team: None) in it, or `rep_id`
    alone. A rep's holding counts for the team its handoff named. Reads the leads with anything in or after the period,
    and those a rep holds open now, with their history up to the period's end; the answer does not change when
    asked again later."""
    start, end = period.start, period.end
    leads = _leads_in_play(start)
    handoffs = _by_lead(Handoff.objects.filter(at__lt=end).order_by("lead_id", "at", "id").values_list(
        "lead_id", "at", "id", "from_kind", "from_rep_id", "to_kind", "to_team_id", "to_rep_id", "reason"), leads)
    activities = _by_lead(Activity.objects.filter(at__lt=end, kind__in=[*Activity.TOUCHES, Activity.Kind.OUTCOME]).order_by("lead_id", "at", "id")
                          .values_list("lead_id", "at", "id", "kind", "detail"), leads)
    present = {}
    if end > now:  # the period reaches the present: every lead's whole history is replayed, so its state must match
        present = {lead_id: (stage, kind, rep, team) for lead_id, stage, kind, rep, team in _chunked(
            Lead.objects.values_list("id", "stage", "owner_kind", "owner_rep_id", "owner_team_id"), "id__in", sorted(leads))}
    rows: dict[int, LedgerRow] = {}
    names = _Names()
    unaccounted: list[Unaccounted] = []

    def row(rep: int) -> LedgerRow:
        if rep not in rows:
            rows[rep] = LedgerRow(rep, "")
        return rows[rep]

    def counts(holding: _Holding) -> bool:
        return (team_id is None or holding.team_id == team_id) and (rep_id is None or holding.rep_id == rep_id)

    for lead_id in sorted(leads):
        holding: _Holding | None = None
        started = False

        def snapshot(moment: str, held: _Holding | None, lead: int = lead_id) -> None:
            if held is not None and held.open and counts(held):
                figures = row(held.rep_id).leads
                figures[moment].append(lead)
                figures[f"{moment}_{'in_progress' if held.touched else 'untouched'}"].append(lead)

        for at, kind, values in _merged(handoffs.get(lead_id, ()), activities.get(lead_id, ())):
            if not started and at >= start:
                snapshot("open_at_start", holding)
                started = True
            inside = at >= start
            if kind == "handoff":
                from_kind, from_rep, to_kind, to_team, to_rep, reason = values
                if holding is not None and holding.open:
                    wrong = from_kind != OwnerKind.REP or from_rep != holding.rep_id
                    if inside and wrong:
                        unaccounted.append(Unaccounted(lead_id, holding.rep_id, f"the ledger hands it over from {names.owner(from_kind, from_rep)}, "
                                                                                f"but {names.rep(holding.rep_id)} held it"))
                    elif inside and reason == Handoff.Reason.RECYCLED:
                        unaccounted.append(Unaccounted(lead_id, holding.rep_id, "recycled to marketing while still open"))
                    if inside and counts(holding):
                        row(holding.rep_id).leads["rejected" if reason == Handoff.Reason.REJECTED else "reassigned_away"].append(lead_id)
                if to_kind == OwnerKind.REP and to_rep is not None:
                    touched = holding is not None and holding.open and holding.touched and from_kind == OwnerKind.REP
                    holding = _Holding(to_rep, to_team, touched=touched)
                    if inside and counts(holding):
                        figures = row(to_rep).leads
                        figures["received"].append(lead_id)
                        figures[f"received_{_came(reason, from_kind)}"].append(lead_id)
                else:
                    holding = None
            else:
                activity_kind, detail = values
                outcome = (detail or {}).get("outcome") if activity_kind == Activity.Kind.OUTCOME else None
                if holding is None or not holding.open:
                    if inside and outcome in (Stage.PURCHASED, Stage.NOT_INTERESTED, Stage.IN_PROGRESS):
                        unaccounted.append(Unaccounted(lead_id, holding.rep_id if holding else None,
                                                       f"an outcome ({outcome}) recorded while no rep held it open"))
                    continue
                holding.touched = holding.touched or activity_kind != Activity.Kind.OUTCOME or outcome == Stage.IN_PROGRESS
                if outcome in (Stage.PURCHASED, Stage.NOT_INTERESTED):
                    holding.open = False
                    if inside and counts(holding):
                        row(holding.rep_id).leads[str(outcome)].append(lead_id)
        if not started:
            snapshot("open_at_start", holding)
        snapshot("open_at_end", holding)
        if lead_id in present:
            problem = _disagrees(present[lead_id], holding, names)
            if problem and counts(holding or _Holding(present[lead_id][2] or 0, present[lead_id][3])):
                unaccounted.append(Unaccounted(lead_id, holding.rep_id if holding else present[lead_id][2], problem))

    for listed in _reps_listed(team_id, rep_id):
        row(listed)
    _name(rows.values())
    ordered = sorted(rows.values(), key=lambda each: (each.name.lower(), each.rep_id or 0))
    total = LedgerRow(None, "Total")
    for each in ordered:
        total.add(each)
    for each in [*ordered, total]:
        if not each.balanced:  # by construction it always is; if it were not, it must be seen, not hidden
            unaccounted.append(Unaccounted(0, each.rep_id, f"{each.name}'s ledger does not balance"))
    return Reconciliation(period, ordered, total, unaccounted)


def _leads_in_play(start: datetime) -> set[int]:
    """The leads whose state at `start` or later may be a rep's: a handoff or outcome at or after `start`, or open with a
    rep now. Any other lead's last move came before `start` and left it with nobody or closed, which it still is."""
    ids = set(Handoff.objects.filter(at__gte=start).values_list("lead_id", flat=True).distinct())
    ids.update(Activity.objects.filter(at__gte=start, kind=Activity.Kind.OUTCOME).values_list("lead_id", flat=True).distinct())
    ids.update(Lead.objects.filter(owner_kind=OwnerKind.REP, stage__in=OPEN).values_list("id", flat=True))
    return ids


def _reps_listed(team_id: int | None, rep_id: int | None) -> list[int]:
    """The reps a reconciliation lists even with nothing to count: the one asked for, or the team's (every team's) active reps."""
    if rep_id is not None:
        return [rep_id]
    reps = RepProfile.objects.filter(user__is_active=True)
    return list((reps.filter(team_id=team_id) if team_id is not None else reps).values_list("user_id", flat=True))


def _chunked(rows: Any, lookup: str, ids: list[int]) -> Iterator[Any]:
    for first in range(0, len(ids), _CHUNK):
        yield from rows.filter(Q(**{lookup: ids[first:first + _CHUNK]}))


def _by_lead(rows: Any, leads: set[int]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for lead_id, *rest in _chunked(rows, "lead_id__in", sorted(leads)):
        grouped[lead_id].append(tuple(rest))
    return grouped


def _merged(handoffs: Iterable[tuple[Any, ...]], activities: Iterable[tuple[Any, ...]]) -> list[tuple[datetime, str, tuple[Any, ...]]]:
    """A lead's handoffs and activities in the order they happened; at the same moment, a handoff after the activities
    (an outcome is recorded, then the lead is sent back)."""
    events = [(at, 1, number, "handoff", tuple(rest)) for at, number, *rest in handoffs]
    events += [(at, 0, number, "activity", tuple(rest)) for at, number, *rest in activities]
    events.sort(key=lambda event: event[:3])
    return [(at, kind, values) for at, _, _, kind, values in events]


def _came(reason: str, from_kind: str) -> str:
    if reason == Handoff.Reason.SLA_BREACH:
        return "sla"
    if from_kind == OwnerKind.REP:
        return "reassigned"
    if reason == Handoff.Reason.REASSIGNED:
        return "assigned"
    if from_kind == OwnerKind.TEAM:
        return "queue"
    return "routing"


def _disagrees(present: tuple[str, str, int | None, int | None], holding: _Holding | None, names: _Names) -> str:
    """Why the lead's present state disagrees with its replayed history; empty when it agrees. A lead listed for the rep
    its history leaves it with, or else for the rep who has it now."""
    stage, kind, rep, _ = present
    held_open = holding is not None and holding.open
    now_open = kind == OwnerKind.REP and stage in OPEN
    if held_open and not now_open:
        return f"its history leaves it open with {names.rep(holding.rep_id)}, but it is {stage.replace('_', ' ')} with {names.owner(kind, rep)}"  # type: ignore[union-attr]
    if now_open and not held_open:
        return f"it is open with {names.rep(rep)}, but no handoff or outcome in its history leaves it open with a rep"
    if held_open and holding is not None and rep != holding.rep_id:
        return f"it is open with {names.rep(rep)}, but its last handoff gave it to {names.rep(holding.rep_id)}"
    if held_open and holding is not None and (stage == Stage.IN_PROGRESS) != holding.touched:
        return f"it is {stage.replace('_', ' ')}, but its history says {'in progress' if holding.touched else 'untouched'}"
    return ""


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


def _name(rows: Iterable[LedgerRow]) -> None:
    rows = list(rows)
    people = {user.pk: user for user in User.objects.filter(pk__in=[each.rep_id for each in rows]).only("name", "email")}
    for each in rows:
        person = people.get(each.rep_id or 0)
        each.name, each.email = (person.display_name, person.email) if person else (f"user {each.rep_id}", "")
