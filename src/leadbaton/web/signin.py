"""Signing in: the page a paused sign-in answers, whose account and address a failure counts against
(django-axes), what a successful sign-in forgets, a password change that counts wrong old passwords,
and a forgotten password set again through a link sent by email (through the outbox)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm
from django.contrib.auth.views import PasswordChangeView, PasswordResetConfirmView, PasswordResetView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy

from leadbaton.accounts.models import User
from leadbaton.core import clock
from leadbaton.pipeline.accounts import password_reset_email


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


def failures_forget(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """A successful sign-in forgets that account's failures, and only those: the failures from the same address
    against other accounts still count (axes's own reset would forget every failure from the address, so that
    signing in to one's own account between guesses at a colleague's would never pause anything)."""
    AccessAttempt.objects.filter(username=str(user.email).strip().lower()).delete()


def signin_paused(request: HttpRequest, response: Any = None, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """429 and a page that says why sign-in is refused and for how long; nothing about whether the account exists."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "web/locked.html", {"minutes": minutes}, status=429)


class _OldPasswordCounted(PasswordChangeForm):
    """The old password is checked as a sign-in is: a wrong one counts as a failed sign-in for the account
    and the address, and a paused account cannot be tried here either (a borrowed session is no way round)."""

    def __init__(self, user: Any, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old = str(self.cleaned_data["old_password"])
        if authenticate(self.request, username=self.user.email, password=old) is None:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old


class PasswordChange(PasswordChangeView):
    form_class = _OldPasswordCounted
    template_name = "web/password_change.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}


class _ResetByOutbox(PasswordResetForm):
    """Django's reset form (it finds the active account, whatever the address's case, and says nothing about
    whether there is one), with the email queued in the outbox instead of sent in the request. The link is made
    from LEADBATON_BASE_URL, never from the Host the request named. An account without a password yet (one
    the organisation file created) gets the link too: that is how a new person sets their first password."""

    def get_users(self, email: str) -> Iterator[Any]:
        return (user for user in User.objects.filter(email__iexact=email.strip(), is_active=True))

    def send_mail(self, subject_template_name: str, email_template_name: str, context: dict[str, Any], from_email: str | None,
                  to_email: str, html_email_template_name: str | None = None) -> None:
        path = reverse("password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        password_reset_email(user=context["user"], link=settings.BASE_URL + path, now=clock.now())


class PasswordReset(PasswordResetView):
    form_class = _ResetByOutbox
    template_name = "web/password_reset.html"
    success_url = reverse_lazy("password_reset_sent")


class PasswordResetConfirm(PasswordResetConfirmView):
    """The link from the email: a new password, twice. A used or expired link says so and offers a new one.
    Setting the password ends every session of the account and forgets its failed sign-ins (a paused account
    whose owner proved they read its mailbox may sign in at once)."""

    template_name = "web/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        AccessAttempt.objects.filter(username=str(form.user.email).strip().lower()).delete()
        return response
