"""`leadbaton serve` as a process: behind a TLS proxy, with a database that refuses at boot, stopped mid-delivery."""

from __future__ import annotations

import signal
import time

import psycopg
import pytest

from tests.receivers import HttpReceiver

from . import http_request
from .conftest import Deployment, Server, on_postgres

pytestmark = pytest.mark.e2e


def test_behind_a_tls_proxy_it_believes_x_forwarded_proto_when_told_to(deployment: Deployment) -> None:
    server = deployment.start(
        LEADBATON_HTTPS="true", LEADBATON_PROXY_SSL_HEADER="X-Forwarded-Proto", LEADBATON_ALLOWED_HOSTS="leads.example,127.0.0.1"
    )
    headers = {"Host": "leads.example"}

    through_proxy = http_request(server.url, "GET", "/login/", headers={**headers, "X-Forwarded-Proto": "https"})
    plain = http_request(server.url, "GET", "/login/", headers=headers)

    assert through_proxy.status == 200, (through_proxy.status, through_proxy.headers)
    assert plain.status == 301
    assert plain.headers["location"] == "https://leads.example/login/"


def _ddl(deployment: Deployment, *statements: str) -> None:
    if deployment.database_url:
        with psycopg.connect(deployment.database_url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)
    else:
        for statement in statements:
            deployment.sql(statement)


def _refuse_holders(deployment: Deployment) -> None:
    """Every INSERT of a process's registration fails, as while the database restarts."""
    if on_postgres():
        _ddl(
            deployment,
            "CREATE FUNCTION e2e_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'restarting'; END $$",
            "CREATE TRIGGER e2e_refuse BEFORE INSERT ON core_holder FOR EACH ROW EXECUTE FUNCTION e2e_refuse()",
        )
    else:
        deployment.sql("CREATE TRIGGER e2e_refuse BEFORE INSERT ON core_holder BEGIN SELECT RAISE(ABORT, 'restarting'); END")


def _accept_holders(deployment: Deployment) -> None:
    if on_postgres():
        _ddl(deployment, "DROP TRIGGER e2e_refuse ON core_holder", "DROP FUNCTION e2e_refuse()")
    else:
        deployment.sql("DROP TRIGGER e2e_refuse")


def test_a_database_that_refuses_the_registration_at_boot_does_not_stop_the_server(deployment: Deployment) -> None:
    _refuse_holders(deployment)
    server = Server(deployment, deployment.env)
    deployment.servers.append(server)
    deadline = time.monotonic() + 30
    while "could not register this process" not in server.output():
        assert server.process.poll() is None, f"`leadbaton serve` exited with {server.process.returncode}\n{server.output()}"
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.1)
    time.sleep(1.0)  # a retry fails too
    assert server.process.poll() is None, f"`leadbaton serve` exited with {server.process.returncode}\n{server.output()}"

    _accept_holders(deployment)
    server.wait_until_healthy()  # the worker, started once the process is registered, says so

    assert deployment.sql("SELECT count(*) FROM core_holder")[0][0] >= 1
    assert server.post_lead({"email": "after.restart@northwind.example"}).status == 201


def test_a_delivery_under_way_at_sigterm_is_finished_and_not_sent_again(deployment: Deployment) -> None:
    with HttpReceiver(delay=3.0) as receiver:
        deployment.leadbaton("webhooks", "add", receiver.url, "--events", "lead.created")
        server = deployment.start(LEADBATON_WORKER_POLL_MS="50")
        assert server.post_lead({"email": "dana@northwind.example"}).status == 201
        deadline = time.monotonic() + 20
        while not receiver.requests:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)

        server.process.send_signal(signal.SIGTERM)  # mid-delivery: the receiver answers in 3 s
        assert server.process.wait(20) == 0, server.output()
        assert deployment.sql("SELECT status FROM notify_outboxmessage") == [("sent",)]

        deployment.start(LEADBATON_WORKER_POLL_MS="50")
        time.sleep(3.0)  # long enough for a restarted worker to take back the claims of a process that died

    assert len(receiver.requests) == 1
