"""leadbaton signins list|unlock: failed sign-ins, and lifting a pause before it ends by itself."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max, Sum
from rich.table import Table

from leadbaton.cli.tables import table_text
from leadbaton.core import clock


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
            self.stdout.write(table_text(self._paused_table("account", "username")))
            self.stdout.write(table_text(self._paused_table("address", "ip_address")))
            return
        email, address = options["email"], options["address"]
        if not email and not address:
            raise CommandError("name an account (EMAIL) or an address (--address 203.0.113.7) to unlock")
        if email:
            self.stdout.write(f"{email}: {reset(username=email.strip().lower())} record(s) of failed sign-ins forgotten")
        if address:
            self.stdout.write(f"{address}: {reset(ip=address.strip())} record(s) of failed sign-ins forgotten")

    def _paused_table(self, title: str, column: str) -> Table:
        """Failures in the pause window, summed per account or per address as the pause counts them (a row of
        axes is one account from one address), most recent first."""
        since = clock.now() - settings.AXES_COOLOFF_TIME
        rows = (
            AccessAttempt.objects.filter(attempt_time__gte=since).exclude(**{column: None}).values(column)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time")).order_by("-last")[:200]
        )
        table = Table(title, "failures", "last", "paused", title=f"failed sign-ins per {title}, last {settings.AXES_COOLOFF_TIME}")
        for row in rows:
            paused = row["failures"] >= settings.AXES_FAILURE_LIMIT
            table.add_row(row[column] or "", str(row["failures"]), f"{row['last']:%Y-%m-%d %H:%M:%S} UTC", "yes" if paused else "")
        return table
