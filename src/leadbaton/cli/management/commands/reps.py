"""leadbaton reps pause | resume: stop a rep getting new leads for a while, with a reason, and let them take leads again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadbaton.accounts.models import User
from leadbaton.core import clock
from leadbaton.core.refusals import Refused
from leadbaton.pipeline.ownership import rep_pause, rep_resume


class Command(BaseCommand):
    help = "Pause a rep (no new leads, with a reason) or resume them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        pause = sub.add_parser("pause", help="Give the rep no new leads until resumed; their own leads stay theirs")
        pause.add_argument("email", metavar="EMAIL", help="The rep")
        pause.add_argument("--reason", required=True, help="Why, such as training or sick leave; shown to their manager")
        pause.add_argument("--by", metavar="EMAIL", help="The manager or admin making the change (default: you, the operator)")
        resume = sub.add_parser("resume", help="Let a paused rep take new leads again")
        resume.add_argument("email", metavar="EMAIL", help="The rep")
        resume.add_argument("--by", metavar="EMAIL", help="The manager or admin making the change (default: you, the operator)")

    def handle(self, *args: Any, **options: Any) -> None:
        rep = self._user(options["email"], "EMAIL")
        by = self._user(options["by"], "--by") if options["by"] else None
        try:
            if options["action"] == "pause":
                profile = rep_pause(rep_id=rep.pk, by=by, reason=options["reason"], now=clock.now())
            else:
                profile = rep_resume(rep_id=rep.pk, by=by, now=clock.now())
        except Refused as refused:
            raise CommandError(str(refused)) from None
        state = f"paused ({profile.pause_reason})" if profile.paused else "taking new leads"
        self.stdout.write(f"{profile.user.display_name} of {profile.team.name} is {state}")

    def _user(self, email: str, flag: str) -> User:
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"{flag}: no user with email {email!r}")
        return user
