"""leadbaton tokens create|revoke|list: personal API tokens for staff."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rich.table import Table

from leadbaton.accounts.models import ApiToken, User
from leadbaton.accounts.services import token_issue, token_revoke
from leadbaton.cli.tables import table_text
from leadbaton.core import clock


class Command(BaseCommand):
    help = "Manage personal API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="A new token for a user (shown once)")
        create.add_argument("email")
        create.add_argument("--name", required=True, help="What the token is for, e.g. laptop")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix (the 8 characters after lb_pat_)")
        revoke.add_argument("prefix")
        listing = sub.add_parser("list", help="Tokens of a user")
        listing.add_argument("email")

    def _user(self, email: str) -> User:
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"no user with email {email!r}")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = self._user(options["email"])
            if not user.is_active:
                raise CommandError(f"{user.email} is deactivated; a token for them would not work")
            with transaction.atomic():
                issued = token_issue(user=user, name=options["name"], now=clock.now())
            self.stdout.write(f"token {issued.token.name!r} for {user.email} (shown once, store it now):")
            self.stdout.write(issued.plaintext)
        elif action == "revoke":
            token = ApiToken.objects.filter(prefix=options["prefix"]).first()
            if token is None:
                raise CommandError(f"no token with prefix {options['prefix']!r}")
            with transaction.atomic():
                token_revoke(token=token, now=clock.now())
            self.stdout.write(f"revoked token {token.name!r} of {token.user.email}")
        else:
            table = Table("prefix", "name", "created", "revoked")
            for token in self._user(options["email"]).api_tokens.order_by("created_at"):
                revoked = token.revoked_at.strftime("%Y-%m-%d %H:%M") if token.revoked_at else ""
                table.add_row(token.prefix, token.name, token.created_at.strftime("%Y-%m-%d %H:%M"), revoked)
            self.stdout.write(table_text(table))
