"""Reads of the SLA capability: a lead's clocks as the lead page and the API show them, the clocks that
order a rep's leads by urgency, how each team's clocks stand, and the policies in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Q

from leadbaton.accounts.models import Team
from leadbaton.leads.models import CLOSED_STAGES, Lead, OwnerKind, Stage
from leadbaton.leads.queries import LIST_COLUMNS, closed_leads_of_rep, read_at
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
    rep_id: int, *, now: datetime, stages: tuple[str, ...] | None = None, limit: int = 50, view: str = "",
    day_ends_at: datetime | None = None, stale_before: datetime | None = None, blocker: str = "",
) -> list[RepLead]:
    """A rep's own leads, most urgent first by their service-level clocks (F1, S1). One query.

    Open leads (the default: assigned and in progress) come in this order:
    1. a clock of this owner breached and not answered since by a touch or an outcome;
    2. the pending clock that runs out first, soonest first (leads without one after);
    3. the higher score;
    4. untouched, longest waiting first; in progress with the next step overdue, most overdue first; in progress
       without a next step (it needs an outcome), longest waiting first; in progress with a next step to come, soonest first.
    `view` narrows them to an inbox view (INBOX_VIEWS: "due_today" needs `day_ends_at`, "stale" `stale_before`), and
    `blocker` to those in progress held back by it. Closed stages, when asked for, come most recently closed first,
    as leads.queries.closed_leads_of_rep has them. The leads are read as lists read them (leads.queries.LIST_FIELDS), without
    their owner: leads.queries.with_owners loads it.
    """
    stages = stages or OPEN
    if view not in INBOX_VIEWS:
        raise ValueError(f"{view!r} is not a view of the inbox; use one of {', '.join(filter(None, INBOX_VIEWS))}")
    if all(stage in CLOSED_STAGES for stage in stages):
        if view or blocker:
            raise ValueError("a view or a blocker narrows open leads, not closed ones")
        return [RepLead(lead, False, None) for lead in closed_leads_of_rep(rep_id, stages=stages, limit=limit)]
    terms: dict[str, Any] = {"rep": rep_id, "now": _at(now), "limit": limit, "in_progress": Stage.IN_PROGRESS}
    terms |= {f"stage_{n}": stage for n, stage in enumerate(stages)}
    narrowed = [_view_sql(view, day_end="%(day_end)s")] if view else []
    if view == "due_today":
        terms["day_end"] = _at(_required(day_ends_at, "day_ends_at", view))
    if view == "stale":
        terms["stale_before"] = _at(_required(stale_before, "stale_before", view))
    if blocker:
        narrowed.append("l.stage = %(in_progress)s AND l.blocker = %(blocker)s")
        terms["blocker"] = blocker
    sql = _REP_LEADS_SQL.format(
        columns=LIST_COLUMNS, next_pending=_NEXT_PENDING[connection.vendor], stages=", ".join(f"%(stage_{n})s" for n in range(len(stages))),
        narrowed="".join(f" AND ({condition})" for condition in narrowed),
    )
    return [_rep_lead(lead) for lead in Lead.objects.raw(sql, terms)]


OPEN = (Stage.ASSIGNED, Stage.IN_PROGRESS)  # a rep's open leads: the ones their clocks, views and counts are about
_LEAD, _DEADLINE = Lead._meta.db_table, Deadline._meta.db_table

# A clock of the owner that ran out and that nobody has answered since with a touch or an outcome: `b`, one row per
# lead at most, joined to the leads `l`. The rep lists and the board's counts read it alike.
_UNANSWERED_BREACH = f"""LEFT JOIN (SELECT lead_id, rep_id, MAX(breached_at) AS last_at FROM {_DEADLINE}
           WHERE status = '{Deadline.Status.BREACHED}' AND rep_id IN ({{reps}}) GROUP BY lead_id, rep_id) b
  ON b.lead_id = l.id AND b.rep_id = l.owner_rep_id AND (l.last_progress_at IS NULL OR b.last_at > l.last_progress_at)"""

# The inbox's views (INBOX_VIEWS) over a rep's open leads `l`, the unanswered breach `b` and the owner's pending clock
# that runs out first (`p.breach_at`), written once for the lists and for the counts. untouched: assigned, nobody has
# touched it yet. due today: a clock of the owner or the next step comes before the owner's day ends ({day_end}), or
# already came (a breach not answered yet too). overdue: a breach not answered yet, or the next step's time has passed.
# stale: in progress with no touch or outcome since %(stale_before)s. A next step is in progress's: a lead queued and
# handed out again keeps an old one.
_VIEWS_SQL = {
    "untouched": f"l.stage = '{Stage.ASSIGNED}'",
    "due_today": f"b.lead_id IS NOT NULL OR p.breach_at < {{day_end}} OR (l.stage = '{Stage.IN_PROGRESS}' AND l.next_step_at < {{day_end}})",
    "overdue": f"b.lead_id IS NOT NULL OR (l.stage = '{Stage.IN_PROGRESS}' AND l.next_step_at <= %(now)s)",
    "stale": f"l.stage = '{Stage.IN_PROGRESS}' AND (l.last_progress_at < %(stale_before)s OR l.last_progress_at IS NULL)",
}
_NEXT_STEP_OVERDUE_SQL = f"l.stage = '{Stage.IN_PROGRESS}' AND l.next_step_at <= %(now)s"


def _view_sql(view: str, *, day_end: str) -> str:
    return _VIEWS_SQL[view].format(day_end=day_end)


# The owner's pending clock that runs out first, per lead, through the index on (lead, rep, status, breach_at):
# PostgreSQL joins it laterally (joined on a subquery's id, it hashed every clock and asked the subquery twice per lead);
# SQLite, which has no LATERAL, joins it on the id its subquery finds.
_NEXT_PENDING_WHERE = f"d.lead_id = l.id AND d.rep_id = %(rep)s AND d.status = '{Deadline.Status.PENDING}' ORDER BY d.breach_at, d.id LIMIT 1"
_NEXT_PENDING = {
    "postgresql": f"LEFT JOIN LATERAL (SELECT d.breach_at, d.kind FROM {_DEADLINE} d WHERE {_NEXT_PENDING_WHERE}) p ON TRUE",
    "sqlite": f"LEFT JOIN {_DEADLINE} p ON p.id = (SELECT d.id FROM {_DEADLINE} d WHERE {_NEXT_PENDING_WHERE})",
}

# A rep's open leads with their clocks, most urgent first (leads_of_rep_by_clock), written out: the ORM's form took
# 10 ms for a list of 50 of 300, a fifth of it the database's. The pending clock that runs out first (`p`) is the
# owner's first by (breach_at, id), found for each lead through the index on (lead, rep, status, breach_at).
_REP_LEADS_SQL = f"""
SELECT {{columns}}, b.lead_id IS NOT NULL AS clock_breached, p.breach_at AS next_clock_at, p.kind AS next_clock_kind
FROM {_LEAD} l
{_UNANSWERED_BREACH.format(reps="%(rep)s")}
{{next_pending}}
WHERE l.owner_kind = '{OwnerKind.REP}' AND l.owner_rep_id = %(rep)s AND l.stage IN ({{stages}}){{narrowed}}
ORDER BY clock_breached DESC, p.breach_at IS NULL, p.breach_at, l.score DESC,
  CASE WHEN l.stage = '{Stage.ASSIGNED}' THEN 0 WHEN l.stage <> %(in_progress)s THEN 4 WHEN l.next_step_at <= %(now)s THEN 1
       WHEN l.next_step_at IS NULL THEN 2 ELSE 3 END,
  CASE WHEN l.stage = %(in_progress)s AND l.next_step_at IS NOT NULL THEN l.next_step_at ELSE l.received_at END,
  l.closed_at IS NULL, l.closed_at DESC, l.id
LIMIT %(limit)s
"""


def _at(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _required(value: datetime | None, name: str, view: str) -> datetime:
    if value is None:
        raise ValueError(f"the {view!r} view needs {name}")
    return value


# The rep's inbox narrowed to one kind of lead (F1): the filter's name in the address, and what it shows.
INBOX_VIEWS = {
    "": "All open",
    "untouched": "Untouched",
    "due_today": "Due today",
    "overdue": "Overdue",
    "stale": "Stale",
}


@dataclass(frozen=True)
class RepCounts:
    """A rep's open leads as their manager's board counts them, each count as the inbox view of the same name has it."""

    open: int = 0
    untouched: int = 0
    due_today: int = 0
    overdue: int = 0
    stale: int = 0
    next_step_overdue: int = 0  # of the overdue, in progress with a past next step (routing's catch-up gate counts these)

    VIEWS: ClassVar[tuple[str, ...]] = ("untouched", "due_today", "overdue", "stale")  # the counts after `open`, in order


# A rep's open leads counted as their inbox views count them (_VIEWS_SQL): each lead's clocks are read once, by joining
# the owner's unanswered breach and earliest pending clock per lead. Only the pending clocks that run out before the
# last of the reps' days ends can count, so only those are read (a quarter less time).
_REP_COUNTS_SQL = f"""
SELECT l.owner_rep_id, COUNT(*), {{counted}}
FROM {_LEAD} l
{_UNANSWERED_BREACH}
LEFT JOIN (SELECT lead_id, rep_id, MIN(breach_at) AS breach_at FROM {_DEADLINE}
           WHERE status = '{Deadline.Status.PENDING}' AND rep_id IN ({{reps}}) AND breach_at < %(last_day_end)s GROUP BY lead_id, rep_id) p
  ON p.lead_id = l.id AND p.rep_id = l.owner_rep_id
WHERE l.owner_kind = '{OwnerKind.REP}' AND l.owner_rep_id IN ({{reps}}) AND l.stage IN ({", ".join(f"'{stage}'" for stage in OPEN)})
GROUP BY l.owner_rep_id
"""


def rep_counts(day_ends_at: dict[int, datetime], *, now: datetime, stale_before: datetime) -> dict[int, RepCounts]:
    """For each rep of `day_ends_at` (absent from the answer: none open), their open leads counted by inbox view
    (_VIEWS_SQL), "due today" up to the end of each rep's own day, as their inbox has it. One query over the owner index."""
    if not day_ends_at:
        return {}
    reps = [int(rep_id) for rep_id in day_ends_at]
    terms: dict[str, Any] = {"now": _at(now), "stale_before": _at(stale_before), "last_day_end": _at(max(day_ends_at.values()))}
    terms |= {f"rep_{n}": rep_id for n, rep_id in enumerate(reps)} | {f"end_{n}": _at(day_ends_at[rep_id]) for n, rep_id in enumerate(reps)}
    if len(set(day_ends_at.values())) == 1:  # the reps' days end together (one time zone): no choice per lead
        day_end = "%(end_0)s"
    else:
        day_end = "CASE l.owner_rep_id " + " ".join(f"WHEN %(rep_{n})s THEN %(end_{n})s" for n in range(len(reps))) + " END"
    counted = [_view_sql(view, day_end=day_end) for view in RepCounts.VIEWS] + [_NEXT_STEP_OVERDUE_SQL]
    sql = _REP_COUNTS_SQL.format(counted=", ".join(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)" for condition in counted),
                                 reps=", ".join(f"%(rep_{n})s" for n in range(len(reps))))
    with connection.cursor() as cursor:
        cursor.execute(sql, terms)
        return {row[0]: RepCounts(*(int(value or 0) for value in row[1:])) for row in cursor.fetchall()}


def clocks_breached_since(team_id: int, since: datetime, *, where: Q, limit: int = 50) -> list[Deadline]:
    """The team's clocks that ran out at or after `since`, of leads within `where` (the reader's), latest first, each with
    its lead and the rep it ran for, read as a list shows them (the clock's kind and time, the lead's and rep's names). One query."""
    rows = Deadline.objects.filter(team_id=team_id, status=Deadline.Status.BREACHED, breached_at__gte=since).filter(where)
    shown = ("kind", "breached_at", "lead__first_name", "lead__last_name", "lead__email", "lead__phone", "rep__name", "rep__email")
    return list(rows.select_related("lead", "rep").only(*shown).order_by("-breached_at", "-id")[:limit])


def _rep_lead(lead: Any) -> RepLead:
    at, kind = read_at(lead.next_clock_at), lead.next_clock_kind
    return RepLead(lead, bool(lead.clock_breached), NextClock(kind, at) if at is not None and kind else None)


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
