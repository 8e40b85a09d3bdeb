"""The same people arriving at the same instant from many clients become one lead each.

On PostgreSQL the server runs four gunicorn processes and the clients are OS
processes (spawned, released together by a barrier before every person), so
the races happen between database transactions in different server processes.
On SQLite one server process's threads race for the write lock.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from . import post_lead

if TYPE_CHECKING:  # spawned clients import this module; keep them from loading the fixtures
    from .conftest import Deployment, Server

PEOPLE = 30
CLIENT_PROCESSES = 6
CLIENT_THREADS = 8

# Answer = (person, HTTP status, lead id, replay_of or None)
Answer = tuple[int, int, Any, Any]


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"LEADBATON_WEB_PROCESSES": "4", "LEADBATON_INTAKE_RATE_LIMIT": "1000000"}


def person(number: int, client: int) -> tuple[dict[str, Any], str | None]:
    """Person `number` as client `client` sends them: (body, Idempotency-Key or None).

    Every person has one email; even-numbered people also have one phone; every
    third person is sent with one Idempotency-Key by every client (and so with
    the very same body, or the replay would be refused).
    """
    body: dict[str, Any] = {"email": f"person{number:02d}@race{number:02d}.example", "first_name": f"Person {number}"}
    if number % 2 == 0:
        body["phone"] = f"+1 415 555 {1000 + number:04d}"
    if number % 3 == 0:
        return body, f"race-person-{number}"
    body["message"] = f"asked by client {client}"
    return body, None


def expected_processed_inquiries(clients: int) -> int:
    """One inquiry per request, except that a replayed Idempotency-Key adds none."""
    return sum(1 if person(number, 0)[1] else clients for number in range(PEOPLE))


_barrier: Any = None


def _share_barrier(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def _post_everyone(url: str, key: str, client: int) -> list[Answer]:
    """In a spawned process: post every person, waiting at the barrier so that all clients send each one together."""
    return _post_in_step(url, key, client, _barrier)


def _post_in_step(url: str, key: str, client: int, barrier: Any) -> list[Answer]:
    answers = []
    try:
        for number in range(PEOPLE):
            body, idempotency_key = person(number, client)
            barrier.wait(timeout=60)
            reply = post_lead(url, key, body, idempotency_key=idempotency_key)
            answer = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
            answers.append((number, reply.status, answer.get("id"), answer.get("replay_of")))
    except BaseException:
        barrier.abort()  # the other clients stop waiting for this one
        raise
    return answers


def assert_one_lead_per_person(answers: list[Answer], deployment: Deployment, clients: int) -> None:
    """The answers and the database both say: one lead per person, created once, every request kept."""
    by_person: dict[int, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_person[answer[0]].append(answer)
    assert sorted(by_person) == list(range(PEOPLE))
    statuses = Counter(status for _, status, _, _ in answers)
    assert set(statuses) <= {200, 201}, f"answers other than 200/201: {statuses}"
    for number, theirs in by_person.items():
        assert len(theirs) == clients
        assert [status for _, status, _, _ in theirs].count(201) == 1, f"person {number}: {theirs}"
        assert len({lead_id for _, _, lead_id, _ in theirs}) == 1, f"person {number} got several leads: {theirs}"
        replays = [replay_of for _, _, _, replay_of in theirs if replay_of is not None]
        assert len(replays) == (clients - 1 if person(number, 0)[1] else 0), f"person {number}: {theirs}"
    lead_of = {number: theirs[0][2] for number, theirs in by_person.items()}

    leads = deployment.sql("SELECT email_key, count(*) FROM leads_lead GROUP BY email_key ORDER BY email_key")
    assert leads == [(person(number, 0)[0]["email"], 1) for number in range(PEOPLE)]
    phones = deployment.sql("SELECT phone, count(*) FROM leads_lead WHERE phone <> '' GROUP BY phone")
    assert sorted(phones) == sorted((f"+1415555{1000 + number:04d}", 1) for number in range(0, PEOPLE, 2))
    ids = dict(deployment.sql("SELECT email_key, id FROM leads_lead"))
    assert {number: ids[person(number, 0)[0]["email"]] for number in range(PEOPLE)} == lead_of

    requests = len(answers)
    assert deployment.sql("SELECT count(*) FROM intake_submission") == [(requests,)]
    assert deployment.sql("SELECT status, http_status, count(*) FROM intake_submission GROUP BY status, http_status ORDER BY 2") == [
        ("processed", 200, requests - PEOPLE),
        ("processed", 201, PEOPLE),
    ]
    [(processed_first_hand,)] = deployment.sql("SELECT count(*) FROM intake_submission WHERE status = 'processed' AND replay_of_id IS NULL")
    assert processed_first_hand == expected_processed_inquiries(clients)
    assert deployment.sql("SELECT count(*) FROM leads_inquiry") == [(processed_first_hand,)]
    handoffs = deployment.sql(
        "SELECT l.id, count(h.id) FROM leads_lead l LEFT JOIN leads_handoff h ON h.lead_id = l.id GROUP BY l.id ORDER BY l.id"
    )
    assert handoffs == [(lead_id, 1) for lead_id in sorted(lead_of.values())]


@pytest.mark.e2e
@pytest.mark.postgres
def test_it_makes_one_lead_per_person_when_six_processes_send_the_same_thirty_people_at_once(
    deployment: Deployment, server: Server
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(CLIENT_PROCESSES)
    with context.Pool(CLIENT_PROCESSES, initializer=_share_barrier, initargs=(barrier,)) as pool:
        work = pool.starmap_async(_post_everyone, [(server.url, server.key, client) for client in range(CLIENT_PROCESSES)], chunksize=1)
        per_client = work.get(timeout=120)

    assert_one_lead_per_person([answer for answers in per_client for answer in answers], deployment, CLIENT_PROCESSES)
    again = server.post_lead(person(4, 0)[0])
    assert again.status == 200, again.body
    assert again.json()["merged"] is True
    assert again.json()["id"] == per_client[0][4][2]


@pytest.mark.e2e
def test_it_makes_one_lead_per_person_when_eight_threads_send_the_same_people_to_a_sqlite_server_at_once(
    sqlite_only: None, deployment: Deployment, server: Server
) -> None:
    barrier = threading.Barrier(CLIENT_THREADS)
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        runs = [pool.submit(_post_in_step, server.url, server.key, client, barrier) for client in range(CLIENT_THREADS)]
        per_client = [run.result(timeout=120) for run in runs]

    assert_one_lead_per_person([answer for answers in per_client for answer in answers], deployment, CLIENT_THREADS)
