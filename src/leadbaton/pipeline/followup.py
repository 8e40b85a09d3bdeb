"""Following a lead up: logging touches and notes, recording outcomes.

Each write is one transaction with the lead's row locked (FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transaction holds the database), and writes
its Activity row together with the change, so the timeline and the lead
always agree (F4).

The order of refusals (core.refusals): a lead that does not exist or that the
caller may not read (NotFound, one answer for both, so an id tells nothing), a
caller who may read but not work it (NotAllowed), a lead that cannot take the
change in its stage (Conflict), then the fields themselves (Invalid, every
problem at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pycountry
from django.db import transaction

from leadbaton.accounts.models import RepProfile, Team, User
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed, NotFound
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.access import ADMIN, MARKETING, Access, Viewer, lead_access
from leadbaton.leads.models import CLOSED_STAGES, Activity, Blocker, Handoff, Lead, Owner, Stage
from leadbaton.notify.models import Event
from leadbaton.pipeline.announce import lead_announce
from leadbaton.pipeline.clocks import clocks_after_outcome, clocks_after_touch

OUTCOMES = (Stage.IN_PROGRESS, Stage.PURCHASED, Stage.NOT_INTERESTED)
# Kinds a person logs; outcome rows are written by outcome_record only.
LOGGABLE_KINDS = (Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.SMS, Activity.Kind.MEETING, Activity.Kind.NOTE)
NOTE_MAX, TEXT_MAX = 5000, 500
VALUE_LIMIT = Decimal("10000000000")  # Lead.value holds 12 digits, 2 of them after the point
EXAMPLE_TIME = "2026-11-27T10:00:00+01:00"
NO_SUCH_LEAD = "there is no lead with this id that you can see"
# Why a lead sales was given is not a lead (Q3): what marketing's lead-quality reports count.
REJECT_REASONS = {
    "spam": "spam",
    "student": "a student",
    "wrong_person": "the wrong person",
    "duplicate": "a duplicate of another lead",
    "out_of_territory": "out of territory",
    "no_budget_ever": "no budget, ever",
    "other": "other",
}


def viewer_of(user: User) -> Viewer:
    """The caller as lead access sees them: their role, the team they sell for, the teams they manage.

    Two small queries for a manager or a rep; none for admins and marketing, who read every lead whatever their teams.
    """
    role = ADMIN if user.is_superuser else user.role
    if role in (ADMIN, MARKETING):
        return Viewer(user_id=user.pk, role=role)
    own_team_id = RepProfile.objects.filter(user_id=user.pk).values_list("team_id", flat=True).first()
    managed = frozenset(Team.objects.filter(manager_id=user.pk).values_list("pk", flat=True))
    return Viewer(user_id=user.pk, role=role, own_team_id=own_team_id, managed_team_ids=managed)


def lead_readable(*, lead_id: int, by: User) -> Lead:
    """The lead, if `by` may read it; else the one NotFound for "no such lead" and "not yours to see"."""
    return lead_seen(lead_id=lead_id, by=by)[0]


def lead_seen(*, lead_id: int, by: User) -> tuple[Lead, Access]:
    """The lead `by` may read, and what they may do with it (whether they may work it, and if not why)."""
    lead = lead_queries.lead_with_owner(lead_id)
    access = lead_access(viewer_of(by), lead) if lead is not None else None
    if lead is None or access is None or not access.read:
        raise lead_unseen()
    return lead, access


@dataclass(frozen=True)
class Logged:
    activity: Activity
    lead: Lead


def activity_log(*, lead_id: int, by: User, kind: str, result: str, note: str, now: datetime) -> Logged:
    """Log a touch (call, email, SMS, meeting) or a note on a lead `by` may work. One transaction.

    A touch counts as an attempt and as progress; the first one sets
    first_touch_at and moves an untouched (assigned) lead to in_progress.
    A note is kept on the timeline but is not a touch.
    """
    kind, result, note = kind.strip().lower(), result.strip().lower(), note.strip()
    with transaction.atomic():
        lead = _lead_to_work(lead_id, by)
        now = leads.lead_moment_after(lead, now)  # after any change that came in since `now` was taken
        problems = _activity_problems(kind, result, note)
        if problems:
            raise Invalid(problems)
        activity = Activity.objects.create(lead=lead, by_user=by, at=now, kind=kind, result=result, note=note)
        if activity.is_touch:
            leads.lead_touch_record(lead=lead, now=now)
        else:
            leads.lead_note_record(lead=lead, now=now)
        clocks_after_touch(lead, activity, now=now)
    return Logged(activity, lead)


def outcome_record(
    *,
    lead_id: int,
    by: User,
    outcome: str,
    now: datetime,
    blocker: str = "",
    next_step: str = "",
    next_step_at: datetime | None = None,
    value: Decimal | None = None,
    currency: str = "",
    reason: str = "",
    recycle_after_days: int | None = None,
) -> Logged:
    """Record where a lead stands (F2), on a lead `by` may work. One transaction.

    - in_progress needs a blocker and a next step with a due time in the future;
      the lead must have had its first touch;
    - purchased needs a value over 0 and an ISO 4217 currency; it closes the lead;
    - not_interested needs a reason; it closes the lead. With `recycle_after_days` (1 to 730: not now, rather than
      never), it goes back to marketing's nurture that many days later (N3, pipeline.recycle).
    The recording is also an `outcome` activity, so the timeline shows who decided what, when.
    """
    given: dict[str, Any] = {
        "outcome": outcome.strip().lower(),
        "blocker": blocker.strip().lower(),
        "next_step": next_step.strip(),
        "next_step_at": next_step_at,
        "value": value,
        "currency": currency.strip().upper(),
        "reason": reason.strip(),
        "recycle_after_days": recycle_after_days,
    }
    with transaction.atomic():
        lead = _lead_to_work(lead_id, by)
        now = leads.lead_moment_after(lead, now)  # after any change that came in since `now` was taken
        if given["outcome"] == Stage.IN_PROGRESS and lead.stage == Stage.ASSIGNED:
            raise Conflict.one("stage", "this lead is untouched (assigned, no touch yet); log the first touch "
                                            f"(POST /api/v1/leads/{lead.pk}/activities) before recording it in progress")
        problems = _outcome_problems(given, now)
        if problems:
            raise Invalid(problems)
        leads.lead_outcome_set(
            lead=lead, outcome=given["outcome"], now=now, blocker=given["blocker"], next_step=given["next_step"],
            next_step_at=given["next_step_at"], value=given["value"], currency=given["currency"], lost_reason=given["reason"],
            recycle_at=now + timedelta(days=recycle_after_days) if recycle_after_days else None,
        )
        detail = {name: _json(given[name]) for name in _fields_of(given["outcome"])}
        activity = Activity.objects.create(lead=lead, by_user=by, at=now, kind=Activity.Kind.OUTCOME,
                                           note=_outcome_summary(given), detail={"outcome": given["outcome"], **detail})
        clocks_after_outcome(lead, now=now)
    return Logged(activity, lead)


def lead_reject(*, lead_id: int, by: User, reason: str, now: datetime, note: str = "", duplicate_of: int | None = None) -> Logged:
    """Not a lead (Q3): sales sends it back to marketing with a reason (REJECT_REASONS), on a lead `by` may work.

    `duplicate` needs `duplicate_of`, another lead `by` can see; `other` needs a `note` saying why.
    The lead is closed as rejected and owned by the marketing queue again, a handoff the ledger
    records with the reason; its clocks stop. One transaction, with the `outcome` activity.
    """
    reason, note = reason.strip().lower(), note.strip()
    with transaction.atomic():
        lead = _lead_to_work(lead_id, by)
        now = leads.lead_moment_after(lead, now)  # after any change that came in since `now` was taken
        problems = _reject_problems(lead, by, reason, note, duplicate_of)
        if problems:
            raise Invalid(problems)
        said = f"Not a lead: {REJECT_REASONS[reason]}" + (f" (lead {duplicate_of})" if duplicate_of else "") + (f"; {note}" if note else "")
        leads.lead_outcome_set(lead=lead, outcome=Stage.REJECTED, now=now, lost_reason=said[:TEXT_MAX], rejected_reason=reason)
        leads.lead_set_owner(lead=lead, to=Owner.marketing(), at=now, reason=Handoff.Reason.REJECTED, note=said[:500], by_user_id=by.pk)
        activity = Activity.objects.create(lead=lead, by_user=by, at=now, kind=Activity.Kind.OUTCOME, note=said,
                                           detail={"outcome": Stage.REJECTED, "reason": reason, "note": note, "duplicate_of": duplicate_of})
        clocks_after_outcome(lead, now=now)
        lead_announce(lead=lead, events=[Event.LEAD_REJECTED], now=now, why={"rejection": {
            "reason": reason, "note": note, "duplicate_of": duplicate_of, "by": {"id": by.pk, "name": by.display_name}}})
    return Logged(activity, lead)


def _reject_problems(lead: Lead, by: User, reason: str, note: str, duplicate_of: int | None) -> list[dict[str, str]]:
    problems = []
    if reason not in REJECT_REASONS:
        problems.append({"field": "reason", "message": f"{reason!r} is not a reason; use one of {_choices(list(REJECT_REASONS))}"})
    elif reason == "other" and not note:
        problems.append({"field": "note", "message": "is required for other: say why this is not a lead"})
    if reason == "duplicate":
        if duplicate_of is None:
            problems.append({"field": "duplicate_of", "message": "is required for duplicate: the id of the lead this one repeats"})
        elif duplicate_of == lead.pk:
            problems.append({"field": "duplicate_of", "message": "is this lead; give the id of the other lead"})
        else:
            other = lead_queries.lead_with_owner(duplicate_of)
            if other is None or not lead_access(viewer_of(by), other).read:
                problems.append({"field": "duplicate_of", "message": f"{duplicate_of}: {NO_SUCH_LEAD}"})
    elif duplicate_of is not None:
        problems.append({"field": "duplicate_of", "message": "applies only to duplicate; leave it out"})
    if len(note) > TEXT_MAX:
        problems.append({"field": "note", "message": f"is {len(note)} characters; at most {TEXT_MAX}"})
    return problems


def _lead_to_work(lead_id: int, by: User) -> Lead:
    """The lead, locked, if it exists, `by` may work it, and its stage takes touches and outcomes. Call inside a transaction."""
    lead = lead_queries.lead_with_owner(lead_id, lock=True)
    if lead is None:
        raise lead_unseen()
    access = lead_access(viewer_of(by), lead)
    if not access.read:
        raise lead_unseen()
    if not access.work:
        raise NotAllowed.one(access.field, access.reason)
    stage_name = lead.get_stage_display().lower()
    if lead.stage in CLOSED_STAGES:
        closed = f" (closed {lead.closed_at:%Y-%m-%d %H:%M} UTC)" if lead.closed_at else ""
        raise Conflict.one("stage", f"this lead is {stage_name}{closed}; a closed lead takes no new touches or outcomes")
    if lead.stage not in (Stage.ASSIGNED, Stage.IN_PROGRESS):
        raise Conflict.one("stage", f"this lead is {stage_name}, not yet with a rep; touches and outcomes "
                                        "are logged once a rep owns it")
    return lead


def lead_unseen() -> NotFound:
    """The one answer for a lead id that names no lead the caller may read: it does not say which of the two it is."""
    return NotFound.one("lead_id", NO_SUCH_LEAD)


def _choices(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


def _activity_problems(kind: str, result: str, note: str) -> list[dict[str, str]]:
    problems = []
    results = [choice.value for choice in Activity.Result]
    if kind not in LOGGABLE_KINDS:
        problems.append({"field": "kind", "message": f"{kind!r} is not a kind of activity; use one of {_choices(LOGGABLE_KINDS)}"})
    elif kind == Activity.Kind.NOTE:
        if result:
            problems.append({"field": "result", "message": "a note has no result; leave it out, or log the touch it belongs to"})
        if not note:
            problems.append({"field": "note", "message": "is required for a note: write what you want the team to know"})
    elif not result:
        problems.append({"field": "result", "message": f"is required for a {kind}; use one of {_choices(results)}"})
    if result and kind != Activity.Kind.NOTE and result not in results:
        problems.append({"field": "result", "message": f"{result!r} is not a result; use one of {_choices(results)}"})
    if len(note) > NOTE_MAX:
        problems.append({"field": "note", "message": f"is {len(note)} characters; at most {NOTE_MAX}"})
    return problems


OUTCOME_FIELDS: dict[str, tuple[str, ...]] = {
    Stage.IN_PROGRESS: ("blocker", "next_step", "next_step_at"),
    Stage.PURCHASED: ("value", "currency"),
    Stage.NOT_INTERESTED: ("reason", "recycle_after_days"),
}
RECYCLE_DAYS_MAX = 730


def _fields_of(outcome: str) -> tuple[str, ...]:
    """The fields an outcome takes."""
    return OUTCOME_FIELDS.get(outcome, ())


def _outcome_problems(given: dict[str, Any], now: datetime) -> list[dict[str, str]]:
    outcome = given["outcome"]
    if outcome not in OUTCOMES:
        return [{"field": "outcome", "message": f"{outcome!r} is not an outcome; use one of {_choices(OUTCOMES)}"}]
    problems: list[dict[str, str]] = []

    def problem(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    for name in ("blocker", "next_step", "next_step_at", "value", "currency", "reason", "recycle_after_days"):
        if name not in _fields_of(outcome) and given[name] not in (None, ""):
            owner = next(other for other in OUTCOMES if name in _fields_of(other))
            problem(name, f"applies only to {owner}; leave it out for {outcome}")
    blockers = [choice.value for choice in Blocker]
    days = given["recycle_after_days"]
    if outcome == Stage.NOT_INTERESTED and days is not None and not (isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= RECYCLE_DAYS_MAX):
        problem("recycle_after_days", f"{days!r} is not a number of days from 1 to {RECYCLE_DAYS_MAX}; leave it out to close the lead for good")
    if outcome == Stage.IN_PROGRESS:
        blocker, next_step, due = given["blocker"], given["next_step"], given["next_step_at"]
        if not blocker:
            problem("blocker", f"is required for in_progress: what holds the customer back; use one of {_choices(blockers)}")
        elif blocker not in blockers:
            problem("blocker", f"{blocker!r} is not a blocker; use one of {_choices(blockers)}")
        if not next_step:
            problem("next_step", "is required for in_progress: say what happens next, e.g. 'send the proposal'")
        elif len(next_step) > TEXT_MAX:
            problem("next_step", f"is {len(next_step)} characters; at most {TEXT_MAX}")
        if due is None:
            problem("next_step_at", f"is required for in_progress: when the next step is due, e.g. {EXAMPLE_TIME}")
        elif due.tzinfo is None or due.utcoffset() is None:
            problem("next_step_at", f"has no time zone; add one, e.g. {EXAMPLE_TIME}")
        elif due <= now:
            problem("next_step_at", f"must be in the future (it is {now:%Y-%m-%d %H:%M} UTC now)")
    elif outcome == Stage.PURCHASED:
        value, currency = given["value"], given["currency"]
        if value is None:
            problem("value", "is required for purchased: what the deal is worth, e.g. 12500.00")
        elif not value.is_finite():
            problem("value", "must be a number, e.g. 12500.00")
        elif value <= 0:
            problem("value", "must be more than 0")
        elif value >= VALUE_LIMIT:
            problem("value", f"must be less than {VALUE_LIMIT}")
        elif value != value.quantize(Decimal("0.01")):
            problem("value", "has more than 2 decimal places; give it to the cent at most")
        if not currency:
            problem("currency", "is required for purchased: an ISO 4217 code such as EUR")
        elif len(currency) != 3 or pycountry.currencies.get(alpha_3=currency) is None:
            problem("currency", f"{given['currency']!r} is not an ISO 4217 code such as EUR")
    elif not given["reason"]:
        problem("reason", "is required for not_interested: say why, e.g. 'chose a competitor'")
    elif len(given["reason"]) > TEXT_MAX:
        problem("reason", f"is {len(given['reason'])} characters; at most {TEXT_MAX}")
    return problems


def _outcome_summary(given: dict[str, Any]) -> str:
    outcome = given["outcome"]
    if outcome == Stage.IN_PROGRESS:
        due = given["next_step_at"]
        return f"In progress; blocker: {Blocker(given['blocker']).label.lower()}; next: {given['next_step']} (due {due.isoformat()})"
    if outcome == Stage.PURCHASED:
        return f"Purchased: {given['value']} {given['currency']}"
    recycled = f"; back to marketing's nurture in {given['recycle_after_days']} days" if given["recycle_after_days"] else ""
    return f"Not interested: {given['reason']}{recycled}"


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
