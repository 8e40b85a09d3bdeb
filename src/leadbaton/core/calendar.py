"""Working time: weekly hours in a person's own time zone, public holidays, time off.

One module for every question of the form "is this person at work now?":
routing asks it for availability. Pure functions of their arguments; `now` is
always passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class TimeOff:
    starts_on: date
    ends_on: date  # inclusive
    reason: str = ""


@dataclass(frozen=True)
class WorkingTime:
    """When someone works. `hours` is {"mon": [["09:00", "17:30"]], ...}; a day that is absent is not worked."""

    time_zone: str
    hours: Mapping[str, Sequence[Sequence[str]]]
    country: str = ""
    time_off: tuple[TimeOff, ...] = ()

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class AtWork:
    """The answer to "is this person at work at this moment?", with the reason when not."""

    working: bool
    reason: str = ""


def at_work(working_time: WorkingTime, now: datetime) -> AtWork:
    """Whether `now` falls inside the person's working hours, on a day they work, not on time off or a holiday."""
    local = now.astimezone(working_time.zone())
    today = local.date()
    for off in working_time.time_off:
        if off.starts_on <= today <= off.ends_on:
            why = f" ({off.reason})" if off.reason else ""
            return AtWork(False, f"on time off until {off.ends_on.isoformat()}{why}")
    holiday = holiday_name(working_time.country, today)
    if holiday:
        return AtWork(False, f"public holiday in {working_time.country}: {holiday}")
    day = WEEKDAYS[local.weekday()]
    ranges = working_time.hours.get(day) or []
    clock = local.strftime("%H:%M")
    if any(start <= clock < end for start, end in ranges):
        return AtWork(True)
    shown = ", ".join(f"{start}-{end}" for start, end in ranges) or "not a working day"
    return AtWork(False, f"outside working hours ({day} {shown}, {working_time.time_zone}; it is {clock} there)")


def holiday_name(country: str, day: date) -> str | None:
    if not country:
        return None
    return _holidays(country.upper(), day.year).get(day)


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


# Business time: service-level clocks that run only while their owner works.

# How far ahead to look for working time before giving up: someone with no hours at all never works.
_SEARCH_DAYS = 400


def working_time_add(working_time: WorkingTime, start: datetime, duration: timedelta) -> datetime | None:
    """The moment `duration` of the person's working time has passed after `start`.

    Working time is their weekly hours in their own time zone, minus their time off and their
    country's public holidays, as at_work answers. A clock started outside working hours starts at
    the next working minute: 5 minutes from 22:00 is 5 minutes after the next day's start. A
    duration of zero is the first working moment at or after `start`. None when they have no
    working time within a year (no hours, or time off for longer).
    """
    zone = working_time.zone()
    left = duration
    local = start.astimezone(zone)
    day = local.date()
    for _ in range(_SEARCH_DAYS):
        for begin, end in _working_intervals(working_time, day, zone):
            begin = max(begin, start)
            if end <= begin:
                continue
            if begin + left <= end:
                return begin + left
            left -= end - begin
        day += timedelta(days=1)
    return None


def _working_intervals(working_time: WorkingTime, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The person's working intervals on `day` (their local date), in UTC, earliest first."""
    if any(off.starts_on <= day <= off.ends_on for off in working_time.time_off):
        return []
    if holiday_name(working_time.country, day):
        return []
    ranges = working_time.hours.get(WEEKDAYS[day.weekday()]) or []
    intervals = []
    for begin, end in sorted((str(start), str(stop)) for start, stop in ranges):
        start_at = datetime.combine(day, time.fromisoformat(begin), zone).astimezone(UTC)
        end_at = datetime.combine(day, time.fromisoformat(end), zone).astimezone(UTC) if end != "24:00" else (
            datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        )
        intervals.append((start_at, end_at))
    return intervals


def working_days_add(working_time: WorkingTime, start: datetime, days: int) -> datetime | None:
    """The same local time of day on the `days`-th working day after `start` (a day with working hours,
    not on time off or a holiday); None when no such day comes within a year."""
    zone = working_time.zone()
    local = start.astimezone(zone)
    day, left = local.date(), days
    for _ in range(_SEARCH_DAYS):
        day += timedelta(days=1)
        if _working_intervals(working_time, day, zone):
            left -= 1
            if left <= 0:
                return datetime.combine(day, local.timetz().replace(tzinfo=None), zone).astimezone(UTC)
    return None
