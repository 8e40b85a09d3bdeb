"""Progress (P2): whether each rep's in-progress leads move, in a period and against the period before, and where they
stand now: stale, next steps overdue, what holds them back.

For a period, a rep's leads in progress at its start (held and touched before it) each progressed or not: progressed
when a touch or an outcome was recorded on it in the period while the rep held it (closing it is an outcome). The share
that progressed is set beside the same share of the period before (a week against the week before, a month against the
month before), so a manager sees whether the team catches up. Like the reconciliation, it is counted from the holdings
and the activities, so a past period gives the same answer when asked again.

Now: each rep's in-progress leads by blocker, those stale (no touch or outcome for the team's policy window, as the
inbox's "Stale" and routing's catch-up gate count them) and those whose next step is overdue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce

from leadbaton.accounts.models import Team
from leadbaton.leads.models import Activity, Blocker, Holding, Lead, OwnerKind, Stage
from leadbaton.leads.queries import team_leads
from leadbaton.reports.periods import Period
from leadbaton.reports.reconciliation import FIGURE_SQL, named_in_order, period_holdings, reps_listed
from leadbaton.sla.services import policy_for

# What a lead's blocker is shown as when the owner has touched it but recorded no outcome yet.
NO_BLOCKER = "none recorded"
BLOCKERS = {str(value): str(label) for value, label in Blocker.choices} | {"": NO_BLOCKER}

_ACTIVITY = Activity._meta.db_table
_PROGRESS_KINDS = ", ".join(f"'{kind}'" for kind in (*Activity.TOUCHES, Activity.Kind.OUTCOME))
# A touch or outcome on the holding's lead in the period while the rep held it: at its closing moment too (the outcome
# that closed it; at one moment, the ledger puts activities before a handoff).
_HOLDING = Holding._meta.db_table
# A touch or outcome on the holding's lead in the period while its rep held it (in this holding or a later one of the
# same period): after the holding started and up to its closing moment (the outcome that closed it; at one moment, the
# ledger puts activities before a handoff).
_PROGRESSED = (f"EXISTS (SELECT 1 FROM {_ACTIVITY} a JOIN {_HOLDING} k ON k.lead_id = a.lead_id AND k.rep_id = h.rep_id "
               "AND k.started_at < a.at AND (k.closed_at IS NULL OR a.at <= k.closed_at) "
               f"WHERE a.lead_id = h.lead_id AND a.kind IN ({_PROGRESS_KINDS}) AND a.at >= %(start)s AND a.at < %(end)s)")
_IN_PROGRESS_AT_START = FIGURE_SQL["open_at_start_in_progress"]

# The figures whose leads the report lists: of the period, and of now.
PERIOD_FIGURES = {"in_progress_at_start": "in progress at start", "progressed": "progressed", "not_progressed": "not progressed"}
NOW_FIGURES = {"in_progress": "in progress now", "stale": "stale now", "overdue": "next step overdue now"}
FIGURES_LISTED = [*PERIOD_FIGURES, *NOW_FIGURES, *(f"blocker:{blocker}" for blocker in BLOCKERS)]


@dataclass
class ProgressRow:
    """One rep's progress (or the sum of several: `rep_id` None)."""

    rep_id: int | None
    name: str
    email: str = ""
    in_progress_at_start: int = 0
    progressed: int = 0
    before_at_start: int = 0  # the same two figures, of the period before
    before_progressed: int = 0
    in_progress: int = 0  # now
    stale: int = 0
    overdue: int = 0
    blockers: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def share(self) -> float | None:
        """Of the leads in progress at the period's start, the share (0 to 1) that progressed in it."""
        return self.progressed / self.in_progress_at_start if self.in_progress_at_start else None

    @property
    def before_share(self) -> float | None:
        return self.before_progressed / self.before_at_start if self.before_at_start else None

    @property
    def change(self) -> float | None:
        """The share against the period before's, in points (0.1: ten points more); None when either has no leads."""
        if self.share is None or self.before_share is None:
            return None
        return self.share - self.before_share

    def count(self, figure: str) -> int:
        if figure == "not_progressed":
            return self.in_progress_at_start - self.progressed
        if figure.startswith("blocker:"):
            return self.blockers.get(figure[len("blocker:"):], 0)
        return int(getattr(self, figure))

    def add(self, other: ProgressRow) -> None:
        for name in ("in_progress_at_start", "progressed", "before_at_start", "before_progressed", "in_progress", "stale", "overdue"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for blocker, count in other.blockers.items():
            self.blockers[blocker] += count

    def out(self) -> dict[str, Any]:
        """The figures as the API and the CSV give them."""
        return {
            "in_progress_at_start": self.in_progress_at_start, "progressed": self.progressed, "share": self.share,
            "before": {"in_progress_at_start": self.before_at_start, "progressed": self.before_progressed, "share": self.before_share},
            "change": self.change, "now": {"in_progress": self.in_progress, "stale": self.stale, "overdue_next_steps": self.overdue,
                                           "by_blocker": {blocker: self.blockers.get(blocker, 0) for blocker in BLOCKERS}},
        }


@dataclass
class Progress:
    period: Period
    before: Period | None  # None before the first period one may ask for
    now: datetime
    rows: list[ProgressRow]
    total: ProgressRow

    @property
    def before_label(self) -> str:
        return self.before.label if self.before else "the period before"

    @property
    def blockers_seen(self) -> list[tuple[str, str]]:
        """The blockers any in-progress lead has now, in the order of Blocker (none recorded last): the columns to show."""
        return [(blocker, label) for blocker, label in BLOCKERS.items() if self.total.blockers.get(blocker)]


def progress(period: Period, *, now: datetime, team_id: int | None = None, rep_id: int | None = None) -> Progress:
    """Each rep's progress in `period` and the period before, and their in-progress leads now: of team `team_id`'s
    holdings and leads (every team's: None), or `rep_id`'s, the team's active reps listed with nothing to count.
    Three queries however many leads."""
    rows: dict[int, ProgressRow] = {}

    def row(rep: int) -> ProgressRow:
        return rows.setdefault(rep, ProgressRow(rep, ""))

    try:
        before: Period | None = period.previous()
    except ValueError:  # the first period one may ask for has none before it
        before = None
    periods = [(period, ("in_progress_at_start", "progressed"))] + ([(before, ("before_at_start", "before_progressed"))] if before else [])
    for asked, (at_start, progressed) in periods:
        holdings, terms = period_holdings(asked, team_id, rep_id)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT h.rep_id, COUNT(*), SUM(CASE WHEN {_PROGRESSED} THEN 1 ELSE 0 END) FROM ({holdings}) h "
                           f"WHERE {_IN_PROGRESS_AT_START} GROUP BY h.rep_id", terms)
            for rep, leads, moved in cursor.fetchall():
                setattr(row(rep), at_start, int(leads))
                setattr(row(rep), progressed, int(moved or 0))
    stale, overdue = _now_conditions(now)
    leads = _in_progress_now(team_id, rep_id).values_list("owner_rep_id", "blocker").annotate(
        count=Count("id"), stale=Count("id", filter=stale), overdue=Count("id", filter=overdue)).order_by()
    for rep, blocker, count, stale_count, overdue_count in leads:
        counted = row(rep)
        counted.in_progress += count
        counted.stale += stale_count
        counted.overdue += overdue_count
        counted.blockers[blocker] += count
    for listed in reps_listed(team_id, rep_id):
        row(listed)
    ordered = named_in_order(rows.values())
    total = ProgressRow(None, "Total")
    for each in ordered:
        total.add(each)
    return Progress(period, before, now, ordered, total)


def progress_leads(period: Period, figure: str, *, now: datetime, team_id: int | None = None, rep_id: int | None = None) -> list[int]:
    """The lead ids behind one figure (PERIOD_FIGURES, NOW_FIGURES, or `blocker:B`), by the same conditions as the
    counts; the period's in the order the leads came to the rep, now's most stale first."""
    if figure in PERIOD_FIGURES:
        holdings, terms = period_holdings(period, team_id, rep_id)
        narrowed = {"in_progress_at_start": "", "progressed": f" AND {_PROGRESSED}", "not_progressed": f" AND NOT {_PROGRESSED}"}[figure]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT h.lead_id FROM ({holdings}) h WHERE {_IN_PROGRESS_AT_START}{narrowed} ORDER BY h.started_at, h.lead_id", terms)
            return [each[0] for each in cursor.fetchall()]
    leads = _in_progress_now(team_id, rep_id)
    stale, overdue = _now_conditions(now)
    if figure == "stale":
        leads = leads.filter(stale)
    elif figure == "overdue":
        leads = leads.filter(overdue)
    elif figure.startswith("blocker:") and figure[len("blocker:"):] in BLOCKERS:
        leads = leads.filter(blocker=figure[len("blocker:"):])
    elif figure != "in_progress":
        raise ValueError(f"{figure[:60]!r} is not a figure of the progress report; use one of {', '.join(FIGURES_LISTED)}")
    return list(leads.order_by(F("last_progress_at").asc(nulls_first=True), "id").values_list("id", flat=True))


def _in_progress_now(team_id: int | None, rep_id: int | None) -> Any:
    """The leads in progress with a rep now, as the board counts them: of a team, those it routed or whose rep sells for
    it now. Each with `policy_team`, the team whose service levels say when it is stale: its rep's now, else its own."""
    leads = Lead.objects.filter(owner_kind=OwnerKind.REP, stage=Stage.IN_PROGRESS).annotate(
        policy_team=Coalesce("owner_rep__rep__team_id", "owner_team_id"))
    if team_id is not None:
        leads = leads.filter(team_leads(team_id))
    if rep_id is not None:
        leads = leads.filter(owner_rep_id=rep_id)
    return leads


def _now_conditions(now: datetime) -> tuple[Q, Q]:
    """Stale (no touch or outcome within the policy window of the team the lead's rep sells for, as the inbox and the
    catch-up gate count it) and next step overdue, as conditions on _in_progress_now's leads: as sla.queries' views."""
    windows: dict[int, list[int]] = defaultdict(list)
    for team in Team.objects.values_list("pk", flat=True):
        windows[policy_for(team).progress_every_days].append(team)
    stale = Q(last_progress_at__isnull=True) | Q(policy_team__isnull=True, last_progress_at__lt=now - timedelta(days=policy_for(None).progress_every_days))
    for days, teams in windows.items():
        stale |= Q(policy_team__in=teams, last_progress_at__lt=now - timedelta(days=days))
    return stale, Q(next_step_at__lte=now)
