"""Reads of leads, their owners and their ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Case, DateTimeField, F, IntegerField, Q, Value, When

from leadbaton.leads.access import OWNER_RELATED
from leadbaton.leads.models import CLOSED_STAGES, OPEN_STAGES, Activity, Handoff, Inquiry, Lead, LeadIdentity, OwnerKind, Stage


def lead_open_for(*, email_key: str, phone: str, lock: bool = False) -> Lead | None:
    """The person's open lead: one that has used this email or phone, preferring the lead whose own email it is. One query.

    With `lock`, the row is held FOR UPDATE (PostgreSQL) until the transaction ends. The query is
    written out: every lead runs it, and building it through the ORM cost more than running it.
    """
    if not email_key and not phone:
        return None
    sql = _OPEN_FOR_SQL + (" FOR UPDATE" if lock and connection.features.has_select_for_update else "")
    params = [LeadIdentity.Kind.EMAIL, email_key or None, LeadIdentity.Kind.PHONE, phone or None, *OPEN_STAGES]
    # No join: PostgreSQL re-checks only the locked row after waiting on a concurrent change, so
    # joined owner rows could come back empty. The owner is read after the lock, when answering.
    found = list(Lead.objects.raw(sql, params))
    # The lead whose own email this is, else whose own phone, else the oldest that has used either.
    own_email = next((lead for lead in found if email_key and lead.email_key == email_key), None)
    own_phone = next((lead for lead in found if phone and lead.phone == phone), None)
    return own_email or own_phone or (found[0] if found else None)


_OPEN_FOR_SQL = (
    f"SELECT * FROM {Lead._meta.db_table} WHERE id IN ("
    f"SELECT lead_id FROM {LeadIdentity._meta.db_table} WHERE (kind = %s AND value = %s) OR (kind = %s AND value = %s))"
    f" AND stage IN ({', '.join(['%s'] * len(OPEN_STAGES))}) ORDER BY id LIMIT 5"
)


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


def stage_counts(where: Q | None = None) -> dict[str, int]:
    """How many leads are in each stage (every stage present, zero if none), of the leads `where` picks (all without). One query."""
    from django.db.models import Count

    rows = Lead.objects.filter(where) if where is not None else Lead.objects.all()
    counts = dict(rows.values_list("stage").annotate(n=Count("id")).values_list("stage", "n"))
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}


def queued_next(team_id: int) -> Lead | None:
    """The lead first in the team's queue, locked: highest score, then longest waiting.

    On PostgreSQL a lead another worker is handing out is skipped, not waited for.
    """
    from django.db import connection

    rows = Lead.objects.filter(owner_kind=OwnerKind.TEAM, owner_team_id=team_id, stage="queued").order_by("-score", "received_at", "id")
    rows = rows.select_for_update(of=("self",), skip_locked=connection.vendor == "postgresql")
    return rows.first()


# The lead's facts as routing rules and the lead definition test them (routing explain re-runs routing on them).
_FACT_FIELDS = (
    "email", "phone", "first_name", "last_name", "company", "company_domain", "free_mail", "title", "company_size",
    "country", "region", "city", "consent_marketing", "product_interest", "campaign", "score", "fields",
)
_INQUIRY_FACTS = ("message", "utm_source", "utm_medium", "utm_campaign")


def lead_facts(lead: Lead) -> dict[str, Any]:
    """The facts intake's routing tests (intake.normalise.Person.facts), read from the lead as it is now.

    What the person asked (message, utm_*) and the source come from the latest inquiry: one query.
    """
    latest = lead.inquiries.order_by("-received_at", "-id").first()
    facts: dict[str, Any] = {name: getattr(lead, name) for name in _FACT_FIELDS}
    facts.update({name: getattr(latest, name) if latest else "" for name in _INQUIRY_FACTS})
    if latest is not None:
        facts.update(product_interest=latest.product_interest or lead.product_interest, campaign=latest.campaign or lead.campaign)
    facts["source"] = latest.source_slug if latest else lead.source_slug
    return facts


def handoffs_of(lead_id: int) -> list[Handoff]:
    """The lead's handoffs, oldest first, with the teams and people they name (one query)."""
    related = ("from_team", "from_rep", "to_team", "to_rep", "by_user")
    return list(Handoff.objects.filter(lead_id=lead_id).select_related(*related).order_by("at", "id"))


def handoff_sides(handoff: Handoff) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(from, to) of a handoff as the API shows an owner; `from` is None for a new lead. Uses the loaded teams and people."""
    return (
        _party(handoff.from_kind, handoff.from_team, handoff.from_rep),
        _party(handoff.to_kind, handoff.to_team, handoff.to_rep) or {"kind": "marketing", "id": None, "name": "Marketing queue"},
    )


def _party(kind: str, team: Any, rep: Any) -> dict[str, Any] | None:
    if kind == OwnerKind.REP and rep is not None:
        return {"kind": "rep", "id": rep.pk, "name": rep.display_name}
    if kind == OwnerKind.TEAM and team is not None:
        return {"kind": "team", "id": team.pk, "name": f"{team.name} queue"}
    if kind == OwnerKind.MARKETING:
        return {"kind": "marketing", "id": None, "name": "Marketing queue"}
    return None


def lead_with_owner(lead_id: int, *, lock: bool = False) -> Lead | None:
    """The lead with what access and the owner summary need loaded (see leads.access.OWNER_RELATED); None if none.

    With `lock`, the lead's row is held FOR UPDATE (PostgreSQL) until the transaction ends.
    """
    rows = Lead.objects.select_related(*OWNER_RELATED)
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(pk=lead_id).first()


def leads_of_rep(rep_id: int, *, now: datetime, stages: tuple[str, ...] | None = None, limit: int = 50) -> list[Lead]:
    """A rep's own leads, most urgent first (F1). One query.

    Open leads (the default: assigned and in progress) come in this order:
    1. untouched (assigned), longest waiting first;
    2. in progress with the next step overdue, most overdue first;
    3. in progress without a next step (it needs an outcome), longest waiting first;
    4. in progress with a next step to come, soonest first.
    Closed stages, when asked for, come most recently closed first.
    """
    stages = stages or (Stage.ASSIGNED, Stage.IN_PROGRESS)
    rows = Lead.objects.filter(owner_kind=OwnerKind.REP, owner_rep_id=rep_id, stage__in=stages).select_related("owner_team", "owner_rep")
    in_progress = Q(stage=Stage.IN_PROGRESS)
    bucket = Case(
        When(stage=Stage.ASSIGNED, then=Value(0)),
        When(in_progress & Q(next_step_at__lte=now), then=Value(1)),
        When(in_progress & Q(next_step_at__isnull=True), then=Value(2)),
        When(in_progress, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )
    when = Case(
        When(in_progress & Q(next_step_at__isnull=False), then=F("next_step_at")),
        default=F("received_at"),
        output_field=DateTimeField(),
    )
    closed_last = F("closed_at").desc(nulls_last=True)
    if all(stage in CLOSED_STAGES for stage in stages):
        return list(rows.order_by(closed_last, "-id")[:limit])
    return list(rows.annotate(urgency=bucket, urgent_at=when).order_by("urgency", "urgent_at", closed_last, "id")[:limit])


def leads_queued(team_ids: list[int] | None, *, limit: int = 50) -> list[Lead]:
    """Leads waiting in these teams' queues (every team's with None): highest score first, then longest waiting. One query."""
    rows = Lead.objects.filter(owner_kind=OwnerKind.TEAM, stage="queued").select_related("owner_team", "owner_rep")
    if team_ids is not None:
        rows = rows.filter(owner_team_id__in=team_ids)
    return list(rows.order_by("-score", "received_at", "id")[:limit])


def inquiries_of(lead_id: int) -> list[Inquiry]:
    """Everything the lead's person asked, newest first. One query."""
    return list(Inquiry.objects.filter(lead_id=lead_id).order_by("-received_at", "-id"))


def activities_of(lead_id: int) -> list[Activity]:
    """A lead's timeline of touches, notes and outcomes, oldest first, each with who did it. One query."""
    return list(Activity.objects.filter(lead_id=lead_id).select_related("by_user"))
