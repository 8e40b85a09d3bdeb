"""leadbaton leads reassign: a manager moves a lead by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadbaton.accounts.models import Team, User
from leadbaton.core import clock
from leadbaton.core.refusals import Refused
from leadbaton.leads.models import Lead
from leadbaton.pipeline.ownership import lead_reassign


class Command(BaseCommand):
    help = "Work with leads by hand."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        reassign = sub.add_parser("reassign", help="Give a lead to another rep, or back to a team's queue")
        reassign.add_argument("lead_id", type=int)
        target = reassign.add_mutually_exclusive_group(required=True)
        target.add_argument("--to", metavar="EMAIL", help="The rep who takes the lead")
        target.add_argument("--to-queue", metavar="TEAM", help="The team (slug) whose queue takes the lead")
        reassign.add_argument("--reason", required=True, help="Why; kept in the handoff ledger")
        reassign.add_argument("--by", metavar="EMAIL", required=True, help="The manager or admin making the change")

    def handle(self, *args: Any, **options: Any) -> None:
        by = self._user(options["by"], "--by")
        if not Lead.objects.filter(pk=options["lead_id"]).exists():
            raise CommandError(f"no lead {options['lead_id']}")
        to_rep_id = self._user(options["to"], "--to").pk if options["to"] else None
        to_team_id = None
        if options["to_queue"]:
            team = Team.objects.filter(slug=options["to_queue"]).first()
            if team is None:
                raise CommandError(f"--to-queue: no team {options['to_queue']!r}")
            to_team_id = team.pk
        try:
            lead = lead_reassign(lead_id=options["lead_id"], by=by, reason=options["reason"], to_rep_id=to_rep_id,
                                 to_team_id=to_team_id, now=clock.now())
        except Refused as refused:
            raise CommandError(str(refused)) from None
        owner = lead.owner_rep.display_name if lead.owner_rep else f"the {options['to_queue']} queue"
        self.stdout.write(f"lead {lead.pk} is now {lead.stage}, owned by {owner}")

    def _user(self, email: str, flag: str) -> User:
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"{flag}: no user with email {email!r}")
        return user
