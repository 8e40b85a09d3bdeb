"""Writes of the accounts capability: personal API tokens, users, teams, rep profiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.hashers import make_password

from leadbaton.accounts.models import ApiToken, RepProfile, Role, Team, TimeOff, User
from leadbaton.core.rows import fields_update
from leadbaton.core.tokens import secret_new


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def token_issue(*, user: User, name: str, now: datetime) -> IssuedToken:
    """A new personal API token. Its plaintext exists only in the return value."""
    secret = secret_new("pat")
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=secret.prefix, digest=secret.digest, created_at=now)
    return IssuedToken(token=token, plaintext=secret.plaintext)


def token_revoke(*, token: ApiToken, now: datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])


def admin_create(*, email: str, password: str, name: str = "") -> User:
    return User.objects.create_superuser(email, password, name=name, role=Role.ADMIN)


# Organisation as code: the writes `leadbaton config apply` makes. Each returns
# (row, created, changed field names) and writes nothing when nothing differs.


def user_configure(*, email: str, name: str, role: str) -> tuple[User, bool, list[str]]:
    """Create or update a user the organisation file describes; they become managed and active.

    A new user has an unusable password: they sign in once an admin sets one.
    Role admin makes a superuser (as `createadmin` does); any other role does not.
    """
    admin = role == Role.ADMIN
    values = {"name": name, "role": role, "is_active": True, "managed": True, "is_staff": admin, "is_superuser": admin}
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        return User.objects.create_user(email, None, **values), True, []
    return user, False, fields_update(user, values)


def user_create(*, email: str, name: str, role: str) -> User:
    """A person added on the users page (not managed by the organisation file), with no password yet: they set
    their first one from the link they are sent. Role admin makes a superuser, as `createadmin` does."""
    admin = role == Role.ADMIN
    return User.objects.create_user(email, None, name=name, role=role, is_staff=admin, is_superuser=admin)


def user_set(*, user: User, name: str, role: str) -> list[str]:
    """A person's name and role (admin: a superuser; any other role: not). Returns the fields changed."""
    admin = role == Role.ADMIN
    return fields_update(user, {"name": name, "role": role, "is_staff": admin, "is_superuser": admin})


def users_deactivate(*, roles: list[str], keep_emails: set[str]) -> list[User]:
    """Deactivate the managed users with these roles whose email is not kept. Never deletes: their leads stay theirs."""
    gone = [
        user
        for user in User.objects.filter(managed=True, is_active=True, role__in=roles).order_by("email")
        if user.email.lower() not in keep_emails
    ]
    User.objects.filter(pk__in=[user.pk for user in gone]).update(is_active=False)
    return gone


def user_deactivate(*, user: User) -> bool:
    """Stop a user signing in and being given work. True if they were active. Their leads are the caller's to hand back."""
    changed = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False) == 1
    user.is_active = False
    return changed


def users_password_set(*, users: list[User], password: str) -> None:
    """Give these users one password, hashed once (hashing is slow on purpose)."""
    User.objects.filter(pk__in=[user.pk for user in users]).update(password=make_password(password))


def team_configure(
    *, slug: str, name: str, time_zone: str, manager: User | None, is_default: bool, overflow_nurture_below: int | None = None,
    keep: frozenset[str] = frozenset(),
) -> tuple[Team, bool, list[str]]:
    """Create or update a team; it becomes managed and active. Clear any other default first (see team_default_clear).
    `keep`: the fields an existing team keeps as they are (the file does not name them: what a settings page set stays)."""
    values: dict[str, Any] = {
        "name": name, "time_zone": time_zone, "manager_id": manager.pk if manager else None,
        "is_default": is_default, "overflow_nurture_below": overflow_nurture_below, "active": True, "managed": True,
    }
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        return Team.objects.create(slug=slug, **values), True, []
    return team, False, fields_update(team, {name: value for name, value in values.items() if name not in keep})


def team_create(*, slug: str, name: str, time_zone: str, manager_id: int | None) -> Team:
    """A team added on the settings pages (not managed by the organisation file)."""
    return Team.objects.create(slug=slug, name=name, time_zone=time_zone, manager_id=manager_id)


def team_settings_set(*, team: Team, values: dict[str, Any]) -> list[str]:
    """Write fields of a team set on a settings page (name, time_zone, overflow_nurture_below, manager_id, is_default;
    clear any other default first). Returns the fields changed."""
    return fields_update(team, values)


def team_switch(*, team: Team, active: bool) -> list[str]:
    """Switch a team on or off from a settings page (off: not the default team either). Returns the fields changed."""
    return fields_update(team, {"active": True} if active else {"active": False, "is_default": False})


def team_default_clear(*, keep_slug: str) -> list[Team]:
    """Make no team but `keep_slug` the default, so that team can become it (one default team at most)."""
    cleared = list(Team.objects.filter(is_default=True).exclude(slug=keep_slug))
    Team.objects.filter(pk__in=[team.pk for team in cleared]).update(is_default=False)
    return cleared


def teams_deactivate(*, keep_slugs: set[str]) -> list[Team]:
    """Deactivate the managed teams not kept. Their queued leads stay where they are."""
    gone = list(Team.objects.filter(managed=True, active=True).exclude(slug__in=keep_slugs).order_by("slug"))
    Team.objects.filter(pk__in=[team.pk for team in gone]).update(active=False, is_default=False)
    return gone


def rep_configure(
    *,
    user: User,
    team: Team,
    time_zone: str,
    country: str,
    hours: dict[str, list[list[str]]],
    routing_weight: int,
    daily_cap: int | None,
    open_ceiling: int | None,
    paused: bool | None,
    keep: frozenset[str] = frozenset(),
) -> tuple[RepProfile, bool, list[str]]:
    """Create or update a rep's profile. `paused=None` keeps whatever pause the rep set in the app.

    `keep`: the fields an existing rep keeps as they are (the file does not name them, so what a settings
    page set stays); a new rep gets the values given for them.
    """
    values: dict[str, Any] = {
        "team_id": team.pk, "time_zone": time_zone, "country": country, "hours": hours,
        "routing_weight": routing_weight, "daily_cap": daily_cap, "open_ceiling": open_ceiling,
    }
    rep = RepProfile.objects.filter(user=user).first()
    if rep is None:
        return RepProfile.objects.create(user=user, paused=bool(paused), **values), True, []
    values = {name: value for name, value in values.items() if name not in keep}
    if paused is not None:
        values["paused"] = paused
        if not paused:
            values["pause_reason"] = ""
    return rep, False, fields_update(rep, values)


def rep_settings_set(*, profile: RepProfile, values: dict[str, Any]) -> list[str]:
    """Write fields of a rep's profile set on a settings page (team_id, time_zone, country, hours, routing_weight,
    daily_cap, open_ceiling). Returns the fields changed."""
    return fields_update(profile, values)


def user_activate(*, user: User) -> bool:
    """Let a deactivated user sign in and be given work again. True if they were inactive."""
    changed = User.objects.filter(pk=user.pk, is_active=False).update(is_active=True) == 1
    user.is_active = True
    return changed


def rep_time_off_add(*, rep: RepProfile, starts_on: date, ends_on: date, reason: str) -> TimeOff:
    return TimeOff.objects.create(rep=rep, starts_on=starts_on, ends_on=ends_on, reason=reason)


def rep_time_off_remove(*, rep: RepProfile, period_id: int) -> bool:
    """Remove one period of the rep's time off. True if there was one."""
    deleted, _ = TimeOff.objects.filter(rep=rep, pk=period_id).delete()
    return deleted > 0


def rep_pause_set(*, profile: RepProfile, paused: bool, reason: str = "") -> list[str]:
    """Pause a rep (routing gives them no new leads; `reason` says why) or let them take leads again. Returns the fields changed."""
    return fields_update(profile, {"paused": paused, "pause_reason": reason if paused else ""})


def rep_profile_delete(*, profile: RepProfile) -> None:
    """Make a user no longer a rep (their time off goes with the profile). Their leads are the caller's to hand back."""
    profile.delete()


def rep_time_off_replace(*, rep: RepProfile, periods: list[tuple[date, date, str]]) -> bool:
    """Make the rep's time off exactly these (first day, last day, reason) periods. True if anything changed."""
    current = list(rep.time_off.order_by("starts_on", "ends_on", "reason").values_list("starts_on", "ends_on", "reason"))
    wanted = sorted(periods)
    if current == wanted:
        return False
    rep.time_off.all().delete()
    TimeOff.objects.bulk_create(
        [TimeOff(rep=rep, starts_on=starts_on, ends_on=ends_on, reason=reason) for starts_on, ends_on, reason in wanted]
    )
    return True
