from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from leadbaton.accounts.models import Role, Team
from leadbaton.core import clock
from leadbaton.notify.models import OutboxMessage
from leadbaton.pipeline.digest import EVENT, digests_send
from tests.api.test_rep_api import person, rep
from tests.reports.test_reconciliation import EVERY_DAY


def got():
    return sorted((m.recipient, m.message_id.split("-", 2)[2], m.payload["subject"]) for m in OutboxMessage.objects.filter(event=EVENT))


def run(at):
    with time_machine.travel(at, tick=False):
        return digests_send(now=clock.now())


def test_dst_and_week53(db):
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    west = Team.objects.create(slug="west", name="West", time_zone="America/Los_Angeles")
    b = rep("Bea Berlin", emea, hours=EVERY_DAY, time_zone="Europe/Berlin")
    l = rep("Lou LA", west, hours=EVERY_DAY, time_zone="America/Los_Angeles")
    s = rep("Sid Sing", emea, hours=EVERY_DAY, time_zone="Asia/Singapore")
    checks = [
        # EU spring forward Sun 2026-03-29: Monday 07:00 CEST = 05:00 UTC
        (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), {b.email, s.email, l.email}),
        (datetime(2026, 3, 29, 22, 59, tzinfo=UTC), set()),
        (datetime(2026, 3, 29, 23, 0, tzinfo=UTC), {s.email}),
        (datetime(2026, 3, 30, 4, 59, tzinfo=UTC), set()),
        (datetime(2026, 3, 30, 5, 0, tzinfo=UTC), {b.email}),
        (datetime(2026, 3, 30, 14, 0, tzinfo=UTC), {l.email}),
        (datetime(2026, 10, 30, 12, 0, tzinfo=UTC), {b.email, s.email, l.email}),
        # US fall back Sun 2026-11-01: Monday 07:00 PST = 15:00 UTC
        (datetime(2026, 11, 2, 14, 59, tzinfo=UTC), {b.email, s.email}),
        (datetime(2026, 11, 2, 15, 0, tzinfo=UTC), {l.email}),
        # week 53
        (datetime(2026, 12, 28, 15, 0, tzinfo=UTC), {b.email, s.email, l.email}),
        (datetime(2027, 1, 4, 15, 0, tzinfo=UTC), {b.email, s.email, l.email}),
        (datetime(2027, 1, 10, 22, 59, tzinfo=UTC), set()),
    ]
    for at, expect in checks:
        before = {(r, k) for r, k, _ in got()}
        run(at)
        after = {(r, k) for r, k, _ in got()}
        new = {r for r, _ in after - before}
        print(at, sorted(after - before))
        assert new == expect, (at, new, expect)
    for row in got():
        print(row)
