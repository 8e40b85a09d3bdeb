"""Fixtures that run LeadBaton as a user would: `leadbaton migrate`, `leadbaton sources add`, `leadbaton serve`.

Every test gets a deployment of its own: a fresh data directory and, on the
PostgreSQL pass, a fresh database `lb_e2e_<hex>` that is dropped afterwards.
None of this touches pytest-django's test database; these tests never ask for `db`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from psycopg import sql

from . import Reply, http_request, post_lead

LEADBATON = Path(sys.executable).with_name("leadbaton")
POSTGRES = os.environ.get("DATABASE_URL_FOR_TESTS", "postgres://postgres@127.0.0.1:5432").rstrip("/")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0

# Servers started and not yet torn down; a failing test's report shows their output.
RUNNING: list[Server] = []


def on_postgres() -> bool:
    """Is this the PostgreSQL pass of the suite? Reads the settings, never opens a connection."""
    from django.conf import settings

    return "postgresql" in str(settings.DATABASES["default"]["ENGINE"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One `leadbaton serve` process (the gunicorn master) and its output files."""

    def __init__(self, deployment: Deployment, env: dict[str, str]) -> None:
        self.deployment = deployment
        self.key = deployment.key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = deployment.data_dir / f"serve-{self.port}.out"
        self.stderr_path = deployment.data_dir / f"serve-{self.port}.err"
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [str(LEADBATON), "serve", "--port", str(self.port)],
                env=env,
                cwd=deployment.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # its own process group: gunicorn's workers go with it if it must be killed
            )
        RUNNING.append(self)

    def output(self) -> str:
        """What the server printed so far: stdout, then stderr (gunicorn's and Django's logs)."""
        parts = []
        for name, path in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"--- leadbaton serve --port {self.port}: {name} ---\n{text}")
        return "\n".join(parts)

    def wait_until_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"`leadbaton serve` exited with {self.process.returncode} before /healthz answered\n{self.output()}")
            try:
                if http_request(self.url, "GET", "/healthz", timeout=2).status == 200 and self._all_booted():
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"`leadbaton serve` did not answer GET /healthz with 200 within {timeout:.0f} s\n{self.output()}")
            time.sleep(0.1)

    def _all_booted(self) -> bool:
        """Every gunicorn worker process is up. A SIGTERM that reaches a worker between its fork and the
        installation of its own signal handlers is lost (gunicorn then kills it after its graceful
        timeout), so a test that stops the server must not do so while workers are still booting."""
        text = self.output()
        banner = re.search(r"\((\d+) process", text)
        if banner is None:
            return False
        expected = int(banner.group(1))
        if ", with a worker)" in text:
            return text.count("worker started") >= expected  # logged after the process's signal handlers are set
        return text.count("Booting worker with pid") >= expected

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, then wait up to `timeout`. The exit code, or None if it had to be killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group this fixture started, while its leader lives
                self.process.wait()
                return None
        return self.process.returncode

    # HTTP, as a source or a browser would talk to it.

    def get(self, path: str) -> Reply:
        return http_request(self.url, "GET", path)

    def post_lead(self, payload: Any = None, *, raw: bytes | None = None, idempotency_key: str | None = None, key: str | None = "") -> Reply:
        """POST a lead with this deployment's key (key=None sends no Authorization header)."""
        return post_lead(self.url, self.key if key == "" else key, payload, raw=raw, idempotency_key=idempotency_key)


class Deployment:
    """A data directory (and on PostgreSQL a database) prepared with the CLI, ready to be served."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.database_url = database_url  # "" on the SQLite pass
        env = {name: value for name, value in os.environ.items() if not name.startswith("LEADBATON_") and name != "DATABASE_URL"}
        env.update(LEADBATON_DATA_DIR=str(data_dir), LEADBATON_HOST="127.0.0.1", PYTHONUNBUFFERED="1")
        if database_url:
            env["DATABASE_URL"] = database_url
        self.env = env
        self.servers: list[Server] = []
        self.leadbaton("migrate", "--no-input")
        added = self.leadbaton("sources", "add", "e2e", "--name", "E2E", "--default-region", "US")
        self.key = added.strip().splitlines()[-1].strip()

    def leadbaton(self, *args: str) -> str:
        """Run `leadbaton ARGS` to completion; its stdout."""
        done = subprocess.run(
            [str(LEADBATON), *args], env=self.env, cwd=self.data_dir, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"`leadbaton {' '.join(args)}` exited with {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, **extra_env: str) -> Server:
        """`leadbaton serve` on a free port; returns once GET /healthz answers 200."""
        server = Server(self, {**self.env, **extra_env})
        self.servers.append(server)
        server.wait_until_healthy()
        return server

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Rows of a query run directly against this deployment's database (psycopg or sqlite3)."""
        if self.database_url:
            with psycopg.connect(self.database_url, autocommit=True) as connection:
                cursor = connection.execute(query)
                return [tuple(row) for row in cursor.fetchall()] if cursor.description is not None else []
        connection = sqlite3.connect(self.data_dir / "leadbaton.sqlite3", timeout=20)
        try:
            rows = connection.execute(query).fetchall()
            connection.commit()  # a change is kept, as with autocommit on PostgreSQL
            return rows
        finally:
            connection.close()

    def stop_all(self) -> list[Server]:
        """Stop every server still running; the ones that had to be killed."""
        killed = [server for server in self.servers if server.stop() is None]
        for server in self.servers:
            if server in RUNNING:
                RUNNING.remove(server)
        return killed


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.failed:
        for server in RUNNING:
            report.sections.append((f"leadbaton serve on port {server.port}", server.output()))
    return report


@pytest.fixture
def e2e_database_url() -> Iterator[str]:
    """On the PostgreSQL pass, a fresh database for the server, dropped afterwards; "" on SQLite."""
    if not on_postgres():
        yield ""
        return
    name = f"lb_e2e_{uuid.uuid4().hex}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def deployment(tmp_path: Path, e2e_database_url: str) -> Iterator[Deployment]:
    """Migrated, with a source `e2e` and its key; every server started from it is stopped afterwards."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    prepared = Deployment(data_dir, e2e_database_url)
    yield prepared
    killed = prepared.stop_all()
    if killed:
        output = "\n".join(server.output() for server in killed)
        pytest.fail(f"`leadbaton serve` did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM and was killed\n{output}")


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra environment for `server`; override it in a test module."""
    return {}


@pytest.fixture
def server(deployment: Deployment, server_env: dict[str, str]) -> Server:
    """`leadbaton serve` running on a fresh deployment, answering GET /healthz."""
    return deployment.start(**server_env)


@pytest.fixture
def sqlite_only() -> None:
    """Skips the test on the PostgreSQL pass (ask for it before `server`, so nothing is started)."""
    if on_postgres():
        pytest.skip("runs the server on SQLite; this is the PostgreSQL pass")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (Playwright's own browser download is not used); one per test module."""
    executable = shutil.which("chromium")
    assert executable, "the browser tests need Debian's Chromium (python3 test.py installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


PASSWORD = "correct horse battery staple"
ANA_ORG = """\
teams:
  - {slug: sales, name: Sales, time_zone: UTC, default: true}
reps:
  - {email: ana@lumen.example, name: Ana Rep, team: sales, hours: 'mon-sun 00:00-24:00', time_zone: UTC}
"""


@pytest.fixture
def ana(deployment: Deployment) -> str:
    """A rep who is always available, the only one of the default team, with PASSWORD; her email."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    org = deployment.data_dir / "org.yaml"
    org.write_text(ANA_ORG)
    deployment.leadbaton("config", "apply", str(org))
    hasher = PBKDF2PasswordHasher()  # the server's own hasher, whatever the tests' settings use
    deployment.sql(f"UPDATE accounts_user SET password = '{hasher.encode(PASSWORD, hasher.salt())}' WHERE email = 'ana@lumen.example'")
    return "ana@lumen.example"


TEAM_ORG = """\
teams:
  - {slug: sales, name: Sales, time_zone: UTC, default: true, manager: mia@lumen.example}
users:
  - {email: mia@lumen.example, name: Mia Manager, role: manager}
  - {email: mark@lumen.example, name: Mark Marketer, role: marketing}
reps:
  - {email: ana@lumen.example, name: Ana Rep, team: sales, hours: 'mon-sun 00:00-24:00', time_zone: UTC}
  - {email: bo@lumen.example, name: Bo Rep, team: sales, hours: 'mon-sun 00:00-24:00', time_zone: UTC}
"""


@pytest.fixture
def team(deployment: Deployment) -> dict[str, str]:
    """Mia manages Sales; Ana and Bo sell for it, always available (round robin: Ana first); Mark is marketing.
    Everyone has PASSWORD; their emails by who they are."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    org = deployment.data_dir / "org.yaml"
    org.write_text(TEAM_ORG)
    deployment.leadbaton("config", "apply", str(org))
    hasher = PBKDF2PasswordHasher()
    deployment.sql(f"UPDATE accounts_user SET password = '{hasher.encode(PASSWORD, hasher.salt())}'")
    return {"manager": "mia@lumen.example", "ana": "ana@lumen.example", "bo": "bo@lumen.example", "marketing": "mark@lumen.example"}


def sign_in(page: Page, server: Server, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
