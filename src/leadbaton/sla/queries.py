"""Reads of the SLA capability: a lead's clocks as the lead page and the API show them, the clocks that
order a rep's leads by urgency, how each team's clocks stand, and the policies in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, Subquery, When

from leadbaton.accounts.models import Team
from leadbaton.leads.models import Lead, OwnerKind, Stage
from leadbaton.leads.queries import leads_of_rep
from leadbaton.sla.models import Clock, Deadline, SlaPolicy


def clocks_of(lead_id: int) -> list[Deadline]:
    """Every clock the lead has run, for every owner it had, oldest first, each with its owner and the
    escalation steps taken (`taken`, in the order they were planned). Two queries."""
    rows = Deadline.objects.filter(lead_id=lead_id).select_related("rep").prefetch_related("taken")
    return list(rows.order_by("started_at", "id"))


def clock_tally(clocks: list[Deadline]) -> dict[str, dict[str, int]]:
    """How many clocks of each kind were met and how many breached (every kind present, zero if none)."""
    tally = {kind.value: {"met": 0, "breached": 0} for kind in Clock}
    for deadline in clocks:
        if deadline.status in (Deadline.Status.MET, Deadline.Status.BREACHED) and deadline.kind in tally:
            tally[deadline.kind][deadline.status] += 1
    return tally


@dataclass(frozen=True)
class NextClock:
    """The owner's pending clock that runs out first."""

    kind: str
    breaches_at: datetime

    def seconds_left(self, now: datetime) -> int:
        return max(0, int((self.breaches_at - now).total_seconds()))


@dataclass(frozen=True)
class RepLead:
    """A lead in its owner's list: whether the owner let one of its clocks run out, and the clock that runs out next."""

    lead: Lead
    breached: bool
    next_clock: NextClock | None


def leads_of_rep_by_clock(
    rep_id: int, *, now: datetime, stages: tuple[str, ...] | None = None, limit: int = 50, where: Q | None = None,
) -> list[RepLead]:
    """A rep's own leads, most urgent first by their service-level clocks (F1, S1). One query.

    Open leads come in this order:
    1. a clock of this owner breached and not answered since by a touch or an outcome;
    2. the pending clock that runs out first, soonest first (leads without one after);
    3. the higher score;
    4. then as leads.queries.leads_of_rep orders them (untouched, next step overdue, ...).
    Closed stages, when asked for, come most recently closed first, as leads_of_rep has them.
    `where` narrows them; it may name `clock_breached` and `next_clock_at` (as inbox_where does).
    """
    first = [F("clock_breached").desc(), F("next_clock_at").asc(nulls_last=True), F("score").desc()]
    rows = leads_of_rep(rep_id, now=now, stages=stages, limit=limit, annotations=_owner_clocks(), order_first=first, where=where)
    return [_rep_lead(lead) for lead in rows]


def _owner_clocks() -> dict[str, Any]:
    """What a lead's owner's clocks say, read with the lead: `clock_breached` (one ran out and nobody has touched
    the lead or recorded an outcome since), `next_clock_at` and `next_clock_kind` (the pending one that runs out first)."""
    owners = Deadline.objects.filter(lead_id=OuterRef("pk"), rep_id=OuterRef("owner_rep_id"))
    pending = owners.filter(status=Deadline.Status.PENDING).order_by("breach_at", "id")
    breached = owners.filter(status=Deadline.Status.BREACHED)
    return {
        "clock_breached": Case(
            When(last_progress_at__isnull=True, then=Exists(breached)),
            default=Exists(breached.filter(breached_at__gt=OuterRef("last_progress_at"))),
            output_field=BooleanField(),
        ),
        "next_clock_at": Subquery(pending.values("breach_at")[:1]),
        "next_clock_kind": Subquery(pending.values("kind")[:1]),
    }


# The rep's inbox narrowed to one kind of lead (F1): the filter's name in the address, and what it shows.
INBOX_VIEWS = {
    "": "All open",
    "untouched": "Untouched",
    "due_today": "Due today",
    "overdue": "Overdue",
    "stale": "Stale",
}


def inbox_where(view: str, *, now: datetime, day_ends_at: datetime, stale_before: datetime, blocker: str = "") -> Q | None:
    """The leads_of_rep_by_clock filter for an inbox view (INBOX_VIEWS) and, with `blocker`, in progress held back by it.

    untouched: assigned, nobody has touched it yet. due today: a clock of the owner or the next step comes
    before the owner's day ends (`day_ends_at`), or already came (a breach not answered yet too). overdue: a
    breach not answered yet, or the next step's time has passed. stale: in progress with no touch or outcome since `stale_before`.
    """
    in_progress = Q(stage=Stage.IN_PROGRESS)  # a next step is in progress's: a lead queued and handed out again keeps an old one
    where = {
        "untouched": Q(stage=Stage.ASSIGNED),
        "due_today": Q(clock_breached=True) | Q(next_clock_at__lt=day_ends_at) | (in_progress & Q(next_step_at__lt=day_ends_at)),
        "overdue": Q(clock_breached=True) | (in_progress & Q(next_step_at__lte=now)),
        "stale": in_progress & (Q(last_progress_at__lt=stale_before) | Q(last_progress_at__isnull=True)),
    }.get(view)
    if blocker:
        where = (where or Q()) & in_progress & Q(blocker=blocker)
    return where


@dataclass(frozen=True)
class RepCounts:
    """A rep's open leads as their manager's board counts them, each count as the inbox view of the same name has it."""

    open: int = 0
    untouched: int = 0
    due_today: int = 0
    overdue: int = 0
    stale: int = 0
    next_step_overdue: int = 0  # of the overdue, in progress with a past next step (routing's catch-up gate counts these)


# A rep's open leads counted as their inbox views count them (inbox_where), written out: the ORM's form of it asked the
# clock subqueries once per lead and per count, 200 ms for a team of 5,000 open leads on SQLite. Here each lead's
# clocks are read once, by joining the owner's latest unanswered breach and earliest pending clock per lead; only the
# pending clocks that run out before the last of the reps' days ends can count, so only those are read (a quarter less time).
_LEAD, _DEADLINE = Lead._meta.db_table, Deadline._meta.db_table
_REP_COUNTS_SQL = f"""
SELECT l.owner_rep_id, COUNT(*),
  SUM(CASE WHEN l.stage = '{Stage.ASSIGNED}' THEN 1 ELSE 0 END),
  SUM(CASE WHEN b.lead_id IS NOT NULL OR p.first_at < {{day_end}}
           OR (l.stage = '{Stage.IN_PROGRESS}' AND l.next_step_at < {{day_end}}) THEN 1 ELSE 0 END),
  SUM(CASE WHEN b.lead_id IS NOT NULL OR (l.stage = '{Stage.IN_PROGRESS}' AND l.next_step_at <= %s) THEN 1 ELSE 0 END),
  SUM(CASE WHEN l.stage = '{Stage.IN_PROGRESS}' AND (l.last_progress_at < %s OR l.last_progress_at IS NULL) THEN 1 ELSE 0 END),
  SUM(CASE WHEN l.stage = '{Stage.IN_PROGRESS}' AND l.next_step_at <= %s THEN 1 ELSE 0 END)
FROM {_LEAD} l
LEFT JOIN (SELECT lead_id, rep_id, MAX(breached_at) AS last_at FROM {_DEADLINE}
           WHERE status = '{Deadline.Status.BREACHED}' AND rep_id IN ({{reps}}) GROUP BY lead_id, rep_id) b
  ON b.lead_id = l.id AND b.rep_id = l.owner_rep_id AND (l.last_progress_at IS NULL OR b.last_at > l.last_progress_at)
LEFT JOIN (SELECT lead_id, rep_id, MIN(breach_at) AS first_at FROM {_DEADLINE}
           WHERE status = '{Deadline.Status.PENDING}' AND rep_id IN ({{reps}}) AND breach_at < %s GROUP BY lead_id, rep_id) p
  ON p.lead_id = l.id AND p.rep_id = l.owner_rep_id
WHERE l.owner_kind = '{OwnerKind.REP}' AND l.owner_rep_id IN ({{reps}}) AND l.stage IN ('{Stage.ASSIGNED}', '{Stage.IN_PROGRESS}')
GROUP BY l.owner_rep_id
"""


def rep_counts(day_ends_at: dict[int, datetime], *, now: datetime, stale_before: datetime) -> dict[int, RepCounts]:
    """For each rep of `day_ends_at` (absent from the answer: none open), their open leads counted by inbox view
    (inbox_where), "due today" up to the end of each rep's own day, as their inbox has it. One query over the owner index."""
    if not day_ends_at:
        return {}
    at = connection.ops.adapt_datetimefield_value
    reps = [int(rep_id) for rep_id in day_ends_at]
    day_end = "CASE l.owner_rep_id " + " ".join("WHEN %s THEN %s" for _ in reps) + " END"
    day_params = [value for rep_id in reps for value in (rep_id, at(day_ends_at[rep_id]))]
    in_reps = ", ".join("%s" for _ in reps)
    sql = _REP_COUNTS_SQL.format(day_end=day_end, reps=in_reps)
    params = [*day_params, *day_params, at(now), at(stale_before), at(now), *reps, *reps, at(max(day_ends_at.values())), *reps]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: RepCounts(*(int(value or 0) for value in row[1:])) for row in cursor.fetchall()}


def clocks_breached_since(team_id: int, since: datetime, *, where: Q, limit: int = 50) -> list[Deadline]:
    """The team's clocks that ran out at or after `since`, of leads within `where` (the reader's), latest first, each with
    its lead and the rep it ran for, read as a list shows them (the clock's kind and time, the lead's and rep's names). One query."""
    rows = Deadline.objects.filter(team_id=team_id, status=Deadline.Status.BREACHED, breached_at__gte=since).filter(where)
    shown = ("kind", "breached_at", "lead__first_name", "lead__last_name", "lead__email", "lead__phone", "rep__name", "rep__email")
    return list(rows.select_related("lead", "rep").only(*shown).order_by("-breached_at", "-id")[:limit])


def _rep_lead(lead: Lead) -> RepLead:
    at, kind = getattr(lead, "next_clock_at", None), getattr(lead, "next_clock_kind", None)
    return RepLead(lead, bool(getattr(lead, "clock_breached", False)), NextClock(kind, at) if at is not None and kind else None)


@dataclass(frozen=True)
class TeamClocks:
    """How a team's clocks stand now: pending, running out within the hour, breached and met today (its time zone)."""

    team: Team
    pending: int
    due_within_hour: int
    breached_today: int
    met_today: int


def clocks_by_team(*, now: datetime, team_slug: str | None = None) -> list[TeamClocks]:
    """One row per active team (or the one named), in name order. One query per team."""
    teams = Team.objects.filter(active=True).order_by("name")
    if team_slug is not None:
        teams = teams.filter(slug=team_slug)
    rows = []
    for team in teams:
        local = now.astimezone(ZoneInfo(team.time_zone))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        counts = Deadline.objects.filter(team=team).aggregate(
            pending=Count("id", filter=Q(status=Deadline.Status.PENDING)),
            due=Count("id", filter=Q(status=Deadline.Status.PENDING, breach_at__lte=now + timedelta(hours=1))),
            breached=Count("id", filter=Q(status=Deadline.Status.BREACHED, breached_at__gte=midnight)),
            met=Count("id", filter=Q(status=Deadline.Status.MET, met_at__gte=midnight)),
        )
        rows.append(TeamClocks(team, counts["pending"], counts["due"], counts["breached"], counts["met"]))
    return rows


def policies_active() -> list[SlaPolicy]:
    """The organisation's policy first, then the teams' own, by team name."""
    rows = SlaPolicy.objects.filter(active=True).exclude(team__active=False).select_related("team")  # a switched-off team's: not in force
    return sorted(rows, key=lambda policy: (policy.team_id is not None, policy.team.name if policy.team else ""))
