"""The manager's team board: how each rep stands and why they do or do not get new leads, pausing them, the
team's queue with hand assignment, the clocks that ran out today, and every lead of the team found by name,
email, phone or company, each open one reassignable with a reason.

Every change goes through the use case the API calls (pipeline.ownership, pipeline.queue); a refused one comes
back on the board next to the form that sent it, with what was typed kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from leadbaton.accounts.models import Team, User
from leadbaton.accounts.queries import rep_time_zones, time_zone_of
from leadbaton.core import clock
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed, NotFound, Refused
from leadbaton.leads.access import ADMIN, MANAGER, Viewer, readable_leads
from leadbaton.leads.models import OPEN_STAGES, Lead
from leadbaton.leads.queries import leads_queued, leads_search, owner_summary, team_leads
from leadbaton.pipeline.catch_up import team_availability
from leadbaton.pipeline.followup import viewer_of
from leadbaton.pipeline.ownership import lead_reassign, leads_handed_over, rep_pause, rep_resume
from leadbaton.pipeline.queue import lead_take
from leadbaton.routing.availability import Candidate, Eligibility
from leadbaton.routing.queries import LeadCounts
from leadbaton.sla import services as sla
from leadbaton.sla.models import Clock
from leadbaton.sla.queries import INBOX_VIEWS, RepCounts, clocks_breached_since, leads_of_rep_by_clock, rep_counts
from leadbaton.web.rows import rows_html
from leadbaton.web.views import listed_row, refused_page, route_href

QUEUE_LIMIT = 25
MOVE_LIMIT = 200  # leads moved by one form; a list shows at most 50
REP_LEADS_LIMIT = 50


def teams_run_by(viewer: Viewer) -> list[Team]:
    """The active teams whose board `viewer` may open: every one for an admin, the ones they manage for a manager.
    Anyone else (a rep named a team's manager too) none: the board shows every lead of the team."""
    teams = Team.objects.filter(active=True).order_by("name")
    if viewer.role == ADMIN:
        return list(teams)
    if viewer.role != MANAGER:
        return []
    return list(teams.filter(pk__in=viewer.managed_team_ids))


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    """The boards one may open; straight to the board when there is only one."""
    viewer = viewer_of(cast(User, request.user))
    runs = teams_run_by(viewer)
    if not runs:
        return _no_board(request, viewer)
    if len(runs) == 1:
        return redirect("board", runs[0].slug)
    return render(request, "web/teams.html", {"teams": runs})


@login_required
def board(request: HttpRequest, slug: str) -> HttpResponse:
    user = cast(User, request.user)
    viewer = viewer_of(user)
    runs = teams_run_by(viewer)
    team = next((team for team in runs if team.slug == slug), None)
    if team is None:
        return _no_board(request, viewer, slug=slug)
    return _board(request, user, viewer, team, {name: request.GET.get(name, "") for name in request.GET}, teams=runs)


def _no_board(request: HttpRequest, viewer: Viewer, *, slug: str = "") -> HttpResponse:
    """A board one may not open: 404 for a team that does not exist (or no longer works), else 403 with whose board it is."""
    if slug and not Team.objects.filter(slug=slug, active=True).exists():
        errors = [{"field": "team", "message": f"there is no active team {slug[:60]!r}"}]
        return render(request, "web/refused.html", {"title": "No such team", "errors": errors}, status=404)
    message = ("you do not manage this team; its manager or an admin can open its board" if viewer.role == "manager"
               else "team boards are for managers and admins")
    return render(request, "web/refused.html", {"title": "You cannot open this board", "errors": [{"field": "role", "message": message}]},
                  status=403)


@dataclass(frozen=True)
class RepRow:
    """A rep on the board: as routing sees them now, whether they get new leads and why not, their open leads counted."""

    candidate: Candidate
    check: Eligibility
    counts: RepCounts

    @property
    def pause_href(self) -> str:
        return route_href("rep_pause", self.candidate.rep_id)

    @property
    def resume_href(self) -> str:
        return route_href("rep_resume", self.candidate.rep_id)


@dataclass
class Failed:
    """A refused form on the board: which row sent it, what to fix next to which field, and what was typed."""

    kind: str  # "move" (a list's form that moves the checked leads) or "rep"
    id: int = 0  # the rep's user id
    section: str = ""  # the list whose form it was: "queue" or "found"
    checked: frozenset[str] = frozenset()  # the leads that were checked ("ID@OWNER")
    problems: dict[str, list[str]] = field(default_factory=dict)
    posted: dict[str, str] = field(default_factory=dict)


NO_FAILURE = Failed(kind="")


def _board(request: HttpRequest, user: User, viewer: Viewer, team: Team, params: dict[str, str], *,
           failed: Failed | None = None, status: int = 200, teams: list[Team] | None = None) -> HttpResponse:
    """The board of `team` as `viewer` sees it; `teams`, the boards they may open, when the caller has read them."""
    now = clock.now()
    zone = ZoneInfo(time_zone_of(user.pk, settings.TIME_ZONE))
    team_zone = ZoneInfo(team.time_zone)
    midnight = datetime.combine(now.astimezone(team_zone).date(), time(0), tzinfo=team_zone)
    stale_before = now - timedelta(days=sla.policy_for(team.pk).progress_every_days)
    day_ends = {rep_id: _day_end(now, ZoneInfo(zone)) for rep_id, zone in rep_time_zones(team.pk).items()}  # each rep's own day, as their inbox
    counts = rep_counts(day_ends, now=now, stale_before=stale_before)
    # Routing's catch-up gate counts the same leads (open, stale, overdue next steps): from these counts, not read again.
    counted = {rep_id: LeadCounts(open=c.open, stale=c.stale, overdue=c.next_step_overdue) for rep_id, c in counts.items()}
    reps = team_availability(team.pk, now=now, counted=counted)
    for candidate, _ in reps:  # a rep who joined the team between the two reads: their day too (counted at the next load)
        day_ends.setdefault(candidate.rep_id, _day_end(now, candidate.working_time.zone()))
    rep_rows = [RepRow(candidate, check, counts.get(candidate.rep_id, RepCounts())) for candidate, check in reps]
    active_reps = [{"id": candidate.rep_id, "value": f"rep:{candidate.rep_id}", "name": candidate.name, "eligible": check.eligible}
                   for candidate, check in reps if candidate.active]

    errors: list[dict[str, str]] = []
    query = params.get("q", "").strip()
    show = params.get("show", "")
    rep_id = params.get("rep", "")
    shown_rep = None
    if show not in INBOX_VIEWS:
        errors.append({"field": "show", "message": f"{show[:40]!r} is not a view; use one of {', '.join(filter(None, INBOX_VIEWS))}"})
        show = ""
    if rep_id:
        query = ""  # a rep's leads, not a search
        shown_rep = next((row for row in rep_rows if str(row.candidate.rep_id) == rep_id), None)
        if shown_rep is None:
            errors.append({"field": "rep", "message": f"{rep_id[:20]!r} is not a rep of {team.name}; pick one from the table"})
    listed: list[Lead] = []
    if shown_rep is not None:
        rows = leads_of_rep_by_clock(shown_rep.candidate.rep_id, now=now, limit=REP_LEADS_LIMIT, view=show,
                                     day_ends_at=day_ends[shown_rep.candidate.rep_id], stale_before=stale_before)
        listed = [row.lead for row in rows]  # their owner is the rep shown
    elif query:
        listed = leads_search(query, where=team_leads(team.pk))

    queue = leads_queued([team.pk], limit=QUEUE_LIMIT)
    if failed is not None and not _row_shown(failed, queue=queue, listed=listed, reps=rep_rows):
        # The row whose form was refused is not on the board any more (the lead closed or left the queue): say it at the top.
        errors += [{"field": field, "message": " ".join(said)} for field, said in failed.problems.items()]
    queue_rows = [_lead_row(lead, "queue", zone, getattr(lead, "queued_at", None), failed=failed or NO_FAILURE) for lead in queue]
    breached = [(listed_row(deadline.lead, zone, deadline.breached_at or now), Clock(deadline.kind).label, deadline.rep.display_name)
                for deadline in clocks_breached_since(team.pk, midnight, where=readable_leads(viewer, via="lead__"))]
    owner = shown_rep.candidate.name if shown_rep is not None else None
    listed_rows = [_lead_row(lead, "found", zone, lead.last_inquiry_at, failed=failed or NO_FAILURE, year=True, owner=owner) for lead in listed]
    context = {
        "team": team, "teams": teams if teams is not None else teams_run_by(viewer), "time_zone": zone.key, "team_zone": team.time_zone, "now": now,
        "reps": rep_rows, "active_reps": active_reps,
        "reps_html": rows_html(request, "web/board_rep_rows.html", {"reps": rep_rows, "failed": failed or NO_FAILURE, "team_slug": team.slug}),
        "queue": queue_rows, "queue_html": rows_html(request, "web/board_queue_rows.html", {"queue": queue_rows}),
        "queue_limit": QUEUE_LIMIT,
        "breached": breached, "breached_html": rows_html(request, "web/board_breached_rows.html", {"breached": breached}),
        "query": query, "show": show, "shown_rep": shown_rep, "listed_limit": REP_LEADS_LIMIT if shown_rep else 50,
        "listed": listed_rows,
        "listed_html": rows_html(request, "web/board_found_rows.html", {"listed": listed_rows, "query": query, "team_name": team.name}),
        "views": [(key, label) for key, label in INBOX_VIEWS.items()], "errors": errors,
        "failed": failed or NO_FAILURE,
        "queue_value": f"team:{team.pk}",
    }
    return render(request, "web/board.html", context, status=400 if errors and status == 200 else status)


def _lead_row(lead: Lead, section: str, zone: ZoneInfo, when: datetime | None, *, failed: Failed, year: bool | None = None,
              owner: str | None = None) -> dict[str, Any]:
    """A lead as the board's queue ("queue") or search and rep lists ("found") show it: its time written out in the
    reader's zone, its owner's name in the found lists (`owner` when the reader knows it, else from the loaded owner),
    and its checkbox for the list's move form (`pick`: the lead and the owner the reader saw)."""
    pick = f"{lead.pk}@{lead.owner_key}"
    if owner is None:
        owner = owner_summary(lead)["name"] if section == "found" else ""
    return {**listed_row(lead, zone, when, year=year), "pick": pick, "open": lead.stage in OPEN_STAGES,
            "checked": failed.kind == "move" and failed.section == section and pick in failed.checked,
            "stage": lead.get_stage_display(), "owner": owner}


def _day_end(now: datetime, zone: ZoneInfo) -> datetime:
    """The next midnight in `zone`: when "today" ends there."""
    return datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone)


def _row_shown(failed: Failed, *, queue: list[Lead], listed: list[Lead], reps: list[RepRow]) -> bool:
    """Whether the board shows the form that was refused, so its problems can stand next to it."""
    if failed.kind == "rep":
        return any(row.candidate.rep_id == failed.id and row.candidate.active and not row.candidate.paused for row in reps)
    return bool(queue if failed.section == "queue" else [lead for lead in listed if lead.stage in OPEN_STAGES])


class BoardAction(LoginRequiredMixin, View):
    """A form on the team board: POST only. Success goes back to the board as it was; a refusal shows the board
    with the form's problems next to its fields (a lead or rep one may not see: the page that says so)."""

    http_method_names = ["post"]

    def done(self, request: HttpRequest, team_slug: str, said: str, *, elsewhere: str = "home") -> HttpResponse:
        """Back to the board as it was (its search or rep view kept), saying `said`; to `elsewhere` for a form posted from no board."""
        if said:
            messages.success(request, said)
        if not Team.objects.filter(slug=team_slug).exists():
            return redirect(elsewhere)
        back = _back_params(request)
        return redirect(reverse("board", args=[team_slug]) + (f"?{back}" if back else ""))

    def refused(self, request: HttpRequest, team_slug: str, kind: str, row_id: int, refused: Refused) -> HttpResponse:
        """`kind`: the form refused, a list's move form ("move") or the rep `row_id`'s pause form ("rep")."""
        user = cast(User, request.user)
        viewer = viewer_of(user)
        team = next((team for team in teams_run_by(viewer) if team.slug == team_slug), None)
        if isinstance(refused, (NotFound, NotAllowed)) or team is None:  # no board to show it on (a form posted from elsewhere)
            return refused_page(request, refused, not_allowed="You cannot do this")
        problems: dict[str, list[str]] = {}
        for error in refused.errors:
            field = "to" if error["field"] in ("to_rep", "to_team") else error["field"]
            message = error["message"]
            if error["field"] == "to" and message.startswith("name either"):  # the API's words for the form's one choice
                message = "choose the rep who takes the lead, or the team's queue"
            problems.setdefault(field, []).append(message)
        failed = Failed(kind=kind, id=row_id, section=request.POST.get("section", ""), checked=frozenset(request.POST.getlist("lead")), problems=problems, posted={name: request.POST.get(name, "") for name in request.POST})
        return _board(request, user, viewer, team, _back_dict(request), failed=failed, status=409 if isinstance(refused, Conflict) else 400)


def _back_dict(request: HttpRequest) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in ("q", "rep", "show") if request.POST.get(name)}


def _back_params(request: HttpRequest) -> str:
    return urlencode(_back_dict(request))


class BoardMove(BoardAction):
    """Move the leads checked in one of the board's lists (the queue, or a search or a rep's leads) to a rep or back to
    the team's queue, with one reason (pipeline.ownership.lead_reassign for each, its own transaction). A lead that
    changed hands since the board showed it, or that cannot move, stays where it is and is named in what the board says."""

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        user, data = cast(User, request.user), request.POST
        viewer = viewer_of(user)
        if not any(team.slug == slug for team in teams_run_by(viewer)):
            return _no_board(request, viewer, slug=slug)
        kind, _, number = data.get("to", "").partition(":")
        whole = number.isascii() and number.isdigit() and len(number) <= 18  # "²".isdigit() is true, int("²") fails
        target = {"to_rep_id": int(number)} if kind == "rep" and whole else {"to_team_id": int(number)} if kind == "team" and whole else {}
        picks = [pick.partition("@") for pick in data.getlist("lead")]
        problems = []
        if not picks:
            problems.append({"field": "lead", "message": "check the leads to move first"})
        if not target:
            problems.append({"field": "to", "message": "choose the rep who takes the leads, or the team's queue"})
        if not data.get("reason", "").strip():
            problems.append({"field": "reason", "message": "is required: say why the leads change hands (it is kept in the ledger)"})
        if problems or any(not (lead_id.isascii() and lead_id.isdigit()) or len(lead_id) > 18 for lead_id, _, _ in picks):
            return self.refused(request, slug, "move", 0, Invalid(problems or [{"field": "lead", "message": "a checked lead is not a lead id"}]))
        wanted = data.get("to", "")
        moved, already, kept = [], [], []
        for lead_id, _, owner in picks[:MOVE_LIMIT]:
            try:
                lead = lead_reassign(lead_id=int(lead_id), by=user, reason=data["reason"], now=clock.now(), if_owner=owner,
                                     to_rep_id=target.get("to_rep_id"), to_team_id=target.get("to_team_id"), one_of_many=len(picks) > 1)
            except (NotFound, NotAllowed) as refused:
                if len(picks) == 1:
                    return refused_page(request, refused, not_allowed="You cannot do this")
                kept.append(f"lead {lead_id}: {refused.errors[0]['message']}")
            except Refused as refused:
                field = refused.errors[0]["field"]
                current = Lead.objects.filter(pk=int(lead_id)).first() if field in ("owner", "to") else None
                if current is not None and current.owner_key == wanted:
                    already.append(lead_id)  # where it was asked to go already (the form sent twice, or a colleague did it)
                elif field not in ("owner", "stage"):
                    return self.refused(request, slug, "move", 0, refused)  # whom to or why, the same for every lead: next to the form
                else:
                    kept.append(f"lead {lead_id}: {refused.errors[0]['message']}")
            else:
                moved.append(lead)
        if len(picks) > 1:  # each moved lead was told in the app only: now one email and one chat message for them all
            leads_handed_over(leads=moved, by=user, reason=data["reason"], now=clock.now())
        if moved or already:
            to_whom = moved[0].owner_rep.display_name if moved and moved[0].owner_rep is not None else None
            names = ", ".join(str(lead) or f"lead {lead.pk}" for lead in moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
            said = (f"Now with {to_whom or 'the team queue'}: {names}." if moved else "") + (
                f" Already there: {len(already)} lead{'s' if len(already) != 1 else ''}." if already else "")
            messages.success(request, said.strip())
        if kept:
            messages.error(request, f"Not moved: {'; '.join(kept)}.")
        return self.done(request, slug, "")


class RepPause(BoardAction):
    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        try:
            profile = rep_pause(rep_id=rep_id, by=cast(User, request.user), reason=request.POST.get("reason", ""), now=clock.now())
        except Refused as refused:
            return self.refused(request, request.POST.get("team", ""), "rep", rep_id, refused)
        return self.done(request, profile.team.slug, f"{profile.user.display_name} is paused: no new leads until resumed.")


class RepResume(BoardAction):
    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        try:
            profile = rep_resume(rep_id=rep_id, by=cast(User, request.user), now=clock.now())
        except Refused as refused:
            return self.refused(request, request.POST.get("team", ""), "rep", rep_id, refused)
        return self.done(request, profile.team.slug, f"{profile.user.display_name} takes new leads again.")


class LeadTake(LoginRequiredMixin, View):
    """A rep takes a lead from their team's queue (pipeline.queue.lead_take); a refusal is a page that says why."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, lead_id: int) -> HttpResponse:
        try:
            lead = lead_take(lead_id=lead_id, by=cast(User, request.user), now=clock.now())
        except (NotFound, NotAllowed) as refused:
            return refused_page(request, refused, not_allowed="You cannot take this lead")
        except Refused as refused:
            status = 409 if isinstance(refused, Conflict) else 400
            return render(request, "web/refused.html", {"title": "You cannot take this lead now", "errors": refused.errors}, status=status)
        messages.success(request, f"{lead or f'Lead {lead.pk}'} is yours now: the first-response clock is running.")
        return redirect("lead", lead.pk)

