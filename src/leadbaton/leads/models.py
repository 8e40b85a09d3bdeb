"""The lead, its inquiries, the handoff ledger, and its activities.

A lead is one person's open conversation with us. Each inquiry they send is
kept on it; each change of owner is a Handoff row, and each touch, note or
outcome an Activity row, written in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models


class Stage(models.TextChoices):
    NURTURE = "nurture", "Nurture"
    QUEUED = "queued", "Queued"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    PURCHASED = "purchased", "Purchased"
    NOT_INTERESTED = "not_interested", "Not interested"
    REJECTED = "rejected", "Rejected"


OPEN_STAGES = (Stage.NURTURE, Stage.QUEUED, Stage.ASSIGNED, Stage.IN_PROGRESS)
CLOSED_STAGES = (Stage.PURCHASED, Stage.NOT_INTERESTED, Stage.REJECTED)


class Blocker(models.TextChoices):
    """What holds an in-progress customer back."""

    BUDGET = "budget", "Budget"
    TIMING = "timing", "Timing"
    AUTHORITY = "authority", "Authority"
    NEED = "need", "Need"
    COMPETITOR = "competitor", "Competitor"
    WAITING_ON_US = "waiting_on_us", "Waiting on us"
    NOT_REACHED_YET = "not_reached_yet", "Not reached yet"
    OTHER = "other", "Other"


class OwnerKind(models.TextChoices):
    MARKETING = "marketing", "Marketing queue"
    TEAM = "team", "Team queue"
    REP = "rep", "Rep"


@dataclass(frozen=True)
class Owner:
    """Who answers for a lead: the marketing queue, a team queue, or one rep."""

    kind: str
    team_id: int | None = None
    rep_id: int | None = None

    @classmethod
    def marketing(cls) -> Owner:
        return cls(OwnerKind.MARKETING)

    @classmethod
    def team(cls, team_id: int) -> Owner:
        return cls(OwnerKind.TEAM, team_id=team_id)

    @classmethod
    def rep(cls, rep_id: int, team_id: int | None) -> Owner:
        return cls(OwnerKind.REP, team_id=team_id, rep_id=rep_id)


def _owner_constraint(prefix: str, *, nullable: bool) -> models.Q:
    kind, team, rep = f"{prefix}kind", f"{prefix}team__isnull", f"{prefix}rep__isnull"
    valid = (
        models.Q(**{kind: OwnerKind.MARKETING, team: True, rep: True})
        | models.Q(**{kind: OwnerKind.TEAM, team: False, rep: True})
        | models.Q(**{kind: OwnerKind.REP, rep: False})
    )
    if nullable:
        valid |= models.Q(**{kind: "", team: True, rep: True})
    return valid


class Lead(models.Model):
    # The person, normalised. email_key is the lower-cased address used to recognise them.
    email = models.CharField(max_length=254, blank=True)
    email_key = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    company_domain = models.CharField(max_length=253, blank=True)
    free_mail = models.BooleanField(default=False)
    company_size = models.PositiveIntegerField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    consent_marketing = models.BooleanField(null=True)
    # What they asked, from the latest inquiry; every inquiry is kept in Inquiry.
    product_interest = models.CharField(max_length=200, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    original_campaign = models.CharField(max_length=200, blank=True, help_text="The campaign the lead came with (its first inquiry's), which "
                                         "marketing's report counts it for; `campaign` is what the person asked last")
    source_slug = models.SlugField(max_length=60)
    fields = models.JSONField(default=dict, blank=True)

    stage = models.CharField(max_length=20, choices=Stage.choices)
    score = models.IntegerField(default=0)
    score_reasons = models.JSONField(default=list, blank=True)
    definition_version = models.PositiveIntegerField(null=True, blank=True)

    owner_kind = models.CharField(max_length=10, choices=OwnerKind.choices)
    owner_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="queued_leads"
    )
    owner_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_leads"
    )

    received_at = models.DateTimeField(help_text="When the first inquiry arrived")
    last_inquiry_at = models.DateTimeField()
    inquiry_count = models.PositiveIntegerField(default=1)
    owned_at = models.DateTimeField(null=True, blank=True, help_text="When a rep first owned it")
    first_touch_at = models.DateTimeField(null=True, blank=True)
    touch_count = models.PositiveIntegerField(default=0, help_text="Touches logged (calls, emails, SMS, meetings; not notes)")
    last_progress_at = models.DateTimeField(null=True, blank=True, help_text="The latest touch or outcome")
    # The outcome, as the owner last recorded it (every recording is also an Activity row).
    blocker = models.CharField(max_length=20, choices=Blocker.choices, blank=True)
    next_step = models.CharField(max_length=500, blank=True)
    next_step_at = models.DateTimeField(null=True, blank=True)
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217")
    lost_reason = models.CharField(max_length=500, blank=True)
    rejected_reason = models.CharField(max_length=20, blank=True, help_text="Why sales said it is not a lead (pipeline.followup.REJECT_REASONS)")
    recycle_at = models.DateTimeField(null=True, blank=True, help_text="Not interested, not now: when it goes back to marketing's nurture (N3)")
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            # One person, one open lead: the database decides when two arrive at once.
            models.UniqueConstraint(
                fields=["email_key"],
                condition=models.Q(stage__in=OPEN_STAGES) & ~models.Q(email_key=""),
                name="one_open_lead_per_email",
            ),
            # A phone is weaker evidence: people behind one switchboard share it, so several open
            # leads may have it. Only one of them may lack an email (decision 0016).
            models.UniqueConstraint(
                fields=["phone"],
                condition=models.Q(stage__in=OPEN_STAGES, email_key="") & ~models.Q(phone=""),
                name="one_open_lead_per_phone_without_email",
            ),
            models.CheckConstraint(condition=~models.Q(email_key="", phone=""), name="lead_is_reachable"),
            models.CheckConstraint(condition=_owner_constraint("owner_", nullable=False), name="lead_has_one_owner"),
            models.CheckConstraint(condition=models.Q(value__isnull=True) | models.Q(value__gt=0), name="lead_value_positive"),
        ]
        indexes = [
            models.Index(fields=["email_key"], name="lead_email_key"),
            models.Index(fields=["phone"], name="lead_phone"),
            models.Index(fields=["owner_kind", "stage"], name="lead_owner_kind_stage"),
            models.Index(fields=["owner_rep", "stage"], name="lead_owner_rep_stage"),
            models.Index(fields=["owner_team", "stage"], name="lead_owner_team_stage"),
            models.Index(fields=["company_domain"], name="lead_company_domain"),
            models.Index(fields=["stage", "closed_at"], name="lead_stage_closed"),
            models.Index(fields=["recycle_at"], condition=models.Q(recycle_at__isnull=False), name="lead_recycle_due"),
            models.Index(fields=["received_at"], name="lead_received"),  # marketing's report: the leads of a period
            # both sides: the leads first owned in a period (owned_at is when the lead's first holding began)
            models.Index(fields=["owned_at"], condition=models.Q(owned_at__isnull=False), name="lead_owned"),
        ]

    @property
    def owner_key(self) -> str:
        """Who holds the lead, as a short stable text ("rep:7", "team:3", "marketing"): what a form that moves it posts back."""
        if self.owner_kind == OwnerKind.REP:
            return f"rep:{self.owner_rep_id}"
        if self.owner_kind == OwnerKind.TEAM:
            return f"team:{self.owner_team_id}"
        return "marketing"

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def owner(self) -> Owner:
        return Owner(self.owner_kind, self.owner_team_id, self.owner_rep_id)

    @property
    def untouched(self) -> bool:
        """Assigned to a rep who has not touched it yet: the most urgent kind of lead."""
        return self.stage == Stage.ASSIGNED

    # Speed to lead (S4), in seconds since the first inquiry arrived; None until it happens.
    @property
    def seconds_to_owner(self) -> float | None:
        return _seconds_between(self.received_at, self.owned_at)

    @property
    def seconds_to_first_touch(self) -> float | None:
        return _seconds_between(self.received_at, self.first_touch_at)

    def next_step_overdue(self, now: datetime) -> bool:
        return self.stage == Stage.IN_PROGRESS and self.next_step_at is not None and self.next_step_at <= now


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


class LeadIdentity(models.Model):
    """An email or phone a lead's person has used. Recognising someone checks all of them, not only the latest."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    value = models.CharField(max_length=254, help_text="Lower-cased email or E.164 phone")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value", "lead"], name="one_identity_per_lead")]


class PossibleDuplicate(models.Model):
    """Two leads that may be one person: they share a phone but not an email (decision 0016).

    Stored once per pair, the older lead first. A person later decides: merge them or keep them
    apart; until then `decision` is empty and both leads show the pair.
    """

    class Decision(models.TextChoices):
        UNDECIDED = "", "Undecided"
        MERGED = "merged", "Merged"
        KEPT_APART = "kept_apart", "Kept apart"

    older = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    newer = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    # What they share, as LeadIdentity spells it: kind "phone" and the E.164 number.
    kind = models.CharField(max_length=5, choices=LeadIdentity.Kind.choices)
    value = models.CharField(max_length=254)
    found_at = models.DateTimeField()
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["older", "newer"], name="one_possible_duplicate_per_pair"),
            models.CheckConstraint(condition=models.Q(older__lt=models.F("newer")), name="possible_duplicate_older_first"),
            models.CheckConstraint(
                condition=models.Q(decision="", decided_at__isnull=True) | (~models.Q(decision="") & models.Q(decided_at__isnull=False)),
                name="possible_duplicate_decided_when",
            ),
        ]
        indexes = [models.Index(fields=["newer"], name="possible_duplicate_newer")]

    @property
    def reason(self) -> str:
        return f"same {self.kind} {self.value}"

    def other_than(self, lead_id: int) -> Lead:
        """The pair's other lead, seen from `lead_id`."""
        return self.newer if self.older_id == lead_id else self.older


class Inquiry(models.Model):
    """One time the person raised their hand: what they asked, where from, in their words."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="inquiries")
    received_at = models.DateTimeField()
    source_slug = models.SlugField(max_length=60)
    # The submission this inquiry came from (intake's raw, verbatim record).
    submission_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    message = models.TextField(blank=True)
    product_interest = models.CharField(max_length=200, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    # The person's details as given in this inquiry, normalised, and any custom fields.
    contact = models.JSONField(default=dict, blank=True)
    fields = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["received_at", "id"]


class Handoff(models.Model):
    """One change of owner. The ledger every report reconciles against."""

    class Reason(models.TextChoices):
        CREATED = "created", "New lead"
        QUALIFIED = "qualified", "Became sales-ready"
        ROUTED = "routed", "Routed"
        REASSIGNED = "reassigned", "Reassigned"
        RETURNED = "returned", "Returned to queue"
        REJECTED = "rejected", "Rejected by sales"
        SLA_BREACH = "sla_breach", "SLA breach"
        RECYCLED = "recycled", "Recycled to nurture"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="handoffs")
    at = models.DateTimeField()
    from_kind = models.CharField(max_length=10, choices=OwnerKind.choices, blank=True)
    from_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_kind = models.CharField(max_length=10, choices=OwnerKind.choices)
    to_team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True, help_text="Why, in words: the rule, the score, the person's reason")
    rule = models.CharField(max_length=200, blank=True, help_text="The rule or definition that decided, if any")
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=_owner_constraint("from_", nullable=True), name="handoff_from_owner"),
            models.CheckConstraint(condition=_owner_constraint("to_", nullable=False), name="handoff_to_owner"),
        ]
        indexes = [  # marketing's report: the leads handed from marketing to sales in a period
            models.Index(fields=["at"], name="handoff_sales_ready",
                         condition=models.Q(to_kind__in=["team", "rep"], from_kind__in=["", "marketing"])),
            # and whether sales rejected each since: a small index most leads are not in
            models.Index(fields=["lead", "at"], name="handoff_rejected", condition=models.Q(reason="rejected")),
        ]


class Holding(models.Model):
    """One rep's holding of one lead: from the handoff that gave it to them until it closed (an outcome) or a handoff took
    it away. The reconciliation's summary row (P1), kept by leads.services in the same transaction as the handoff, touch
    or outcome that changes it; always what leads.holdings.replay makes of the ledger."""

    class Came(models.TextChoices):
        ROUTING = "routing", "Routing"
        QUEUE = "queue", "Queue hand-out"
        ASSIGNED = "assigned", "Manual assignment"
        REASSIGNED = "reassigned", "Reassignment in"
        SLA = "sla", "SLA reassignment"

    class Closed(models.TextChoices):
        OPEN = "", "Open"
        PURCHASED = "purchased", "Purchased"
        NOT_INTERESTED = "not_interested", "Not interested"
        REJECTED = "rejected", "Rejected"
        AWAY = "away", "Reassigned away"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="holdings")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)  # holding_rep_closed
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
                             help_text="The team the handoff named: the holding counts for it")
    came = models.CharField(max_length=12, choices=Came.choices)
    started_at = models.DateTimeField()
    touched_at = models.DateTimeField(null=True, blank=True, help_text="When it stopped being untouched (a touch, or came in progress)")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_how = models.CharField(max_length=16, choices=Closed.choices, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead"], condition=models.Q(closed_at__isnull=True), name="one_open_holding_per_lead"),
        ]
        indexes = [
            # The reconciliation reads the holdings still open (the backlog) and those closed since the period began: of
            # one team, of every team, or of one rep. (An index on team alone made SQLite read all of a team's holdings.)
            models.Index(fields=["team", "started_at"], condition=models.Q(closed_at__isnull=True), name="holding_open"),
            models.Index(fields=["team", "closed_at"], condition=models.Q(closed_at__isnull=False), name="holding_team_closed"),
            # with how it closed, so that both sides counts the closes of 12 weeks from the index alone
            models.Index(fields=["closed_at", "closed_how"], condition=models.Q(closed_at__isnull=False), name="holding_closed"),
            models.Index(fields=["rep", "closed_at"], name="holding_rep_closed"),
        ]


class Activity(models.Model):
    """Something done on a lead, by whom and when: a touch, a note, or a recorded outcome.

    Touches (call, email, SMS, meeting) count as attempts; a note does not.
    Outcome rows are written by the outcome use case, never posted as activities.
    """

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"
        OUTCOME = "outcome", "Outcome"

    class Result(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NO_ANSWER = "no_answer", "No answer"
        VOICEMAIL = "voicemail", "Voicemail"
        BOUNCED = "bounced", "Bounced"
        OTHER = "other", "Other"

    TOUCHES = (Kind.CALL, Kind.EMAIL, Kind.SMS, Kind.MEETING)

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    by_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    result = models.CharField(max_length=10, choices=Result.choices, blank=True)
    note = models.TextField(blank=True)
    # For an outcome: what was recorded (outcome, blocker, next step, value, currency, reason).
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at"], name="activity_lead_time")]

    @property
    def is_touch(self) -> bool:
        return self.kind in self.TOUCHES

    @property
    def is_conversation(self) -> bool:
        """Someone reached the person: a touch that connected, or a meeting (as leads.queries.lead_had_conversation asks)."""
        return self.is_touch and (self.result == self.Result.CONNECTED or self.kind == self.Kind.MEETING)


def touches_before_conversation(activities: list[Activity]) -> int | None:
    """How many touches came before the first conversation, of a lead's activities oldest first; None before any conversation."""
    touches = 0
    for activity in activities:
        if activity.is_conversation:
            return touches
        touches += activity.is_touch
    return None
