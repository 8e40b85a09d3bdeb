"""The `leadbaton` commands staff use day to day."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from leadbaton.accounts.models import User
from leadbaton.intake.models import Source, SourceKey, Submission
from leadbaton.leads.models import Lead
from tests.conftest import IntakeClient


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sources_add_prints_a_working_key_once(db):
    output = run("sources", "add", "webinar", "--name", "Webinar sign-ups", "--kind", "form", "--default-region", "gb")
    key = output.strip().splitlines()[-1]
    assert "shown once" in output
    source = Source.objects.get(slug="webinar")
    assert (source.kind, source.default_region) == ("form", "GB")
    stored = SourceKey.objects.get(source=source)
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()  # a digest, never the key itself
    assert key.startswith(f"lb_src_{stored.prefix}_")
    answer = IntakeClient(key).post({"phone": "020 7946 0958"})  # read with the source's default region
    assert answer.status_code == 201
    assert Lead.objects.get(pk=answer.json()["id"]).phone == "+442079460958"


def test_sources_add_refuses_a_slug_that_exists(db):
    run("sources", "add", "webinar", "--name", "Webinar")
    with pytest.raises(CommandError, match="a source with slug 'webinar' exists already"):
        run("sources", "add", "webinar", "--name", "Again")


def test_sources_add_names_a_bad_region(db):
    with pytest.raises(CommandError, match="--default-region: 'GER' is not a two-letter ISO country code"):
        run("sources", "add", "webinar", "--name", "Webinar", "--default-region", "GER")


def test_sources_revoke_makes_the_key_answer_401(db):
    key = run("sources", "add", "webinar", "--name", "Webinar").strip().splitlines()[-1]
    assert "revoked 1 key(s) of webinar" in run("sources", "revoke", "webinar")
    assert IntakeClient(key).post({"email": "dana@northwind.example"}).status_code == 401
    fresh = run("sources", "key", "webinar").strip().splitlines()[-1]
    assert IntakeClient(fresh).post({"email": "dana@northwind.example"}).status_code == 201
    assert "webinar" in run("sources", "list")


def test_sources_commands_name_the_known_sources_for_an_unknown_one(db):
    run("sources", "add", "webinar", "--name", "Webinar")
    with pytest.raises(CommandError, match="no source 'fair'; sources: webinar"):
        run("sources", "revoke", "fair")


def test_submissions_list_show_and_replay(intake, org):
    intake.post({"email": "dana@northwind.example", "message": "hello"})
    intake.post({"first_name": "nobody"})
    listing = run("submissions", "list")
    assert "processed" in listing
    assert "rejected" in listing
    assert "email: a lead needs" in run("submissions", "list", "--status", "rejected")
    rejected = Submission.objects.get(status="rejected")
    assert '"first_name": "nobody"' in run("submissions", "show", str(rejected.pk))
    replayed = run("submissions", "replay", str(rejected.pk))
    assert replayed.startswith(f"{rejected.pk}: 422")
    assert Submission.objects.filter(replay_of=rejected).count() == 1


def test_submissions_replay_needs_ids_or_failed(db):
    with pytest.raises(CommandError, match="name submission ids, or --failed"):
        run("submissions", "replay")
    with pytest.raises(CommandError, match="no submission 99"):
        run("submissions", "replay", "99")


def test_tokens_create_list_and_revoke(org):
    output = run("tokens", "create", "maria@example.com", "--name", "laptop")
    token = output.strip().splitlines()[-1]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/submissions").status_code == 200
    prefix = token.split("_")[2]
    assert prefix in run("tokens", "list", "maria@example.com")
    run("tokens", "revoke", prefix)
    assert client.get("/api/v1/submissions").status_code == 401


def test_tokens_create_refuses_a_deactivated_user(org):
    with pytest.raises(CommandError, match=r"oscar@example\.com is deactivated"):
        run("tokens", "create", "oscar@example.com", "--name", "laptop")


def test_createadmin_checks_the_password(db, monkeypatch):
    monkeypatch.setenv("LEADBATON_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match="password: This password is too short"):
        run("createadmin", "ada@example.com")
    monkeypatch.setenv("LEADBATON_ADMIN_PASSWORD", "a-long-and-unusual-passphrase")
    run("createadmin", "Ada@Example.com", "--name", "Ada")
    admin = User.objects.get(email="ada@example.com")
    assert (admin.is_superuser, admin.role, admin.check_password("a-long-and-unusual-passphrase")) == (True, "admin", True)
    with pytest.raises(CommandError, match="exists already"):
        run("createadmin", "ada@example.com")


def test_worker_once_does_what_is_due(db):
    assert run("worker", "--once").strip() == "done: 0"


LEADBATON = str(Path(sys.executable).with_name("leadbaton"))
COMMANDS = ["serve", "worker", "demo", "config", "createadmin", "sources", "submissions", "tokens"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself_with_help(command, tmp_path):
    result = subprocess.run([LEADBATON, command, "--help"], capture_output=True, text=True,
                            env={**os.environ, "LEADBATON_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "usage: leadbaton" in result.stdout
    assert len(result.stdout.splitlines()) > 5


def test_a_command_run_away_from_leadbatons_data_says_where_it_looked(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run([LEADBATON, "sources", "list"], capture_output=True, text=True,
                            env={**env, "LEADBATON_DATA_DIR": str(tmp_path / "elsewhere")})
    assert result.returncode == 1
    assert "is not set up" in result.stderr
    assert f"LEADBATON_DATA_DIR is {tmp_path / 'elsewhere'}" in result.stderr
