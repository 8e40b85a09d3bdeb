"""Every refusal of the API has one shape, {"errors": [{"field", "message"}]}, whoever produces it."""

from __future__ import annotations

import pytest
from django.test import Client

from leadbaton.accounts.services import token_issue
from leadbaton.core import clock

TOKEN_ERROR = "is not a live personal token (unknown, revoked, or not a Bearer token); send Authorization: Bearer <personal token> or sign in"
NOT_AN_OBJECT = "must be a JSON object with this endpoint's fields (see /api/v1/docs), not {}"


def staff_client(user) -> Client:
    token = token_issue(user=user, name="tests", now=clock.now()).plaintext
    return Client(headers={"Authorization": f"Bearer {token}"})


def send(client: Client, method: str, url: str, body: str | None = None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, data=body or "", content_type="application/json")


@pytest.fixture
def admin(org) -> Client:
    return staff_client(org.admin)


@pytest.mark.parametrize(("method", "url", "field", "message"), [
    ("get", "/api/v1/submissions/999", "submission_id", "there is no submission with this id that you can see"),
    ("post", "/api/v1/submissions/999/replay", "submission_id", "there is no submission 999"),
    ("get", "/api/v1/leads/999/routing", "lead_id", "there is no lead with this id that you can see"),
    ("post", "/api/v1/leads/999/reassign", "lead_id", "there is no lead with this id that you can see"),
    ("patch", "/api/v1/webhooks/999", "subscription_id", "there is no webhook subscription 999"),
    ("post", "/api/v1/webhooks/999/rotate", "subscription_id", "there is no webhook subscription 999"),
    ("get", "/api/v1/webhooks/999/deliveries", "subscription_id", "there is no webhook subscription 999"),
    ("delete", "/api/v1/tokens/999", "token_id", "there is no personal token of yours 999"),
])
def test_it_answers_a_missing_row_with_404_naming_the_id(admin, method, url, field, message):
    body = '{"reason": "holiday cover", "to_team": "emea"}' if url.endswith("reassign") else "{}"
    answer = send(admin, method, url, body)
    assert answer.status_code == 404
    assert answer.json() == {"errors": [{"field": field, "message": message}]}


def test_it_answers_404_for_a_token_of_someone_else(org):
    bobs = token_issue(user=org.bob, name="laptop", now=clock.now()).token
    answer = staff_client(org.alice).delete(f"/api/v1/tokens/{bobs.pk}")
    assert answer.status_code == 404
    assert answer.json()["errors"] == [{"field": "token_id", "message": f"there is no personal token of yours {bobs.pk}"}]


def test_a_staff_post_without_a_token_answers_401_not_a_csrf_failure(db):
    answer = Client().post("/api/v1/tokens", {"name": "laptop"}, content_type="application/json")
    assert answer.status_code == 401
    assert answer.json() == {"errors": [{"field": "Authorization", "message": (
        "is missing; send Authorization: Bearer <personal token> (leadbaton tokens create) or sign in")}]}
    assert answer["WWW-Authenticate"] == 'Bearer realm="leadbaton"'


def test_a_staff_post_with_a_wrong_token_answers_401(db):
    client = Client(headers={"Authorization": "Bearer lb_pat_not-a-token"})
    answer = client.post("/api/v1/webhooks", {"url": "https://crm.example.com/hooks", "events": ["lead.created"]},
                         content_type="application/json")
    assert answer.status_code == 401
    assert answer.json() == {"errors": [{"field": "Authorization", "message": TOKEN_ERROR}]}


def test_a_revoked_token_answers_401(org):
    issued = token_issue(user=org.admin, name="old laptop", now=clock.now())
    client = Client(headers={"Authorization": f"Bearer {issued.plaintext}"})
    assert client.delete(f"/api/v1/tokens/{issued.token.pk}").status_code == 204
    answer = client.get("/api/v1/submissions")
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["field"] == "Authorization"


def test_a_signed_in_session_without_its_csrf_token_gets_403_saying_so(org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.admin)
    answer = browser.post("/api/v1/tokens", {"name": "laptop"}, content_type="application/json")
    assert answer.status_code == 403
    assert answer.json() == {"errors": [{"field": "X-CSRFToken", "message": (
        "is missing or wrong: a signed-in session sends the csrftoken cookie's value in the X-CSRFToken header; "
        "a script uses a personal token instead (Authorization: Bearer <personal token>)")}]}


def test_a_signed_in_session_with_its_csrf_token_gets_through(org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.admin)
    browser.get("/")  # a page with a form: it sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    answer = browser.post("/api/v1/tokens", {"name": "laptop"}, content_type="application/json", headers={"X-CSRFToken": token})
    assert answer.status_code == 201
    assert browser.get("/api/v1/submissions").status_code == 200  # reading needs no CSRF token


def test_a_refusal_carries_only_its_errors(org, intake):
    lead = intake.post({"email": "dana@northwind.example"}).json()
    answer = staff_client(org.marketer).post(f"/api/v1/leads/{lead['id']}/activities", {"kind": "call", "result": "connected"},
                                             content_type="application/json")
    assert answer.status_code == 403
    assert list(answer.json()) == ["errors"]


def test_a_method_a_path_does_not_have_answers_405_with_allow(admin):
    answer = admin.delete("/api/v1/webhooks")
    assert answer.status_code == 405
    assert answer["Allow"] in ("GET, POST", "POST, GET")
    assert answer.json()["errors"][0]["field"] == "method"
    assert answer.json()["errors"][0]["message"].startswith("DELETE is not a method of /api/v1/webhooks; use ")


def test_an_unknown_path_answers_404_in_the_errors_shape(admin):
    answer = admin.get("/api/v1/lead/1")
    assert answer.status_code == 404
    assert answer.json() == {"errors": [{"field": "path", "message": "/api/v1/lead/1 is not an endpoint of this API; the list is at /api/v1/docs"}]}


@pytest.mark.parametrize(("body", "why"), [
    ('{"name": "laptop"', "Expecting ',' delimiter"),
    ('{"name": NaN}', "NaN is not a JSON number"),
])
def test_a_body_that_is_not_json_answers_400_on_body(admin, body, why):
    answer = send(admin, "post", "/api/v1/tokens", body)
    assert answer.status_code == 400
    assert answer.json() == {"errors": [{"field": "body", "message": f"is not valid JSON: {why}; send a JSON object"}]}


@pytest.mark.parametrize(("body", "kind"), [("null", "null"), ("[31, 32]", "an array"), ("7", "a number"), ('"all"', "a string")])
def test_a_body_that_is_not_an_object_answers_422_saying_what_it_takes(admin, body, kind):
    answer = send(admin, "post", "/api/v1/me/notifications/read", body)
    assert answer.status_code == 422
    assert answer.json() == {"errors": [{"field": "body", "message": NOT_AN_OBJECT.format(kind)}]}


def test_a_field_of_the_wrong_type_is_named(admin):
    answer = send(admin, "post", "/api/v1/tokens", '{"label": "laptop"}')
    assert answer.status_code == 422
    assert answer.json() == {"errors": [{"field": "name", "message": "is required"}]}


@pytest.mark.parametrize("url", [
    "/api/v1/leads/9223372036854775808",
    "/api/v1/webhooks/9223372036854775808/deliveries/msg_1/redeliver",
    "/api/v1/leads/0",
])
def test_an_id_no_row_can_have_answers_422_naming_the_range(admin, url):
    answer = send(admin, "post" if url.endswith("redeliver") else "get", url)
    assert answer.status_code == 422
    problem = answer.json()["errors"][0]
    assert problem["field"] in ("lead_id", "subscription_id")
    assert problem["message"] in ("should be less than or equal to 9223372036854775807", "should be greater than or equal to 1")


# Booleans are not numbers: pydantic would read true as 1 and false as 0.


def test_reassigning_to_rep_true_is_refused(org, intake):
    lead = intake.post({"email": "dana@northwind.example"}).json()
    answer = send(staff_client(org.admin), "post", f"/api/v1/leads/{lead['id']}/reassign", '{"to_rep": true, "reason": "cover"}')
    assert answer.status_code == 422
    assert answer.json() == {"errors": [{"field": "to_rep", "message": "true is not a number; send a rep's user id such as 7"}]}


def test_marking_notification_true_read_is_refused(admin):
    answer = send(admin, "post", "/api/v1/me/notifications/read", '{"ids": [31, false]}')
    assert answer.status_code == 422
    assert answer.json() == {"errors": [{"field": "ids.1", "message": "false is not a number; send notification ids such as 31"}]}


def test_a_purchase_worth_true_is_refused(admin, intake):
    lead = intake.post({"email": "dana@northwind.example"}).json()
    answer = send(admin, "post", f"/api/v1/leads/{lead['id']}/outcome", '{"outcome": "purchased", "value": true, "currency": "EUR"}')
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "value", "message": 'true is not a number; send an amount such as 12500 or "12500.00"'}]
