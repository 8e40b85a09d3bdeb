"""leadbaton config apply FILE [--dry-run]: organisation as code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import IntegrityError

from leadbaton.core import clock
from leadbaton.organisation.apply import ApplyReport, organisation_apply
from leadbaton.organisation.file import Organisation, OrgFileError, orgfile_read


class Command(BaseCommand):
    help = "Apply an organisation file: sources, teams, people, hours, caps, routing, SLA, lead definition. See docs/configuration.md."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        apply = sub.add_parser("apply", help="Create or update everything the file describes (idempotent)")
        apply.add_argument("file", help="The organisation file (YAML), e.g. examples/org.yaml")
        apply.add_argument("--dry-run", action="store_true", help="Show what would change; save nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        organisation = organisation_read(path, stderr=self.stderr)
        try:
            report = organisation_apply(organisation=organisation, now=clock.now(), dry_run=options["dry_run"])
        except IntegrityError:
            # Someone created the same team, source or person at the same moment; the transaction rolled back.
            raise CommandError("another change to the organisation was saved at the same moment; nothing was applied, run it again") from None
        title = f" ({organisation.name})" if organisation.name else ""
        if report.dry_run:
            self.stdout.write(f"Dry run of {path}{title}: nothing was saved. Applying would do this:")
        else:
            self.stdout.write(f"Applied {path}{title}:")
        report_print(report, self.stdout)


def organisation_read(path: Path, *, stderr: OutputWrapper) -> Organisation:
    """The checked file, or every problem in it on stderr (one per line) and exit status 1."""
    try:
        return orgfile_read(path)
    except OrgFileError as error:
        for problem in error.errors:
            stderr.write(problem)
        count = len(error.errors)
        raise CommandError(f"{count} problem{'s' if count > 1 else ''} in {path}; nothing was applied", returncode=1) from None


def report_print(report: ApplyReport, stdout: OutputWrapper) -> None:
    for line in report.lines():
        stdout.write(f"  {line}")
    if report.dry_run and any(change.kind == "source" and change.action == "created" for change in report.changes):
        stdout.write("  (each new source gets an API key when the file is applied)")
    if report.keys:
        stdout.write("New API keys, shown once (store them now; only their digest is kept):")
        width = max(len(key.source) for key in report.keys)
        for key in report.keys:
            stdout.write(f"  {key.source:<{width}}  {key.plaintext}")
