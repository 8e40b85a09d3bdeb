"""Changing who answers for a lead by hand, and taking leads back from reps who leave.

Every change is a handoff row with who did it and why, written in the same
transaction as the change; the new owner is told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.core.refusals import Invalid, NotAllowed
from leadbaton.core.wakeup import work_queued
from leadbaton.leads import services as leads
from leadbaton.leads.access import ADMIN, MARKETING, REP
from leadbaton.leads.models import OPEN_STAGES, Handoff, Lead, Owner, OwnerKind, Stage
from leadbaton.notify.models import Event
from leadbaton.pipeline.announce import lead_announce
from leadbaton.pipeline.followup import viewer_of
from leadbaton.routing.availability import Eligibility


def lead_reassign(
    *, lead_id: int, by: User, reason: str, now: datetime, to_rep_id: int | None = None, to_team_id: int | None = None
) -> Lead:
    """Give a lead to another rep, or back to a team's queue, as a manager decided. One transaction, one handoff.

    Refuses with NotAllowed when `by` does not manage the lead's team or the one it goes to, and with
    Invalid for a request that cannot be carried out as asked (no reason, no target, a closed lead).
    """
    if not reason.strip():
        raise Invalid.one("reason", "is required: say why the lead changes hands (it is kept in the ledger)")
    if (to_rep_id is None) == (to_team_id is None):
        raise Invalid.one("to", "name either a rep (to_rep) or a team whose queue takes the lead (to_team)")
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).select_related("owner_team", "owner_rep").get(pk=lead_id)
        if lead.stage not in OPEN_STAGES:
            raise Invalid.one("stage", f"the lead is {lead.get_stage_display().lower()}; only open leads change hands")
        _check_may_manage(by, _team_of(lead), what="this lead")
        if to_rep_id is not None:
            profile = RepProfile.objects.select_related("user", "team").filter(user_id=to_rep_id).first()
            if profile is None or not profile.user.is_active:
                raise Invalid.one("to_rep", f"user {to_rep_id} is not an active rep")
            _check_may_manage(by, profile.team, what=f"{profile.user.display_name}'s team")
            owner, handoff_reason, rep = Owner.rep(profile.user_id, profile.team_id), Handoff.Reason.REASSIGNED, profile.user
            stage = Stage.IN_PROGRESS if lead.stage == Stage.IN_PROGRESS else Stage.ASSIGNED
        else:
            team = Team.objects.filter(pk=to_team_id or 0, active=True).first()
            if team is None:
                raise Invalid.one("to_team", f"team {to_team_id} is not an active team")
            _check_may_manage(by, team, what=f"the {team.name} queue")
            owner, handoff_reason, rep, stage = Owner.team(team.pk), Handoff.Reason.RETURNED, None, Stage.QUEUED
        if lead.owner == owner:
            raise Invalid.one("to", "the lead is already theirs")
        leads.lead_set_stage(lead=lead, stage=stage, now=now)
        leads.lead_set_owner(lead=lead, to=owner, at=now, reason=handoff_reason, note=reason.strip(), rule="by hand", by_user_id=by.pk)
        lead.owner_rep = rep
        if rep is not None:
            lead_announce(lead=lead, events=[Event.LEAD_REASSIGNED], now=now)
        else:
            transaction.on_commit(work_queued)
    return lead


def rep_leads_return(*, rep: User, why: str, now: datetime, by: User | None = None) -> int:
    """Send every open lead of a rep back to their team's queue (say, they left). Returns how many.

    Call inside the transaction that deactivates them, so nothing stays with someone who has left.
    """
    profile = RepProfile.objects.filter(user=rep).first()
    returned = 0
    for lead in Lead.objects.select_for_update(of=("self",)).filter(owner_kind=OwnerKind.REP, owner_rep=rep, stage__in=OPEN_STAGES):
        team_id = profile.team_id if profile is not None else lead.owner_team_id
        if team_id is None:
            owner, stage = Owner.marketing(), Stage.NURTURE
        else:
            owner, stage = Owner.team(team_id), Stage.QUEUED
        leads.lead_set_stage(lead=lead, stage=stage, now=now)
        leads.lead_set_owner(lead=lead, to=owner, at=now, reason=Handoff.Reason.RETURNED, note=why, rule="owner left",
                             by_user_id=by.pk if by else None)
        returned += 1
    if returned:
        transaction.on_commit(work_queued)
    return returned


def _team_of(lead: Lead) -> Team | None:
    if lead.owner_team is not None:
        return lead.owner_team
    if lead.owner_rep_id is not None:
        profile = RepProfile.objects.select_related("team").filter(user_id=lead.owner_rep_id).first()
        return profile.team if profile else None
    return None


def _check_may_manage(user: User, team: Team | None, *, what: str) -> None:
    if user.is_superuser or user.role == Role.ADMIN:
        return
    if user.role == Role.MANAGER and team is not None and team.manager_id == user.pk:
        return
    if user.role == Role.MANAGER:
        raise NotAllowed.one("to", f"you do not manage {what}; its manager or an admin can")
    raise NotAllowed.one("role", f"only managers and admins change who owns a lead; you are {Role(user.role).label.lower()}")


def reps_seen_by(*, by: User, team_id: int | None, reps: list[Eligibility]) -> list[dict[str, Any]]:
    """Each rep of the team routing would pick for a lead (routing explain), as `by` may see them.

    Admins, marketing and the team's manager see every rep with every reason. A manager of another
    team sees none: that team's people are not theirs to read. A rep sees their teammates, but a
    pause's own words ("paused (sick leave)") only on their own line.
    """
    viewer = viewer_of(by)
    if viewer.role in (ADMIN, MARKETING) or (team_id is not None and team_id in viewer.managed_team_ids):
        return [check.as_dict() for check in reps]
    if viewer.role != REP:
        return []
    shown = []
    for check in reps:
        line = check.as_dict()
        if check.rep_id != viewer.user_id:
            line["reasons"] = ["paused" if reason.startswith("paused (") else reason for reason in check.reasons]
        shown.append(line)
    return shown
