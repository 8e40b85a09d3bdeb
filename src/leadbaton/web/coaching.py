"""The coaching pages (P6): a manager's reps with their week's focus, and one rep's coaching: this week's focus items,
last week's review (what the rep did on each), and the weeks before. A rep sees their own, read only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from leadbaton.accounts.models import User
from leadbaton.coaching.models import FOCUS_MAX, FocusItem
from leadbaton.core import clock
from leadbaton.core.refusals import Invalid, Refused
from leadbaton.leads.access import REP
from leadbaton.pipeline.coaching import Coached, coached, coaching_overview, focus_review, focus_set, history, week_label, week_of
from leadbaton.pipeline.followup import viewer_of
from leadbaton.web.views import refused_page


@login_required
def coaching_home(request: HttpRequest) -> HttpResponse:
    """The reps the reader coaches, each with this week's focus and whether last week's was reviewed; a rep goes to their own."""
    user = cast(User, request.user)
    if viewer_of(user).role == REP:
        return redirect("coaching", rep_id=user.pk)
    reps = coaching_overview(user, clock.now())
    if not reps and viewer_of(user).role not in ("admin", "manager"):
        return render(request, "web/refused.html", {"title": "You cannot open this page", "errors": [
            {"field": "role", "message": "coaching is between a rep and their manager (and admins)"}]}, status=403)
    rows = [{"profile": each.profile, "this": each.this, "last": each.last, "week": week_label(each.week)} for each in reps]
    return render(request, "web/coaching_home.html", {"rows": rows})


def _page(request: HttpRequest, found: Coached, monday: date, *, errors: list[dict[str, str]] | None = None,
          typed: dict[str, str] | None = None, form: str = "", status: int = 200) -> HttpResponse:
    weeks = dict(history(found, until=monday))
    this, last = weeks.get(monday, []), weeks.get(monday - timedelta(days=7), [])
    problems = {error["field"]: error["message"] for error in errors or []}
    typed = typed or {}
    slots = [{"place": place, "value": typed.get(f"item-{place}", "") if form == "focus" else next((item.text for item in this if item.position == place), ""),
              "problem": problems.get(f"items[{place}]", "") if form == "focus" else ""} for place in range(1, FOCUS_MAX + 1)]
    review = [{"item": item, "outcome": typed.get(f"outcome-{item.position}", "") if form == "review" else item.outcome,
               "note": typed.get(f"note-{item.position}", "") if form == "review" else item.note,
               "problem": " ".join(filter(None, (problems.get(f"outcome[{item.position}]"), problems.get(f"note[{item.position}]")))) if form == "review" else ""}
              for item in last]
    context = {
        "found": found, "rep": found.rep, "week": week_label(monday), "last_week": week_label(monday - timedelta(days=7)),
        "earlier": week_label(monday - timedelta(days=7)), "later": week_label(monday + timedelta(days=7)),
        "this": this, "reviewed": any(item.outcome for item in this), "slots": slots, "review": review,
        "outcomes": FocusItem.Outcome.choices, "errors": errors or [], "form": form, "items_problem": problems.get("items", "") if form == "focus" else "",
        "history": [(week_label(week), items) for week, items in weeks.items() if week < monday - timedelta(days=7)],
    }
    return render(request, "web/coaching.html", context, status=status)


def _found(request: HttpRequest, rep_id: int) -> Coached | HttpResponse:
    try:
        return coached(by=cast(User, request.user), rep_id=rep_id)
    except Refused as refused:
        return refused_page(request, refused, not_allowed="You cannot open this rep's coaching")


@login_required
def coaching_page(request: HttpRequest, rep_id: int) -> HttpResponse:
    """A rep's coaching for a week (`?week=2026-W49`, default this week in their team's time zone)."""
    found = _found(request, rep_id)
    if isinstance(found, HttpResponse):
        return found
    asked = request.GET.get("week", "").strip()
    try:
        monday = week_of(asked, found, clock.now())
    except Invalid as invalid:
        return _page(request, found, week_of("", found, clock.now()), errors=invalid.errors, status=400)
    return _page(request, found, monday)


class FocusSet(LoginRequiredMixin, View):
    """Set a rep's focus items for a week (pipeline.coaching.focus_set)."""

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        found = _found(request, rep_id)
        if isinstance(found, HttpResponse):
            return found
        typed = {name: str(request.POST.get(name, "")).strip() for name in request.POST if name != "csrfmiddlewaretoken"}
        week = typed.get("week", "")
        try:
            focus_set(by=cast(User, request.user), rep_id=rep_id, week=week, items=[typed.get(f"item-{place}", "") for place in range(1, FOCUS_MAX + 1)],
                      now=clock.now())
        except Invalid as invalid:
            return self._again(request, found, week, invalid, typed, "focus")
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot set this rep's focus")
        messages.success(request, f"{found.rep.display_name}'s focus for {week or 'this week'} is saved.")
        return redirect(f"/coaching/{rep_id}/?week={week}" if week else f"/coaching/{rep_id}/")

    @staticmethod
    def _again(request: HttpRequest, found: Coached, week: str, invalid: Invalid, typed: dict[str, str], form: str) -> HttpResponse:
        try:
            monday = week_of(week, found, clock.now())
        except Invalid:
            monday = week_of("", found, clock.now())
        return _page(request, found, monday, errors=invalid.errors, typed=typed, form=form, status=400)


class FocusReview(LoginRequiredMixin, View):
    """Record what the rep did on each of last week's focus items (pipeline.coaching.focus_review)."""

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        found = _found(request, rep_id)
        if isinstance(found, HttpResponse):
            return found
        typed = {name: str(request.POST.get(name, "")).strip() for name in request.POST if name != "csrfmiddlewaretoken"}
        week = typed.get("week", "")  # the week whose review page it is: its focus items are the week before's
        reviews = [(place, typed.get(f"outcome-{place}", ""), typed.get(f"note-{place}", "")) for place in range(1, FOCUS_MAX + 1)
                   if f"outcome-{place}" in typed or f"note-{place}" in typed]
        try:
            reviewed = _reviewed_week(week, found)
            focus_review(by=cast(User, request.user), rep_id=rep_id, week=reviewed, reviews=reviews, now=clock.now())
        except Invalid as invalid:
            return FocusSet._again(request, found, week, invalid, typed, "review")
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot review this rep's focus")
        messages.success(request, f"The review of {found.rep.display_name}'s {reviewed} is saved.")
        return redirect(f"/coaching/{rep_id}/?week={week}" if week else f"/coaching/{rep_id}/")


def _reviewed_week(week: str, found: Coached) -> str:
    """The ISO week reviewed on the page of `week` (this week when empty): the week before it."""
    return week_label(week_of(week, found, clock.now()) - timedelta(days=7))


