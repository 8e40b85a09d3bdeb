"""From a recognised person to their lead: create it, or merge the inquiry into their open lead.

Called inside the transaction that processes a submission.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from leadbaton.accounts.models import Team, User
from leadbaton.intake.normalise import Person, Problem
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.models import Handoff, Lead, Owner, Stage
from leadbaton.notify.models import Event
from leadbaton.qualification.queries import definition_active
from leadbaton.qualification.scoring import Verdict, lead_judge
from leadbaton.routing.queries import team_choose
from leadbaton.routing.services import queue_alert_claim, rep_choose

# A team queue that had no alert for this long starts a new burst with the next waiting lead.
QUEUE_ALERT_QUIET = timedelta(minutes=30)


@dataclass(frozen=True)
class Placement:
    """Where a judged lead goes: its stage, its owner, and the handoff that records why."""

    stage: str
    owner: Owner
    reason: str
    note: str
    rule: str
    team: Team | None = None
    rep: User | None = None
    # Set for the lead that starts a burst in a team queue: why nobody could take it.
    queue_alert: str = ""

    def events(self) -> list[str]:
        """What the placement means to subscribers: an assignment or a wait in a queue."""
        if self.stage == Stage.ASSIGNED:
            return [Event.LEAD_ASSIGNED]
        return [Event.LEAD_QUEUED] if self.stage == Stage.QUEUED else []

    def alert(self) -> tuple[Team, str] | None:
        return (self.team, self.queue_alert) if self.queue_alert and self.team is not None else None

    def load_owner(self, lead: Lead) -> None:
        """Give the lead its owner's rows, already loaded by routing: answering needs their names."""
        # A copy: the team may come from the process's in-memory configuration, which threads share.
        lead.owner_team, lead.owner_rep = copy.copy(self.team), self.rep


@dataclass(frozen=True)
class LeadResult:
    """What processing an inquiry did: the lead, whether it merged, the events, and a queue alert to raise."""

    lead: Lead
    merged: bool
    events: list[str]
    queue_alert: tuple[Team, str] | None = None


def lead_for_person(*, person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> LeadResult:
    """The person's open lead with this inquiry merged in, or a new lead.

    A unique index on open leads' email and phone decides when the same person
    arrives twice at once: the loser's insert fails and it merges into the winner's lead.
    """
    existing = lead_queries.lead_open_for(email_key=person.email_key, phone=person.phone, lock=True)
    if existing is None:
        try:
            with transaction.atomic():
                lead, placed = _lead_create(person, source_slug, now, warnings)
        except IntegrityError:
            existing = lead_queries.lead_open_for(email_key=person.email_key, phone=person.phone, lock=True)
            if existing is None:
                raise
        else:
            leads.identities_record(lead=lead, email_key=person.email_key, phone=person.phone)
            return LeadResult(lead, False, [Event.LEAD_CREATED, *placed.events()], placed.alert())
    placed_on_merge = _lead_merge(existing, person, source_slug, now, warnings)
    leads.identities_record(lead=existing, email_key=person.email_key, phone=person.phone)
    if placed_on_merge is None:
        return LeadResult(existing, True, [Event.LEAD_MERGED])
    return LeadResult(existing, True, [Event.LEAD_MERGED, *placed_on_merge.events()], placed_on_merge.alert())


def _lead_create(person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> tuple[Lead, Placement]:
    facts = person.facts(source_slug)
    verdict = lead_judge(facts, definition_active())
    placed = _placement(verdict, facts, warnings, now)
    lead = leads.lead_create(
        values=_lead_values(person),
        stage=placed.stage,
        owner=placed.owner,
        score=verdict.score,
        score_reasons=verdict.reasons,
        definition_version=verdict.version,
        source_slug=source_slug,
        now=now,
    )
    placed.load_owner(lead)
    leads.handoff_record(lead=lead, to=placed.owner, at=now, reason=placed.reason, note=placed.note, rule=placed.rule)
    return lead, placed


def _lead_merge(lead: Lead, person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> Placement | None:
    """Merge the inquiry into the lead; the placement when this made a nurtured lead sales-ready."""
    contact_free: dict[str, bool] = {}
    if (person.email and not lead.email) or (person.phone and not lead.phone):
        contact_free = lead_queries.contact_held_elsewhere(lead_id=lead.pk, email_key=person.email_key, phone=person.phone)
    leads.lead_absorb(lead=lead, values=_lead_values(person), contact_free=contact_free, now=now)
    facts = {**person.facts(source_slug), **{name: getattr(lead, name) for name in (*leads.PERSON_FIELDS, *leads.EMAIL_FIELDS)}}
    facts.update(phone=lead.phone, fields=lead.fields)
    verdict = lead_judge(facts, definition_active())
    leads.lead_rescore(lead=lead, score=verdict.score, reasons=verdict.reasons, definition_version=verdict.version)
    if lead.stage == Stage.NURTURE and verdict.sales_ready:
        placed = _placement(verdict, facts, warnings, now)
        if placed.stage != Stage.NURTURE:
            leads.lead_set_stage(lead=lead, stage=placed.stage, now=now)
            leads.lead_set_owner(lead=lead, to=placed.owner, at=now, reason=Handoff.Reason.QUALIFIED, note=placed.note, rule=placed.rule)
            placed.load_owner(lead)
            return placed
    return None


def _placement(verdict: Verdict, facts: dict[str, Any], warnings: list[dict[str, str]], now: datetime) -> Placement:
    """Where a judged lead goes: nurture (marketing), a rep of the chosen team, or that team's queue."""
    definition = f"lead definition v{verdict.version}" if verdict.version else "no lead definition"
    if not verdict.sales_ready:
        because = f" ({'; '.join(verdict.reasons)})" if verdict.reasons else ""
        note = f"score {verdict.score} is below the sales-ready threshold{because}"
        return Placement(Stage.NURTURE, Owner.marketing(), Handoff.Reason.CREATED, note, definition)
    choice = team_choose({**facts, "score": verdict.score})  # rules may route on the score just given
    if choice is None:
        warnings.append(
            Problem("owner", "the lead is sales-ready but no sales team is configured; it waits in the marketing queue").as_dict()
        )
        return Placement(Stage.NURTURE, Owner.marketing(), Handoff.Reason.CREATED, "sales-ready, but no team to hand it to", definition)
    rule = f"{definition}; {choice.rule}"
    domain = "" if facts.get("free_mail") else str(facts.get("company_domain") or "")
    routed = rep_choose(team_id=choice.team.pk, strategy=choice.strategy, company_domain=domain, now=now)
    if routed.rep is None:
        why = routed.nobody_because()
        below = choice.team.overflow_nurture_below
        if below is not None and verdict.score < below:
            note = (
                f"sales-ready with score {verdict.score}, below {below}: {choice.team.name} sends such leads to nurture "
                f"instead of its queue when nobody can take them ({why})"
            )
            return Placement(Stage.NURTURE, Owner.marketing(), Handoff.Reason.CREATED, note[:500], f"{rule}; overflow to nurture")
        note = f"sales-ready with score {verdict.score}; waits in the {choice.team.name} queue: nobody can take it now ({why})"
        alert = queue_alert_claim(team_id=choice.team.pk, now=now, quiet=QUEUE_ALERT_QUIET)
        return Placement(Stage.QUEUED, Owner.team(choice.team.pk), Handoff.Reason.ROUTED, note[:500], rule, team=choice.team,
                         queue_alert=why if alert else "")
    note = f"sales-ready with score {verdict.score}; assigned to {routed.rep.display_name} of {choice.team.name} by {routed.how}"
    owner = Owner.rep(routed.rep.pk, choice.team.pk)
    return Placement(Stage.ASSIGNED, owner, Handoff.Reason.ROUTED, note, f"{rule}; {routed.how}", team=choice.team, rep=routed.rep)


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
