"""Reports as CSV: the same figures as the pages and the API, a row per rep and the total, for a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from leadbaton.reports.leaderboard import Leaderboard
from leadbaton.reports.marketing import MarketingReport, MarketingRow
from leadbaton.reports.periods import Period
from leadbaton.reports.progress import BLOCKERS, Progress
from leadbaton.reports.reconciliation import CAME, Reconciliation
from leadbaton.reports.referee import Referee
from leadbaton.reports.service_levels import ServiceLevels
from leadbaton.sla.models import Clock

# The columns of the reconciliation, as the terminal and the CSV give them: (figure, label).
COLUMNS = [
    ("open_at_start", "open at start"),
    *[(f"received_{how}", f"received: {label.lower()}") for how, label in CAME.items()],
    ("received", "received"),
    ("purchased", "purchased"),
    ("not_interested", "not interested"),
    ("rejected", "rejected"),
    ("reassigned_away", "reassigned away"),
    ("open_at_end_untouched", "open at end: untouched"),
    ("open_at_end_in_progress", "open at end: in progress"),
    ("open_at_end", "open at end"),
]


def cell(value: Any) -> Any:
    """A value a spreadsheet shows as written: text that would start a formula (=, +, -, @) gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


_HEAD = ["period", "first_day", "last_day", "time_zone", "rep", "email"]


def _said(period: Period, name: str, email: str) -> list[Any]:
    """The cells every report's row starts with: the period, and whose row it is."""
    return [period.label, period.first_day.isoformat(), period.last_day.isoformat(), period.time_zone, cell(name), cell(email)]


def reconciliation_csv(report: Reconciliation) -> Iterator[list[Any]]:
    """The header, then a row per rep and the total."""
    yield [*_HEAD, *(figure for figure, _ in COLUMNS)]
    for row in [*report.rows, report.total]:
        yield [*_said(report.period, row.name, row.email), *(row.count(figure) for figure, _ in COLUMNS)]


def _number(value: float | None, digits: int = 4) -> Any:
    return "" if value is None else round(value, digits)


def service_levels_csv(report: ServiceLevels) -> Iterator[list[Any]]:
    """The header, then a row per rep and the total: seconds as numbers, shares from 0 to 1, value won per currency."""
    currencies = sorted(report.total.value_won)
    speeds = [f"{name}_{figure}" for name in ("to_owner", "to_first_touch") for figure in ("median_seconds", "p90_seconds", "within_5_minutes")]
    yield [*_HEAD, "first_owned", *speeds, "not_touched_yet", "touches_before_conversation", "without_conversation",
           *(f"{kind}_{status}" for kind in Clock.values for status in ("met", "breached")), "purchased", "not_interested", "close_rate",
           *(f"won_{currency}" for currency in currencies)]
    for row in [*report.rows, report.total]:
        yield [*_said(report.period, row.name, row.email), row.first_owned,
               *(_number(getattr(speed, figure)) for speed in (row.to_owner, row.to_first_touch) for figure in ("median", "p90", "within")),
               row.to_first_touch.waiting, _number(row.touches_per_conversation), row.without_conversation,
               *(row.clocks[kind][status] for kind in Clock.values for status in ("met", "breached")), row.purchased, row.not_interested,
               _number(row.close_rate), *(f"{row.value_won.get(currency, 0):.2f}" for currency in currencies)]


def progress_csv(report: Progress) -> Iterator[list[Any]]:
    """The header, then a row per rep and the total: the period's progress against the period before's, and now's."""
    yield [*_HEAD, "in_progress_at_start", "progressed", "share", "before_period", "before_in_progress_at_start", "before_progressed",
           "before_share", "change", "in_progress_now", "stale_now", "overdue_next_steps_now", *(f"blocker_{blocker or 'none'}" for blocker in BLOCKERS)]
    for row in [*report.rows, report.total]:
        yield [*_said(report.period, row.name, row.email), row.in_progress_at_start, row.progressed, _number(row.share), report.before.label if report.before else "",
               row.before_at_start, row.before_progressed, _number(row.before_share), _number(row.change), row.in_progress, row.stale, row.overdue,
               *(row.blockers.get(blocker, 0) for blocker in BLOCKERS)]


def marketing_csv(report: MarketingReport) -> Iterator[list[Any]]:
    """The header, then a row per source, per campaign, and the total: amounts per currency in their own columns."""
    won = sorted(report.total.won)
    spent = sorted(report.total.cost)
    period = report.period
    yield ["period", "first_day", "last_day", "time_zone", "group", "key", "name", "leads", "sales_ready", "accepted", "rejected",
           "acceptance_rate", "purchased", *(f"won_{currency}" for currency in won), *(f"cost_{currency}" for currency in spent),
           "cost_per_lead", "cost_per_sales_ready", "cost_per_purchase"]

    def line(group: str, row: MarketingRow) -> list[Any]:
        def per(count: int) -> str:
            found = row.cost_per(count)
            return f"{found[0]:.2f} {found[1]}" if found else ""

        return [period.label, period.first_day.isoformat(), period.last_day.isoformat(), period.time_zone, group, cell(row.key), cell(row.name),
                row.leads, row.sales_ready, row.accepted, row.rejected, _number(row.acceptance), row.purchased,
                *(f"{row.won.get(currency, 0):.2f}" for currency in won), *(f"{row.cost.get(currency, 0):.2f}" for currency in spent),
                per(row.leads), per(row.sales_ready), per(row.purchased)]

    for row in report.by_source:
        yield line("source", row)
    for row in report.by_campaign:
        yield line("campaign", row)
    yield line("total", report.total)


def referee_csv(report: Referee) -> Iterator[list[Any]]:
    """The header, then the period asked and each of its 12 weeks: both sides' figures, shares from 0 to 1."""
    yield ["week", "sales_ready", "sales_ready_target", "sales_ready_met", "acceptance_rate", "acceptance_target", "acceptance_met",
           "first_owned", "within_5_minutes", "first_response_met", "clocks_met", "close_rate"]
    for sides in [report.now, *report.weeks]:
        yield [sides.label, sides.sales_ready, _blank(sides.sales_ready_target), _blank(sides.sales_ready_met), _number(sides.acceptance),
               _blank(sides.acceptance_target), _blank(sides.acceptance_met), sides.first_owned, _number(sides.within_5_minutes),
               _number(sides.first_response_met), _number(sides.clocks_met), _number(sides.close_rate)]


def leaderboard_csv(board: Leaderboard) -> Iterator[list[Any]]:
    """The header, then a row per name on each board."""
    period = board.period
    yield ["period", "first_day", "last_day", "time_zone", "board", "place", "rep", "email", "why"]
    for each in board.boards:
        for named in each.named:
            yield [period.label, period.first_day.isoformat(), period.last_day.isoformat(), period.time_zone, each.key, named.place,
                   cell(named.name), cell(named.email), cell(named.why)]


def _blank(value: Any) -> Any:
    return "" if value is None else value
