"""Routing and notification against a running `leadbaton serve`: the owner is in the 201, the email arrives."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from tests.receivers import SmtpServer

from . import post_lead

if TYPE_CHECKING:
    from .conftest import Deployment

pytestmark = pytest.mark.e2e

REPS = ["ana", "ben", "cho", "dev", "eli"]
ALWAYS = "mon-sun 00:00-24:00"  # available whenever the test runs


def organise(deployment: Deployment) -> None:
    reps = "".join(
        f"  - {{email: {name}@lumen.example, name: {name.title()}, team: sales, hours: '{ALWAYS}', time_zone: UTC}}\n" for name in REPS
    )
    org = deployment.data_dir / "org.yaml"
    org.write_text("teams:\n  - {slug: sales, name: Sales, time_zone: UTC, default: true}\nreps:\n" + reps)
    deployment.leadbaton("config", "apply", str(org))


def test_a_lead_posted_over_http_is_owned_by_a_rep_in_the_answer_and_their_email_arrives(deployment: Deployment) -> None:
    organise(deployment)
    with SmtpServer() as smtp:
        server = deployment.start(LEADBATON_EMAIL_HOST="127.0.0.1", LEADBATON_EMAIL_PORT=str(smtp.port))
        reply = server.post_lead({"email": "dana@northwind.example", "first_name": "Dana", "message": "Call me today"})
        assert reply.status == 201, reply.body
        answer = reply.json()
        assert (answer["stage"], answer["owner"]["kind"], answer["owner"]["name"]) == ("assigned", "rep", "Ana")
        [email] = smtp.inbox.wait_for(1, timeout=10)
    assert email["To"] == "ana@lumen.example"
    assert email["Subject"].startswith("New lead for you: Dana")
    assert "Call me today" in email.get_payload()[0].get_payload(decode=True).decode()


@pytest.mark.postgres
def test_four_hundred_leads_from_eight_clients_go_round_the_team_evenly(deployment: Deployment) -> None:
    organise(deployment)
    server = deployment.start(LEADBATON_WEB_PROCESSES="4", LEADBATON_INTAKE_RATE_LIMIT="1000000", LEADBATON_SERVE_WORKER="false")

    def send(number: int) -> tuple[int, int]:
        reply = post_lead(server.url, deployment.key, {"email": f"buyer{number}@company{number}.example"})
        return reply.status, reply.json()["owner"]["id"]

    with ThreadPoolExecutor(max_workers=8) as clients:
        answers = list(clients.map(send, range(400)))
    assert {status for status, _ in answers} == {201}
    per_rep = Counter(owner for _, owner in answers)
    assert len(per_rep) == 5
    assert all(79 <= count <= 81 for count in per_rep.values()), per_rep
    # In the database too: every lead owned by exactly one rep, with exactly one handoff each.
    rows = deployment.sql("SELECT owner_kind, count(*) FROM leads_lead GROUP BY owner_kind")
    assert rows == [("rep", 400)]
    handoffs = deployment.sql("SELECT count(*), count(DISTINCT lead_id) FROM leads_handoff")
    assert handoffs == [(400, 400)]
    held = deployment.sql("SELECT owner_rep_id, count(*) FROM leads_lead GROUP BY owner_rep_id")
    assert sorted(count for _, count in held) == sorted(per_rep.values())
