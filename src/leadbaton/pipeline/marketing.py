"""Marketing's side of the agreement (S3): its targets, which admins set (here or in the organisation file), and what
each campaign cost, which admins and marketing enter, for marketing's report (reports.marketing)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction

from leadbaton.accounts.models import Role, User
from leadbaton.core.refusals import Invalid, NotAllowed
from leadbaton.qualification.models import CampaignCost, MarketingTargets
from leadbaton.qualification.services import TARGET_MAX, campaign_cost_add, campaign_cost_drop, targets_set

TARGET_LIMITS = {"sales_ready_per_week": (TARGET_MAX, "a number of leads"), "acceptance_rate": (100, "a percent")}
TARGET_FIELDS = tuple(TARGET_LIMITS)


def targets_change(*, by: User, values: dict[str, Any], now: datetime) -> MarketingTargets:
    """Set marketing's targets (admins): `sales_ready_per_week` and `acceptance_rate` (percent), whole numbers, 0 for
    none; a value left out keeps what it was. NotAllowed for anyone else; Invalid naming each field."""
    if not (by.is_superuser or by.role == Role.ADMIN):
        raise NotAllowed.one("role", "only an admin sets marketing's targets, agreed between marketing and sales")
    problems = [{"field": str(name)[:60], "message": f"is not a target; use {' or '.join(TARGET_FIELDS)}"} for name in values if name not in TARGET_FIELDS]
    numbers: dict[str, int] = {}
    for name, (limit, unit) in TARGET_LIMITS.items():
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,7}\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append({"field": name, "message": f"{str(value)[:40]!r} is not a whole number; 0 for no target"})
        elif not 0 <= value <= limit:
            problems.append({"field": name, "message": f"{value} is not {unit} from 0 (no target) to {limit:,}"})
        else:
            numbers[name] = value
    if problems:
        raise Invalid(problems)
    with transaction.atomic():
        current = MarketingTargets.objects.first()
        kept = {name: getattr(current, name) if current else 0 for name in TARGET_FIELDS}
        targets, _ = targets_set(**(kept | numbers), now=now)
        return targets


def _may_enter_costs(by: User) -> None:
    if not (by.is_superuser or by.role in (Role.ADMIN, Role.MARKETING)):
        raise NotAllowed.one("role", "only marketing and admins enter what campaigns cost")


def campaign_cost_enter(*, by: User, values: dict[str, Any], now: datetime) -> CampaignCost:
    """Enter what a campaign cost (admins and marketing): `campaign`, `first_day`, `last_day`, `amount`, `currency`,
    `note` as typed. Invalid naming each field that cannot be used."""
    _may_enter_costs(by)
    return campaign_cost_add(campaign=str(values.get("campaign") or ""), first_day=str(values.get("first_day") or ""),
                             last_day=str(values.get("last_day") or ""), amount=str(values.get("amount") or ""),
                             currency=str(values.get("currency") or ""), note=str(values.get("note") or ""), by=by, now=now)


def campaign_cost_remove(*, by: User, cost_id: int) -> CampaignCost:
    """Delete a campaign cost entered by mistake (admins and marketing)."""
    _may_enter_costs(by)
    with transaction.atomic():
        return campaign_cost_drop(cost_id)
