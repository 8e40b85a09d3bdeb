"""The catch-up gate (H3): the service levels say when a rep is too far behind to take new leads; routing applies it.

Routing is a capability and reads no other one, so the use cases that route read the values here
and hand them to routing as a routing value (CatchUp). They are configuration, kept in memory until
it changes; the leads they are applied to are counted afresh at every routing.
"""

from __future__ import annotations

from datetime import datetime

from leadbaton.routing.availability import Candidate, CatchUp, Eligibility, eligibility
from leadbaton.routing.queries import LeadCounts, team_candidates, team_eligibility
from leadbaton.sla import services as sla


def catch_up_terms(team_id: int | None = None) -> CatchUp:
    """The catch-up gate for a team's reps: its policy's values (its own, else the organisation's, else the defaults)."""
    policy = sla.policy_for(team_id)  # kept in memory until the configuration changes
    return CatchUp(
        stale_share=policy.catch_up_stale_share,
        overdue_next_steps=policy.catch_up_overdue_next_steps,
        progress_days=policy.progress_every_days,
    )


def rep_availability(*, rep_id: int, team_id: int, now: datetime) -> Eligibility | None:
    """Whether routing would give the rep of this team a new lead at `now`, and every reason why not (the
    catch-up gate included), as routing explain would say it; None when they are not on the team."""
    return next(iter(team_eligibility(team_id, now, catch_up=catch_up_terms(team_id), rep_id=rep_id)), None)


def team_availability(team_id: int, *, now: datetime, counted: dict[int, LeadCounts] | None = None) -> list[tuple[Candidate, Eligibility]]:
    """Every rep of the team as routing sees them at `now` (caps, today's count, pause) with whether they would get
    a new lead and why not, the catch-up gate included: the manager's board. Two queries, however many reps; one with
    `counted`, each rep's leads as the board counted them already (open, stale, overdue next steps)."""
    candidates = team_candidates(team_id, now, catch_up=catch_up_terms(team_id), counted=counted)
    return [(candidate, eligibility(candidate, now)) for candidate, _ in candidates]
