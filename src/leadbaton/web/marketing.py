"""Marketing's pages: the submission log (each request as it arrived, what became of it, replay), the leads sales
sent back as not a lead with their reasons, the nurture list, and marketing's targets and campaign costs.

The log is read as the API reads it (leads.access.submissions_readable: admins and marketing all of it, a manager
the submissions of their teams' leads); replaying, the rejected list and the nurture list are admins' and marketing's.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from leadbaton.accounts.models import User
from leadbaton.accounts.queries import time_zone_of
from leadbaton.core import clock
from leadbaton.core.refusals import NotAllowed, Refused
from leadbaton.intake.models import Submission
from leadbaton.intake.queries import source_slugs, submissions_list
from leadbaton.leads.access import ADMIN, MARKETING, Viewer, submissions_readable
from leadbaton.leads.queries import campaigns_seen, leads_nurtured, rejection_counts, rejections_since
from leadbaton.pipeline.followup import REJECT_REASONS, viewer_of
from leadbaton.pipeline.intake import submission_replay
from leadbaton.pipeline.marketing import TARGET_FIELDS, campaign_cost_enter, campaign_cost_remove, targets_change
from leadbaton.qualification.models import CampaignCost
from leadbaton.qualification.queries import targets_now
from leadbaton.web.views import refused_page

LOG_LIMIT = 100
PERIODS = {"7": "7 days", "30": "30 days", "90": "90 days", "365": "a year"}


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/refused.html", {"title": "You cannot open this page", "errors": [{"field": "role", "message": message}]},
                  status=403)


def _zone(user: User) -> str:
    return ZoneInfo(time_zone_of(user.pk, settings.TIME_ZONE)).key


def _is_marketing(viewer: Viewer) -> bool:
    return viewer.role in (ADMIN, MARKETING)


@login_required
def submissions(request: HttpRequest) -> HttpResponse:
    """The newest submissions first, of one status and one source if asked; an unknown one is named (400), the rest still shown."""
    user = cast(User, request.user)
    viewer = viewer_of(user)
    where = submissions_readable(viewer)
    if where is None:
        return _forbidden(request, "the submission log is for marketing, managers and admins; your leads show what each person asked")
    status, source = request.GET.get("status", ""), request.GET.get("source", "")
    sources = source_slugs()
    errors = []
    if status and status not in Submission.Status.values:
        errors.append({"field": "status", "message": f"{status[:40]!r} is not a status; use one of {', '.join(Submission.Status.values)}"})
        status = ""
    if source and source not in sources:
        errors.append({"field": "source", "message": f"{source[:60]!r} is not a source; use one of {', '.join(sources) or 'none yet'}"})
        source = ""
    rows = list(submissions_list(status=status or None, source_slug=source or None, where=where, limit=LOG_LIMIT))
    context = {
        "rows": rows, "limit": LOG_LIMIT, "status": status, "source": source, "sources": sources,
        "statuses": Submission.Status.choices, "errors": errors, "time_zone": _zone(user), "may_replay": _is_marketing(viewer),
    }
    return render(request, "web/submissions.html", context, status=400 if errors else 200)


@login_required
def submission_page(request: HttpRequest, submission_id: int) -> HttpResponse:
    """One submission as it arrived (headers and body, JSON laid out), what it was answered, and what became of it."""
    user = cast(User, request.user)
    viewer = viewer_of(user)
    where = submissions_readable(viewer)
    if where is None:
        return _forbidden(request, "the submission log is for marketing, managers and admins")
    row = Submission.objects.select_related("source", "replay_of").filter(where, pk=submission_id).first()
    if row is None:
        errors = [{"field": "submission_id", "message": "there is no submission with this id that you can see"}]
        return render(request, "web/refused.html", {"title": "No such submission", "errors": errors}, status=404)
    context = {
        "row": row, "body": _laid_out(row.body_text), "headers": sorted(row.headers.items()),
        "replays": list(row.replays.order_by("id").values_list("pk", flat=True)),  # and how many, so a second click adds no copy
        "time_zone": _zone(user), "may_replay": _is_marketing(viewer), "seen": _state_of(row.pk),
    }
    return render(request, "web/submission.html", context)


def _laid_out(body: str) -> str:
    """A JSON body indented for reading; any other body, or one too deep to lay out, as it came. Characters that cannot
    be written to a page (a lone surrogate, which JSON may escape) stay escaped."""
    try:
        laid_out = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the reader goes (intake refused it so)
        return body
    try:
        laid_out.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(json.loads(body), indent=2)
    return laid_out


def _state_of(submission_id: int) -> str:
    """What the page showed of a submission's processing, so a form sent from an older view of it can be told apart:
    its status, attempts and how many copies were processed from it."""
    row = Submission.objects.filter(pk=submission_id).values_list("status", "attempts").first()
    return f"{row[0]}:{row[1]}:{Submission.objects.filter(replay_of_id=submission_id).count()}" if row else ""


class SubmissionReplay(LoginRequiredMixin, View):
    """Process a submission again (pipeline.intake.submission_replay): a failed one in place, any other as a new copy."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, submission_id: int) -> HttpResponse:
        viewer = viewer_of(cast(User, request.user))
        where = submissions_readable(viewer)
        if not _is_marketing(viewer):
            return _forbidden(request, "only marketing and admins replay submissions")
        if where is None or not Submission.objects.filter(where, pk=submission_id).exists():
            errors = [{"field": "submission_id", "message": "there is no submission with this id that you can see"}]
            return render(request, "web/refused.html", {"title": "No such submission", "errors": errors}, status=404)
        seen = request.POST.get("seen", "")
        if seen and seen != _state_of(submission_id):  # processed again since the page was shown: a second click, or a colleague
            latest = Submission.objects.filter(replay_of_id=submission_id).order_by("-id").values_list("pk", flat=True).first()
            messages.error(request, "It was processed again already since you opened it"
                                    + (f", as submission {latest}" if latest else "") + "; look at it before pressing Process again.")
            return redirect("submission", latest or submission_id)
        try:
            received = submission_replay(submission_id=submission_id)
        except Refused as refused:
            return refused_page(request, refused)
        body, outcome = received.body, received.outcome
        copy = body.get("submission_id", submission_id)
        if body.get("errors"):
            said = "; ".join(f"{error['field']}: {error['message']}" for error in body["errors"])
            messages.error(request, f"Processed again and refused again: {said}.")
        elif outcome == Submission.Outcome.REPLAYED:
            messages.success(request, f"Answered with lead {body.get('id')}, the lead of the first request with its Idempotency-Key; "
                                      "nothing new was processed.")
        elif body.get("id"):
            messages.success(request, f"Processed again: lead {body['id']}" + (" (merged into the person's open lead)." if body.get("merged") else "."))
        elif Submission.objects.filter(pk=copy, due_at__isnull=False).exists():
            messages.error(request, "Processing failed again; it is kept and retried shortly.")
        else:
            messages.error(request, "Processing failed again and is not retried any more; the error is below.")
        return redirect("submission", copy)


@login_required
def rejected(request: HttpRequest) -> HttpResponse:
    """Leads sales sent back as not a lead: counted by reason and by source over the period, then each with who sent it back and why."""
    user = cast(User, request.user)
    if not _is_marketing(viewer_of(user)):
        return _forbidden(request, "the leads sales sent back are marketing's and admins' to read")
    period, reason = request.GET.get("days", "30"), request.GET.get("reason", "")
    errors = []
    if period not in PERIODS:
        errors.append({"field": "days", "message": f"{period[:20]!r} is not a period; use one of {', '.join(PERIODS)} (days)"})
        period = "30"
    if reason and reason not in REJECT_REASONS:
        errors.append({"field": "reason", "message": f"{reason[:40]!r} is not a reason; use one of {', '.join(REJECT_REASONS)}"})
        reason = ""
    since = clock.now() - timedelta(days=int(period))
    by_reason, by_source = rejection_counts(since)
    context: dict[str, Any] = {
        "rows": rejections_since(since, reason=reason), "by_reason": [(code, REJECT_REASONS.get(code, code or "not recorded"), n)
                                                                    for code, n in by_reason.items()],
        "by_source": list(by_source.items()), "total": sum(by_reason.values()), "reasons": list(REJECT_REASONS.items()),
        "reason": reason, "period": period, "periods": list(PERIODS.items()), "errors": errors, "time_zone": _zone(user),
    }
    return render(request, "web/rejected.html", context, status=400 if errors else 200)


@login_required
def nurture(request: HttpRequest) -> HttpResponse:
    """The leads marketing nurtures, best score first, each with why it is not sales-ready (its score's reasons)."""
    user = cast(User, request.user)
    if not _is_marketing(viewer_of(user)):
        return _forbidden(request, "the nurture list is marketing's and admins' to read")
    source = request.GET.get("source", "")
    sources = source_slugs()
    errors = []
    if source and source not in sources:
        errors.append({"field": "source", "message": f"{source[:60]!r} is not a source; use one of {', '.join(sources) or 'none yet'}"})
        source = ""
    context = {"rows": leads_nurtured(source_slug=source), "limit": 100, "source": source, "sources": sources, "errors": errors,
               "time_zone": _zone(user)}
    return render(request, "web/nurture.html", context, status=400 if errors else 200)


COSTS_SHOWN = 100
COST_FIELDS = [
    ("campaign", "Campaign", "as leads carry it, e.g. spring-webinar"),
    ("first_day", "First day", "YYYY-MM-DD"),
    ("last_day", "Last day", "the cost is spread evenly over the days"),
    ("amount", "Amount", "e.g. 2500.00"),
    ("currency", "Currency", "ISO 4217, e.g. EUR"),
    ("note", "Note", "optional: what it paid for"),
]


def _marketing_settings(request: HttpRequest, viewer: Viewer, *, errors: list[dict[str, str]] | None = None,
                        typed: dict[str, str] | None = None, form: str = "", status: int = 200) -> HttpResponse:
    targets = targets_now()
    campaigns = campaigns_seen(clock.now() - timedelta(days=365))
    context = {
        "targets": targets, "costs": CampaignCost.objects.select_related("entered_by").order_by("-first_day", "campaign", "-id")[:COSTS_SHOWN],
        "campaigns": campaigns, "errors": errors or [], "typed": typed or {}, "form": form,
        "problems": {error["field"]: error["message"] for error in errors or []},
        "cost_fields": [{"name": name, "label": label, "hint": hint, "value": (typed or {}).get(name, "") if form == "cost" else "",
                         "problem": next((error["message"] for error in errors or [] if error["field"] == name), "") if form == "cost" else ""}
                        for name, label, hint in COST_FIELDS],
        "may_set_targets": viewer.role == ADMIN, "time_zone": _zone(cast(User, request.user)),
    }
    return render(request, "web/marketing_settings.html", context, status=status)


@login_required
def marketing_settings(request: HttpRequest) -> HttpResponse:
    """Marketing's targets (admins set them) and what each campaign cost (admins and marketing enter it)."""
    viewer = viewer_of(cast(User, request.user))
    if not _is_marketing(viewer):
        return _forbidden(request, "marketing's targets and campaign costs are set by admins and marketing; managers read them in Reports, Marketing")
    return _marketing_settings(request, viewer)


class MarketingTargetsSet(LoginRequiredMixin, View):
    """Set marketing's targets (pipeline.marketing.targets_change): admins."""

    def post(self, request: HttpRequest) -> HttpResponse:
        user = cast(User, request.user)
        viewer = viewer_of(user)
        typed = {name: request.POST.get(name, "").strip() for name in TARGET_FIELDS}
        try:
            targets_change(by=user, values=typed, now=clock.now())
        except Refused as refused:
            if not _is_marketing(viewer) or isinstance(refused, NotAllowed):
                return refused_page(request, refused, not_allowed="You cannot set marketing's targets")
            return _marketing_settings(request, viewer, errors=refused.errors, typed=typed, form="targets", status=400)
        messages.success(request, "Marketing's targets are saved; the reports measure every period against them, past ones too.")
        return redirect("marketing_settings")


class CampaignCostAdd(LoginRequiredMixin, View):
    """Enter what a campaign cost (pipeline.marketing.campaign_cost_enter): admins and marketing."""

    def post(self, request: HttpRequest) -> HttpResponse:
        user = cast(User, request.user)
        viewer = viewer_of(user)
        typed = {name: request.POST.get(name, "").strip() for name in ("campaign", "first_day", "last_day", "amount", "currency", "note")}
        try:
            cost = campaign_cost_enter(by=user, values=typed, now=clock.now())
        except Refused as refused:
            if isinstance(refused, NotAllowed):
                return refused_page(request, refused, not_allowed="You cannot enter campaign costs")
            return _marketing_settings(request, viewer, errors=refused.errors, typed=typed, form="cost", status=400)
        messages.success(request, f"Saved: {cost.campaign} cost {cost.amount:,.2f} {cost.currency} from {cost.first_day} to {cost.last_day}.")
        return redirect("marketing_settings")


class CampaignCostDrop(LoginRequiredMixin, View):
    """Delete a campaign cost entered by mistake: admins and marketing."""

    def post(self, request: HttpRequest, cost_id: int) -> HttpResponse:
        user = cast(User, request.user)
        try:
            cost = campaign_cost_remove(by=user, cost_id=cost_id)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot delete campaign costs")
        messages.success(request, f"Deleted: {cost.campaign} cost {cost.amount:,.2f} {cost.currency} from {cost.first_day} to {cost.last_day}.")
        return redirect("marketing_settings")
