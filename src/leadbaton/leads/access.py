"""Who may read a lead and who may work it (log touches, record outcomes). Pure: no queries.

- admin: every lead, read and work;
- marketing: reads every lead, works none (the owner does);
- manager: the leads of the teams they manage: queued for such a team, or
  owned by a rep on one (the rep's team now, or the team that routed it);
- rep: the leads they own (read and work), and their own team's queue (read only).

Whoever owns a lead may work it, whatever their role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        return Access(read=False, work=False, field="owner",
                      reason=f"this lead {_held(lead, holder)}; managers can only see the leads of teams they manage")
    queued_here = lead.owner_kind == OwnerKind.TEAM and viewer.own_team_id is not None and lead.owner_team_id == viewer.own_team_id
    if queued_here:
        return Access(read=True, work=False, field="owner",
                      reason=f"this lead waits in {holder}; reps can only work their own leads (a manager can assign it)")
    return Access(read=False, work=False, field="owner",
                  reason=f"this lead {_held(lead, holder)}; reps can only work their own leads and see their team's queue")


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


def _held(lead: Lead, holder: str) -> str:
    if lead.owner_kind == OwnerKind.REP:
        return f"is owned by {holder}"
    if lead.owner_kind == OwnerKind.TEAM:
        return f"waits in {holder}"
    return f"is with {holder}"
