"""Weekly coaching (P6): the focus items a manager sets a rep for a week, and what the rep did on each, recorded at the
next week's review."""

from __future__ import annotations

from django.conf import settings
from django.db import models

FOCUS_MAX = 4  # focus items a week: three or four is what a rep can hold in mind


class FocusItem(models.Model):
    """One thing a rep works on in one ISO week (its Monday, in the rep's team's time zone), and how it went."""

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        PARTLY = "partly", "Partly"
        NOT_DONE = "not_done", "Not done"

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="focus_items")
    week = models.DateField(help_text="The Monday of the ISO week")
    position = models.PositiveSmallIntegerField(help_text="1 to 4, in the order the manager wrote them")
    text = models.CharField(max_length=300)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, help_text="Recorded at the next week's review")
    note = models.CharField(max_length=500, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rep", "-week", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "week", "position"], name="one_focus_item_per_place"),
            models.CheckConstraint(condition=models.Q(position__gte=1, position__lte=FOCUS_MAX), name="focus_position_1_to_4"),
        ]

    def __str__(self) -> str:
        return f"{self.week} #{self.position}: {self.text}"
