"""Webhook subscriptions and their delivery log: admins only. A subscription's secret is shown once, when made or rotated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from leadbaton.accounts.models import Role
from leadbaton.api.auth import STAFF_AUTH, caller, require_role
from leadbaton.api.schemas import RowId, refusals
from leadbaton.core import clock
from leadbaton.notify import queries as notify_queries
from leadbaton.notify import services as notify
from leadbaton.notify.models import OutboxMessage, WebhookSubscription

router = Router(tags=["webhooks"], auth=STAFF_AUTH)


class WebhookIn(Schema):
    url: str
    events: list[str]
    description: str = ""


class WebhookChange(Schema):
    """Only the fields sent change."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    active: bool | None = None


class WebhookOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookWithSecret(WebhookOut):
    secret: str


class AttemptOut(Schema):
    at: datetime
    ok: bool
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    message_id: str
    event: str
    lead_id: int | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    history: list[AttemptOut]


def _admin(request: HttpRequest) -> None:
    require_role(caller(request), Role.ADMIN)


def _out(subscription: WebhookSubscription, *, secret: bool = False) -> dict[str, Any]:
    out = {name: getattr(subscription, name) for name in ("id", "url", "description", "events", "active", "created_at")}
    if secret:
        out["secret"] = subscription.secret
    return out


def _invalid(error: notify.SubscriptionInvalid) -> Status[Any]:
    return Status(422, {"errors": [{"field": field, "message": message} for field, message in error.problems]})


def _delivery(message: OutboxMessage) -> dict[str, Any]:
    history = list(message.delivery_attempts.all())
    return {
        "message_id": message.message_id, "event": message.event, "lead_id": message.lead_id, "status": message.status,
        "attempts": message.attempts, "last_status_code": history[-1].status_code if history else None,
        "last_error": message.last_error, "created_at": message.created_at, "sent_at": message.sent_at,
        "next_attempt_at": message.due_at if message.status == OutboxMessage.Status.PENDING else None,
        "history": history,
    }


@router.post("/webhooks", response={201: WebhookWithSecret, **refusals(400, 401, 403, 422)}, summary="Subscribe a URL to events")
def webhook_post(request: HttpRequest, payload: WebhookIn) -> Any:
    """The answer holds the signing secret (whsec_…); it is never shown again. Rotate it to get a new one."""
    _admin(request)
    try:
        with transaction.atomic():
            subscription = notify.subscription_add(url=payload.url, events=payload.events, description=payload.description, now=clock.now())
    except notify.SubscriptionInvalid as error:
        return _invalid(error)
    return Status(201, _out(subscription, secret=True))


@router.get("/webhooks", response={200: list[WebhookOut], **refusals(401, 403)}, summary="List webhook subscriptions")
def webhooks_get(request: HttpRequest) -> Any:
    """Every subscription, without secrets."""
    _admin(request)
    return [_out(subscription) for subscription in notify_queries.subscriptions_list()]


@router.patch("/webhooks/{subscription_id}", response={200: WebhookOut, **refusals(400, 401, 403, 404, 422)}, summary="Change a subscription")
def webhook_patch(request: HttpRequest, subscription_id: RowId, payload: WebhookChange) -> Any:
    """Change url, events, description or active (false stops new messages; queued ones are still delivered)."""
    _admin(request)
    subscription = get_object_or_404(WebhookSubscription, pk=subscription_id)
    try:
        with transaction.atomic():
            notify.subscription_update(subscription=subscription, **payload.model_dump(exclude_unset=True))
    except notify.SubscriptionInvalid as error:
        return _invalid(error)
    return _out(subscription)


@router.post("/webhooks/{subscription_id}/rotate", response={200: WebhookWithSecret, **refusals(401, 403, 404, 422)}, summary="Rotate the signing secret")
def webhook_rotate(request: HttpRequest, subscription_id: RowId) -> Any:
    """A new secret, shown once in this answer; every delivery from now on (retries too) is signed with it only."""
    _admin(request)
    subscription = get_object_or_404(WebhookSubscription, pk=subscription_id)
    with transaction.atomic():
        notify.subscription_rotate(subscription=subscription)
    return _out(subscription, secret=True)


@router.get(
    "/webhooks/{subscription_id}/deliveries",
    response={200: list[DeliveryOut], **refusals(401, 403, 404, 422)},
    summary="The delivery log of a subscription",
)
def deliveries_get(request: HttpRequest, subscription_id: RowId, limit: int = 50) -> Any:
    """Newest messages first (`limit` 1 to 500), each with every attempt: when, whether it got through, the answer code, the error."""
    _admin(request)
    if not 1 <= limit <= 500:
        return Status(422, {"errors": [{"field": "limit", "message": f"{limit} is out of range; use 1 to 500"}]})
    get_object_or_404(WebhookSubscription, pk=subscription_id)
    return [_delivery(message) for message in notify_queries.delivery_log(subscription_id, limit=limit)]


@router.post(
    "/webhooks/{subscription_id}/deliveries/{message_id}/redeliver",
    response={202: DeliveryOut, **refusals(401, 403, 404, 409, 422)},
    summary="Send a message again",
)
def delivery_redeliver(request: HttpRequest, subscription_id: RowId, message_id: str) -> Any:
    """Queue the message (a dead letter, or one the receiver lost) for delivery now, with the same webhook-id."""
    _admin(request)
    message = notify_queries.webhook_message_find(message_id, subscription_id=subscription_id)
    if message is None:
        return Status(404, {"errors": [{"field": "message_id", "message": f"{message_id!r} is not a message of webhook {subscription_id}"}]})
    try:
        with transaction.atomic():
            notify.webhook_redeliver(message=message, now=clock.now())
    except notify.DeliveryInFlight as error:
        return Status(409, {"errors": [{"field": "message_id", "message": str(error)}]})
    return Status(202, _delivery(message))
