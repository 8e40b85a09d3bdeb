"""People and teams: users with roles, teams, rep profiles, personal API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from leadbaton.core.models import ConfigModel


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MARKETING = "marketing", "Marketing"
    MANAGER = "manager", "Sales manager"
    REP = "rep", "Sales rep"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.ADMIN)
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. The email address is the login."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    # Created and kept up to date by `leadbaton config apply`.
    managed = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Team(ConfigModel):
    """A group of reps with a manager and a queue; leads nobody can take wait here."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC")
    manager = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams")
    is_default = models.BooleanField(default=False)
    # When nobody in the team can take a lead, one scoring below this goes to nurture instead of
    # waiting in the queue (H4). None: every sales-ready lead waits.
    overflow_nurture_below = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    managed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="one_default_team"),
        ]

    def __str__(self) -> str:
        return self.name


class RepProfile(models.Model):
    """What routing needs to know about a rep: where, when, and how much."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="rep")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reps")
    time_zone = models.CharField(max_length=64, default="UTC")
    country = models.CharField(max_length=2, blank=True, help_text="ISO country whose public holidays apply")
    # {"mon": [["09:00", "17:30"]], ...}; a day that is absent is not worked.
    hours = models.JSONField(default=dict)
    routing_weight = models.PositiveIntegerField(default=1)
    daily_cap = models.PositiveIntegerField(null=True, blank=True, help_text="New leads a day; empty = no cap")
    open_ceiling = models.PositiveIntegerField(null=True, blank=True, help_text="Open in-progress leads; empty = none")
    paused = models.BooleanField(default=False)
    pause_reason = models.CharField(max_length=200, blank=True)
    # Routing's memory, written by routing alone under the team's routing lock (see routing.services); not
    # editable, so a form opened before a lead was routed cannot write an older count back.
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    assigned_on = models.DateField(null=True, blank=True, editable=False, help_text="The rep's local date of assigned_count")
    assigned_count = models.PositiveIntegerField(default=0, editable=False, help_text="New leads on assigned_on")
    rotation_credit = models.IntegerField(default=0, editable=False, help_text="Smooth weighted round robin: credit carried between leads")
    # Rises by one with every lead the team routes to this rep: the rep with the highest turn got the last one,
    # and round robin goes on after them (timestamps can tie; turns cannot).
    rotation_turn = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)

    def __str__(self) -> str:
        return f"{self.user} ({self.team.slug})"

    _loaded_team_id: int | None = None  # the team the row had when it was read

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> RepProfile:
        profile = super().from_db(db, field_names, values, **kwargs)
        profile._loaded_team_id = profile.__dict__.get("team_id")
        return profile

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A rep who moves to another team starts at the back of its rotation (their turn and credit were the old team's)."""
        if self._loaded_team_id is not None and self._loaded_team_id != self.team_id:
            self.rotation_turn, self.rotation_credit = 0, 0
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "rotation_turn", "rotation_credit"}
        super().save(*args, **kwargs)
        self._loaded_team_id = self.team_id


class TimeOff(ConfigModel):
    rep = models.ForeignKey(RepProfile, on_delete=models.CASCADE, related_name="time_off")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Inclusive")
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="time_off_ends_after_start"),
        ]


class ApiToken(models.Model):
    """A staff member's personal token for the API; stored hashed, shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
