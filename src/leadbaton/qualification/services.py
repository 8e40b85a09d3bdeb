"""Writes of the qualification capability: the lead definition, marketing's targets, campaign costs."""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from django.db.models import Max

from leadbaton.accounts.models import User
from leadbaton.core.models import config_lock
from leadbaton.core.refusals import Invalid, NotFound
from leadbaton.qualification.models import CampaignCost, LeadDefinition, MarketingTargets

TARGET_MAX = 1_000_000  # sales-ready leads a week
AMOUNT_LIMIT = Decimal("10000000000")  # what a DecimalField of 12 digits, 2 after the point, holds
COST_DAYS_MAX = 2 * 366  # days from the first to the last, at most one less
COST_YEARS = (2000, 2199)  # the years reports may be asked for (reports.periods)


def definition_publish(
    *,
    name: str,
    description: str,
    required: list[str],
    fit_rules: list[dict[str, Any]],
    threshold: int,
    signed_off_by: list[str],
    now: datetime,
) -> tuple[LeadDefinition, bool]:
    """Make this the active definition. A new version only if it differs from the active one.

    Returns (definition, created). Leads keep the version that judged them.
    Call inside a transaction.
    """
    config_lock()  # before the definition: every configuration writer locks in the same order
    active = LeadDefinition.objects.select_for_update().filter(active=True).first()
    content = {"name": name, "description": description, "required": required, "fit_rules": fit_rules, "threshold": threshold, "signed_off_by": signed_off_by}
    if active is not None and all(getattr(active, key) == value for key, value in content.items()):
        return active, False
    if active is not None:
        active.active = False
        active.save(update_fields=["active"])
    version = (LeadDefinition.objects.aggregate(latest=Max("version"))["latest"] or 0) + 1
    return LeadDefinition.objects.create(version=version, active=True, created_at=now, **content), True


def targets_set(*, sales_ready_per_week: int, acceptance_rate: int, now: datetime) -> tuple[MarketingTargets, list[str]]:
    """Set marketing's targets (0: none). Returns the row and the names of the fields that changed. Call inside a
    transaction; Invalid for a number out of range."""
    problems = []
    if not 0 <= sales_ready_per_week <= TARGET_MAX:
        problems.append({"field": "sales_ready_per_week", "message": f"{sales_ready_per_week} is not a number of leads from 0 (no target) to {TARGET_MAX}"})
    if not 0 <= acceptance_rate <= 100:
        problems.append({"field": "acceptance_rate", "message": f"{acceptance_rate} is not a percent from 0 (no target) to 100"})
    if problems:
        raise Invalid(problems)
    config_lock()
    targets = MarketingTargets.objects.select_for_update().first()
    wanted = {"sales_ready_per_week": sales_ready_per_week, "acceptance_rate": acceptance_rate}
    if targets is None:
        return MarketingTargets.objects.create(updated_at=now, **wanted), [name for name, value in wanted.items() if value]
    changed = [name for name, value in wanted.items() if getattr(targets, name) != value]
    if changed:
        for name in changed:
            setattr(targets, name, wanted[name])
        targets.updated_at = now
        targets.save()
    return targets, changed


def campaign_cost_add(*, campaign: str, first_day: str, last_day: str, amount: str, currency: str, note: str, by: User,
                      now: datetime) -> CampaignCost:
    """Record what `campaign` cost over the days from `first_day` to `last_day` (ISO dates), as typed; Invalid naming
    every field that cannot be used and what would be."""
    problems: list[dict[str, str]] = []

    def problem(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    campaign, note, currency = campaign.strip(), note.strip(), currency.strip().upper()
    if not campaign:
        problem("campaign", "is required: the campaign as leads carry it, e.g. spring-webinar")
    elif len(campaign) > 200:
        problem("campaign", f"is {len(campaign)} characters; at most 200")
    days = {}
    for field, text in (("first_day", first_day), ("last_day", last_day)):
        day = None
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
            with contextlib.suppress(ValueError):  # 2026-02-30: said below
                day = date.fromisoformat(text.strip())
        if not text.strip():
            problem(field, "is required: a date such as 2026-11-01")
        elif day is None:
            problem(field, f"{text[:40]!r} is not a date; write YYYY-MM-DD such as 2026-11-01")
        elif not COST_YEARS[0] <= day.year <= COST_YEARS[1]:
            problem(field, f"{day} is outside the years {COST_YEARS[0]} to {COST_YEARS[1]}, which reports cover")
        else:
            days[field] = day
    if len(days) == 2 and days["last_day"] < days["first_day"]:
        problem("last_day", f"{days['last_day']} is before the first day, {days['first_day']}")
    elif len(days) == 2 and (days["last_day"] - days["first_day"]).days >= COST_DAYS_MAX:
        problem("last_day", f"the days run over {COST_DAYS_MAX // 365} years; enter a long campaign's cost per year or month")
    value = None
    try:
        value = Decimal(amount.strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        problem("amount", f"{amount[:40]!r} is not an amount; write it like 2500.00" if amount.strip() else "is required: what it cost, e.g. 2500.00")
    if value is not None:
        if not value.is_finite() or value <= 0:
            problem("amount", "must be a number more than 0, e.g. 2500.00")
        elif value >= AMOUNT_LIMIT:
            problem("amount", f"must be less than {AMOUNT_LIMIT}")
        elif value != value.quantize(Decimal("0.01")):
            problem("amount", "has more than 2 decimal places; give it to the cent at most")
    if len(currency) != 3 or pycountry.currencies.get(alpha_3=currency) is None:
        problem("currency", f"{currency[:10]!r} is not an ISO 4217 code such as EUR" if currency else "is required: an ISO 4217 code such as EUR")
    if len(note) > 500:
        problem("note", f"is {len(note)} characters; at most 500")
    if problems:
        raise Invalid(problems)
    assert value is not None
    return CampaignCost.objects.create(campaign=campaign, first_day=days["first_day"], last_day=days["last_day"], amount=value,
                                       currency=currency, note=note, entered_by=by, entered_at=now)


def campaign_cost_drop(cost_id: int) -> CampaignCost:
    """Delete a campaign cost entered by mistake; NotFound when there is none with that id."""
    cost = CampaignCost.objects.filter(pk=cost_id).first()
    if cost is None:
        raise NotFound.one("id", f"no campaign cost {cost_id}")
    cost.delete()
    cost.pk = cost_id  # what was deleted, as it was
    return cost
