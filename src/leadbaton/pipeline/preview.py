"""Where a lead would go, for a sample lead nobody sent: the lead definition's verdict, the routing rule and team,
and the rep routing would pick now with why not the others. The same code intake runs (normalising, scoring,
routing.queries.team_choose, routing.services.rep_preview), writing nothing, so a preview cannot disagree with
what the next real lead gets. Draft rules, not yet saved, may be tried in place of the active ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from leadbaton.accounts.models import Team, User
from leadbaton.core.refusals import Invalid
from leadbaton.intake.models import Source
from leadbaton.intake.normalise import Unreachable, person_from_payload
from leadbaton.leads.access import lead_access
from leadbaton.leads.queries import leads_open_for
from leadbaton.pipeline.catch_up import catch_up_terms
from leadbaton.pipeline.followup import viewer_of
from leadbaton.pipeline.person import person_match
from leadbaton.qualification.queries import definition_active
from leadbaton.qualification.scoring import lead_judge
from leadbaton.routing.availability import Eligibility
from leadbaton.routing.queries import team_choose
from leadbaton.routing.services import rep_preview


@dataclass(frozen=True)
class Preview:
    score: int
    sales_ready: bool
    reasons: list[str]
    rule: str = ""  # "routing rule 'Enterprise'", "default team", or "" when no team would take it
    team: Team | None = None
    strategy: str = ""
    rep: str = ""  # the rep's name; "" when nobody can take it now
    how: str = ""
    goes_to: str = ""  # in words: where the lead would be now
    reps: list[Eligibility] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    merged_into: str = ""  # the person's open lead the inquiry would join instead, in words ("" when none)


def routing_preview(*, sample: dict[str, Any], source_slug: str, by: User, now: datetime,
                    draft: list[tuple[str, list[dict[str, Any]], Team, str]] | None = None) -> Preview:
    """Where a lead with these fields (as the intake API takes them) from this source would go now.

    Refuses with Invalid when it names nobody to reach (as intake does). `draft`: rules checked by
    routing.services.rules_check, tried instead of the active ones. A sample of someone with an open lead
    says so (intake would merge it there): that lead is named only if `by` may read it.
    """
    source = Source.objects.filter(slug=source_slug).first()
    try:
        person = person_from_payload(sample, default_region=source.default_region if source else "")
    except Unreachable as unreachable:
        raise Invalid([problem.as_dict() for problem in unreachable.problems]) from None
    warnings = [f"{problem.field}: {problem.message}" for problem in person.warnings]
    facts = person.facts(source_slug)
    verdict = lead_judge(facts, definition_active())
    choice = team_choose({**facts, "score": verdict.score}, draft=draft)
    judged = Preview(score=verdict.score, sales_ready=verdict.sales_ready, reasons=verdict.reasons, warnings=warnings,
                     merged_into=_open_lead_of(person.email_key, person.phone, by))
    if choice is None:
        goes_to = "marketing's queue: no routing rule matches and there is no active default team"
        return replace(judged, goes_to=goes_to if verdict.sales_ready else _nurture(verdict.score))
    team = choice.team
    domain = "" if facts.get("free_mail") else str(facts.get("company_domain") or "")
    routed = rep_preview(team_id=team.pk, strategy=choice.strategy, company_domain=domain, now=now, catch_up=catch_up_terms(team.pk))
    if not verdict.sales_ready:
        goes_to = _nurture(verdict.score)
    elif routed.rep is not None:
        goes_to = f"{routed.rep.display_name} of {team.name}, by {routed.how}"
    elif team.overflow_nurture_below is not None and verdict.score < team.overflow_nurture_below:
        goes_to = f"marketing's nurture: nobody in {team.name} can take it now and it scores below {team.overflow_nurture_below}"
    else:
        goes_to = f"the {team.name} queue: nobody can take it now"
    return replace(
        judged, rule=choice.rule, team=team, strategy=choice.strategy, rep=routed.rep.display_name if routed.rep else "",
        how=routed.how, goes_to=goes_to, reps=routed.eligibility,
    )


def _open_lead_of(email_key: str, phone: str, by: User) -> str:
    """In words, the open lead intake would merge the sample into (pipeline.person's own match), or ""."""
    match = person_match(leads_open_for(email_key=email_key, phone=phone), email_key=email_key)
    lead = match.lead
    if lead is None:
        return ""
    if not lead_access(viewer_of(by), lead).read:
        return "an open lead of this person you may not open: a real inquiry would be merged into it, not routed"
    return f"{lead or f'lead {lead.pk}'}'s open lead {lead.pk} ({lead.get_stage_display().lower()}): a real inquiry would be merged into it, not routed"


def _nurture(score: int) -> str:
    return f"marketing's nurture: a score of {score} is not sales-ready (routing below shows where it would go if it were)"
