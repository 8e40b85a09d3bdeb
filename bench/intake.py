"""Intake benchmark: the real server, realistic leads, and three floors measured in the same run.

    .venv/bin/python bench/intake.py [--db sqlite|postgres] [--leads 2000] [--rounds 3]

Starts `leadbaton serve` on a fresh database (a temporary SQLite file, or a
fresh PostgreSQL database that is dropped at the end), then measures with a
load client in this process (threads, one persistent HTTP connection each):

- the framework floor: POST /api/v1/_bench/noop (Django, ninja, a JSON answer)
- the ORM floor: POST /api/v1/_bench/orm (2 indexed SELECTs + 4 INSERTs via the ORM)
- intake: POST /api/v1/leads with realistic leads, 10% of them repeat an earlier person
- the storage floor: the same rows through the bare driver (sqlite3 / psycopg),
  one connection in this process, into a copy of the freshly set-up database

Each figure is the median of its rounds. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.controller import Controller
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
LEADBATON = Path(sys.executable).parent / "leadbaton"
ORG_FILE = ROOT / "examples" / "org.yaml"
HOST = "127.0.0.1"
OPEN_STAGES = ("nurture", "queued", "assigned", "in_progress")

console = Console(width=None if sys.stdout.isatty() else 150)
TICK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The run cannot go on; the message says why."""


# --------------------------------------------------------------------------- realistic leads

FIRST = (
    "Dana", "Liam", "Sofia", "Mateo", "Aisha", "Noah", "Emma", "Lukas", "Chloé", "Hiroshi", "Priya", "Oliver", "Zoë",
    "Jonas", "Fatima", "Ethan", "Ingrid", "Rafael", "Mei", "Tomasz", "Grace", "Kwame", "Elena", "Samuel", "Nora",
    "Arjun", "Camille", "Henrik", "Lucía", "Daniel", "Yasmin", "Pieter", "Charlotte", "Marco", "Aoife", "Björn",
)
LAST = (
    "Whitfield", "Okafor", "García", "Schneider", "Nakamura", "Patel", "O'Brien", "Johansson", "Dubois", "Kowalski",
    "Rossi", "van der Berg", "Müller", "Smith", "Chen", "Haddad", "Larsen", "Fernandes", "Murphy", "Novak", "Andersson",
    "Ibrahim", "Kim", "Costa", "Fischer", "Lindqvist", "Moreau", "Brown", "Singh", "Herrera", "Walsh", "Yamamoto",
)
COMPANIES = (
    ("Northwind Traders", "northwind-traders.com"), ("Brightpath Logistics", "brightpath-logistics.com"),
    ("Helios Renewables", "helios-renewables.de"), ("Bluefin Analytics", "bluefin-analytics.io"),
    ("Cedar & Stone Architects", "cedarstone.co.uk"), ("Quantia Insurance", "quantia-insurance.com"),
    ("Meridian Health Partners", "meridianhealth.org"), ("Kestrel Robotics", "kestrel-robotics.com"),
    ("Alpenglow Hotels", "alpenglow-hotels.ch"), ("Vantage Retail Group", "vantageretail.com"),
    ("Tidewater Foods", "tidewaterfoods.com"), ("Orbital Payments", "orbitalpay.io"),
    ("Lumen Learning Systems", "lumenlearning.nl"), ("Granite Peak Capital", "granitepeak.com"),
    ("Sakura Components", "sakura-components.jp"), ("Fjord Maritime", "fjordmaritime.no"),
    ("Atlas Field Services", "atlas-field.com.au"), ("Verdant Agritech", "verdant-agri.fr"),
    ("Copperline Telecom", "copperline.ca"), ("Mosaic Media Group", "mosaicmedia.es"),
)
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "gmx.de", "hotmail.co.uk")
TITLES = (
    "Head of Operations", "VP Sales", "IT Manager", "Chief Technology Officer", "Procurement Lead", "Data Engineer",
    "Marketing Director", "Founder & CEO", "Operations Analyst", "Director of Customer Success", "CFO", "Software Architect",
    "Office Manager", "Head of Digital", "Product Manager", "Student", "Consultant", "Supply Chain Manager",
)
# (country as people send it, phone formatter from a serial number)
COUNTRIES: tuple[tuple[str, Callable[[int], str]], ...] = (
    ("US", lambda n: f"+1 (212) {200 + n // 10000 % 800:03d}-{n % 10000:04d}"),
    ("United States", lambda n: f"+1 415 {200 + n // 10000 % 800:03d} {n % 10000:04d}"),
    ("Germany", lambda n: f"+49 30 {10000000 + n:08d}"),
    ("DE", lambda n: f"+49 30 {20000000 + n:08d}"),
    ("United Kingdom", lambda n: f"+44 20 7{n // 10000 % 1000:03d} {n % 10000:04d}"),
    ("UK", lambda n: f"+44 20 8{n // 10000 % 1000:03d} {n % 10000:04d}"),
    ("France", lambda n: f"+33 1 4{n // 1000000 % 10} {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}"),
    ("Netherlands", lambda n: f"+31 20 {1000000 + n:07d}"),
    ("Sweden", lambda n: f"+46 8 {10000000 + n:08d}"),
    ("Australia", lambda n: f"+61 2 9{n // 10000 % 1000:03d} {n % 10000:04d}"),
    ("Canada", lambda n: f"+1 604 {300 + n // 10000 % 600:03d} {n % 10000:04d}"),
    ("Japan", lambda n: ""),
    ("Brazil", lambda n: ""),
    ("India", lambda n: ""),
)
SIZES: tuple[int | str, ...] = (8, 12, "11-50", 45, "51-200", 180, "201-500", 250, "1,000", "1000-5000", "5000+", 12000)
PRODUCTS = ("Analytics Platform", "Data Pipeline", "Enterprise Support", "API Access", "Self-hosted Edition", "Training")
UTM = (
    ("google", "cpc", "brand-search-2026"), ("linkedin", "social", "ops-leaders-q4"), ("newsletter", "email", "november-digest"),
    ("bing", "cpc", "generic-analytics"), ("partner", "referral", "reseller-emea"), ("webinar", "event", "data-ops-live"),
    ("", "", ""),
)
ASKS = (
    "We are evaluating tools to replace our spreadsheets and would like a demo for our team of {size} people.",
    "Could you send pricing for the {product}? We need SSO and an on-premise option.",
    "Our contract with the current vendor ends in March. What does migration look like, and how long does it take?",
    "I saw your talk at the conference. Do you have case studies from {country} companies in our industry?",
    "Please call me back about the {product}; best between 9 and 11 in the morning.",
    "We need an API that our data engineers can script against. Is there a sandbox?",
    "Just researching for a university project, no budget yet.",
)


@dataclass
class Person:
    serial: int
    first: str
    last: str
    email: str
    phone: str
    company: str
    country: str


class Leads:
    """Realistic lead payloads; every person gets a unique email (and phone) from a run-wide serial."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = itertools.count(1)

    def person(self) -> Person:
        rng, serial = self.rng, next(self.serial)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, domain = rng.choice(COMPANIES)
        if rng.random() < 0.2:
            company, domain = "", rng.choice(FREE_MAIL)
        local = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower().replace("é", "e").replace("ë", "e").replace("ü", "u")
                       .replace("í", "i").replace("ö", "o").replace("ø", "o").replace("'", "").replace(" ", ""))
        country, phone_of = rng.choice(COUNTRIES)
        phone = phone_of(serial) if rng.random() < 0.5 else ""
        return Person(serial, first, last, f"{local}{serial}@{domain}", phone, company, country)

    def payload(self, person: Person, *, repeat: bool = False) -> dict[str, Any]:
        rng = self.rng
        product = rng.choice(PRODUCTS)
        size = rng.choice(SIZES)
        source, medium, campaign = rng.choice(UTM)
        body: dict[str, Any] = {
            "email": person.email.title() if repeat and rng.random() < 0.5 else person.email,
            "first_name": person.first,
            "last_name": person.last,
            "company": person.company,
            "title": rng.choice(TITLES),
            "company_size": size,
            "country": person.country,
            "city": rng.choice(("Berlin", "London", "Austin", "Lyon", "Utrecht", "Sydney", "Vancouver", "")),
            "message": " ".join(rng.choice(ASKS).format(size=size, product=product, country=person.country)
                                for _ in range(rng.randint(1, 3))),
            "product_interest": product,
            "consent_marketing": rng.choice((True, True, False, None)),
        }
        if person.phone:
            body["phone"] = person.phone
        if source:
            body.update(utm_source=source, utm_medium=medium, utm_campaign=campaign, campaign=campaign)
        if rng.random() < 0.3:
            body["fields"] = {"page": rng.choice(("/pricing", "/demo", "/contact")), "form": "contact-v3"}
        return body

    def batch(self, count: int, *, repeat_share: float = 0.0) -> list[dict[str, Any]]:
        """`count` payloads; `repeat_share` of them repeat a person sent at least 100 payloads earlier."""
        people: list[Person] = []
        first_repeat = min(100, count)
        repeats = set(self.rng.sample(range(first_repeat, count), min(int(count * repeat_share), count - first_repeat)))
        payloads = []
        for index in range(count):
            if index in repeats:
                payloads.append(self.payload(self.rng.choice(people[: index - 99]), repeat=True))
            else:
                person = self.person()
                people.append(person)
                payloads.append(self.payload(person))
        return payloads


def encoded(payloads: Sequence[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(payload).encode() for payload in payloads]


# --------------------------------------------------------------------------- load client


@dataclass
class Run:
    """One measured phase: latencies in ns, the wall time, the answers."""

    latencies: list[int]
    wall: float
    statuses: Counter[int]
    errors: list[str] = field(default_factory=list)
    answers: list[bytes] = field(default_factory=list)

    def placements(self) -> Counter[str]:
        """How the answered leads were placed: `queued/team`, `nurture/marketing`, …"""
        placed: Counter[str] = Counter()
        for answer in self.answers:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                body = json.loads(answer)
                placed[f"{body['stage']}/{body['owner']['kind']}"] += 1
        return placed

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile in milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1e6

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall


def load(port: int, path: str, bodies: Sequence[bytes], headers: dict[str, str], concurrency: int) -> Run:
    """POST every body once, `concurrency` connections at a time, and time each answer."""
    jobs = iter(range(len(bodies)))  # next() on it is atomic under the GIL
    latencies: list[int] = []
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    answers: list[bytes] = []
    ready = threading.Barrier(concurrency + 1)
    guard = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        mine: list[int] = []
        bodies_seen: list[bytes] = []
        seen: Counter[int] = Counter()
        failed: list[str] = []
        try:
            connection.connect()
            connection.request("GET", "/healthz")
            connection.getresponse().read()
        except OSError as error:
            failed.append(f"connect: {error!r}")
        ready.wait()
        for index in jobs if not failed else ():
            started = time.perf_counter_ns()
            try:
                connection.request("POST", path, bodies[index], headers)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                failed.append(f"request {index}: {error!r}")
                break
            mine.append(time.perf_counter_ns() - started)
            bodies_seen.append(answer)
            seen[response.status] += 1
            if response.status not in (200, 201):
                failed.append(f"request {index}: HTTP {response.status} {answer[:300]!r}")
        connection.close()
        with guard:
            latencies.extend(mine)
            statuses.update(seen)
            errors.extend(failed)
            answers.extend(bodies_seen)

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return Run(latencies, time.perf_counter() - started, statuses, errors, answers)


# --------------------------------------------------------------------------- storage floor

SQL_KEY = (
    "SELECT k.id, k.source_id, k.digest, s.slug FROM intake_sourcekey k JOIN intake_source s ON s.id = k.source_id "
    "WHERE k.prefix = %s AND k.revoked_at IS NULL"
)
SQL_OPEN_LEAD = "SELECT id FROM leads_lead WHERE email_key = %s AND stage IN ('nurture', 'queued', 'assigned', 'in_progress') LIMIT 1"
SQL_SUBMISSION = (
    "INSERT INTO intake_submission (source_id, key_id, received_at, remote_addr, headers, body, body_size, body_truncated, "
    "idempotency_key, status, outcome, http_status, errors, warnings, merged, processed_at, attempts, last_error) "
    "VALUES (%s, %s, %s, '127.0.0.1', %s, %s, %s, FALSE, '', 'processed', 'created', 201, '[]', '[]', FALSE, %s, 0, '') RETURNING id"
)
SQL_LEAD = (
    "INSERT INTO leads_lead (email, email_key, phone, first_name, last_name, title, company, company_domain, free_mail, "
    "company_size, country, region, city, consent_marketing, product_interest, campaign, source_slug, fields, stage, score, "
    "score_reasons, definition_version, owner_kind, received_at, last_inquiry_at, inquiry_count, updated_at, "
    "touch_count, blocker, next_step, currency, lost_reason) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', %s, %s, %s, %s, %s, %s, 'nurture', %s, %s, 1, 'marketing', "
    "%s, %s, 1, %s, 0, '', '', '', '') RETURNING id"
)
SQL_INQUIRY = (
    "INSERT INTO leads_inquiry (lead_id, received_at, source_slug, submission_id, message, product_interest, campaign, "
    "utm_source, utm_medium, utm_campaign, contact, fields) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
SQL_HANDOFF = (
    "INSERT INTO leads_handoff (lead_id, at, from_kind, to_kind, reason, note, rule) "
    "VALUES (%s, %s, '', 'marketing', 'created', %s, %s)"
)


def storage_rows(payload: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The values an intake writes for one new lead, as plain Python values of the same width."""
    email = payload["email"]
    domain = email.split("@")[1].lower()
    size = payload.get("company_size")
    return {
        "headers": json.dumps({"Content-Type": "application/json", "Content-Length": str(len(body)), "User-Agent": "Python-urllib"}),
        "body": body,
        "lead": (
            email, email.lower(), payload.get("phone", "").replace(" ", ""), payload["first_name"], payload["last_name"],
            payload["title"], payload["company"], "" if domain in FREE_MAIL else domain, domain in FREE_MAIL,
            size if isinstance(size, int) else 51, payload["country"][:2].upper(), payload.get("city", ""),
            payload.get("consent_marketing"), payload["product_interest"], payload.get("campaign", ""),
        ),
        "fields": json.dumps(payload.get("fields") or {}),
        "reasons": json.dumps(["company size 51+: +20", "title matches head|director|chief|vp: +30", "free mail: -15"]),
        "inquiry": (
            payload["message"], payload["product_interest"], payload.get("campaign", ""), payload.get("utm_source", ""),
            payload.get("utm_medium", ""), payload.get("utm_campaign", ""),
        ),
        "contact": json.dumps({k: payload[k] for k in ("email", "phone", "first_name", "last_name", "company", "title", "country") if k in payload}),
        "note": "sales-ready with score 50; queued for EMEA by routing rule 'emea'",
        "rule": "lead definition v1; routing rule 'emea'",
    }


class Storage:
    """One bare driver connection to a copy of the set-up database."""

    def __init__(self, db: str, target: str) -> None:
        self.sqlite = db == "sqlite"
        self.connection: Any
        if self.sqlite:
            self.connection = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            self.connection.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        else:
            import psycopg

            self.connection = psycopg.connect(target)

    def sql(self, text: str) -> str:
        return text.replace("%s", "?") if self.sqlite else text

    def now(self) -> Any:
        moment = datetime.now(UTC)
        return moment.replace(tzinfo=None).isoformat(sep=" ") if self.sqlite else moment

    def write(self, prefix: str, payload: dict[str, Any], body: bytes) -> None:
        """One lead: a transaction with 2 indexed SELECTs and 4 INSERTs."""
        rows, now, sql, cursor = storage_rows(payload, body), self.now(), self.sql, self.connection.cursor()
        if self.sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(sql(SQL_KEY), (prefix,))
        key_id, source_id, _, slug = cursor.fetchone()
        cursor.execute(sql(SQL_OPEN_LEAD), (rows["lead"][1],))
        if cursor.fetchone() is not None:
            raise BenchError("storage floor: a person arrived twice; the floor's leads must be unique")
        cursor.execute(sql(SQL_SUBMISSION), (source_id, key_id, now, rows["headers"], rows["body"], len(body), now))
        (submission_id,) = cursor.fetchone()
        cursor.execute(sql(SQL_LEAD), (*rows["lead"], slug, rows["fields"], 50, rows["reasons"], now, now, now))
        (lead_id,) = cursor.fetchone()
        cursor.execute(sql(SQL_INQUIRY), (lead_id, now, slug, submission_id, *rows["inquiry"], rows["contact"], rows["fields"]))
        cursor.execute(sql(SQL_HANDOFF), (lead_id, now, rows["note"], rows["rule"]))
        if self.sqlite:
            cursor.execute("COMMIT")
        else:
            self.connection.commit()

    def run(self, prefix: str, payloads: Sequence[dict[str, Any]]) -> Run:
        bodies = encoded(payloads)
        latencies = []
        started = time.perf_counter()
        for payload, body in zip(payloads, bodies, strict=True):
            begun = time.perf_counter_ns()
            self.write(prefix, payload, body)
            latencies.append(time.perf_counter_ns() - begun)
        return Run(latencies, time.perf_counter() - started, Counter({201: len(latencies)}))

    def close(self) -> None:
        self.connection.close()


# --------------------------------------------------------------------------- the server and its database


def revision(env: dict[str, str]) -> str:
    """The commit measured, with `+changes` when src/ differs from it (or where leadbaton was imported from instead)."""
    done = subprocess.run([sys.executable, "-c", "import leadbaton; print(leadbaton.__file__)"], env=env,
                          capture_output=True, text=True, check=False)
    package = Path(done.stdout.strip()).parent
    if package != ROOT / "src" / "leadbaton":
        return f"leadbaton from {package}"

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "src")
    return commit + (" +changes" if changed else "")


def always_open(org_file: Path, data_dir: Path) -> Path:
    """A copy of the organisation file whose reps work around the clock, with no caps, pauses or time off.

    Its first-response window is a working day, so every lead's clocks start (their rows are part of
    intake) but none of them reminds or breaches during the run: with nobody touching the bench's leads,
    every one would otherwise be escalated and reassigned five minutes in, in the same process as the
    requests measured. What the steps cost is bench/sla.py's to measure.
    """
    org = yaml.safe_load(org_file.read_text())
    for rep in org.get("reps") or []:
        rep["hours"] = "mon-sun 00:00-24:00"
        for limit in ("daily_cap", "max_open", "paused", "time_off"):
            rep.pop(limit, None)
    org.setdefault("sla", {})["first_response_minutes"] = 8 * 60
    copy = data_dir / f"{org_file.stem}-always-open.yaml"
    copy.write_text(yaml.safe_dump(org, sort_keys=False))
    return copy


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def leadbaton(env: dict[str, str], *args: str) -> str:
    """Run a `leadbaton` command; its output, or BenchError with its output."""
    done = subprocess.run([str(LEADBATON), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"`leadbaton {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def postgres_admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            with contextlib.suppress(OSError):
                todo.extend(int(child) for child in (task / "children").read_text().split())
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass(frozen=True)
class CpuSample:
    server: float  # the server's process tree
    database: float  # PostgreSQL backends serving the bench's databases
    bench: float  # this process: the load client and the storage floor
    busy: float  # every CPU of the machine, busy
    total: float  # every CPU of the machine, busy or idle

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(*(a - b for a, b in zip(vars(self).values(), vars(other).values(), strict=True)))

    @property
    def others(self) -> float:
        """The share of the machine that processes outside this run used."""
        return max(0.0, self.busy - self.server - self.database - self.bench) / self.total if self.total else 0.0


class CpuMeter:
    """Where the CPU went during a phase: our server, its database, this process, or someone else."""

    def __init__(self, server_pid: int, databases: Sequence[str]) -> None:
        self.server_pid = server_pid
        self.databases = [name.encode() for name in databases]

    def _database_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and self.databases:
                with contextlib.suppress(OSError):
                    title = (entry / "cmdline").read_bytes()
                    if title.startswith(b"postgres:") and any(b" " + name + b" " in title for name in self.databases):
                        pids.append(int(entry.name))
        return pids

    def wait_quiet(self, limit: float, threshold: float = 0.05) -> None:
        """Wait (up to `limit` seconds) until processes outside this run use under `threshold` of the CPUs for half a second."""
        deadline, waited = time.monotonic() + limit, False
        while time.monotonic() < deadline:
            before = self.sample()
            time.sleep(0.5)
            others = (self.sample() - before).others
            if others < threshold:
                break
            if not waited:
                console.print(f"  waiting for a quiet machine (other processes use {others:.0%} of the CPUs) …")
                waited = True

    def sample(self) -> CpuSample:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:9]]
        user, nice, system, idle, iowait, irq, softirq, steal = ticks
        busy = user + nice + system + irq + softirq + steal
        return CpuSample(
            server=sum(cpu_seconds(pid) for pid in process_tree(self.server_pid)),
            database=sum(cpu_seconds(pid) for pid in self._database_pids()),
            bench=cpu_seconds(os.getpid()),
            busy=busy / TICK,
            total=(busy + idle + iowait) / TICK,
        )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def banner(self) -> str:
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("LeadBaton on "):
                return line.removeprefix("LeadBaton on ")
        return "?"

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            time.sleep(0.1)
        raise BenchError(f"the server did not answer /healthz within {timeout:.0f} s:\n{self.tail()}")

    def memory(self) -> tuple[int, int, int]:
        """(sum of VmHWM over the server's process tree, the largest VmHWM, processes) in KiB."""
        peaks = [vm_hwm_kib(pid) for pid in process_tree(self.process.pid)]
        return sum(peaks), max(peaks), len(peaks)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --------------------------------------------------------------------------- the run


@dataclass
class Figures:
    """Every round's value of each measure; the table shows their medians."""

    values: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    placements: Counter[str] = field(default_factory=Counter)
    others: list[float] = field(default_factory=list)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def __getitem__(self, name: str) -> float:
        return statistics.median(self.values[name])

    def shown(self, name: str, unit: str = "ms", digits: int = 2) -> str:
        """The median, then the range over the rounds in brackets: `8.24 ms [8.06-8.25]`."""
        values = self.values[name]
        text = f"{self[name]:,.{digits}f} {unit}"
        return text + (f" [{min(values):,.{digits}f}-{max(values):,.{digits}f}]" if len(values) > 1 else "")


class MailRecorder:
    """An SMTP server's handler (aiosmtpd) that notes when each lead's email was accepted."""

    def __init__(self) -> None:
        self.accepted: dict[int, float] = {}
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.monotonic()
        match = re.search(rb"^X-LeadBaton-Lead: (\d+)", envelope.content, re.MULTILINE)
        with self.lock:
            self.count += 1
            if match:
                self.accepted.setdefault(int(match.group(1)), at)
        return "250 OK"


def notify_latencies(port: int, bodies: Sequence[bytes], headers: dict[str, str], concurrency: int, mail: MailRecorder) -> list[float]:
    """Post new leads; for each one a rep owns, the time from its 201 to its email being accepted (ms)."""
    answered: dict[int, float] = {}
    lock = threading.Lock()
    queue = list(enumerate(bodies))

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        while True:
            with lock:
                if not queue:
                    break
                _, body = queue.pop()
            connection.request("POST", "/api/v1/leads", body=body, headers=headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
            done = time.monotonic()
            if response.status == 201 and answer["owner"]["kind"] == "rep":
                with lock:
                    answered[answer["id"]] = done
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(lead not in mail.accepted for lead in answered):
        time.sleep(0.05)
    missing = [lead for lead in answered if lead not in mail.accepted]
    if missing:
        raise BenchError(f"{len(missing)} of {len(answered)} emails did not arrive within 30 s (leads {missing[:5]} …)")
    return sorted((mail.accepted[lead] - at) * 1000 for lead, at in answered.items())


def drained(server: Server, mail: MailRecorder, timeout: float = 600) -> None:
    """Wait until the server's worker has sent the emails the earlier phases queued (SMTP goes quiet)."""
    deadline, last, quiet_since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        if mail.count != last:
            last, quiet_since = mail.count, time.monotonic()
        elif time.monotonic() - quiet_since > 2:
            return
        time.sleep(0.2)
    raise BenchError(f"the worker was still sending emails after {timeout:.0f} s:\n{server.tail()}")


def quantile(values: Sequence[float], share: float) -> float:
    return values[min(len(values) - 1, max(0, math.ceil(share * len(values)) - 1))]


def measure(args: argparse.Namespace, server: Server, key: str, storage: Storage, prefix: str, meter: CpuMeter,
            mail: MailRecorder) -> Figures:
    leads = Leads(seed=args.seed)
    figures = Figures()
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    plain = {"Content-Type": "application/json"}
    port, count, floors = server.port, args.leads, args.floor_requests

    def timed(name: str, path: str, make: Callable[[], list[bytes]], headers: dict[str, str], concurrency: int) -> Run:
        """A checked load phase that also records the CPU per request of the server, its database and the client.

        A phase during which other processes took more than 10% of the CPUs is measured again (twice at most).
        """
        for attempt in range(3):
            drained(server, mail)  # the emails of the phase before are sent: they would slow this one down
            meter.wait_quiet(args.quiet_wait)
            bodies = make()
            before = meter.sample()
            run = checked(name, load(port, path, bodies, headers, concurrency))
            used = meter.sample() - before
            if used.others <= 0.1 or attempt == 2 or args.quiet_wait <= 0:
                break
            console.print(f"  {name}: other processes took {used.others:.0%} of the CPUs; measuring it again")
        tag = name.replace(" ", "_")
        figures.add(f"{tag}_server_cpu", used.server * 1000 / len(bodies))
        figures.add(f"{tag}_db_cpu", used.database * 1000 / len(bodies))
        figures.add(f"{tag}_client_cpu", used.bench * 1000 / len(bodies))
        figures.others.append(used.others)
        return run

    def checked(name: str, run: Run) -> Run:
        if run.errors or len(run.latencies) != run.statuses.total():
            raise BenchError(
                f"{name}: {len(run.errors)} request(s) failed; the first ones:\n  " + "\n  ".join(run.errors[:5])
                + f"\n\nserver log:\n{server.tail()}"
            )
        return run

    console.print("warming up …")
    checked("warm-up no-op", load(port, "/api/v1/_bench/noop", [b"{}"] * 400, plain, 8))
    checked("warm-up ORM", load(port, "/api/v1/_bench/orm", encoded(leads.batch(300)), auth, 8))
    checked("warm-up intake", load(port, "/api/v1/leads", encoded(leads.batch(300)), auth, 8))
    storage.run(prefix, leads.batch(200))

    for round_number in range(1, args.rounds + 1):
        started = time.perf_counter()
        run = timed("noop c1", "/api/v1/_bench/noop", lambda: [b"{}"] * floors, plain, 1)
        figures.add("noop_p50", run.quantile(0.5))
        figures.add("noop_p99", run.quantile(0.99))
        run = timed("noop c8", "/api/v1/_bench/noop", lambda: [b"{}"] * floors, plain, 8)
        figures.add("noop_rps", run.throughput)

        run = timed("orm c1", "/api/v1/_bench/orm", lambda: encoded(leads.batch(floors)), auth, 1)
        figures.add("orm_p50", run.quantile(0.5))
        figures.add("orm_p99", run.quantile(0.99))
        run = timed("orm c8", "/api/v1/_bench/orm", lambda: encoded(leads.batch(floors)), auth, 8)
        figures.add("orm_rps", run.throughput)
        figures.add("orm_c8_p99", run.quantile(0.99))

        run = timed("intake c1", "/api/v1/leads", lambda: encoded(leads.batch(count, repeat_share=0.1)), auth, 1)
        figures.add("intake_p50", run.quantile(0.5))
        figures.add("intake_p99", run.quantile(0.99))
        figures.statuses.update(run.statuses)
        figures.placements.update(run.placements())
        run = timed("intake c8", "/api/v1/leads", lambda: encoded(leads.batch(count, repeat_share=0.1)), auth, 8)
        figures.add("intake_rps", run.throughput)
        figures.add("intake_c8_p50", run.quantile(0.5))
        figures.add("intake_c8_p99", run.quantile(0.99))
        figures.statuses.update(run.statuses)
        figures.placements.update(run.placements())

        for concurrency in (1, 8) if args.notify_leads else ():
            drained(server, mail)
            meter.wait_quiet(args.quiet_wait)
            latencies = notify_latencies(port, encoded(leads.batch(args.notify_leads)), auth, concurrency, mail)
            if not latencies:
                raise BenchError("no lead was assigned to a rep, so no email to time: apply an organisation with reps (or --notify-leads 0)")
            figures.add(f"notify_c{concurrency}_p50", quantile(latencies, 0.5))
            figures.add(f"notify_c{concurrency}_p99", quantile(latencies, 0.99))
            figures.add(f"notify_c{concurrency}_count", len(latencies))

        meter.wait_quiet(args.quiet_wait)
        run = storage.run(prefix, leads.batch(floors))
        figures.add("storage_us", run.quantile(0.5) * 1000)
        figures.add("storage_rps", run.throughput)
        console.print(
            f"round {round_number}/{args.rounds} ({time.perf_counter() - started:.0f} s, "
            f"others used {max(figures.others[-6:]):.0%} of the CPUs at most): "
            f"intake c=1 p50 {figures.values['intake_p50'][-1]:.2f} ms, p99 {figures.values['intake_p99'][-1]:.2f} ms; "
            f"c=8 {figures.values['intake_rps'][-1]:.0f} leads/s, p99 {figures.values['intake_c8_p99'][-1]:.1f} ms"
        )
    return figures


def report(args: argparse.Namespace, figures: Figures, memory: tuple[int, int, int], banner: str, org: str, code: str) -> bool:
    """Print the table; True when every target is met."""
    f = figures
    sqlite = args.db == "sqlite"
    table = Table(
        title=f"LeadBaton intake on {'SQLite' if sqlite else 'PostgreSQL'} — {banner}",
        caption=(
            f"{args.leads} leads per intake phase, {args.floor_requests} requests per floor phase, median of {args.rounds} round(s) (range in brackets); org: {org}; "
            f"Python {platform.python_version()}, {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}, {code}"
        ),
    )
    for column, justify in (("measure", "left"), ("value", "right"), ("floor", "right"), ("ratio", "right"),
                            ("target", "left"), ("", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    verdicts: list[bool] = []

    def ms(name: str) -> str:
        return f.shown(name)

    def rps(name: str) -> str:
        return f.shown(name, "/s", 0)

    def row(measure: str, value: str, floor: str = "", ratio: str = "", target: str = "", ok: bool | None = None) -> None:
        if ok is not None:
            verdicts.append(ok)
        verdict = "" if ok is None else ("[green]pass[/]" if ok else "[bold red]FAIL[/]")
        table.add_row(measure, value, floor, ratio, target, verdict)

    row("framework floor: no-op p50, c=1", ms("noop_p50"))
    row("framework floor: no-op p99, c=1", ms("noop_p99"))
    row("framework floor: no-op throughput, c=8", rps("noop_rps"))
    row("ORM floor: 2 SELECT + 4 INSERT p50, c=1", ms("orm_p50"))
    row("ORM floor: p99, c=1", ms("orm_p99"))
    row("ORM floor: throughput, c=8", rps("orm_rps"))
    row("ORM floor: p99, c=8", ms("orm_c8_p99"))
    row("storage floor: bare driver, per lead (p50)", f.shown("storage_us", "µs", 0))
    row("storage floor: bare driver, 1 connection", rps("storage_rps"))
    table.add_section()
    p50, p99 = f["intake_p50"], f["intake_p99"]
    row("intake p50, c=1", ms("intake_p50"), target="≤ 15 ms", ok=p50 <= 15)
    row("intake p99, c=1", ms("intake_p99"), target="≤ 60 ms", ok=p99 <= 60)
    row("intake p50 / framework floor", f"{p50:.2f} ms", f"{f['noop_p50']:.2f} ms", f"{p50 / f['noop_p50']:.1f}x",
        "≤ 3x (issue)", p50 <= 3 * f["noop_p50"])
    row("intake p50 / ORM floor", f"{p50:.2f} ms", f"{f['orm_p50']:.2f} ms", f"{p50 / f['orm_p50']:.1f}x",
        "≤ 2.5x (DESIGN)", p50 <= 2.5 * f["orm_p50"])
    row("intake p50 / storage floor", f"{p50:.2f} ms", f"{f['storage_us'] / 1000:.3f} ms", f"{p50 * 1000 / f['storage_us']:.0f}x")
    row("intake throughput, c=8", rps("intake_rps"), f"{f['orm_rps']:,.0f}/s ORM", f"{f['intake_rps'] / f['orm_rps']:.2f}x",
        "≥ 300/s", f["intake_rps"] >= 300)
    row("intake p50, c=8", ms("intake_c8_p50"))
    row("intake p99, c=8", ms("intake_c8_p99"), f"{f['orm_c8_p99']:.2f} ms ORM", f"{f['intake_c8_p99'] / f['orm_c8_p99']:.1f}x",
        "≤ 60 ms (SQLite)" if sqlite else "", f["intake_c8_p99"] <= 60 if sqlite else None)
    statuses = f.statuses
    answers = f"{statuses[201]:,} new (201), {statuses[200]:,} merged (200), {statuses.total() - statuses[200] - statuses[201]} other"
    row("intake answers (new, merged, errors)", answers, target="all 2xx",
        ok=statuses.total() == statuses[200] + statuses[201])
    placed = ", ".join(f"{count:,} {name}" for name, count in figures.placements.most_common())
    row("intake placements (stage/owner)", placed or "?")
    table.add_section()
    for concurrency in (1, 8) if args.notify_leads else ():
        name = f"notify_c{concurrency}"
        sent = int(f[f"{name}_count"])
        row(f"201 → rep's email accepted by SMTP, p50, c={concurrency} ({sent} emails)", ms(f"{name}_p50"))
        row(f"201 → rep's email accepted by SMTP, p99, c={concurrency}", ms(f"{name}_p99"), target="≤ 2,000 ms",
            ok=f[f"{name}_p99"] <= 2000)
    table.add_section()
    row("server CPU per request, c=8: no-op", f"{f['noop_c8_server_cpu']:.2f} ms")
    row("server CPU per request, c=8: ORM floor", f"{f['orm_c8_server_cpu']:.2f} ms")
    row("server CPU per request, c=8: intake", f"{f['intake_c8_server_cpu']:.2f} ms", f"{f['orm_c8_server_cpu']:.2f} ms ORM",
        f"{f['intake_c8_server_cpu'] / f['orm_c8_server_cpu']:.1f}x")
    if not sqlite:
        row("PostgreSQL backend CPU per request, c=8: ORM floor", f"{f['orm_c8_db_cpu']:.2f} ms")
        row("PostgreSQL backend CPU per request, c=8: intake", f"{f['intake_c8_db_cpu']:.2f} ms")
    row("load client CPU per request, c=8: intake", f"{f['intake_c8_client_cpu']:.2f} ms")
    others = max(f.others)
    row("CPU used by other processes, median / worst phase", f"{statistics.median(f.others):.0%} / {others:.0%}",
        target="≈ 0 for clean figures")
    table.add_section()
    total, largest, processes = memory
    row(f"server peak memory, sum of VmHWM over {processes} processes", f"{total / 1024:.0f} MiB")
    row("server peak memory, largest process VmHWM", f"{largest / 1024:.0f} MiB")
    console.print(table)
    if others >= 0.1:
        console.print(f"[bold yellow]other processes used up to {others:.0%} of the CPUs during a phase: "
                      "these figures understate what this machine can do; run again on a quiet machine[/]")
    return all(verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--leads", type=int, default=2000, help="leads per measured phase (default 2000)")
    parser.add_argument("--floor-requests", type=int, default=1000, help="requests per floor phase (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each figure is the median (default 3)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="server for --db postgres")
    parser.add_argument("--org", type=Path, default=ORG_FILE, help="organisation file to apply (default examples/org.yaml)")
    parser.add_argument("--no-org", action="store_true", help="apply no organisation file")
    parser.add_argument("--office-hours", dest="always_open", action="store_false",
                        help="keep the file's working hours (by default every rep works around the clock, so every "
                             "sales-ready lead is routed to a rep and emailed: the expensive path)")
    parser.add_argument("--notify-leads", type=int, default=300, help="leads per 201-to-email phase (default 300)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quiet-wait", type=float, default=60, metavar="SECONDS",
                        help="before each phase, wait up to this long for other processes to leave the CPUs idle (default 60)")
    parser.add_argument("--json", type=Path, help="also write the figures of every round to this file")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary data directory (with server.log) and, on PostgreSQL, the databases")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    # Stopped by SIGTERM or SIGHUP (timeout, a closed terminal): clean up as after Ctrl-C.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, lambda number, frame: sys.exit(128 + number))
    if args.leads < 200 or args.floor_requests < 200:
        parser.error("--leads and --floor-requests must be at least 200")

    data_dir = Path(tempfile.mkdtemp(prefix="lb_bench_"))
    passed = ("LEADBATON_WEB_PROCESSES", "LEADBATON_WEB_THREADS")  # server tuning to try; the rest is the bench's
    env = {name: value for name, value in os.environ.items()
           if name != "DATABASE_URL" and (not name.startswith("LEADBATON_") or name in passed)}
    env.update(
        LEADBATON_DATA_DIR=str(data_dir),
        LEADBATON_INTAKE_RATE_LIMIT="1000000",
        LEADBATON_BENCH_ENDPOINTS="1",
        LEADBATON_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="leadbaton.settings",
    )
    created: list[str] = []
    server: Server | None = None
    smtp: Controller | None = None
    storage: Storage | None = None
    admin: Any = None
    try:
        if args.db == "postgres":
            name = f"lb_bench_{secrets.token_hex(4)}"
            admin = postgres_admin(f"{args.postgres}/postgres")
            admin.execute(f'CREATE DATABASE "{name}"')
            created.append(name)
            env["DATABASE_URL"] = f"{args.postgres}/{name}"
        console.print(f"setting up {args.db} in {data_dir} …")
        leadbaton(env, "migrate", "--verbosity", "0")
        org_file = args.org.resolve()
        org = str(org_file.relative_to(ROOT)) if org_file.is_relative_to(ROOT) else str(org_file)
        if args.always_open and org_file.exists() and not args.no_org:
            org_file = always_open(org_file, data_dir)
            org += " with every rep available around the clock"
        if args.no_org:
            org = "none (--no-org)"
        elif org_file.exists():
            leadbaton(env, "config", "apply", str(org_file))
        else:
            org = f"none ({org} does not exist)"
        key = leadbaton(env, "sources", "add", "bench", "--name", "Bench").strip().splitlines()[-1].strip()
        prefix = key.split("_")[2]

        # The storage floor writes into a copy of the database as it is now: same schema, same source key.
        if args.db == "sqlite":
            floor_path = data_dir / "storage-floor.sqlite3"
            with sqlite3.connect(data_dir / "leadbaton.sqlite3") as source, sqlite3.connect(floor_path) as copy:
                source.backup(copy)
            storage = Storage("sqlite", str(floor_path))
        else:
            floor = f"{created[0]}_floor"
            admin.execute(f'CREATE DATABASE "{floor}" TEMPLATE "{created[0]}"')
            created.append(floor)
            storage = Storage("postgres", f"{args.postgres}/{floor}")

        # Every rep's email goes to a real SMTP server in this process, which notes when each arrived.
        mail = MailRecorder()
        smtp = Controller(mail, hostname=HOST, port=free_port())
        smtp.start()
        env.update(LEADBATON_EMAIL_HOST=HOST, LEADBATON_EMAIL_PORT=str(smtp.port))

        port = free_port()
        log = data_dir / "server.log"
        with log.open("wb") as output:
            # The server gets SIGTERM if this process dies, even by SIGKILL: no orphaned server (PR_SET_PDEATHSIG, Linux).
            launcher = "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); os.execv(sys.argv[1], sys.argv[1:])"
            process = subprocess.Popen(
                [sys.executable, "-c", launcher, str(LEADBATON), "serve", "--port", str(port)],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        server = Server(process, port, log)
        server.wait_healthy()
        console.print(f"server: {server.banner()} (pid {process.pid})")

        meter = CpuMeter(process.pid, created)
        figures = measure(args, server, key, storage, prefix, meter, mail)
        memory = server.memory()
        code = revision(env)
        met = report(args, figures, memory, server.banner(), org, code)
        if args.json:
            record = {
                "db": args.db, "leads": args.leads, "floor_requests": args.floor_requests, "rounds": args.rounds, "server": server.banner(), "org": org,
                "python": platform.python_version(), "cores": os.cpu_count(), "revision": code, "date": f"{datetime.now(UTC):%Y-%m-%d}",
                "values": figures.values, "statuses": dict(figures.statuses), "placements": dict(figures.placements), "others": figures.others,
                "memory_kib": {"sum": memory[0], "largest": memory[1], "processes": memory[2]},
            }
            args.json.write_text(json.dumps(record, indent=2) + "\n")
        if not met:
            console.print("[bold red]some targets were missed[/] (see docs/performance.md for where the time goes)")
        return 1 if args.strict and not met else 0
    except BenchError as error:
        console.print(f"[bold red]bench failed:[/] {error}")
        return 2
    finally:
        if server is not None:
            server.stop()
        if smtp is not None:
            smtp.stop()
        if storage is not None:
            storage.close()
        if admin is not None:
            for name in reversed(created):
                if args.keep:
                    console.print(f"kept database {name} (drop it with: dropdb -h 127.0.0.1 -U postgres {name})")
                else:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        if args.keep:
            console.print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
