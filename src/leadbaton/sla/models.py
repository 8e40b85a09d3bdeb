"""Service-level policy values sales answers to."""

from __future__ import annotations

from django.db import models


class SlaPolicy(models.Model):
    name = models.CharField(max_length=100, unique=True, default="default")
    first_response_minutes = models.PositiveIntegerField(default=5)
    attempts = models.PositiveIntegerField(default=6, help_text="Touches expected within attempts_within_days")
    attempts_within_days = models.PositiveIntegerField(default=10)
    progress_every_days = models.PositiveIntegerField(default=7)
    business_hours = models.BooleanField(default=True, help_text="Clocks run only in the owner's working hours")
    remind_before_minutes = models.PositiveIntegerField(default=2)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name
