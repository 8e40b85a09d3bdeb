"""Whose sales reports a viewer may read: admins every team's and the organisation's, a manager their teams', a rep their
own; marketing none. The answer also says in which time zone the periods are counted: the team's, or for the
organisation the default team's.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadbaton.accounts.models import RepProfile, Team, User
from leadbaton.core.refusals import NotAllowed, NotFound
from leadbaton.leads.access import ADMIN, MANAGER, MARKETING, REP, Viewer
from leadbaton.leads.models import Holding


@dataclass(frozen=True)
class Scope:
    """A team (None: every team), narrowed to one rep (None: all of the team's), and the time zone periods are read in."""

    team: Team | None
    rep: User | None
    time_zone: str

    @property
    def title(self) -> str:
        place = self.team.name if self.team else "Every team"
        return f"{place}: {self.rep.display_name}" if self.rep else place


def teams_seen_by(viewer: Viewer) -> list[Team]:
    """The teams whose ledgers `viewer` may read, by name: every one for an admin, the ones they manage for a manager."""
    teams = Team.objects.order_by("name")
    if viewer.role == ADMIN:
        return list(teams)
    if viewer.role == MANAGER:
        return list(teams.filter(pk__in=viewer.managed_team_ids))
    return []


def sales_scope(viewer: Viewer, *, team: str = "", rep_id: int | None = None) -> Scope:
    """The scope of a sales report `viewer` asked for: `team` a slug ("" for the organisation, admins; a manager's first
    team), `rep_id` one rep. NotAllowed for marketing, for a rep asking about anyone else, for a manager outside their
    teams; NotFound for a team or rep that does not exist."""
    if viewer.role not in (ADMIN, MANAGER, REP):
        raise NotAllowed.one("role", "the reps' ledgers are for admins, sales managers (their teams) and reps (their own)")
    if viewer.role == REP and rep_id not in (None, viewer.user_id):
        raise NotAllowed.one("rep", "a rep reads their own reports only; leave rep out")
    if viewer.role == REP:
        rep_id = viewer.user_id
    seen = teams_seen_by(viewer)
    rep, rep_teams = None, []
    if rep_id is not None:  # someone who is no longer a rep may have held leads in the period: any person will do
        rep = User.objects.filter(pk=rep_id).first()
        rep_teams = _teams_of(rep, seen) if rep is not None and viewer.role == MANAGER else []
        if rep is None or (viewer.role == MANAGER and not rep_teams):  # another team's people are not a manager's to read
            raise NotFound.one("rep", f"no person {rep_id} in the teams you may read")
    chosen = None
    if team:
        chosen = next((each for each in Team.objects.filter(slug=team)), None)
        if chosen is None:
            raise NotFound.one("team", f"no team {team[:60]!r}; {_teams_named(seen)}")
        if viewer.role == REP and chosen.pk != viewer.own_team_id:
            raise NotAllowed.one("team", "a rep reads their own reports only, of their own team; leave team out")
        if viewer.role == MANAGER and chosen.pk not in viewer.managed_team_ids:
            raise NotAllowed.one("team", f"you do not manage {chosen.name}; {_teams_named(seen)}")
    elif viewer.role == MANAGER:
        if not seen:
            raise NotAllowed.one("team", "you manage no team yet; an admin names a team's manager")
        chosen = rep_teams[0] if rep_teams else seen[0]
    zone_of = chosen or _rep_team(rep) or Team.objects.filter(is_default=True).first()
    return Scope(chosen, rep, zone_of.time_zone if zone_of else "UTC")


def _teams_of(person: User, teams: list[Team]) -> list[Team]:
    """Of `teams`, those `person` sells for now or held a lead of, theirs now first."""
    held = set(Holding.objects.filter(rep_id=person.pk, team_id__in=[team.pk for team in teams]).values_list("team_id", flat=True).distinct())
    now = RepProfile.objects.filter(user_id=person.pk).values_list("team_id", flat=True).first()
    return sorted((team for team in teams if team.pk in held or team.pk == now), key=lambda team: team.pk != now)


def _rep_team(rep: User | None) -> Team | None:
    if rep is None:
        return None
    profile = RepProfile.objects.filter(user_id=rep.pk).select_related("team").first()
    return profile.team if profile else None


def _teams_named(teams: list[Team]) -> str:
    if not teams:
        return "you may read no team's reports"
    return "the teams you may read: " + ", ".join(team.slug for team in teams)


def team_scope(viewer: Viewer, *, team: str = "") -> Scope:
    """The scope of a report the whole team may see (the leaderboard): a rep their own team's, a manager their teams'
    (their first by name without `team`), an admin any team's or every team's. NotAllowed for marketing and for a rep
    of no team; NotFound for a team that does not exist."""
    if viewer.role == REP:
        own = Team.objects.filter(pk=viewer.own_team_id).first() if viewer.own_team_id else None
        if own is None:
            raise NotAllowed.one("team", "you are in no team yet; an admin puts reps in a team")
        if team and team != own.slug and not Team.objects.filter(slug=team).exists():
            raise NotFound.one("team", f"no team {team[:60]!r}; yours is {own.slug}")
        if team and team != own.slug:
            raise NotAllowed.one("team", f"a rep sees their own team's board only ({own.slug}); leave team out")
        return Scope(own, None, own.time_zone)
    return sales_scope(viewer, team=team)


def marketing_scope(viewer: Viewer, *, team: str = "") -> Scope:
    """The scope of marketing's report: the whole organisation, in the default team's time zone, for admins, marketing
    and managers (sales sees the targets marketing is measured against). NotAllowed for reps. `team` is not used."""
    if viewer.role not in (ADMIN, MARKETING, MANAGER):
        raise NotAllowed.one("role", "marketing's report is for admins, marketing and sales managers")
    default = Team.objects.filter(is_default=True).first()
    return Scope(None, None, default.time_zone if default else "UTC")
