"""`leadbaton help`: LeadBaton's commands first; nothing that deletes data without asking."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import leadbaton.cli
from leadbaton.cli import LEADBATON_COMMANDS, MAINTENANCE_COMMANDS

LEADBATON = str(Path(sys.executable).with_name("leadbaton"))
COMMANDS_DIR = Path(leadbaton.cli.__file__).parent / "management" / "commands"


def leadbaton(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ.update(LEADBATON_DATA_DIR=str(data), LEADBATON_ENV_FILE=os.devnull)
    return subprocess.run([LEADBATON, *args], cwd=data, env=environ, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


@pytest.mark.parametrize("asking", [[], ["help"], ["--help"], ["-h"]], ids=lambda a: " ".join(a) or "nothing")
def test_it_lists_leadbatons_commands_first_each_with_a_line_then_a_few_for_maintenance(tmp_path, asking):
    result = leadbaton(*asking, data=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    ours, maintenance = text.split("Commands:\n")[1].split("Maintenance:\n")
    for path in COMMANDS_DIR.glob("[a-z]*.py"):
        assert f"\n  {path.stem} " in f"\n{ours}", f"`leadbaton help` does not list {path.stem}"
    for name, line in LEADBATON_COMMANDS.items():
        assert f"  {name:<16}{line}" in ours
    for name in ("migrate", "check", "changepassword", "shell", "dbshell"):
        assert f"  {name} " in maintenance
    for hidden in ("flush", "sqlflush", "startproject", "startapp", "makemigrations", "squashmigrations", "runserver", "dumpdata"):
        assert hidden not in text


def test_it_shows_one_commands_own_help(tmp_path):
    result = leadbaton("help", "sources", data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: leadbaton sources" in result.stdout


def migrated(tmp_path: Path) -> Path:
    assert leadbaton("migrate", "--verbosity", "0", data=tmp_path).returncode == 0
    assert leadbaton("sources", "add", "webinar", "--name", "Webinar", data=tmp_path).returncode == 0
    return tmp_path


@pytest.mark.parametrize("command", [["flush", "--no-input"], ["flush"], ["sqlflush"], ["remove_stale_contenttypes", "--no-input"]])
def test_it_refuses_a_command_that_deletes_data_and_the_data_stays(tmp_path, command):
    data = migrated(tmp_path)
    result = leadbaton(*command, data=data)
    assert result.returncode == 1
    assert f"`{command[0]}` is not offered" in result.stderr
    assert "webinar" in leadbaton("sources", "list", data=data).stdout


def test_it_refuses_django_developer_commands_and_says_how_developers_run_them(tmp_path):
    result = leadbaton("startproject", "mysite", data=tmp_path)
    assert result.returncode == 1
    assert "one of Django's developer commands" in result.stderr
    assert "python -m django startproject" in result.stderr
    assert not (tmp_path / "mysite").exists()


def test_it_suggests_the_command_meant_by_a_typo(tmp_path):
    result = leadbaton("sorces", "list", data=tmp_path)
    assert result.returncode == 1
    assert "no command `sorces`. Did you mean `sources`?" in result.stderr


def test_it_undoes_migrations_only_with_a_typed_confirmation(tmp_path):
    data = migrated(tmp_path)
    result = leadbaton("migrate", "intake", "zero", "--no-input", data=data)
    assert result.returncode == 1
    assert "deleting the data they hold" in result.stderr
    assert "intake.0001_initial" in result.stderr
    assert "refused without a typed confirmation" in result.stderr
    assert "webinar" in leadbaton("sources", "list", data=data).stdout


def test_every_offered_command_exists():
    from django.core.management import get_commands

    assert set(LEADBATON_COMMANDS) | set(MAINTENANCE_COMMANDS) <= set(get_commands())
