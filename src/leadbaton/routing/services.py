"""Writes of the routing capability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from leadbaton.accounts.models import RepProfile, Team, User
from leadbaton.core.calendar import WorkingTime
from leadbaton.core.conditions import LEAD_FIELDS, ConditionError, condition_as_dict, condition_parse
from leadbaton.core.models import config_lock
from leadbaton.core.rows import fields_update
from leadbaton.routing.availability import Candidate, CatchUp, Eligibility, eligibility
from leadbaton.routing.models import RoutingRule, RoutingState, Strategy
from leadbaton.routing.queries import account_owner_find, team_candidates
from leadbaton.routing.strategies import Pick, least_loaded, round_robin, taken, weighted


def rule_configure(
    *, name: str, position: int, conditions: list[dict[str, Any]], team: Team, strategy: str
) -> tuple[RoutingRule, bool, list[str]]:
    """Create or update the routing rule with this name; it becomes managed and active.

    Returns (rule, created, changed field names). Conditions are stored as given: validate them first.
    """
    values: dict[str, Any] = {
        "position": position, "conditions": conditions, "team_id": team.pk, "strategy": strategy,
        "active": True, "managed": True,
    }
    rule = RoutingRule.objects.filter(name=name).first()
    if rule is None:
        return RoutingRule.objects.create(name=name, **values), True, []
    return rule, False, fields_update(rule, values)


def rules_deactivate(*, keep_names: set[str]) -> list[RoutingRule]:
    """Deactivate the managed rules not kept; leads already routed by them keep their record."""
    gone = list(RoutingRule.objects.filter(managed=True, active=True).exclude(name__in=keep_names).order_by("position", "id"))
    RoutingRule.objects.filter(pk__in=[rule.pk for rule in gone]).update(active=False)
    return gone


@dataclass(frozen=True)
class Routed:
    """The outcome of routing a lead within a team: the rep (None when nobody can take it), how, and why not others."""

    rep: User | None
    how: str
    eligibility: list[Eligibility]
    working_time: WorkingTime | None = None  # the chosen rep's, for their service-level clocks

    def nobody_because(self) -> str:
        if not self.eligibility:
            return "the team has no reps"
        return "; ".join(f"{check.name}: {', '.join(check.reasons)}" for check in self.eligibility)


def rep_choose(
    *, team_id: int, strategy: str, company_domain: str, now: datetime, exclude: tuple[int | None, ...] = (),
    catch_up: CatchUp,
) -> Routed:
    """Pick an available rep of the team for a new lead and remember it. Call inside the intake transaction.

    The team's RoutingState row is locked first (FOR UPDATE on PostgreSQL; on
    SQLite the write transaction already holds the database), so leads arriving
    at the same instant are routed one after the other and see each other's
    counts: two leads never go to the same rep by accident of timing. Reps in `exclude` are passed over
    (the owner a lead is being taken from). `catch_up`: reps behind on their leads get none (the use case
    passes the organisation's service levels; routing reads no other capability).
    """
    if connection.features.has_select_for_update:
        RoutingState.objects.select_for_update().get_or_create(team_id=team_id)
    candidates = team_candidates(team_id, now, load=strategy == Strategy.LEAST_LOADED, catch_up=catch_up)
    checks = [eligibility(candidate, now) for candidate, _ in candidates]
    available = [candidate for (candidate, _), check in zip(candidates, checks, strict=True) if check.eligible and candidate.rep_id not in exclude]
    profiles = {candidate.rep_id: profile for candidate, profile in candidates}
    pick = _pick(strategy, candidates, available, company_domain)
    if pick is None:
        return Routed(rep=None, how="", eligibility=checks)

    _remember(profiles, pick, now)
    chosen = next(candidate for candidate, _ in candidates if candidate.rep_id == pick.rep_id)
    return Routed(rep=profiles[pick.rep_id].user, how=pick.how, eligibility=checks, working_time=chosen.working_time)


def rep_preview(*, team_id: int, strategy: str, company_domain: str, now: datetime, catch_up: CatchUp) -> Routed:
    """The rep rep_choose would pick for a new lead now, and why not the others, remembering nothing (a preview). Reads only."""
    candidates = team_candidates(team_id, now, load=strategy == Strategy.LEAST_LOADED, catch_up=catch_up)
    checks = [eligibility(candidate, now) for candidate, _ in candidates]
    available = [candidate for (candidate, _), check in zip(candidates, checks, strict=True) if check.eligible]
    pick = _pick(strategy, candidates, available, company_domain)
    if pick is None:
        return Routed(rep=None, how="", eligibility=checks)
    profile = next(profile for candidate, profile in candidates if candidate.rep_id == pick.rep_id)
    return Routed(rep=profile.user, how=pick.how, eligibility=checks)


def _pick(strategy: str, candidates: list[tuple[Candidate, RepProfile]], available: list[Candidate], company_domain: str) -> Pick | None:
    """The available rep the team's strategy gives the next lead to; None when nobody is available."""
    if strategy == Strategy.ACCOUNT_OWNER:
        owner_id = account_owner_find(company_domain)
        owner = next((candidate for candidate in available if candidate.rep_id == owner_id), None)
        if owner is not None:
            return Pick(owner.rep_id, {}, f"account owner ({company_domain})")
    if not available:
        return None
    if strategy == Strategy.WEIGHTED:
        return weighted(available)
    if strategy == Strategy.LEAST_LOADED:
        return least_loaded(available)
    pick = round_robin(available, _last_assigned(candidates))
    if strategy == Strategy.ACCOUNT_OWNER:
        return Pick(pick.rep_id, {}, "account owner not available; round robin")
    return pick


def rep_take(*, team_id: int, rep_id: int, strategy: str, now: datetime, catch_up: CatchUp) -> Routed:
    """A rep of the team takes a queued lead themselves, if routing would give them one now (the same caps, hours,
    pause and catch-up gate). Counted as routing counts an assignment: the daily count, the rotation's turn and,
    under weighted routing, the rep's share (routing.strategies.taken). Call inside the transaction that hands it over."""
    if connection.features.has_select_for_update:
        RoutingState.objects.select_for_update().get_or_create(team_id=team_id)
    candidates = team_candidates(team_id, now, catch_up=catch_up)
    profiles = {candidate.rep_id: profile for candidate, profile in candidates}
    chosen = next((candidate for candidate, _ in candidates if candidate.rep_id == rep_id), None)
    if chosen is None:
        return Routed(rep=None, how="", eligibility=[])
    checks = [(candidate, eligibility(candidate, now)) for candidate, _ in candidates]
    check = next(found for candidate, found in checks if candidate.rep_id == rep_id)
    if not check.eligible:
        return Routed(rep=None, how="", eligibility=[check])
    available = [candidate for candidate, found in checks if found.eligible]
    pick = taken(available, rep_id) if strategy == Strategy.WEIGHTED else Pick(rep_id, {}, "taken from the queue")
    _remember(profiles, pick, now)
    return Routed(rep=profiles[rep_id].user, how="taken from the queue by the rep", eligibility=[check], working_time=chosen.working_time)


def _last_assigned(candidates: list[tuple[Candidate, RepProfile]]) -> int | None:
    """The rep of the team who got a lead last (the highest turn): the rotation goes on after them."""
    turn, rep_id = max(((profile.rotation_turn, profile.user_id) for _, profile in candidates), default=(0, None))
    return rep_id if turn else None


def _remember(profiles: dict[int, RepProfile], pick: Pick, now: datetime) -> None:
    """Write what the next routing must know: the rotation's turn, the rep's daily count, weighted credits. One row unless weighted."""
    chosen = profiles[pick.rep_id]
    today = now.astimezone(ZoneInfo(chosen.time_zone)).date()
    chosen.assigned_count = chosen.assigned_count + 1 if chosen.assigned_on == today else 1
    chosen.assigned_on, chosen.last_assigned_at = today, now
    chosen.rotation_turn = max(profile.rotation_turn for profile in profiles.values()) + 1
    chosen.save(update_fields=["assigned_count", "assigned_on", "last_assigned_at", "rotation_turn"])
    changed = []
    for rep_id, credit in pick.credits.items():
        if profiles[rep_id].rotation_credit != credit:
            profiles[rep_id].rotation_credit = credit
            changed.append(profiles[rep_id])
    RepProfile.objects.bulk_update(changed, ["rotation_credit"])  # one statement


def queue_alert_claim(*, team_id: int, now: datetime, quiet: timedelta) -> bool:
    """True when this queued lead starts a burst and the manager should hear of it; False while the burst goes on.

    A burst ends when the queue empties (queue_alert_reset) or after `quiet`
    without an alert. A conditional upsert of the team's row: of leads queued at once, one wins.
    """
    # One statement on both databases: the team's first wait creates its row (on SQLite routing creates none).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO routing_routingstate (team_id, queue_alerted_at) VALUES (%s, %s) "
            "ON CONFLICT (team_id) DO UPDATE SET queue_alerted_at = excluded.queue_alerted_at "
            "WHERE routing_routingstate.queue_alerted_at IS NULL OR routing_routingstate.queue_alerted_at < %s "
            "RETURNING team_id",
            [team_id, *(connection.ops.adapt_datetimefield_value(moment) for moment in (now, now - quiet))],
        )
        return cursor.fetchone() is not None


def queue_alert_reset(*, team_id: int) -> None:
    """The queue is empty: the next lead to wait starts a new burst."""
    RoutingState.objects.filter(team_id=team_id, queue_alerted_at__isnull=False).update(queue_alerted_at=None)


# The rules as staff edit them through the API: the whole ordered list at once.


class RulesInvalid(ValueError):
    """What is wrong with a list of rules: (path, message) pairs such as ("rules[2].when[0].in", "must be a non-empty list")."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


def rules_check(*, rules: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]], Team, str]]:
    """Rules as rules_replace would write them ((name, conditions, team, strategy)), writing nothing: for a preview.
    Raises RulesInvalid as rules_replace does."""
    return _rules_check(rules, {team.slug: team for team in Team.objects.filter(active=True).order_by("slug")})


def rules_replace(*, rules: list[dict[str, Any]]) -> list[RoutingRule]:
    """Make the active routing rules exactly `rules` ({name, when, team (slug), strategy}), in this order. One transaction.

    Raises RulesInvalid listing every problem, each with its path; then nothing is written.
    A rule is found by its name: a rule of that name that exists (even switched off) is updated
    and switched on; every active rule not listed is switched off, never deleted. Rules written
    here are not managed by the organisation file (managed=False): `config apply` leaves them
    alone, but still writes the rules the file names.
    """
    with transaction.atomic():
        config_lock()  # before the rules: every configuration writer locks in the same order
        teams = {team.slug: team for team in Team.objects.filter(active=True).order_by("slug")}
        checked = _rules_check(rules, teams)
        # Locking every rule serialises two replacements made at the same moment (PostgreSQL; SQLite's write lock already does).
        existing = {rule.name: rule for rule in RoutingRule.objects.select_for_update()}
        kept = []
        for position, (name, conditions, team, strategy) in enumerate(checked):
            values: dict[str, Any] = {
                "position": position, "conditions": conditions, "team_id": team.pk, "strategy": strategy,
                "active": True, "managed": False,
            }
            rule = existing.get(name)
            if rule is None:
                rule = RoutingRule.objects.create(name=name, **values)
            else:
                fields_update(rule, values)
            rule.team = team
            kept.append(rule)
        RoutingRule.objects.filter(active=True).exclude(pk__in=[rule.pk for rule in kept]).update(active=False)
    return kept


def _rules_check(rules: list[dict[str, Any]], teams: dict[str, Team]) -> list[tuple[str, list[dict[str, Any]], Team, str]]:
    """(name, conditions as stored, team, strategy) for each rule; RulesInvalid with every problem if any."""
    problems: list[tuple[str, str]] = []
    checked = []
    first: dict[str, int] = {}
    known_teams = ", ".join(teams) or "none is active"
    for index, raw in enumerate(rules):
        path = f"rules[{index}]"
        name = str(raw.get("name") or "").strip()
        if not name:
            problems.append((f"{path}.name", "is required: a name that says what the rule is for, such as Enterprise accounts"))
        elif len(name) > 200:
            problems.append((f"{path}.name", f"is {len(name)} characters long; at most 200 fit"))
        elif name in first:
            problems.append((f"{path}.name", f"{name!r} is already used by rules[{first[name]}]; each name must be unique"))
        first.setdefault(name, index)
        slug = str(raw.get("team") or "")
        team = teams.get(slug)
        if team is None:
            problems.append((f"{path}.team", f"{slug[:60]!r} is not an active team; use the slug of one of: {known_teams}"))
        strategy = raw.get("strategy") or Strategy.ROUND_ROBIN.value
        if strategy not in Strategy.values:
            problems.append((f"{path}.strategy", f"{str(strategy)[:60]!r} is not one of {', '.join(Strategy.values)}"))
        conditions = []
        when = raw.get("when") or []
        if not isinstance(when, list):
            problems.append((f"{path}.when", f"must be a list of conditions, not {str(when)[:60]!r}"))
            when = []
        for position, condition in enumerate(when):
            try:
                parsed = condition_parse(condition, path=f"{path}.when[{position}]", known_fields=LEAD_FIELDS)
            except ConditionError as error:
                problems.append((error.path, error.message))
                continue
            conditions.append(condition_as_dict(parsed))
        if team is not None:
            checked.append((name, conditions, team, str(strategy)))
    if problems:
        raise RulesInvalid(problems)
    return checked
