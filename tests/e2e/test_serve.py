"""`leadbaton serve` as a source and a browser see it: real HTTP against a real server process."""

from __future__ import annotations

import json
import time
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from .conftest import Deployment, Server

pytestmark = pytest.mark.e2e

DANA = {"email": "Dana.Whitfield@Northwind.example", "first_name": "Dana", "last_name": "Whitfield", "company": "Northwind"}


def field_names(answer: dict) -> list[str]:
    return [error["field"] for error in answer["errors"]]


def test_it_answers_a_new_lead_with_201_its_id_stage_score_and_owner(server: Server) -> None:
    reply = server.post_lead(DANA)

    assert reply.status == 201, reply.body
    assert reply.headers["content-type"].startswith("application/json")
    answer = reply.json()
    assert set(answer) >= {"id", "submission_id", "stage", "score", "merged", "owner", "received_at", "warnings"}
    assert isinstance(answer["id"], int)
    assert isinstance(answer["submission_id"], int)
    assert isinstance(answer["stage"], str)
    assert answer["stage"]
    assert isinstance(answer["score"], int)
    assert answer["merged"] is False
    assert answer["owner"] is not None
    assert set(answer["owner"]) == {"kind", "id", "name"}
    assert answer["owner"]["kind"] in {"marketing", "team", "rep"}
    assert answer["owner"]["name"]
    assert answer["received_at"].endswith("Z")
    assert datetime.fromisoformat(answer["received_at"].replace("Z", "+00:00")).tzinfo is not None
    assert isinstance(answer["warnings"], list)


def test_it_merges_the_same_person_sent_again_with_the_email_in_other_case_and_spaces(server: Server) -> None:
    first = server.post_lead(DANA)
    again = server.post_lead({**DANA, "email": "  dana.whitfield@NORTHWIND.EXAMPLE  ", "message": "Any news?"})

    assert first.status == 201, first.body
    assert again.status == 200, again.body
    assert again.json()["merged"] is True
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["submission_id"] != first.json()["submission_id"]


def test_it_answers_400_naming_the_body_when_the_body_is_not_json(server: Server) -> None:
    reply = server.post_lead(raw=b"email=dana@northwind.example&first_name=Dana")

    assert reply.status == 400, reply.body
    assert "body" in field_names(reply.json())
    assert "submission_id" in reply.json()


def test_it_answers_401_to_a_request_without_a_key(server: Server) -> None:
    reply = server.post_lead(DANA, key=None)

    assert reply.status == 401, reply.body
    assert field_names(reply.json()) == ["Authorization"]
    assert reply.headers["www-authenticate"].startswith("Bearer")


def test_it_answers_413_to_a_body_of_70_kib(server: Server) -> None:
    body = json.dumps({**DANA, "message": "x" * (70 * 1024)}).encode()
    assert len(body) > 70 * 1024

    reply = server.post_lead(raw=body)

    assert reply.status == 413, reply.body
    assert field_names(reply.json()) == ["body"]


def test_it_replays_a_repeated_idempotency_key_and_refuses_it_with_another_body(server: Server) -> None:
    first = server.post_lead(DANA, idempotency_key="form-submit-7f3a")
    replay = server.post_lead(DANA, idempotency_key="form-submit-7f3a")
    other_body = server.post_lead({**DANA, "first_name": "Danielle"}, idempotency_key="form-submit-7f3a")

    assert first.status == 201, first.body
    assert replay.status == 200, replay.body
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["replay_of"] == first.json()["submission_id"]
    assert replay.headers.get("idempotent-replayed") == "true"
    assert other_body.status == 409, other_body.body
    assert field_names(other_body.json()) == ["Idempotency-Key"]


def test_a_change_made_by_another_process_applies_to_the_next_request(server: Server, deployment: Deployment) -> None:
    """The server keeps sources, teams and rules in memory; a change made elsewhere must still count at once."""
    assert server.post_lead(DANA).json()["stage"] == "nurture"  # no team yet: loaded and kept in memory

    deployment.leadbaton("sources", "revoke", "e2e")
    refused = server.post_lead({**DANA, "email": "lee@northwind.example"})
    fresh_key = deployment.leadbaton("sources", "key", "e2e").strip().splitlines()[-1].strip()
    accepted = server.post_lead({**DANA, "email": "lee@northwind.example"}, key=fresh_key)

    assert refused.status == 401, refused.body
    assert accepted.status == 201, accepted.body

    org = deployment.data_dir / "org.yaml"
    org.write_text(
        "teams: [{slug: emea, name: EMEA, time_zone: Europe/Berlin, default: true}]\n"
        "reps: [{email: lena@northwind.example, name: Lena, team: emea, hours: 'mon-sun 00:00-24:00'}]\n"
    )
    deployment.leadbaton("config", "apply", str(org))
    routed = server.post_lead({**DANA, "email": "kim@northwind.example"}, key=fresh_key)

    assert (routed.json()["stage"], routed.json()["owner"]["name"]) == ("assigned", "Lena"), routed.body


def test_it_serves_the_openapi_document_with_the_leads_path(server: Server) -> None:
    reply = server.get("/api/v1/openapi.json")

    assert reply.status == 200, reply.body
    document = reply.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/leads" in document["paths"]
    assert "post" in document["paths"]["/api/v1/leads"]


class _Assets(HTMLParser):
    """The URLs of every script and stylesheet (and icon) a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(str(values["src"]))
        if tag == "link" and values.get("href"):
            self.urls.append(str(values["href"]))


def test_it_serves_the_api_docs_from_its_own_static_files_only(server: Server) -> None:
    page = server.get("/api/v1/docs")

    assert page.status == 200, page.body
    assert page.headers["content-type"].startswith("text/html")
    assets = _Assets()
    assets.feed(page.body.decode())
    assert any(url.endswith(".js") for url in assets.urls), assets.urls
    assert any(url.endswith(".css") for url in assets.urls), assets.urls
    elsewhere = [url for url in assets.urls if urlsplit(url).scheme or urlsplit(url).netloc]
    assert elsewhere == [], "the docs page loads files from another host"
    for url in assets.urls:
        reply = server.get(url)
        assert reply.status == 200, f"{url} answered {reply.status}"
        assert reply.body, f"{url} is empty"


def test_it_stops_gracefully_on_sigterm_and_keeps_its_leads_across_a_restart(deployment: Deployment) -> None:
    first_server = deployment.start()
    created = first_server.post_lead(DANA)
    assert created.status == 201, created.body

    asked = time.monotonic()
    exit_code = first_server.stop()
    took = time.monotonic() - asked

    assert exit_code == 0, f"`leadbaton serve` exited with {exit_code} after SIGTERM ({took:.1f} s)"
    assert took < 20
    second_server = deployment.start()
    again = second_server.post_lead({**DANA, "email": "dana.whitfield@northwind.example"})
    assert again.status == 200, again.body
    assert again.json()["merged"] is True
    assert again.json()["id"] == created.json()["id"]


def test_it_reads_a_chunked_body_without_content_length(server: Server) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        parts = [b'{"email": "chunked@northwind.', b'example", "first_name": "Kai"}']
        headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        connection.request("POST", "/api/v1/leads", body=iter(parts), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 201, answer
    assert answer["merged"] is False
