"""People from the users page (admins): adding someone (they are sent a link to set their password), their name and
role, and switching an account off and on again. A rep's working hours and caps are on their own settings page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from leadbaton.accounts import services as accounts
from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.core.models import config_lock
from leadbaton.core.refusals import Invalid, NotAllowed, NotFound
from leadbaton.core.values import Entry, email_read, entry_errors
from leadbaton.pipeline.accounts import invitation_email
from leadbaton.pipeline.ownership import rep_deactivate, rep_profile_remove

PERSON_KEYS = ("email", "name", "role", "team")
ROLES = tuple(Role.values)
STARTING_HOURS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}  # a new rep's, until their page says


def person_add(*, by: User, values: dict[str, Any], link_for: Callable[[User], str], now: datetime) -> User:
    """Add a person with a role (a rep: of `team`, working mon-fri 09:00-17:00 in the team's zone until their settings say
    otherwise) and email them the link that sets their first password. Refuses with NotAllowed or Invalid naming each field."""
    _admin_only(by)
    problems: list[str] = []
    entry = Entry(values, "", PERSON_KEYS, problems, "a person")
    email = email_read(entry, "email", entry.text("email", hint="an email address", required=True, max_length=254))
    name = " ".join(entry.text("name", hint="the person's name", required=True).split())  # one line: it heads emails
    role = entry.choice("role", ROLES, required=True)
    slug = entry.text("team", hint="the slug of the team they sell for", max_length=60) if role == Role.REP else ""
    if role == Role.REP and not slug:
        entry.fail("team", "is required for a rep: the team they sell for")
    if email and User.objects.filter(email__iexact=email).exists():
        entry.fail("email", f"{email!r} already has an account; find them in the list (switched off ones too)")
    if problems:
        raise Invalid(entry_errors(problems))
    try:
        with transaction.atomic():
            config_lock()  # first, as every configuration writer: the team is not switched off while the rep is added
            team = _team(slug) if role == Role.REP else None
            user = accounts.user_create(email=email, name=name, role=role)
            if team is not None:
                accounts.rep_configure(user=user, team=team, time_zone=team.time_zone, country="", hours=STARTING_HOURS, routing_weight=1,
                                       daily_cap=None, open_ceiling=None, paused=None)
            invitation_email(user=user, link=link_for(user), by=by, now=now)
    except IntegrityError:  # the same address added at the same moment
        raise Invalid.one("email", f"{email!r} already has an account") from None
    return user


def person_change(*, by: User, user_id: int, values: dict[str, Any], now: datetime) -> tuple[User, list[str]]:
    """Set a person's name and role. Made a rep: of `team`; no longer a rep: their open leads go back to their team's queue."""
    _admin_only(by)
    problems: list[str] = []
    entry = Entry(values, "", ("name", "role", "team"), problems, "a person")
    name = " ".join(entry.text("name", hint="the person's name", required=True).split())
    role = entry.choice("role", ROLES, required=True)
    slug = entry.text("team", hint="the slug of the team they sell for", max_length=60) if role == Role.REP else ""
    if problems:
        raise Invalid(entry_errors(problems))
    with transaction.atomic():
        config_lock()
        user = _person(user_id, by)
        if user.pk == by.pk and role != user.role:
            raise NotAllowed.one("role", "you cannot change your own role; another admin can")
        if role not in (Role.MANAGER, Role.ADMIN) and (runs := list(Team.objects.filter(manager=user).order_by("name"))):
            names = ", ".join(team.name for team in runs)
            raise Invalid.one("role", f"{user.display_name} manages {names}: choose its new manager on its team settings first")
        profile = RepProfile.objects.filter(user=user).first()
        changed = accounts.user_set(user=user, name=name, role=role)
        if role == Role.REP and profile is None:
            if not slug:
                raise Invalid.one("team", "is required to make someone a rep: the team they sell for")
            team = _team(slug)
            accounts.rep_configure(user=user, team=team, time_zone=team.time_zone, country="", hours=STARTING_HOURS, routing_weight=1,
                                   daily_cap=None, open_ceiling=None, paused=None)
        elif role == Role.REP and profile is not None and slug and slug != profile.team.slug:
            changed += accounts.rep_settings_set(profile=profile, values={"team_id": _team(slug).pk})
        elif role != Role.REP and profile is not None:
            rep_profile_remove(profile=profile, by=by, now=now)
    return user, changed


def person_switch_off(*, by: User, user_id: int, why: str, now: datetime) -> tuple[User, int]:
    """They can no longer sign in; any open leads of theirs go back to their team's queue. Returns how many leads."""
    _admin_only(by)
    reason = " ".join(why.split())
    if not reason:
        raise Invalid.one("reason", "is required: say why, such as 'left the company' (their leads' handoffs record it)")
    if len(reason) > 200:
        raise Invalid.one("reason", f"is {len(reason)} characters long; at most 200 fit")
    with transaction.atomic():
        user = _person(user_id, by)
        if user.pk == by.pk:
            raise NotAllowed.one("user_id", "you cannot switch off your own account; another admin can")
        return user, rep_deactivate(rep=user, by=by, why=reason, now=now)


def person_switch_on(*, by: User, user_id: int, now: datetime) -> User:
    _admin_only(by)
    with transaction.atomic():
        config_lock()
        user = _person(user_id, by)
        profile = RepProfile.objects.select_related("team").filter(user=user).first()
        if profile is not None and not profile.team.active:
            raise Invalid.one("team", f"{user.display_name} sells for {profile.team.name}, which is switched off: make them a rep of an "
                                      "active team on this page first, or switch the team on")
        accounts.user_activate(user=user)
    return user


def _person(user_id: int, by: User) -> User:
    """The person, locked with the admin acting (in id order, so two admins acting on each other queue, not deadlock),
    once the admin is read again: one demoted or switched off a moment ago by another admin changes nobody."""
    locked = {user.pk: user for user in User.objects.select_for_update().filter(pk__in=[user_id, by.pk]).order_by("pk")}
    actor = locked.get(by.pk)
    if actor is None or not actor.is_active or not (actor.is_superuser or actor.role == Role.ADMIN):
        raise NotAllowed.one("role", "you are no longer an admin; another admin changed that a moment ago")
    user = locked.get(user_id)
    if user is None:
        raise NotFound.one("user_id", f"there is no user {user_id}")
    return user


def _team(slug: str) -> Team:
    """The active team of `slug`, locked until the transaction ends (pipeline.teams.team_switch waits for it)."""
    team = Team.objects.select_for_update().filter(slug=slug, active=True).first()
    if team is None:
        teams = ", ".join(Team.objects.filter(active=True).order_by("slug").values_list("slug", flat=True))
        raise Invalid.one("team", f"{slug[:60]!r} is not an active team; use one of: {teams or 'none'}")
    return team


def _admin_only(by: User) -> None:
    if not (by.is_superuser or by.role == Role.ADMIN):
        raise NotAllowed.one("role", f"only admins add people and change their roles; you are {Role(by.role).label.lower()}")
