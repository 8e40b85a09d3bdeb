from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from leadbaton.accounts.models import User
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
    }
    return render(request, "web/lead.html", context)
