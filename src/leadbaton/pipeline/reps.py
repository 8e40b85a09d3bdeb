"""Changing a rep from the settings pages: working hours, time zone, country, team, routing weight, caps,
time off, and switching them off and on again.

Who may: an admin, or the manager of the rep's team (a team the rep moves to must be theirs too); another
team's reps are answered as no rep. Values are read by the organisation file's own reader (core.values),
so the page and the file accept the same things and say the same about what they refuse.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from leadbaton.accounts import services as accounts
from leadbaton.accounts.models import RepProfile, Role, Team, TimeOff, User
from leadbaton.core.models import config_lock
from leadbaton.core.refusals import Invalid, NotAllowed, NotFound
from leadbaton.core.values import (
    MAX_CAP,
    MAX_WEIGHT,
    WEIGHT_HINT,
    Entry,
    country_read,
    date_read,
    entry_errors,
    hours_read,
    time_zone_read,
)
from leadbaton.core.wakeup import work_queued
from leadbaton.pipeline.ownership import may_manage, may_manage_teams_check, rep_deactivate, rep_profile_locked

# The keys a rep has in the organisation file, and the profile field each sets.
REP_SETTINGS = {
    "team": "team_id", "time_zone": "time_zone", "country": "country", "hours": "hours",
    "weight": "routing_weight", "daily_cap": "daily_cap", "max_open": "open_ceiling",
}
TIME_OFF_KEYS = ("from", "to", "reason")
DEACTIVATE_REASON_MAX = 200


def rep_settings_change(*, rep_id: int, by: User | None, values: dict[str, Any], now: datetime) -> tuple[RepProfile, list[str]]:
    """Set the given keys of a rep's settings (REP_SETTINGS; others stay). Returns the profile and the fields that changed.

    `hours` is a line such as "mon-fri 09:00-17:30" or a list of them; `daily_cap` and `max_open` None for none.
    Refuses with Invalid (every problem, each naming its key), or NotFound for a rep `by` may not manage.
    """
    may_manage_teams_check(by, doing="change reps' settings")
    problems: list[str] = []
    entry = Entry(values, "", tuple(REP_SETTINGS), problems, "a rep's settings")
    wanted: dict[str, Any] = {}
    if "time_zone" in values:
        wanted["time_zone"] = time_zone_read(entry, "time_zone", required=True)
    if "country" in values:
        wanted["country"] = country_read(entry, "country", entry.text("country", hint="an ISO country code such as DE", max_length=10))
    if "hours" in values:
        wanted["hours"] = hours_read(entry)
    if "weight" in values:
        wanted["routing_weight"] = entry.whole("weight", hint=WEIGHT_HINT, minimum=1, maximum=MAX_WEIGHT, required=True)
    if "daily_cap" in values:
        wanted["daily_cap"] = entry.whole("daily_cap", hint="new leads a day, 1 or more (empty for no cap)", minimum=1, maximum=MAX_CAP)
    if "max_open" in values:
        wanted["open_ceiling"] = entry.whole("max_open", hint="open leads at most, 1 or more (empty for no ceiling)", minimum=1,
                                             maximum=MAX_CAP)
    slug = entry.text("team", hint="the slug of a team", max_length=60) if "team" in values else ""
    if "team" in values and not slug:
        entry.fail("team", "is required: the slug of a team")
    if problems:
        raise Invalid(entry_errors(problems))
    with transaction.atomic():
        config_lock()  # first, as every configuration writer (pipeline.teams.team_switch locks the team after it)
        profile = _profile_for_change(rep_id, by)
        if slug and slug != profile.team.slug:
            team = Team.objects.select_for_update().filter(slug=slug, active=True).first()
            if team is None or not may_manage(by, [team]):
                yours = [team.slug for team in Team.objects.filter(active=True).order_by("slug") if may_manage(by, [team])]
                raise Invalid.one("team", f"{slug!r} is not an active team {'you manage' if by and not may_manage(by, []) else ''}".rstrip()
                                  + f"; use one of: {', '.join(yours) or 'none'}")
            wanted["team_id"] = team.pk
        changed = accounts.rep_settings_set(profile=profile, values=wanted)
        if changed:
            transaction.on_commit(work_queued)  # more room, other hours or another team: a queue may have a lead for them
    return profile, changed


def rep_time_off_add(*, rep_id: int, by: User | None, values: dict[str, Any], now: datetime) -> TimeOff:
    """Add a period of time off (`from`, `to`: dates, the last day included; `reason`): routing gives the rep no lead on those days."""
    may_manage_teams_check(by, doing="change reps' time off")
    problems: list[str] = []
    entry = Entry(values, "", TIME_OFF_KEYS, problems, "a period of time off")
    starts_on, ends_on = date_read(entry, "from"), date_read(entry, "to")
    if starts_on and ends_on and ends_on < starts_on:
        entry.fail("to", f"{ends_on.isoformat()} is before from ({starts_on.isoformat()}); 'to' is the last day off")
    reason = entry.text("reason", hint="a short reason")
    if problems or starts_on is None or ends_on is None:  # date_read records a problem for anything but a date
        raise Invalid(entry_errors(problems))
    with transaction.atomic():
        profile = _profile_for_change(rep_id, by)
        today = now.astimezone(ZoneInfo(profile.time_zone)).date()
        if ends_on < today:
            raise Invalid.one("to", f"{ends_on.isoformat()} has passed (it is {today.isoformat()} for {profile.user.display_name}); "
                                    "time off is for today or days ahead")
        period = accounts.rep_time_off_add(rep=profile, starts_on=starts_on, ends_on=ends_on, reason=reason)
    return period


def rep_time_off_remove(*, rep_id: int, by: User | None, period_id: int, now: datetime) -> RepProfile:
    """Remove one period of the rep's time off; they may get leads on those days again."""
    may_manage_teams_check(by, doing="change reps' time off")
    with transaction.atomic():
        profile = _profile_for_change(rep_id, by)
        if not accounts.rep_time_off_remove(rep=profile, period_id=period_id):
            raise NotFound.one("period_id", f"{profile.user.display_name} has no time off {period_id}; it may have been removed already")
        transaction.on_commit(work_queued)
    return profile


def rep_switch_off(*, rep_id: int, by: User | None, why: str, now: datetime) -> tuple[RepProfile, int]:
    """Deactivate a rep who left: they can no longer sign in, and their open leads go back to their team's queue
    (pipeline.ownership.rep_deactivate). `why` is required and recorded on each lead's handoff. Returns how many leads went back."""
    may_manage_teams_check(by, doing="deactivate reps")
    reason = " ".join(why.split())
    if not reason:
        raise Invalid.one("reason", "is required: say why, such as 'left the company' (each of their leads' handoffs records it)")
    if len(reason) > DEACTIVATE_REASON_MAX:
        raise Invalid.one("reason", f"is {len(reason)} characters long; at most {DEACTIVATE_REASON_MAX} fit")
    with transaction.atomic():
        profile = _profile_for_change(rep_id, by)
        returned = rep_deactivate(rep=profile.user, by=by, why=reason, now=now)
    return profile, returned


def rep_switch_on(*, rep_id: int, by: User | None, now: datetime) -> RepProfile:
    """Let a deactivated rep sign in and be given leads again (their old leads stay where they went)."""
    may_manage_teams_check(by, doing="activate reps")
    with transaction.atomic():
        config_lock()
        profile = _profile_for_change(rep_id, by)
        if not profile.team.active:
            raise Invalid.one("team", f"{profile.team.name} is switched off: move {profile.user.display_name} to an active team first")
        if accounts.user_activate(user=profile.user):
            transaction.on_commit(work_queued)
    return profile


def _profile_for_change(rep_id: int, by: User | None) -> RepProfile:
    """The rep's profile, locked, if `by` may change it: an admin anyone's; a manager a rep's of a team they manage, but not
    their own nor that of someone whose role is not rep (an admin or manager who also sells), which only an admin changes."""
    profile = rep_profile_locked(rep_id, by)
    if by is None or by.is_superuser or by.role == Role.ADMIN:
        return profile
    if profile.user_id == by.pk:
        raise NotAllowed.one("rep_id", "an admin changes your own settings as a rep, not you")
    if profile.user.role != Role.REP:
        raise NotAllowed.one("rep_id", f"{profile.user.display_name} is {Role(profile.user.role).label.lower()} as well as a rep; an admin changes their settings")
    return profile


def time_off_ahead(profile: RepProfile, today: date) -> list[TimeOff]:
    """The rep's time off that has not ended by `today`, earliest first."""
    return list(profile.time_off.filter(ends_on__gte=today).order_by("starts_on", "ends_on"))
