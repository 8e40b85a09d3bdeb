"""Writes of the SLA capability: policies, and the clocks (deadlines) on each lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from leadbaton.core.calendar import WorkingTime, working_days_add, working_time_add
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
    catch_up_stale_share: int = 20,
    catch_up_overdue_next_steps: int = 5,
) -> tuple[SlaPolicy, bool, list[str]]:
    """Create or update the named policy; it becomes active. `updated_at` moves only when a value changed.

    Returns (policy, created, changed field names).
    """
    values = {
        "first_response_minutes": first_response_minutes, "attempts": attempts,
        "attempts_within_days": attempts_within_days, "progress_every_days": progress_every_days,
        "business_hours": business_hours, "remind_before_minutes": remind_before_minutes,
        "catch_up_stale_share": catch_up_stale_share, "catch_up_overdue_next_steps": catch_up_overdue_next_steps, "active": True,
    }
    policy = SlaPolicy.objects.filter(name=name).first()
    if policy is None:
        return SlaPolicy.objects.create(name=name, updated_at=now, **values), True, []
    changed = [field for field, value in values.items() if getattr(policy, field) != value]
    if changed:
        fields_update(policy, {**values, "updated_at": now})
    return policy, False, changed


# Clocks: when each runs out, which escalation steps come before and at its breach.

# The escalation each clock kind takes unless configured otherwise: (share of the window or "breach", action).
ESCALATION: dict[str, tuple[tuple[float, str], ...]] = {
    Clock.FIRST_RESPONSE: ((0.5, Action.REMIND), (1.0, Action.BREACH), (1.0, Action.ALERT_MANAGER), (1.0, Action.REASSIGN)),
    Clock.ATTEMPTS: ((0.8, Action.REMIND), (1.0, Action.BREACH), (1.0, Action.ALERT_MANAGER)),
    Clock.PROGRESS: ((0.8, Action.REMIND), (1.0, Action.BREACH), (1.0, Action.ALERT_MANAGER)),
    Clock.NEXT_STEP: ((0.8, Action.REMIND), (1.0, Action.BREACH), (1.0, Action.ALERT_MANAGER)),
}


@dataclass(frozen=True)
class Plan:
    """A clock as it will run: its breach time, its steps with their times, and how they were counted."""

    breach_at: datetime
    steps: list[dict[str, Any]]
    terms: dict[str, Any]


def policy_current() -> SlaPolicy:
    """The active policy (the organisation's `default`), or the defaults when none was configured."""
    policy = SlaPolicy.objects.filter(active=True, name="default").first()
    return policy or SlaPolicy(name="default", updated_at=datetime.min.replace(tzinfo=UTC))


def clock_plan(kind: str, *, policy: SlaPolicy, start: datetime, working_time: WorkingTime | None, due: datetime | None = None) -> Plan | None:
    """How the `kind` clock started at `start` runs for an owner who works `working_time` (None: wall time only).

    First response: policy minutes, of working time when the policy says business hours. Attempts and
    progress: policy days, working days when it says business days. Next step: due at `due`, the
    time the owner set. None when the clock can never run out (an owner with no working time at all).
    """
    if kind == Clock.NEXT_STEP:
        if due is None:
            return None
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
    steps = []
    for share, action in ESCALATION[kind]:
        when = breach if share >= 1 else at(share)
        label = "breach" if share >= 1 else f"{round(share * 100)}% of the time"
        steps.append({"at": when.isoformat(), "do": action, "label": label})
    if kind == Clock.FIRST_RESPONSE and policy.remind_before_minutes:
        before = breach - timedelta(minutes=policy.remind_before_minutes)
        if before > start:
            steps.append({"at": before.isoformat(), "do": Action.REMIND, "label": f"{policy.remind_before_minutes} min before the breach"})
    return sorted(steps, key=lambda step: (step["at"], step["do"] != Action.REMIND))


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


def deadlines_pending(lead_id: int, *, kinds: tuple[str, ...] | None = None) -> list[Deadline]:
    rows = Deadline.objects.filter(lead_id=lead_id, status=Deadline.Status.PENDING)
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    return list(rows.order_by("id"))


def deadlines_meet(deadlines: list[Deadline], *, now: datetime, why: str) -> int:
    """The clocks are met: nothing more will be sent for them."""
    ids = [deadline.pk for deadline in deadlines if deadline.status == Deadline.Status.PENDING]
    return Deadline.objects.filter(pk__in=ids, status=Deadline.Status.PENDING).update(
        status=Deadline.Status.MET, met_at=now, why_closed=why[:200], due_at=None, claimed_until=None, claimed_by=None
    )


def deadlines_cancel(*, lead_id: int, now: datetime, why: str, kinds: tuple[str, ...] | None = None) -> int:
    """Stop the lead's pending clocks (it changed hands, or closed)."""
    rows = Deadline.objects.filter(lead_id=lead_id, status=Deadline.Status.PENDING)
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    return rows.update(status=Deadline.Status.CANCELLED, cancelled_at=now, why_closed=why[:200], due_at=None, claimed_until=None, claimed_by=None)


def step_record(*, deadline: Deadline, index: int, now: datetime, skipped: bool = False, note: str = "") -> bool:
    """Record that step `index` of the deadline was taken (or skipped). False when it was recorded already: take it only once."""
    step = deadline.steps[index]
    _, created = EscalationStep.objects.get_or_create(
        deadline=deadline, index=index,
        defaults={"action": step["do"], "planned_at": datetime.fromisoformat(step["at"]), "at": now, "skipped": skipped, "note": note[:300]},
    )
    return created


def deadline_advance(deadline: Deadline, *, now: datetime, taken: int, breached: bool) -> None:
    """After its due steps were taken: the next step's time, or nothing more; the claim is given up."""
    deadline.steps_taken = taken
    if breached and deadline.status == Deadline.Status.PENDING:
        deadline.status, deadline.breached_at = Deadline.Status.BREACHED, deadline.breach_at
    upcoming = deadline.steps[taken:] if deadline.status == Deadline.Status.PENDING else []
    deadline.due_at = datetime.fromisoformat(upcoming[0]["at"]) if upcoming else None
    deadline.claimed_until, deadline.claimed_by_id = None, None
    deadline.save(update_fields=["steps_taken", "status", "breached_at", "due_at", "claimed_until", "claimed_by"])
