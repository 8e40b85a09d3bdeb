"""leadbaton report weekly --team T [--week 2026-W47] [--csv]: a team's week in the terminal (the reconciliation, the
service levels and progress).

    leadbaton report reconciliation [--team T] [--period 2026-11] [--csv]: the ledger for any week, month or range of days.
"""

from __future__ import annotations

import csv
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.markup import escape
from rich.table import Table

from leadbaton.accounts.models import Team
from leadbaton.cli.tables import table_text
from leadbaton.core import clock
from leadbaton.reports.exports import COLUMNS, reconciliation_csv
from leadbaton.reports.periods import PERIOD_FORMS, period_or_last_week
from leadbaton.reports.progress import Progress, progress
from leadbaton.reports.reconciliation import FIGURES, Reconciliation, ledger_check, reconciliation
from leadbaton.reports.service_levels import ServiceLevels, duration_text, service_levels, share_text
from leadbaton.sla.models import Clock


class Command(BaseCommand):
    help = "Reports in the terminal: a team's week, or the reconciliation of any period."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        weekly = sub.add_parser("weekly", help="A team's week: each rep's leads reconciled like a ledger")
        weekly.add_argument("--team", required=True, help="the team's slug")
        weekly.add_argument("--week", help="an ISO week such as 2026-W47, in the team's time zone (default: the last full week)")
        weekly.add_argument("--csv", action="store_true", help="comma-separated values instead of a table")
        ledger = sub.add_parser("reconciliation", help="Each rep's leads reconciled like a ledger, for any period")
        ledger.add_argument("--team", help="the team's slug (default: every team, in the default team's time zone)")
        ledger.add_argument("--period", help=f"{PERIOD_FORMS} (default: the last full week)")
        ledger.add_argument("--csv", action="store_true", help="comma-separated values instead of a table")
        sub.add_parser("check", help="Replay the whole handoff ledger and compare it with the reconciliation's rows; list every lead that does not fit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "check":
            self._check()
            return
        team = self._team(options["team"]) if options["team"] else Team.objects.filter(is_default=True).first()
        time_zone = team.time_zone if team else "UTC"
        asked = options.get("week") or options.get("period")
        if options["action"] == "weekly" and asked and "-W" not in asked:
            raise CommandError(f"--week: {asked!r} is not an ISO week; give one such as 2026-W47")
        try:
            period = period_or_last_week(asked or "", time_zone, clock.now())
        except ValueError as error:
            raise CommandError(f"--{'week' if options['action'] == 'weekly' else 'period'}: {error}") from None
        report = reconciliation(period, now=clock.now(), team_id=team.pk if options["team"] and team else None)
        scope = team.name if options["team"] and team else "every team"
        if options["csv"]:
            self._csv(report)
            return
        title = f"{scope}, {period.label} ({period.first_day} to {period.last_day}, {period.time_zone})"
        self._table(report, title)
        if options["action"] == "weekly":
            self._service_levels(service_levels(period, team_id=team.pk if team else None), title)
            self._progress(progress(period, now=clock.now(), team_id=team.pk if team else None), title)

    def _check(self) -> None:
        found = ledger_check()
        for item in found:
            self.stdout.write(f"lead {item.lead_id}: {item.reason}")
        if found:
            raise CommandError(f"{len(found)} lead(s) not accounted for; see above")
        self.stdout.write("Every lead's holdings are what its ledger makes them.")

    def _team(self, slug: str) -> Team:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            known = ", ".join(Team.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"--team: no team {slug!r}; the teams are {known}")
        return team

    def _table(self, report: Reconciliation, title: str) -> None:
        table = Table("rep", *(label for _, label in COLUMNS), title=f"Reconciliation: {escape(title)}")
        for row in [*report.rows, report.total]:
            table.add_row(escape(row.name), *(str(row.count(figure)) for figure, _ in COLUMNS))
        self.stdout.write(table_text(table, width=220))
        equation = " + ".join(FIGURES[name].lower() for name in ("open_at_start", "received"))
        self.stdout.write(f"{equation} - purchased - not interested - rejected - reassigned away = open at end")
        if report.unaccounted:
            self.stdout.write(f"Unaccounted: {len(report.unaccounted)}")
            for item in report.unaccounted:
                self.stdout.write(f"  lead {item.lead_id}: {item.reason}")
        else:
            self.stdout.write("Unaccounted: none; every lead is accounted for.")

    def _service_levels(self, report: ServiceLevels, title: str) -> None:
        clocks = [(str(kind), label.lower()) for kind, label in Clock.choices]
        table = Table("rep", "first owned", "to owner (median)", "to first touch (median, p90)", "within 5 min", "touches before a conversation",
                      *(f"{label}: met / breached" for _, label in clocks), "close rate", "won", title=f"Service levels: {escape(title)}")
        for row in [*report.rows, report.total]:
            touch = row.to_first_touch
            table.add_row(escape(row.name), str(row.first_owned), duration_text(row.to_owner.median),
                          f"{duration_text(touch.median)}, {duration_text(touch.p90)}", share_text(touch.within),
                          "—" if row.touches_per_conversation is None else f"{row.touches_per_conversation:.1f}",
                          *(f"{row.clocks[kind]['met']} / {row.clocks[kind]['breached']}" for kind, _ in clocks),
                          share_text(row.close_rate),
                          ", ".join(f"{value:,.2f} {currency}" for currency, value in sorted(row.value_won.items())) or "—")
        self.stdout.write(table_text(table, width=220))

    def _progress(self, report: Progress, title: str) -> None:
        blockers = report.blockers_seen
        table = Table("rep", "in progress at start", "progressed", "share", report.before_label, "change", "in progress now", "stale now",
                      "next step overdue", *(f"blocker: {label.lower()}" for _, label in blockers), title=f"Progress: {escape(title)}")
        for row in [*report.rows, report.total]:
            table.add_row(escape(row.name), str(row.in_progress_at_start), str(row.progressed), share_text(row.share), share_text(row.before_share),
                          "—" if row.change is None else f"{round(row.change * 100):+d} points", str(row.in_progress), str(row.stale),
                          str(row.overdue), *(str(row.blockers.get(blocker, 0)) for blocker, _ in blockers))
        self.stdout.write(table_text(table, width=220))

    def _csv(self, report: Reconciliation) -> None:
        csv.writer(self.stdout, lineterminator="\n").writerows(reconciliation_csv(report))
