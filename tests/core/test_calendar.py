"""Working time at its edges: the first and last minute of a shift, the first and last day of time off."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from leadbaton.core.calendar import TimeOff, WorkingTime, at_work, holiday_name

NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
BERLIN = WorkingTime(time_zone="Europe/Berlin", hours=NINE_TO_FIVE)
SKI_TRIP = TimeOff(starts_on=date(2026, 11, 23), ends_on=date(2026, 11, 27), reason="Ski trip")


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 given in Berlin time (UTC+1 then), as UTC."""
    return datetime(2026, 11, day, hour - 1, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "working"),
    [(8, 59, False), (9, 0, True), (16, 59, True), (17, 0, False)],
)
def test_a_shift_includes_its_first_minute_and_ends_at_its_last(hour, minute, working):
    assert at_work(BERLIN, berlin(25, hour, minute)).working is working


def test_at_the_end_of_the_shift_it_says_why_the_rep_is_not_at_work():
    assert at_work(BERLIN, berlin(25, 17)).reason == (
        "outside working hours (wed 09:00-17:00, Europe/Berlin; it is 17:00 there)"
    )


def test_a_day_without_hours_is_not_a_working_day():
    saturday = at_work(BERLIN, berlin(28, 11))
    assert (saturday.working, saturday.reason) == (
        False, "outside working hours (sat not a working day, Europe/Berlin; it is 11:00 there)"
    )


def test_any_of_several_shifts_of_a_day_counts():
    split = WorkingTime(time_zone="Europe/Berlin", hours={"wed": [["08:00", "12:00"], ["14:00", "18:00"]]})
    assert [at_work(split, berlin(25, hour)).working for hour in (11, 12, 13, 14)] == [True, False, False, True]
    assert at_work(split, berlin(25, 13)).reason == (
        "outside working hours (wed 08:00-12:00, 14:00-18:00, Europe/Berlin; it is 13:00 there)"
    )


@pytest.mark.parametrize(
    ("day", "working"),
    [(20, True), (23, False), (27, False), (30, True)],  # Friday before, first day, last day, Monday after
)
def test_time_off_covers_its_first_and_its_last_day(day, working):
    away = WorkingTime(time_zone="Europe/Berlin", hours=NINE_TO_FIVE, time_off=(SKI_TRIP,))
    assert at_work(away, berlin(day, 11)).working is working


def test_time_off_says_until_when_and_why():
    away = WorkingTime(time_zone="Europe/Berlin", hours=NINE_TO_FIVE, time_off=(SKI_TRIP,))
    assert at_work(away, berlin(27, 11)).reason == "on time off until 2026-11-27 (Ski trip)"
    unexplained = WorkingTime(time_zone="Europe/Berlin", hours=NINE_TO_FIVE, time_off=(TimeOff(date(2026, 11, 27), date(2026, 11, 27)),))
    assert at_work(unexplained, berlin(27, 11)).reason == "on time off until 2026-11-27"


def test_time_off_is_counted_in_the_reps_own_day():
    # 23:30 on Sunday 22 November in UTC is already Monday the 23rd, the first day off, in Berlin.
    away = WorkingTime(time_zone="Europe/Berlin", hours={"mon": [["00:00", "24:00"]]}, time_off=(SKI_TRIP,))
    assert at_work(away, datetime(2026, 11, 22, 23, 30, tzinfo=UTC)).working is False


def test_a_public_holiday_of_the_reps_country_is_not_worked():
    german = WorkingTime(time_zone="Europe/Berlin", hours=NINE_TO_FIVE, country="de")
    christmas = at_work(german, datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
    assert (christmas.working, christmas.reason) == (False, "public holiday in de: Christmas Day")
    assert at_work(german, berlin(25, 11)).working is True
    assert holiday_name("", date(2026, 12, 25)) is None
