"""Coaching through the API (P6): a rep's weeks of focus items and what they did on each; their manager (or an admin)
sets a week's focus and records its review. A rep reads their own, nobody else's."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from leadbaton.api.auth import STAFF_AUTH, caller
from leadbaton.api.reports import RepRef
from leadbaton.api.schemas import RowId, refusals
from leadbaton.coaching.models import FocusItem
from leadbaton.core import clock
from leadbaton.pipeline.coaching import HISTORY_WEEKS, coached, focus_review, focus_set, history, item_out, week_label, week_of

router = Router(tags=["coaching"], auth=STAFF_AUTH)


class ItemOut(Schema):
    position: int  # 1 to 4
    text: str
    set_by: str
    set_at: datetime
    outcome: str | None  # done, partly, not_done; None until reviewed
    note: str
    reviewed_by: str | None
    reviewed_at: datetime | None


class WeekOut(Schema):
    week: str  # ISO week, in the rep's team's time zone
    items: list[ItemOut]


class HistoryOut(Schema):
    rep: RepRef
    weeks: list[WeekOut]  # newest first; weeks without focus left out


def _week(monday: Any, items: list[FocusItem]) -> dict[str, Any]:
    return {"week": week_label(monday), "items": [item_out(item) for item in items]}


@router.get("/coaching/{rep_id}", response={200: HistoryOut, **refusals(401, 403, 404, 422)}, summary="A rep's coaching, week by week")
def coaching_get(request: HttpRequest, rep_id: RowId) -> Any:
    """The last 12 weeks up to this one. The rep themself, the manager of their team, admins."""
    found = coached(by=caller(request), rep_id=rep_id)
    this = week_of("", found, clock.now())
    return {"rep": {"id": found.rep.pk, "name": found.rep.display_name, "email": found.rep.email},
            "weeks": [_week(monday, items) for monday, items in history(found, until=this + timedelta(days=7), weeks=HISTORY_WEEKS + 1)]}


class FocusIn(Schema):
    items: list[str]  # 1 to 4, in order


@router.put("/coaching/{rep_id}/weeks/{week}/focus", response={200: WeekOut, **refusals(400, 401, 403, 404, 409, 422)},
            summary="Set a rep's focus for a week")
def focus_put(request: HttpRequest, rep_id: RowId, week: str, payload: FocusIn) -> Any:
    """`week` an ISO week (2026-W49). Replaces the week's focus; `409` once the week has been reviewed. The rep's manager, admins."""
    items = focus_set(by=caller(request), rep_id=rep_id, week=week, items=payload.items, now=clock.now())
    return _week(items[0].week, items)


class ReviewIn(Schema):
    position: int
    outcome: str  # done, partly, not_done
    note: str = ""


class ReviewsIn(Schema):
    reviews: list[ReviewIn]  # one for every focus item of the week


@router.put("/coaching/{rep_id}/weeks/{week}/review", response={200: WeekOut, **refusals(400, 401, 403, 404, 409, 422)},
            summary="Record what the rep did on each focus item of a week")
def review_put(request: HttpRequest, rep_id: RowId, week: str, payload: ReviewsIn) -> Any:
    """Every item of the week gets an outcome and may get a note. The rep's manager, admins."""
    items = focus_review(by=caller(request), rep_id=rep_id, week=week,
                         reviews=[(each.position, each.outcome, each.note) for each in payload.reviews], now=clock.now())
    return _week(items[0].week, items)
