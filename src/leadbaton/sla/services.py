"""Writes of the SLA capability."""

from __future__ import annotations

from datetime import datetime

from leadbaton.core.rows import fields_update
from leadbaton.sla.models import SlaPolicy


def policy_configure(
    *,
    name: str,
    first_response_minutes: int,
    attempts: int,
    attempts_within_days: int,
    progress_every_days: int,
    business_hours: bool,
    remind_before_minutes: int,
    now: datetime,
) -> tuple[SlaPolicy, bool, list[str]]:
    """Create or update the named policy; it becomes active. `updated_at` moves only when a value changed.

    Returns (policy, created, changed field names).
    """
    values = {
        "first_response_minutes": first_response_minutes, "attempts": attempts,
        "attempts_within_days": attempts_within_days, "progress_every_days": progress_every_days,
        "business_hours": business_hours, "remind_before_minutes": remind_before_minutes, "active": True,
    }
    policy = SlaPolicy.objects.filter(name=name).first()
    if policy is None:
        return SlaPolicy.objects.create(name=name, updated_at=now, **values), True, []
    changed = [field for field, value in values.items() if getattr(policy, field) != value]
    if changed:
        fields_update(policy, {**values, "updated_at": now})
    return policy, False, changed
