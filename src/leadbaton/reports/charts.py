"""The reports' charts, drawn on the server as SVG by pygal (decision 0031) for the pages to show as images: where each
rep's leads went (the reconciliation, stacked), how soon new leads were first touched (a histogram), and marketing's
leads from lead to purchase (a funnel, as bars).

A chart is an <img> of a data: URL, so no script or style of its own runs in the page (the page's content security
policy allows neither); its alt text says what it shows in words, and the table beside it holds every figure.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pygal
from pygal.style import Style

from leadbaton.reports.marketing import MarketingReport
from leadbaton.reports.reconciliation import Reconciliation
from leadbaton.reports.referee import Referee
from leadbaton.reports.service_levels import WITHIN_SECONDS, ServiceLevels

# The page's own colours (web/static/web/leadbaton.css) and type; one colour per series, in order.
_STYLE = Style(
    background="white", plot_background="white", foreground="#1d2330", foreground_strong="#1d2330", foreground_subtle="#e3e6ec",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", label_font_size=13, major_label_font_size=13,
    legend_font_size=13, title_font_size=15, value_font_size=12,
    colors=("#0b6e4f", "#b91c1c", "#6b7280", "#b45309", "#1d4ed8", "#93c5fd"),
)

# A first touch's wait, in buckets people think in: (label, up to seconds).
SPEED_BUCKETS = [("≤ 1 min", 60), ("1 to 5 min", WITHIN_SECONDS), ("5 to 15 min", 15 * 60), ("15 to 60 min", 3600), ("1 to 4 h", 4 * 3600),
                 ("4 to 24 h", 86400), ("over a day", None)]


@dataclass(frozen=True)
class Chart:
    """An SVG chart as the page shows it: the image's data: URL and its alternative text."""

    src: str
    alt: str


def _chart(kind: type[pygal.graph.graph.Graph], **config: object) -> pygal.graph.graph.Graph:
    """A chart of `kind` in the page's look, no script, `config` over these defaults."""
    defaults: dict[str, object] = {"style": _STYLE, "js": [], "disable_xml_declaration": True, "width": 760, "height": 340, "legend_at_bottom": True,
                                   "legend_at_bottom_columns": 3, "print_values": False, "show_y_guides": True, "truncate_label": -1}
    return kind(**(defaults | config))


def _image(chart: pygal.graph.graph.Graph, alt: str) -> Chart:
    svg = chart.render(is_unicode=True)
    return Chart("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"), alt)


def reconciliation_chart(report: Reconciliation) -> Chart | None:
    """Per rep, where the leads they had (open at start and received) went: purchased, not interested, rejected,
    reassigned away, or still open (in progress, untouched). Each bar's height is the ledger's left side. None when
    no rep had a lead."""
    rows = [row for row in report.rows if row.count("open_at_start") + row.count("received")]
    if not rows:
        return None
    series = [("Purchased", "purchased"), ("Not interested", "not_interested"), ("Rejected", "rejected"),
              ("Reassigned away", "reassigned_away"), ("Open: in progress", "open_at_end_in_progress"), ("Open: untouched", "open_at_end_untouched")]
    chart = _chart(pygal.StackedBar, title=f"Where each rep's leads went, {report.period.label}", x_label_rotation=-20 if len(rows) > 6 else 0)
    chart.x_labels = [row.name for row in rows]
    for label, figure in series:
        chart.add(label, [row.count(figure) or None for row in rows])
    total = report.total
    alt = (f"Stacked bars, one per rep, of the {total.count('open_at_start') + total.count('received')} leads the reps had in "
           f"{report.period.label}: " + "; ".join(f"{label.lower()} {total.count(figure)}" for label, figure in series) + ". The table has each rep's figures.")
    return _image(chart, alt)


def speed_chart(report: ServiceLevels) -> Chart | None:
    """How long the leads first owned in the period waited for their first touch, in SPEED_BUCKETS, and those not
    touched yet. None when no lead was first owned."""
    speed = report.total.to_first_touch
    if not speed.seconds and not speed.waiting:
        return None
    counts = [0] * len(SPEED_BUCKETS)
    for seconds in speed.seconds:
        counts[next(index for index, (_, limit) in enumerate(SPEED_BUCKETS) if limit is None or seconds <= limit)] += 1
    chart = _chart(pygal.Bar, title=f"Time to first touch, {report.period.label}", show_legend=False)
    chart.x_labels = [label for label, _ in SPEED_BUCKETS] + ["not yet"]
    chart.add("Leads", [*counts, speed.waiting])
    alt = (f"Bars of the {len(speed.seconds) + speed.waiting} leads first owned in {report.period.label} by their wait for a first touch: "
           + ", ".join(f"{label} {count}" for (label, _), count in zip(SPEED_BUCKETS, counts, strict=True)) + f", not yet {speed.waiting}.")
    return _image(chart, alt)


def funnel_chart(report: MarketingReport) -> Chart | None:
    """From lead to purchase for the period: leads, sales-ready, accepted, purchased. None when nothing came."""
    total = report.total
    steps = [("Leads", total.leads), ("Sales-ready", total.sales_ready), ("Accepted", total.accepted), ("Purchased", total.purchased)]
    if not any(count for _, count in steps):
        return None
    chart = _chart(pygal.HorizontalBar, title=f"From lead to purchase, {report.period.label}", show_legend=False, print_values=True)
    chart.x_labels = [label for label, _ in steps]
    chart.add("Leads", [count for _, count in steps])
    alt = f"Bars from lead to purchase in {report.period.label}: " + ", ".join(f"{label.lower()} {count}" for label, count in steps) + "."
    return _image(chart, alt)


def referee_charts(report: Referee) -> list[Chart]:
    """The trend of both sides over the weeks: marketing's sales-ready leads against the target, and the shares each
    side answers for (accepted; touched within 5 minutes, first responses met, close rate), in percent."""
    labels = [week.label for week in report.weeks]
    counts = _chart(pygal.Line, title="Sales-ready leads a week, against marketing's target", dots_size=3)
    counts.x_labels = labels
    counts.add("Sales-ready", [week.sales_ready for week in report.weeks])
    counts.add("Target", [week.sales_ready_target for week in report.weeks])

    def percent(value: float | None) -> float | None:
        return None if value is None else round(value * 100, 1)

    shares = _chart(pygal.Line, title="Both sides' shares a week, in percent", range=(0, 100), dots_size=3)
    shares.x_labels = labels
    series = [("Accepted by sales (marketing)", "acceptance"), ("Touched within 5 minutes (sales)", "within_5_minutes"),
              ("First responses met (sales)", "first_response_met"), ("Close rate (sales)", "close_rate")]
    for name, figure in series:
        shares.add(name, [percent(getattr(week, figure)) for week in report.weeks])
    first, last = report.weeks[0], report.weeks[-1]
    return [
        _image(counts, f"Lines over {first.label} to {last.label} of sales-ready leads a week: from {first.sales_ready} to {last.sales_ready}, "
                       f"against a target of {last.sales_ready_target if last.sales_ready_target is not None else 'none'}. The table has each week."),
        _image(shares, f"Lines over {first.label} to {last.label} of the shares accepted by sales, touched within 5 minutes, first responses "
                       "met and closed as purchased. The table has each week."),
    ]
