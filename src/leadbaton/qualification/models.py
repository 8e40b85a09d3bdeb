"""The lead definition marketing and sales agreed on, versioned."""

from __future__ import annotations

from django.db import models

from leadbaton.core.models import ConfigModel


class LeadDefinition(ConfigModel):
    """One version of the definition. Exactly one is active; leads record the version that judged them."""

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Contact data a lead needs before it can be sales-ready: e.g. ["email", "phone", "company"].
    required = models.JSONField(default=list)
    # [{"field": ..., "<op>": value, "points": n, "label": ...}]; see core.conditions.
    fit_rules = models.JSONField(default=list)
    threshold = models.IntegerField()
    signed_off_by = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="one_active_definition"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
