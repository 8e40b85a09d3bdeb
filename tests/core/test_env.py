"""Settings from the environment fail loudly on a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leadbaton.core.env import SettingError, env_bool, env_choice, env_int, env_list


def test_it_reads_booleans_in_the_usual_spellings():
    assert env_bool("X", False, {"X": "yes"}) is True
    assert env_bool("X", True, {"X": "0"}) is False
    assert env_bool("X", True, {}) is True


def test_it_refuses_a_boolean_it_cannot_read():
    with pytest.raises(SettingError, match=r"X='maybe' is not a boolean; use one of true, false"):
        env_bool("X", False, {"X": "maybe"})


def test_it_refuses_numbers_that_are_not_numbers_or_out_of_range():
    with pytest.raises(SettingError, match="X='ten' is not a whole number"):
        env_int("X", 1, environ={"X": "ten"})
    with pytest.raises(SettingError, match="X=0 is below the minimum of 1"):
        env_int("X", 1, minimum=1, environ={"X": "0"})
    assert env_int("X", 7, environ={}) == 7


def test_it_refuses_a_choice_outside_the_list():
    with pytest.raises(SettingError, match="X='pg' is not one of: sqlite, postgres"):
        env_choice("X", "sqlite", ("sqlite", "postgres"), {"X": "pg"})


def test_it_splits_lists_on_commas():
    assert env_list("X", [], {"X": "a.example, b.example,"}) == ["a.example", "b.example"]


def run_settings(tmp_path, show: str = "DATABASES['default']['ENGINE']", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LEADBATON_ENV_FILE")}
    environ.update(LEADBATON_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="leadbaton.settings", **env)
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{show})"
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, cwd=tmp_path)


def test_it_refuses_to_start_with_a_bad_setting(tmp_path):
    result = run_settings(tmp_path, LEADBATON_EMAIL_PORT="smtp")
    assert result.returncode != 0
    assert "LEADBATON_EMAIL_PORT='smtp' is not a whole number" in result.stderr


def test_it_refuses_a_database_url_it_does_not_support(tmp_path):
    result = run_settings(tmp_path, DATABASE_URL="mysql://root@localhost/leads")
    assert result.returncode != 0
    assert "DATABASE_URL must be a sqlite:// or postgres:// URL" in result.stderr


def test_it_generates_a_secret_key_once_and_keeps_it(tmp_path):
    leadbaton = Path(sys.executable).with_name("leadbaton")
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ.update(LEADBATON_DATA_DIR=str(tmp_path), LEADBATON_ENV_FILE=os.devnull)
    assert subprocess.run([leadbaton, "migrate", "-v0"], env=environ, cwd=tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    assert subprocess.run([leadbaton, "migrate", "-v0"], env=environ, cwd=tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key
    assert run_settings(tmp_path, "SECRET_KEY").stdout.strip() == key


def test_importing_the_settings_writes_no_secret_key(tmp_path):
    assert run_settings(tmp_path).returncode == 0
    assert list(tmp_path.iterdir()) == []


def test_it_uses_sqlite_with_the_queueing_backend_by_default(tmp_path):
    assert run_settings(tmp_path).stdout.strip() == "leadbaton.core.sqlite"


def test_it_reads_a_dot_env_file_without_overriding_the_real_environment(tmp_path):
    (tmp_path / ".env").write_text("LEADBATON_EMAIL_PORT=2525\nLEADBATON_EMAIL_FROM=Leads <leads@northwind.example>  # comment\n")
    assert run_settings(tmp_path, "EMAIL_PORT").stdout.strip() == "2525"
    assert run_settings(tmp_path, "DEFAULT_FROM_EMAIL").stdout.strip() == "Leads <leads@northwind.example>"
    assert run_settings(tmp_path, "EMAIL_PORT", LEADBATON_EMAIL_PORT="587").stdout.strip() == "587"


def test_the_migrations_are_in_step_with_the_models(db):
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits non-zero when a migration is missing
