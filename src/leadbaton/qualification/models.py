"""The lead definition marketing and sales agreed on, versioned; marketing's targets; what campaigns cost."""

from __future__ import annotations

from django.conf import settings
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


class MarketingTargets(ConfigModel):
    """What marketing answers for (S3), agreed with sales: sales-ready leads a week and the share sales accepts.
    One row; 0 means no target."""

    sales_ready_per_week = models.PositiveIntegerField(default=0, help_text="Sales-ready leads a week; a period's target is this per 7 days")
    acceptance_rate = models.PositiveSmallIntegerField(default=0, help_text="Percent of sales-ready leads sales accepts (does not reject)")
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "marketing targets"
        constraints = [models.CheckConstraint(condition=models.Q(acceptance_rate__lte=100), name="acceptance_rate_percent")]


class CampaignCost(models.Model):
    """What a campaign cost over some days, as marketing entered it: the reports spread it evenly over its days."""

    campaign = models.CharField(max_length=200, help_text="As leads carry it (the campaign field of their inquiries)")
    first_day = models.DateField()
    last_day = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, help_text="ISO 4217")
    note = models.CharField(max_length=500, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(last_day__gte=models.F("first_day")), name="campaign_cost_days_in_order"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="campaign_cost_positive"),
        ]
        indexes = [models.Index(fields=["last_day", "first_day"], name="campaign_cost_days")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.first_day}..{self.last_day}: {self.amount} {self.currency}"
