"""Reads of leads, their owners and their ledger."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from leadbaton.leads.models import OPEN_STAGES, Lead, OwnerKind


def lead_open_for(*, email_key: str, phone: str, lock: bool = False) -> Lead | None:
    """The person's open lead: same normalised email first, else same phone. One query.

    With `lock`, the row is held FOR UPDATE (PostgreSQL) until the transaction ends.
    """
    match = Q()
    if email_key:
        match |= Q(email_key=email_key)
    if phone:
        match |= Q(phone=phone)
    if not match:
        return None
    rows = Lead.objects.filter(match, stage__in=OPEN_STAGES).select_related("owner_team", "owner_rep")
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = list(rows[:2])
    for lead in found:
        if email_key and lead.email_key == email_key:
            return lead
    return found[0] if found else None


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


def owner_summary(lead: Lead) -> dict[str, Any]:
    """The accountable owner as the API shows it. Uses the lead's loaded team and rep."""
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
