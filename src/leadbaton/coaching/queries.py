"""Reads of coaching."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from leadbaton.coaching.models import FocusItem


def focus_by_week(rep_id: int, *, since: date, until: date) -> dict[date, list[FocusItem]]:
    """A rep's focus items of the weeks from `since` to `until` (their Mondays), newest week first, each in order."""
    weeks: dict[date, list[FocusItem]] = defaultdict(list)
    for item in FocusItem.objects.filter(rep_id=rep_id, week__gte=since, week__lte=until).select_related("set_by", "reviewed_by"):
        weeks[item.week].append(item)
    return dict(weeks)


def focus_counts(rep_ids: list[int], weeks: list[date]) -> dict[tuple[int, date], tuple[int, int]]:
    """Per rep and week: (focus items, of them reviewed)."""
    counts: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    for rep_id, week, outcome in FocusItem.objects.filter(rep_id__in=rep_ids, week__in=weeks).values_list("rep_id", "week", "outcome"):
        counts[(rep_id, week)][0] += 1
        counts[(rep_id, week)][1] += bool(outcome)
    return {key: (total, reviewed) for key, (total, reviewed) in counts.items()}
