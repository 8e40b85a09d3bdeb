"""The report pages: the weekly reconciliation (P1), each figure a link to the leads behind it.

Who may read which ledger is reports.scope's: admins every team's and the organisation's, a manager their teams', a rep
their own. A lead behind a figure that the reader may no longer open (it moved to another team) is listed by number only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from leadbaton.accounts.models import User
from leadbaton.core import clock
from leadbaton.core.refusals import NotFound, Refused
from leadbaton.leads.access import ADMIN, Viewer, readable_leads
from leadbaton.leads.models import Lead
from leadbaton.leads.queries import listed
from leadbaton.pipeline.followup import viewer_of
from leadbaton.reports.exports import reconciliation_csv
from leadbaton.reports.periods import PERIOD_FORMS, Period, last_full_week, period_parse
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
from leadbaton.reports.scope import Scope, sales_scope, teams_seen_by
from leadbaton.web.views import listed_row, refused_page

SHOWN_LEADS = 200  # leads listed behind one figure


@login_required
def reconciliation_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Each rep's ledger for a period (`period`, default the last full week; `team`; `rep`), and with `show=REP:FIGURE`
    (REP a rep's id or `total`) the leads behind that figure."""
    user = cast(User, request.user)
    viewer = viewer_of(user)
    asked = {name: request.GET.get(name, "").strip() for name in ("period", "team", "rep", "show")}
    errors = []
    rep_id = None
    if re.fullmatch(r"[0-9]{1,18}", asked["rep"]):
        rep_id = int(asked["rep"])
    elif asked["rep"]:
        errors.append({"field": "rep", "message": f"{asked['rep'][:40]!r} is not a person's number; the whole team is shown"})
    try:
        scope = sales_scope(viewer, team=asked["team"], rep_id=rep_id)
    except NotFound as missing:  # a team or person typed wrongly: said, and the report one may read shown
        errors += missing.errors
        try:
            scope = sales_scope(viewer)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot open this report")
    except Refused as refused:
        return refused_page(request, refused, not_allowed="You cannot open this report")
    now = clock.now()
    try:
        period = period_parse(asked["period"], scope.time_zone) if asked["period"] else last_full_week(now, scope.time_zone)
    except ValueError as error:
        errors.append({"field": "period", "message": str(error)})
        period = last_full_week(now, scope.time_zone)
    report = reconciliation(period, now=now, team_id=scope.team.pk if scope.team else None, rep_id=scope.rep.pk if scope.rep else None)
    if request.GET.get("format") == "csv" and not errors:
        return _csv_download(report, scope)
    shown = _shown(asked["show"], report, scope, viewer, errors)
    context = {
        "scope": scope, "period": period, "asked": asked, "errors": errors, "forms": PERIOD_FORMS,
        "teams": teams_seen_by(viewer), "every_team": viewer.role == ADMIN,
        "rows": [_row(row, period, scope) for row in [*report.rows, report.total]],
        "came": CAME, "unaccounted": report.unaccounted, "shown": shown,
        "earlier": _beside(period.previous, scope), "later": _beside(period.following, scope), "csv": _href(period, scope, format="csv"),
    }
    return render(request, "web/reconciliation.html", context, status=400 if errors else 200)


class _Echo:
    """A file that hands back what is written to it: csv.writer's rows, streamed as they are made."""

    def write(self, value: str) -> str:
        return value


def _csv_download(report: Reconciliation, scope: Scope) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    name = f"reconciliation-{scope.team.slug if scope.team else 'every-team'}{f'-{scope.rep.pk}' if scope.rep else ''}-{report.period.label}.csv"
    return StreamingHttpResponse((writer.writerow(row) for row in reconciliation_csv(report)), content_type="text/csv; charset=utf-8",
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
    zone = ZoneInfo(report.period.time_zone)
    shown = list(dict.fromkeys(ids))[:SHOWN_LEADS]
    readable = {lead.pk: lead for lead in listed(Lead.objects.filter(pk__in=shown).filter(readable_leads(viewer)))}
    return {
        "title": f"{row.name}: {_figure_label(figure)}", "count": len(set(ids)), "movements": len(ids), "more": max(0, len(set(ids)) - SHOWN_LEADS),
        "leads": [listed_row(readable[lead_id], zone, readable[lead_id].received_at, year=True) if lead_id in readable else {"number": lead_id}
                  for lead_id in shown],
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
