"""Team queues: leads nobody could take wait here, and go out first when a rep becomes available.

A rep becomes available when their hours start, a lead of theirs closes, a
pause lifts or their daily cap resets at their midnight. Availability is
computed, not signalled, so the worker simply offers each queue to its team
again every few seconds; the lead with the highest score (then the oldest)
goes first.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.models import Handoff, Owner, Stage
from leadbaton.notify.models import Event
from leadbaton.pipeline.announce import lead_announce
from leadbaton.pipeline.catch_up import catch_up_terms
from leadbaton.pipeline.clocks import clocks_follow_owner
from leadbaton.routing import queries as routing_queries
from leadbaton.routing.services import queue_alert_reset, rep_choose


def queues_hand_out(*, now: datetime) -> int:
    """Give queued leads to reps who can take them now. Returns how many went out."""
    handed = 0
    for team_id in routing_queries.teams_with_queue():
        strategy = routing_queries.team_strategy(team_id)
        while _hand_out_one(team_id, strategy, now):
            handed += 1
    return handed


def _hand_out_one(team_id: int, strategy: str, now: datetime) -> bool:
    """Hand out the first lead of the queue in one transaction; False when the queue is empty or nobody is free."""
    with transaction.atomic():
        lead = lead_queries.queued_next(team_id)
        if lead is None:
            queue_alert_reset(team_id=team_id)
            return False
        domain = "" if lead.free_mail else lead.company_domain
        routed = rep_choose(team_id=team_id, strategy=strategy, company_domain=domain, now=now, catch_up=catch_up_terms(team_id))
        if routed.rep is None:
            return False
        waited = int((now - lead.updated_at).total_seconds() // 60)
        leads.lead_set_stage(lead=lead, stage=Stage.ASSIGNED, now=now)
        leads.lead_set_owner(
            lead=lead,
            to=Owner.rep(routed.rep.pk, team_id),
            at=now,
            reason=Handoff.Reason.ROUTED,
            note=f"handed out from the team queue after about {waited} min: {routed.rep.display_name} became available",
            rule=f"queue hand-out; {routed.how}",
        )
        lead.owner_rep = routed.rep
        lead_announce(lead=lead, events=[Event.LEAD_ASSIGNED], now=now)
        clocks_follow_owner(lead, now=now, working_time=routed.working_time, new=True)
    return True
