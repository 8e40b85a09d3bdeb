"""Production settings: `leadbaton check --deploy` is quiet with the documented variables, and HTTPS works behind a proxy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from leadbaton.core.env import SettingError, env_proxy_header

ROOT = Path(__file__).resolve().parents[2]
LEADBATON = str(Path(sys.executable).with_name("leadbaton"))


def documented_production_variables() -> dict[str, str]:
    """The first ```sh block under "## In production" in docs/configuration.md."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    section = text.split("\n## In production\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "docs/configuration.md has no sh block under 'In production'"
    return dict(line.split("=", 1) for line in block.group(1).splitlines() if line.strip())


def check_deploy(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEADBATON_") and k != "DATABASE_URL"}
    environ.update(LEADBATON_DATA_DIR=str(tmp_path / "data"), LEADBATON_ENV_FILE=os.devnull, **variables)
    migrated = subprocess.run([LEADBATON, "migrate", "-v0"], env=environ, cwd=tmp_path, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    return subprocess.run([LEADBATON, "check", "--deploy", "--fail-level", "WARNING"], env=environ, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_prints_no_warning_with_the_documented_production_variables(tmp_path):
    variables = documented_production_variables()
    assert variables["LEADBATON_HTTPS"] == "true"
    result = check_deploy(tmp_path, **variables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_env_example_offers_every_documented_production_variable():
    example = (ROOT / ".env.example").read_text()
    for name, value in documented_production_variables().items():
        assert f"# {name}={value}\n" in example


def test_check_deploy_warns_without_https(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode == 1
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_check_deploy_warns_of_redirects_without_the_proxys_header(tmp_path):
    result = check_deploy(tmp_path, LEADBATON_HTTPS="true")
    assert result.returncode == 1
    assert "leadbaton.W003" in result.stderr
    assert "LEADBATON_PROXY_SSL_HEADER=X-Forwarded-Proto" in result.stderr


def test_check_deploy_warns_of_a_data_directory_others_can_read(tmp_path):
    (tmp_path / "data").mkdir(mode=0o755)
    os.chmod(tmp_path / "data", 0o755)
    result = check_deploy(tmp_path, **documented_production_variables())
    assert result.returncode == 1
    assert "leadbaton.W001" in result.stderr
    assert f"chmod 700 {tmp_path / 'data'}" in result.stderr


def test_it_reads_the_proxys_https_header():
    assert env_proxy_header("H", {"H": "X-Forwarded-Proto"}) == ("HTTP_X_FORWARDED_PROTO", "https")
    assert env_proxy_header("H", {"H": "X-Forwarded-Ssl: on"}) == ("HTTP_X_FORWARDED_SSL", "on")
    assert env_proxy_header("H", {}) is None
    with pytest.raises(SettingError, match="H='X Forwarded' is not a header name"):
        env_proxy_header("H", {"H": "X Forwarded"})


@pytest.fixture
def behind_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True


def test_behind_https_it_redirects_plain_http_but_answers_what_the_proxy_says_came_over_https(behind_https, db):
    plain = Client().get("/login/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login/"
    proxied = Client().get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert proxied.cookies["csrftoken"]["secure"]


def test_behind_https_a_load_balancers_health_check_over_plain_http_is_answered(behind_https, db):
    assert Client().get("/healthz").status_code == 200
