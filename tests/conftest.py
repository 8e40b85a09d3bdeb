"""Shared fixtures: named people, a small organisation, a source with a key, and an API client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.core import clock
from leadbaton.core.cache import cache_clear
from leadbaton.core.claims import holder_forget
from leadbaton.intake.services import IssuedKey, source_create


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    skip = pytest.mark.skip(reason="needs PostgreSQL; runs in the PostgreSQL pass of the test command")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Every test starts at the same moment, so routing (which depends on working hours) is repeatable:
# a Wednesday evening in Berlin (21:00, after hours) and afternoon in New York (15:00).
WEDNESDAY_EVENING_IN_BERLIN = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_process_cache() -> None:
    """Each test starts as a new process would: nothing of another test's configuration in memory, no claim holder registered."""
    cache_clear()
    holder_forget()


@pytest.fixture(autouse=True)
def _fixed_start() -> Iterator[None]:
    with time_machine.travel(WEDNESDAY_EVENING_IN_BERLIN, tick=True):
        yield


@dataclass
class Org:
    admin: User
    marketer: User
    manager: User
    alice: User
    bob: User
    outsider: User
    emea: Team
    amer: Team


@pytest.fixture
def org(db: None) -> Org:
    admin = User.objects.create_superuser("ada@example.com", "pw", name="Ada Admin")
    marketer = User.objects.create_user("mark@example.com", "pw", name="Mark Marketer", role=Role.MARKETING)
    manager = User.objects.create_user("maria@example.com", "pw", name="Maria Manager", role=Role.MANAGER)
    alice = User.objects.create_user("alice@example.com", "pw", name="Alice Rep", role=Role.REP)
    bob = User.objects.create_user("bob@example.com", "pw", name="Bob Rep", role=Role.REP)
    outsider = User.objects.create_user("oscar@example.com", "pw", name="Oscar Outsider", role=Role.REP, is_active=False)
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", manager=manager, is_default=True)
    amer = Team.objects.create(slug="amer", name="Americas", time_zone="America/New_York", manager=manager)
    hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    RepProfile.objects.create(user=alice, team=emea, time_zone="Europe/Berlin", hours=hours)
    RepProfile.objects.create(user=bob, team=amer, time_zone="America/New_York", hours=hours)
    return Org(admin, marketer, manager, alice, bob, outsider, emea, amer)


@pytest.fixture
def source(db: None) -> IssuedKey:
    return source_create(slug="website", name="Website contact form", default_region="US", now=clock.now())


class IntakeClient:
    """Posts to the intake API as a source would."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.client = Client()

    def post(self, body: Any, *, key: str | None = None, idempotency_key: str | None = None, raw: bytes | None = None) -> Any:
        headers = {}
        if key is not False:
            headers["Authorization"] = f"Bearer {key or self.key}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        data = raw if raw is not None else json.dumps(body)
        return self.client.post("/api/v1/leads", data=data, content_type="application/json", headers=headers)


@pytest.fixture
def intake(source: IssuedKey) -> IntakeClient:
    return IntakeClient(source.plaintext)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"
