"""The report pages: the weekly reconciliation (P1), progress (P2) and the service levels (P3), each figure a link to the
leads behind it where it has leads.

Who may read which ledger is reports.scope's: admins every team's and the organisation's, a manager their teams', a rep
their own. A lead behind a figure that the reader may no longer open (it moved to another team) is listed by number only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from leadbaton.accounts.models import User
from leadbaton.core import clock
from leadbaton.core.refusals import NotFound, Refused
from leadbaton.leads.access import ADMIN, MARKETING, Viewer, readable_leads
from leadbaton.leads.models import Lead
from leadbaton.leads.queries import listed
from leadbaton.pipeline.followup import REJECT_REASONS, viewer_of
from leadbaton.reports.charts import funnel_chart, reconciliation_chart, referee_charts, speed_chart
from leadbaton.reports.exports import (
    leaderboard_csv,
    marketing_csv,
    progress_csv,
    reconciliation_csv,
    referee_csv,
    service_levels_csv,
)
from leadbaton.reports.leaderboard import MIN_LEADS, leaderboard
from leadbaton.reports.marketing import MarketingRow, marketing_report
from leadbaton.reports.periods import PERIOD_FORMS, Period, last_full_week, period_or_last_week
from leadbaton.reports.progress import BLOCKERS, NOW_FIGURES, PERIOD_FIGURES, Progress, ProgressRow, progress, progress_leads
from leadbaton.reports.reconciliation import (
    CAME,
    FIGURE_SQL,
    FIGURES,
    SPLIT,
    LedgerRow,
    Reconciliation,
    figure_leads,
    reconciliation,
)
from leadbaton.reports.referee import referee
from leadbaton.reports.scope import Scope, marketing_scope, sales_scope, team_scope, teams_seen_by
from leadbaton.reports.service_levels import ServiceRow, duration_text, service_levels, share_text
from leadbaton.sla.models import Clock
from leadbaton.sla.services import policy_for
from leadbaton.web.views import listed_row, refused_page

SHOWN_LEADS = 200  # leads listed behind one figure


@dataclass
class Asked:
    """What a report page was asked for, read and checked: the scope and period to show, and every problem to say."""

    viewer: Viewer
    typed: dict[str, str]
    scope: Scope
    period: Period
    errors: list[dict[str, str]]

    @property
    def team_id(self) -> int | None:
        return self.scope.team.pk if self.scope.team else None

    @property
    def rep_id(self) -> int | None:
        return self.scope.rep.pk if self.scope.rep else None

    def context(self) -> dict[str, Any]:
        """What every report page's form and heading need."""
        return {
            "scope": self.scope, "period": self.period, "asked": self.typed, "errors": self.errors, "forms": PERIOD_FORMS,
            "teams": teams_seen_by(self.viewer), "every_team": self.viewer.role == ADMIN,
            "earlier": _beside(self.period.previous, self.scope), "later": _beside(self.period.following, self.scope),
            "same": _href(self.period, self.scope),  # this period and scope, for the other reports' links
        }


def _asked(request: HttpRequest, *names: str, scope_of: Callable[..., Scope] | None = None) -> Asked | HttpResponse:
    """A report page's query (`period`, default the last full week; `team`; `rep`; and `names`), or the refusal page
    for a report the viewer may not read. A value it cannot use is said next to its field and the rest shown.
    `scope_of`: a team's report (team_scope, which takes no rep) rather than reps' (sales_scope)."""
    viewer = viewer_of(cast(User, request.user))
    typed = {name: request.GET.get(name, "").strip() for name in ("period", "team", "rep", *names)}
    errors = []
    rep_id = None
    if scope_of is not None:
        typed["rep"] = ""
        scoped = scope_of
    else:
        scoped = sales_scope
        if re.fullmatch(r"[0-9]{1,18}", typed["rep"]):
            rep_id = int(typed["rep"])
        elif typed["rep"]:
            errors.append({"field": "rep", "message": f"{typed['rep'][:40]!r} is not a person's number; the whole team is shown"})
    narrowed = {"rep_id": rep_id} if rep_id is not None else {}
    try:
        try:
            scope = scoped(viewer, team=typed["team"], **narrowed)
        except NotFound as missing:  # a team or person typed wrongly: said, and the report one may read shown
            errors += missing.errors
            kept = typed["team"] if missing.errors[0]["field"] == "rep" else ""
            try:
                scope = scoped(viewer, team=kept)
            except NotFound:
                scope = scoped(viewer)
    except Refused as refused:
        return refused_page(request, refused, not_allowed="You cannot open this report")
    try:
        period = period_or_last_week(typed["period"], scope.time_zone, clock.now())
    except ValueError as error:
        errors.append({"field": "period", "message": str(error)})
        period = last_full_week(clock.now(), scope.time_zone)
    return Asked(viewer, typed, scope, period, errors)


@login_required
def reconciliation_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Each rep's ledger for a period, and with `show=REP:FIGURE` (REP a rep's id or `total`) the leads behind that figure."""
    asked = _asked(request, "show")
    if isinstance(asked, HttpResponse):
        return asked
    scope, period, errors = asked.scope, asked.period, asked.errors
    report = reconciliation(period, now=clock.now(), team_id=asked.team_id, rep_id=asked.rep_id)
    if request.GET.get("format") == "csv" and not errors:
        return _csv_download(reconciliation_csv(report), "reconciliation", scope, period)
    shown = _shown(asked.typed["show"], report, scope, asked.viewer, errors)
    context = asked.context() | {
        "rows": [_row(row, period, scope) for row in [*report.rows, report.total]],
        "came": CAME, "unaccounted": report.unaccounted, "shown": shown, "csv": _href(period, scope, format="csv"),
        "chart": reconciliation_chart(report),
    }
    return render(request, "web/reconciliation.html", context, status=400 if errors else 200)


@login_required
def service_levels_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Each rep's service levels for a period: speed to lead, touches before a conversation, clocks met and breached,
    the close rate and the value won."""
    asked = _asked(request)
    if isinstance(asked, HttpResponse):
        return asked
    report = service_levels(asked.period, team_id=asked.team_id, rep_id=asked.rep_id)
    if request.GET.get("format") == "csv" and not asked.errors:
        return _csv_download(service_levels_csv(report), "service-levels", asked.scope, report.period)
    context = asked.context() | {"rows": [_service_row(row) for row in [*report.rows, report.total]], "clocks": Clock.choices,
                                 "csv": _href(asked.period, asked.scope, format="csv"), "chart": speed_chart(report)}
    return render(request, "web/service_levels.html", context, status=400 if asked.errors else 200)


@login_required
def progress_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Whether each rep's in-progress leads moved in a period, against the period before, and where they stand now:
    stale, next steps overdue, by blocker. With `show=REP:FIGURE` (REP a rep's id or `total`), the leads behind a figure."""
    asked = _asked(request, "show")
    if isinstance(asked, HttpResponse):
        return asked
    now = clock.now()
    report = progress(asked.period, now=now, team_id=asked.team_id, rep_id=asked.rep_id)
    if request.GET.get("format") == "csv" and not asked.errors:
        return _csv_download(progress_csv(report), "progress", asked.scope, report.period)
    shown = _progress_shown(asked, report)
    blockers = report.blockers_seen
    context = asked.context() | {
        "rows": [_progress_row(row, asked, blockers) for row in [*report.rows, report.total]], "blockers": blockers, "before": report.before_label,
        "shown": shown, "csv": _href(asked.period, asked.scope, format="csv"),
        "window": None if asked.team_id is None else policy_for(asked.team_id).progress_every_days,
    }
    return render(request, "web/progress.html", context, status=400 if asked.errors else 200)


def _progress_row(row: ProgressRow, asked: Asked, blockers: list[tuple[str, str]]) -> dict[str, Any]:
    key = str(row.rep_id) if row.rep_id is not None else "total"

    def cell(figure: str) -> dict[str, Any]:
        return {"count": row.count(figure), "href": _href(asked.period, asked.scope, show=f"{key}:{figure}") + "#leads"}

    change = row.change
    return {
        "name": row.name, "total": row.rep_id is None, "share": share_text(row.share), "before_share": share_text(row.before_share),
        "change": "—" if change is None else f"{round(change * 100):+d} points", "better": change is not None and change > 0,
        "figures": {figure: cell(figure) for figure in [*PERIOD_FIGURES, *NOW_FIGURES]},
        "before": (row.before_progressed, row.before_at_start),
        "blockers": [(label, cell(f"blocker:{blocker}")) for blocker, label in blockers],
    }


def _progress_shown(asked: Asked, report: Progress) -> dict[str, Any] | None:
    show = asked.typed["show"]
    if not show:
        return None
    key, _, figure = show.partition(":")
    rows = {str(row.rep_id): row for row in report.rows} | {"total": report.total}
    labels = PERIOD_FIGURES | NOW_FIGURES | {f"blocker:{blocker}": f"in progress now, {label.lower()}" for blocker, label in BLOCKERS.items()}
    if key not in rows or figure not in labels:
        asked.errors.append({"field": "show", "message": f"{show[:60]!r} names no figure of this report; follow a figure's link"})
        return None
    row = rows[key]
    ids = progress_leads(report.period, figure, now=report.now, team_id=asked.team_id,
                         rep_id=row.rep_id if row.rep_id is not None else asked.rep_id)
    when = "received_at" if figure in PERIOD_FIGURES else "last_progress_at"
    return _leads_shown(ids, f"{row.name}: {labels[figure]}", asked.viewer, report.period.time_zone, when=when)


def _service_row(row: ServiceRow) -> dict[str, Any]:
    return {
        "name": row.name, "total": row.rep_id is None, "first_owned": row.first_owned,
        "to_owner": (duration_text(row.to_owner.median), duration_text(row.to_owner.p90)),
        "to_first_touch": (duration_text(row.to_first_touch.median), duration_text(row.to_first_touch.p90), share_text(row.to_first_touch.within)),
        "not_touched": row.to_first_touch.waiting,
        "touches": "—" if row.touches_per_conversation is None else f"{row.touches_per_conversation:.1f}",
        "without_conversation": row.without_conversation,
        "clocks": [(row.clocks[kind]["met"], row.clocks[kind]["breached"]) for kind, _ in Clock.choices],
        "close_rate": share_text(row.close_rate), "closed": row.purchased + row.not_interested, "purchased": row.purchased,
        "won": ", ".join(f"{value:,.2f} {currency}" for currency, value in sorted(row.value_won.items())) or "—",
    }


class _Echo:
    """A file that hands back what is written to it: csv.writer's rows, streamed as they are made."""

    def write(self, value: str) -> str:
        return value


def _csv_download(rows: Iterator[list[Any]], report: str, scope: Scope, period: Period) -> StreamingHttpResponse:
    """A report's rows as a CSV download, written as they are sent."""
    writer = csv.writer(_Echo())
    name = f"{report}-{scope.team.slug if scope.team else 'every-team'}{f'-{scope.rep.pk}' if scope.rep else ''}-{period.label}.csv"
    return StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _beside(period: Callable[[], Period], scope: Scope) -> str:
    """The link to the period before or after, or "" where there is none (the first or last year a period may be in)."""
    try:
        return _href(period(), scope)
    except ValueError:
        return ""


def _href(period: Period, scope: Scope, **more: str) -> str:
    terms = {"period": period.label}
    if scope.team:
        terms["team"] = scope.team.slug
    if scope.rep:
        terms["rep"] = str(scope.rep.pk)
    return "?" + urlencode(terms | more)


def _row(row: LedgerRow, period: Period, scope: Scope) -> dict[str, Any]:
    """A ledger row as the page shows it: each figure's count and the link to its leads."""
    key = str(row.rep_id) if row.rep_id is not None else "total"

    def cell(figure: str) -> dict[str, Any]:
        return {"count": row.count(figure), "href": _href(period, scope, show=f"{key}:{figure}") + "#leads"}

    return {
        "name": row.name, "email": row.email, "total": row.rep_id is None, "balanced": row.balanced,
        "figures": {figure: cell(figure) for figure in FIGURES},
        "received_by": [(label, cell(f"received_{how}")) for how, label in CAME.items()],
        "open_at_start_split": [(label, cell(f"open_at_start_{split}")) for split, label in SPLIT.items()],
        "open_at_end_split": [(label, cell(f"open_at_end_{split}")) for split, label in SPLIT.items()],
    }


def _shown(show: str, report: Reconciliation, scope: Scope, viewer: Viewer, errors: list[dict[str, str]]) -> dict[str, Any] | None:
    """The leads behind one figure (`REP:FIGURE`), those the viewer may open by name, the others by number."""
    if not show:
        return None
    key, _, figure = show.partition(":")
    rows = {str(row.rep_id): row for row in report.rows} | {"total": report.total}
    if key not in rows or figure not in FIGURE_SQL:
        errors.append({"field": "show", "message": f"{show[:60]!r} names no figure of this report; follow a figure's link"})
        return None
    row = rows[key]
    ids = figure_leads(report.period, figure, team_id=scope.team.pk if scope.team else None,
                       rep_id=row.rep_id if row.rep_id is not None else (scope.rep.pk if scope.rep else None))
    return _leads_shown(ids, f"{row.name}: {_figure_label(figure)}", viewer, report.period.time_zone)


def _leads_shown(ids: list[int], title: str, viewer: Viewer, time_zone: str, *, when: str = "received_at") -> dict[str, Any]:
    """The leads behind a figure, in `ids`' order (a lead there twice, once): those the viewer may open by name, with
    their `when` time, the others by number."""
    zone = ZoneInfo(time_zone)
    shown = list(dict.fromkeys(ids))[:SHOWN_LEADS]
    readable = {lead.pk: lead for lead in listed(Lead.objects.filter(pk__in=shown).filter(readable_leads(viewer)))}
    return {
        "title": title, "count": len(set(ids)), "movements": len(ids), "more": max(0, len(set(ids)) - SHOWN_LEADS),
        "when_label": {"received_at": "Received", "last_progress_at": "Last progress"}[when],
        "leads": [listed_row(readable[lead_id], zone, getattr(readable[lead_id], when) or readable[lead_id].received_at, year=True)
                  if lead_id in readable else {"number": lead_id} for lead_id in shown],
    }


def _figure_label(figure: str) -> str:
    for how, label in CAME.items():
        if figure == f"received_{how}":
            return f"received by {label.lower()}"
    for split, label in SPLIT.items():
        for when in ("start", "end"):
            if figure == f"open_at_{when}_{split}":
                return f"open at {when}, {label}"
    return FIGURES[figure].lower()


@login_required
def leaderboard_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The period's best follow-up in a team: fastest first touches, clocks met, leads moved on, purchases; at most three
    names a board, each with why. Reps see their own team's."""
    asked = _asked(request, scope_of=team_scope)
    if isinstance(asked, HttpResponse):
        return asked
    board = leaderboard(asked.period, now=clock.now(), team_id=asked.team_id)
    if request.GET.get("format") == "csv" and not asked.errors:
        return _csv_download(leaderboard_csv(board), "leaderboard", asked.scope, board.period)
    context = asked.context() | {"boards": board.boards, "min_leads": MIN_LEADS, "csv": _href(asked.period, asked.scope, format="csv")}
    return render(request, "web/leaderboard.html", context, status=400 if asked.errors else 200)


@login_required
def marketing_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Marketing's period per source and campaign: leads, sales-ready against the target, the share sales accepted
    against its target and why it rejected the rest, purchases and value, cost per lead, sales-ready lead and purchase."""
    asked = _asked(request, scope_of=marketing_scope)
    if isinstance(asked, HttpResponse):
        return asked
    report = marketing_report(asked.period)
    if request.GET.get("format") == "csv" and not asked.errors:
        return _csv_download(marketing_csv(report), "marketing", asked.scope, report.period)
    targets, total = report.targets, report.total
    context = asked.context() | {
        "teams": [], "report": report, "total": _marketing_row(total),
        "sources": [_marketing_row(row) for row in report.by_source], "campaigns": [_marketing_row(row) for row in report.by_campaign],
        "targets": {"sales_ready": targets.sales_ready, "sales_ready_met": targets.sales_ready_met(total),
                    "acceptance_rate": targets.acceptance_rate, "acceptance_met": targets.acceptance_met(total)},
        "reasons": sorted(((REJECT_REASONS.get(reason, reason or "no reason kept"), count) for reason, count in report.rejected_by_reason.items()),
                          key=lambda each: -each[1]),
        "csv": _href(asked.period, asked.scope, format="csv"), "chart": funnel_chart(report),
        "may_set_targets": asked.viewer.role == ADMIN, "may_enter_costs": asked.viewer.role in (ADMIN, MARKETING),
    }
    return render(request, "web/marketing_report.html", context, status=400 if asked.errors else 200)


def _marketing_row(row: MarketingRow) -> dict[str, Any]:
    def money(amounts: dict[str, Decimal]) -> str:
        return ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(amounts.items())) or "—"

    def per(count: int) -> str:
        found = row.cost_per(count)
        return f"{found[0]:,.2f} {found[1]}" if found else "—"

    return {
        "name": row.name, "leads": row.leads, "sales_ready": row.sales_ready, "accepted": row.accepted, "rejected": row.rejected,
        "acceptance": share_text(row.acceptance), "purchased": row.purchased, "won": money(row.won),
        "cost": money(row.cost), "per_lead": per(row.leads), "per_sales_ready": per(row.sales_ready), "per_purchase": per(row.purchased),
    }


@login_required
def referee_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Marketing's and sales' service levels side by side for a period, each with its trend over 12 weeks."""
    asked = _asked(request, scope_of=marketing_scope)
    if isinstance(asked, HttpResponse):
        return asked
    report = referee(asked.period)
    if request.GET.get("format") == "csv" and not asked.errors:
        return _csv_download(referee_csv(report), "both-sides", asked.scope, report.period)

    weeks = [{"label": week.label, "sales_ready": week.sales_ready, "target": "—" if week.sales_ready_target is None else week.sales_ready_target,
              "acceptance": share_text(week.acceptance), "within": share_text(week.within_5_minutes), "first_response": share_text(week.first_response_met),
              "clocks": share_text(week.clocks_met), "close_rate": share_text(week.close_rate)} for week in report.weeks]
    context = asked.context() | {"teams": [], "now": report.now, "share": {name: share_text(getattr(report.now, name)) for name in (
        "acceptance", "within_5_minutes", "first_response_met", "clocks_met", "close_rate")}, "weeks": weeks, "charts": referee_charts(report),
        "csv": _href(asked.period, asked.scope, format="csv")}
    return render(request, "web/referee.html", context, status=400 if asked.errors else 200)
