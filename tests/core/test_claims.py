"""The claim rule: a claim of a process that no longer runs is no claim; a live process's claim is respected."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db.models.functions import Now

from leadbaton.core import claims, clock
from leadbaton.core.claims import HOLDER_STALE, _machine, _process_started, heartbeat, holder_current, holders_check
from leadbaton.core.models import Holder
from leadbaton.intake.models import Submission
from leadbaton.intake.services import submission_claim
from leadbaton.notify.models import DeliveryAttempt, OutboxMessage
from leadbaton.notify.services import outbox_claim, outbox_deliver_batch, outbox_message, outbox_write_all

pytestmark = pytest.mark.django_db

LEASE = timedelta(seconds=60)


def a_finished_process() -> tuple[int, str]:
    """The PID and start time of a process of this machine that has exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(done.stdout), "1"


def holder(*, host: str | None = None, machine: str | None = None, pid: int = 1, started: str = "", heartbeat_ago: timedelta = timedelta(0)) -> Holder:
    # Heartbeats are by the database's clock (tests move this process's clock, not the database's).
    holder = Holder.objects.create(
        host=socket.gethostname() if host is None else host, machine=_machine() if machine is None else machine,
        pid=pid, process_started=started, started_at=clock.now() - heartbeat_ago, heartbeat_at=Now() - heartbeat_ago,
    )
    holder.refresh_from_db()
    return holder


def a_message_claimed_by(claimer: Holder) -> OutboxMessage:
    now = clock.now()
    outbox_write_all([outbox_message(channel="email", event="lead.assigned", payload={}, now=now, recipient="alice@northwind.example")])
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_until=now + LEASE, claimed_by=claimer, attempts=1)
    return message


def a_submission_claimed_by(claimer: Holder, intake) -> Submission:  # type: ignore[no-untyped-def]
    submission_id = intake.post({"email": "dana@northwind.example"}).json()["submission_id"]
    now = clock.now()
    Submission.objects.filter(pk=submission_id).update(
        status=Submission.Status.RECEIVED, lead=None, due_at=now, claimed_until=now + LEASE, claimed_by=claimer
    )
    return Submission.objects.get(pk=submission_id)


def test_it_takes_at_once_a_message_claimed_by_a_process_of_this_machine_that_no_longer_runs() -> None:
    pid, started = a_finished_process()
    message = a_message_claimed_by(holder(pid=pid, started=started))

    holders_check(now=clock.now())

    assert outbox_claim(now=clock.now(), lease=LEASE) == [message.pk]
    assert OutboxMessage.objects.get().claimed_by_id == holder_current()


def test_it_takes_at_once_a_submission_claimed_by_a_process_of_this_machine_that_no_longer_runs(intake) -> None:  # type: ignore[no-untyped-def]
    pid, started = a_finished_process()
    submission = a_submission_claimed_by(holder(pid=pid, started=started), intake)

    holders_check(now=clock.now())

    assert submission_claim(submission_id=submission.pk, now=clock.now(), lease=LEASE) is True


def test_it_takes_a_claim_whose_pid_now_runs_another_process() -> None:
    reused = holder(pid=1, started="not-the-start-time-of-pid-1")  # PID 1 runs, but it is not the process that claimed
    message = a_message_claimed_by(reused)

    holders_check(now=clock.now())

    assert outbox_claim(now=clock.now(), lease=LEASE) == [message.pk]


def test_it_respects_the_claim_of_a_live_process_on_this_machine() -> None:
    import os

    me = os.getpid()
    sibling = holder(pid=os.getppid() if os.getppid() != me else 1, started=_process_started(os.getppid()) or "")
    a_message_claimed_by(sibling)

    holders_check(now=clock.now())

    assert outbox_claim(now=clock.now(), lease=LEASE) == []
    assert Holder.objects.get(pk=sibling.pk).gone_at is None


def test_it_respects_the_claim_of_a_process_on_another_machine_while_its_heartbeat_is_fresh(intake) -> None:  # type: ignore[no-untyped-def]
    elsewhere = holder(host="web-2.internal", machine="another-boot/pid:[1]", pid=4242, heartbeat_ago=timedelta(seconds=5))
    a_message_claimed_by(elsewhere)
    submission = a_submission_claimed_by(elsewhere, intake)

    holders_check(now=clock.now())  # it cannot see that machine's PIDs: it leaves the holder alone

    assert outbox_claim(now=clock.now(), lease=LEASE) == []
    assert submission_claim(submission_id=submission.pk, now=clock.now(), lease=LEASE) is False
    assert Holder.objects.get(pk=elsewhere.pk).gone_at is None


def test_it_takes_the_claims_of_a_process_on_another_machine_once_its_heartbeat_is_stale(intake) -> None:  # type: ignore[no-untyped-def]
    silent = holder(host="web-2.internal", machine="another-boot/pid:[1]", pid=4242, heartbeat_ago=HOLDER_STALE + timedelta(seconds=1))
    message = a_message_claimed_by(silent)
    submission = a_submission_claimed_by(silent, intake)

    assert outbox_claim(now=clock.now(), lease=LEASE) == [message.pk]
    assert submission_claim(submission_id=submission.pk, now=clock.now(), lease=LEASE) is True


def test_a_live_process_that_holds_a_claim_too_long_loses_it_when_the_lease_runs_out() -> None:
    elsewhere = holder(host="web-2.internal", machine="another-boot/pid:[1]", pid=4242)
    message = a_message_claimed_by(elsewhere)
    later = clock.now() + LEASE + timedelta(seconds=1)
    Holder.objects.filter(pk=elsewhere.pk).update(heartbeat_at=Now() + LEASE)  # still beating

    assert outbox_claim(now=later, lease=LEASE) == [message.pk]


def test_a_process_never_takes_its_own_claim_before_the_lease_ends() -> None:
    now = clock.now()
    message = a_message_claimed_by(Holder.objects.get(pk=holder_current()))
    much_later = now + HOLDER_STALE * 2  # its own heartbeat row may look stale: it knows it runs

    assert outbox_claim(now=much_later, lease=LEASE) == []
    assert outbox_claim(now=now + LEASE + timedelta(seconds=1), lease=LEASE) == [message.pk]


def test_a_live_process_whose_proc_entry_this_process_cannot_see_is_not_taken_for_gone(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    # /proc mounted with hidepid=2 (or ProtectProc=invisible): this process sees itself, not the others
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "stat").write_text(Path("/proc/self/stat").read_text())
    monkeypatch.setattr(claims, "PROC", tmp_path)
    sibling = holder(pid=os.getppid(), started="12345")
    a_message_claimed_by(sibling)

    assert holders_check(now=clock.now()) == 0

    assert Holder.objects.get(pk=sibling.pk).gone_at is None
    assert outbox_claim(now=clock.now(), lease=LEASE) == []


def test_a_process_whose_row_was_pruned_registers_anew_at_its_next_heartbeat() -> None:
    pruned = holder_current()
    Holder.objects.filter(pk=pruned).delete()  # silent for a day (a suspended VM): another process forgot it

    heartbeat()

    assert holder_current() != pruned
    assert Holder.objects.filter(pk=holder_current()).exists()
    message = a_message_claimed_by(holder(host="web-2.internal", machine="another-boot/pid:[1]", heartbeat_ago=HOLDER_STALE * 2))
    assert outbox_claim(now=clock.now(), lease=LEASE) == [message.pk]
    assert OutboxMessage.objects.get().claimed_by_id == holder_current()


def test_heartbeats_are_written_by_the_databases_clock_not_this_machines() -> None:
    me = holder_current()
    with time_machine.travel(clock.now() - HOLDER_STALE * 2, tick=False):  # this machine's clock runs a minute behind
        heartbeat()
    beat, database_now = Holder.objects.annotate(database_now=Now()).values_list("heartbeat_at", "database_now").get(pk=me)
    assert abs(beat - database_now) < timedelta(seconds=5)


def test_a_process_whose_clock_runs_ahead_respects_a_live_process_elsewhere() -> None:
    elsewhere = holder(host="web-2.internal", machine="another-boot/pid:[1]", pid=4242)  # beating now, by the database
    database_now = Holder.objects.annotate(database_now=Now()).values_list("database_now", flat=True).get(pk=elsewhere.pk)
    OutboxMessage.objects.filter(pk=a_message_claimed_by(elsewhere).pk).update(claimed_until=database_now + LEASE)  # by its clock, the right one

    with time_machine.travel(database_now + HOLDER_STALE + timedelta(seconds=10), tick=False):  # this clock is 40 s ahead
        assert outbox_claim(now=clock.now(), lease=LEASE) == []


def test_a_process_that_lost_its_claim_while_sending_leaves_the_new_holders_claim_alone() -> None:
    now = clock.now()
    message = a_message_claimed_by(Holder.objects.get(pk=holder_current()))
    taker = holder(host="web-2.internal", machine="another-boot/pid:[1]", pid=4242)
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_by=taker, attempts=2)  # taken over while this one sent

    outbox_deliver_batch(message_ids=[message.pk], now=now)

    taken = OutboxMessage.objects.get()
    assert (taken.status, taken.claimed_by_id, taken.claimed_until is not None) == ("pending", taker.pk, True)
    assert DeliveryAttempt.objects.filter(message=message).count() == 1  # the try is on record all the same
