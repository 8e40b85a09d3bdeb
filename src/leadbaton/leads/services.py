"""Every write of a Lead's fields: ownership and its ledger in step, inquiries, touches, outcomes.

This module is the lead's one writer (tests/leads/test_one_writer.py holds every other module to it):
use cases decide and check, then call a service here to change the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from leadbaton.leads.holdings import came_of
from leadbaton.leads.models import (
    CLOSED_STAGES,
    Handoff,
    Holding,
    Inquiry,
    Lead,
    LeadIdentity,
    Owner,
    OwnerKind,
    PossibleDuplicate,
    Stage,
)


def lead_moment(lead: Lead, now: datetime) -> datetime:
    """When a change to the lead happens: `now`, or its last change if that is later. A use case takes `now` before it
    locks the lead (a worker one for a whole batch), so another change may have come in between; the lead's history
    (handoffs, activities, holdings) then stays in the order its changes were made, which the ledger's replay reads."""
    return max(now, lead.updated_at) if lead.updated_at else now


def lead_moment_after(lead: Lead, now: datetime) -> datetime:
    """When a use case's touch or outcome on the lead happens: `now`, or just after the lead's last change if that came
    after `now` (a handoff committed while this waited for the lock): at one moment the ledger's replay reads activities
    before handoffs, so an activity clamped onto the handoff's time would be read as the previous owner's. Within the use
    case, lead_moment keeps its writes at that one time."""
    if lead.updated_at is not None and now < lead.updated_at:
        return lead.updated_at + timedelta(microseconds=1)
    return now


def handoff_record(
    *,
    lead: Lead,
    to: Owner,
    at: datetime,
    reason: str,
    note: str = "",
    rule: str = "",
    by_user_id: int | None = None,
    previous: Owner | None = None,
) -> Handoff:
    """Record one change of owner, and the holdings it ends and starts (leads.holdings). Call inside the transaction
    that changes the owner, after the lead's stage is set for its new owner."""
    at = lead_moment(lead, at)
    from_rep = previous is not None and previous.kind == OwnerKind.REP
    if from_rep:  # only a rep holds a lead open: from anyone else there is no holding to end
        ended = Holding.Closed.REJECTED if reason == Handoff.Reason.REJECTED else Holding.Closed.AWAY
        Holding.objects.filter(lead=lead, closed_at__isnull=True).update(closed_at=at, closed_how=ended)
    if to.kind == OwnerKind.REP and to.rep_id is not None:
        touched = from_rep and lead.stage == Stage.IN_PROGRESS  # from a rep, a touched lead stays in progress
        Holding.objects.create(lead=lead, rep_id=to.rep_id, team_id=to.team_id, came=came_of(reason, previous.kind if previous else ""),
                               started_at=at, touched_at=at if touched else None)
    return Handoff.objects.create(
        lead=lead,
        at=at,
        from_kind=previous.kind if previous else "",
        from_team_id=previous.team_id if previous else None,
        from_rep_id=previous.rep_id if previous else None,
        to_kind=to.kind,
        to_team_id=to.team_id,
        to_rep_id=to.rep_id,
        reason=reason,
        note=note[:500],
        rule=rule[:200],
        by_user_id=by_user_id,
    )


def lead_set_owner(
    *,
    lead: Lead,
    to: Owner,
    at: datetime,
    reason: str,
    note: str = "",
    rule: str = "",
    by_user_id: int | None = None,
) -> Handoff | None:
    """Give a saved lead a new owner and record the handoff; nothing happens if the owner is unchanged.

    Call inside a transaction with the lead's row locked (select_for_update).
    """
    previous = lead.owner
    if previous == to:
        return None
    at = lead_moment(lead, at)
    lead.owner_kind, lead.owner_team_id, lead.owner_rep_id = to.kind, to.team_id, to.rep_id
    if to.kind == OwnerKind.REP and lead.owned_at is None:
        lead.owned_at = at
    lead.updated_at = at
    lead.save(update_fields=["owner_kind", "owner_team", "owner_rep", "owned_at", "updated_at"])
    return handoff_record(
        lead=lead, to=to, at=at, reason=reason, note=note, rule=rule, by_user_id=by_user_id, previous=previous
    )


# The person's fields a lead keeps; an inquiry that brings a new non-empty value updates them.
PERSON_FIELDS = (
    "first_name", "last_name", "title", "company", "company_size",
    "country", "region", "city", "consent_marketing", "product_interest", "campaign",
)
# Facts about the email address; they change only with the lead's email.
EMAIL_FIELDS = ("email", "email_key", "company_domain", "free_mail")


def lead_create(
    *,
    values: dict[str, Any],
    stage: str,
    owner: Owner,
    score: int,
    score_reasons: list[str],
    definition_version: int | None,
    source_slug: str,
    now: datetime,
) -> Lead:
    """Insert a new lead. Raises IntegrityError when the person already has an open lead (see Lead.Meta)."""
    return Lead.objects.create(
        **values,
        original_campaign=values.get("campaign") or "",
        source_slug=source_slug,
        stage=stage,
        owner_kind=owner.kind,
        owner_team_id=owner.team_id,
        owner_rep_id=owner.rep_id,
        owned_at=now if owner.kind == OwnerKind.REP else None,
        score=score,
        score_reasons=score_reasons,
        definition_version=definition_version,
        received_at=now,
        last_inquiry_at=now,
        updated_at=now,
    )


# What the person asked: the lead shows the latest inquiry's, whoever sent it.
ASKED_FIELDS = ("product_interest", "campaign")


def lead_absorb(*, lead: Lead, values: dict[str, Any], contact_free: dict[str, bool], now: datetime, same_person: bool = True) -> list[str]:
    """Merge a new inquiry's person details into an open lead (held locked by the caller), without saving.

    The caller judges the merged lead and saves it once with lead_rescore.

    `same_person`: the inquiry was recognised by its email. Then the lead takes the newest
    non-empty value of each descriptive field (people change titles, companies, spellings).
    Recognised by the phone alone, the inquiry may be a colleague on the same switchboard: it
    only fills what the lead lacks, and what they asked (ASKED_FIELDS) (decision 0016).
    A missing email is filled in when `contact_free["email"]` (no other open lead holds it); a
    missing phone always. Custom fields are merged key by key, the same way. Nothing is lost:
    the inquiry row keeps exactly what was sent. Returns the names changed.
    """
    changed = []
    for name in PERSON_FIELDS:
        new = values.get(name)
        if new in (None, "") or getattr(lead, name) == new:
            continue
        if same_person or name in ASKED_FIELDS or getattr(lead, name) in (None, ""):
            setattr(lead, name, new)
            changed.append(name)
    if values.get("email") and not lead.email and contact_free.get("email"):
        for name in EMAIL_FIELDS:
            setattr(lead, name, values[name])
        changed.append("email")
    if values.get("phone") and not lead.phone:
        lead.phone = values["phone"]
        changed.append("phone")
    custom = values.get("fields") or {}
    if custom:
        lead.fields = {**lead.fields, **custom} if same_person else {**custom, **lead.fields}
        changed.append("fields")
    lead.inquiry_count += 1
    lead.last_inquiry_at = now
    lead.updated_at = lead_moment(lead, now)
    return changed


def lead_rescore(*, lead: Lead, score: int, reasons: list[str], definition_version: int | None) -> None:
    """Record a new judgement and save the lead (with any changes lead_absorb made)."""
    lead.score, lead.score_reasons, lead.definition_version = score, reasons, definition_version
    lead.save()


def lead_set_stage(*, lead: Lead, stage: str, now: datetime) -> None:
    lead.stage, lead.updated_at = stage, lead_moment(lead, now)
    lead.save(update_fields=["stage", "updated_at"])


def lead_touch_record(*, lead: Lead, now: datetime) -> None:
    """Count a touch (a call, email, SMS or meeting) and save the lead: an attempt and progress.

    The first touch sets first_touch_at and moves an untouched (assigned) lead to in_progress.
    Call inside the transaction that writes the touch's activity, with the lead's row locked.
    """
    now = lead_moment(lead, now)
    lead.touch_count += 1
    lead.last_progress_at = lead.updated_at = now
    changed = ["touch_count", "last_progress_at", "updated_at"]
    if lead.first_touch_at is None:
        lead.first_touch_at = now
        changed.append("first_touch_at")
    if lead.stage == Stage.ASSIGNED:  # untouched until now: so is its holding
        lead.stage = Stage.IN_PROGRESS
        changed.append("stage")
        Holding.objects.filter(lead=lead, closed_at__isnull=True, touched_at__isnull=True).update(touched_at=now)
    lead.save(update_fields=changed)


def lead_note_record(*, lead: Lead, now: datetime) -> None:
    """A note was written on the lead: it changed (updated_at), but a note is not a touch. Same transaction as the note."""
    lead.updated_at = lead_moment(lead, now)
    lead.save(update_fields=["updated_at"])


def lead_outcome_set(
    *,
    lead: Lead,
    outcome: str,
    now: datetime,
    blocker: str = "",
    next_step: str = "",
    next_step_at: datetime | None = None,
    value: Decimal | None = None,
    currency: str = "",
    lost_reason: str = "",
    rejected_reason: str = "",
    recycle_at: datetime | None = None,
) -> None:
    """Set where the lead stands (in_progress, purchased, not_interested, rejected) and save it; the values are already checked.
    `rejected_reason`: the code of why sales said it is not a lead (rejected only); `recycle_at`: when a lead not
    interested now goes back to marketing's nurture (not_interested only).

    Each outcome keeps only its own fields (in_progress: blocker and next step; purchased: value
    and currency; not_interested and rejected: the reason); the others are cleared, so a closed lead keeps no
    blocker or next step: nothing is pending. A closing outcome sets closed_at. Recording an
    outcome is progress. Call inside the transaction that writes the outcome's activity, with the
    lead's row locked.
    """
    now = lead_moment(lead, now)
    in_progress, purchased = outcome == Stage.IN_PROGRESS, outcome == Stage.PURCHASED
    lead.stage = outcome
    lead.blocker = blocker if in_progress else ""
    lead.next_step = next_step if in_progress else ""
    lead.next_step_at = next_step_at if in_progress else None
    lead.value = value if purchased else None
    lead.currency = currency if purchased else ""
    lead.lost_reason = lost_reason if outcome in (Stage.NOT_INTERESTED, Stage.REJECTED) else ""
    lead.rejected_reason = rejected_reason if outcome == Stage.REJECTED else ""
    lead.recycle_at = recycle_at if outcome == Stage.NOT_INTERESTED else None
    lead.closed_at = now if outcome in CLOSED_STAGES else None
    lead.last_progress_at = lead.updated_at = now
    if outcome in (Stage.PURCHASED, Stage.NOT_INTERESTED):  # a rejection ends the holding with its handoff
        Holding.objects.filter(lead=lead, closed_at__isnull=True).update(closed_at=now, closed_how=outcome)
    lead.save(update_fields=["stage", "blocker", "next_step", "next_step_at", "value", "currency", "lost_reason", "rejected_reason", "recycle_at",
                             "closed_at", "last_progress_at", "updated_at"])


def identities_record(*, lead: Lead, email_key: str, phone: str) -> None:
    """Remember that the lead's person used this email and phone; known ones are skipped. One statement."""
    rows = [
        LeadIdentity(lead=lead, kind=kind, value=value)
        for kind, value in ((LeadIdentity.Kind.EMAIL, email_key), (LeadIdentity.Kind.PHONE, phone))
        if value
    ]
    LeadIdentity.objects.bulk_create(rows, ignore_conflicts=True)


def possible_duplicates_record(*, lead: Lead, others: list[Lead], kind: str, value: str, now: datetime) -> None:
    """Mark `lead` and each of `others` as possibly one person (they share `value`); known pairs are skipped. One statement."""
    rows = [
        PossibleDuplicate(older_id=min(lead.pk, other.pk), newer_id=max(lead.pk, other.pk), kind=kind, value=value, found_at=now)
        for other in others
        if other.pk != lead.pk
    ]
    if rows:
        PossibleDuplicate.objects.bulk_create(rows, ignore_conflicts=True)


def inquiry_record(*, lead: Lead, values: dict[str, Any], now: datetime) -> Inquiry:
    return Inquiry.objects.create(lead=lead, received_at=now, **values)


def lead_recycle(*, lead: Lead, now: datetime) -> None:
    """A lead closed as not interested, not now, opens again in marketing's nurture (N3); the caller records the handoff.
    Its outcome stays on the timeline and in the ledger; the lead keeps no closing fields. Call with the lead's row locked."""
    lead.stage, lead.closed_at, lead.recycle_at, lead.lost_reason, lead.updated_at = Stage.NURTURE, None, None, "", lead_moment(lead, now)
    lead.save(update_fields=["stage", "closed_at", "recycle_at", "lost_reason", "updated_at"])


def lead_recycle_cancel(*, lead: Lead) -> None:
    """Recycling this lead is off (the person came back meanwhile with a lead of their own)."""
    lead.recycle_at = None
    lead.save(update_fields=["recycle_at"])
