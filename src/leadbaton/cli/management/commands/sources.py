"""leadbaton sources add|revoke|key|list."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rich.table import Table

from leadbaton.cli.tables import table_text
from leadbaton.core import clock
from leadbaton.intake.models import Source
from leadbaton.intake.services import SourceError, source_create, source_key_issue, source_keys_revoke


class Command(BaseCommand):
    help = "Manage lead sources and their API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Create a source and print its API key (shown once)")
        add.add_argument("slug")
        add.add_argument("--name", required=True)
        add.add_argument("--kind", default=Source.Kind.API, choices=[kind for kind, _ in Source.Kind.choices])
        add.add_argument("--default-region", default="", help="ISO country for phone numbers without +country code")
        revoke = sub.add_parser("revoke", help="Revoke every key of a source")
        revoke.add_argument("slug")
        key = sub.add_parser("key", help="Issue another key for a source (shown once)")
        key.add_argument("slug")
        sub.add_parser("list", help="List sources")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        now = clock.now()
        if action == "list":
            table = Table("slug", "kind", "name", "active", "live keys")
            for source in Source.objects.order_by("slug"):
                live = source.keys.filter(revoked_at__isnull=True).count()
                table.add_row(source.slug, source.kind, source.name, "yes" if source.active else "no", str(live))
            self.stdout.write(table_text(table))
            return
        if action == "add":
            region = options["default_region"].upper()
            if region and (len(region) != 2 or not region.isalpha()):
                raise CommandError(f"--default-region: {region!r} is not a two-letter ISO country code such as US")
            try:
                with transaction.atomic():
                    issued = source_create(slug=options["slug"], name=options["name"], kind=options["kind"], default_region=region, now=now)
            except SourceError as error:
                raise CommandError(str(error)) from None
            self._print_key(issued.source.slug, issued.plaintext)
            return
        found = Source.objects.filter(slug=options["slug"]).first()
        if found is None:
            known = ", ".join(Source.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"no source {options['slug']!r}; sources: {known}")
        source = found
        if action == "revoke":
            with transaction.atomic():
                revoked = source_keys_revoke(source=source, now=now)
            self.stdout.write(f"revoked {revoked} key(s) of {source.slug}; requests with them now answer 401")
        else:
            with transaction.atomic():
                issued = source_key_issue(source=source, now=now)
            self._print_key(source.slug, issued.plaintext)

    def _print_key(self, slug: str, plaintext: str) -> None:
        self.stdout.write(f"source {slug}: API key (shown once, store it now):")
        self.stdout.write(plaintext)
