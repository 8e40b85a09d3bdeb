"""Several `leadbaton worker` processes share the outbox: nothing is sent twice, a killed worker loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from tests.receivers import HttpReceiver

from .conftest import LEADBATON

if TYPE_CHECKING:
    from .conftest import Deployment

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

LEADS = 40


def queue_webhooks(deployment: Deployment, receiver: HttpReceiver) -> None:
    """LEADS leads, each with a lead.created webhook waiting in the outbox (the server runs no worker)."""
    deployment.leadbaton("webhooks", "add", receiver.url, "--events", "lead.created")
    server = deployment.start(LEADBATON_SERVE_WORKER="false", LEADBATON_INTAKE_RATE_LIMIT="1000000")
    for number in range(LEADS):
        assert server.post_lead({"email": f"buyer{number}@company.example"}).status == 201
    assert deployment.sql("SELECT count(*) FROM notify_outboxmessage WHERE status = 'pending'") == [(LEADS,)]


def worker(deployment: Deployment, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(LEADBATON), "worker"], env={**deployment.env, **env}, cwd=deployment.data_dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_until_sent(deployment: Deployment, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if deployment.sql("SELECT count(*) FROM notify_outboxmessage WHERE status = 'sent'") == [(LEADS,)]:
            return
        time.sleep(0.2)
    pytest.fail(f"not every message was sent: {deployment.sql('SELECT status, count(*) FROM notify_outboxmessage GROUP BY status')}")


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=20)


def test_three_workers_deliver_every_message_exactly_once(deployment: Deployment) -> None:
    with HttpReceiver(delay=0.02) as receiver:
        queue_webhooks(deployment, receiver)
        workers = [worker(deployment, LEADBATON_WORKER_POLL_MS="50") for _ in range(3)]
        try:
            wait_until_sent(deployment)
        finally:
            codes = [stop(process) for process in workers]
    assert codes == [0, 0, 0]  # a graceful stop on SIGTERM
    ids = Counter(request.headers["webhook-id"] for request in receiver.requests)
    assert len(ids) == LEADS
    assert max(ids.values()) == 1


def test_a_worker_killed_mid_delivery_only_delays_what_it_held(deployment: Deployment) -> None:
    with HttpReceiver(delay=0.25) as receiver:
        queue_webhooks(deployment, receiver)
        doomed = worker(deployment, LEADBATON_WORKER_LEASE_SECONDS="5")
        while len(receiver.requests) < 3:
            time.sleep(0.05)
        os.killpg(doomed.pid, signal.SIGKILL)  # no goodbye: its claims stay until their lease runs out
        doomed.wait()
        survivor = worker(deployment, LEADBATON_WORKER_POLL_MS="100")
        try:
            wait_until_sent(deployment, timeout=90)
        finally:
            stop(survivor)
    ids = Counter(request.headers["webhook-id"] for request in receiver.requests)
    assert len(ids) == LEADS  # nothing lost
    assert sum(count - 1 for count in ids.values()) <= 20  # at most what the killed worker had claimed went twice
