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


# A forgotten password: a link by email, through the outbox and a real SMTP server


@pytest.fixture
def mailbox(settings):
    from tests.receivers import SmtpServer

    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.BASE_URL = "https://leads.lumen.example"
        settings.ALLOWED_HOSTS = ["testserver", "leads.lumen.example", "evil.example"]  # a proxy that passes any Host on
        yield server.inbox


def deliver() -> int:
    from leadbaton.worker.loop import Worker

    return Worker(poll_seconds=0).tick()


def ask_for_reset(email: str, *, host: str = "leads.lumen.example") -> int:
    answer = Client(HTTP_HOST=host).post("/account/password/reset/", {"email": email})
    if answer.status_code == 302:
        assert answer["Location"] == "/account/password/reset/sent/"
    return answer.status_code


def reset_link(message) -> str:
    import re

    text = message.get_payload()[0].get_payload(decode=True).decode()
    [link] = re.findall(r"https://leads\.lumen\.example(/account/password/reset/\S+/\S+/)", text)
    return link


def set_password(link: str, password: str, again: str | None = None):
    browser = Client()
    opened = browser.get(link)
    assert opened.status_code == 302  # the token moves out of the address bar (and out of any Referer)
    return browser.post(opened["Location"], {"new_password1": password, "new_password2": again or password})


def test_a_forgotten_password_is_set_again_through_a_link_sent_by_email(lena, mailbox):
    from leadbaton.notify.models import OutboxMessage

    with time_machine.travel(NOON, tick=True):
        assert ask_for_reset("LENA@lumen.example ", host="evil.example") == 302  # the address as typed; the Host is not trusted
        assert mailbox.messages == []  # queued, not sent in the request
        assert deliver() >= 1
        [message] = mailbox.wait_for(1)
        assert (message["To"], message["Subject"]) == ("lena@lumen.example", "Set a new LeadBaton password")
        link = reset_link(message)  # made from LEADBATON_BASE_URL, never from the Host the request named
        assert "evil.example" not in message.as_string()
        assert OutboxMessage.objects.get(event="account.password_reset").payload["link"] == ""  # not kept once sent
        answer = set_password(link, "a brand new phrase")
        assert (answer.status_code, answer["Location"]) == (302, "/account/password/reset/done/")
    assert sign_in("lena@lumen.example", "correct horse battery")[0] == 200
    assert sign_in("lena@lumen.example", "a brand new phrase")[0] == 302
    used = Client().get(link, follow=True)
    assert "This link no longer works" in used.content.decode()  # once only


def test_an_unknown_address_gets_the_same_answer_and_no_email(lena, mailbox):
    from leadbaton.notify.models import OutboxMessage

    User.objects.create_user("gone@lumen.example", "some old phrase", name="Gone", role=Role.REP, is_active=False)
    for address in ("nobody@lumen.example", "gone@lumen.example"):
        assert ask_for_reset(address) == 302
    assert not OutboxMessage.objects.exists()


def test_a_reset_link_expires_and_then_offers_a_new_one(lena, mailbox):
    with time_machine.travel(NOON, tick=True) as traveller:
        ask_for_reset("lena@lumen.example")
        deliver()
        link = reset_link(mailbox.wait_for(1)[0])
        traveller.shift(timedelta(minutes=61))
        page = Client().get(link, follow=True).content.decode()
    assert "This link no longer works" in page
    assert 'href="/account/password/reset/"' in page


def test_asking_again_and_again_sends_one_email_in_five_minutes(lena, mailbox):
    from leadbaton.notify.models import OutboxMessage

    with time_machine.travel(NOON, tick=False) as traveller:
        for _ in range(4):
            assert ask_for_reset("lena@lumen.example") == 302  # the same answer each time
        assert OutboxMessage.objects.filter(event="account.password_reset").count() == 1
        traveller.shift(timedelta(minutes=5, seconds=1))
        ask_for_reset("lena@lumen.example")
        assert OutboxMessage.objects.filter(event="account.password_reset").count() == 2


def test_the_new_password_is_checked_and_each_problem_named_next_to_its_field(lena, mailbox):
    with time_machine.travel(NOON, tick=True):
        ask_for_reset("lena@lumen.example")
        deliver()
        link = reset_link(mailbox.wait_for(1)[0])
        answer = set_password(link, "password")
        page = answer.content.decode()
        assert answer.status_code == 200
        assert 'id="id_new_password2_errors"' in page
        assert "This password is too common." in page
        answer = set_password(link, "a brand new phrase", again="a different phrase")
        assert "The two password fields didn" in answer.content.decode()
    assert sign_in("lena@lumen.example", "correct horse battery")[0] == 302  # nothing changed


def test_setting_a_new_password_lifts_the_accounts_pause(lena, mailbox):
    with time_machine.travel(NOON, tick=True):
        for attempt in range(5):
            sign_in("lena@lumen.example", f"wrong {attempt}", address=f"198.51.100.{attempt}")
        assert sign_in("lena@lumen.example", "correct horse battery", address="192.0.2.1")[0] == 429
        ask_for_reset("lena@lumen.example")
        deliver()
        set_password(reset_link(mailbox.wait_for(1)[0]), "a brand new phrase")
        assert sign_in("lena@lumen.example", "a brand new phrase", address="192.0.2.1")[0] == 302


def test_no_webhook_or_chat_is_ever_offered_an_account_email(lena, mailbox):
    from leadbaton.notify.models import Event, OutboxMessage
    from leadbaton.notify.services import SubscriptionInvalid, subscription_add

    with pytest.raises(SubscriptionInvalid) as refused:
        subscription_add(url="https://crm.example.com/in", events=["account.password_reset"], description="", now=NOON)
    assert "'account.password_reset' is not an event" in str(refused.value)
    subscription_add(url="https://crm.example.com/in", events=list(Event.values), description="everything", now=NOON)
    ask_for_reset("lena@lumen.example")
    assert list(OutboxMessage.objects.values_list("channel", "recipient")) == [("email", "lena@lumen.example")]


def test_someone_the_organisation_file_made_sets_their_first_password_through_the_link(db, mailbox):
    newcomer = User.objects.create_user("noor@lumen.example", None, name="Noor Haddad", role=Role.REP)
    assert not newcomer.has_usable_password()
    with time_machine.travel(NOON, tick=True):
        assert ask_for_reset("noor@lumen.example") == 302
        deliver()
        set_password(reset_link(mailbox.wait_for(1)[0]), "my very first phrase")
    assert sign_in("noor@lumen.example", "my very first phrase")[0] == 302
