"""Writes of coaching: a week's focus items, and their review. The caller checks who may write (pipeline.coaching)."""

from __future__ import annotations

from datetime import date, datetime

from leadbaton.accounts.models import User
from leadbaton.coaching.models import FOCUS_MAX, FocusItem
from leadbaton.core.refusals import Conflict, Invalid

TEXT_MAX, NOTE_MAX = 300, 500


def focus_set(*, rep_id: int, week: date, items: list[str], by: User, now: datetime) -> list[FocusItem]:
    """Make `items` (1 to FOCUS_MAX, in order) the rep's focus for the week, replacing what was set; Conflict once the
    week has been reviewed, Invalid naming each item that cannot be used. Call inside a transaction."""
    items = [item.strip() for item in items]
    while items and not items[-1]:
        items.pop()
    problems = []
    if not items:
        problems.append({"field": "items", "message": f"give 1 to {FOCUS_MAX} focus items, such as 'call every new lead within 5 minutes'"})
    elif len(items) > FOCUS_MAX:
        problems.append({"field": "items", "message": f"{len(items)} focus items; at most {FOCUS_MAX}, so each gets attention"})
    for place, item in enumerate(items[:FOCUS_MAX], start=1):
        if not item:
            problems.append({"field": f"items[{place}]", "message": "is empty; write it, or leave out the ones after it"})
        elif len(item) > TEXT_MAX:
            problems.append({"field": f"items[{place}]", "message": f"is {len(item)} characters; at most {TEXT_MAX}"})
    if problems:
        raise Invalid(problems)
    current = list(FocusItem.objects.select_for_update().filter(rep_id=rep_id, week=week))
    if any(item.outcome for item in current):
        raise Conflict.one("week", f"the week of {week} has been reviewed; its focus stays as it was reviewed")
    kept = {item.position: item for item in current}
    written: list[FocusItem] = []
    for place, text in enumerate(items, start=1):
        row = kept.pop(place, None) or FocusItem(rep_id=rep_id, week=week, position=place)
        if row.pk is None or row.text != text:
            row.text, row.set_by, row.set_at = text, by, now
            row.save()
        written.append(row)
    FocusItem.objects.filter(pk__in=[item.pk for item in kept.values()]).delete()
    return written


def focus_review(*, rep_id: int, week: date, reviews: list[tuple[int, str, str]], by: User, now: datetime) -> list[FocusItem]:
    """Record what the rep did on each of the week's focus items: `reviews` [(position, outcome, note)], one for every
    item. Invalid naming each that cannot be used (an item given twice too); Invalid when the week has no focus items.
    Call inside a transaction."""
    places = [place for place, _, _ in reviews]
    twice = sorted({place for place in places if places.count(place) > 1})
    if twice:
        raise Invalid([{"field": f"outcome[{place}]", "message": "is given twice; give each focus item one outcome"} for place in twice])
    given = {place: (outcome, note) for place, outcome, note in reviews}
    items = list(FocusItem.objects.select_for_update().filter(rep_id=rep_id, week=week).order_by("position"))
    if not items:
        raise Invalid.one("week", f"no focus items were set for the week of {week}; there is nothing to review")
    problems = []
    outcomes = ", ".join(FocusItem.Outcome.values)
    for item in items:
        outcome, note = given.get(item.position, ("", ""))
        outcome, note = outcome.strip(), note.strip()
        if outcome not in FocusItem.Outcome.values:
            said = f"{outcome[:20]!r} is not an outcome; " if outcome else "is required: "
            problems.append({"field": f"outcome[{item.position}]", "message": f"{said}use one of {outcomes}"})
        if len(note) > NOTE_MAX:
            problems.append({"field": f"note[{item.position}]", "message": f"is {len(note)} characters; at most {NOTE_MAX}"})
    for place in sorted(set(given) - {item.position for item in items}):
        problems.append({"field": f"outcome[{place}]", "message": f"the week has no focus item {place}; it has {len(items)}"})
    if problems:
        raise Invalid(problems)
    for item in items:
        outcome, note = given[item.position]
        item.outcome, item.note, item.reviewed_by, item.reviewed_at = outcome.strip(), note.strip(), by, now
        item.save(update_fields=["outcome", "note", "reviewed_by", "reviewed_at"])
    return items
