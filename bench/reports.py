"""Reports benchmark: the weekly reconciliation over two years of an organisation's leads, beside its SQL floor.

    .venv/bin/python bench/reports.py [--db sqlite|postgres] [--leads 1000000] [--repeat 5]

Makes a fresh database (a temporary SQLite file, or a fresh PostgreSQL database dropped at the end), applies an
organisation of 5 teams and 200 reps, and streams straight into it `--leads` leads received over the two years before
Monday 30 November 2026, with their handoffs (routed, or queued then handed out; some reassigned, moved by a breached
service level, rejected, recycled), their touches and outcomes (about 1.6 handoffs and 5 activities a lead), the
holdings leads.holdings.replay makes of each lead's ledger, as leads.services keeps them, and each holding's service-level
clocks (first response, attempts, progress, next step: met, breached, cancelled or pending). Most leads close within two
months; the rest are the open backlog.

Leads come from 4 sources, most with one of 40 campaigns; some are nurtured first and become sales-ready later, a few
never do.

Then, in this process, it asks for the reconciliation (reports.reconciliation) and the service levels
(reports.service_levels) of one team and of every team, marketing's report (reports.marketing) of every source, and
both sides (reports.referee: the organisation's figures with their trend over 12 weeks), for the week 2026-W47 and
for the quarter of 13 weeks that ends with it, `--repeat` times each: the time from the call to the answer, reps
named. Beside each, the floor: the same statements that read the leads, through the bare database cursor, nothing
built from their rows (for the reconciliation the best single query: one pass over two index ranges of the holdings). Targets (issue 16): within 1.5x the floor, and under 1 s for a week. See bench/README.md and
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
LEADBATON = Path(sys.executable).parent / "leadbaton"
TEAMS = 5
REPS = 200
NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
START = NOW - timedelta(days=730)
CHUNK = 20_000
TARGET_RATIO, TARGET_WEEK_MS = 1.5, 1000.0
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Singapore", "Europe/London", "America/Los_Angeles")
SOURCES = ("web", "badges", "partners", "webinars")
CAMPAIGNS = tuple(f"campaign-{n:02d}" for n in range(40))
REJECTED = ("spam", "student", "wrong_person", "duplicate", "out_of_territory", "no_budget_ever", "other")

console = Console(width=None if sys.stdout.isatty() else 150)


class BenchError(Exception):
    pass


def leadbaton(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(LEADBATON), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"`leadbaton {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def organisation(data_dir: Path) -> Path:
    teams = "".join(f"  - {{slug: t{n}, name: Team {n}, time_zone: {ZONES[n]}{', default: true' if n == 0 else ''}}}\n" for n in range(TEAMS))
    reps = "".join(f"  - {{email: rep{n}@bench.example, name: Rep {n:03d}, team: t{n % TEAMS}, hours: 'mon-sun 00:00-24:00', time_zone: UTC}}\n"
                   for n in range(REPS))
    org = data_dir / "org.yaml"
    org.write_text(f"teams:\n{teams}reps:\n{reps}")
    return org


class Writer:
    """Rows into one table, in the column order given: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, model: Any, columns: list[str]) -> None:
        from django.db import connection

        self.connection, self.table, self.columns = connection, model._meta.db_table, columns
        fields = {field.column: field for field in model._meta.concrete_fields}
        self.defaults = {column: fields[column].get_default() for column in fields if column not in columns and column != "id"}
        self.all_columns = ["id", *columns, *self.defaults]
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, *values: Any) -> None:
        self.rows.append(values)

    def flush(self) -> None:
        if not self.rows:
            return
        extra = tuple(self._value(value) for value in self.defaults.values())
        raw = self.connection.connection
        if self.connection.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.table} ({', '.join(self.all_columns)}) FROM STDIN") as copy:
                for number, row in enumerate(self.rows, start=self.count + 1):
                    copy.write_row((number, *(self._value(value) for value in row), *extra))
        else:
            marks = ", ".join("?" for _ in self.all_columns)
            raw.executemany(f"INSERT INTO {self.table} ({', '.join(self.all_columns)}) VALUES ({marks})",
                            [(number, *(self._value(value) for value in row), *extra) for number, row in enumerate(self.rows, start=self.count + 1)])
        self.count += len(self.rows)
        self.rows = []

    def _value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value if self.connection.vendor == "postgresql" else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, dict | list):
            return json.dumps(value)
        return value


def leads_of(count: int, teams: list[int], reps_of: dict[int, list[int]], rng: random.Random) -> Iterator[dict[str, Any]]:
    """Each lead's ledger: its handoffs and activities up to NOW, and where it stands at NOW."""
    span = (NOW - START).total_seconds()
    for number in range(1, count + 1):
        received = START + timedelta(seconds=span * (number - rng.random()) / count)
        team = rng.choice(teams)
        rep = rng.choice(reps_of[team])
        handoffs: list[tuple[Any, ...]] = []  # (at, from_kind, from_rep, to_kind, to_team, to_rep, reason)
        activities: list[tuple[Any, ...]] = []  # (at, kind, result, detail, by)
        came = {"id": number, "received": received, "team": team, "source": rng.choice(SOURCES),
                "campaign": rng.choice(CAMPAIGNS) if rng.random() < 0.7 else "", "value": round(rng.uniform(1000, 50000), 2)}
        nurtured = rng.random()
        if nurtured < 0.08:  # never sales-ready: marketing's nurture
            yield came | {"handoffs": [(received, "", None, "marketing", None, None, "created")], "activities": []}
            continue
        ready, from_kind, why = received, "", "routed"
        if nurtured < 0.23:  # nurtured first, sales-ready later
            handoffs.append((received, "", None, "marketing", None, None, "created"))
            ready, from_kind, why = received + timedelta(days=rng.uniform(1, 30)), "marketing", "qualified"
        owner = ("rep", team, rep)
        if rng.random() < 0.12:  # nobody free: the queue, then handed out
            handoffs.append((ready, from_kind, None, "team", team, None, why))
            at = ready + timedelta(minutes=rng.uniform(5, 480))
            handoffs.append((at, "team", None, "rep", team, rep, "routed"))
        else:
            handoffs.append((ready, from_kind, None, "rep", team, rep, why))
            at = ready
        life = timedelta(days=rng.uniform(1, 60))
        closes = at + life
        moment = at + timedelta(minutes=rng.uniform(1, 120))
        for _ in range(rng.randint(1, 7)):  # touches
            if moment >= closes:
                break
            activities.append((moment, rng.choice(("call", "call", "email", "sms")), rng.choice(("no_answer", "connected", "voicemail")), {}, owner[2]))
            moment += timedelta(hours=rng.uniform(2, 96))
        if rng.random() < 0.2:  # reassigned, or moved by a breached service level
            moved = at + life * rng.uniform(0.1, 0.9)
            other = rng.choice([each for each in reps_of[team] if each != owner[2]])
            handoffs.append((moved, "rep", owner[2], "rep", team, other, "sla_breach" if rng.random() < 0.2 else "reassigned"))
            owner = ("rep", team, other)
        if activities and rng.random() < 0.6:
            activities.append((activities[0][0] + timedelta(minutes=1), "outcome", "", {"outcome": "in_progress", "blocker": "timing"}, owner[2]))
        ending = rng.random()
        outcome = "purchased" if ending < 0.25 else "rejected" if ending < 0.4 else "not_interested"
        activities.append((closes, "outcome", "", {"outcome": outcome}, owner[2]))
        if outcome == "rejected":
            handoffs.append((closes, "rep", owner[2], "marketing", None, None, "rejected"))
        elif outcome == "not_interested" and rng.random() < 0.1:
            handoffs.append((closes + timedelta(days=30), "rep", owner[2], "marketing", None, None, "recycled"))
        handoffs = sorted(each for each in handoffs if each[0] < NOW)
        activities = sorted((each for each in activities if each[0] < NOW), key=lambda each: each[0])
        yield came | {"handoffs": handoffs, "activities": activities}


def clocks_of(span: Any, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """The service-level clocks of one holding, as the default policy keeps them: (kind, status, started, runs out, met,
    breached, cancelled). A first response within 5 minutes and enough attempts within 10 days of the holding's start;
    once the lead is in progress (touched), progress within 7 days and, for half of them, a next step within 3 days.
    Each is met when its touch comes before it runs out, breached when it runs out first (by NOW), else cancelled when
    the holding ends, or still pending."""
    ends = min(each for each in (span.closed_at, NOW) if each is not None)
    touched = span.touched_at
    clocks: list[tuple[str, datetime, timedelta, datetime | None]] = [
        ("first_response", span.started_at, timedelta(minutes=5), touched),
        ("attempts", span.started_at, timedelta(days=10), touched + timedelta(hours=rng.uniform(1, 300)) if touched else None),
    ]
    if touched is not None:
        clocks.append(("progress", touched, timedelta(days=7), touched + timedelta(days=rng.uniform(1, 9))))
        if rng.random() < 0.5:
            clocks.append(("next_step", touched, timedelta(days=3), touched + timedelta(days=rng.uniform(0.5, 4))))
    for kind, started, allowed, met_by in clocks:
        runs_out = started + allowed
        if started >= ends:
            continue
        if met_by is not None and met_by <= runs_out and met_by < ends:
            yield kind, "met", started, runs_out, met_by, None, None
        elif runs_out < ends:
            yield kind, "breached", started, runs_out, None, runs_out, None
        elif span.closed_at is not None:
            yield kind, "cancelled", started, runs_out, None, None, span.closed_at
        else:
            yield kind, "pending", started, runs_out, None, None, None


def populate(count: int, seed: int) -> dict[str, int]:
    """Stream `count` leads with their ledger and holdings into the database, CHUNK leads to a transaction."""
    from django.db import connection, transaction

    from leadbaton.accounts.models import RepProfile, Team
    from leadbaton.leads.holdings import replay
    from leadbaton.leads.models import Activity, Handoff, Holding, Lead
    from leadbaton.sla.models import Deadline

    rng = random.Random(seed)
    clock_rng = random.Random(seed + 1)  # its own, so that the leads are those of a bench without clocks
    teams = list(Team.objects.order_by("slug").values_list("pk", flat=True))
    reps_of: dict[int, list[int]] = {team: [] for team in teams}
    for user_id, team_id in RepProfile.objects.values_list("user_id", "team_id"):
        reps_of[team_id].append(user_id)
    leads = Writer(Lead, ["email", "email_key", "first_name", "company", "source_slug", "campaign", "original_campaign", "stage", "score", "owner_kind", "owner_team_id",
                          "owner_rep_id", "received_at", "last_inquiry_at", "owned_at", "first_touch_at", "touch_count", "value", "currency",
                          "rejected_reason", "closed_at", "updated_at"])
    handoffs = Writer(Handoff, ["lead_id", "at", "from_kind", "from_team_id", "from_rep_id", "to_kind", "to_team_id", "to_rep_id", "reason"])
    activities = Writer(Activity, ["lead_id", "by_user_id", "at", "kind", "result", "detail"])
    holdings = Writer(Holding, ["lead_id", "rep_id", "team_id", "came", "started_at", "touched_at", "closed_at", "closed_how"])
    deadlines = Writer(Deadline, ["lead_id", "rep_id", "team_id", "kind", "status", "started_at", "breach_at", "met_at", "breached_at", "cancelled_at"])
    handoff_number = activity_number = 0
    started = time.perf_counter()
    for lead in leads_of(count, teams, reps_of, rng):
        number = lead["id"]
        ledger, done = [], []
        for at, from_kind, from_rep, to_kind, to_team, to_rep, reason in lead["handoffs"]:
            handoff_number += 1
            handoffs.add(number, at, from_kind, to_team if from_kind == "team" else (lead["team"] if from_kind == "rep" else None), from_rep,
                         to_kind, to_team, to_rep, reason)
            ledger.append((at, handoff_number, from_kind, from_rep, to_kind, to_team, to_rep, reason))
        for at, kind, result, detail, by in lead["activities"]:
            activity_number += 1
            activities.add(number, by, at, kind, result, detail)
            done.append((at, activity_number, kind, detail))
        spans, _ = replay(number, ledger, done)
        for span in spans:
            holdings.add(number, span.rep_id, span.team_id, span.came, span.started_at, span.touched_at, span.closed_at, span.closed_how)
            for clock in clocks_of(span, clock_rng):
                deadlines.add(number, span.rep_id, span.team_id, *clock)
        last = lead["handoffs"][-1]
        held_open = bool(spans) and spans[-1].open and last[3] == "rep"
        closing = [each for each in lead["activities"] if each[1] == "outcome" and each[3]["outcome"] != "in_progress"]
        stage = ("in_progress" if spans[-1].touched_at else "assigned") if held_open else (
            closing[-1][3]["outcome"] if closing else ("queued" if last[3] == "team" else "nurture"))
        if last[6] == "recycled" or (stage == "not_interested" and last[3] == "marketing"):
            stage = "nurture"
        touches = [each for each in lead["activities"] if each[1] != "outcome"]
        leads.add(f"p{number}@bench.example", f"p{number}@bench.example", f"Person {number}", f"Company {number % 5000}", lead["source"],
                  lead["campaign"], lead["campaign"], stage, rng.randint(0, 100), last[3], last[4] if last[3] != "marketing" else None, last[5], lead["received"],
                  lead["received"], spans[0].started_at if spans else None, touches[0][0] if touches else None, len(touches),
                  lead["value"] if stage == "purchased" else None, "EUR" if stage == "purchased" else "",
                  REJECTED[number % len(REJECTED)] if stage == "rejected" else "",
                  closing[-1][0] if closing and stage not in ("assigned", "in_progress", "queued", "nurture") else None, lead["received"])
        if number % CHUNK == 0 or number == count:
            with transaction.atomic():
                for writer in (leads, handoffs, activities, holdings, deadlines):
                    writer.flush()
            if number % (CHUNK * 10) == 0 or number == count:
                console.print(f"  {number:,} leads, {handoffs.count:,} handoffs, {activities.count:,} activities, {holdings.count:,} holdings, "
                              f"{deadlines.count:,} clocks ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"leads": leads.count, "handoffs": handoffs.count, "activities": activities.count, "holdings": holdings.count,
            "clocks": deadlines.count, "seconds": round(time.perf_counter() - started)}


def timed(call: Any, repeat: int) -> tuple[float, Any, list[dict[str, str]]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, answer, queries = [], None, []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            answer = call()
            times.append((time.perf_counter() - started) * 1000)
        queries = captured.captured_queries
    return statistics.median(times), answer, queries


def floor(queries: list[dict[str, str]], repeat: int) -> float:
    """The statements that read the leads (not the reps' names and teams), through the bare cursor: nothing built from the rows."""
    from django.db import connection

    counting = [query["sql"] for query in queries if "accounts_" not in query["sql"]]
    raw = connection.connection
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for sql in counting:
            cursor = raw.cursor()
            cursor.execute(sql)
            cursor.fetchall()
            cursor.close()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(args: argparse.Namespace) -> bool:
    import django

    django.setup()
    from leadbaton.accounts.models import Team
    from leadbaton.reports.marketing import marketing_report
    from leadbaton.reports.periods import days_between, period_parse
    from leadbaton.reports.reconciliation import reconciliation
    from leadbaton.reports.referee import referee
    from leadbaton.reports.service_levels import service_levels

    console.print(f"writing {args.leads:,} leads over two years, with their handoffs, activities and holdings …")
    written = populate(args.leads, args.seed)
    team = Team.objects.get(slug="t0")
    week = period_parse("2026-W47", team.time_zone)
    quarter = days_between(week.last_day - timedelta(days=7 * 13 - 1), week.last_day, team.time_zone)
    table = Table(title=f"reports, {args.db}: {written['leads']:,} leads, {written['handoffs']:,} handoffs, {written['activities']:,} "
                        f"activities, {written['holdings']:,} holdings, {written['clocks']:,} clocks (written in {written['seconds']} s); "
                        f"median of {args.repeat}, in ms")
    for column in ("report", "period", "rows", "queries", "answer", "floor", "x floor", "targets"):
        table.add_column(column, justify="left" if column in ("report", "period") else "right")
    met = True
    reports = {
        "reconciliation": lambda period, team_id: reconciliation(period, now=NOW, team_id=team_id),
        "service levels": lambda period, team_id: service_levels(period, team_id=team_id),
        "marketing": lambda period, team_id: marketing_report(period),
        "both sides": lambda period, team_id: referee(period),
    }
    for report_name, report_of in reports.items():
        scopes = {"marketing": (("every source (4 sources, 40 campaigns)", None),), "both sides": (("organisation, with 12 weeks", None),)}.get(
            report_name, (("one team (40 reps)", team.pk), ("every team (200 reps)", None)))
        for scope, team_id in scopes:
            for name, period in (("week 2026-W47", week), (f"quarter {quarter.first_day}..{quarter.last_day}", quarter)):
                answer_ms, report, queries = timed(lambda period=period, team_id=team_id, report_of=report_of: report_of(period, team_id), args.repeat)
                floor_ms = floor(queries, args.repeat)
                ratio = answer_ms / floor_ms if floor_ms else float("inf")
                ok = ratio <= TARGET_RATIO and (answer_ms <= TARGET_WEEK_MS or not name.startswith("week"))
                met = met and ok
                rows = report.by_campaign if report_name == "marketing" else report.weeks if report_name == "both sides" else report.rows
                table.add_row(f"{report_name}, {scope}", name, str(len(rows)), str(len(queries)),
                              f"{answer_ms:.1f}", f"{floor_ms:.1f}", f"{ratio:.2f}" + ("" if ok else " FAIL"),
                              f"<= {TARGET_RATIO}x" + (f", <= {TARGET_WEEK_MS:.0f}" if name.startswith("week") else ""))
                total = report.now if report_name == "both sides" else report.total
                if report_name == "reconciliation":
                    if not all(row.balanced for row in [*report.rows, total]):
                        raise BenchError(f"a ledger does not balance: {name}, {scope}")
                    console.print(f"  {scope}, {name}: open at start {total.count('open_at_start'):,} + received {total.count('received'):,} "
                                  f"- closed or moved {sum(total.count(each) for each in ('purchased', 'not_interested', 'rejected', 'reassigned_away')):,} "
                                  f"= open at end {total.count('open_at_end'):,}")
                elif report_name == "both sides":
                    console.print(f"  {scope}, {name}: {total.sales_ready:,} sales-ready, {total.within_5_minutes or 0:.0%} touched within 5 minutes, "
                                  f"close rate {total.close_rate or 0:.0%}; 12 weeks from {report.weeks[0].label}")
                elif report_name == "marketing":
                    console.print(f"  {scope}, {name}: {total.leads:,} leads, {total.sales_ready:,} sales-ready, acceptance "
                                  f"{total.acceptance or 0:.0%}, {total.purchased:,} purchased")
                else:
                    console.print(f"  {scope}, {name}: {total.first_owned:,} leads first owned, first touch median "
                                  f"{total.to_first_touch.median or 0:.0f} s, close rate {total.close_rate or 0:.0%}")
    console.print(table)
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads over the two years (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per report and period (default 5)")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="server for --db postgres")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and, on PostgreSQL, the database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, lambda number, frame: sys.exit(128 + number))
    if args.leads < 1 or args.repeat < 1:
        parser.error("--leads and --repeat must be at least 1")

    data_dir = Path(tempfile.mkdtemp(prefix="lb_bench_reports_"))
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL" and not name.startswith("LEADBATON_")}
    env.update(LEADBATON_DATA_DIR=str(data_dir), LEADBATON_ENV_FILE="/dev/null", DJANGO_SETTINGS_MODULE="leadbaton.settings")
    database = ""
    admin: Any = None
    try:
        if args.db == "postgres":
            import psycopg

            database = f"lb_bench_{secrets.token_hex(4)}"
            admin = psycopg.connect(f"{args.postgres}/postgres", autocommit=True)
            admin.execute(f'CREATE DATABASE "{database}"')
            env["DATABASE_URL"] = f"{args.postgres}/{database}"
        console.print(f"setting up {args.db} in {data_dir} …")
        leadbaton(env, "migrate", "--verbosity", "0")
        leadbaton(env, "config", "apply", str(organisation(data_dir)))
        os.environ.update(env)
        if args.db == "sqlite":
            os.environ.pop("DATABASE_URL", None)
        met = run(args)
        return 1 if args.strict and not met else 0
    except BenchError as error:
        console.print(f"[bold red]bench failed:[/] {error}")
        return 2
    finally:
        if admin is not None:
            from django.db import connections

            connections.close_all()
            if args.keep:
                console.print(f"kept database {database} (drop it with: dropdb -h 127.0.0.1 -U postgres {database})")
            else:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.close()
        if args.keep:
            console.print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
