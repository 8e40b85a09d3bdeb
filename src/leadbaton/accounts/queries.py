"""Reads of the accounts capability."""

from __future__ import annotations

from leadbaton.accounts.models import ApiToken, RepProfile, Team
from leadbaton.core.tokens import secret_matches, secret_prefix


def token_find(plaintext: str) -> ApiToken | None:
    """The live personal token with this plaintext, its user loaded; None if unknown, revoked or inactive."""
    prefix = secret_prefix(plaintext, "pat")
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True).first()
    if token is None or not secret_matches(plaintext, token.digest):
        return None
    return token


def teams_not_managed_by(user_id: int) -> list[str]:
    """The names of the active teams this user does not manage, by name. One query."""
    return list(Team.objects.filter(active=True).exclude(manager_id=user_id).order_by("name").values_list("name", flat=True))


def time_zone_of(user_id: int, default: str) -> str:
    """The time zone a person reads times in: a rep's own, else that of a team they manage, else `default`. One or two queries."""
    own = RepProfile.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
    if own:
        return own
    managed = Team.objects.filter(manager_id=user_id).order_by("name").values_list("time_zone", flat=True).first()
    return managed or default


def teams_by_id(team_ids: set[int]) -> list[Team]:
    """These teams, by id. One query (none for no ids)."""
    return list(Team.objects.filter(pk__in=team_ids).order_by("pk")) if team_ids else []


def team_ids_of(user_id: int) -> tuple[int | None, frozenset[int]]:
    """The team a person sells for (None: they are no rep) and the teams they manage, whatever their role. Two small queries."""
    own = RepProfile.objects.filter(user_id=user_id).values_list("team_id", flat=True).first()
    return own, frozenset(Team.objects.filter(manager_id=user_id).values_list("pk", flat=True))


def rep_time_zones(team_id: int) -> dict[int, str]:
    """Each rep of the team (user id) and the time zone of their working day. One query."""
    return dict(RepProfile.objects.filter(team_id=team_id).values_list("user_id", "time_zone"))
