#!/usr/bin/env python3
"""Set up and run every check LeadBaton has: `python3 test.py`.

1. Creates .venv and installs the pinned dependencies (again only when they change), and Debian's
   Chromium for the browser tests when it is missing.
2. Lints (ruff), type-checks (mypy) and checks the import layers (import-linter).
3. Runs the test suite on SQLite, then again on PostgreSQL in a fresh database.

PostgreSQL comes from DATABASE_URL_FOR_TESTS (default postgres://postgres@127.0.0.1:5432);
each run uses a database name of its own and drops only what it created.
Extra arguments go to pytest, e.g. `python3 test.py -k intake`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bootstrap import ensure_environment, venv_bin

ROOT = Path(__file__).resolve().parent
POSTGRES = os.environ.get("DATABASE_URL_FOR_TESTS", "postgres://postgres@127.0.0.1:5432").rstrip("/")


def step(title: str, command: list[str], env: dict[str, str] | None = None) -> None:
    print(f"\n== {title}", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env)
    if result.returncode != 0:
        print(f"\n== FAILED: {title} (exit {result.returncode})", flush=True)
        sys.exit(result.returncode)
    print(f"== ok: {title} ({time.monotonic() - started:.0f} s)", flush=True)


def postgres_ready() -> bool:
    probe = [str(venv_bin("python")), "-c", f"import psycopg; psycopg.connect({POSTGRES + '/postgres'!r}, connect_timeout=3).close()"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def postgres_start() -> bool:
    """Start the machine's PostgreSQL cluster (Debian's pg_ctlcluster), when there is one to start."""
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").is_dir() else []
    if not versions or not shutil.which("pg_ctlcluster"):
        return False
    print(f"\n== PostgreSQL is not answering; starting cluster {versions[-1].name}/main", flush=True)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"], check=False)
    for _ in range(30):
        if postgres_ready():
            return True
        time.sleep(1)
    return False


def chromium_ensure() -> None:
    """The browser tests drive Debian's Chromium (Playwright's own browser download is not used)."""
    if shutil.which("chromium"):
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        print("\n== FAILED: the browser tests need Chromium; install it (Debian: apt-get install -y chromium) and run again.")
        sys.exit(1)
    print("\n== Installing Chromium for the browser tests (apt-get install -y chromium)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([apt, "install", "-y", "-q", "chromium"], env=env, check=False).returncode != 0:
        subprocess.run([apt, "update", "-q"], env=env, check=False)
        subprocess.run([apt, "install", "-y", "-q", "chromium"], env=env, check=True)


def main() -> None:
    ensure_environment(dev=True)
    chromium_ensure()
    pytest_args = sys.argv[1:]
    step("ruff", [str(venv_bin("ruff")), "check", "."])
    step("mypy", [str(venv_bin("mypy"))])
    step("import layers", [str(venv_bin("lint-imports"))])
    with tempfile.TemporaryDirectory(prefix="leadbaton-test-") as data_dir:
        # The tests set what they need; a developer's .env must not leak into them.
        env = {**os.environ, "LEADBATON_DATA_DIR": data_dir, "LEADBATON_ENV_FILE": os.devnull, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("DATABASE_URL", None)
        step("tests on SQLite", [str(venv_bin("pytest")), *pytest_args], env)
        if not postgres_ready() and not postgres_start():
            print(f"\n== FAILED: PostgreSQL is not answering at {POSTGRES}. Start it (see docs/operations.md) and run again.")
            sys.exit(1)
        name = f"leadbaton_{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
        # pytest-django creates test_<name> and drops it when the run ends.
        env = {**env, "DATABASE_URL": f"{POSTGRES}/{name}", "DATABASE_URL_FOR_TESTS": POSTGRES}
        step("tests on PostgreSQL", [str(venv_bin("pytest")), "--create-db", *pytest_args], env)
    print("\nAll checks passed.")


if __name__ == "__main__":
    main()
