"""The webhooks pages (admins): subscriptions with the events each receives, adding one (its signing secret shown
once), changing or switching one off, rotating its secret, and its delivery log with every attempt and a button
that sends a message again. Every change goes through notify.services, as the API's does."""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from leadbaton.accounts.models import User
from leadbaton.accounts.queries import time_zone_of
from leadbaton.core import clock
from leadbaton.core.refusals import NotAllowed, NotFound
from leadbaton.notify import queries as notify_queries
from leadbaton.notify import services as notify
from leadbaton.notify.models import Event, OutboxMessage, WebhookSubscription
from leadbaton.web.views import Moment, refused_page

LOG_LIMIT = 50


class Webhooks(LoginRequiredMixin, View):
    """GET lists the subscriptions; POST adds one and shows its signing secret once."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if (refused := _admins_only(request)) is not None:
            return refused
        return _list_page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        if (refused := _admins_only(request)) is not None:
            return refused
        posted = _posted(request)
        try:
            with transaction.atomic():
                subscription = notify.subscription_add(url=posted["url"], events=posted["events"], description=posted["description"],
                                                       now=clock.now())
        except notify.SubscriptionInvalid as error:
            return _list_page(request, failed={"posted": posted, "problems": _problems(error)}, status=400)
        return _list_page(request, secret_of=subscription)


class WebhookPage(LoginRequiredMixin, View):
    """GET shows a subscription with its delivery log; POST saves its url, events, description and whether it is on."""

    def get(self, request: HttpRequest, subscription_id: int) -> HttpResponse:
        found = _subscription(request, subscription_id)
        if isinstance(found, HttpResponse):
            return found
        return _page(request, found)

    def post(self, request: HttpRequest, subscription_id: int) -> HttpResponse:
        found = _subscription(request, subscription_id)
        if isinstance(found, HttpResponse):
            return found
        posted = _posted(request)
        try:
            with transaction.atomic():
                changed = notify.subscription_update(subscription=found, url=posted["url"], events=posted["events"],
                                                     description=posted["description"], active=posted["active"])
        except notify.SubscriptionInvalid as error:
            found.refresh_from_db()
            return _page(request, found, failed={"posted": posted, "problems": _problems(error)}, status=400)
        messages.success(request, "Saved." if changed else "Nothing changed.")
        return redirect("webhook", found.pk)


class WebhookRotate(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, subscription_id: int) -> HttpResponse:
        found = _subscription(request, subscription_id)
        if isinstance(found, HttpResponse):
            return found
        with transaction.atomic():
            notify.subscription_rotate(subscription=found)
        return _page(request, found, secret_of=found)


class WebhookRedeliver(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, subscription_id: int, message_id: str) -> HttpResponse:
        found = _subscription(request, subscription_id)
        if isinstance(found, HttpResponse):
            return found
        message = notify_queries.webhook_message_find(message_id, subscription_id=found.pk)
        if message is None:
            return refused_page(request, NotFound.one("message_id", f"{message_id[:40]!r} is not a message of this webhook"))
        try:
            with transaction.atomic():
                notify.webhook_redeliver(message=message, now=clock.now())
        except notify.DeliveryInFlight as error:
            errors = [{"field": "message_id", "message": str(error)}]
            return render(request, "web/refused.html", {"title": "Not sent again yet", "errors": errors}, status=409)
        messages.success(request, f"{message.message_id} ({message.event}) goes out again within seconds, with the same webhook-id.")
        return redirect("webhook", found.pk)


def _admins_only(request: HttpRequest) -> HttpResponse | None:
    user = cast(User, request.user)
    if user.is_superuser or user.role == "admin":
        return None
    refused = NotAllowed.one("role", "webhooks are for admins: their deliveries carry every lead's details")
    return refused_page(request, refused, not_allowed="You cannot change webhooks")


def _subscription(request: HttpRequest, subscription_id: int) -> WebhookSubscription | HttpResponse:
    if (refused := _admins_only(request)) is not None:
        return refused
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return refused_page(request, NotFound.one("subscription_id", f"there is no webhook subscription {subscription_id}"))
    return subscription


def _posted(request: HttpRequest) -> dict[str, Any]:
    return {"url": request.POST.get("url", ""), "events": request.POST.getlist("events"), "description": request.POST.get("description", ""),
            "active": request.POST.get("active") == "on"}


def _problems(error: notify.SubscriptionInvalid) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for field, message in error.problems:
        problems.setdefault(field.split("[", 1)[0], []).append(message)
    return problems


def _zone(request: HttpRequest) -> ZoneInfo:
    return ZoneInfo(time_zone_of(cast(User, request.user).pk, settings.TIME_ZONE))


def _list_page(request: HttpRequest, *, secret_of: WebhookSubscription | None = None, failed: dict[str, Any] | None = None,
               status: int = 200) -> HttpResponse:
    failed = failed or {"posted": {"url": "", "events": [], "description": ""}, "problems": {}}
    context = {"subscriptions": notify_queries.subscriptions_list(), "events": Event.choices, "secret_of": secret_of, "failed": failed}
    return render(request, "web/webhooks.html", context, status=status)


def _page(request: HttpRequest, subscription: WebhookSubscription, *, secret_of: WebhookSubscription | None = None,
          failed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    zone = _zone(request)
    shown = {"url": subscription.url, "events": subscription.events, "description": subscription.description, "active": subscription.active}
    if failed:
        shown.update(failed["posted"])
    log = []
    for message in notify_queries.delivery_log(subscription.pk, limit=LOG_LIMIT):
        attempts = list(message.delivery_attempts.all())
        log.append({
            "message": message, "created": Moment.of(message.created_at, zone),
            "next": Moment.of(message.due_at, zone) if message.status == OutboxMessage.Status.PENDING and message.due_at else None,
            "attempts": [{"attempt": attempt, "at": Moment.of(attempt.at, zone)} for attempt in attempts],
            "last": attempts[-1] if attempts else None,
        })
    context = {"subscription": subscription, "shown": shown, "events": Event.choices, "log": log, "secret_of": secret_of,
               "problems": (failed or {}).get("problems", {}), "time_zone": zone.key, "limit": LOG_LIMIT}
    return render(request, "web/webhook.html", context, status=status)
