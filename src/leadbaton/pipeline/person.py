"""From a recognised person to their lead: create it, or merge the inquiry into their open lead.

Called inside the transaction that processes a submission.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from leadbaton.accounts.models import Team
from leadbaton.intake.normalise import Person, Problem
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.models import Handoff, Lead, Owner, Stage
from leadbaton.qualification.queries import definition_active
from leadbaton.qualification.scoring import Verdict, lead_judge
from leadbaton.routing.queries import team_choose

Placement = tuple[str, Owner, str, str, str, "Team | None"]


def lead_for_person(*, person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> tuple[Lead, bool]:
    """The person's open lead with this inquiry merged in, or a new lead: (lead, merged).

    A unique index on open leads' email and phone decides when the same person
    arrives twice at once: the loser's insert fails and it merges into the winner's lead.
    """
    existing = lead_queries.lead_open_for(email_key=person.email_key, phone=person.phone, lock=True)
    if existing is None:
        try:
            with transaction.atomic():
                lead = _lead_create(person, source_slug, now, warnings)
        except IntegrityError:
            existing = lead_queries.lead_open_for(email_key=person.email_key, phone=person.phone, lock=True)
            if existing is None:
                raise
        else:
            leads.identities_record(lead=lead, email_key=person.email_key, phone=person.phone)
            return lead, False
    _lead_merge(existing, person, source_slug, now, warnings)
    leads.identities_record(lead=existing, email_key=person.email_key, phone=person.phone)
    return existing, True


def _lead_create(person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> Lead:
    facts = person.facts(source_slug)
    verdict = lead_judge(facts, definition_active())
    stage, owner, reason, note, rule, team = _placement(verdict, facts, warnings)
    lead = leads.lead_create(
        values=_lead_values(person),
        stage=stage,
        owner=owner,
        score=verdict.score,
        score_reasons=verdict.reasons,
        definition_version=verdict.version,
        source_slug=source_slug,
        now=now,
    )
    lead.owner_team = team  # already loaded by routing; saves a query when answering
    leads.handoff_record(lead=lead, to=owner, at=now, reason=reason, note=note, rule=rule)
    return lead


def _lead_merge(lead: Lead, person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> None:
    contact_free: dict[str, bool] = {}
    if (person.email and not lead.email) or (person.phone and not lead.phone):
        contact_free = lead_queries.contact_held_elsewhere(lead_id=lead.pk, email_key=person.email_key, phone=person.phone)
    leads.lead_absorb(lead=lead, values=_lead_values(person), contact_free=contact_free, now=now)
    facts = {**person.facts(source_slug), **{name: getattr(lead, name) for name in (*leads.PERSON_FIELDS, *leads.EMAIL_FIELDS)}}
    facts.update(phone=lead.phone, fields=lead.fields)
    verdict = lead_judge(facts, definition_active())
    leads.lead_rescore(lead=lead, score=verdict.score, reasons=verdict.reasons, definition_version=verdict.version)
    if lead.stage == Stage.NURTURE and verdict.sales_ready:
        stage, owner, _, note, rule, team = _placement(verdict, facts, warnings)
        if stage != Stage.NURTURE:
            leads.lead_set_stage(lead=lead, stage=stage, now=now)
            leads.lead_set_owner(lead=lead, to=owner, at=now, reason=Handoff.Reason.QUALIFIED, note=note, rule=rule)
            lead.owner_team = team


def _placement(verdict: Verdict, facts: dict[str, Any], warnings: list[dict[str, str]]) -> Placement:
    """(stage, owner, handoff reason, note, rule, team) for a judged lead."""
    definition = f"lead definition v{verdict.version}" if verdict.version else "no lead definition"
    if not verdict.sales_ready:
        because = f" ({'; '.join(verdict.reasons)})" if verdict.reasons else ""
        note = f"score {verdict.score} is below the sales-ready threshold{because}"
        return Stage.NURTURE, Owner.marketing(), Handoff.Reason.CREATED, note, definition, None
    choice = team_choose(facts)
    if choice is None:
        warnings.append(
            Problem("owner", "the lead is sales-ready but no sales team is configured; it waits in the marketing queue").as_dict()
        )
        return Stage.NURTURE, Owner.marketing(), Handoff.Reason.CREATED, "sales-ready, but no team to hand it to", definition, None
    note = f"sales-ready with score {verdict.score}; queued for {choice.team.name} by {choice.rule}"
    return Stage.QUEUED, Owner.team(choice.team.pk), Handoff.Reason.ROUTED, note, f"{definition}; {choice.rule}", choice.team


def _lead_values(person: Person) -> dict[str, Any]:
    return {
        **{name: getattr(person, name) for name in leads.EMAIL_FIELDS},
        "phone": person.phone,
        **{name: getattr(person, name) for name in leads.PERSON_FIELDS},
        "fields": person.fields,
    }


def inquiry_values(person: Person, source_slug: str, submission_id: int) -> dict[str, Any]:
    return {
        "source_slug": source_slug,
        "submission_id": submission_id,
        "message": person.message,
        "product_interest": person.product_interest,
        "campaign": person.campaign,
        "utm_source": person.utm_source,
        "utm_medium": person.utm_medium,
        "utm_campaign": person.utm_campaign,
        "contact": person.contact(),
        "fields": person.fields,
    }
