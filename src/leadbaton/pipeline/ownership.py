"""Changing who answers for a lead by hand, and taking leads back from reps who leave.

Every change is a handoff row with who did it and why, written in the same
transaction as the change; the new owner is told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from leadbaton.accounts import services as accounts
from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed, NotFound
from leadbaton.core.wakeup import work_queued
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.access import ADMIN, MARKETING, REP, lead_access
from leadbaton.leads.models import OPEN_STAGES, Handoff, Lead, Owner, OwnerKind, Stage
from leadbaton.notify.models import Event
from leadbaton.pipeline.announce import handover_announce, lead_announce
from leadbaton.pipeline.clocks import clocks_follow_owner
from leadbaton.pipeline.followup import lead_unseen, viewer_of
from leadbaton.routing.availability import Eligibility

REASON_MAX = 500  # what a handoff's note keeps


def lead_reassign(
    *, lead_id: int, by: User, reason: str, now: datetime, to_rep_id: int | None = None, to_team_id: int | None = None,
    if_owner: str = "", one_of_many: bool = False,
) -> Lead:
    """Give a lead to another rep, or back to a team's queue, as a manager decided. One transaction, one handoff.

    `if_owner` (Lead.owner_key, such as "team:3"): only if the lead is still where the person deciding saw it;
    else Conflict, so a lead the queue handed out (or a rep took) a moment ago is not taken from its new owner.
    `one_of_many`: the new rep is told in the app only; the caller moving many sends one email for all (leads_handed_over).

    Refuses, in this order: NotFound for a lead `by` may not read (as for no lead); NotAllowed when `by` does not
    manage a team of the lead; Invalid for a closed lead; Conflict when it changed hands since `if_owner`; Invalid
    for no target, no reason, or a rep or team `by` cannot give it to (one that does not exist and one of a team they
    do not manage are answered alike: another team's people are not theirs to read).
    """
    viewer = viewer_of(by)
    with transaction.atomic():
        lead = lead_queries.lead_with_owner(lead_id, lock=True)
        if lead is None or not lead_access(viewer, lead).read:
            raise lead_unseen()
        _check_may_manage(by, _teams_of(lead), what="this lead")
        if lead.stage not in OPEN_STAGES:
            raise Invalid.one("stage", f"the lead is {lead.get_stage_display().lower()}; only open leads change hands")
        if if_owner and lead.owner_key != if_owner:
            raise Conflict.one("owner", f"the lead changed hands a moment ago: it is now with {_holder_of(lead)}; look again before moving it")
        if (to_rep_id is None) == (to_team_id is None):
            raise Invalid.one("to", "name either a rep (to_rep) or a team whose queue takes the lead (to_team)")
        if not reason.strip():
            raise Invalid.one("reason", "is required: say why the lead changes hands (it is kept in the ledger)")
        if len(reason.strip()) > REASON_MAX:
            raise Invalid.one("reason", f"is {len(reason.strip())} characters long; at most {REASON_MAX} fit")
        if to_rep_id is not None:
            profile = RepProfile.objects.select_related("user", "team").filter(user_id=to_rep_id).first()
            if profile is None or not profile.user.is_active or not may_manage(by, [profile.team]):
                raise Invalid.one("to_rep", f"user {to_rep_id} is not an active rep{_of_your_teams(by)}")
            owner, handoff_reason, rep = Owner.rep(profile.user_id, profile.team_id), Handoff.Reason.REASSIGNED, profile.user
            stage = Stage.IN_PROGRESS if lead.stage == Stage.IN_PROGRESS else Stage.ASSIGNED
        else:
            team = Team.objects.filter(pk=to_team_id or 0, active=True).first()
            if team is None or not may_manage(by, [team]):
                raise Invalid.one("to_team", f"team {to_team_id} is not an active team{'' if may_manage(by, []) else ' you manage'}")
            owner, handoff_reason, rep, stage = Owner.team(team.pk), Handoff.Reason.RETURNED, None, Stage.QUEUED
        if lead.owner == owner:
            raise Invalid.one("to", "the lead is already theirs")
        leads.lead_set_stage(lead=lead, stage=stage, now=now)
        leads.lead_set_owner(lead=lead, to=owner, at=now, reason=handoff_reason, note=reason.strip(), rule="by hand", by_user_id=by.pk)
        lead.owner_rep = rep
        clocks_follow_owner(lead, now=now, why=f"reassigned by hand: {reason.strip()}")
        if rep is not None:
            lead_announce(lead=lead, events=[Event.LEAD_REASSIGNED], now=now, in_app_only=one_of_many)
        else:
            transaction.on_commit(work_queued)
    return lead


def leads_handed_over(*, leads: list[Lead], by: User, reason: str, now: datetime) -> None:
    """After many leads moved to one rep with `one_of_many`: one email and one chat message to them for all."""
    rep = leads[0].owner_rep if leads and leads[0].owner_kind == OwnerKind.REP else None
    if rep is None:
        return
    with transaction.atomic():
        handover_announce(rep=rep, leads=leads, by=by, reason=reason.strip(), now=now)


def move_targets(*, lead: Lead, by: User) -> tuple[list[RepProfile], list[Team]]:
    """Where `by` may move the lead by hand (lead_reassign): the active reps and the queues of the teams they manage (all of
    them for an admin); nothing when they may not move it (not an admin or a manager of one of its teams, or it is closed)."""
    if lead.stage not in OPEN_STAGES or not (by.is_superuser or by.role in (Role.ADMIN, Role.MANAGER)) or not may_manage(by, _teams_of(lead)):
        return [], []
    teams = Team.objects.filter(active=True).order_by("name")
    if not may_manage(by, []):
        teams = teams.filter(manager=by)
    reps = RepProfile.objects.select_related("user", "team").filter(team__in=teams, user__is_active=True).order_by("user__name", "user__email")
    return list(reps), list(teams)


def rep_deactivate(*, rep: User, by: User | None, why: str, now: datetime) -> int:
    """Deactivate a user and send their open leads back to their team's queue, in one transaction. Returns how many leads.

    Every way a person is switched off ends here: the organisation file, the admin, and the periodic
    check that finds leads of users deactivated any other way (a shell, an SQL UPDATE) or assigned to
    them by a routing that read them as active just before they were switched off. Idempotent: for
    someone already inactive it only returns what is still theirs. Queued leads go out again through
    the normal queue hand-out (pipeline.queue), which never picks an inactive user.
    """
    who = f"{rep.display_name} was deactivated" + (f" by {by.display_name}" if by is not None else "")
    with transaction.atomic():
        accounts.user_deactivate(user=rep)
        return _leads_return(rep=rep, team_id=_rep_team_id(rep), note=f"{who}: {why}", rule="rep deactivated", by=by, now=now)


def rep_profile_remove(*, profile: RepProfile, by: User | None, now: datetime) -> int:
    """The user is no longer a rep: their open leads go back to the profile's team queue, then the profile goes. Returns how many leads.

    They stay a user (they may now be a manager); routing can no longer pick them.
    """
    by_whom = f" by {by.display_name}" if by is not None else ""
    with transaction.atomic():
        returned = _leads_return(
            rep=profile.user, team_id=profile.team_id, note=f"{profile.user.display_name} is no longer a rep (profile deleted{by_whom})",
            rule="rep profile deleted", by=by, now=now,
        )
        accounts.rep_profile_delete(profile=profile)
    return returned


def inactive_owners_return(*, now: datetime) -> int:
    """The safety net: give back every open lead whose owner is an inactive user, however they were switched off. Returns how many.

    Starts from the (few) inactive users and reads their open leads over the owner index, so a
    large open backlog costs nothing here. Each owner is one transaction (rep_deactivate).
    """
    inactive = User.objects.filter(is_active=False).values("pk")
    owner_ids = (
        Lead.objects.filter(owner_rep_id__in=inactive, owner_kind=OwnerKind.REP, stage__in=OPEN_STAGES)
        .values_list("owner_rep_id", flat=True).distinct()
    )
    returned = 0
    for rep in User.objects.filter(pk__in=list(owner_ids)).order_by("pk"):
        returned += rep_deactivate(rep=rep, by=None, why="they were found inactive with open leads", now=now)
    return returned


# Pausing by hand: a rep who is away, training or ill takes no new leads; their own leads stay theirs.

PAUSE_REASON_MAX = RepProfile._meta.get_field("pause_reason").max_length or 200


def rep_pause(*, rep_id: int, by: User | None, reason: str, now: datetime) -> RepProfile:
    """Pause a rep with a reason: routing passes them over (routing explain shows `paused (REASON)`) until resumed.

    `by`: an admin, or the manager of the rep's team; None is the operator at the command line.
    Pausing a paused rep again replaces the reason. Refuses with NotAllowed, NotFound (not a rep)
    or Invalid (no reason, or one too long to keep).
    """
    why = " ".join(reason.split())
    may_manage_teams_check(by, doing="pause and resume reps")
    if not why:
        raise Invalid.one("reason", "is required: say why the rep takes no new leads, such as training or sick leave (their manager sees it)")
    if len(why) > PAUSE_REASON_MAX:
        raise Invalid.one("reason", f"is {len(why)} characters long; at most {PAUSE_REASON_MAX} fit")
    with transaction.atomic():
        profile = rep_profile_locked(rep_id, by)
        accounts.rep_pause_set(profile=profile, paused=True, reason=why)
    return profile


def rep_resume(*, rep_id: int, by: User | None, now: datetime) -> RepProfile:
    """Let a paused rep take new leads again; their team's queue goes out to them within seconds. Resuming a rep who is not paused changes nothing.

    The same people may do it as may pause them (rep_pause).
    """
    may_manage_teams_check(by, doing="pause and resume reps")
    with transaction.atomic():
        profile = rep_profile_locked(rep_id, by)
        if accounts.rep_pause_set(profile=profile, paused=False):
            transaction.on_commit(work_queued)  # their team's queue may have leads for them
    return profile


def rep_profile_locked(rep_id: int, by: User | None) -> RepProfile:
    """The rep's profile, locked, if `by` may manage their team (None: the operator, who may); else NotFound, as for no rep."""
    profile = RepProfile.objects.select_for_update(of=("self",)).select_related("user", "team").filter(user_id=rep_id).first()
    if profile is None or not may_manage(by, [profile.team]):  # another team's people are not theirs to read
        raise NotFound.one("rep_id", f"there is no rep {rep_id}{_of_your_teams(by)}")
    return profile


def _rep_team_id(rep: User) -> int | None:
    return RepProfile.objects.filter(user=rep).values_list("team_id", flat=True).first()


def _leads_return(*, rep: User, team_id: int | None, note: str, rule: str, by: User | None, now: datetime) -> int:
    """Send every open lead of `rep` to `team_id`'s queue (None: the team each lead was routed in, else marketing). Returns how many.

    Call inside the transaction that makes them no longer able to work them; each lead's row is locked.
    """
    returned = 0
    mine = Lead.objects.select_for_update(of=("self",)).filter(owner_kind=OwnerKind.REP, owner_rep=rep, stage__in=OPEN_STAGES)
    for lead in mine.order_by("pk"):  # in id order, as the worker locks a batch's leads: no deadlock between the two
        queue_id = team_id if team_id is not None else lead.owner_team_id
        if queue_id is None:
            owner, stage = Owner.marketing(), Stage.NURTURE
        else:
            owner, stage = Owner.team(queue_id), Stage.QUEUED
        leads.lead_set_stage(lead=lead, stage=stage, now=now)
        leads.lead_set_owner(lead=lead, to=owner, at=now, reason=Handoff.Reason.RETURNED, note=note, rule=rule,
                             by_user_id=by.pk if by else None)
        clocks_follow_owner(lead, now=now, why=note)
        returned += 1
    if returned:
        transaction.on_commit(work_queued)
    return returned


def _teams_of(lead: Lead) -> list[Team]:
    """The teams a lead belongs to, as access reads it: the team it was routed in or waits for, and its rep's team now."""
    teams = [lead.owner_team] if lead.owner_team is not None else []
    if lead.owner_kind == OwnerKind.REP and lead.owner_rep_id is not None:
        profile = RepProfile.objects.select_related("team").filter(user_id=lead.owner_rep_id).first()
        if profile is not None and profile.team_id != lead.owner_team_id:
            teams.append(profile.team)
    return teams


def _holder_of(lead: Lead) -> str:
    if lead.owner_kind == OwnerKind.REP and lead.owner_rep is not None:
        return lead.owner_rep.display_name
    if lead.owner_kind == OwnerKind.TEAM and lead.owner_team is not None:
        return f"the {lead.owner_team.name} queue"
    return "marketing"


def may_manage(user: User | None, teams: list[Team]) -> bool:
    """An admin (or the operator, None) manages every team; a manager the ones they are the manager of."""
    if user is None or user.is_superuser or user.role == Role.ADMIN:
        return True
    return user.role == Role.MANAGER and any(team.manager_id == user.pk for team in teams)


def _of_your_teams(user: User | None) -> str:
    return "" if may_manage(user, []) else " of a team you manage"


def may_manage_teams_check(by: User | None, *, doing: str) -> None:
    """Refuse (NotAllowed) anyone but an admin or a manager, before anything is read: `doing` says what only they do."""
    if by is not None and not (by.is_superuser or by.role in (Role.ADMIN, Role.MANAGER)):
        _check_may_manage(by, [], what="", doing=doing)


def _check_may_manage(user: User, teams: list[Team], *, what: str, doing: str = "change who owns a lead", field: str = "to") -> None:
    if may_manage(user, teams):
        return
    if user.role == Role.MANAGER:
        raise NotAllowed.one(field, f"you do not manage {what}; its manager or an admin can")
    raise NotAllowed.one("role", f"only managers and admins {doing}; you are {Role(user.role).label.lower()}")


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
