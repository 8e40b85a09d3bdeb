"""Service-level policy values sales answers to."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from leadbaton.core.models import ConfigModel, DueRow


class SlaPolicy(ConfigModel):
    """The service levels sales answers to (S1), the organisation's (`default`) or one team's own (`team`), and when a rep
    is too far behind to take new leads (H3). A ConfigModel: read for every lead, from memory until it changes.
    """

    name = models.CharField(max_length=100, unique=True, default="default")
    team = models.OneToOneField("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policy",
                                help_text="Empty: the organisation's policy, for every team without its own")
    first_response_minutes = models.PositiveIntegerField(default=5)
    attempts = models.PositiveIntegerField(default=6, help_text="Touches expected within attempts_within_days")
    attempts_within_days = models.PositiveIntegerField(default=10)
    progress_every_days = models.PositiveIntegerField(default=7)
    business_hours = models.BooleanField(default=True, help_text="The first-response clock runs only in the owner's working hours")
    business_days = models.BooleanField(default=False, help_text="The attempts and progress clocks count the owner's working days")
    remind_before_minutes = models.PositiveIntegerField(default=2)
    escalation = models.JSONField(default=dict, blank=True, help_text='Steps per clock kind, {"first_response": [[0.5, "remind"], [1.0, "reassign"]]}; a kind left out takes the default steps')
    catch_up_stale_share = models.PositiveSmallIntegerField(
        default=20, help_text="Percent of a rep's open leads in progress without progress for progress_every_days above which "
                              "they get no new leads until caught up; 0 switches this off",
    )
    catch_up_overdue_next_steps = models.PositiveIntegerField(
        default=5, help_text="Overdue next steps above which a rep gets no new leads until caught up; 0 switches this off",
    )
    active = models.BooleanField(default=True)
    # Written by the organisation file (its `sla:`); a team's own policy set on a page or through the API is not, and
    # the next `config apply` leaves it be unless the file writes that team's `sla:`.
    managed = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Clock(models.TextChoices):
    """The service levels a rep's lead is held to (S1, F3)."""

    FIRST_RESPONSE = "first_response", "First response"
    ATTEMPTS = "attempts", "Attempts"
    PROGRESS = "progress", "Progress"
    NEXT_STEP = "next_step", "Next step"


class Deadline(DueRow):
    """One service-level clock on one lead for one owner: started when the rep got the lead (or the
    lead moved on), met by what the rep does, cancelled when the lead changes hands or closes, and
    breached when its time comes first.

    Timed work (core.models.DueRow): `due_at` is the time of the next escalation step still to take
    (a reminder, the breach), so the worker fires each step when it comes; `steps` lists them all
    with their times, computed when the clock started, and `steps_taken` how many are behind it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        CANCELLED = "cancelled", "Cancelled"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="deadlines")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deadlines")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=Clock.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField()
    breach_at = models.DateTimeField(help_text="When the clock runs out")
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    why_closed = models.CharField(max_length=200, blank=True, help_text="What met or cancelled it")
    terms = models.JSONField(default=dict, help_text="The policy values the clock was started with, and how its time was counted")
    steps = models.JSONField(default=list, help_text="The escalation steps planned: [{at, do, label}], earliest first")
    steps_taken = models.PositiveSmallIntegerField(default=0)

    DUE_STATES = (Status.PENDING,)
    DEAD_STATUS = Status.PENDING  # a step that failed is tried again after its backoff; the clock stays

    class Meta:
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(status="pending"), name="deadline_pending_due"),
            # a lead's clocks of its owner, the pending one that runs out first at the front: the inbox reads three per row
            models.Index(fields=["lead", "rep", "status", "breach_at"], name="deadline_lead_owner"),
            models.Index(fields=["rep", "status", "breach_at"], name="deadline_rep_status"),
            models.Index(fields=["team", "breached_at"], condition=models.Q(status="breached"), name="deadline_team_breached"),
            # the service levels and both sides: the clocks that ended in a period, met or breached, of one team or all,
            # counted from the index alone (SQLite reads a column of the partial condition from the table unless indexed)
            models.Index(fields=["met_at", "kind", "status", "team", "rep"], condition=models.Q(status="met"), name="deadline_met"),
            models.Index(fields=["breached_at", "kind", "status", "team", "rep"], condition=models.Q(status="breached"), name="deadline_breached"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on lead {self.lead_id} ({self.status})"

    def seconds_left(self, now: datetime) -> int | None:
        """Whole seconds until a pending clock runs out (0 once its time has come); None for a closed one."""
        if self.status != self.Status.PENDING:
            return None
        return max(0, int((self.breach_at - now).total_seconds()))


class EscalationStep(models.Model):
    """A step of a clock's escalation as it was taken (or skipped): each exactly once."""

    class Action(models.TextChoices):
        REMIND = "remind", "Remind the owner"
        BREACH = "breach", "Record the breach"
        ALERT_MANAGER = "alert_manager", "Alert the manager"
        REASSIGN = "reassign", "Reassign to the next available rep"
        QUEUE = "queue", "Put in the team queue"

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="taken")
    index = models.PositiveSmallIntegerField(help_text="The step's place in the deadline's plan")
    action = models.CharField(max_length=20, choices=Action.choices)
    planned_at = models.DateTimeField()
    at = models.DateTimeField(help_text="When it was taken (or skipped)")
    skipped = models.BooleanField(default=False, help_text="Too late to matter: the breach had come too")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["planned_at", "index"]
        constraints = [models.UniqueConstraint(fields=["deadline", "index"], name="escalation_step_once")]
