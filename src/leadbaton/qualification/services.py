"""Writes of the qualification capability."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max

from leadbaton.core.models import config_lock
from leadbaton.qualification.models import LeadDefinition


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
