"""Reads of leads, their owners and their ledger."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from leadbaton.leads.models import OPEN_STAGES, Lead, LeadIdentity, OwnerKind


def lead_open_for(*, email_key: str, phone: str, lock: bool = False) -> Lead | None:
    """The person's open lead: one that has used this email or phone, preferring the lead whose own email it is. One query.

    With `lock`, the row is held FOR UPDATE (PostgreSQL) until the transaction ends.
    """
    match = Q(pk__in=[])
    if email_key:
        match |= Q(kind=LeadIdentity.Kind.EMAIL, value=email_key)
    if phone:
        match |= Q(kind=LeadIdentity.Kind.PHONE, value=phone)
    known = LeadIdentity.objects.filter(match).values("lead_id")
    rows = (
        Lead.objects.filter(pk__in=known, stage__in=OPEN_STAGES)
        .select_related("owner_team", "owner_rep")
        .order_by("id")
    )
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = list(rows[:5])
    # The lead whose own email this is, else whose own phone, else the oldest that has used either.
    own_email = next((lead for lead in found if email_key and lead.email_key == email_key), None)
    own_phone = next((lead for lead in found if phone and lead.phone == phone), None)
    return own_email or own_phone or (found[0] if found else None)


def contact_held_elsewhere(*, lead_id: int, email_key: str, phone: str) -> dict[str, bool]:
    """For merging: is the email / phone free, i.e. not held by another open lead?"""
    free = {"email": bool(email_key), "phone": bool(phone)}
    match = Q(pk__in=[])
    if email_key:
        match |= Q(email_key=email_key)
    if phone:
        match |= Q(phone=phone)
    for other in Lead.objects.filter(match, stage__in=OPEN_STAGES).exclude(pk=lead_id).values("email_key", "phone"):
        if email_key and other["email_key"] == email_key:
            free["email"] = False
        if phone and other["phone"] == phone:
            free["phone"] = False
    return free


def owner_summary(lead: Lead | None) -> dict[str, Any]:
    """The accountable owner as the API shows it (the marketing queue until there is a lead). Uses the loaded team and rep."""
    if lead is None:
        return {"kind": "marketing", "id": None, "name": "Marketing queue"}
    if lead.owner_kind == OwnerKind.REP and lead.owner_rep is not None:
        return {"kind": "rep", "id": lead.owner_rep_id, "name": lead.owner_rep.display_name}
    if lead.owner_kind == OwnerKind.TEAM and lead.owner_team is not None:
        return {"kind": "team", "id": lead.owner_team_id, "name": f"{lead.owner_team.name} queue"}
    return {"kind": "marketing", "id": None, "name": "Marketing queue"}


def stage_counts() -> dict[str, int]:
    """How many leads are in each stage (every stage present, zero if none)."""
    from django.db.models import Count

    from leadbaton.leads.models import Stage

    counts = dict(Lead.objects.values_list("stage").annotate(n=Count("id")).values_list("stage", "n"))
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}
