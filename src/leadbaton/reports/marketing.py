"""Marketing accountability (P4, S3): per source and per campaign for a period, the leads that came, those that became
sales-ready against marketing's target, the share sales accepted against its target and why the others were rejected,
purchases and their value, and what the campaigns cost: per lead, per sales-ready lead and per purchase.

- Leads: people whose first inquiry arrived in the period (a new lead), by the source and campaign they came with
  (their first inquiry's: a later inquiry from another campaign does not move them, so a past period stays as it was).
- Sales-ready: leads handed from marketing to sales in the period (routed on arrival, or qualified later from nurture).
- Accepted: of those, the ones sales has not rejected since (a rejection says it was not a lead); the rest are counted
  with their reasons. A lead sales may still reject counts as accepted until it does; a rejection after the lead went
  back to marketing and became sales-ready again counts against that later hand-over, not this one.
- Purchased: leads that closed as purchased in the period, with their value per currency.
- Cost: each campaign cost entered for some days is spread evenly over them; the period takes the days it shares.
  Cost per lead, per sales-ready lead and per purchase divide a campaign's cost in the period by its counts.

A period's sales-ready target is the weekly target per 7 days of the period, rounded. Targets are not kept by date:
every period, past ones too, is measured against the targets in force now.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection

from leadbaton.intake.models import Source
from leadbaton.leads.models import Handoff, Lead, OwnerKind, Stage
from leadbaton.qualification.models import CampaignCost, MarketingTargets
from leadbaton.qualification.queries import campaign_costs, targets_now
from leadbaton.reports.periods import Period

NO_CAMPAIGN = "(no campaign)"
CENT = Decimal("0.01")

_LEAD, _HANDOFF = Lead._meta.db_table, Handoff._meta.db_table
# A lead handed from marketing to sales: on arrival (no owner before) or out of nurture; index handoff_sales_ready.
SALES_READY_SQL = (f"h.to_kind IN ('{OwnerKind.TEAM}', '{OwnerKind.REP}') AND h.from_kind IN ('', '{OwnerKind.MARKETING}') "
                   "AND h.at >= %(start)s AND h.at < %(end)s")
_SALES_READY = f"to_kind IN ('{OwnerKind.TEAM}', '{OwnerKind.REP}') AND {{alias}}.from_kind IN ('', '{OwnerKind.MARKETING}')"
# Rejected after it became sales-ready and before it became sales-ready again (a recycled lead qualifying once more is
# a new hand-over, accepted or rejected on its own).
REJECTED_SINCE = (f"EXISTS (SELECT 1 FROM {_HANDOFF} r WHERE r.lead_id = h.lead_id AND r.reason = '{Handoff.Reason.REJECTED}' AND r.at > h.at "
                   f"AND NOT EXISTS (SELECT 1 FROM {_HANDOFF} n WHERE n.lead_id = h.lead_id AND n.{_SALES_READY.format(alias='n')} "
                   "AND n.at > h.at AND n.at < r.at))")

_RECEIVED_SQL = f"SELECT l.source_slug, l.original_campaign, COUNT(*) FROM {_LEAD} l WHERE l.received_at >= %(start)s AND l.received_at < %(end)s GROUP BY l.source_slug, l.original_campaign"
# Per source and campaign, the leads that became sales-ready and, of them, those rejected since; the rejected by reason.
_READY_SQL = f"""
SELECT l.source_slug, l.original_campaign, l.rejected_reason, COUNT(DISTINCT h.lead_id),
       COUNT(DISTINCT CASE WHEN {REJECTED_SINCE} THEN h.lead_id END)
FROM {_HANDOFF} h JOIN {_LEAD} l ON l.id = h.lead_id
WHERE {SALES_READY_SQL}
GROUP BY l.source_slug, l.original_campaign, l.rejected_reason
"""
_PURCHASED_SQL = (f"SELECT l.source_slug, l.original_campaign, l.currency, COUNT(*), SUM(l.value) FROM {_LEAD} l WHERE l.stage = '{Stage.PURCHASED}' "
                  "AND l.closed_at >= %(start)s AND l.closed_at < %(end)s GROUP BY l.source_slug, l.original_campaign, l.currency")


@dataclass
class MarketingRow:
    """One source's or campaign's figures for the period (or the sum of all: `key` "")."""

    key: str
    name: str
    leads: int = 0
    sales_ready: int = 0
    rejected: int = 0
    purchased: int = 0
    won: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    cost: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def accepted(self) -> int:
        return self.sales_ready - self.rejected

    @property
    def acceptance(self) -> float | None:
        """The share (0 to 1) of the sales-ready leads sales accepted."""
        return self.accepted / self.sales_ready if self.sales_ready else None

    def cost_per(self, count: int) -> tuple[Decimal, str] | None:
        """The cost divided by `count`, in the cost's one currency; None with no cost, no count or several currencies."""
        if len(self.cost) != 1 or not count:
            return None
        currency, amount = next(iter(self.cost.items()))
        return (amount / count).quantize(CENT, ROUND_HALF_UP), currency

    def add(self, other: MarketingRow) -> None:
        self.leads += other.leads
        self.sales_ready += other.sales_ready
        self.rejected += other.rejected
        self.purchased += other.purchased
        for mine, theirs in ((self.won, other.won), (self.cost, other.cost)):
            for currency, amount in theirs.items():
                mine[currency] += amount

    def out(self) -> dict[str, Any]:
        """The figures as the API and the CSV give them; amounts as text with two decimals."""
        def per(count: int) -> dict[str, str] | None:
            found = self.cost_per(count)
            return {"amount": f"{found[0]:.2f}", "currency": found[1]} if found else None

        return {
            "leads": self.leads, "sales_ready": self.sales_ready, "accepted": self.accepted, "rejected": self.rejected,
            "acceptance_rate": self.acceptance, "purchased": self.purchased,
            "value_won": {currency: f"{amount:.2f}" for currency, amount in sorted(self.won.items())},
            "cost": {currency: f"{amount:.2f}" for currency, amount in sorted(self.cost.items())},
            "cost_per_lead": per(self.leads), "cost_per_sales_ready": per(self.sales_ready), "cost_per_purchase": per(self.purchased),
        }


@dataclass
class Targets:
    """Marketing's targets for the period and whether they were met (None: no target, or nothing to judge yet)."""

    sales_ready: int | None
    acceptance_rate: int | None  # percent

    def sales_ready_met(self, total: MarketingRow) -> bool | None:
        return None if self.sales_ready is None else total.sales_ready >= self.sales_ready

    def acceptance_met(self, total: MarketingRow) -> bool | None:
        if self.acceptance_rate is None or not total.sales_ready:
            return None
        return total.accepted * 100 >= self.acceptance_rate * total.sales_ready  # in whole numbers: 29 of 50 meets 58%


@dataclass
class MarketingReport:
    period: Period
    by_source: list[MarketingRow]
    by_campaign: list[MarketingRow]
    total: MarketingRow
    rejected_by_reason: dict[str, int]
    targets: Targets
    costs: list[CampaignCost]


def marketing_report(period: Period) -> MarketingReport:
    """Every source's and campaign's figures for `period`, with marketing's targets for it. Four queries, and the costs."""
    cells: dict[tuple[str, str], MarketingRow] = {}

    def cell(source: str, campaign: str) -> MarketingRow:
        return cells.setdefault((source, campaign), MarketingRow(source, campaign))

    terms = {"start": connection.ops.adapt_datetimefield_value(period.start), "end": connection.ops.adapt_datetimefield_value(period.end)}
    reasons: dict[str, int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(_RECEIVED_SQL, terms)
        for source, campaign, count in cursor.fetchall():
            cell(source, campaign).leads += count
        cursor.execute(_READY_SQL, terms)
        for source, campaign, reason, ready, rejected in cursor.fetchall():
            counted = cell(source, campaign)
            counted.sales_ready += ready
            counted.rejected += rejected
            if rejected:
                reasons[reason or ""] += rejected
        cursor.execute(_PURCHASED_SQL, terms)
        for source, campaign, currency, count, value in cursor.fetchall():
            counted = cell(source, campaign)
            counted.purchased += count
            if value is not None:
                counted.won[currency or "?"] += Decimal(value)
    costs = campaign_costs(period.first_day, period.last_day)
    names = dict(Source.objects.values_list("slug", "name"))
    by_source: dict[str, MarketingRow] = {}
    by_campaign: dict[str, MarketingRow] = {}
    for (source, campaign), counted in cells.items():
        by_source.setdefault(source, MarketingRow(source, names.get(source, source))).add(counted)
        by_campaign.setdefault(campaign, MarketingRow(campaign, campaign or NO_CAMPAIGN)).add(counted)
    for cost in costs:
        by_campaign.setdefault(cost.campaign, MarketingRow(cost.campaign, cost.campaign)).cost[cost.currency] += cost_in(cost, period)
    total = MarketingRow("", "Total")
    for each in by_campaign.values():
        total.add(each)
    return MarketingReport(period, _ordered(by_source), _ordered(by_campaign), total, dict(reasons), targets_for(period, targets_now()), costs)


def cost_in(cost: CampaignCost, period: Period) -> Decimal:
    """The part of `cost` that falls in `period`: its amount spread evenly over its days, for the days they share."""
    first, last = max(cost.first_day, period.first_day), min(cost.last_day, period.last_day)
    shared = (last - first).days + 1
    if shared <= 0:
        return Decimal(0)
    days = (cost.last_day - cost.first_day).days + 1
    return (cost.amount * shared / days).quantize(CENT, ROUND_HALF_UP)


def targets_for(period: Period, targets: MarketingTargets) -> Targets:
    days = (period.last_day - period.first_day + timedelta(days=1)).days
    ready = round(targets.sales_ready_per_week * days / 7) if targets.sales_ready_per_week else None
    return Targets(ready, targets.acceptance_rate or None)


def _ordered(rows: dict[str, MarketingRow]) -> list[MarketingRow]:
    """Most sales-ready leads first, then most leads, then by name; "(no campaign)" last among equals."""
    return sorted(rows.values(), key=lambda row: (-row.sales_ready, -row.leads, row.key == "", row.name.lower()))
