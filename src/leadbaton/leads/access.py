"""Who may read a lead and who may work it (log touches, record outcomes). Pure: no queries.

- admin: every lead, read and work;
- marketing: reads every lead, works none (the owner does);
- manager: the leads of the teams they manage: queued for such a team, or
  owned by a rep on one (the rep's team now, or the team that routed it);
- rep: the leads they own (read and work), and their own team's queue (read only).

Whoever owns a lead may work it, whatever their role.

A lead someone may not read is, to them, a lead that does not exist: the reason
for such a refusal names nobody (not the owner, not the team), and delivery
answers it exactly as it answers an id no lead has. A lead someone may read but
not work gets a reason that names only what they can read anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from leadbaton.leads.models import Lead, OwnerKind

# Role values, as accounts.Role spells them (leads may not import accounts).
ADMIN, MARKETING, MANAGER, REP = "admin", "marketing", "manager", "rep"

# What a lead must have loaded for lead_access (see leads.queries.lead_with_owner).
OWNER_RELATED = ("owner_team", "owner_rep__rep__team")


@dataclass(frozen=True)
class Viewer:
    """The caller as access sees them: who, in which role, on which team, managing which teams."""

    user_id: int
    role: str
    own_team_id: int | None = None
    managed_team_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Access:
    """What a viewer may do with one lead; when not, `field` and `reason` say why (the 403's error)."""

    read: bool
    work: bool
    field: str = ""
    reason: str = ""

    @classmethod
    def full(cls) -> Access:
        return cls(read=True, work=True)


def lead_access(viewer: Viewer, lead: Lead) -> Access:
    """May `viewer` read and work `lead`? The lead's owner team and owner rep (with their profile's team) must be loaded."""
    if viewer.role == ADMIN or (lead.owner_kind == OwnerKind.REP and lead.owner_rep_id == viewer.user_id):
        return Access.full()
    holder = _holder(lead)
    if viewer.role == MARKETING:
        return Access(read=True, work=False, field="role",
                      reason=f"marketing reads leads but cannot log touches or outcomes; {holder} works this lead")
    if viewer.role == MANAGER:
        if _teams_of(lead) & viewer.managed_team_ids:
            return Access.full()
        return Access(read=False, work=False, field="owner", reason="managers can only see the leads of teams they manage")
    queued_here = lead.owner_kind == OwnerKind.TEAM and viewer.own_team_id is not None and lead.owner_team_id == viewer.own_team_id
    if queued_here:
        return Access(read=True, work=False, field="owner",
                      reason=f"this lead waits in {holder}; reps can only work their own leads (a manager can assign it)")
    return Access(read=False, work=False, field="owner", reason="reps can only see their own leads and their team's queue")


def readable_leads(viewer: Viewer, *, via: str = "") -> Q:
    """The leads `viewer` may read, as a filter: the same answer as lead_access(...).read, for lists and counts.

    `via` is the path to the lead from the rows filtered ("lead__" for submissions). No query of its own.
    """
    if viewer.role in (ADMIN, MARKETING):
        return Q()
    own = Q(**{f"{via}owner_kind": OwnerKind.REP, f"{via}owner_rep_id": viewer.user_id})
    if viewer.role == MANAGER:
        teams = sorted(viewer.managed_team_ids)
        return (own | Q(**{f"{via}owner_team_id__in": teams})
                | Q(**{f"{via}owner_kind": OwnerKind.REP, f"{via}owner_rep__rep__team_id__in": teams}))
    if viewer.own_team_id is None:
        return own
    return own | Q(**{f"{via}owner_kind": OwnerKind.TEAM, f"{via}owner_team_id": viewer.own_team_id})


def _teams_of(lead: Lead) -> set[int]:
    teams = {lead.owner_team_id} if lead.owner_team_id else set()
    profile = _profile(lead)
    if profile is not None:
        teams.add(profile.team_id)
    return teams


def _profile(lead: Lead) -> Any:
    """The owner rep's RepProfile (loaded with the lead), or None for a lead without one."""
    rep = lead.owner_rep if lead.owner_kind == OwnerKind.REP else None
    return getattr(rep, "rep", None) if rep is not None else None


def _holder(lead: Lead) -> str:
    """Who holds the lead, in words: 'Jonas Berg of EMEA', 'the EMEA queue', 'the marketing queue'."""
    if lead.owner_kind == OwnerKind.REP and lead.owner_rep is not None:
        profile = _profile(lead)
        team = profile.team if profile is not None else lead.owner_team
        return f"{lead.owner_rep.display_name} of {team.name}" if team is not None else lead.owner_rep.display_name
    if lead.owner_kind == OwnerKind.TEAM and lead.owner_team is not None:
        return f"the {lead.owner_team.name} queue"
    return "the marketing queue"


def submissions_readable(viewer: Viewer) -> Q | None:
    """The stored submissions `viewer` may read, as a filter; None when their role may not read the log at all.

    A submission holds what the person sent (name, email, message), so it is read like its lead:
    admins and marketing read every one (those without a lead too); a manager those whose lead they
    may read; a rep none (their leads show what the person asked).
    """
    if viewer.role in (ADMIN, MARKETING):
        return Q()
    if viewer.role == MANAGER:
        return readable_leads(viewer, via="lead__")
    return None
