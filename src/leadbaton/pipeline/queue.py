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

from leadbaton.accounts.models import User
from leadbaton.core.refusals import Conflict, NotAllowed
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.access import REP, lead_access
from leadbaton.leads.models import Handoff, Lead, Owner, OwnerKind, Stage
from leadbaton.notify.models import Event
from leadbaton.pipeline.announce import lead_announce
from leadbaton.pipeline.catch_up import catch_up_terms
from leadbaton.pipeline.clocks import clocks_follow_owner
from leadbaton.pipeline.followup import lead_unseen, viewer_of
from leadbaton.routing import queries as routing_queries
from leadbaton.routing.services import queue_alert_reset, rep_choose, rep_take


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


def lead_take(*, lead_id: int, by: User, now: datetime) -> Lead:
    """A rep takes a lead waiting in their own team's queue, when routing would give them a new lead now (their hours,
    daily cap, ceiling, pause and the catch-up gate: the team's rules). One transaction; recorded as a queue hand-out
    with the rep as the one who did it; the clocks start as for any new owner.

    NotFound for a lead `by` may not read (a lead another rep took a moment ago is no longer theirs to read); Conflict
    when it does not wait in a queue (their own already), NotAllowed for someone who is not a rep of the queue's team,
    and Conflict when the rep may not get a lead now (why, in words). The handoff is `routed` with the rep as `by_user`
    and the rule "queue hand-out; taken from the queue by the rep": reports count it as a queue hand-out.
    """
    viewer = viewer_of(by)
    with transaction.atomic():
        lead = lead_queries.lead_with_owner(lead_id, lock=True)
        if lead is None or not lead_access(viewer, lead).read:
            raise lead_unseen()
        if lead.stage != Stage.QUEUED or lead.owner_kind != OwnerKind.TEAM:
            raise Conflict.one("stage", f"the lead is {lead.get_stage_display().lower()}, not waiting in a queue; someone may have taken it already")
        if viewer.role != REP or viewer.own_team_id != lead.owner_team_id:
            raise NotAllowed.one("owner", "only a rep of the team whose queue it waits in can take it; a manager assigns it from the team board")
        assert lead.owner_team_id is not None
        routed = rep_take(team_id=lead.owner_team_id, rep_id=by.pk, strategy=routing_queries.team_strategy(lead.owner_team_id), now=now,
                          catch_up=catch_up_terms(lead.owner_team_id))
        if routed.rep is None:
            reasons = "; ".join(reason for check in routed.eligibility for reason in check.reasons) or "you are not in the team's rotation"
            raise Conflict.one("availability", f"you cannot take a new lead now: {reasons}")
        leads.lead_set_stage(lead=lead, stage=Stage.ASSIGNED, now=now)
        leads.lead_set_owner(lead=lead, to=Owner.rep(by.pk, lead.owner_team_id), at=now, reason=Handoff.Reason.ROUTED,
                             note=f"taken from the team queue by {by.display_name}", rule=f"queue hand-out; {routed.how}", by_user_id=by.pk)
        lead.owner_rep = routed.rep
        lead_announce(lead=lead, events=[Event.LEAD_ASSIGNED], now=now)
        clocks_follow_owner(lead, now=now, working_time=routed.working_time, new=True)
    return lead
