"""The settings pages: what managers set for their teams and admins for everything.

A rep's page sets their team, working hours, time zone, holiday country, routing weight and caps, their time
off, and switches them off when they leave (their open leads go back to the queue) and on again. Every change
goes through the use case (pipeline.reps) with the organisation file's own reader of values, so a refused value
is said next to its field in the words the file would get, with what was typed kept.
"""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from leadbaton.accounts.models import RepProfile, User
from leadbaton.core import clock
from leadbaton.core.refusals import Invalid, NotAllowed, NotFound, Refused
from leadbaton.core.values import hours_lines
from leadbaton.leads.models import OPEN_STAGES, Lead, OwnerKind
from leadbaton.pipeline.followup import viewer_of
from leadbaton.pipeline.ownership import may_manage
from leadbaton.pipeline.reps import (
    rep_settings_change,
    rep_switch_off,
    rep_switch_on,
    rep_time_off_add,
    rep_time_off_remove,
    time_off_ahead,
)
from leadbaton.web.board import teams_run_by
from leadbaton.web.views import refused_page

REP_FIELDS = ("team", "time_zone", "country", "hours", "weight", "daily_cap", "max_open")
WHOLE_FIELDS = ("weight", "daily_cap", "max_open")


@login_required
def settings_home(request: HttpRequest) -> HttpResponse:
    """The teams one runs, each with its reps as routing is told about them; each rep opens their settings."""
    user = cast(User, request.user)
    runs = teams_run_by(viewer_of(user))
    if not runs:
        return _not_for_you(request)
    reps = RepProfile.objects.select_related("user").filter(team__in=runs).order_by("user__name", "user__email")
    by_team: dict[int, list[dict[str, Any]]] = {team.pk: [] for team in runs}
    for profile in reps:
        by_team[profile.team_id].append({"profile": profile, "hours": "; ".join(hours_lines(profile.hours)) or "no working hours"})
    return render(request, "web/settings.html", {"teams": [(team, by_team[team.pk]) for team in runs]})


class RepSettings(LoginRequiredMixin, View):
    """GET shows a rep's settings; POST saves the settings form (the other forms post to their own addresses)."""

    def get(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        found = _rep_for(request, rep_id)
        if isinstance(found, HttpResponse):
            return found
        return _rep_page(request, found)

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        posted = {name: request.POST.get(name, "") for name in REP_FIELDS}
        try:
            profile, changed = rep_settings_change(rep_id=rep_id, by=cast(User, request.user), values=_read(posted), now=clock.now())
        except Invalid as refused:
            found = _rep_for(request, rep_id)
            if isinstance(found, HttpResponse):
                return found
            return _rep_page(request, found, failed={"form": "settings", "posted": posted, "problems": _by_field(refused)}, status=400)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change this rep")
        said = f"Saved {profile.user.display_name}'s settings." if changed else "Nothing changed."
        messages.success(request, said)
        return redirect("rep_settings", rep_id)


class RepAction(LoginRequiredMixin, View):
    """A form of a rep's settings page other than the settings themselves: POST only; a refusal comes back on the page."""

    http_method_names = ["post"]
    form = ""

    def refused(self, request: HttpRequest, rep_id: int, refused: Refused, posted: dict[str, str]) -> HttpResponse:
        if not isinstance(refused, Invalid):
            return refused_page(request, refused, not_allowed="You cannot change this rep")
        found = _rep_for(request, rep_id)
        if isinstance(found, HttpResponse):
            return found
        return _rep_page(request, found, failed={"form": self.form, "posted": posted, "problems": _by_field(refused)}, status=400)


class RepTimeOffAdd(RepAction):
    form = "time_off"

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        posted = {name: request.POST.get(name, "") for name in ("from", "to", "reason")}
        values = {name: value.strip() or None for name, value in posted.items()}
        try:
            period = rep_time_off_add(rep_id=rep_id, by=cast(User, request.user), values=values, now=clock.now())
        except Refused as refused:
            return self.refused(request, rep_id, refused, posted)
        days = (period.ends_on - period.starts_on).days + 1
        messages.success(request, f"Time off added: {period.starts_on:%d %b %Y} to {period.ends_on:%d %b %Y} ({days} day{'s' if days > 1 else ''}).")
        return redirect("rep_settings", rep_id)


class RepTimeOffRemove(RepAction):
    def post(self, request: HttpRequest, rep_id: int, period_id: int) -> HttpResponse:
        try:
            rep_time_off_remove(rep_id=rep_id, by=cast(User, request.user), period_id=period_id, now=clock.now())
        except Refused as refused:
            return self.refused(request, rep_id, refused, {})
        messages.success(request, "Time off removed.")
        return redirect("rep_settings", rep_id)


class RepDeactivate(RepAction):
    form = "deactivate"

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        posted = {"reason": request.POST.get("reason", "")}
        try:
            profile, returned = rep_switch_off(rep_id=rep_id, by=cast(User, request.user), why=posted["reason"], now=clock.now())
        except Refused as refused:
            return self.refused(request, rep_id, refused, posted)
        went = f"{returned} open lead{'s' if returned != 1 else ''} went back to the {profile.team.name} queue."
        messages.success(request, f"{profile.user.display_name} is deactivated: they can no longer sign in. {went}")
        return redirect("rep_settings", rep_id)


class RepActivate(RepAction):
    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        try:
            profile = rep_switch_on(rep_id=rep_id, by=cast(User, request.user), now=clock.now())
        except Refused as refused:
            return self.refused(request, rep_id, refused, {})
        messages.success(request, f"{profile.user.display_name} is active again: they can sign in and get new leads.")
        return redirect("rep_settings", rep_id)


def _rep_for(request: HttpRequest, rep_id: int) -> RepProfile | HttpResponse:
    """The rep whose settings the signed-in person may see, or the page that says why not (another team's reps as no rep)."""
    user = cast(User, request.user)
    if not teams_run_by(viewer_of(user)):
        return _not_for_you(request)
    profile = RepProfile.objects.select_related("user", "team").filter(user_id=rep_id).first()
    if profile is None or not may_manage(user, [profile.team]):
        mine = "" if user.is_superuser or user.role == "admin" else " of a team you manage"
        return refused_page(request, NotFound.one("rep_id", f"there is no rep {rep_id}{mine}"))
    return profile


def _rep_page(request: HttpRequest, profile: RepProfile, *, failed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    user = cast(User, request.user)
    failed = failed or {"form": "", "posted": {}, "problems": {}}
    shown = {
        "team": profile.team.slug, "time_zone": profile.time_zone, "country": profile.country,
        "hours": "\n".join(hours_lines(profile.hours)), "weight": str(profile.routing_weight),
        "daily_cap": "" if profile.daily_cap is None else str(profile.daily_cap),
        "max_open": "" if profile.open_ceiling is None else str(profile.open_ceiling),
    }
    if failed["form"] == "settings":
        shown.update(failed["posted"])
    today = clock.now().astimezone(ZoneInfo(profile.time_zone)).date()
    context = {
        "profile": profile, "rep": profile.user, "shown": shown, "failed": failed,
        "teams": teams if profile.team in (teams := teams_run_by(viewer_of(user))) else [profile.team, *teams],
        "time_off": time_off_ahead(profile, today),
        "open_leads": Lead.objects.filter(owner_kind=OwnerKind.REP, owner_rep_id=profile.user_id, stage__in=OPEN_STAGES).count(),
    }
    return render(request, "web/rep_settings.html", context, status=status)


def _read(posted: dict[str, str]) -> dict[str, Any]:
    """Form text as the values the file would hold: whole numbers as numbers, hours as lines, an empty cap as none."""
    values: dict[str, Any] = {name: value.strip() for name, value in posted.items()}
    for name in WHOLE_FIELDS:
        text = values[name]
        values[name] = int(text) if text.isascii() and text.isdigit() else (text or None)
    values["hours"] = [line.strip() for line in posted["hours"].splitlines() if line.strip()] or None
    return values


def _by_field(refused: Refused) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for error in refused.errors:
        problems.setdefault(error["field"], []).append(error["message"])
    return problems


def _not_for_you(request: HttpRequest) -> HttpResponse:
    refused = NotAllowed.one("role", "settings are for managers (their teams) and admins")
    return refused_page(request, refused, not_allowed="You cannot change settings")

