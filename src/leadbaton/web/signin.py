"""Signing in: the page a paused sign-in answers, and whose address a failure counts against (django-axes)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str:
    """The address a failed sign-in counts against: the socket's, or behind a proxy the last address it
    added to LEADBATON_CLIENT_ADDRESS_HEADER (the one it saw; earlier entries are whatever the client sent)."""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        added = str(request.META.get("HTTP_" + header.upper().replace("-", "_"), "")).split(",")[-1].strip()
        if added:
            return added
    return str(request.META.get("REMOTE_ADDR", ""))


def signin_account(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a failed sign-in counts against, as email addresses compare: `Lena@X` and `lena@x ` are one account."""
    return str((credentials or {}).get("username") or request.POST.get("username") or "").strip().lower()


def signin_paused(request: HttpRequest, response: Any = None, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """429 and a page that says why sign-in is refused and for how long; nothing about whether the account exists."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "web/locked.html", {"minutes": minutes}, status=429)
