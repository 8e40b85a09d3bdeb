"""Changing a team and its service levels from the settings pages or the API.

A team's name, time zone and overflow threshold: an admin, or the team's manager. Who manages it and which team
is the default: admins. Service levels: the organisation's (`default`) an admin, a team's own an admin or its
manager. Values are read by the organisation file's own reader (core.values) and sla.services.policy_set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from leadbaton.accounts import services as accounts
from leadbaton.accounts.models import Role, Team, User
from leadbaton.core.models import config_lock
from leadbaton.core.refusals import Invalid, NotAllowed, NotFound
from leadbaton.core.values import Entry, entry_errors, slug_read, time_zone_read
from leadbaton.pipeline.ownership import may_manage, may_manage_teams_check
from leadbaton.sla.models import SlaPolicy
from leadbaton.sla.services import policy_set

TEAM_SETTINGS = ("name", "time_zone", "overflow_nurture_below", "manager", "default")
ADMIN_ONLY = ("manager", "default")
OVERFLOW_HINT = "a score such as 60: when nobody can take a lead, one scoring below it goes to nurture (empty: every lead waits)"


def team_settings_change(*, slug: str, by: User, values: dict[str, Any], now: datetime) -> tuple[Team, list[str]]:
    """Set the given keys of a team (TEAM_SETTINGS; others stay). Returns the team and the fields that changed.

    `manager`: the email of an active manager or admin, or None for none; `default`: true makes it the default team
    (the one before stops being it). Refuses with NotAllowed, NotFound (a team `by` does not manage) or Invalid.
    """
    may_manage_teams_check(by, doing="change teams")
    admin = by.is_superuser or by.role == Role.ADMIN
    if not admin and (named := [key for key in ADMIN_ONLY if key in values]):
        raise NotAllowed.one(named[0], "only an admin names a team's manager or its default team")
    problems: list[str] = []
    entry = Entry(values, "", TEAM_SETTINGS, problems, "a team's settings")
    wanted: dict[str, Any] = {}
    if "name" in values:
        wanted["name"] = entry.text("name", hint="the name people see, such as EMEA", required=True)
    if "time_zone" in values:
        wanted["time_zone"] = time_zone_read(entry, "time_zone", required=True)
    if "overflow_nurture_below" in values:
        wanted["overflow_nurture_below"] = entry.whole("overflow_nurture_below", hint=OVERFLOW_HINT, minimum=1, maximum=32767)
    email = entry.text("manager", hint="the email of a manager or admin", max_length=254) if "manager" in values else ""
    default = entry.flag("default", default=None) if "default" in values else None
    if problems:
        raise Invalid(entry_errors(problems))
    with transaction.atomic():
        config_lock()  # first, as every configuration writer: two admins making two teams the default queue, not collide
        team = Team.objects.select_for_update().filter(slug=slug).first()
        if team is None or not may_manage(by, [team]):
            raise NotFound.one("slug", f"there is no team {slug[:60]!r}{'' if admin else ' you manage'}")
        if "manager" in values:
            wanted["manager_id"] = _manager_id(email)
        if default is True and not team.is_default:
            if not team.active:
                raise Invalid.one("default", f"{team.name} is switched off: it routes nothing, so it cannot take the leads no rule matches")
            accounts.team_default_clear(keep_slug=team.slug)
            wanted["is_default"] = True
        elif default is False and team.is_default:
            raise Invalid.one("default", "a default team takes the leads no routing rule matches: make another team the default instead")
        changed = accounts.team_settings_set(team=team, values=wanted)
    return team, changed


def team_add(*, by: User, values: dict[str, Any], now: datetime) -> Team:
    """A new team (admins): `slug`, `name`, `time_zone`, and optionally `manager` (an email). Its queue takes leads once a
    routing rule sends it some or it is made the default team. Refuses with NotAllowed or Invalid naming each field."""
    if not (by.is_superuser or by.role == Role.ADMIN):
        raise NotAllowed.one("role", f"only admins add teams; you are {Role(by.role).label.lower()}")
    problems: list[str] = []
    entry = Entry(values, "", ("slug", "name", "time_zone", "manager"), problems, "a team")
    slug = slug_read(entry, "slug")
    name = entry.text("name", hint="the name people see, such as EMEA", required=True)
    zone = time_zone_read(entry, "time_zone", required=True)
    email = entry.text("manager", hint="the email of a manager or admin", max_length=254)
    if slug and Team.objects.filter(slug=slug).exists():
        entry.fail("slug", f"{slug!r} is the slug of a team already (switched off ones too); choose another")
    if problems:
        raise Invalid(entry_errors(problems))
    try:
        with transaction.atomic():
            return accounts.team_create(slug=slug, name=name, time_zone=zone, manager_id=_manager_id(email))
    except IntegrityError:  # the same slug at the same moment
        raise Invalid.one("slug", f"{slug!r} is the slug of a team already; choose another") from None


def _manager_id(email: str) -> int | None:
    if not email:
        return None
    manager = User.objects.filter(email__iexact=email, is_active=True, role__in=(Role.MANAGER, Role.ADMIN)).first()
    if manager is None:
        choices = User.objects.filter(is_active=True, role__in=(Role.MANAGER, Role.ADMIN)).order_by("email").values_list("email", flat=True)
        raise Invalid.one("manager", f"{email[:254]!r} is not an active manager or admin; use one of: {', '.join(choices[:20]) or 'none'}")
    return manager.pk


def policy_change(*, scope: str, by: User, values: dict[str, Any], now: datetime) -> SlaPolicy:
    """Set a service-level policy: `default` the organisation's (admins), a team's slug that team's own (admins and its
    manager). Values left out are the product's defaults (the organisation's) or the organisation's (a team's).
    Applies to clocks started from now on. Refuses with NotAllowed, NotFound or Invalid naming each field.
    """
    admin = by.is_superuser or by.role == Role.ADMIN
    if not admin and by.role != Role.MANAGER:
        raise NotAllowed.one("role", f"only admins and managers set service levels; you are {Role(by.role).label.lower()}")
    team = None
    with transaction.atomic():
        if scope != "default":
            team = Team.objects.filter(slug=scope, active=True).first()
            if team is None:
                raise NotFound.one("scope", f"{scope[:60]!r} is neither default nor the slug of an active team")
            if not admin and team.manager_id != by.pk:
                raise NotAllowed.one("role", f"only an admin or the manager of {team.name} sets its service levels")
        elif not admin:
            raise NotAllowed.one("role", "only an admin sets the organisation's service levels; a manager sets their own team's "
                                         "(PUT /api/v1/sla/policies/TEAM)")
        return policy_set(team=team, values=values, now=now)
