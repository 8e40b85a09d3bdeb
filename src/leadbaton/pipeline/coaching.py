"""Weekly coaching (P6): a manager sets each rep of their teams 1 to 4 focus items for a week; at the next week's review
they record what the rep did on each (done, partly, not done, with a note). Admins coach anyone. A rep reads their own
history, nobody else's; nobody else reads it but their coaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from leadbaton.accounts.models import RepProfile, User
from leadbaton.coaching import services
from leadbaton.coaching.models import FocusItem
from leadbaton.coaching.queries import focus_by_week, focus_counts
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed, NotFound
from leadbaton.leads.access import ADMIN, MANAGER, REP
from leadbaton.pipeline.followup import viewer_of
from leadbaton.reports.periods import period_parse

HISTORY_WEEKS = 12


@dataclass(frozen=True)
class Coached:
    """A rep as a reader of their coaching sees them: who, their team's time zone, and whether the reader may coach."""

    rep: User
    time_zone: str
    may_coach: bool


ROW_ID_MAX = 2**63 - 1


def coached(*, by: User, rep_id: int) -> Coached:
    """The rep `by` asks about: NotFound for no such rep; NotAllowed for a rep asking about another, a manager about a
    rep outside their teams, marketing. Anyone who has coaching reads their own."""
    viewer = viewer_of(by)
    if viewer.role == REP and rep_id != by.pk:
        raise NotAllowed.one("rep", "a rep reads their own coaching only")
    profile = RepProfile.objects.select_related("user", "team").filter(user_id=rep_id).first() if 0 < rep_id <= ROW_ID_MAX else None
    if rep_id == by.pk and profile is not None:
        return Coached(profile.user, _zone(profile), viewer.role == ADMIN)
    if viewer.role == MANAGER:
        if profile is not None and profile.team_id not in viewer.managed_team_ids:
            raise NotAllowed.one("rep", "you coach the reps of the teams you manage")
    elif viewer.role != ADMIN:
        raise NotAllowed.one("role", "coaching is between a rep and their manager (and admins)")
    if profile is None:
        raise NotFound.one("rep", f"no rep {rep_id}")
    return Coached(profile.user, _zone(profile), viewer.role in (ADMIN, MANAGER))


def week_of(text: str, coached_rep: Coached, now: datetime) -> date:
    """The Monday of the ISO week `text` (2026-W49), or of this week in the rep's team's time zone; Invalid otherwise."""
    if not text:
        return this_monday(coached_rep.time_zone, now)
    if "-W" not in text:
        raise Invalid.one("week", f"{text[:40]!r} is not an ISO week; give one such as 2026-W49")
    try:
        return period_parse(text, coached_rep.time_zone).first_day
    except ValueError as error:
        raise Invalid.one("week", str(error)) from None


def _zone(profile: RepProfile) -> str:
    """The time zone a rep's weeks are counted in: their team's (UTC for a rep without a team)."""
    return profile.team.time_zone if profile.team else "UTC"


def this_monday(time_zone: str, now: datetime) -> date:
    """The Monday of the week `now` falls in, in `time_zone`."""
    today = now.astimezone(ZoneInfo(time_zone)).date()
    return today - timedelta(days=today.weekday())


def _coach(by: User, rep_id: int) -> Coached:
    found = coached(by=by, rep_id=rep_id)
    if not found.may_coach:
        raise NotAllowed.one("role", "a rep reads their coaching; their manager sets and reviews it")
    if not found.rep.is_active:
        raise Conflict.one("rep", f"{found.rep.display_name} no longer works here; their coaching is kept as it was")
    return found


def _one_at_a_time(rep_id: int) -> None:
    """Writes to one rep's coaching take turns (two managers saving the same new week at once): lock the rep's row."""
    User.objects.select_for_update().filter(pk=rep_id).values_list("pk", flat=True).first()


def focus_set(*, by: User, rep_id: int, week: str, items: list[str], now: datetime) -> list[FocusItem]:
    """Set a rep's focus items for a week (its ISO label; this week when empty): their manager or an admin."""
    found = _coach(by, rep_id)
    monday = week_of(week, found, now)
    with transaction.atomic():
        _one_at_a_time(found.rep.pk)
        return services.focus_set(rep_id=found.rep.pk, week=monday, items=items, by=by, now=now)


def focus_review(*, by: User, rep_id: int, week: str, reviews: list[tuple[int, str, str]], now: datetime) -> list[FocusItem]:
    """Record what the rep did on each focus item of a week (last week when empty), once the week has begun: their
    manager or an admin."""
    found = _coach(by, rep_id)
    monday = week_of(week, found, now) - (timedelta(days=7) if not week else timedelta(0))
    if monday > week_of("", found, now):
        raise Invalid.one("week", f"the week of {monday} has not begun; review it once it has")
    with transaction.atomic():
        _one_at_a_time(found.rep.pk)
        return services.focus_review(rep_id=found.rep.pk, week=monday, reviews=reviews, by=by, now=now)


def history(found: Coached, *, until: date, weeks: int = HISTORY_WEEKS) -> list[tuple[date, list[FocusItem]]]:
    """The rep's focus items of the `weeks` weeks up to the one starting `until`, newest first; weeks without any left out."""
    kept = focus_by_week(found.rep.pk, since=until - timedelta(days=7 * (weeks - 1)), until=until)
    return sorted(kept.items(), reverse=True)


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def item_out(item: FocusItem) -> dict[str, Any]:
    return {"position": item.position, "text": item.text, "set_by": item.set_by.display_name, "set_at": item.set_at,
            "outcome": item.outcome or None, "note": item.note,
            "reviewed_by": item.reviewed_by.display_name if item.reviewed_by else None, "reviewed_at": item.reviewed_at}


@dataclass(frozen=True)
class CoachedWeek:
    """A rep `by` coaches, with this week (its Monday in the rep's team's time zone) and its focus items, and last
    week's (focus items, of them reviewed)."""

    profile: RepProfile
    week: date
    this: int
    last: tuple[int, int]


def coaching_overview(by: User, now: datetime) -> list[CoachedWeek]:
    """The reps `by` coaches (coaches_of), each with this week's focus and whether last week's was reviewed."""
    reps = coaches_of(by)
    mondays = {profile.user_id: this_monday(_zone(profile), now) for profile in reps}
    weeks = sorted({monday - timedelta(days=7 * back) for monday in mondays.values() for back in (0, 1)})
    counts = focus_counts([profile.user_id for profile in reps], weeks)
    return [CoachedWeek(profile, mondays[profile.user_id], counts.get((profile.user_id, mondays[profile.user_id]), (0, 0))[0],
                        counts.get((profile.user_id, mondays[profile.user_id] - timedelta(days=7)), (0, 0))) for profile in reps]


def coaches_of(by: User) -> list[RepProfile]:
    """The reps `by` coaches, by team and name: every rep for an admin, their teams' for a manager, none for others."""
    viewer = viewer_of(by)
    reps = RepProfile.objects.select_related("user", "team").filter(user__is_active=True).order_by("team__name", "user__name")
    if viewer.role == ADMIN:
        return list(reps)
    if viewer.role == MANAGER:
        return list(reps.filter(team_id__in=viewer.managed_team_ids))
    return []


