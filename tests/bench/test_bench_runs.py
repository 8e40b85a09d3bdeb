"""The benchmarks still run: each on a load small enough for the test run, against the suite's database.

bench/ is not part of the test run's figures (they need a quiet machine and minutes), but a benchmark
that no longer starts (a renamed function it imports, say) is found here, not on the day of a release.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("DATABASE_URL_FOR_TESTS", "postgres://postgres@127.0.0.1:5432").rstrip("/")


def on_postgres() -> bool:
    """Is this the PostgreSQL pass of the suite? The bench then runs against the same server."""
    return "postgresql" in str(settings.DATABASES["default"]["ENGINE"])


def run_bench(*arguments: str) -> str:
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL" and not name.startswith("LEADBATON_")}
    database = ["--db", "postgres", "--postgres", POSTGRES] if on_postgres() else ["--db", "sqlite"]
    done = subprocess.run([sys.executable, *arguments, *database], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


def test_the_service_level_bench_takes_every_step_and_prints_its_figures():
    output = run_bench("bench/sla.py", "--deadlines", "40", "--spread", "2", "--lead-in", "2", "--workers", "1")
    lag = re.search(r"lag p99 \(s\)\s*│\s*([\d.]+)", output)
    assert lag is not None, output
    assert float(lag.group(1)) < 30, output
    assert "reminder emails received by the bench's SMTP server: 80 of 80" in output, output


def test_the_pages_bench_asks_for_every_page_and_prints_its_figures():
    output = run_bench("bench/pages.py", "--team-leads", "200", "--rep-leads", "40", "--requests", "3")
    for page in ("inbox (rep)", "lead page (30 touches)", "team board (manager)", "board: search 'company 12'"):
        assert re.search(rf"{re.escape(page)}\s*│\s*\d+\s*│\s*[\d.]+", output), (page, output)


def test_the_reports_bench_writes_a_ledger_that_balances_and_prints_its_figures():
    output = run_bench("bench/reports.py", "--leads", "3000", "--repeat", "1")
    for period in ("week 2026-W47", "quarter 2026-08-24..2026-11-22"):
        assert re.search(rf"reconciliation, every team \(200 reps\)\s*│\s*{re.escape(period)}\s*│\s*200\s*│\s*[\d.]+", output), (period, output)
    assert "open at start" in output, output
