"""leadbaton routing explain LEAD_ID | rules: why a lead is where it is, and the rules in the order they are tried."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.markup import escape
from rich.table import Table

from leadbaton.cli.tables import table_text
from leadbaton.core import clock
from leadbaton.leads.models import Lead
from leadbaton.leads.queries import handoff_sides, owner_summary
from leadbaton.pipeline.catch_up import catch_up_terms
from leadbaton.routing.queries import RoutingExplanation, routing_explain, rules_active


class Command(BaseCommand):
    help = "Explain routing: where a lead would go now and why each rep could or could not take it; list the rules."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        explain = sub.add_parser("explain", help="Where routing would send a lead now, each rep's availability, its handoffs")
        explain.add_argument("lead_id", type=int)
        sub.add_parser("rules", help="The active routing rules, in the order they are tried")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rules":
            table = Table("#", "name", "when", "team", "strategy", "set by")
            for rule in rules_active():
                when = "\n".join(_condition_text(condition) for condition in rule.conditions) or "every lead"
                table.add_row(str(rule.position), escape(rule.name), escape(when), rule.team.slug, rule.strategy, "file" if rule.managed else "app/API")
            self.stdout.write(table_text(table, width=200))
            return
        lead = Lead.objects.select_related("owner_team", "owner_rep").filter(pk=options["lead_id"]).first()
        if lead is None:
            raise CommandError(f"no lead {options['lead_id']}")
        self._explain(routing_explain(lead, clock.now(), catch_up_for=catch_up_terms))

    def _explain(self, explained: RoutingExplanation) -> None:
        lead, choice = explained.lead, explained.choice
        self.stdout.write(f"Lead {lead.pk} ({lead}): {lead.stage}, owned by {owner_summary(lead)['name']}")
        at = explained.at.strftime("%Y-%m-%d %H:%M %Z")
        if choice is None:
            self.stdout.write(f"Routing now ({at}): no team")
        else:
            self.stdout.write(f"Routing now ({at}): team {choice.team.name} ({choice.team.slug}) by {choice.rule}, strategy {choice.strategy}")
        if explained.note():
            self.stdout.write(f"Note: {explained.note()}")
        if choice is not None:
            reps = Table("rep", "eligible", "why not")
            for check in explained.reps:
                reps.add_row(escape(check.name), "yes" if check.eligible else "no", escape("\n".join(check.reasons)))
            self.stdout.write(f"Reps of {choice.team.name}:")
            self.stdout.write(table_text(reps, width=200))
        handoffs = Table("when", "from", "to", "reason", "why")
        for handoff in explained.handoffs:
            from_owner, to_owner = handoff_sides(handoff)
            why = "\n".join(part for part in (handoff.note, handoff.rule) if part)
            handoffs.add_row(handoff.at.strftime("%Y-%m-%d %H:%M:%S"), escape(from_owner["name"]) if from_owner else "(new)",
                             escape(to_owner["name"]), handoff.reason, escape(why))
        self.stdout.write("Handoffs:")
        self.stdout.write(table_text(handoffs, width=200))


def _condition_text(condition: dict[str, Any]) -> str:
    """{"field": "country", "in": ["US", "CA"]} as `country in US, CA`."""
    field = condition.get("field", "?")
    operator, value = next(((key, value) for key, value in condition.items() if key != "field"), ("?", ""))
    shown = ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)
    return f"{field} {operator.replace('_', ' ')} {shown}"
