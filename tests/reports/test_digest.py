"""The weekly digest (P7): on Monday morning in each person's time zone, their last week by email, through the outbox,
once per person and week however many workers run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from leadbaton.accounts.models import RepProfile, Role, Team
from leadbaton.core import clock
from leadbaton.notify.models import OutboxMessage
from leadbaton.pipeline.coaching import focus_set
from leadbaton.pipeline.digest import EVENT, digest_id, digests_send
from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import person, rep
from tests.notify.test_notifications import smtp  # noqa: F401  (the fixture)
from tests.reports.test_reconciliation import EVERY_DAY

BERLIN_MONDAY_7 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 07:00 in Berlin, Monday of 2026-W49


def text_of(mail) -> str:
    return mail.get_payload()[0].get_payload(decode=True).decode()


def digests() -> dict[str, OutboxMessage]:
    return {message.recipient: message for message in OutboxMessage.objects.filter(event=EVENT)}


def test_each_person_gets_their_week_on_monday_morning_in_their_time_zone_once(week, smtp):  # noqa: F811
    """The service levels' week (EMEA in Berlin: Maria manages Lena and Jonas); Mia in marketing; Jordan sells in New York."""
    mia = person("Mia Marketer", Role.MARKETING)
    amer = Team.objects.create(slug="amer", name="Americas", time_zone="America/New_York")
    jordan = rep("Jordan Rep", amer, hours=EVERY_DAY, time_zone="America/New_York")
    focus_set(by=week["maria"], rep_id=week["lena"].pk, week="2026-W49", items=["Call every new lead within 5 minutes"], now=BERLIN_MONDAY_7)
    with time_machine.travel(BERLIN_MONDAY_7 - timedelta(seconds=1), tick=False):
        assert digests_send(now=clock.now()) == 0  # 06:59:59 in Berlin
    with time_machine.travel(BERLIN_MONDAY_7, tick=False):
        assert digests_send(now=clock.now()) == 4  # Maria, Lena, Jonas; Mia reads in the default team's zone, Berlin
        assert digests_send(now=clock.now()) == 0
        assert set(digests()) == {week["maria"].email, week["lena"].email, week["jonas"].email, mia.email}
        assert jordan.email not in digests()  # 01:00 in New York
        Worker(poll_seconds=0).tick()
    mails = {mail["To"]: mail for mail in smtp.inbox.wait_for(4)}
    manager = text_of(mails[week["maria"].email])
    assert mails[week["maria"].email]["Subject"] == "EMEA's week 2026-W48"
    assert "Lena Rep: open at start 0, received 2, purchased 1, not interested 0, rejected 0, reassigned away 0, open at end 1 (0 in progress)" in manager
    assert "Unaccounted: none; every lead is accounted for." in manager
    assert "Jonas Berg: 1 new leads, first touch median 20 min, 0% within 5 minutes; first responses met 0 of 1; close rate 0%" in manager
    assert "Open the reports: http" in manager
    lena = text_of(mails[week["lena"].email])
    assert mails[week["lena"].email]["Subject"] == "Your week 2026-W48"
    assert "- Call every new lead within 5 minutes" in lena
    assert "Jonas" not in lena  # a rep's digest is their own week
    marketing = text_of(mails[mia.email])
    assert "Sales-ready leads: 3" in marketing
    with time_machine.travel(BERLIN_MONDAY_7 + timedelta(hours=6), tick=False):
        assert digests_send(now=clock.now()) == 1  # 07:00 in New York: Jordan's
        assert digests()[jordan.email].message_id == digest_id(jordan.pk, "2026-W49")
    with time_machine.travel(BERLIN_MONDAY_7 + timedelta(days=3), tick=False):
        assert digests_send(now=clock.now()) == 0  # Thursday: everyone has this week's
    OutboxMessage.objects.filter(event=EVENT).delete()
    assert digests_send(now=BERLIN_MONDAY_7 + timedelta(days=3)) == 0  # and nobody is sent one on a Thursday


def test_the_outbox_keeps_one_digest_per_person_and_week(week):
    with time_machine.travel(BERLIN_MONDAY_7, tick=False):
        digests_send(now=clock.now())
    again = OutboxMessage.objects.get(message_id=digest_id(week["lena"].pk, "2026-W49"))
    again.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_write_one_digest_per_person(org):
    """Two workers' periodic runs at the same moment, in transactions of their own on PostgreSQL: Monday noon in UTC,
    morning in New York and Berlin alike."""
    reps = [rep(f"Rep{number} Lumen", org.emea, hours=EVERY_DAY) for number in range(6)]
    written: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait(10)
            written.append(digests_send(now=BERLIN_MONDAY_7 + timedelta(hours=6)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everyone = [org.manager, org.marketer, org.alice, org.bob, *reps]
    assert sum(written) == len(everyone)  # however the two runs interleaved
    assert sorted(digests()) == sorted(each.email for each in everyone)


def test_someone_east_of_their_team_gets_the_teams_last_week_once_it_has_ended_there(db):
    """Kai lives in Berlin and sells for the West team in Los Angeles: on Monday 07:00 in Berlin it is still Sunday there."""
    west = Team.objects.create(slug="west", name="West", time_zone="America/Los_Angeles", is_default=True)
    kai = rep("Kai Rep", west, hours=EVERY_DAY, time_zone="Europe/Berlin")
    assert digests_send(now=BERLIN_MONDAY_7) == 0
    assert digests_send(now=BERLIN_MONDAY_7 + timedelta(hours=2)) == 1  # midnight in Los Angeles
    message = digests()[kai.email]
    assert (message.message_id, message.payload["subject"]) == (digest_id(kai.pk, "2026-W49"), "Your week 2026-W48")


def test_a_run_stops_when_its_time_is_up_and_the_next_goes_on(week):
    assert digests_send(now=BERLIN_MONDAY_7, budget_seconds=0) == 0
    assert digests_send(now=BERLIN_MONDAY_7) == 3


def test_a_time_zone_this_machine_does_not_know_does_not_keep_anyone_from_their_digest(week):
    RepProfile.objects.filter(user=week["lena"]).update(time_zone="Mars/Olympus_Mons")
    assert digests_send(now=BERLIN_MONDAY_7) == 3  # Lena's in the default team's zone, Berlin
