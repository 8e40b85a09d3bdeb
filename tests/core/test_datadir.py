"""The data directory is private, and only the commands that start LeadBaton create it."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

LEADBATON = str(Path(sys.executable).with_name("leadbaton"))


def leadbaton(*args: str, cwd: Path, umask: int = 0o022, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `leadbaton` as an operator would, with only the settings given here (no DATABASE_URL)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEADBATON_") and k != "DATABASE_URL"}
    environ.update(LEADBATON_ENV_FILE=os.devnull, **env)
    return subprocess.run(
        [LEADBATON, *args], cwd=cwd, env=environ, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, preexec_fn=lambda: os.umask(umask), timeout=120,
    )


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_it_creates_the_data_directory_and_the_database_private_whatever_the_umask(tmp_path):
    data = tmp_path / "lb-data"
    result = leadbaton("migrate", "--verbosity", "0", cwd=tmp_path, umask=0, LEADBATON_DATA_DIR=str(data))
    assert result.returncode == 0, result.stderr
    assert f"created the data directory {data}" in result.stderr
    assert mode(data) == "0o700"
    assert mode(data / "leadbaton.sqlite3") == "0o600"
    assert mode(data / "secret_key") == "0o600"
    # SQLite gives the write-ahead log and shared-memory files the database file's own mode.
    old = os.umask(0)
    try:
        with sqlite3.connect(data / "leadbaton.sqlite3") as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE probe (id INTEGER)")
            assert mode(data / "leadbaton.sqlite3-wal") == "0o600"
            assert mode(data / "leadbaton.sqlite3-shm") == "0o600"
    finally:
        os.umask(old)


def test_it_takes_other_users_access_away_from_a_database_an_older_version_left_readable(tmp_path):
    assert leadbaton("migrate", "--verbosity", "0", cwd=tmp_path, LEADBATON_DATA_DIR=str(tmp_path)).returncode == 0
    database = tmp_path / "leadbaton.sqlite3"
    database.chmod(0o644)
    result = leadbaton("sources", "list", cwd=tmp_path, LEADBATON_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert mode(database) == "0o600"


@pytest.mark.parametrize(
    "command",
    [["sources", "list"], ["submissions", "list"], ["createadmin", "ada@example.com"], ["showmigrations"],
     ["shell", "-c", "print(1)"], ["dbshell"], ["check"], ["check", "--deploy"], ["serve", "--help"], ["demo", "--help"]],
    ids=" ".join,
)
def test_a_command_run_from_another_directory_creates_nothing_there(tmp_path, command):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    leadbaton(*command, cwd=elsewhere)
    assert list(elsewhere.iterdir()) == []


def test_a_command_run_where_a_var_directory_is_not_leadbatons_writes_nothing_into_it(tmp_path):
    (tmp_path / "var").mkdir()
    result = leadbaton("sources", "list", cwd=tmp_path)
    assert result.returncode == 1
    assert "is not set up" in result.stderr
    assert list((tmp_path / "var").iterdir()) == []  # no empty database, no secret key


def test_demo_creates_the_configured_data_directory_and_says_where(tmp_path):
    result = leadbaton("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"created the data directory {tmp_path / 'var'}" in result.stderr
    assert mode(tmp_path / "var") == "0o700"
    assert {path.name for path in (tmp_path / "var").iterdir()} >= {"leadbaton.sqlite3", "secret_key", "demo.txt"}
