"""Signing in and one's own account: throttled sign-in (per account and per address), changing one's password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings

from leadbaton.accounts.models import Role, User
from leadbaton.web.signin import client_address

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PAUSED = "Too many failed sign-ins for this account or from this address. Try again 15 minutes after the last failed try"


@pytest.fixture
def lena(db: None) -> User:
    return User.objects.create_user("lena@lumen.example", "correct horse battery", name="Lena Hoffmann", role=Role.REP)


def sign_in(email: str, password: str, *, address: str = "203.0.113.7") -> tuple[int, str]:
    answer = Client(REMOTE_ADDR=address).post("/login/", {"username": email, "password": password})
    return answer.status_code, answer.content.decode()


def test_five_failures_pause_the_account_even_for_the_right_password_then_it_opens_again(lena):
    with time_machine.travel(NOON, tick=False) as traveller:
        for attempt, spelt in enumerate(("lena@lumen.example", "Lena@Lumen.example", " LENA@lumen.example", "lena@lumen.example", "lena@LUMEN.example")):
            status, page = sign_in(spelt, f"wrong {attempt}", address=f"198.51.100.{attempt}")
            if attempt < 4:  # the form again, saying what was wrong
                assert (status, "Please enter a correct email and password" in page) == (200, True), page
        assert (status, PAUSED in page) == (429, True)  # the fifth failure says so at once
        status, page = sign_in("lena@lumen.example", "correct horse battery", address="192.0.2.99")
        assert status == 429
        assert PAUSED in page
        traveller.shift(timedelta(minutes=15, seconds=1))
        assert sign_in("lena@lumen.example", "correct horse battery", address="192.0.2.99")[0] == 302


def test_five_failures_from_one_address_pause_that_address_for_every_account_and_no_other(lena):
    User.objects.create_user("jonas@lumen.example", "another good phrase", name="Jonas Berg", role=Role.REP)
    with time_machine.travel(NOON, tick=False):
        for number in range(4):
            assert sign_in(f"nobody{number}@lumen.example", "guess", address="203.0.113.66")[0] == 200
        assert sign_in("nobody4@lumen.example", "guess", address="203.0.113.66")[0] == 429
        status, page = sign_in("jonas@lumen.example", "another good phrase", address="203.0.113.66")
        assert (status, PAUSED in page) == (429, True)
        assert sign_in("jonas@lumen.example", "another good phrase", address="203.0.113.67")[0] == 302


def test_a_successful_sign_in_forgets_the_failures_before_it(lena):
    with time_machine.travel(NOON, tick=False):
        for _ in range(4):
            sign_in("lena@lumen.example", "wrong")
        assert sign_in("lena@lumen.example", "correct horse battery")[0] == 302
        for _ in range(4):
            assert sign_in("lena@lumen.example", "wrong")[0] == 200
        assert sign_in("lena@lumen.example", "correct horse battery")[0] == 302


def test_signing_in_to_ones_own_account_between_guesses_forgets_only_ones_own_failures(lena):
    User.objects.create_user("mallory@lumen.example", "mallory's own phrase", name="Mallory", role=Role.REP)
    with time_machine.travel(NOON, tick=False):
        for guess in range(4):
            assert sign_in("lena@lumen.example", f"guess {guess}", address="203.0.113.50")[0] == 200
        assert sign_in("mallory@lumen.example", "mallory's own phrase", address="203.0.113.50")[0] == 302
        assert sign_in("lena@lumen.example", "guess 4", address="192.0.2.50")[0] == 429  # Lena's fifth failure
        assert sign_in("nobody@lumen.example", "guess", address="203.0.113.50")[0] == 429  # the address's fifth


def test_a_wrong_old_password_counts_as_a_failed_sign_in(lena):
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(lena)
    with time_machine.travel(NOON, tick=False):
        for guess in range(4):
            answer = client.post("/account/password/", {"old_password": f"guess {guess}", "new_password1": "a much longer phrase 42",
                                                         "new_password2": "a much longer phrase 42"})
            assert answer.status_code == 200
        answer = client.post("/account/password/", {"old_password": "correct horse battery", "new_password1": "a much longer phrase 42",
                                                     "new_password2": "a much longer phrase 42"})
        assert answer.status_code == 302  # the right one still works: 4 failures are not 5
        lena.refresh_from_db()
        assert lena.check_password("a much longer phrase 42")
        for guess in range(5):
            answer = client.post("/account/password/", {"old_password": f"again {guess}", "new_password1": "yet another phrase 43",
                                                         "new_password2": "yet another phrase 43"})
        assert (answer.status_code, PAUSED in answer.content.decode()) == (429, True)
        assert sign_in("lena@lumen.example", "a much longer phrase 42", address="192.0.2.77")[0] == 429


def test_the_list_sums_failures_per_account_and_per_address_as_the_pause_does(lena):
    with time_machine.travel(NOON, tick=False):
        for number in range(4):
            sign_in("lena@lumen.example", "wrong", address=f"198.51.100.{number}")
        listed = StringIO()
        call_command("signins", "list", stdout=listed)
        account = next(line for line in listed.getvalue().splitlines() if "lena@lumen.example" in line)
        assert " 4 " in account
        assert "yes" not in account
        sign_in("lena@lumen.example", "wrong", address="198.51.100.9")
        listed = StringIO()
        call_command("signins", "list", stdout=listed)
        account = next(line for line in listed.getvalue().splitlines() if "lena@lumen.example" in line)
        assert " 5 " in account
        assert "yes" in account


def test_an_administrator_lifts_a_pause_at_once(lena):
    with time_machine.travel(NOON, tick=False):
        for _ in range(5):
            sign_in("lena@lumen.example", "wrong", address="203.0.113.8")
        assert sign_in("lena@lumen.example", "correct horse battery", address="192.0.2.1")[0] == 429
        listed = StringIO()
        call_command("signins", "list", stdout=listed)
        assert "lena@lumen.example" in listed.getvalue()
        assert "203.0.113.8" in listed.getvalue()
        out = StringIO()
        call_command("signins", "unlock", "lena@lumen.example", stdout=out)
        assert "lena@lumen.example" in out.getvalue()
        call_command("signins", "unlock", "--address", "203.0.113.8", stdout=out)
        assert sign_in("lena@lumen.example", "correct horse battery", address="192.0.2.1")[0] == 302


@override_settings(CLIENT_ADDRESS_HEADER="X-Forwarded-For")
def test_behind_a_proxy_the_address_it_added_counts_not_what_the_client_wrote():
    request = RequestFactory().post("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20")
    assert client_address(request) == "198.51.100.20"
    request.META["HTTP_X_FORWARDED_FOR"] = ""
    assert client_address(request) == "10.0.0.2"


def test_a_person_changes_their_password_and_only_the_new_one_works_from_then_on(lena):
    client = Client()
    client.force_login(lena)
    other_session = Client()
    other_session.force_login(lena)
    page = client.get("/account/password/")
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.content.decode()

    changed = client.post("/account/password/", {"old_password": "correct horse battery", "new_password1": "a much longer phrase 42",
                                                 "new_password2": "a much longer phrase 42"})
    assert (changed.status_code, changed["Location"]) == (302, "/account/password/changed/")
    assert "Password changed" in client.get("/account/password/changed/").content.decode()
    assert client.get("/account/password/").status_code == 200  # still signed in here
    assert other_session.get("/account/password/").status_code == 302  # signed out elsewhere
    assert sign_in("lena@lumen.example", "correct horse battery")[0] == 200
    assert sign_in("lena@lumen.example", "a much longer phrase 42")[0] == 302


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"old_password": "not it", "new_password1": "a much longer phrase 42", "new_password2": "a much longer phrase 42"},
     "old_password", "Your old password was entered incorrectly"),
    ({"old_password": "correct horse battery", "new_password1": "a much longer phrase 42", "new_password2": "a much longer phrase 43"},
     "new_password2", "The two password fields didn"),
    ({"old_password": "correct horse battery", "new_password1": "12345678", "new_password2": "12345678"},
     "new_password2", "This password is too common"),
])
def test_each_unusable_password_is_named_next_to_its_field_and_nothing_changes(lena, fields, field, message):
    client = Client()
    client.force_login(lena)
    answer = client.post("/account/password/", fields)
    page = answer.content.decode()
    assert answer.status_code == 200
    errors = page.split(f'id="id_{field}_errors"', 1)[1].split("</p>", 1)[0]
    assert message in errors
    lena.refresh_from_db()
    assert lena.check_password("correct horse battery")
