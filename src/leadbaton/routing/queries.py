"""Reads of the routing capability."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count

from leadbaton.accounts.models import RepProfile, Team, User
from leadbaton.accounts.models import TimeOff as TimeOffRow
from leadbaton.core.cache import cached
from leadbaton.core.calendar import TimeOff, WorkingTime
from leadbaton.core.conditions import LEAD_FIELDS, Condition, ConditionError, condition_parse
from leadbaton.leads.models import Handoff, Lead, OwnerKind, Stage
from leadbaton.leads.queries import handoffs_of, lead_facts
from leadbaton.routing.availability import NO_CATCH_UP, Candidate, CatchUp, Eligibility, eligibility
from leadbaton.routing.models import RoutingRule, Strategy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeamChoice:
    team: Team
    rule: str
    strategy: str


@dataclass(frozen=True)
class _Routes:
    """The active rules, parsed, in the order they are tried, and the default team."""

    # A rule whose stored conditions no longer parse keeps its error: leads that reach it fail (and are
    # retried), leads that an earlier rule takes are routed as usual.
    rules: list[tuple[list[Condition] | ConditionError, TeamChoice]]
    default: TeamChoice | None


def team_choose(facts: Mapping[str, Any], *, draft: list[tuple[str, list[dict[str, Any]], Team, str]] | None = None) -> TeamChoice | None:
    """The team whose queue a sales-ready lead joins: the first active rule that matches, else the default team.

    The rules and the default team are kept in memory until the configuration changes. `draft`: try these
    rules instead ((name, conditions, team, strategy), as routing.services checks them), for a preview.
    """
    routes = cached("routes", _routes_load) if draft is None else _routes_of(draft)
    for conditions, choice in routes.rules:
        if isinstance(conditions, ConditionError):
            raise conditions
        if all(condition.matches(facts) for condition in conditions):
            return choice
    return routes.default


def _routes_load() -> _Routes:
    active = RoutingRule.objects.filter(active=True, team__active=True).select_related("team").order_by("position", "id")
    return _routes_of([(rule.name, rule.conditions, rule.team, rule.strategy) for rule in active])


def _routes_of(rules_given: list[tuple[str, list[dict[str, Any]], Team, str]]) -> _Routes:
    rules = []
    for name, stored, team_of_rule, strategy in rules_given:
        choice = TeamChoice(team=team_of_rule, rule=f"routing rule {name!r}", strategy=strategy)
        try:
            conditions: list[Condition] | ConditionError = [
                condition_parse(raw, path=f"routing[{name}].when[{index}]", known_fields=LEAD_FIELDS)
                for index, raw in enumerate(stored)
            ]
        except ConditionError as error:
            log.error("routing rule %r cannot be used: %s; leads that reach it wait until it is fixed", name, error)
            conditions = error
        rules.append((conditions, choice))
    team = Team.objects.filter(is_default=True, active=True).first()
    default = None if team is None else TeamChoice(team=team, rule="default team", strategy=Strategy.ROUND_ROBIN)
    return _Routes(rules, default)


def team_candidates(
    team_id: int, now: datetime, *, load: bool = False, catch_up: CatchUp = NO_CATCH_UP, rep_id: int | None = None,
    counted: dict[int, LeadCounts] | None = None,
) -> list[tuple[Candidate, RepProfile]]:
    """Every rep of the team (only `rep_id`, with it) as routing sees them at `now`. One query for the reps; with
    `counted`, their leads as a caller that read them already counted them (open, stale, overdue next steps), none more.

    Each rep's open leads are counted only when it matters: with `load` (least loaded
    routing) or when a rep of the team has a ceiling; with the catch-up gate on, their
    in-progress leads are counted too (stale, overdue next steps) in the same query, and the
    open ones of a rep with a stale lead. Time off is kept in memory until the configuration changes.
    """
    behind_since = now - timedelta(days=catch_up.progress_days) if catch_up.on and counted is None else None
    profiles, behind = _team_profiles(team_id, behind_since=behind_since, now=now, rep_id=rep_id)
    counts: dict[int, LeadCounts] = counted if counted is not None else {}
    rep_ids = [profile.user_id for profile in profiles]
    every_open = load or any(profile.open_ceiling is not None for profile in profiles)
    if counted is None and catch_up.on and rep_ids:
        counts = _with_open_counts(behind, rep_ids if every_open else [rep_id for rep_id, (stale, _) in behind.items() if stale])
    elif counted is None and rep_ids and every_open:
        counts = {rep_id: LeadCounts(open=n) for rep_id, n in open_leads_count(rep_ids).items()}
    time_off = cached("time off", _time_off_load)
    return [(candidate_from(profile, now, counts=counts.get(profile.user_id, NO_LEADS), time_off=time_off.get(profile.pk, ()),
                            catch_up=catch_up), profile)
            for profile in profiles]


# In the model's field order, as Model.from_db expects them.
_USER_COLUMNS = tuple(str(field.column) for field in User._meta.concrete_fields if field.attname in ("email", "name", "is_active"))
_TEAM_PROFILES_SQL = (
    f"SELECT p.*, {', '.join(f'u.{column} AS user_{column}' for column in _USER_COLUMNS)}{{behind}}"
    f" FROM {RepProfile._meta.db_table} p JOIN {User._meta.db_table} u ON u.id = p.user_id WHERE p.team_id = %s{{one}} ORDER BY p.user_id"
)
# With the catch-up gate on, each rep's in-progress leads are counted in the same round trip, fresh at every routing (a
# touch, an outcome or a reassignment counts at the very next one). Stale: no touch or outcome (last_progress_at) in the
# policy's progress window. Overdue: a next step at or before now (as Lead.next_step_overdue). Over the owner index; a
# rep's untouched leads are never read row by row, however many.
_IN_PROGRESS = f"FROM {Lead._meta.db_table} l WHERE l.owner_rep_id = p.user_id AND l.stage = '{Stage.IN_PROGRESS}'"
_BEHIND = (f", (SELECT COUNT(*) {_IN_PROGRESS} AND (l.last_progress_at < %s OR l.last_progress_at IS NULL)) AS stale"
           f", (SELECT COUNT(*) {_IN_PROGRESS} AND l.next_step_at <= %s) AS overdue")


def _team_profiles(
    team_id: int, *, behind_since: datetime | None = None, now: datetime | None = None, rep_id: int | None = None,
) -> tuple[list[RepProfile], dict[int, tuple[int, int]]]:
    """The team's rep profiles, each with the user's email, name and active flag loaded (the rest is deferred), and
    with `behind_since` (the catch-up gate is on) (stale, overdue) by rep for those with either: of the rep's
    in-progress leads, those with no progress since then and those with a next step at or before `now`.
    Written out: routing runs it for every sales-ready lead, and select_related cost more than the query.
    """
    one, of_rep = (" AND p.user_id = %s", [rep_id]) if rep_id is not None else ("", [])
    if behind_since is not None:
        moments = [connection.ops.adapt_datetimefield_value(moment) for moment in (behind_since, now)]
        profiles = list(RepProfile.objects.raw(_TEAM_PROFILES_SQL.format(behind=_BEHIND, one=one), [*moments, team_id, *of_rep]))
    else:
        profiles = list(RepProfile.objects.raw(_TEAM_PROFILES_SQL.format(behind="", one=one), [team_id, *of_rep]))
    behind: dict[int, tuple[int, int]] = {}
    for profile in profiles:
        values = {column: getattr(profile, f"user_{column}") for column in _USER_COLUMNS}
        values["is_active"] = bool(values["is_active"])  # SQLite answers 0/1
        profile.user = User.from_db(profile._state.db, ["id", *_USER_COLUMNS], [profile.user_id, *values.values()])
        counted: tuple[int, int] = (profile.stale, profile.overdue) if behind_since is not None else (0, 0)  # type: ignore[attr-defined]
        if any(counted):  # the query's own columns, there with the catch-up gate on
            behind[profile.user_id] = counted
    return profiles, behind


def working_time_of(rep_id: int) -> WorkingTime | None:
    """A rep's working time (hours in their time zone, their country's holidays, time off); None for a user who is no rep."""
    profile = RepProfile.objects.filter(user_id=rep_id).only("pk", "time_zone", "hours", "country").first()
    if profile is None:
        return None
    time_off = cached("time off", _time_off_load)
    return WorkingTime(time_zone=profile.time_zone, hours=profile.hours, country=profile.country, time_off=time_off.get(profile.pk, ()))


def _time_off_load() -> dict[int, tuple[TimeOff, ...]]:
    periods: dict[int, list[TimeOff]] = {}
    for off in TimeOffRow.objects.order_by("rep_id", "starts_on", "id"):
        periods.setdefault(off.rep_id, []).append(TimeOff(off.starts_on, off.ends_on, off.reason))
    return {rep_id: tuple(rows) for rep_id, rows in periods.items()}


def open_leads_count(rep_ids: list[int]) -> dict[int, int]:
    """How many open leads (assigned or in progress) each rep owns. One query over the owner index."""
    rows = (
        Lead.objects.filter(owner_rep_id__in=rep_ids, stage__in=[Stage.ASSIGNED, Stage.IN_PROGRESS])
        .values("owner_rep_id")
        .annotate(n=Count("id"))
        .values_list("owner_rep_id", "n")
    )
    return dict(rows)


@dataclass(frozen=True)
class LeadCounts:
    """A rep's open leads, and of those in progress: how many had no progress in the window, and how many have a past next step."""

    open: int = 0
    stale: int = 0
    overdue: int = 0


NO_LEADS = LeadCounts()


def _with_open_counts(behind: dict[int, tuple[int, int]], counted: list[int]) -> dict[int, LeadCounts]:
    """LeadCounts from (stale, overdue) per rep, with the open leads (assigned too: the stale share's denominator) of the
    `counted` reps: those with a stale lead, or all when a ceiling or least-loaded routing needs them. One query."""
    opened = open_leads_count(counted) if counted else {}
    return {
        rep_id: LeadCounts(open=opened.get(rep_id, 0), stale=behind.get(rep_id, (0, 0))[0], overdue=behind.get(rep_id, (0, 0))[1])
        for rep_id in behind.keys() | opened.keys()
    }


def candidate_from(
    profile: RepProfile, now: datetime, *, counts: LeadCounts, time_off: tuple[TimeOff, ...], catch_up: CatchUp = NO_CATCH_UP
) -> Candidate:
    working_time = WorkingTime(time_zone=profile.time_zone, hours=profile.hours, country=profile.country, time_off=time_off)
    today = now.astimezone(working_time.zone()).date()
    return Candidate(
        rep_id=profile.user_id,
        name=profile.user.display_name,
        active=profile.user.is_active,
        paused=profile.paused,
        pause_reason=profile.pause_reason,
        working_time=working_time,
        daily_cap=profile.daily_cap,
        assigned_today=profile.assigned_count if profile.assigned_on == today else 0,
        open_ceiling=profile.open_ceiling,
        open_in_progress=counts.open,
        weight=max(profile.routing_weight, 1),
        last_assigned_at=profile.last_assigned_at,
        rotation_credit=profile.rotation_credit,
        stale_leads=counts.stale,
        overdue_next_steps=counts.overdue,
        catch_up=catch_up,
    )


def team_eligibility(team_id: int, now: datetime, *, catch_up: CatchUp = NO_CATCH_UP, rep_id: int | None = None) -> list[Eligibility]:
    """For each rep of the team (only `rep_id`, with it): could they take a lead at `now`, and if not, why. Reads only."""
    return [eligibility(candidate, now) for candidate, _ in team_candidates(team_id, now, catch_up=catch_up, rep_id=rep_id)]


def account_owner_find(company_domain: str) -> int | None:
    """The rep who owns an open lead from this company (the earliest such lead), if any."""
    if not company_domain:
        return None
    return (
        Lead.objects.filter(company_domain=company_domain, owner_kind=OwnerKind.REP, stage__in=[Stage.ASSIGNED, Stage.IN_PROGRESS])
        .order_by("received_at", "id")
        .values_list("owner_rep_id", flat=True)
        .first()
    )


def teams_with_queue() -> list[int]:
    """Ids of active teams with leads waiting in their queue."""
    return list(
        Lead.objects.filter(stage=Stage.QUEUED, owner_kind=OwnerKind.TEAM, owner_team__active=True)
        .values_list("owner_team_id", flat=True)
        .distinct()
        .order_by("owner_team_id")
    )


def team_strategy(team_id: int) -> str:
    """How a team hands out its queue: the strategy of the first active rule that sends leads to it, else round robin."""
    strategy = RoutingRule.objects.filter(team_id=team_id, active=True).order_by("position", "id").values_list("strategy", flat=True).first()
    return strategy or Strategy.ROUND_ROBIN


@dataclass(frozen=True)
class RoutingExplanation:
    """Why a lead is where it is: where routing would send it at `at`, each rep's availability, and its handoffs."""

    lead: Lead
    at: datetime
    choice: TeamChoice | None
    reps: list[Eligibility]
    handoffs: list[Handoff]

    def note(self) -> str:
        """What a reader should know before the details ('' when nothing)."""
        if self.choice is None:
            return "no routing rule matches and there is no active default team: a sales-ready lead would wait in the marketing queue"
        if self.lead.stage == Stage.NURTURE:
            return "the lead is in nurture (not sales-ready): routing applies once it becomes sales-ready; this is where it would go"
        if not self.reps:
            return f"{self.choice.team.name} has no reps: a lead waits in its queue"
        if not any(check.eligible for check in self.reps):
            team = self.choice.team
            overflow = "" if team.overflow_nurture_below is None else f" (one scoring below {team.overflow_nurture_below} would go to nurture)"
            return f"nobody in {team.name} can take a lead now: a new lead would wait in its queue{overflow}"
        return ""


def routing_explain(lead: Lead, now: datetime, *, catch_up_for: Callable[[int], CatchUp]) -> RoutingExplanation:
    """Routing re-run for the lead's facts as they are now, without changing anything. Reads only; a constant number of queries.

    `catch_up_for(team_id)`: the gate routing applies to that team's reps (the use case reads it from the service levels).
    """
    choice = team_choose(lead_facts(lead))
    reps = team_eligibility(choice.team.pk, now, catch_up=catch_up_for(choice.team.pk)) if choice is not None else []
    return RoutingExplanation(lead=lead, at=now, choice=choice, reps=reps, handoffs=handoffs_of(lead.pk))


def rules_active() -> list[RoutingRule]:
    """The active rules in the order they are tried, with their teams."""
    return list(RoutingRule.objects.filter(active=True).select_related("team").order_by("position", "id"))
