"""The referee view (P8): marketing's service levels and sales' side by side for a period, each with its trend over the
12 weeks that end with the period's last week, so neither side grades its own homework.

Marketing (S3): sales-ready leads against the target, and the share sales accepted against its target. Sales (S1, S4):
the share of new leads first touched within 5 minutes, the share of first-response clocks met, of all clocks met, and
the close rate. Every figure is the organisation's, in the default team's time zone, from the same reports
(reports.marketing and reports.service_levels), so the referee and those reports cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from leadbaton.reports.marketing import marketing_report
from leadbaton.reports.periods import Period, week_of
from leadbaton.reports.service_levels import service_levels
from leadbaton.sla.models import Clock

TREND_WEEKS = 12


@dataclass(frozen=True)
class Sides:
    """One period's figures, both sides. Shares from 0 to 1; None where there was nothing to count."""

    label: str
    sales_ready: int
    sales_ready_target: int | None
    accepted: int
    acceptance: float | None
    acceptance_target: int | None  # percent
    first_owned: int
    within_5_minutes: float | None
    first_response_met: float | None
    clocks_met: float | None
    close_rate: float | None

    @property
    def sales_ready_met(self) -> bool | None:
        return None if self.sales_ready_target is None else self.sales_ready >= self.sales_ready_target

    @property
    def acceptance_met(self) -> bool | None:
        if self.acceptance_target is None or not self.sales_ready:
            return None
        return self.accepted * 100 >= self.acceptance_target * self.sales_ready


@dataclass(frozen=True)
class Referee:
    period: Period
    now: Sides  # the period asked
    weeks: list[Sides]  # the TREND_WEEKS weeks ending with the period's last week, oldest first


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def sides(period: Period) -> Sides:
    """Both sides' figures for `period`, for the whole organisation."""
    marketing = marketing_report(period)
    served = service_levels(period).total
    met = sum(counts["met"] for counts in served.clocks.values())
    ended = met + sum(counts["breached"] for counts in served.clocks.values())
    first = served.clocks[str(Clock.FIRST_RESPONSE)]
    return Sides(
        label=period.label, sales_ready=marketing.total.sales_ready, sales_ready_target=marketing.targets.sales_ready,
        accepted=marketing.total.accepted, acceptance=marketing.total.acceptance, acceptance_target=marketing.targets.acceptance_rate,
        first_owned=served.first_owned, within_5_minutes=served.to_first_touch.within,
        first_response_met=_share(first["met"], first["met"] + first["breached"]), clocks_met=_share(met, ended), close_rate=served.close_rate,
    )


def referee(period: Period, *, weeks: int = TREND_WEEKS) -> Referee:
    """The period's figures and the trend of the `weeks` weeks that end with the week of its last day."""
    last = week_of(period.last_day, period.time_zone)
    trend = [sides(week_of(last.first_day - timedelta(days=7 * back), period.time_zone)) for back in range(weeks - 1, -1, -1)]
    return Referee(period, trend[-1] if period.label == last.label else sides(period), trend)
