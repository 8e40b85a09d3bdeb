"""Who is calling: a source with its key, or a staff member with a token or a session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from leadbaton.accounts.models import Role, User
from leadbaton.accounts.queries import token_find


class SourceKeyScheme(HttpBearer):
    """Documents the source key in OpenAPI; the intake handler itself checks the key so it can say why it fails."""

    def __call__(self, request: HttpRequest) -> Any:
        return True

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover - never called
        return True


class StaffToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = token_find(token)
        return found.user if found else None


class StaffSession(SessionAuth):
    """A signed-in browser session. Only a real session is held to the CSRF check.

    django-ninja's SessionAuth checks CSRF before it looks for a session, so a script
    with a wrong token got "CSRF check Failed" (403) instead of 401.
    """

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfRefused(
                "is missing or wrong: a signed-in session sends the csrftoken cookie's value in the X-CSRFToken header; "
                "a script uses a personal token instead (Authorization: Bearer <personal token>)"
            )
        return user


STAFF_AUTH = [StaffToken(), StaffSession()]


class Forbidden(Exception):
    """The caller is known but may not do this; the message says why."""


class CsrfRefused(Exception):
    """A signed-in session sent a change without its CSRF token."""


def require_role(user: User, *roles: str) -> None:
    if user.is_superuser or user.role in roles:
        return
    allowed = ", ".join(Role(role).label.lower() for role in roles)
    raise Forbidden(f"your role ({Role(user.role).label.lower()}) cannot do this; it needs: {allowed}")


def caller(request: HttpRequest) -> User:
    """The signed-in staff member: from the personal token, else the session (the router's auth ensured one)."""
    token_user = getattr(request, "auth", None)
    if isinstance(token_user, User):
        return token_user
    assert isinstance(request.user, User)
    return request.user
