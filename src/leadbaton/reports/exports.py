"""Reports as CSV: the same figures as the pages and the API, a row per rep and the total, for a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from leadbaton.reports.reconciliation import CAME, Reconciliation

# The columns of the reconciliation, as the terminal and the CSV give them: (figure, label).
COLUMNS = [
    ("open_at_start", "open at start"),
    *[(f"received_{how}", f"received: {label.lower()}") for how, label in CAME.items()],
    ("received", "received"),
    ("purchased", "purchased"),
    ("not_interested", "not interested"),
    ("rejected", "rejected"),
    ("reassigned_away", "reassigned away"),
    ("open_at_end_untouched", "open at end: untouched"),
    ("open_at_end_in_progress", "open at end: in progress"),
    ("open_at_end", "open at end"),
]


def cell(value: Any) -> Any:
    """A value a spreadsheet shows as written: text that would start a formula (=, +, -, @) gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def reconciliation_csv(report: Reconciliation) -> Iterator[list[Any]]:
    """The header, then a row per rep and the total."""
    yield ["period", "first_day", "last_day", "time_zone", "rep", "email", *(figure for figure, _ in COLUMNS)]
    period = report.period
    for row in [*report.rows, report.total]:
        yield [period.label, period.first_day.isoformat(), period.last_day.isoformat(), period.time_zone, cell(row.name), cell(row.email),
               *(row.count(figure) for figure, _ in COLUMNS)]
