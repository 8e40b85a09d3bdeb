"""Pages benchmark: the server time of the rep's inbox, a lead's page and the manager's team board, beside the bare SQL.

    .venv/bin/python bench/pages.py [--db sqlite|postgres] [--team-leads 5000] [--rep-leads 300] [--requests 200]

Makes a fresh database (a temporary SQLite file, or a fresh PostgreSQL database dropped at the end), applies an
organisation of one team (a manager and 17 reps), and writes straight into it a team with `--team-leads` open leads,
`--rep-leads` of them on the measured rep: untouched ones with a first-response clock (a tenth of them breached),
in-progress ones with a blocker, a next step (some overdue) and a progress clock, each with its inquiry, handoff and
touches; as many closed leads again; 50 leads in the team's queue. Then, in this process, it asks for each page
`--requests` times through Django's test client, signed in as the rep or the manager, the pages taking turns in
`--rounds` rounds: the time from the request to the rendered answer, middleware, session and templates included (no
network), and the queries it ran.

Beside each page, the floor: the same SQL statements the page ran, sent again through the bare database cursor in this
process, with nothing to build from their rows. The difference is what Django, the ORM's objects and the templates cost.
The first row is the framework's floor on this machine at this moment: a signed-in page that reads no lead (the password
form: session, user, middleware, the base template), so figures taken on different days can be compared.
Target: p95 <= 50 ms per page (issue 15), with a query count that does not grow with the rows (tests guard it).
See bench/README.md and docs/performance.md.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
LEADBATON = Path(sys.executable).parent / "leadbaton"
REPS = 17
TARGET_MS = 50.0

console = Console(width=None if sys.stdout.isatty() else 150)


class BenchError(Exception):
    pass


def leadbaton(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(LEADBATON), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"`leadbaton {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def quantile(values: Sequence[float], share: float) -> float:
    """Nearest rank, of sorted values."""
    return values[min(len(values) - 1, max(0, math.ceil(share * len(values)) - 1))]


def organisation(data_dir: Path) -> Path:
    reps = "".join(f"  - {{email: rep{n}@bench.example, name: Rep {n}, team: sales, hours: 'mon-sun 00:00-24:00', time_zone: UTC}}\n"
                   for n in range(REPS))
    org = data_dir / "org.yaml"
    org.write_text(
        "teams:\n  - {slug: sales, name: Sales, time_zone: UTC, manager: boss@bench.example, default: true}\n"
        "users:\n  - {email: boss@bench.example, name: Boss, role: manager}\n"
        f"reps:\n{reps}"
    )
    return org


def populate(*, team_leads: int, rep_leads: int) -> dict[str, Any]:
    """Write the team's leads straight into the database; the ids the pages are asked for."""
    from django.db import transaction

    from leadbaton.accounts.models import RepProfile, Team, User
    from leadbaton.leads.models import Activity, Blocker, Handoff, Inquiry, Lead, OwnerKind, Stage
    from leadbaton.sla.models import Clock, Deadline

    now = datetime.now(UTC)
    team = Team.objects.get(slug="sales")
    reps = list(RepProfile.objects.filter(team=team).order_by("user_id").values_list("user_id", flat=True))
    measured = reps[0]
    others = reps[1:]
    owners = [measured] * rep_leads + [others[n % len(others)] for n in range(max(team_leads - rep_leads, 0))]
    blockers = [value for value in Blocker.values if value != Blocker.OTHER]
    leads: list[Any] = []
    for number, owner in enumerate(owners):
        at = now - timedelta(minutes=7 * number % 20_000)
        untouched = number % 5 < 2
        email = f"buyer{number}@company{number % 400}.example"
        common: dict[str, Any] = {
            "email": email, "email_key": email, "first_name": f"Buyer{number}", "last_name": "Example", "company": f"Company {number % 400}",
            "phone": f"+4930{number:07d}", "source_slug": "website", "owner_kind": OwnerKind.REP, "owner_rep_id": owner,
            "owner_team_id": team.pk, "received_at": at, "last_inquiry_at": at, "updated_at": at, "owned_at": at, "score": 40 + number % 60,
        }
        if untouched:
            leads.append(Lead(stage=Stage.ASSIGNED, **common))
        else:
            due = now + timedelta(hours=(number % 144) - 24)  # a sixth overdue
            leads.append(Lead(stage=Stage.IN_PROGRESS, first_touch_at=at + timedelta(minutes=3), touch_count=2,
                              last_progress_at=now - timedelta(days=number % 10), blocker=blockers[number % len(blockers)],
                              next_step=f"call back about the offer {number}", next_step_at=due, **common))
    for number in range(team_leads):  # as many closed, for the search to read through
        at = now - timedelta(days=30 + number % 300)
        leads.append(Lead(stage=Stage.PURCHASED if number % 3 else Stage.NOT_INTERESTED, email=f"old{number}@past{number % 300}.example",
                          email_key=f"old{number}@past{number % 300}.example", first_name=f"Old{number}", company=f"Past {number % 300}",
                          source_slug="website", owner_kind=OwnerKind.REP, owner_rep_id=reps[number % len(reps)], owner_team_id=team.pk,
                          received_at=at, last_inquiry_at=at, updated_at=at, closed_at=at + timedelta(days=9)))
    for number in range(50):
        at = now - timedelta(minutes=number)
        leads.append(Lead(stage=Stage.QUEUED, email=f"waiting{number}@queue.example", email_key=f"waiting{number}@queue.example",
                          first_name=f"Waiting{number}", source_slug="website", owner_kind=OwnerKind.TEAM, owner_team_id=team.pk,
                          received_at=at, last_inquiry_at=at, updated_at=at, score=70))
    with transaction.atomic():
        Lead.objects.bulk_create(leads, batch_size=1000)
        Inquiry.objects.bulk_create([Inquiry(lead_id=lead.pk, received_at=lead.received_at, source_slug="website",
                                             message=f"We would like a demo for {lead.company or 'our team'} this week, and pricing.")
                                     for lead in leads], batch_size=1000)
        Handoff.objects.bulk_create([Handoff(lead_id=lead.pk, at=lead.received_at, from_kind="", to_kind=lead.owner_kind,
                                             to_team_id=team.pk, to_rep_id=lead.owner_rep_id, reason=Handoff.Reason.ROUTED,
                                             note="routed in the benchmark") for lead in leads], batch_size=1000)
        deadlines, activities = [], []
        for number, lead in enumerate(leads[:len(owners)]):
            untouched = lead.stage == Stage.ASSIGNED
            kind = Clock.FIRST_RESPONSE if untouched else Clock.PROGRESS
            breach = now + (timedelta(minutes=5 - number % 10) if untouched else timedelta(days=7 - number % 9))
            breached = breach <= now and number % 10 == 7  # a tenth of the untouched ones ran out two minutes ago
            deadlines.append(Deadline(lead_id=lead.pk, rep_id=lead.owner_rep_id, team_id=team.pk, kind=kind, started_at=lead.received_at,
                                      breach_at=breach, status=Deadline.Status.BREACHED if breached else Deadline.Status.PENDING,
                                      breached_at=breach if breached else None, due_at=None if breached else breach, steps=[], terms={}))
            if not untouched:
                activities += [Activity(lead_id=lead.pk, by_user_id=lead.owner_rep_id, at=lead.received_at + timedelta(minutes=3 + n),
                                        kind=Activity.Kind.CALL, result=Activity.Result.NO_ANSWER if n else Activity.Result.CONNECTED,
                                        note="left a message") for n in range(2)]
        Deadline.objects.bulk_create(deadlines, batch_size=1000)
        busy = next(lead for lead in leads if lead.owner_rep_id == measured and lead.stage == Stage.IN_PROGRESS)
        activities += [Activity(lead_id=busy.pk, by_user_id=measured, at=busy.received_at + timedelta(hours=n), kind=Activity.Kind.CALL,
                                result=Activity.Result.NO_ANSWER, note=f"attempt {n}") for n in range(30)]
        Activity.objects.bulk_create(activities, batch_size=1000)
    return {"rep": User.objects.get(pk=measured), "manager": User.objects.get(email="boss@bench.example"), "lead": busy.pk,
            "open": Lead.objects.filter(owner_team=team, stage__in=(Stage.ASSIGNED, Stage.IN_PROGRESS)).count(),
            "rep_open": Lead.objects.filter(owner_rep_id=measured, stage__in=(Stage.ASSIGNED, Stage.IN_PROGRESS)).count()}


def measure(pages: dict[str, Callable[[], Any]], requests: int, rounds: int) -> dict[str, tuple[list[float], list[dict[str, str]]]]:
    """For each page, each request's time in ms (sorted) and the SQL the last one ran. The pages take turns, `rounds`
    times `requests / rounds` requests each, so a slow minute of the machine falls on every page alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times: dict[str, list[float]] = {name: [] for name in pages}
    for get in pages.values():
        for _ in range(10):
            get()
    rounds = min(rounds, requests)
    for turn in range(rounds):
        for name, get in pages.items():
            for _ in range(requests // rounds + (1 if turn < requests % rounds else 0)):
                started = time.perf_counter()
                answer = get()
                times[name].append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    raise BenchError(f"{name} answered {answer.status_code}")
    measured = {}
    for name, get in pages.items():
        with CaptureQueriesContext(connection) as queries:
            get()
        measured[name] = (sorted(times[name]), list(queries.captured_queries))
    return measured


def floor(queries: list[dict[str, str]], requests: int) -> list[float]:
    """The same statements through the bare cursor, all their rows fetched: each round's time in ms (sorted)."""
    from django.db import connection

    statements = [query["sql"] for query in queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    times = []
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the driver's own cursor: no Django wrapper
        for _ in range(10 + requests):
            started = time.perf_counter()
            for sql in statements:
                raw.execute(sql)
                if raw.description is not None:
                    raw.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return sorted(times[10:])


def show_slowest(queries: list[dict[str, str]]) -> None:
    """Each statement's own time through the bare cursor, slowest first (--slowest)."""
    from django.db import connection

    with connection.cursor() as cursor:
        timed = []
        for query in queries:
            started = time.perf_counter()
            for _ in range(5):
                cursor.cursor.execute(query["sql"])
                if cursor.cursor.description is not None:
                    cursor.cursor.fetchall()
            timed.append(((time.perf_counter() - started) * 200, query["sql"]))
    for ms, sql in sorted(timed, reverse=True)[:4]:
        console.print(f"  {ms:7.2f} ms  {sql[:400]}")


def profile(pages: dict[str, Callable[[], Any]], which: str, requests: int) -> None:
    """The functions the pages whose name contains `which` spend their time in, most first (--profile)."""
    import cProfile
    import pstats

    for name, get in pages.items():
        if which.lower() not in name.lower():
            continue
        for _ in range(10):
            get()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            get()
        profiler.disable()
        console.print(f"[bold]{name}[/]: {requests} requests")
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats("leadbaton|template/(loader|backends|response)|core/handlers/base", 40)


def run(args: argparse.Namespace) -> bool:
    import django

    django.setup()
    from django.test import Client  # without the test environment: templates render as in the server, not instrumented
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per sign-in otherwise
    console.print(f"writing {args.team_leads:,} open leads ({args.rep_leads} on the measured rep), as many closed, 50 queued …")
    world = populate(team_leads=args.team_leads, rep_leads=args.rep_leads)
    if args.db == "postgres":  # what autovacuum does to a table that grew this much; without it the plans are for empty tables
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    rep, manager = Client(), Client()
    rep.force_login(world["rep"])
    manager.force_login(world["manager"])
    pages = {
        "floor: a signed-in form, no lead read": lambda: rep.get("/account/password/"),
        "inbox (rep)": lambda: rep.get("/"),
        "inbox, overdue view": lambda: rep.get("/?show=overdue"),
        "lead page (30 touches)": lambda: rep.get(f"/leads/{world['lead']}/"),
        "team board (manager)": lambda: manager.get("/teams/sales/"),
        "board: a rep's overdue leads": lambda: manager.get(f"/teams/sales/?rep={world['rep'].pk}&show=overdue"),
        "board: search 'company 12'": lambda: manager.get("/teams/sales/?q=company+12"),
    }
    table = Table(title=f"pages, {args.db}: {world['open']:,} open leads on the team, {world['rep_open']} on the rep; "
                        f"{args.requests} requests each, in ms")
    for column in ("page", "queries", "p50", "p95", "p99", "SQL alone p50", "SQL alone p95", "target p95"):
        table.add_column(column, justify="left" if column == "page" else "right")
    met = True
    if args.profile:
        profile(pages, args.profile, args.requests)
    for name, (times, queries) in measure(pages, args.requests, args.rounds).items():
        bare = floor(queries, args.requests)
        if args.slowest:
            show_slowest(queries)
        ok = quantile(times, 0.95) <= TARGET_MS
        met = met and (ok or name.startswith("floor"))
        table.add_row(name, str(len(queries)), f"{quantile(times, 0.5):.1f}", f"{quantile(times, 0.95):.1f}" + ("" if ok else " FAIL"),
                      f"{quantile(times, 0.99):.1f}", f"{quantile(bare, 0.5):.1f}", f"{quantile(bare, 0.95):.1f}", f"<= {TARGET_MS:.0f}")
    console.print(table)
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--team-leads", type=int, default=5000, help="open leads on the team (default 5000)")
    parser.add_argument("--rep-leads", type=int, default=300, help="of them, on the measured rep (default 300)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--rounds", type=int, default=4, help="the pages take turns this many times (default 4)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="server for --db postgres")
    parser.add_argument("--slowest", action="store_true", help="print each page's slowest statements")
    parser.add_argument("--profile", metavar="PAGE", help="before measuring, profile the pages whose name contains PAGE")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and, on PostgreSQL, the database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, lambda number, frame: sys.exit(128 + number))
    if not 1 <= args.rep_leads <= args.team_leads or args.requests < 1 or args.rounds < 1:
        parser.error("--rep-leads must be 1 to --team-leads, and --requests and --rounds at least 1")

    data_dir = Path(tempfile.mkdtemp(prefix="lb_bench_pages_"))
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL" and not name.startswith("LEADBATON_")}
    env.update(LEADBATON_DATA_DIR=str(data_dir), LEADBATON_ENV_FILE="/dev/null", DJANGO_SETTINGS_MODULE="leadbaton.settings",
               LEADBATON_ALLOWED_HOSTS="testserver")  # the test client's host
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
