"""Routing rules: which team a sales-ready lead goes to, and how the team picks a rep."""

from __future__ import annotations

from django.db import models

from leadbaton.core.models import ConfigModel


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round robin"
    WEIGHTED = "weighted", "Weighted"
    LEAST_LOADED = "least_loaded", "Least loaded"
    ACCOUNT_OWNER = "account_owner", "Account owner first"


class RoutingState(models.Model):
    """A team's routing row: on PostgreSQL the lock that serialises routing within a team, and the queue's bookkeeping.

    The rotation itself is remembered on the reps' profiles (rotation_turn, rotation_credit, the daily counts).
    """

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, primary_key=True, related_name="routing_state")
    queue_alerted_at = models.DateTimeField(null=True, blank=True, help_text="When the manager was last told leads are waiting")
    handed_out_at = models.DateTimeField(null=True, blank=True, help_text="When the worker last handed out queued leads")


class RoutingRule(ConfigModel):
    """Ordered; the first rule whose conditions all match a lead wins. A rule without conditions matches all."""

    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200, unique=True)
    conditions = models.JSONField(default=list, blank=True)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="routing_rules")
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    active = models.BooleanField(default=True)
    managed = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name
