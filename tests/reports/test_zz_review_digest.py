from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadbaton.accounts.models import Role, Team, RepProfile
from leadbaton.core import clock
from leadbaton.notify.models import OutboxMessage
from leadbaton.pipeline import digest as digest_mod
from leadbaton.pipeline.digest import EVENT, digest_id, digests_send
from tests.api.test_rep_api import person, rep
from tests.reports.test_reconciliation import EVERY_DAY

BERLIN_MONDAY_7 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def subjects():
    return {m.recipient: (m.message_id, m.payload["subject"]) for m in OutboxMessage.objects.filter(event=EVENT)}


def test_rep_east_of_team_gets_week_before_last(db):
    maria = person("Maria Manager", Role.MANAGER)
    Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", manager=maria, is_default=True)
    west = Team.objects.create(slug="west", name="West", time_zone="America/Los_Angeles")
    berliner = rep("Bea Berliner", west, hours=EVERY_DAY, time_zone="Europe/Berlin")
    sing = rep("Sam Singapore", west, hours=EVERY_DAY, time_zone="Asia/Singapore")
    with time_machine.travel(BERLIN_MONDAY_7, tick=False):
        digests_send(now=clock.now())
    print(subjects())
    got = subjects()
    # Monday 07:00 Berlin is Sunday 22:00 in LA: last full week should be 2026-W48
    assert got[berliner.email][1] == "Your week 2026-W48", got[berliner.email]


def test_manager_of_teams_in_far_zones(db):
    maria = person("Maria Manager", Role.MANAGER)
    Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    Team.objects.create(slug="apac", name="APAC", time_zone="Asia/Tokyo", manager=maria)
    Team.objects.create(slug="west", name="West", time_zone="America/Los_Angeles", manager=maria)
    tokyo_monday_7 = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
    with time_machine.travel(tokyo_monday_7, tick=False):
        digests_send(now=clock.now())
    m = OutboxMessage.objects.get(event=EVENT)
    titles = [s["title"] for s in m.payload["sections"]]
    print(m.message_id, m.payload["subject"], titles)
    assert not any("2026-W47" in t for t in titles), titles


def test_one_failing_person_blocks_everyone_after(db, monkeypatch):
    Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    emea = Team.objects.get(slug="emea")
    reps = [rep(f"R{n} Rep", emea, hours=EVERY_DAY) for n in range(4)]
    real = digest_mod.digest_of

    def flaky(person, *, now):
        if person.pk == reps[1].pk:
            raise RuntimeError("boom")
        return real(person, now=now)

    monkeypatch.setattr(digest_mod, "digest_of", flaky)
    for hours in range(0, 72, 12):
        with time_machine.travel(BERLIN_MONDAY_7 + timedelta(hours=hours), tick=False):
            with pytest.raises(RuntimeError):
                digests_send(now=clock.now())
    print(sorted(subjects()))
    assert reps[2].email in subjects()


def test_cost_of_runs(db):
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    mgrs = [person(f"M{n} Manager", Role.MANAGER) for n in range(10)]
    teams = [Team.objects.create(slug=f"t{n}", name=f"T{n}", time_zone="Europe/Berlin", manager=mgrs[n]) for n in range(10)]
    for n in range(300):
        rep(f"P{n} Rep", teams[n % 10], hours=EVERY_DAY)
    with time_machine.travel(BERLIN_MONDAY_7, tick=False):
        t = time.monotonic()
        with CaptureQueriesContext(connection) as q:
            n = digests_send(now=clock.now())
        print("first run", n, "digests", len(q), "queries", round(time.monotonic() - t, 2), "s")
    with time_machine.travel(BERLIN_MONDAY_7 + timedelta(minutes=5), tick=False):
        t = time.monotonic()
        with CaptureQueriesContext(connection) as q:
            n = digests_send(now=clock.now())
        print("second run", n, "digests", len(q), "queries", round(time.monotonic() - t, 2), "s")
