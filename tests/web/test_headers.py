"""Every answer but a static file is kept out of caches, and every page runs under a strict Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.test import Client

from leadbaton.accounts.services import token_issue
from leadbaton.core import clock


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lead_id(intake, org) -> int:
    return intake.post({"email": "dana@northwind.example", "first_name": "Dana", "company": "Northwind"}).json()["id"]


def assert_not_stored(response) -> None:
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


def test_pages_with_peoples_details_are_kept_out_of_every_cache(org, lead_id):
    admin = signed_in(org.admin)
    for path in ("/", f"/leads/{lead_id}/", "/admin/", "/admin/accounts/user/", "/api/v1/docs", "/api/v1/openapi.json"):
        response = admin.get(path)
        assert response.status_code == 200, path
        assert_not_stored(response)
    assert_not_stored(Client().get("/login/"))


def test_api_answers_with_peoples_details_are_kept_out_of_every_cache(org, lead_id, intake):
    assert_not_stored(intake.post({"email": "erin@contoso.example"}))
    token = token_issue(user=org.admin, name="laptop", now=clock.now()).plaintext
    response = Client().get(f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert_not_stored(response)
    assert_not_stored(Client().get(f"/api/v1/leads/{lead_id}"))  # refusals too


def test_static_files_stay_cacheable(db):
    response = Client().get("/static/web/leadbaton.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_every_page_carries_a_content_security_policy_without_inline_code(org, lead_id):
    admin = signed_in(org.admin)
    for path in ("/", f"/leads/{lead_id}/", "/admin/", "/api/v1/docs", "/login/"):
        policy = admin.get(path)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in policy
