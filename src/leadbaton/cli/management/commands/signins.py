"""leadbaton signins list|unlock: failed sign-ins, and lifting a pause before it ends by itself."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.table import Table

from leadbaton.cli.tables import table_text


class Command(BaseCommand):
    help = "Failed sign-ins: list them; unlock an account or an address paused for too many failures."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Accounts and addresses with failed sign-ins, most recent first")
        unlock = sub.add_parser("unlock", help="Forget the failures of an account (EMAIL) or of an address (--address)")
        unlock.add_argument("email", nargs="?")
        unlock.add_argument("--address", help="an IP address, e.g. 203.0.113.7")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            limit = settings.AXES_FAILURE_LIMIT
            table = Table("account", "address", "failures", "last", "paused")
            for attempt in AccessAttempt.objects.order_by("-attempt_time")[:200]:
                table.add_row(attempt.username or "", attempt.ip_address or "", str(attempt.failures_since_start),
                              f"{attempt.attempt_time:%Y-%m-%d %H:%M:%S} UTC", "yes" if attempt.failures_since_start >= limit else "")
            self.stdout.write(table_text(table))
            return
        email, address = options["email"], options["address"]
        if not email and not address:
            raise CommandError("name an account (EMAIL) or an address (--address 203.0.113.7) to unlock")
        if email:
            self.stdout.write(f"{email}: {reset(username=email.strip().lower())} record(s) of failed sign-ins forgotten")
        if address:
            self.stdout.write(f"{address}: {reset(ip=address.strip())} record(s) of failed sign-ins forgotten")
