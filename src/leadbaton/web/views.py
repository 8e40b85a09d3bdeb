from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.views import View

from leadbaton.accounts.models import User
from leadbaton.accounts.queries import time_zone_of
from leadbaton.core import clock
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed, NotFound, Refused
from leadbaton.intake.models import Submission
from leadbaton.intake.queries import submissions_list
from leadbaton.leads.access import ADMIN, MANAGER, MARKETING, readable_leads, submissions_readable
from leadbaton.leads.models import Activity, Blocker, Lead, OwnerKind, Stage
from leadbaton.leads.queries import (
    Asked,
    activities_of,
    handoff_sides,
    handoffs_of,
    inquiries_of,
    latest_asked,
    leads_queued,
    owner_summary,
    stage_counts,
)
from leadbaton.notify.card import company_of
from leadbaton.pipeline.catch_up import rep_availability
from leadbaton.pipeline.followup import (
    LOGGABLE_KINDS,
    OUTCOME_FIELDS,
    REJECT_REASONS,
    activity_log,
    lead_readable,
    lead_seen,
    outcome_record,
    viewer_of,
)
from leadbaton.pipeline.followup import lead_reject as reject
from leadbaton.pipeline.intake import lead_enter
from leadbaton.pipeline.ownership import lead_reassign, move_targets
from leadbaton.pipeline.person import possible_duplicates_seen_by
from leadbaton.sla import services as sla
from leadbaton.sla.models import Clock, Deadline
from leadbaton.sla.queries import INBOX_VIEWS, RepLead, clocks_of, leads_of_rep_by_clock
from leadbaton.web.rows import rows_html

# The page a refused lead shows: its status and title, by the kind of refusal.
REFUSED_PAGES: dict[type[Refused], tuple[int, str]] = {
    NotFound: (404, "No such lead"), NotAllowed: (403, "You cannot open this lead"), Conflict: (409, "Not now"),
}
STAGES_TITLES = {ADMIN: "Leads by stage", MARKETING: "Leads by stage", MANAGER: "Leads of the teams you manage, by stage"}


def home(request: HttpRequest) -> HttpResponse:
    """For a visitor, what LeadBaton is; for a rep, their inbox; for other staff, the leads they may read by
    stage and, if they may read the log, its latest rows."""
    context: dict[str, Any] = {}
    if request.user.is_authenticated:
        viewer = viewer_of(cast(User, request.user))
        if viewer.own_team_id is not None:
            return _inbox(request, cast(User, request.user), viewer.own_team_id)
        counts = stage_counts(readable_leads(viewer))
        log = submissions_readable(viewer)
        context = {
            "stages": [(Stage(stage).label, count) for stage, count in counts.items()],
            "stages_title": STAGES_TITLES.get(viewer.role, "Your leads and your team's queue, by stage"),
            "submissions": submissions_list(where=log, limit=15) if log is not None else None,
        }
    return render(request, "web/home.html", context)


INBOX_LIMIT = 50
# Not interested: never, or not now (N3): back to marketing's nurture after a cool-off.
RECYCLE_CHOICES = (("", "Not interested, for good"), ("30", "Not now: back to marketing in 30 days"),
                   ("90", "Not now: back to marketing in 90 days"), ("180", "Not now: back to marketing in 180 days"))


def _inbox(request: HttpRequest, user: User, team_id: int) -> HttpResponse:
    """The rep's open leads, most urgent first (F1), narrowed by `show` (sla.queries.INBOX_VIEWS) and `blocker`,
    with whether they get new leads now and their team's queue. web/static/web/inbox.js reloads the lists
    every few seconds and tells of new leads; without it the page is whole and current when loaded."""
    now = clock.now()
    zone = ZoneInfo(time_zone_of(user.pk, settings.TIME_ZONE))
    show, blocker = request.GET.get("show", ""), request.GET.get("blocker", "")
    errors = []
    if show not in INBOX_VIEWS:
        errors.append({"field": "show", "message": f"{show[:40]!r} is not a view of the inbox; use one of {', '.join(filter(None, INBOX_VIEWS))}"})
        show = ""
    if blocker and blocker not in Blocker.values:
        errors.append({"field": "blocker", "message": f"{blocker[:40]!r} is not a blocker; use one of {', '.join(Blocker.values)}"})
        blocker = ""
    tomorrow = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone)
    stale_before = now - timedelta(days=sla.policy_for(team_id).progress_every_days)
    rows = leads_of_rep_by_clock(user.pk, now=now, limit=INBOX_LIMIT, view=show, day_ends_at=tomorrow, stale_before=stale_before, blocker=blocker)
    asked = latest_asked([row.lead.pk for row in rows])
    availability = rep_availability(rep_id=user.pk, team_id=team_id, now=now)
    inbox_rows = [_inbox_row(row, asked.get(row.lead.pk), now=now, zone=zone) for row in rows]
    queue = [{**listed_row(lead, zone, getattr(lead, "queued_at", None)), "take": lead_href(lead.pk, "lead_take")}
             for lead in leads_queued([team_id], limit=25)]
    context = {
        "rows": inbox_rows,
        "rows_html": rows_html(request, "web/inbox_rows.html", {"rows": inbox_rows, "narrowed": bool(show or blocker)}),
        "limit": INBOX_LIMIT,
        "views": [(key, label, key == show) for key, label in INBOX_VIEWS.items()],
        "show": show, "blocker": blocker, "blockers": Blocker.choices, "errors": errors,
        "queue": queue,
        "queue_html": rows_html(request, "web/queue_rows.html", {"queue": queue, "take": availability is not None and availability.eligible}),
        "availability": availability,
        "time_zone": zone.key,
        "now": now,
    }
    return render(request, "web/inbox.html", context, status=400 if errors else 200)


def _inbox_row(row: RepLead, latest: Asked | None, *, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """A lead as the inbox lists it: who, what they asked, and what is due, its times written out in the rep's zone
    (here, not in the template: the inbox lists 50 rows and Django's date filters were a third of its time)."""
    lead = row.lead
    clock_due = row.next_clock
    what = (latest.message if latest else "") or lead.product_interest
    return {  # every value the row shows, flat: the template looks up nothing on the lead
        "id": lead.pk,
        "href": lead_href(lead.pk),
        "stage_key": lead.stage,
        "untouched": lead.stage == Stage.ASSIGNED,
        "score": lead.score,
        "next_step": lead.next_step,
        "needs_outcome": lead.stage == Stage.IN_PROGRESS and not lead.next_step,
        "name": str(lead) or f"Lead {lead.pk}",
        "company": company_of(lead)[0],
        "asked": what if len(what) <= 140 else what[:139].rstrip() + "…",
        "source": latest.source_slug if latest else lead.source_slug,
        "received": Moment.of(lead.received_at, zone, with_year=True),
        "age": age_text(now - lead.received_at),
        "breached": row.breached,
        "clock_kind": Clock(clock_due.kind).label if clock_due else "",
        "clock_at": Moment.of(clock_due.breaches_at, zone) if clock_due else None,
        "countdown": countdown_text(clock_due.seconds_left(now)) if clock_due and clock_due.kind == Clock.FIRST_RESPONSE else "",
        "next_step_at": Moment.of(lead.next_step_at, zone) if lead.next_step_at else None,
        "overdue": lead.next_step_overdue(now),
        "stage": Stage(lead.stage).label,
        "blocker": Blocker(lead.blocker).label.lower() if lead.blocker else "",
    }


def listed_row(lead: Lead, zone: ZoneInfo, when: datetime | None, *, year: bool | None = None) -> dict[str, Any]:
    """A lead in a page's list: its name, its page and a time (`when`) written out in the reader's zone. Built here, not in
    the template: a list of 25 with Django's url tag and date filter per row took 5 ms to render."""
    return {"lead": lead, "name": str(lead) or lead.email or f"Lead {lead.pk}", "href": lead_href(lead.pk),
            "when": Moment.of(when, zone, with_year=year) if when else None}


@dataclass(frozen=True)
class Moment:
    """A time as a page shows it: `iso` (UTC, for <time datetime> and scripts) and `text` in the reader's zone, zone named."""

    iso: str
    text: str

    @classmethod
    def of(cls, at: datetime, zone: ZoneInfo, *, with_year: bool | None = None) -> Moment:
        """`with_year` None: the year is written when it is not this year in the reader's zone (a next step in January, seen in December)."""
        local = at.astimezone(zone)
        if with_year is None:
            with_year = local.year != clock.now().astimezone(zone).year
        year = f" {local.year}" if with_year else ""
        # As strftime's "%a %-d %b, %H:%M" in the C locale, at a third of its cost: a list of 50 shows 150 times.
        text = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}{year}, {local.hour:02d}:{local.minute:02d} {local.tzname()}"
        return cls(at.astimezone(UTC).isoformat(), text)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def lead_href(lead_id: int, route: str = "lead") -> str:
    """reverse(route, args=[lead_id]) for a route whose one argument is a lead's id ("lead", "lead_take", ...)."""
    return route_href(route, lead_id)


def route_href(route: str, object_id: int) -> str:
    """reverse(route, args=[object_id]) for a route whose one argument is an id ("lead", "rep_pause", ...), without
    reverse's 40 µs for each row of a list: the route is reversed once, and the id written into it."""
    head, tail = _id_route(route)
    return f"{head}{object_id}{tail}"


_SOME_ID = 8_642_097_531


@cache
def _id_route(route: str) -> tuple[str, str]:
    head, _, tail = reverse(route, args=[_SOME_ID]).partition(str(_SOME_ID))
    return head, tail


def age_text(age: timedelta) -> str:
    """How long ago, in the largest whole unit: "just now", "12 minutes", "3 hours", "2 days"."""
    minutes = int(age.total_seconds() // 60)
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "just now"


def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitors: 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def lead_page(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Everything about one lead for whoever may read it (leads.access): the link every notification carries.
    Whoever may work it also finds the forms that log a touch, record an outcome or send it back as not a lead."""
    return _lead_page(request, lead_id)


def _lead_page(request: HttpRequest, lead_id: int, *, form: str = "", errors: list[dict[str, str]] | None = None,
               status: int = 200) -> HttpResponse:
    """The lead page; after a refused action, `form` (touch, outcome, reject) shows `errors` next to its fields and keeps what was typed."""
    user = cast(User, request.user)
    try:
        lead, access = lead_seen(lead_id=lead_id, by=user)
    except Refused as refused:
        return refused_page(request, refused)
    zone = time_zone_of(user.pk, settings.TIME_ZONE)
    company, company_guessed = company_of(lead)
    problems: dict[str, list[str]] = {}
    for error in errors or []:
        problems.setdefault(error["field"], []).append(error["message"])
    context: dict[str, Any] = {
        "lead": lead,
        "name": str(lead) or f"Lead {lead.pk}",
        "company": company,
        "company_guessed": company_guessed,
        "owner": owner_summary(lead),
        "inquiries": inquiries_of(lead.pk),
        "possible_duplicates": possible_duplicates_seen_by(lead_id=lead.pk, by=user),
        "timeline_html": rows_html(request, "web/lead_timeline_rows.html",
                                   {"activities": [_timeline_row(activity, ZoneInfo(zone)) for activity in activities_of(lead.pk)]}),
        "handoffs": [(handoff, *handoff_sides(handoff)) for handoff in handoffs_of(lead.pk)],
        "clocks": [_clock_row(deadline, now=clock.now()) for deadline in clocks_of(lead.pk)],
        "time_zone": zone,
        "can_work": lead.is_open and lead.stage in (Stage.ASSIGNED, Stage.IN_PROGRESS) and access.work,
        "form": form, "problems": problems, "posted": request.POST if form else {},
        "mine_touch": form == "touch", "mine_outcome": form == "outcome", "mine_reject": form == "reject",
        "call_results": [choice for choice in Activity.Result.choices if choice[0] != Activity.Result.OTHER],
        "kinds": [(kind, Activity.Kind(kind).label) for kind in LOGGABLE_KINDS if kind != Activity.Kind.CALL],
        "results": Activity.Result.choices, "blockers": Blocker.choices, "reject_reasons": list(REJECT_REASONS.items()),
        "untouched": lead.stage == Stage.ASSIGNED,
        "recycle_choices": RECYCLE_CHOICES,
        "mine_reassign": form == "reassign",
    }
    move_reps, move_teams = move_targets(lead=lead, by=user)
    context["move_to"] = [(f"rep:{profile.user_id}", f"{profile.user.display_name} ({profile.team.name})") for profile in move_reps
                          if not (lead.owner_kind == OwnerKind.REP and lead.owner_rep_id == profile.user_id)]
    context["move_to"] += [(f"team:{team.pk}", f"the {team.name} queue") for team in move_teams
                           if not (lead.owner_kind == OwnerKind.TEAM and lead.owner_team_id == team.pk)]
    return render(request, "web/lead.html", context, status=status)


def errors_by_field(refused: Refused) -> dict[str, list[str]]:
    """A refusal's errors as a form shows them: each field's messages, to write next to it."""
    problems: dict[str, list[str]] = {}
    for error in refused.errors:
        problems.setdefault(error["field"], []).append(error["message"])
    return problems


def refused_page(request: HttpRequest, refused: Refused, *, not_allowed: str = "") -> HttpResponse:
    """The page for a refusal: its status and title by kind (a lead one may not see as no lead at all); `not_allowed`
    titles a NotAllowed that is about something other than opening a lead."""
    status, title = next((page for kind, page in REFUSED_PAGES.items() if isinstance(refused, kind)), (400, "Not changed"))
    if isinstance(refused, NotAllowed) and not_allowed:
        title = not_allowed
    return render(request, "web/refused.html", {"title": title, "errors": refused.errors}, status=status)


def _timeline_row(activity: Activity, zone: ZoneInfo) -> dict[str, Any]:
    """An activity as the timeline shows it, its times written out in the viewer's zone; an outcome's due time as a
    time, not as text."""
    due = activity.detail.get("next_step_at") if activity.kind == Activity.Kind.OUTCOME else None
    note = activity.note
    if due:
        detail = activity.detail
        note = f"In progress; blocker: {Blocker(detail['blocker']).label.lower()}; next: {detail['next_step']}"
    what = activity.get_kind_display() + (f": {activity.get_result_display()}" if activity.result else "")
    return {"when": full_time(activity.at, zone), "what": what, "by": activity.by_user.display_name if activity.by_user else "",
            "note": linebreaksbr(note), "due": Moment.of(datetime.fromisoformat(due), zone, with_year=True) if due else None}


def full_time(at: datetime, zone: ZoneInfo) -> str:
    """A time to the second in `zone`, zone named ("2026-11-25 11:00:00 CET"), as the date filter's "Y-m-d H:i:s T" writes it."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


class LeadAction(LoginRequiredMixin, View):
    """A form on the lead page that changes the lead: POST only; a GET answers 405."""

    http_method_names = ["post"]


class LeadTouch(LeadAction):
    def post(self, request: HttpRequest, lead_id: int) -> HttpResponse:
        return lead_touch(request, lead_id)


class LeadOutcome(LeadAction):
    def post(self, request: HttpRequest, lead_id: int) -> HttpResponse:
        return lead_outcome(request, lead_id)


class LeadReject(LeadAction):
    def post(self, request: HttpRequest, lead_id: int) -> HttpResponse:
        return lead_reject(request, lead_id)


class LeadReassign(LeadAction):
    """A manager gives the lead to another rep or back to a queue, with a reason (pipeline.ownership.lead_reassign, as the
    API and the board do); `if_owner` is the owner the page showed, so a lead that changed hands meanwhile stays put."""

    def post(self, request: HttpRequest, lead_id: int) -> HttpResponse:
        kind, _, number = request.POST.get("to", "").partition(":")
        target = int(number) if number.isascii() and number.isdigit() and len(number) <= 18 else None
        if kind not in ("rep", "team") or target is None:
            refused = Invalid.one("to", "choose a rep or a team's queue from the list")
            return _acted_wrongly(request, lead_id, "reassign", refused)
        try:
            lead = lead_reassign(lead_id=lead_id, by=cast(User, request.user), reason=request.POST.get("reason", ""), now=clock.now(),
                                 to_rep_id=target if kind == "rep" else None, to_team_id=target if kind == "team" else None,
                                 if_owner=request.POST.get("if_owner", ""))
        except Refused as refused:
            if isinstance(refused, Invalid):
                refused = Invalid([{**error, "field": "to" if error["field"] in ("to_rep", "to_team") else error["field"]}
                                   for error in refused.errors])
            return _acted_wrongly(request, lead_id, "reassign", refused)
        messages.success(request, f"Moved to {owner_summary(lead)['name']}; the handoff records why.")
        return redirect("lead", lead_id)


def lead_touch(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Log a call with its result, an email, SMS or meeting, or a note (pipeline.followup.activity_log, as the API does)."""
    data = request.POST
    try:
        logged = activity_log(lead_id=lead_id, by=cast(User, request.user), kind=data.get("kind", ""), result=data.get("result", ""),
                              note=data.get("note", ""), now=clock.now())
    except Refused as refused:
        return _acted_wrongly(request, lead_id, "touch", refused)
    what = logged.activity.get_kind_display() + (f": {logged.activity.get_result_display().lower()}" if logged.activity.result else "")
    messages.success(request, f"{what} logged.")
    return redirect("lead", lead_id)


def lead_outcome(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Record where the lead stands (pipeline.followup.outcome_record). The next step's time is read in the viewer's time zone."""
    user, data = cast(User, request.user), request.POST
    zone = ZoneInfo(time_zone_of(user.pk, settings.TIME_ZONE))
    problems, due, value = [], None, None
    if data.get("next_step_at", "").strip() and data.get("outcome") == Stage.IN_PROGRESS:
        try:
            due = datetime.fromisoformat(data["next_step_at"].strip()).replace(tzinfo=zone)
        except ValueError:
            problems.append({"field": "next_step_at", "message": f"{data['next_step_at'][:40]!r} is not a date and time; pick one such as 2026-11-27 10:00"})
    if data.get("value", "").strip() and data.get("outcome") == Stage.PURCHASED:
        try:
            value = Decimal(data["value"].strip().replace(",", ""))
        except InvalidOperation:
            problems.append({"field": "value", "message": f"{data['value'][:40]!r} is not an amount; write one such as 12500.00"})
    recycle = data.get("recycle_after_days", "").strip() if data.get("outcome") == Stage.NOT_INTERESTED else ""
    days = int(recycle) if re.fullmatch(r"-?[0-9]{1,6}", recycle) else None
    if recycle and days is None:
        problems.append({"field": "recycle_after_days", "message": f"{recycle[:20]!r} is not a number of days; choose one from the list"})
    if problems:
        return _acted_wrongly(request, lead_id, "outcome", Invalid(problems))
    outcome = data.get("outcome", "")
    fields = OUTCOME_FIELDS.get(outcome, ())
    texts: dict[str, str] = {name: data.get(name, "") for name in ("blocker", "next_step", "currency", "reason") if name in fields}
    try:
        logged = outcome_record(
            lead_id=lead_id, by=user, outcome=outcome, now=clock.now(), next_step_at=due, value=value,
            recycle_after_days=days, **texts,
        )
    except Refused as refused:
        return _acted_wrongly(request, lead_id, "outcome", refused)
    recycled = f" It goes back to marketing's nurture in {days} days." if logged.lead.recycle_at else ""
    messages.success(request, f"Recorded: {logged.lead.get_stage_display().lower()}.{recycled}")
    return redirect("lead", lead_id)


def lead_reject(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Not a lead: back to marketing with a reason (pipeline.followup.lead_reject)."""
    data = request.POST
    duplicate_of = None
    if data.get("duplicate_of", "").strip() and data.get("reason") == "duplicate":
        if not data["duplicate_of"].strip().isdigit():
            return _acted_wrongly(request, lead_id, "reject", Invalid([{"field": "duplicate_of", "message": (
                f"{data['duplicate_of'][:40]!r} is not a lead id; give the number of the other lead, such as 812")}]))
        duplicate_of = int(data["duplicate_of"].strip())
    try:
        reject(lead_id=lead_id, by=cast(User, request.user), reason=data.get("reason", ""), note=data.get("note", ""),
               duplicate_of=duplicate_of, now=clock.now())
    except Refused as refused:
        return _acted_wrongly(request, lead_id, "reject", refused)
    messages.success(request, "Sent back to marketing as not a lead.")
    return redirect("lead", lead_id)


def _acted_wrongly(request: HttpRequest, lead_id: int, form: str, refused: Refused) -> HttpResponse:
    """A refused action: the page for a lead one may not see or work, else the lead page with the form's errors."""
    if isinstance(refused, (NotFound, NotAllowed)):
        return refused_page(request, refused)
    return _lead_page(request, lead_id, form=form, errors=refused.errors, status=409 if isinstance(refused, Conflict) else 400)


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


# Entering a lead by hand (C1): the fields the form offers, in its order, with their labels.
ENTRY_FIELDS = (
    ("first_name", "First name"), ("last_name", "Last name"), ("email", "Email"), ("phone", "Phone"),
    ("company", "Company"), ("title", "Job title"), ("country", "Country"), ("city", "City"),
    ("product_interest", "Interested in"), ("campaign", "Campaign or event"), ("message", "What they asked"),
)


class LeadEntry(LoginRequiredMixin, View):
    """A lead from a phone call or a business card, typed in by staff: the intake path under the `manual` source
    (pipeline.intake.lead_enter). Refused values come back next to their fields with everything typed kept."""

    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._form(request, {}, [])

    def post(self, request: HttpRequest) -> HttpResponse:
        user = cast(User, request.user)
        values = {name: request.POST.get(name, "") for name, _ in ENTRY_FIELDS}
        token = request.POST.get("form_token", "")
        received = lead_enter(values=values, by_id=user.pk, by_email=user.email, remote_addr=str(request.META.get("REMOTE_ADDR", "")),
                              form_token=token)
        if received.body.get("errors"):
            return self._form(request, values, received.body["errors"], status=400, token=token)
        lead_id = received.body.get("id")
        again = received.outcome == Submission.Outcome.REPLAYED  # the same form sent twice: the first one's lead, nothing added
        warnings = "".join(f" {warning['field']}: {warning['message']}." for warning in received.body.get("warnings", []))
        if lead_id is None:  # kept, not processed yet (it failed unexpectedly): the worker goes on with it
            messages.success(request, f"Saved as submission {received.body.get('submission_id')}; it is being processed and "
                                      "will reach its owner shortly. No need to enter it again.")
            return redirect("lead_new")
        try:
            lead_readable(lead_id=lead_id, by=user)
        except Refused:
            # A lead this person may not see says nothing about itself: not its id, its owner, or that it existed.
            messages.success(request, f"Saved as submission {received.body.get('submission_id')}; the lead is with a team "
                                      "you do not see, and its owner has been told." + warnings)
            return redirect("lead_new")
        said = "This form was sent already; nothing was added" if again else "Merged into the person's open lead" if received.body["merged"] else "Lead created"
        messages.success(request, f"{said}: lead {lead_id}, with {received.body['owner']['name']}." + warnings)
        return redirect("lead", lead_id)

    def _form(self, request: HttpRequest, values: dict[str, str], errors: list[dict[str, str]], status: int = 200,
              token: str = "") -> HttpResponse:
        problems: dict[str, list[str]] = {}
        for error in errors:
            problems.setdefault(error["field"], []).append(error["message"])
        known = {name for name, _ in ENTRY_FIELDS}
        fields = [{"name": name, "label": label, "value": values.get(name, ""), "errors": problems.get(name, [])} for name, label in ENTRY_FIELDS]
        other = [f"{field}: {' '.join(messages)}" for field, messages in problems.items() if field not in known]
        # One token per form shown (kept while it is corrected): the same form sent twice is one lead (pipeline.intake.lead_enter).
        context = {"fields": fields, "other_errors": other, "form_token": token or secrets.token_urlsafe(16)}
        return render(request, "web/lead_new.html", context, status=status)
