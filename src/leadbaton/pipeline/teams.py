"""Changing a team and its service levels from the settings pages or the API.

A team's name, time zone and overflow threshold: an admin, or the team's manager. Who manages it and which team
is the default: admins. Service levels: the organisation's (`default`) an admin, a team's own an admin or its
manager. Values are read by the organisation file's own reader (core.values) and sla.services.policy_set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from leadbaton.accounts import services as accounts
from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.core.models import config_lock
from leadbaton.core.refusals import Invalid, NotAllowed, NotFound
from leadbaton.core.values import Entry, entry_errors, slug_read, time_zone_read
from leadbaton.leads.models import OwnerKind, Stage
from leadbaton.leads.queries import stage_counts
from leadbaton.pipeline.ownership import may_manage, may_manage_teams_check
from leadbaton.routing.queries import rules_active
from leadbaton.sla import services as sla_services
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


def team_switch(*, slug: str, by: User, on: bool, now: datetime) -> tuple[Team, bool]:
    """Switch a team on or off (admins). Off only once nothing depends on it: it is not the default team, no active rep
    sells for it, no open lead belongs to it (queued, or a rep's), and no active routing rule sends it leads; each that
    does is named with what to do first. Returns the team and whether it changed. Refuses with NotAllowed, NotFound or
    Invalid (`active`). People and reps are added to a team under the same lock (pipeline.people, pipeline.reps)."""
    if not (by.is_superuser or by.role == Role.ADMIN):
        raise NotAllowed.one("role", f"only admins switch teams on or off; you are {Role(by.role).label.lower()}")
    with transaction.atomic():
        config_lock()  # as every configuration writer: no rule or rep is added to the team while it is checked
        team = Team.objects.select_for_update().filter(slug=slug).first()
        if team is None:
            raise NotFound.one("slug", f"there is no team {slug[:60]!r}")
        if not on and team.active and (problems := _still_used(team)):
            raise Invalid([{"field": "active", "message": f"{team.name} cannot be switched off yet: {problem}"} for problem in problems])
        changed = accounts.team_switch(team=team, active=on)
    return team, bool(changed)


def _still_used(team: Team) -> list[str]:
    """What keeps a team from being switched off, each with what to do first."""
    problems = []
    if team.is_default:
        problems.append("it is the default team, which takes the leads no routing rule matches; make another team the default first")
    reps = list(RepProfile.objects.filter(team=team, user__is_active=True).order_by("user__name").values_list("user__name", "user__email"))
    if reps:
        names = ", ".join(name or email for name, email in reps[:5]) + (f" and {len(reps) - 5} more" if len(reps) > 5 else "")
        problems.append(f"{len(reps)} active rep{'s' if len(reps) != 1 else ''} sell{'' if len(reps) != 1 else 's'} for it ({names}); "
                        "move them to another team on their settings pages or switch them off first")
    held = stage_counts(Q(owner_kind=OwnerKind.REP, owner_team_id=team.pk))
    if opened := held[Stage.ASSIGNED] + held[Stage.IN_PROGRESS]:  # a breach or a return would send them back to its queue
        problems.append(f"{opened} open lead{'s' if opened != 1 else ''} of reps still belong{'' if opened != 1 else 's'} to it "
                        "(a breach or a return sends them back to its queue); reassign them from its board first")
    queued = stage_counts(Q(owner_kind=OwnerKind.TEAM, owner_team_id=team.pk))[Stage.QUEUED]
    if queued:
        problems.append(f"{queued} lead{'s' if queued != 1 else ''} wait{'' if queued != 1 else 's'} in its queue; "
                        "assign or move them from its board first")
    rules = [rule.name for rule in rules_active() if rule.team_id == team.pk]
    if rules:
        problems.append(f"the routing rule{'s' if len(rules) != 1 else ''} {', '.join(rules)} send{'' if len(rules) != 1 else 's'} it leads; "
                        "change the routing rules first")
    return problems


def policy_drop(*, scope: str, by: User, now: datetime) -> Team:
    """The team named by `scope` follows the organisation's service levels again (admins and its manager): clocks started
    from now on run to them; running clocks keep theirs. Refuses with NotAllowed, NotFound or Invalid (`scope`)."""
    admin = by.is_superuser or by.role == Role.ADMIN
    if not admin and by.role != Role.MANAGER:
        raise NotAllowed.one("role", f"only admins and managers set service levels; you are {Role(by.role).label.lower()}")
    if scope == "default":
        raise Invalid.one("scope", "the organisation's service levels are what every team without its own follows: change them instead")
    with transaction.atomic():
        config_lock()
        team = Team.objects.filter(slug=scope, active=True).first()
        if team is None:
            raise NotFound.one("scope", f"{scope[:60]!r} is not the slug of an active team")
        if not admin and team.manager_id != by.pk:
            raise NotAllowed.one("role", f"only an admin or the manager of {team.name} sets its service levels")
        sla_services.team_policy_drop(team=team)
    return team


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
