"""The periods reports cover: an ISO week, a month or a range of days, in a time zone, as UTC instants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_FORMS = "an ISO week (2026-W47), a month (2026-11) or a range of days (2026-11-02..2026-11-15)"
LONGEST_RANGE_DAYS = 366 * 2
FIRST_YEAR, LAST_YEAR = 2000, 2199  # the years a period may fall in

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Period:
    """From `start` (included) to `end` (excluded), UTC instants of local midnights in `time_zone`; `label` as it was asked."""

    label: str
    first_day: date
    last_day: date
    time_zone: str
    start: datetime
    end: datetime

    def previous(self) -> Period:
        """The period of the same length just before this one (a week's previous week, a month's previous month)."""
        if _WEEK.fullmatch(self.label):
            return week_of(self.first_day - timedelta(days=7), self.time_zone)
        if _MONTH.fullmatch(self.label):
            return period_parse(_month_label(self.first_day - timedelta(days=1)), self.time_zone)
        days = (self.last_day - self.first_day).days + 1
        return days_between(self.first_day - timedelta(days=days), self.first_day - timedelta(days=1), self.time_zone)

    def following(self) -> Period:
        """The period of the same length just after this one."""
        day = self.last_day + timedelta(days=1)
        if _WEEK.fullmatch(self.label):
            return week_of(day, self.time_zone)
        if _MONTH.fullmatch(self.label):
            return period_parse(_month_label(day), self.time_zone)
        return days_between(day, day + (self.last_day - self.first_day), self.time_zone)


def _month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def days_between(first: date, last: date, time_zone: str, label: str = "") -> Period:
    zone = ZoneInfo(time_zone)
    label = label or f"{first.isoformat()}..{last.isoformat()}"
    return Period(label, first, last, time_zone, _midnight(first, zone), _midnight(last + timedelta(days=1), zone))


def week_of(day: date, time_zone: str) -> Period:
    """The ISO week (Monday to Sunday) holding `day`."""
    monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return days_between(monday, monday + timedelta(days=6), time_zone, f"{year}-W{week:02d}")


def period_parse(text: str, time_zone: str) -> Period:
    """`text` as PERIOD_FORMS says, in `time_zone`. ValueError naming what is accepted when it is none of them, or
    outside the years FIRST_YEAR to LAST_YEAR, or a range that ends before it starts or is longer than two years."""
    text = text.strip()
    label = text
    try:
        if match := _WEEK.fullmatch(text):
            first = date.fromisocalendar(int(match[1]), int(match[2]), 1)
            last, label = first + timedelta(days=6), f"{match[1]}-W{match[2]}"
        elif match := _MONTH.fullmatch(text):
            first = date(int(match[1]), int(match[2]), 1)
            last = date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
        elif match := _RANGE.fullmatch(text):
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            label = ""
        else:
            raise ValueError
    except (ValueError, OverflowError):
        raise ValueError(f"{text[:60]!r} is not a period; give {PERIOD_FORMS}") from None
    if not (first.year >= FIRST_YEAR and last.year <= LAST_YEAR):
        raise ValueError(f"{text!r} is outside the years {FIRST_YEAR} to {LAST_YEAR}")
    if last < first:
        raise ValueError(f"{text!r} ends before it starts; give the first day, then the last")
    if (last - first).days >= LONGEST_RANGE_DAYS:
        raise ValueError(f"{text!r} is {(last - first).days + 1} days long; at most {LONGEST_RANGE_DAYS}")
    return days_between(first, last, time_zone, label)


def last_full_week(now: datetime, time_zone: str) -> Period:
    """The ISO week before the one `now` falls in, there."""
    return week_of(now.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=7), time_zone)


def period_or_last_week(text: str, time_zone: str, now: datetime) -> Period:
    """The period `text` names (period_parse, its ValueError included), or the last full week when it names none."""
    return period_parse(text, time_zone) if text else last_full_week(now, time_zone)
