"""Writes of the SLA capability: policies, and the clocks (deadlines) on each lead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import F, Field, Q

from leadbaton.accounts.models import Team
from leadbaton.core.cache import cached
from leadbaton.core.calendar import WorkingTime, working_days_add, working_time_add
from leadbaton.core.refusals import Invalid
from leadbaton.core.rows import fields_update
from leadbaton.sla.models import Clock, Deadline, EscalationStep, SlaPolicy

Action = EscalationStep.Action


def policy_configure(
    *,
    name: str,
    first_response_minutes: int,
    attempts: int,
    attempts_within_days: int,
    progress_every_days: int,
    business_hours: bool,
    remind_before_minutes: int,
    now: datetime,
    business_days: bool = False,
    team: Team | None = None,
    escalation: dict[str, list[Any]] | None = None,
    catch_up_stale_share: int = 20,
    catch_up_overdue_next_steps: int = 5,
    managed: bool = True,
) -> tuple[SlaPolicy, bool, list[str]]:
    """Create or update the named policy (a team's, with `team`); it becomes active. `updated_at` moves only when a value changed.

    `managed`: written by the organisation file (False: set on a page or through the API). Returns (policy, created, changed field names).
    """
    values: dict[str, Any] = {
        "first_response_minutes": first_response_minutes, "attempts": attempts,
        "attempts_within_days": attempts_within_days, "progress_every_days": progress_every_days,
        "business_hours": business_hours, "business_days": business_days, "remind_before_minutes": remind_before_minutes,
        "catch_up_stale_share": catch_up_stale_share, "catch_up_overdue_next_steps": catch_up_overdue_next_steps,
        "escalation": escalation or {}, "team": team, "active": True, "managed": managed,
    }
    policy = SlaPolicy.objects.filter(name=name).first() or (SlaPolicy.objects.filter(team=team).first() if team else None)
    if policy is None:
        return SlaPolicy.objects.create(name=name, updated_at=now, **values), True, []
    changed = [field for field, value in {**values, "name": name}.items() if getattr(policy, field) != value]
    if changed:
        fields_update(policy, {**values, "name": name, "updated_at": now})
    return policy, False, changed


def team_policies_deactivate(*, keep_team_ids: set[int]) -> list[SlaPolicy]:
    """Switch off the teams' own policies the organisation file wrote and no longer keeps: those teams follow the
    organisation's again. A team's policy set on a page or through the API stays."""
    gone = list(SlaPolicy.objects.filter(team__isnull=False, active=True, managed=True).exclude(team_id__in=keep_team_ids).order_by("name"))
    SlaPolicy.objects.filter(pk__in=[policy.pk for policy in gone]).update(active=False)
    return gone


def team_policy_drop(*, team: Team) -> SlaPolicy | None:
    """Switch off the team's own policy (set on a page, through the API or by the file): clocks started from now on run to
    the organisation's. Returns the policy switched off, None if the team had none."""
    policy = SlaPolicy.objects.filter(team=team, active=True).first()
    if policy is not None:
        fields_update(policy, {"active": False})
    return policy


def policy_for(team_id: int | None) -> SlaPolicy:
    """The policy a team's leads run on: its own, else the organisation's, else the defaults. Kept in memory (core.cache)."""
    policies = cached("sla policies", _policies_load)
    return policies.get(team_id) or policies.get(None) or SlaPolicy(name="default", updated_at=datetime.min.replace(tzinfo=UTC))


def _policies_load() -> dict[int | None, SlaPolicy]:
    active = SlaPolicy.objects.filter(active=True).filter(Q(team__isnull=True, name="default") | Q(team__isnull=False, team__active=True))
    return {policy.team_id: policy for policy in active}


# Clocks: when each runs out, which escalation steps come before and at its breach.

# The escalation each clock kind takes unless its policy says otherwise: (share of the window, action).
# The breach itself (a share of 1) is always recorded, first among the steps at the breach.
ESCALATION: dict[str, tuple[tuple[float, str], ...]] = {
    Clock.FIRST_RESPONSE: ((0.5, Action.REMIND), (1.0, Action.ALERT_MANAGER), (1.0, Action.REASSIGN)),
    Clock.ATTEMPTS: ((0.8, Action.REMIND), (1.0, Action.ALERT_MANAGER)),
    Clock.PROGRESS: ((0.8, Action.REMIND), (1.0, Action.ALERT_MANAGER)),
    Clock.NEXT_STEP: ((0.8, Action.REMIND), (1.0, Action.ALERT_MANAGER)),
}
# What a policy may ask for at each step; a reminder only before the breach.
STEP_ACTIONS = (Action.REMIND, Action.ALERT_MANAGER, Action.REASSIGN, Action.QUEUE)
MAX_STEPS = 10
STEP_EXAMPLE = '["remind at 50%", "alert_manager at breach", "reassign at breach"]'


def escalation_of(policy: SlaPolicy, kind: str) -> tuple[tuple[float, str], ...]:
    """The steps of a clock kind under `policy`: its own, else the default ones."""
    written = (policy.escalation or {}).get(kind)
    if written is None:
        return ESCALATION[kind]
    return tuple((float(share), str(action)) for share, action in written)


def escalation_parse(raw: object, path: str) -> tuple[dict[str, list[tuple[float, str]]], list[tuple[str, str]]]:
    """Read escalation steps as people write them: {clock kind: ["ACTION at NN%" | "ACTION at breach", ...]}.

    Returns (the steps per kind as (share, action), problems as (path, message)). Kinds left out keep their defaults.
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return {}, [(path, f"must be a mapping of clock kinds ({', '.join(Clock.values)}) to lists of steps such as {STEP_EXAMPLE}")]
    steps: dict[str, list[tuple[float, str]]] = {}
    for kind, items in raw.items():
        where = f"{path}.{kind}"
        if kind not in Clock.values:
            problems.append((where, f"{kind!r} is not a clock; use {', '.join(Clock.values)}"))
            continue
        if not isinstance(items, list):
            problems.append((where, f"must be a list of steps such as {STEP_EXAMPLE}"))
            continue
        if len(items) > MAX_STEPS:
            problems.append((where, f"has {len(items)} steps; at most {MAX_STEPS} fit (a reminder or two, then what happens at the breach)"))
            continue
        parsed = []
        for index, item in enumerate(items):
            action, _, when = str(item).strip().partition(" at ") if isinstance(item, str) else ("", "", "")
            share = 1.0 if when.strip() == "breach" else _share(when)
            if action not in STEP_ACTIONS or share is None:
                problems.append((f"{where}[{index}]", f"{item!r} is not a step; write ACTION at NN% or ACTION at breach, "
                                                      f"ACTION one of {', '.join(STEP_ACTIONS)}, such as \"remind at 50%\""))
            elif action == Action.REMIND and share >= 1:
                problems.append((f"{where}[{index}]", f"{item!r}: a reminder comes before the breach; write a share such as 80%"))
            elif action in (Action.REASSIGN, Action.QUEUE) and share < 1:
                problems.append((f"{where}[{index}]", f"{item!r}: the lead moves only at the breach; write {action} at breach"))
            elif (share, action) in parsed:
                problems.append((f"{where}[{index}]", f"{item!r} is written twice; write each step once"))
            else:
                parsed.append((share, action))
        steps[kind] = sorted(parsed)
    return steps, problems


def _share(when: str) -> float | None:
    text = when.strip()
    digits = text[:-1].strip()
    if not text.endswith("%") or not re.fullmatch(r"[0-9]{1,3}", digits):  # ASCII digits: "²".isdigit() is true, int("²") fails
        return None
    percent = int(digits)
    return percent / 100 if 0 < percent < 100 else None


def escalation_text(steps: tuple[tuple[float, str], ...] | list[tuple[float, str]]) -> list[str]:
    """Steps as people write them: ["remind at 50%", "alert_manager at breach"]."""
    return [f"{action} at {'breach' if share >= 1 else f'{round(share * 100)}%'}" for share, action in steps]


@dataclass(frozen=True)
class Plan:
    """A clock as it will run: its breach time, its steps with their times, and how they were counted."""

    breach_at: datetime
    steps: list[dict[str, Any]]
    terms: dict[str, Any]


def clock_plan(kind: str, *, policy: SlaPolicy, start: datetime, working_time: WorkingTime | None, due: datetime | None = None) -> Plan | None:
    """How the `kind` clock started at `start` runs for an owner who works `working_time` (None: wall time only).

    First response: policy minutes, of working time when the policy says business hours. Attempts and
    progress: policy days, working days when it says business days. Next step: due at `due`, the
    time the owner set. None when the clock can never run out (an owner with no working time at all),
    and for a next step already past when the clock would start (a new owner is not charged with it).
    """
    if kind == Clock.NEXT_STEP:
        if due is None or due <= start:
            return None
        due = due.astimezone(UTC)
        terms: dict[str, Any] = {"due": due.isoformat(), "counted": "at the time the owner set"}
        return Plan(due, _steps(kind, policy, start, due, lambda share: start + (due - start) * share), terms)
    if kind == Clock.FIRST_RESPONSE:
        window = timedelta(minutes=policy.first_response_minutes)
        terms = {"minutes": policy.first_response_minutes, "business_hours": policy.business_hours}
        if policy.business_hours and working_time is not None:
            terms["counted"] = f"working time in {working_time.time_zone}"
            breach = working_time_add(working_time, start, window)
            if breach is None:
                return None
            return Plan(breach, _steps(kind, policy, start, breach, lambda share: working_time_add(working_time, start, window * share) or breach), terms)
        terms["counted"] = "wall time"
        breach = start + window
        return Plan(breach, _steps(kind, policy, start, breach, lambda share: start + window * share), terms)
    days = policy.attempts_within_days if kind == Clock.ATTEMPTS else policy.progress_every_days
    terms = {"days": days, "business_days": policy.business_days}
    if kind == Clock.ATTEMPTS:
        terms["touches"] = policy.attempts
    if policy.business_days and working_time is not None:
        terms["counted"] = f"working days in {working_time.time_zone}"
        breach = working_days_add(working_time, start, days)
        if breach is None:
            return None
    else:
        terms["counted"] = "calendar days"
        breach = start + timedelta(days=days)
    return Plan(breach, _steps(kind, policy, start, breach, lambda share: start + (breach - start) * share), terms)


def _steps(kind: str, policy: SlaPolicy, start: datetime, breach: datetime, at: Any) -> list[dict[str, Any]]:
    """The clock's steps with their times (UTC), earliest first; at one time, the breach first, then as the policy lists them."""
    planned: list[tuple[datetime, str, str]] = [(breach, Action.BREACH, "breach")]
    for share, action in escalation_of(policy, kind):
        when = breach if share >= 1 else at(share)
        planned.append((when, action, "breach" if share >= 1 else f"{round(share * 100)}% of the time"))
    if kind == Clock.FIRST_RESPONSE and policy.remind_before_minutes:
        before = breach - timedelta(minutes=policy.remind_before_minutes)
        if before > start:
            planned.append((before, Action.REMIND, f"{policy.remind_before_minutes} min before the breach"))
    steps, seen = [], set()
    for when, action, label in sorted(planned, key=lambda step: (step[0], step[1] != Action.REMIND, step[1] != Action.BREACH)):
        if (when, action) not in seen:  # two reminders due at one moment are one reminder
            seen.add((when, action))
            steps.append({"at": when.astimezone(UTC).isoformat(), "do": action, "label": label})
    return steps


def deadlines_start(*, lead_id: int, rep_id: int, team_id: int | None, plans: dict[str, Plan], now: datetime) -> list[Deadline]:
    """Start the planned clocks on a lead for its owner, in one statement."""
    rows = [
        Deadline(
            lead_id=lead_id, rep_id=rep_id, team_id=team_id, kind=kind, started_at=now, breach_at=plan.breach_at,
            terms=plan.terms, steps=plan.steps, due_at=datetime.fromisoformat(plan.steps[0]["at"]) if plan.steps else plan.breach_at,
        )
        for kind, plan in plans.items()
    ]
    return Deadline.objects.bulk_create(rows) if rows else []


def deadlines_pending(lead_id: int) -> list[Deadline]:
    return list(Deadline.objects.filter(lead_id=lead_id, status=Deadline.Status.PENDING).order_by("id"))


def deadlines_meet(deadlines: list[Deadline], *, now: datetime, why: str) -> int:
    """The clocks are met: nothing more will be sent for them.

    One whose time ran out before the worker recorded its breach (the workers were stopped, or between
    two polls) is breached all the same, at its time, and closed without its escalation: the owner has
    acted now, so nobody is alerted and the lead is not moved, but the breach counts.
    """
    ids = [deadline.pk for deadline in deadlines if deadline.status == Deadline.Status.PENDING]
    pending = Deadline.objects.filter(pk__in=ids, status=Deadline.Status.PENDING)
    released = {"due_at": None, "claimed_until": None, "claimed_by": None}
    pending.filter(breach_at__lte=now).update(
        status=Deadline.Status.BREACHED, breached_at=F("breach_at"), met_at=now, why_closed=f"{why} after the breach"[:200], **released
    )
    return pending.filter(breach_at__gt=now).update(status=Deadline.Status.MET, met_at=now, why_closed=why[:200], **released)


def deadlines_cancel(*, lead_id: int, now: datetime, why: str) -> int:
    """Stop the lead's pending clocks (it changed hands, or closed)."""
    rows = Deadline.objects.filter(lead_id=lead_id, status=Deadline.Status.PENDING)
    return rows.update(status=Deadline.Status.CANCELLED, cancelled_at=now, why_closed=why[:200], due_at=None, claimed_until=None, claimed_by=None)


def deadline_cancel(deadline: Deadline, *, now: datetime, why: str) -> None:
    """Stop this one clock (its lead moved on without it being stopped)."""
    Deadline.objects.filter(pk=deadline.pk, status=Deadline.Status.PENDING).update(
        status=Deadline.Status.CANCELLED, cancelled_at=now, why_closed=why[:200], due_at=None, claimed_until=None, claimed_by=None
    )


def step_record(*, deadline: Deadline, index: int, now: datetime, skipped: bool = False, note: str = "") -> bool:
    """Record that step `index` of the deadline was taken (or skipped). False when it was recorded already: take it only once."""
    return bool(steps_record([StepDone(deadline, index, skipped, note)], now=now))


@dataclass(frozen=True)
class StepDone:
    """A step to record as taken, or as `skipped` (too late to matter), with a note for the lead's page."""

    deadline: Deadline
    index: int
    skipped: bool = False
    note: str = ""


def steps_record(steps: list[StepDone], *, now: datetime) -> set[tuple[int, int]]:
    """Record the steps in one statement; returns (deadline id, index) of those recorded now. One recorded already
    (by another worker, or by this one before a crash) is left out: the unique (deadline, index) decides, not a read before.
    """
    if not steps:
        return set()
    rows = [{"deadline": step.deadline.pk, "index": step.index, "action": step.deadline.steps[step.index]["do"],
             "planned_at": datetime.fromisoformat(step.deadline.steps[step.index]["at"]), "at": now, "skipped": step.skipped,
             "note": step.note[:300]} for step in steps]
    fields = [field for name in rows[0] if isinstance(field := EscalationStep._meta.get_field(name), Field)]
    quote = connection.ops.quote_name
    one_row = f"({', '.join(['%s'] * len(fields))})"
    sql = (f"INSERT INTO {quote(EscalationStep._meta.db_table)} ({', '.join(quote(str(field.column)) for field in fields)})"
           f" VALUES {', '.join([one_row] * len(rows))}"
           f" ON CONFLICT ({quote('deadline_id')}, {quote('index')}) DO NOTHING RETURNING {quote('deadline_id')}, {quote('index')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [field.get_db_prep_save(row[field.name], connection) for row in rows for field in fields])
        return {(deadline_id, index) for deadline_id, index in cursor.fetchall()}


def deadline_breach(deadline: Deadline) -> None:
    """The clock ran out: recorded at once, so steps after the breach (a reassignment) stop only the clocks still running."""
    deadline.status, deadline.breached_at = Deadline.Status.BREACHED, deadline.breach_at
    deadline.save(update_fields=["status", "breached_at"])


ADVANCED = ["steps_taken", "status", "breached_at", "due_at", "claimed_until", "claimed_by", "last_error", "attempts"]


def deadline_advance(deadline: Deadline, *, now: datetime, taken: int, breached: bool) -> None:
    """After its due steps were taken: the next step's time, or nothing more; the claim is given up."""
    deadline_advanced(deadline, taken=taken, breached=breached)
    deadline.save(update_fields=ADVANCED)


def deadline_advanced(deadline: Deadline, *, taken: int, breached: bool) -> None:
    """deadline_advance without the write: save many with deadlines_save_advanced."""
    deadline.steps_taken = taken
    if breached and deadline.status == Deadline.Status.PENDING:
        deadline.status, deadline.breached_at = Deadline.Status.BREACHED, deadline.breach_at
    if deadline.status == Deadline.Status.PENDING:
        deadline.last_error = ""
    deadline.attempts = 0  # its steps went through: a later failure starts its tries afresh
    upcoming = deadline.steps[taken:] if deadline.status == Deadline.Status.PENDING else []
    deadline.due_at = datetime.fromisoformat(upcoming[0]["at"]) if upcoming else None
    deadline.claimed_until, deadline.claimed_by_id = None, None


def deadlines_save_advanced(deadlines: list[Deadline]) -> None:
    """Write what deadline_advanced changed on each, in one statement.

    Written out rather than Django's bulk_update, whose CASE expressions for eight fields cost the
    worker more than everything else it does for a reminder.
    """
    if not deadlines:
        return
    quote, due_at = connection.ops.quote_name, Deadline._meta.get_field("due_at")
    ids = [deadline.pk for deadline in deadlines]
    breached = [deadline.pk for deadline in deadlines if deadline.status == Deadline.Status.BREACHED]
    upcoming = [(deadline.pk, due_at.get_db_prep_save(deadline.due_at, connection)) for deadline in deadlines if deadline.due_at]

    def each(pairs: list[tuple[int, Any]]) -> tuple[str, list[Any]]:
        """CASE id WHEN … THEN … END of (id, value) pairs; NULL for the ids left out, and alone when there are none."""
        if not pairs:
            return "NULL", []
        return f"CASE {quote('id')} {' '.join(['WHEN %s THEN %s'] * len(pairs))} ELSE NULL END", [value for pair in pairs for value in pair]

    def among(values: list[int]) -> str:
        return ", ".join(["%s"] * len(values)) or "NULL"

    due_sql, due_params = each(upcoming)
    taken_sql, taken_params = each([(deadline.pk, deadline.steps_taken) for deadline in deadlines])
    was_breached = f"{quote('id')} IN ({among(breached)})"
    sql = (f"UPDATE {quote(Deadline._meta.db_table)} SET {quote('due_at')} = {due_sql}, {quote('steps_taken')} = {taken_sql},"
           f" {quote('status')} = CASE WHEN {was_breached} THEN %s ELSE {quote('status')} END,"
           f" {quote('breached_at')} = CASE WHEN {was_breached} THEN {quote('breach_at')} ELSE {quote('breached_at')} END,"
           f" {quote('last_error')} = CASE WHEN {was_breached} THEN {quote('last_error')} ELSE '' END,"
           f" {quote('claimed_until')} = NULL, {quote('claimed_by_id')} = NULL, {quote('attempts')} = 0"
           f" WHERE {quote('id')} IN ({among(ids)})")
    params = [*due_params, *taken_params, *breached, Deadline.Status.BREACHED, *breached, *breached, *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Policies as staff set them through the API: checked here, so the API and the file say the same thing.

POLICY_FIELDS = ("first_response_minutes", "attempts", "attempts_within_days", "progress_every_days", "business_hours",
                 "business_days", "remind_before_minutes", "escalation")
_MINIMUM = {"first_response_minutes": 1, "attempts": 1, "attempts_within_days": 1, "progress_every_days": 1, "remind_before_minutes": 0}
_UNIT = {"first_response_minutes": "minutes", "attempts": "touches", "attempts_within_days": "days", "progress_every_days": "days",
         "remind_before_minutes": "minutes"}


def policy_set(*, team: Team | None, values: dict[str, Any], now: datetime) -> SlaPolicy:
    """Set the organisation's policy (`team` None) or a team's own. Values not given are the product's defaults for the
    organisation's, the organisation's own values for a team's. Raises Invalid naming each field that cannot be used.
    """
    base = policy_for(None) if team is not None else SlaPolicy()
    merged = {field: values[field] if values.get(field) is not None else getattr(base, field) for field in POLICY_FIELDS}
    problems = []
    if values.get("escalation") is not None:
        steps, wrong = escalation_parse(values["escalation"], "escalation")
        problems += [{"field": path, "message": message} for path, message in wrong]
        merged["escalation"] = {kind: [list(step) for step in kind_steps] for kind, kind_steps in steps.items()}
    for field, minimum in _MINIMUM.items():
        value = merged[field]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value > 100_000:
            problems.append({"field": field, "message": f"{value!r} is not a whole number of {_UNIT[field]} from {minimum} to 100000"})
    if not problems and merged["remind_before_minutes"] >= merged["first_response_minutes"]:
        problems.append({"field": "remind_before_minutes", "message": (
            f"{merged['remind_before_minutes']} must be less than first_response_minutes ({merged['first_response_minutes']}); "
            "0 sends no reminder")})
    if problems:
        raise Invalid(problems)
    name = f"team {team.slug}" if team is not None else "default"
    policy, _, _ = policy_configure(name=name, team=team, now=now, managed=False, **merged)
    return policy
