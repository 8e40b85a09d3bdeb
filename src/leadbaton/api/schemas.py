"""Shapes of the API's answers, for validation and the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from leadbaton.core.jsonkind import json_kind

# An id in a path: a row the database can hold (a larger number would overflow its integer column).
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def not_boolean(accepted: str) -> BeforeValidator:
    """Refuse true and false where a number belongs (pydantic would read them as 1 and 0)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError("number_not_boolean", "{kind} is not a number; send {accepted}", {"kind": json_kind(value), "accepted": accepted})
        return value

    return BeforeValidator(check)


class Problem(Schema):
    field: str
    message: str


class ErrorsOut(Schema):
    """Every refusal: each problem names the field (or header, or path part) and says what would be accepted."""

    errors: list[Problem]


class IntakeErrorsOut(ErrorsOut):
    """A refusal of the intake endpoint; `submission_id` names the stored request (absent when nothing was stored)."""

    submission_id: int | None = None


def refusals(*statuses: int) -> dict[int, type[ErrorsOut]]:
    """Response declarations for these error statuses, all in the errors shape."""
    return dict.fromkeys(statuses, ErrorsOut)


class OwnerOut(Schema):
    kind: Literal["marketing", "team", "rep"]
    id: int | None
    name: str


class LeadAccepted(Schema):
    id: int
    submission_id: int
    stage: str
    score: int
    merged: bool
    owner: OwnerOut
    received_at: datetime
    warnings: list[Problem]
    replay_of: int | None = Field(None, description="On an idempotent replay: the submission that made the lead")


class LeadPending(Schema):
    """Stored, but no lead yet: processing failed (it is retried), or a retry's first request is not processed yet."""

    id: None
    submission_id: int
    stage: None
    score: None
    merged: bool
    owner: OwnerOut
    received_at: datetime
    warnings: list[Problem]
    status: str
    message: str
    replay_of: int | None = Field(None, description="On a retry: the submission of the first request")


class SubmissionOut(Schema):
    id: int
    source: str
    received_at: datetime
    status: str
    http_status: int | None
    idempotency_key: str
    lead_id: int | None
    merged: bool
    errors: list[Problem]
    warnings: list[Problem]
    attempts: int
    next_attempt_at: datetime | None
    replay_of_id: int | None
    body_size: int
    body_truncated: bool


class SubmissionDetail(SubmissionOut):
    headers: dict[str, str]
    body: str
    last_error: str


class HandoffOut(Schema):
    at: datetime
    from_kind: str
    from_team_id: int | None
    from_rep_id: int | None
    to_kind: str
    to_team_id: int | None
    to_rep_id: int | None
    reason: str
    note: str
    rule: str
    by_user_id: int | None


class InquiryContactOut(Schema):
    """The person's details as this inquiry gave them, normalised (email domain lower-cased, phone
    in E.164, country as ISO code); null when the inquiry did not give one."""

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    company_size: int | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None


class InquiryOut(Schema):
    id: int
    received_at: datetime
    source_slug: str
    submission_id: int | None
    message: str
    product_interest: str
    campaign: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    contact: InquiryContactOut
    fields: dict[str, Any]


class PossibleDuplicateOut(Schema):
    """Another lead that may be the same person: they share a phone but not an email."""

    id: int | None = Field(description="null when the reader may not open that lead")
    name: str = Field(description="empty when the reader may not open that lead")
    readable: bool = Field(description="whether the reader may open that lead")
    reason: str = Field(examples=["same phone +493012345678"])
    decision: Literal["", "merged", "kept_apart"] = Field(description="empty until someone decides")


class LeadOut(Schema):
    id: int
    stage: str
    score: int
    score_reasons: list[str]
    definition_version: int | None
    owner: OwnerOut
    email: str
    phone: str
    first_name: str
    last_name: str
    title: str
    company: str
    company_domain: str
    free_mail: bool
    company_size: int | None
    country: str
    region: str
    city: str
    product_interest: str
    campaign: str
    source_slug: str
    fields: dict[str, Any]
    received_at: datetime
    last_inquiry_at: datetime
    inquiry_count: int
    inquiries: list[InquiryOut]
    handoffs: list[HandoffOut]
    possible_duplicates: list[PossibleDuplicateOut]


class TokenIn(Schema):
    name: str


class TokenIssued(Schema):
    id: int
    name: str
    token: str


# The rep's side: their leads, touches, outcomes and notifications (api/rep.py).


class PersonOut(Schema):
    id: int
    name: str


class ActivityOut(Schema):
    id: int
    at: datetime
    kind: str
    result: str
    note: str
    detail: dict[str, Any]
    by: PersonOut


class SpeedToLead(Schema):
    """Speed to lead (S4), in seconds from the first inquiry; null until it happens."""

    seconds_to_owner: float | None
    seconds_to_first_touch: float | None


class Outcome(Schema):
    blocker: str
    next_step: str
    next_step_at: datetime | None
    value: Decimal | None
    currency: str
    lost_reason: str
    closed_at: datetime | None
    recycle_at: datetime | None  # not interested, not now: when it goes back to marketing's nurture


class LeadSummaryOut(SpeedToLead, Outcome):
    """A lead as a list shows it: who, where it stands, how urgent."""

    id: int
    stage: str
    untouched: bool
    overdue: bool
    score: int
    name: str
    company: str
    email: str
    phone: str
    product_interest: str
    owner: OwnerOut
    received_at: datetime
    owned_at: datetime | None
    first_touch_at: datetime | None
    touch_count: int
    last_progress_at: datetime | None


ClockKind = Literal["first_response", "attempts", "progress", "next_step"]


class EscalationStepOut(Schema):
    """A step of a clock's escalation as it was taken, or skipped (its time had passed with the breach's)."""

    action: Literal["remind", "breach", "alert_manager", "reassign", "queue"]
    planned_at: datetime
    at: datetime = Field(description="When it was taken (or skipped)")
    skipped: bool
    note: str


class ClockTermsOut(Schema):
    """The policy values the clock started with, and how its time was counted."""

    counted: str = Field(examples=["working time in Europe/Berlin", "wall time", "calendar days", "working days in America/New_York",
                                   "at the time the owner set"])
    minutes: int | None = Field(None, description="first response: the window in minutes")
    days: int | None = Field(None, description="attempts and progress: the window in days")
    touches: int | None = Field(None, description="attempts: the touches expected within `days`")


class ClockOut(Schema):
    """One service-level clock of the lead, for the owner it ran for."""

    id: int
    kind: ClockKind
    owner: PersonOut = Field(description="the rep the clock ran for")
    status: Literal["pending", "met", "breached", "cancelled"]
    started_at: datetime
    breaches_at: datetime = Field(description="when the clock runs (or ran) out")
    met_at: datetime | None
    breached_at: datetime | None
    cancelled_at: datetime | None
    why_closed: str = Field(description="what met or cancelled it; empty while pending and for a breach")
    seconds_left: int | None = Field(description="pending: whole seconds until `breaches_at`, 0 once it has passed; null otherwise")
    terms: ClockTermsOut
    steps: list[EscalationStepOut] = Field(description="the escalation steps taken, in the order planned")


class ClockTally(Schema):
    met: int
    breached: int


class ClockTallies(Schema):
    first_response: ClockTally
    attempts: ClockTally
    progress: ClockTally
    next_step: ClockTally


class SpeedToLeadOut(SpeedToLead):
    """Speed to lead (S4): seconds from the first inquiry, touches until someone reached the person,
    and how the clocks went."""

    touches_before_conversation: int | None = Field(
        description="touches before the first conversation (a touch that connected, or a meeting); null until there is one")
    by_clock: ClockTallies = Field(description="per clock kind, how many clocks were met and how many breached (every owner's)")


class LeadDetailOut(LeadOut, SpeedToLead, Outcome):
    untouched: bool
    owned_at: datetime | None
    first_touch_at: datetime | None
    touch_count: int
    last_progress_at: datetime | None
    activities: list[ActivityOut]
    clocks: list[ClockOut] = Field(description="every service-level clock of the lead, oldest first")
    speed_to_lead: SpeedToLeadOut


class NextClockOut(Schema):
    """The owner's pending clock that runs out first."""

    kind: ClockKind
    breaches_at: datetime
    seconds_left: int = Field(description="whole seconds until `breaches_at`; 0 once it has passed")


class MyLeadOut(LeadSummaryOut):
    next_clock: NextClockOut | None


class TeamRefOut(Schema):
    id: int
    slug: str
    name: str


class AvailabilityOut(Schema):
    """Whether routing would give this rep a new lead now, and every reason it would not."""

    available: bool
    reasons: list[str] = Field(description="why not, e.g. outside working hours, paused (reason), daily cap reached, "
                                           "catching up: 3 of 10 open leads stale (over 20%); empty when available")
    checked_at: datetime


class MeOut(Schema):
    id: int
    name: str
    email: str
    role: str
    team: TeamRefOut | None = Field(description="the team you sell for; null for staff who are no rep")
    managed_teams: list[TeamRefOut]
    availability: AvailabilityOut | None = Field(description="null for staff who are no rep")


class ActivityIn(Schema):
    kind: str
    result: str = ""
    note: str = ""


class ActivityLogged(Schema):
    activity: ActivityOut
    lead: LeadSummaryOut


class OutcomeIn(Schema):
    outcome: str
    blocker: str = ""
    next_step: str = ""
    # Read by the handler, so a bad value gets an error that shows the accepted form.
    next_step_at: Annotated[str | None, Field(json_schema_extra={"format": "date-time"})] = None
    value: Annotated[Decimal, not_boolean('an amount such as 12500 or "12500.00"')] | None = None
    currency: str = ""
    reason: str = ""
    recycle_after_days: Annotated[int, not_boolean("a number of days such as 90")] | None = None


class RejectIn(Schema):
    reason: str
    note: str = ""
    duplicate_of: Annotated[RowId, not_boolean("a lead id such as 812")] | None = None


class NotificationOut(Schema):
    id: int
    event: str
    title: str
    lead_id: int | None
    card: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationsReadIn(Schema):
    ids: list[Annotated[RowId, not_boolean("notification ids such as 31")]] | None = None


class NotificationsMarked(Schema):
    marked: int
