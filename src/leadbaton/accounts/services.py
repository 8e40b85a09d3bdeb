"""Writes of the accounts capability: personal API tokens, users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadbaton.accounts.models import ApiToken, Role, User
from leadbaton.core.tokens import secret_new


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def token_issue(*, user: User, name: str, now: datetime) -> IssuedToken:
    """A new personal API token. Its plaintext exists only in the return value."""
    secret = secret_new("pat")
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=secret.prefix, digest=secret.digest, created_at=now)
    return IssuedToken(token=token, plaintext=secret.plaintext)


def token_revoke(*, token: ApiToken, now: datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])


def admin_create(*, email: str, password: str, name: str = "") -> User:
    return User.objects.create_superuser(email, password, name=name, role=Role.ADMIN)
