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
from leadbaton.core.calendar import WorkingTime
from leadbaton.intake.normalise import Person, Problem
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.access import lead_access
from leadbaton.leads.models import Handoff, Lead, LeadIdentity, Owner, Stage
from leadbaton.leads.queries import Candidate
from leadbaton.notify.models import Event
from leadbaton.pipeline.catch_up import catch_up_terms
from leadbaton.pipeline.clocks import clocks_follow_owner
from leadbaton.pipeline.followup import viewer_of
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
    working_time: WorkingTime | None = None  # the rep's, for their service-level clocks

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


@dataclass(frozen=True)
class Match:
    """Who an inquiry's person is among the open leads that used its email or phone (decision 0016)."""

    lead: Lead | None  # the lead to merge the inquiry into; None: a new lead
    by_email: bool = False  # recognised by the email: surely the same person
    same_phone: tuple[Lead, ...] = ()  # other open leads with the inquiry's phone: possible duplicates


def person_match(found: list[Candidate], *, email_key: str) -> Match:
    """Decide which of `found` (leads_open_for's answer) is the inquiry's person. Pure.

    1. A lead that used the email is the person (the lead whose own email it is first).
    2. Else the phone decides only if no email contradicts it: a lead with the phone and no
       email takes the inquiry; so does the only lead with the phone, if the inquiry has no
       email. An inquiry with an email never joins a lead with another email, and a phone-only
       inquiry to a number several people use joins none of them.
    Every other lead with the phone is a possible duplicate of the chosen or new lead.
    """
    by_email = [candidate.lead for candidate in found if candidate.by_email]
    by_phone = [candidate.lead for candidate in found if not candidate.by_email]
    if by_email:
        lead = next((lead for lead in by_email if lead.email_key == email_key), by_email[0])
        # Surely the same person only by the lead's own email. An older address on the lead (an
        # identity) may have come with a colleague's inquiry merged by phone before decision 0016:
        # such a merge fills blanks and overwrites nobody.
        return Match(lead, lead.email_key == email_key, tuple(by_phone))
    without_email = [lead for lead in by_phone if not lead.email_key]
    if without_email:
        chosen: Lead | None = without_email[0]
    elif not email_key and len(by_phone) == 1:
        chosen = by_phone[0]
    else:
        chosen = None
    return Match(chosen, False, tuple(other for other in by_phone if other is not chosen))


def lead_for_person(*, person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> LeadResult:
    """The person's open lead with this inquiry merged in, or a new lead.

    Races: inquiries with the same phone are decided one at a time (the lookup holds the number);
    for the same email, a unique index on open leads' email decides: the loser's insert fails and
    it looks again, finding the winner's lead.
    """
    for _attempt in range(3):
        found = lead_queries.leads_open_for(email_key=person.email_key, phone=person.phone, lock=True)
        match = person_match(found, email_key=person.email_key)
        if match.lead is not None:
            return _merged(match.lead, match, person, source_slug, now, warnings)
        try:
            with transaction.atomic():
                lead, placed = _lead_create(person, source_slug, now, warnings)
        except IntegrityError:
            continue  # the same person's lead was created a moment ago: look again
        leads.identities_record(lead=lead, email_key=person.email_key, phone=person.phone)
        leads.possible_duplicates_record(lead=lead, others=list(match.same_phone), kind=LeadIdentity.Kind.PHONE, value=person.phone, now=now)
        return LeadResult(lead, False, [Event.LEAD_CREATED, *placed.events()], placed.alert())
    raise IntegrityError(f"no open lead for {person.email_key or person.phone} after three attempts to create one")


def _merged(lead: Lead, match: Match, person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> LeadResult:
    # The lead's own email and phone are among its identities already; a repeat with them adds none.
    known = person.email_key in ("", lead.email_key) and person.phone in ("", lead.phone)
    placed = _lead_merge(lead, person, source_slug, now, warnings, same_person=match.by_email)
    if not known:
        leads.identities_record(lead=lead, email_key=person.email_key, phone=person.phone)
    leads.possible_duplicates_record(lead=lead, others=list(match.same_phone), kind=LeadIdentity.Kind.PHONE, value=person.phone, now=now)
    if placed is None:
        return LeadResult(lead, True, [Event.LEAD_MERGED])
    return LeadResult(lead, True, [Event.LEAD_MERGED, *placed.events()], placed.alert())


def possible_duplicates_seen_by(*, lead_id: int, by: User) -> list[dict[str, Any]]:
    """The leads that may be the same person as this one, as `by` may see them.

    The other lead is named only to someone who may read it (leads.access); anyone else learns
    only that a lead they cannot open shares what is on this one (the phone), not its id: a lead
    someone may not read is answered as if it did not exist (decision 0013).
    """
    pairs = lead_queries.possible_duplicates_of(lead_id)
    viewer = viewer_of(by) if pairs else None  # most leads have none: no need to ask who is looking
    shown = []
    for pair in pairs:
        other = pair.other_than(lead_id)
        readable = viewer is not None and lead_access(viewer, other).read
        name = (str(other) or f"Lead {other.pk}") if readable else ""
        shown.append({"id": other.pk if readable else None, "name": name, "readable": readable, "reason": pair.reason,
                      "decision": pair.decision})
    return shown


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
    if placed.rep is not None:
        clocks_follow_owner(lead, now=now, working_time=placed.working_time, new=True)
    return lead, placed


def _lead_merge(
    lead: Lead, person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]], *, same_person: bool
) -> Placement | None:
    """Merge the inquiry into the lead; the placement when this made a nurtured lead sales-ready."""
    # The lead has no email only when found by the phone, and then no open lead used the inquiry's
    # email (it would have been found by it): the email is free to take.
    leads.lead_absorb(lead=lead, values=_lead_values(person), contact_free={"email": True}, now=now, same_person=same_person)
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
            if placed.rep is not None:
                clocks_follow_owner(lead, now=now, working_time=placed.working_time, new=True)
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
    routed = rep_choose(team_id=choice.team.pk, strategy=choice.strategy, company_domain=domain, now=now, catch_up=catch_up_terms(choice.team.pk))
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
    return Placement(Stage.ASSIGNED, owner, Handoff.Reason.ROUTED, note, f"{rule}; {routed.how}", team=choice.team, rep=routed.rep,
                     working_time=routed.working_time)


def _lead_values(person: Person) -> dict[str, Any]:
    return {
        **{name: getattr(person, name) for name in leads.EMAIL_FIELDS},
        "phone": person.phone,
        **{name: getattr(person, name) for name in leads.PERSON_FIELDS},
        # a form that passes on only the link's tracking still names the campaign the lead came with (the inquiry keeps
        # both as they were sent)
        "campaign": person.campaign or person.utm_campaign,
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
