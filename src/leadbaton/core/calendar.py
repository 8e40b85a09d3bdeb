"""Working time: weekly hours in a person's own time zone, public holidays, time off.

One module for every question of the form "is this person at work now?" and
"when does their day start?": routing asks it for availability, SLA clocks for
due times. Pure functions of their arguments; `now` is always passed in.
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


def day_start(time_zone: str, now: datetime) -> datetime:
    """The midnight that began the person's current day, in UTC. Daily caps count from here."""
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(UTC)


def next_work_start(working_time: WorkingTime, now: datetime, *, horizon_days: int = 21) -> datetime | None:
    """The next moment (after `now`) the person starts working, in UTC; None if not within the horizon."""
    zone = working_time.zone()
    local = now.astimezone(zone)
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        for start, _ in sorted(working_time.hours.get(WEEKDAYS[day.weekday()]) or [], key=lambda shift: shift[0]):
            hour, minute = (int(part) for part in start.split(":"))
            begins = datetime.combine(day, time(hour, minute), tzinfo=zone)
            if begins > local and at_work(working_time, begins).working:
                return begins.astimezone(UTC)
    return None


def holiday_name(country: str, day: date) -> str | None:
    if not country:
        return None
    return _holidays(country.upper(), day.year).get(day)


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)
