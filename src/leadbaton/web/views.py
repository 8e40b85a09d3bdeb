from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from leadbaton.accounts.models import User
from leadbaton.accounts.queries import time_zone_of
from leadbaton.core import clock
from leadbaton.core.refusals import NotAllowed, NotFound, Refused
from leadbaton.intake.queries import submissions_list
from leadbaton.leads.access import ADMIN, MANAGER, MARKETING, readable_leads, submissions_readable
from leadbaton.leads.models import Stage
from leadbaton.leads.queries import (
    activities_of,
    handoff_sides,
    handoffs_of,
    inquiries_of,
    owner_summary,
    stage_counts,
)
from leadbaton.notify.card import company_of
from leadbaton.pipeline.followup import lead_readable, viewer_of
from leadbaton.pipeline.person import possible_duplicates_seen_by
from leadbaton.sla.models import Clock, Deadline
from leadbaton.sla.queries import clocks_of

# The page a refused lead shows: its status and title, by the kind of refusal.
REFUSED_PAGES: dict[type[Refused], tuple[int, str]] = {NotFound: (404, "No such lead"), NotAllowed: (403, "You cannot open this lead")}
STAGES_TITLES = {ADMIN: "Leads by stage", MARKETING: "Leads by stage", MANAGER: "Leads of the teams you manage, by stage"}


def home(request: HttpRequest) -> HttpResponse:
    """For a visitor, what LeadBaton is; for staff, the leads they may read by stage and, if they may read the log, its latest rows."""
    context: dict[str, Any] = {}
    if request.user.is_authenticated:
        viewer = viewer_of(cast(User, request.user))
        counts = stage_counts(readable_leads(viewer))
        log = submissions_readable(viewer)
        context = {
            "stages": [(Stage(stage).label, count) for stage, count in counts.items()],
            "stages_title": STAGES_TITLES.get(viewer.role, "Your leads and your team's queue, by stage"),
            "submissions": submissions_list(where=log, limit=15) if log is not None else None,
        }
    return render(request, "web/home.html", context)


def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitors: 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def lead_page(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Everything about one lead for whoever may read it (leads.access): the link every notification carries."""
    user = cast(User, request.user)
    try:
        lead = lead_readable(lead_id=lead_id, by=user)
    except Refused as refused:
        status, title = next((page for kind, page in REFUSED_PAGES.items() if isinstance(refused, kind)), (400, "Refused"))
        return render(request, "web/refused.html", {"title": title, "errors": refused.errors}, status=status)
    company, company_guessed = company_of(lead)
    context: dict[str, Any] = {
        "lead": lead,
        "name": str(lead) or f"Lead {lead.pk}",
        "company": company,
        "company_guessed": company_guessed,
        "owner": owner_summary(lead),
        "inquiries": inquiries_of(lead.pk),
        "possible_duplicates": possible_duplicates_seen_by(lead_id=lead.pk, by=user),
        "activities": activities_of(lead.pk),
        "handoffs": [(handoff, *handoff_sides(handoff)) for handoff in handoffs_of(lead.pk)],
        "clocks": [_clock_row(deadline, now=clock.now()) for deadline in clocks_of(lead.pk)],
        "time_zone": time_zone_of(user.pk, settings.TIME_ZONE),
    }
    return render(request, "web/lead.html", context)


def _clock_row(deadline: Deadline, *, now: Any) -> dict[str, Any]:
    """A clock as the lead page shows it; a pending first response counts down (web/static/web/countdown.js)."""
    seconds = deadline.seconds_left(now)
    live = deadline.kind == Clock.FIRST_RESPONSE and seconds is not None
    return {"deadline": deadline, "steps": list(deadline.taken.all()), "countdown": countdown_text(seconds) if live else ""}


def countdown_text(seconds: int | None) -> str:
    """What a countdown shows: "4:10 left", "1:02:03 left", "2 d 3:04:05 left", or "time is up".

    countdown.js writes the same text as the seconds pass."""
    if not seconds or seconds <= 0:
        return "time is up"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours}:{minutes:02d}:{secs:02d} left"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d} left"
    return f"{minutes}:{secs:02d} left"
