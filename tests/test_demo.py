"""`leadbaton demo`: the example organisation with logins anyone can type, written to DATA_DIR/demo.txt."""

from __future__ import annotations

import io
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadbaton.accounts.models import Role, Team, User
from leadbaton.intake.models import SourceKey
from leadbaton.intake.queries import source_key_find


def demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def keys_in(text: str) -> dict[str, str]:
    return dict(re.findall(r"^  ([a-z0-9-]+) +(lb_src_\S+)", text, re.MULTILINE))


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


def test_it_loads_the_example_and_writes_the_logins_for_its_owner_only(db: None, data_dir: Path) -> None:
    output = demo()

    demo_txt = data_dir / "demo.txt"
    assert stat.S_IMODE(demo_txt.stat().st_mode) == 0o600
    text = demo_txt.read_text()
    assert text in output
    assert re.search(r"admin@lumenmetrics\.example +demo-admin-pass +admin", text)
    admin = User.objects.get(email="admin@lumenmetrics.example")
    assert (admin.is_superuser, admin.role) == (True, Role.ADMIN)
    assert admin.check_password("demo-admin-pass")
    assert User.objects.get(email="lena.hoffmann@lumenmetrics.example").check_password("demo-rep-pass")
    assert User.objects.get(email="priya.nair@lumenmetrics.example").check_password("demo-manager-pass")
    keys = keys_in(text)
    assert set(keys) == {"website", "trade-show-badges", "partner-portal"}
    assert all(source_key_find(f"Bearer {key}").source.slug == slug for slug, key in keys.items())


def test_it_prints_each_key_once_and_names_the_one_the_readme_uses(db: None, data_dir: Path) -> None:
    output = demo()

    keys = keys_in(output)
    assert list(keys) == ["website", "trade-show-badges", "partner-portal"]  # the file's order
    for key in keys.values():
        assert output.count(key) == 1
    website_line = next(line for line in output.splitlines() if keys["website"] in line)
    assert "README.md" in website_line
    assert sum("README.md" in line for line in output.splitlines() if "lb_src_" in line) == 1


def test_it_prints_each_key_once_when_it_only_shows_demo_txt(db: None, data_dir: Path) -> None:
    keys = keys_in(demo())

    output = demo("--if-empty")

    assert all(output.count(key) == 1 for key in keys.values())


def test_it_runs_twice_and_keeps_the_keys_it_printed(db: None, data_dir: Path) -> None:
    first = keys_in(demo())
    live_keys = SourceKey.objects.count()

    second = keys_in(demo())

    assert second == first
    assert SourceKey.objects.count() == live_keys
    assert Team.objects.count() == 3


def test_it_issues_a_new_key_when_the_old_one_is_lost(db: None, data_dir: Path) -> None:
    first = keys_in(demo())
    (data_dir / "demo.txt").unlink()

    second = keys_in(demo())

    assert second["website"] != first["website"]
    assert source_key_find(f"Bearer {second['website']}") is not None


def test_it_does_nothing_but_show_demo_txt_when_teams_exist(db: None, data_dir: Path) -> None:
    demo()
    User.objects.filter(email="admin@lumenmetrics.example").update(name="Renamed in the app")

    output = demo("--if-empty")

    assert output == (data_dir / "demo.txt").read_text()
    assert User.objects.get(email="admin@lumenmetrics.example").name == "Renamed in the app"


def test_it_leaves_an_existing_installation_alone_with_if_empty(org: Any, data_dir: Path) -> None:
    output = demo("--if-empty")

    assert "Teams exist already" in output
    assert not User.objects.filter(email="admin@lumenmetrics.example").exists()
    assert not (data_dir / "demo.txt").exists()


def test_it_says_where_the_file_was_expected_when_it_is_missing(db: None, data_dir: Path) -> None:
    with pytest.raises(CommandError, match=r"no organisation file at .*missing\.yaml; give one with --file PATH"):
        demo("--file", str(data_dir / "missing.yaml"))
