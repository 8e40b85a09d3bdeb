"""Reading single values of the organisation file or a settings form, each checked, with a message that names its path.

`Entry` is one mapping (a section of the file, an entry of a list, the fields of a form): its
getters record what is wrong and return a stand-in value, so reading goes on
and every problem is reported at once. Working hours have their own small
syntax, read here too: "mon-fri 09:00-17:30". The file and the pages check a
value with the same code, so they accept the same things and say the same.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pycountry
from email_validator import EmailNotValidError, validate_email

# A rep's routing weight and caps: far more than any team needs, and well inside every database's integer.
WEIGHT_HINT = "a routing weight from 1 to 1000 (2 gets twice the leads of 1)"
MAX_WEIGHT = 1000
MAX_CAP = 100_000
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_EXAMPLE = '"mon-fri 09:00-17:30"'
_Spec = TypeVar("_Spec")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_TIME_RANGE = r"\d{2}:\d{2}\s*-\s*\d{2}:\d{2}"
_HOURS = re.compile(rf"^(?P<days>[a-z]+(?:\s*[-,]\s*[a-z]+)*)\s+(?P<times>{_TIME_RANGE}(?:\s*,\s*{_TIME_RANGE})*)$")


class Entry:
    """One mapping of the file at `path`. Its getters record what is wrong and return a stand-in value."""

    def __init__(self, raw: Any, path: str, keys: tuple[str, ...], errors: list[str], what: str) -> None:
        self.path, self.errors = path, errors
        self.raw: dict[Any, Any] = raw if isinstance(raw, dict) else {}
        # Not a mapping at all: say so once, not once for every key it lacks.
        self.quiet = not isinstance(raw, dict)
        if self.quiet:
            errors.append(f"{path}: must be a mapping with the keys {', '.join(keys)}, not {show(raw)}")
        for key in self.raw:
            if key not in keys:
                errors.append(f"{self.at(key)}: is not a key of {what}{suggest(str(key), keys)}; use {', '.join(keys)}")

    def at(self, key: Any) -> str:
        return f"{self.path}.{key}" if self.path else str(key)

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def fail(self, key: str, message: str) -> None:
        if not self.quiet:
            self.errors.append(f"{self.at(key)}: {message}")

    def section(self, key: str) -> bool:
        """Whether a section is written. `key:` with nothing after it is a mistake, not a way to say 'none'."""
        if key not in self.raw:
            return False
        if self.raw[key] is None:
            self.fail(key, f"is empty; remove {key} to leave it alone, or write {key}: [] (a list) or {key}: {{}} (a mapping)")
            return False
        return True

    def text(self, key: str, *, hint: str, required: bool = False, default: str = "", max_length: int = 200) -> str:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(key, f"is required: {hint}")
            return default
        if isinstance(value, bool):
            self.fail(key, f"{show(value)} is not text ({hint}); YAML reads a bare yes/no/on/off as true/false: put it in quotes")
            return default
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(key, f"{show(value)} is not {hint}")
            return default
        if "\x00" in value:
            self.fail(key, "contains a NUL character (\\x00), which cannot be stored; remove it")
            return default
        if len(value.strip()) > max_length:
            self.fail(key, f"is {len(value.strip())} characters long; at most {max_length} fit")
            return default
        return value.strip()

    def whole(
        self, key: str, *, hint: str, minimum: int | None = None, maximum: int | None = None, default: int | None = None,
        required: bool = False,
    ) -> int | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(key, f"is required: {hint}")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"{show(value)} is not a whole number; write {hint}")
            return default
        if minimum is not None and value < minimum:
            self.fail(key, f"{value} is less than {minimum}; write {hint}")
            return default
        if maximum is not None and value > maximum:
            self.fail(key, f"{value} is more than {maximum}; write {hint}")
            return default
        return value

    def flag(self, key: str, *, default: bool | None) -> bool | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"{show(value)} is not true or false")
            return default
        return value

    def choice(self, key: str, options: tuple[str, ...], *, default: str = "", required: bool = False) -> str:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(key, f"is required: one of {', '.join(options)}")
            return default
        if value not in options:
            self.fail(key, f"{show(value)} is not one of {', '.join(options)}{suggest(str(value), options)}")
            return default
        return str(value)

    def items(self, key: str) -> list[tuple[str, Any]] | None:
        """(path, value) of each entry of a list, or None when the key is not written."""
        if not self.section(key):
            return None
        value = self.raw[key]
        if not isinstance(value, list):
            self.fail(key, f"must be a list (lines starting with '- '), not {show(value)}")
            return []
        return [(f"{self.at(key)}[{index}]", entry) for index, entry in enumerate(value)]

    def each(self, key: str, keys: tuple[str, ...], what: str, read: Callable[[Entry], _Spec]) -> tuple[_Spec, ...] | None:
        entries = self.items(key)
        if entries is None:
            return None
        return tuple(read(Entry(raw, path, keys, self.errors, what)) for path, raw in entries)

    def texts(self, key: str, *, hint: str) -> list[str]:
        result = []
        for path, value in self.items(key) or []:
            if isinstance(value, str) and value.strip():
                result.append(value.strip())
            else:
                self.errors.append(f"{path}: {show(value)} is not {hint}")
        return result


def hours_read(entry: Entry) -> dict[str, list[list[str]]]:
    """A rep's working hours as stored on RepProfile: {"mon": [["09:00", "17:30"]], ...}, days in week order."""
    value = entry.raw.get("hours")
    if value is None:
        entry.fail("hours", f"is required: the rep's working hours, such as {HOURS_EXAMPLE}")
        return {}
    if not (isinstance(value, str) or (isinstance(value, list) and value)):
        entry.fail("hours", f"must be a line such as {HOURS_EXAMPLE} or a list of such lines, not {show(value)}")
        return {}
    lines = [(entry.at("hours"), value)] if isinstance(value, str) else entry.items("hours") or []
    week: dict[str, list[tuple[str, str, str]]] = {}
    for path, line in lines:
        for day, start, end in _hours_line(path, line, entry.errors):
            for other_start, other_end, other_line in week.get(day, []):
                if start < other_end and other_start < end:
                    entry.errors.append(f"{path}: {show(line)}: {start}-{end} overlaps {other_start}-{other_end} on {day} ({show(other_line)})")
            week.setdefault(day, []).append((start, end, line))
    return {day: [[start, end] for start, end, _ in sorted(week[day])] for day in DAYS if day in week}


def _hours_line(path: str, line: Any, errors: list[str]) -> list[tuple[str, str, str]]:
    """(day, start, end) for each day and range of one line such as "mon-thu 08:00-12:00, 13:00-17:00"."""
    shape = f"is not DAYS HH:MM-HH:MM (for example {HOURS_EXAMPLE})"
    match = _HOURS.match(line.strip().lower()) if isinstance(line, str) else None
    if match is None:
        errors.append(f"{path}: {show(line)} {shape}")
        return []
    days: list[str] = []
    for part in re.split(r"\s*,\s*", match["days"]):
        ends = re.split(r"\s*-\s*", part)
        unknown = [day for day in ends if day not in DAYS]
        if unknown or len(ends) > 2:
            errors.append(f"{path}: {show(line)}: {show(unknown[0] if unknown else part)} is not a day or a day range; use {', '.join(DAYS)}")
            return []
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        if last < first:
            errors.append(f"{path}: {show(line)}: {part} runs backwards; a week runs mon to sun, so write e.g. sat,sun,mon")
            return []
        days.extend(DAYS[first : last + 1])
    ranges = []
    for text in re.split(r"\s*,\s*", match["times"]):
        start, end = re.split(r"\s*-\s*", text)
        for value in (start, end):
            if not _is_clock(value) or value == start == "24:00":
                errors.append(f"{path}: {show(line)}: {value} is not a time of day; use 00:00 to 23:59 (24:00 may end a day)")
                return []
        if end <= start:
            errors.append(f"{path}: {show(line)}: {text} ends before it starts; split a shift over midnight into two lines")
            return []
        ranges.append((start, end))
    return [(day, start, end) for day in dict.fromkeys(days) for start, end in ranges]


def _is_clock(text: str) -> bool:
    """HH:MM from 00:00 to 24:00. Equal-width text, so comparing strings compares times."""
    hour, minute = (int(part) for part in text.split(":"))
    return (hour, minute) == (24, 0) or (hour <= 23 and minute <= 59)


def slug_read(entry: Entry, key: str) -> str:
    value = entry.text(key, hint="a short identifier such as emea", required=True, max_length=60)
    if value and not _SLUG.match(value):
        entry.fail(key, f"{show(value)} is not a slug; use lower-case letters, digits, - and _ (such as {_slugify(value)})")
    return value


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "emea"


def email_read(entry: Entry, key: str, value: str) -> str:
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        entry.fail(key, f"{show(value)} is not an email address ({error})")
        return ""


def time_zone_read(entry: Entry, key: str, *, required: bool) -> str:
    value = entry.text(key, hint="an IANA time zone such as Europe/Berlin", required=required, max_length=64)
    if not value:
        return ""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        entry.fail(key, f"{show(value)} is not a time zone{suggest(value, available_timezones())}; use an IANA name such as Europe/Berlin")
        return ""
    return value


def country_read(entry: Entry, key: str, value: str) -> str:
    if not value:
        return ""
    code = value.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        hint = " (the United Kingdom is GB)" if code == "UK" else ""
        entry.fail(key, f"{show(value)} is not an ISO 3166 two-letter country code{hint}; such as DE, US or SG")
        return ""
    return code


def date_read(entry: Entry, key: str) -> date | None:
    value = entry.raw.get(key)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a date: said below
            value = date.fromisoformat(value.strip())
    if value is None:
        entry.fail(key, "is required: a date such as 2026-12-24")
    elif isinstance(value, datetime) or not isinstance(value, date):
        entry.fail(key, f"{show(value)} is not a date; write YYYY-MM-DD such as 2026-12-24")
    else:
        return value
    return None


def show(value: Any) -> str:
    """A value as it would be written in the file, quoted when it is text."""
    if isinstance(value, date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def suggest(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


_LINE = re.compile(r"^(?P<key>[a-z_]+)\[(?P<index>\d+)\]$")


def entry_errors(problems: list[str]) -> list[dict[str, str]]:
    """Entry's "key: message" problems as a refusal's errors ({field, message}); a line of a list ("hours[1]") is its
    key's, counted from 1 in the words ("line 2: …"), as a form shows the lines of one box."""
    errors = []
    for problem in problems:
        path, _, message = problem.partition(": ")
        if line := _LINE.match(path):
            path, message = line["key"], f"line {int(line['index']) + 1}: {message}"
        errors.append({"field": path, "message": message})
    return errors


def hours_lines(hours: dict[str, list[list[str]]]) -> list[str]:
    """Stored working hours written back as hours_read reads them: one line per run of days with the same ranges."""
    lines: list[str] = []
    run: list[str] = []
    for day in (*DAYS, None):
        ranges = hours.get(day) if day else None
        if run and (not ranges or ranges != hours[run[0]]):
            days = run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}"
            lines.append(f"{days} " + ", ".join(f"{start}-{end}" for start, end in hours[run[0]]))
            run = []
        if day and ranges:
            run.append(day)
    return lines
