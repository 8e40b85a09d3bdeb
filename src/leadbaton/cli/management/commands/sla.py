"""leadbaton sla status [--team T] | explain LEAD_ID | policies: how the service-level clocks stand, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.markup import escape
from rich.table import Table

from leadbaton.cli.tables import table_text
from leadbaton.core import clock
from leadbaton.leads.models import Lead
from leadbaton.sla.queries import clocks_by_team, clocks_of, policies_active


def _at(moment: datetime | None, zone: Any = None) -> str:
    if moment is None:
        return ""
    return (moment.astimezone(zone) if zone else moment).strftime("%Y-%m-%d %H:%M:%S %Z")


class Command(BaseCommand):
    help = "Service levels: the clocks by team, one lead's clocks and how their times were computed, the policies."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="Per team: clocks running, running out within the hour, breached and met today")
        status.add_argument("--team", help="a team's slug (default: every active team)")
        explain = sub.add_parser("explain", help="Each clock of a lead: how its time was counted, each escalation step taken")
        explain.add_argument("lead_id", type=int)
        sub.add_parser("policies", help="The service levels in force: the organisation's and each team's own")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _status(self, options: dict[str, Any]) -> None:
        rows = clocks_by_team(now=clock.now(), team_slug=options["team"])
        if options["team"] and not rows:
            raise CommandError(f"no active team {options['team']!r}; `leadbaton sla status` lists every team")
        table = Table("team", "running", "run out within 1 h", "breached today", "met today")
        for row in rows:
            table.add_row(escape(row.team.name), str(row.pending), str(row.due_within_hour), str(row.breached_today), str(row.met_today))
        self.stdout.write(table_text(table, width=160))

    def _explain(self, options: dict[str, Any]) -> None:
        lead = Lead.objects.filter(pk=options["lead_id"]).first()
        if lead is None:
            raise CommandError(f"no lead {options['lead_id']}")
        deadlines = clocks_of(lead.pk)
        self.stdout.write(f"Lead {lead.pk} ({lead}): {lead.stage}; {len(deadlines)} clock(s)")
        for deadline in deadlines:
            self.stdout.write("")
            owner = deadline.rep.display_name
            self.stdout.write(f"{deadline.get_kind_display()} for {owner}: {deadline.status}")
            self.stdout.write(f"  started {_at(deadline.started_at)}, runs out {_at(deadline.breach_at)} ({deadline.terms.get('counted', '')})")
            terms = ", ".join(f"{key} {value}" for key, value in deadline.terms.items() if key != "counted")
            if terms:
                self.stdout.write(f"  terms: {terms}")
            closed = {"met": deadline.met_at, "breached": deadline.breached_at, "cancelled": deadline.cancelled_at}.get(deadline.status)
            if closed is not None:
                why = f": {deadline.why_closed}" if deadline.why_closed else ""
                self.stdout.write(f"  {deadline.status} {_at(closed)}{why}")
            taken = {step.index: step for step in deadline.taken.all()}
            steps = Table("step", "planned", "taken", "")
            for index, planned in enumerate(deadline.steps):
                step = taken.get(index)
                state = "skipped (too late)" if step and step.skipped else ("done" if step else "")
                steps.add_row(f"{planned['do']} ({planned.get('label', '')})", planned["at"][:19].replace("T", " "),
                              _at(step.at) if step else "", state)
            self.stdout.write(table_text(steps, width=160))

    def _policies(self, options: dict[str, Any]) -> None:
        table = Table("for", "first response", "attempts", "progress", "business time", "remind before")
        for policy in policies_active():
            who = f"team {policy.team.name}" if policy.team else "the organisation"
            business = ", ".join(part for part, on in (("first response in working hours", policy.business_hours),
                                                       ("working days", policy.business_days)) if on) or "wall time"
            table.add_row(who, f"{policy.first_response_minutes} min", f"{policy.attempts} in {policy.attempts_within_days} days",
                          f"every {policy.progress_every_days} days", business, f"{policy.remind_before_minutes} min")
        self.stdout.write(table_text(table, width=160))
