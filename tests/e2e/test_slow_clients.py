"""Clients that send slowly, or declare more than they send, cannot stop `leadbaton serve` from answering others."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from . import http_request
from .conftest import Server

pytestmark = pytest.mark.e2e

SLOW_CLIENTS = 50


def _connect(server: Server, first_bytes: bytes) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    client.sendall(first_bytes)
    return client


@pytest.fixture
def stalled_clients(server: Server) -> Iterator[list[socket.socket]]:
    """50 clients that stopped halfway through a request header, and 50 halfway through a lead's body."""
    half_headers = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: "
    half_body = (
        b"POST /api/v1/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + server.key.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"email\": \"slow"
    )
    clients = [_connect(server, half_headers) for _ in range(SLOW_CLIENTS)]
    clients += [_connect(server, half_body) for _ in range(SLOW_CLIENTS)]
    time.sleep(0.5)  # every one of them is connected and has been read by the server
    yield clients
    for client in clients:
        client.close()


def _timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    reply = call()
    return reply, time.monotonic() - started


def test_it_answers_others_within_a_second_while_100_clients_stall_mid_request(
    server: Server, stalled_clients: list[socket.socket]
) -> None:
    for attempt in range(3):
        health, health_seconds = _timed(lambda: http_request(server.url, "GET", "/healthz", timeout=5))
        lead, lead_seconds = _timed(lambda n=attempt: server.post_lead({"email": f"quick{n}@northwind.example"}))

        assert health.status == 200, health.body
        assert lead.status == 201, lead.body
        assert health_seconds < 1.0
        assert lead_seconds < 1.0


def test_it_refuses_at_once_a_body_declared_larger_than_it_accepts_and_stores_nothing_for_it(server: Server) -> None:
    body = b'{"email": "big@northwind.example"}'
    client = _connect(
        server,
        b"POST /api/v1/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + server.key.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n" + body,
    )
    try:
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = client.recv(65536)  # the client keeps its side open, as one still sending would
            if not chunk:
                break
            answer += chunk
        waited = time.monotonic() - started
    finally:
        client.close()

    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer
    assert waited < 1.0
    assert [error["field"] for error in json.loads(payload)["errors"]] == ["body"]
    assert server.deployment.sql("SELECT count(*) FROM intake_submission WHERE body_size >= 100000000") == [(0,)]
