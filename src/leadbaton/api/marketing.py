"""Marketing's side through the API: its targets (admins set them) and what each campaign cost (admins and marketing
enter it), and marketing's report: per source and campaign, the leads, sales-ready against the target, acceptance,
purchases, value and cost."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictInt

from leadbaton.accounts.models import Role
from leadbaton.api.auth import STAFF_AUTH, caller, require_role
from leadbaton.api.reports import PeriodOut, period_asked, period_out
from leadbaton.api.schemas import RowId, refusals
from leadbaton.core import clock
from leadbaton.pipeline.followup import viewer_of
from leadbaton.pipeline.marketing import campaign_cost_enter, campaign_cost_remove, targets_change
from leadbaton.qualification.models import CampaignCost, MarketingTargets
from leadbaton.qualification.queries import targets_now
from leadbaton.reports.marketing import MarketingRow, marketing_report
from leadbaton.reports.referee import Sides, referee
from leadbaton.reports.scope import marketing_scope

router = Router(tags=["marketing"], auth=STAFF_AUTH)


class TargetsIn(Schema):
    sales_ready_per_week: StrictInt | None = None  # 0: no target; left out: unchanged
    acceptance_rate: StrictInt | None = None  # percent, 0 to 100


class TargetsOut(Schema):
    sales_ready_per_week: int  # 0: no target
    acceptance_rate: int  # percent; 0: no target


def _targets(targets: MarketingTargets) -> dict[str, Any]:
    return {"sales_ready_per_week": targets.sales_ready_per_week, "acceptance_rate": targets.acceptance_rate}


@router.get("/marketing/targets", response={200: TargetsOut, **refusals(401)}, summary="Marketing's targets")
def targets_get(request: HttpRequest) -> Any:
    """Sales-ready leads a week and the share sales accepts, agreed between marketing and sales; 0 for no target."""
    caller(request)
    return _targets(targets_now())


@router.put("/marketing/targets", response={200: TargetsOut, **refusals(400, 401, 403, 422)}, summary="Set marketing's targets")
def targets_put(request: HttpRequest, payload: TargetsIn) -> Any:
    """Admins. A field left out keeps its value. The organisation file (`marketing:`), applied again, sets what it writes."""
    user = caller(request)
    require_role(user, Role.ADMIN)
    values = {name: value for name, value in payload.model_dump().items() if value is not None}
    return _targets(targets_change(by=user, values=values, now=clock.now()))


class CostIn(Schema):
    campaign: str  # as leads carry it: the `campaign` field of their inquiries
    first_day: str  # YYYY-MM-DD
    last_day: str  # YYYY-MM-DD; the amount is spread evenly over the days
    amount: str  # a decimal, e.g. "2500.00"
    currency: str  # ISO 4217
    note: str = ""


class CostOut(Schema):
    id: int
    campaign: str
    first_day: date
    last_day: date
    amount: str
    currency: str
    note: str
    entered_by: str  # an email
    entered_at: datetime


def _cost(cost: CampaignCost) -> dict[str, Any]:
    return {"id": cost.pk, "campaign": cost.campaign, "first_day": cost.first_day, "last_day": cost.last_day, "amount": f"{cost.amount:.2f}",
            "currency": cost.currency, "note": cost.note, "entered_by": cost.entered_by.email, "entered_at": cost.entered_at}


@router.get("/campaign-costs", response={200: list[CostOut], **refusals(401, 403, 422)}, summary="What campaigns cost")
def costs_get(request: HttpRequest, period: str | None = None) -> Any:
    """The campaign costs entered, newest days first; with `period` (as the reports take it), those whose days meet it."""
    scope = marketing_scope(viewer_of(caller(request)))  # the report's readers: admins, marketing, managers
    costs = CampaignCost.objects.select_related("entered_by").order_by("-first_day", "campaign", "-id")
    if period:
        asked = period_asked(period, scope)
        costs = costs.filter(first_day__lte=asked.last_day, last_day__gte=asked.first_day)
    return [_cost(cost) for cost in costs[:1000]]


@router.post("/campaign-costs", response={201: CostOut, **refusals(400, 401, 403, 422)}, summary="Enter what a campaign cost")
def cost_post(request: HttpRequest, payload: CostIn) -> Any:
    """Admins and marketing. Every field that cannot be used is named with what would be."""
    cost = campaign_cost_enter(by=caller(request), values=payload.model_dump(), now=clock.now())
    return Status(201, _cost(cost))


@router.delete("/campaign-costs/{cost_id}", response={200: CostOut, **refusals(401, 403, 404, 422)}, summary="Delete a campaign cost")
def cost_delete(request: HttpRequest, cost_id: RowId) -> Any:
    """Admins and marketing: a cost entered by mistake. The answer is what was deleted."""
    return _cost(campaign_cost_remove(by=caller(request), cost_id=cost_id))


class PerOut(Schema):
    amount: str
    currency: str


class MarketingRowOut(Schema):
    key: str  # the source's slug or the campaign ("" for leads with none); "" on the total
    name: str
    leads: int  # new leads whose first inquiry came in the period
    sales_ready: int  # leads handed from marketing to sales in the period
    accepted: int  # of those, not rejected by sales since
    rejected: int
    acceptance_rate: float | None  # accepted / sales_ready, 0 to 1
    purchased: int  # leads closed as purchased in the period
    value_won: dict[str, str]  # per currency
    cost: dict[str, str]  # per currency: the campaigns' costs spread over the period's days (by campaign and total only)
    cost_per_lead: PerOut | None  # None without a cost in one currency, or nothing to divide by
    cost_per_sales_ready: PerOut | None
    cost_per_purchase: PerOut | None


class MarketingTargetsOut(Schema):
    sales_ready: int | None  # the weekly target per 7 days of the period; None: no target
    sales_ready_met: bool | None
    acceptance_rate: int | None  # percent
    acceptance_met: bool | None  # None: no target, or no sales-ready lead to judge


class MarketingOut(Schema):
    period: PeriodOut
    targets: MarketingTargetsOut
    by_source: list[MarketingRowOut]
    by_campaign: list[MarketingRowOut]
    total: MarketingRowOut
    rejected_by_reason: dict[str, int]  # spam, student, wrong_person, duplicate, out_of_territory, no_budget_ever, other


def _row(row: MarketingRow) -> dict[str, Any]:
    return {"key": row.key, "name": row.name, **row.out()}


@router.get("/reports/marketing", response={200: MarketingOut, **refusals(401, 403, 422)}, summary="Marketing's period against its targets")
def marketing_get(request: HttpRequest, period: str | None = None) -> Any:
    """Per source and campaign for a period (as the reconciliation takes it, in the default team's time zone): leads,
    sales-ready against marketing's target, acceptance against its target and the rejections' reasons, purchases and
    value, and cost per lead, sales-ready lead and purchase. For admins, marketing and sales managers."""
    scope = marketing_scope(viewer_of(caller(request)))
    asked = period_asked(period, scope)
    report = marketing_report(asked)
    targets = report.targets
    return {
        "period": period_out(asked),
        "targets": {"sales_ready": targets.sales_ready, "sales_ready_met": targets.sales_ready_met(report.total),
                    "acceptance_rate": targets.acceptance_rate, "acceptance_met": targets.acceptance_met(report.total)},
        "by_source": [_row(row) for row in report.by_source], "by_campaign": [_row(row) for row in report.by_campaign],
        "total": _row(report.total), "rejected_by_reason": report.rejected_by_reason,
    }


class SidesOut(Schema):
    week: str  # the period's label, or the ISO week
    sales_ready: int
    sales_ready_target: int | None
    sales_ready_met: bool | None
    acceptance_rate: float | None  # 0 to 1
    acceptance_target: int | None  # percent
    acceptance_met: bool | None
    first_owned: int
    within_5_minutes: float | None  # of the leads first owned, touched within 5 minutes of the first inquiry
    first_response_met: float | None  # of the first-response clocks that ended
    clocks_met: float | None  # of every clock that ended
    close_rate: float | None


class RefereeOut(Schema):
    period: PeriodOut
    now: SidesOut
    weeks: list[SidesOut]  # the 12 weeks ending with the period's last week, oldest first


def _sides(sides: Sides) -> dict[str, Any]:
    return {"week": sides.label, "sales_ready": sides.sales_ready, "sales_ready_target": sides.sales_ready_target,
            "sales_ready_met": sides.sales_ready_met, "acceptance_rate": sides.acceptance, "acceptance_target": sides.acceptance_target,
            "acceptance_met": sides.acceptance_met, "first_owned": sides.first_owned, "within_5_minutes": sides.within_5_minutes,
            "first_response_met": sides.first_response_met, "clocks_met": sides.clocks_met, "close_rate": sides.close_rate}


@router.get("/reports/referee", response={200: RefereeOut, **refusals(401, 403, 422)}, summary="Marketing's and sales' service levels side by side")
def referee_get(request: HttpRequest, period: str | None = None) -> Any:
    """For a period and each of the 12 weeks that end with it: marketing's sales-ready leads and acceptance against its
    targets, and sales' speed to lead, clocks met and close rate, for the whole organisation. Admins, marketing, managers."""
    scope = marketing_scope(viewer_of(caller(request)))
    asked = period_asked(period, scope)
    report = referee(asked)
    return {"period": period_out(asked), "now": _sides(report.now), "weeks": [_sides(week) for week in report.weeks]}
