from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from leadbaton.intake.queries import submissions_list
from leadbaton.leads.models import Stage
from leadbaton.leads.queries import stage_counts


def home(request: HttpRequest) -> HttpResponse:
    context = {}
    if request.user.is_authenticated:
        counts = stage_counts()
        context = {
            "stages": [(Stage(stage).label, count) for stage, count in counts.items()],
            "submissions": submissions_list(limit=15),
        }
    return render(request, "web/home.html", context)


def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitors: 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
