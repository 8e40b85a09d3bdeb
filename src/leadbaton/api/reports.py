"""Reports through the API: the same figures as the report pages, as JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from leadbaton.api.auth import STAFF_AUTH, caller
from leadbaton.api.schemas import RowId, refusals
from leadbaton.core import clock
from leadbaton.core.refusals import Invalid
from leadbaton.pipeline.followup import viewer_of
from leadbaton.reports.leaderboard import leaderboard
from leadbaton.reports.periods import Period, period_or_last_week
from leadbaton.reports.progress import ProgressRow, progress, progress_leads
from leadbaton.reports.reconciliation import FIGURE_SQL, LedgerRow, figure_leads, reconciliation
from leadbaton.reports.scope import Scope, sales_scope, team_scope
from leadbaton.reports.service_levels import ServiceRow, service_levels

router = Router(tags=["reports"], auth=STAFF_AUTH)


class PeriodOut(Schema):
    label: str  # as asked: 2026-W47, 2026-11 or 2026-11-02..2026-11-15
    first_day: date
    last_day: date
    time_zone: str  # the team's; the default team's for every team
    start: datetime  # the first day's midnight there, in UTC
    end: datetime  # the midnight after the last day, in UTC


class RepRef(Schema):
    id: int
    name: str
    email: str


class LedgerOut(Schema):
    rep: RepRef | None  # None on the total
    open_at_start: int
    received: int
    purchased: int
    not_interested: int
    rejected: int
    reassigned_away: int
    open_at_end: int
    received_by: dict[str, int]  # routing, queue (handed out or taken), assigned (by a manager), reassigned (from a rep), sla
    open_at_start_split: dict[str, int]  # untouched, in_progress
    open_at_end_split: dict[str, int]
    balanced: bool  # open at start + received - purchased - not interested - rejected - reassigned away = open at end


class UnaccountedOut(Schema):
    lead_id: int
    rep_id: int | None
    reason: str


class ReconciliationOut(Schema):
    period: PeriodOut
    team: str | None  # the team's slug; None: every team
    rows: list[LedgerOut]
    total: LedgerOut
    unaccounted: list[UnaccountedOut]  # normally empty


def period_asked(text: str | None, scope: Scope) -> Period:
    """The period asked for in the scope's time zone, or the last full week; Invalid naming the forms it takes."""
    try:
        return period_or_last_week(text or "", scope.time_zone, clock.now())
    except ValueError as error:
        raise Invalid.one("period", str(error)) from None


class FigureLeadsOut(Schema):
    period: PeriodOut
    team: str | None
    rep: int | None  # None: every rep of the scope
    figure: str
    lead_ids: list[int]  # in the order they came; a lead received twice in the period is listed twice


def _ledger(row: LedgerRow) -> dict[str, Any]:
    rep = {"id": row.rep_id, "name": row.name, "email": row.email} if row.rep_id is not None else None
    return {"rep": rep, **row.figures(), "balanced": row.balanced}


def period_out(asked: Period) -> dict[str, Any]:
    return {"label": asked.label, "first_day": asked.first_day, "last_day": asked.last_day, "time_zone": asked.time_zone,
            "start": asked.start, "end": asked.end}


@router.get("/reports/reconciliation", response={200: ReconciliationOut, **refusals(401, 403, 404, 422)},
            summary="Each rep's leads for a period, reconciled like a ledger")
def reconciliation_get(request: HttpRequest, period: str | None = None, team: str | None = None, rep: RowId | None = None) -> Any:
    """For an ISO week (`2026-W47`), a month (`2026-11`) or days (`2026-11-02..2026-11-15`) in the team's time zone (default:
    the last full week). Admins: any team, or every team without `team`; managers: their teams; reps: their own ledger."""
    scope = sales_scope(viewer_of(caller(request)), team=team or "", rep_id=rep)
    asked = period_asked(period, scope)
    report = reconciliation(asked, now=clock.now(), team_id=scope.team.pk if scope.team else None,
                            rep_id=scope.rep.pk if scope.rep else None)
    return {
        "period": period_out(asked),
        "team": scope.team.slug if scope.team else None,
        "rows": [_ledger(row) for row in report.rows],
        "total": _ledger(report.total),
        "unaccounted": [{"lead_id": item.lead_id, "rep_id": item.rep_id, "reason": item.reason} for item in report.unaccounted],
    }


@router.get("/reports/reconciliation/leads", response={200: FigureLeadsOut, **refusals(401, 403, 404, 422)},
            summary="The leads behind one figure of the reconciliation")
def reconciliation_leads_get(request: HttpRequest, figure: str, period: str | None = None, team: str | None = None,
                             rep: RowId | None = None) -> Any:
    """`figure`: one of the ledger's figures (open_at_start, received, purchased, not_interested, rejected,
    reassigned_away, open_at_end), a part of received (received_routing, received_queue, received_assigned,
    received_reassigned, received_sla) or of open (open_at_start_untouched, open_at_end_in_progress, ...). The same
    scope and period as the reconciliation; with `rep`, that rep's leads only."""
    scope = sales_scope(viewer_of(caller(request)), team=team or "", rep_id=rep)
    if figure not in FIGURE_SQL:
        raise Invalid.one("figure", f"{figure[:60]!r} is not a figure; use one of {', '.join(FIGURE_SQL)}")
    asked = period_asked(period, scope)
    lead_ids = figure_leads(asked, figure, team_id=scope.team.pk if scope.team else None, rep_id=scope.rep.pk if scope.rep else None)
    return {"period": period_out(asked), "team": scope.team.slug if scope.team else None, "rep": scope.rep.pk if scope.rep else None,
            "figure": figure, "lead_ids": lead_ids}


class SpeedOut(Schema):
    median_seconds: float | None
    p90_seconds: float | None
    within_5_minutes: float | None  # the share, 0 to 1, of all the leads (those still waiting included)
    leads: int  # it happened to
    waiting: int  # it has not happened to yet


class ServiceOut(Schema):
    rep: RepRef | None  # None on the total
    first_owned: int  # leads the rep first owned in the period
    to_owner: SpeedOut  # from the lead's first inquiry to its first owner
    to_first_touch: SpeedOut  # from the first inquiry to the first touch, whoever made it
    touches_before_conversation: float | None  # on average, of the leads that had a conversation
    without_conversation: int  # leads first owned in the period that have had none yet
    clocks: dict[str, dict[str, int]]  # per clock kind: met and breached in the period
    purchased: int
    not_interested: int
    close_rate: float | None  # purchased / (purchased + not interested), of the leads closed in the period
    value_won: dict[str, str]  # per currency, a decimal as text


class ServiceLevelsOut(Schema):
    period: PeriodOut
    team: str | None
    rows: list[ServiceOut]
    total: ServiceOut


def _service(row: ServiceRow) -> dict[str, Any]:
    return {
        "rep": {"id": row.rep_id, "name": row.name, "email": row.email} if row.rep_id is not None else None,
        "first_owned": row.first_owned, "to_owner": row.to_owner.out(), "to_first_touch": row.to_first_touch.out(),
        "touches_before_conversation": row.touches_per_conversation, "without_conversation": row.without_conversation,
        "clocks": row.clocks, "purchased": row.purchased, "not_interested": row.not_interested, "close_rate": row.close_rate,
        "value_won": {currency: f"{value:.2f}" for currency, value in sorted(row.value_won.items())},
    }


@router.get("/reports/service-levels", response={200: ServiceLevelsOut, **refusals(401, 403, 404, 422)},
            summary="Each rep's service levels for a period")
def service_levels_get(request: HttpRequest, period: str | None = None, team: str | None = None, rep: RowId | None = None) -> Any:
    """Speed to lead (to owner, to first touch: median, p90, share within 5 minutes), touches before a conversation, each
    clock kind met and breached, the close rate and the value won, per rep; the same scope and period as the reconciliation."""
    scope = sales_scope(viewer_of(caller(request)), team=team or "", rep_id=rep)
    asked = period_asked(period, scope)
    report = service_levels(asked, team_id=scope.team.pk if scope.team else None, rep_id=scope.rep.pk if scope.rep else None)
    return {"period": period_out(asked), "team": scope.team.slug if scope.team else None, "rows": [_service(row) for row in report.rows],
            "total": _service(report.total)}


class ShareOut(Schema):
    in_progress_at_start: int  # leads the rep had in progress when the period began
    progressed: int  # of those, the ones with a touch or an outcome in the period while the rep held them
    share: float | None  # progressed / in progress at start, 0 to 1


class NowOut(Schema):
    in_progress: int
    stale: int  # no touch or outcome within the team's policy window (progress_every_days)
    overdue_next_steps: int
    by_blocker: dict[str, int]  # budget, timing, authority, need, competitor, waiting_on_us, not_reached_yet, other; "" none recorded


class ProgressRowOut(Schema):
    rep: RepRef | None  # None on the total
    in_progress_at_start: int
    progressed: int
    share: float | None
    before: ShareOut  # the same, for the period before (the week before a week, the month before a month)
    change: float | None  # share - before.share (0.1: ten points more); None when either had no leads in progress
    now: NowOut


class ProgressOut(Schema):
    period: PeriodOut
    before: PeriodOut | None  # None for the first period one may ask for
    team: str | None
    rows: list[ProgressRowOut]
    total: ProgressRowOut


def _progress(row: ProgressRow) -> dict[str, Any]:
    return {"rep": {"id": row.rep_id, "name": row.name, "email": row.email} if row.rep_id is not None else None, **row.out()}


@router.get("/reports/progress", response={200: ProgressOut, **refusals(401, 403, 404, 422)},
            summary="Whether each rep's in-progress leads progressed, and where they stand now")
def progress_get(request: HttpRequest, period: str | None = None, team: str | None = None, rep: RowId | None = None) -> Any:
    """Of the leads each rep had in progress when the period began, how many progressed in it, against the period
    before; and now: the leads in progress, stale, with their next step overdue, by blocker. The same scope and period
    as the reconciliation."""
    scope = sales_scope(viewer_of(caller(request)), team=team or "", rep_id=rep)
    asked = period_asked(period, scope)
    report = progress(asked, now=clock.now(), team_id=scope.team.pk if scope.team else None, rep_id=scope.rep.pk if scope.rep else None)
    return {"period": period_out(asked), "before": period_out(report.before) if report.before else None, "team": scope.team.slug if scope.team else None,
            "rows": [_progress(row) for row in report.rows], "total": _progress(report.total)}


@router.get("/reports/progress/leads", response={200: FigureLeadsOut, **refusals(401, 403, 404, 422)},
            summary="The leads behind one figure of the progress report")
def progress_leads_get(request: HttpRequest, figure: str, period: str | None = None, team: str | None = None,
                       rep: RowId | None = None) -> Any:
    """`figure`: in_progress_at_start, progressed or not_progressed (of the period); in_progress, stale or overdue (now);
    or blocker:BLOCKER (in progress now with that blocker, blocker: alone for none recorded). Now's leads come most
    stale first."""
    scope = sales_scope(viewer_of(caller(request)), team=team or "", rep_id=rep)
    asked = period_asked(period, scope)
    try:
        lead_ids = progress_leads(asked, figure, now=clock.now(), team_id=scope.team.pk if scope.team else None,
                                  rep_id=scope.rep.pk if scope.rep else None)
    except ValueError as error:
        raise Invalid.one("figure", str(error)) from None
    return {"period": period_out(asked), "team": scope.team.slug if scope.team else None, "rep": scope.rep.pk if scope.rep else None,
            "figure": figure, "lead_ids": lead_ids}


class NamedOut(Schema):
    place: int  # reps level on the board's figures share a place
    rep: RepRef
    why: str


class BoardOut(Schema):
    key: str  # fastest_first_touch, clocks_met, progressed, purchases
    title: str
    named: list[NamedOut]  # at most three places; never the rest


class LeaderboardOut(Schema):
    period: PeriodOut
    team: str | None
    boards: list[BoardOut]


@router.get("/reports/leaderboard", response={200: LeaderboardOut, **refusals(401, 403, 404, 422)},
            summary="The period's best follow-up in a team")
def leaderboard_get(request: HttpRequest, period: str | None = None, team: str | None = None) -> Any:
    """Four boards (fastest first touches, clocks met, leads moved on, purchases), each naming at most three reps with
    why; nobody else is listed. Reps: their own team's; managers their teams'; admins any team's, or every team's."""
    scope = team_scope(viewer_of(caller(request)), team=team or "")
    asked = period_asked(period, scope)
    board = leaderboard(asked, now=clock.now(), team_id=scope.team.pk if scope.team else None)
    return {"period": period_out(asked), "team": scope.team.slug if scope.team else None,
            "boards": [{"key": each.key, "title": each.title,
                        "named": [{"place": named.place, "rep": {"id": named.rep_id, "name": named.name, "email": named.email},
                                   "why": named.why} for named in each.named]} for each in board.boards]}
