"""A NUL character in any field of any form or API body is refused by the field's name (400 on a page, 422 from the
API), before anything is stored: PostgreSQL stores no NUL in text. Generated from the routes the permission test
calls, so a new form or endpoint is covered as soon as it has a probe. Intake keeps what it can of such a body."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from leadbaton.accounts.services import token_issue
from leadbaton.core import clock
from tests.api import test_permissions
from tests.api.test_permissions import PROBES, TABLE, World, body_of

world = test_permissions.world

WITH_BODY = [route for route in sorted(TABLE) if route.split(" ", 1)[0] in ("POST", "PUT", "PATCH")
             and route != "POST /api/v1/leads" and not route.startswith(("POST /login/", "PUT /login/", "POST /logout/", "POST /account/", "PUT /account/"))]


def first_text(body: dict[str, Any]) -> tuple[str, list[str | int]] | None:
    """The path of the first text in a body, as a list of keys and positions."""
    for key, value in body.items():
        if isinstance(value, str):
            return key, [key]
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict) and (inner := first_text(item)) is not None:
                    return f"{key}.{index}.{inner[0]}", [key, index, *inner[1]]
    return None


def with_nul(body: dict[str, Any], where: list[str | int]) -> dict[str, Any]:
    copy: Any = {**body}
    target = copy
    for step in where[:-1]:
        target[step] = list(target[step]) if isinstance(target[step], list) else {**target[step]}
        target = target[step]
    target[where[-1]] = f"{target[where[-1]]}\x00"
    return copy


@pytest.mark.parametrize("route", WITH_BODY)
def test_a_nul_character_in_a_field_is_refused_by_its_name(world: World, route: str) -> None:
    method = route.split(" ", 1)[0]
    path, body = PROBES[route](world)
    if body is None:
        if path.startswith("/api/"):
            pytest.skip("the endpoint reads no body")
        body = {"note": "x"}  # a page form: any field is refused
    found = first_text(body)
    if found is None:
        pytest.skip("the body has no text")
    field, where = found
    admin = world.callers["admin"]
    assert admin is not None
    client = Client()
    client.force_login(admin)
    headers = {"Authorization": f"Bearer {token_issue(user=admin, name='probe', now=clock.now()).plaintext}"}
    answer = getattr(client, method.lower())(path, headers=headers, **body_of(path, with_nul(body, where)))
    if path.startswith("/api/"):
        assert answer.status_code == 422, (route, answer.content[:300])
        assert answer.json()["errors"] == [{"field": field, "message": "contains a NUL character (\\u0000), which cannot be stored; remove it"}]
    else:
        assert answer.status_code == 400, (route, answer.content[:300])
        page = answer.content.decode()
        assert "NUL character (\\x00), which cannot be stored; remove it and send the form again" in page
        assert f"{field.capitalize()}: contains a NUL character" in page


def test_a_lone_surrogate_in_an_api_body_is_refused_by_its_field(world: World) -> None:
    admin = world.callers["admin"]
    assert admin is not None
    client = Client()
    headers = {"Authorization": f"Bearer {token_issue(user=admin, name='probe', now=clock.now()).plaintext}"}
    body = '{"rules": [{"name": "x\\ud800", "team": "emea"}]}'
    answer = client.put("/api/v1/routing/rules", data=body, content_type="application/json", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "rules.0.name"
    assert "lone surrogate" in answer.json()["errors"][0]["message"]


def test_unreadable_values_in_paths_and_steps_are_refused_by_the_api_not_a_500(world: World) -> None:
    admin = world.callers["admin"]
    assert admin is not None
    headers = {"Authorization": f"Bearer {token_issue(user=admin, name='probe', now=clock.now()).plaintext}"}
    client = Client()
    answer = client.post(f"/api/v1/webhooks/{world.webhook_id}/deliveries/a%00b/redeliver", headers=headers)
    assert answer.status_code == 404
    answer = client.put("/api/v1/sla/policies/emea", data={"escalation": {"first_response": ["remind at ²%"]}},
                        content_type="application/json", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "escalation.first_response[0]"
