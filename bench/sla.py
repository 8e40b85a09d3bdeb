"""Service-level clocks benchmark: how late the worker takes a step, and how fast it catches up after an outage.

    .venv/bin/python bench/sla.py [--db sqlite|postgres] [--deadlines 10000] [--workers 1 2]

Makes a fresh database (a temporary SQLite file, or a fresh PostgreSQL database that is dropped at
the end), applies an organisation of reps working around the clock, and writes leads owned by them
with one pending first-response clock each, straight into the database. Each clock's plan is the
real one (sla.services.clock_plan); its reminder (half time) is the step measured, its breach is
far beyond the run. Then, for each worker count:

- on time: the reminders fall due evenly across `--spread` seconds while `leadbaton worker`
  processes run; lag = EscalationStep.at - planned_at (target p99 <= 2 s)
- catch-up: every reminder is due in the past when the workers start (an outage); the time from
  starting them to the last step taken, and steps per second

The reminders' emails go to a real SMTP server in this process, sent by the same workers.
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
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
LEADBATON = Path(sys.executable).parent / "leadbaton"
HOST = "127.0.0.1"
REPS = 20
WINDOW_MINUTES = 30  # each clock's first-response window: the reminder at half time, the breach 15 min later

console = Console(width=None if sys.stdout.isatty() else 150)


class BenchError(Exception):
    pass


def leadbaton(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(LEADBATON), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"`leadbaton {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def quantile(values: Sequence[float], share: float) -> float:
    """Nearest rank, of sorted values."""
    return values[min(len(values) - 1, max(0, math.ceil(share * len(values)) - 1))]


class MailCounter:
    """An aiosmtpd handler that counts the messages it accepts."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 Message accepted for delivery"


def organisation(data_dir: Path) -> Path:
    reps = "".join(
        f"  - {{email: rep{number}@bench.example, name: Rep {number}, team: sales, hours: 'mon-sun 00:00-24:00', time_zone: UTC}}\n"
        for number in range(REPS)
    )
    org = data_dir / "org.yaml"
    org.write_text(
        "teams:\n  - {slug: sales, name: Sales, time_zone: UTC, manager: boss@bench.example, default: true}\n"
        "users:\n  - {email: boss@bench.example, name: Boss, role: manager}\n"
        f"reps:\n{reps}"
        f"sla: {{first_response_minutes: {WINDOW_MINUTES}, business_hours: false, remind_before_minutes: 0}}\n"
    )
    return org


class Clocks:
    """The bench's view of the database, through LeadBaton's own models (django set up in this process)."""

    def __init__(self) -> None:
        import django

        django.setup()
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # the SMTP server in this process: one line per email otherwise
        from leadbaton.accounts.models import RepProfile

        self.reps = list(RepProfile.objects.values_list("user_id", "team_id"))
        if not self.reps:
            raise BenchError("the organisation has no reps")

    def reset(self) -> None:
        """Forget the last phase's clocks and their steps (its leads, already reminded, stay and wait for nothing)."""
        from django.db import connection

        from leadbaton.sla.models import Deadline, EscalationStep

        with connection.cursor() as cursor:
            for model in (EscalationStep, Deadline):
                cursor.execute(f"DELETE FROM {model._meta.db_table}")

    def write(self, count: int, *, first_due: datetime, spread: float) -> None:
        """`count` leads owned by reps, each with a pending first-response clock whose reminder falls due
        between `first_due` and `first_due + spread` seconds, evenly."""
        from django.db import transaction

        from leadbaton.leads.models import Lead, OwnerKind, Stage
        from leadbaton.sla.models import Clock, Deadline
        from leadbaton.sla.services import clock_plan, policy_for

        now = datetime.now(UTC)
        tag = secrets.token_hex(3)
        leads = [
            Lead(email=f"buyer{number}-{tag}@bench.example", email_key=f"buyer{number}-{tag}@bench.example", source_slug="bench",
                 stage=Stage.ASSIGNED, owner_kind=OwnerKind.REP, owner_rep_id=self.reps[number % len(self.reps)][0],
                 owner_team_id=self.reps[number % len(self.reps)][1], received_at=now, last_inquiry_at=now, updated_at=now)
            for number in range(count)
        ]
        with transaction.atomic():
            Lead.objects.bulk_create(leads, batch_size=500)
        policy = policy_for(None)
        half = timedelta(minutes=WINDOW_MINUTES) / 2
        rows = []
        for number, lead in enumerate(leads):
            reminder = first_due + timedelta(seconds=spread * number / max(count - 1, 1))
            plan = clock_plan(Clock.FIRST_RESPONSE, policy=policy, start=reminder - half, working_time=None)
            assert plan is not None
            rep_id, team_id = self.reps[number % len(self.reps)]
            rows.append(Deadline(lead_id=lead.pk, rep_id=rep_id, team_id=team_id, kind=Clock.FIRST_RESPONSE,
                                 started_at=reminder - half, breach_at=plan.breach_at, terms=plan.terms, steps=plan.steps,
                                 due_at=datetime.fromisoformat(plan.steps[0]["at"])))
        with transaction.atomic():
            Deadline.objects.bulk_create(rows, batch_size=500)

    def taken(self) -> int:
        from leadbaton.sla.models import EscalationStep

        return EscalationStep.objects.count()

    def lags(self) -> tuple[list[float], datetime, datetime]:
        """Each step's lag in seconds (sorted), the first planned time and the last time a step was taken."""
        from leadbaton.sla.models import EscalationStep

        rows = list(EscalationStep.objects.values_list("planned_at", "at"))
        lags = sorted((at - planned).total_seconds() for planned, at in rows)
        return lags, min(planned for planned, _ in rows), max(at for _, at in rows)

    def unsent(self) -> int:
        from leadbaton.notify.models import OutboxMessage

        return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()

    def steps_at(self) -> list[datetime]:
        from leadbaton.sla.models import EscalationStep

        return sorted(EscalationStep.objects.values_list("at", flat=True))

    def close(self) -> None:
        from django.db import connections

        connections.close_all()


class Workers:
    """`count` `leadbaton worker` processes, each logging to a file; they get SIGTERM if this process dies."""

    def __init__(self, env: dict[str, str], count: int, log_dir: Path) -> None:
        launcher = "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); os.execv(sys.argv[1], sys.argv[1:])"
        self.processes = []
        self.logs = [log_dir / f"worker-{time.monotonic_ns()}-{number}.log" for number in range(count)]
        for log in self.logs:
            with log.open("wb") as output:
                self.processes.append(subprocess.Popen([sys.executable, "-c", launcher, str(LEADBATON), "worker"], cwd=ROOT, env=env,
                                                       stdout=output, stderr=subprocess.STDOUT, start_new_session=True))

    def wait_started(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not all("worker started" in log.read_text(errors="replace") for log in self.logs):
            if any(process.poll() is not None for process in self.processes) or time.monotonic() > deadline:
                raise BenchError("a worker did not start:\n" + "\n".join(log.read_text(errors="replace")[-2000:] for log in self.logs))
            time.sleep(0.05)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for_steps(clocks: Clocks, count: int, workers: Workers, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while clocks.taken() < count:
        if time.monotonic() > deadline:
            raise BenchError(f"only {clocks.taken()} of {count} steps taken within {timeout:.0f} s:\n"
                             + "\n".join(log.read_text(errors="replace")[-2000:] for log in workers.logs))
        if any(process.poll() is not None for process in workers.processes):
            raise BenchError("a worker exited:\n" + "\n".join(log.read_text(errors="replace")[-2000:] for log in workers.logs))
        time.sleep(0.2)
    deadline = time.monotonic() + 300
    while clocks.unsent() and time.monotonic() < deadline:  # the reminders' emails, before the next phase forgets them
        time.sleep(0.2)


def on_time(clocks: Clocks, env: dict[str, str], args: argparse.Namespace, count: int, data_dir: Path) -> dict[str, float]:
    clocks.reset()
    workers = Workers(env, count, data_dir)
    try:
        workers.wait_started()
        clocks.write(args.deadlines, first_due=datetime.now(UTC) + timedelta(seconds=args.lead_in), spread=args.spread)
        wait_for_steps(clocks, args.deadlines, workers, timeout=args.lead_in + args.spread + 600)
    finally:
        workers.stop()
    lags, first_planned, last_at = clocks.lags()
    return {
        "lag p50 (s)": quantile(lags, 0.50), "lag p99 (s)": quantile(lags, 0.99), "lag max (s)": lags[-1],
        "on-time steps/s": len(lags) / max((last_at - first_planned).total_seconds(), 1e-6),
    }


def catch_up(clocks: Clocks, env: dict[str, str], args: argparse.Namespace, count: int, data_dir: Path) -> dict[str, float]:
    clocks.reset()
    clocks.write(args.deadlines, first_due=datetime.now(UTC) - timedelta(seconds=args.spread + 5), spread=args.spread)
    started = datetime.now(UTC)
    workers = Workers(env, count, data_dir)
    try:
        wait_for_steps(clocks, args.deadlines, workers, timeout=1800)
    finally:
        workers.stop()
    steps = clocks.steps_at()
    return {
        "catch-up (s)": (steps[-1] - started).total_seconds(),
        "catch-up steps/s": len(steps) / max((steps[-1] - steps[0]).total_seconds(), 1e-6),
    }


def report(args: argparse.Namespace, results: dict[int, dict[str, float]], emails: int) -> bool:
    table = Table(title=f"service-level steps, {args.db}, {args.deadlines:,} clocks due across {args.spread:.0f} s")
    table.add_column("measure")
    for count in results:
        table.add_column(f"{count} worker{'s' if count > 1 else ''}", justify="right")
    table.add_column("target")
    met = True
    rows = (("lag p50 (s)", "{:.2f}", ""), ("lag p99 (s)", "{:.2f}", "<= 2 s"), ("lag max (s)", "{:.2f}", ""),
            ("on-time steps/s", "{:.0f}", "the due rate"), ("catch-up (s)", "{:.1f}", ""), ("catch-up steps/s", "{:.0f}", ""))
    for name, shape, target in rows:
        cells = [shape.format(figures[name]) for figures in results.values()]
        if name == "lag p99 (s)":
            passed = [figures[name] <= 2.0 for figures in results.values()]
            met = all(passed)
            cells = [cell + ("" if ok else " FAIL") for cell, ok in zip(cells, passed, strict=True)]
        table.add_row(name, *cells, target)
    console.print(table)
    console.print(f"reminder emails received by the bench's SMTP server: {emails:,} of {2 * len(results) * args.deadlines:,} "
                  "(the workers send them beside the steps)")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--deadlines", type=int, default=10_000, help="pending clocks per phase (default 10000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], metavar="N",
                        help="worker process counts to measure, one after the other (default: 1 2)")
    parser.add_argument("--spread", type=float, default=60, metavar="SECONDS", help="the reminders fall due across this long (default 60)")
    parser.add_argument("--lead-in", type=float, default=3, metavar="SECONDS", help="from writing the clocks to the first due time (default 3)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="server for --db postgres")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory (worker logs) and, on PostgreSQL, the database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, lambda number, frame: sys.exit(128 + number))
    if args.deadlines < 1 or min(args.workers) < 1:
        parser.error("--deadlines and --workers must be at least 1")

    data_dir = Path(tempfile.mkdtemp(prefix="lb_bench_sla_"))
    passed = ("LEADBATON_WORKER_POLL_MS",)  # worker tuning to try; the rest is the bench's
    env = {name: value for name, value in os.environ.items()
           if name != "DATABASE_URL" and (not name.startswith("LEADBATON_") or name in passed)}
    env.update(LEADBATON_DATA_DIR=str(data_dir), LEADBATON_LOG_LEVEL="INFO", LEADBATON_ENV_FILE="/dev/null",
               DJANGO_SETTINGS_MODULE="leadbaton.settings")
    database = ""
    admin: Any = None
    smtp: Controller | None = None
    clocks: Clocks | None = None
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
        mail = MailCounter()
        smtp = Controller(mail, hostname=HOST, port=free_port())
        smtp.start()
        env.update(LEADBATON_EMAIL_HOST=HOST, LEADBATON_EMAIL_PORT=str(smtp.port))
        os.environ.update(env)  # this process reads and writes the same database through LeadBaton's models
        if args.db == "sqlite":
            os.environ.pop("DATABASE_URL", None)
        clocks = Clocks()

        results: dict[int, dict[str, float]] = {}
        for count in args.workers:
            console.print(f"{count} worker(s): {args.deadlines:,} reminders due across {args.spread:.0f} s …")
            figures = on_time(clocks, env, args, count, data_dir)
            console.print(f"{count} worker(s): {args.deadlines:,} reminders missed during an outage …")
            figures.update(catch_up(clocks, env, args, count, data_dir))
            results[count] = figures
        met = report(args, results, mail.count)
        return 1 if args.strict and not met else 0
    except BenchError as error:
        console.print(f"[bold red]bench failed:[/] {error}")
        return 2
    finally:
        if clocks is not None:
            clocks.close()
        if smtp is not None:
            smtp.stop()
        if admin is not None:
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
