"""leadbaton submissions list|show|replay: the submission log."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.table import Table

from leadbaton.api.intake import intake_answer
from leadbaton.cli.tables import table_text
from leadbaton.core.refusals import Conflict
from leadbaton.intake.models import Submission
from leadbaton.intake.queries import submissions_list
from leadbaton.pipeline.intake import submission_replay

STATUSES = [status for status, _ in Submission.Status.choices]


class Command(BaseCommand):
    help = "List, show and replay stored submissions."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="Newest first")
        listing.add_argument("--status", choices=STATUSES)
        listing.add_argument("--source")
        listing.add_argument("--limit", type=int, default=50)
        show = sub.add_parser("show", help="One submission with its body")
        show.add_argument("id", type=int)
        replay = sub.add_parser("replay", help="Process submissions again")
        replay.add_argument("ids", type=int, nargs="*")
        replay.add_argument("--failed", action="store_true", help="Every failed submission")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            table = Table("id", "received", "source", "status", "answer", "lead", "errors")
            for row in submissions_list(status=options["status"], source_slug=options["source"], limit=options["limit"]):
                errors = "; ".join(f"{e['field']}: {e['message']}" for e in row.errors)[:80]
                lead = f"{row.lead_id}{' (merged)' if row.merged else ''}" if row.lead_id else ""
                table.add_row(str(row.pk), row.received_at.strftime("%Y-%m-%d %H:%M:%S"), row.source.slug, row.status, str(row.http_status or ""), lead, errors)
            self.stdout.write(table_text(table))
        elif action == "show":
            shown = Submission.objects.select_related("source").filter(pk=options["id"]).first()
            if shown is None:
                raise CommandError(f"no submission {options['id']}")
            row = shown
            self.stdout.write(json.dumps({
                "id": row.pk, "source": row.source.slug, "received_at": row.received_at.isoformat(), "status": row.status,
                "http_status": row.http_status, "lead_id": row.lead_id, "errors": row.errors, "warnings": row.warnings,
                "attempts": row.attempts, "last_error": row.last_error.splitlines()[-1:], "headers": row.headers,
                "body_size": row.body_size, "body_truncated": row.body_truncated,
            }, indent=2))
            self.stdout.write("body, as received:")
            self.stdout.write(row.body_text)
        else:
            ids = list(options["ids"])
            if options["failed"]:
                ids += list(Submission.objects.filter(status=Submission.Status.FAILED).order_by("id").values_list("id", flat=True))
            if not ids:
                raise CommandError("name submission ids, or --failed")
            refused = []
            for submission_id in ids:
                if not Submission.objects.filter(pk=submission_id).exists():
                    raise CommandError(f"no submission {submission_id}")
                try:
                    received = submission_replay(submission_id=submission_id)
                except Conflict as refusal:
                    self.stderr.write(f"{submission_id}: not replayed: {refusal.errors[0]['message']}")
                    refused.append(submission_id)
                    continue
                # Said as the API would answer it: the status of the outcome, then the body.
                self.stdout.write(f"{submission_id}: {intake_answer(received).status_code} {json.dumps(received.body)}")
            if refused:
                raise CommandError(f"not replayed: {', '.join(map(str, refused))} (being processed; try again in a moment)")
