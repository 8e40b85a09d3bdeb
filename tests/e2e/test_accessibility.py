"""Every page a person works in passes axe-core's checks (labels, contrast, landmarks, names) in a real browser,
and the forms can be worked with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from .conftest import Server, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it stands: rule, impact and the first element, one line each."""
    results = Axe().run(page)
    found = results.response["violations"]
    return [f"{rule['id']} ({rule['impact']}): {rule['help']} at {rule['nodes'][0]['target']}" for rule in found]


def test_the_pages_a_visitor_sees_pass_the_checker(server: Server, page: Page) -> None:
    for path in ("/", "/login/", "/account/password/reset/", "/account/password/reset/sent/"):
        page.goto(f"{server.url}{path}")
        assert violations(page) == [], path


def test_the_inbox_and_a_leads_page_with_its_forms_pass_the_checker(ana: str, server: Server, page: Page) -> None:
    lead = server.post_lead({"email": "dana@northwind.example", "first_name": "Dana", "phone": "+1 212 555 0100",
                             "message": "A demo this week?"}).json()
    sign_in(page, server, ana)
    assert violations(page) == [], "inbox"
    page.goto(f"{server.url}/leads/{lead['id']}/")
    assert violations(page) == [], "lead page"
    page.click("button[value=no_answer]")  # a refusal's page, errors shown, must pass too
    page.check("input[value=in_progress]")
    page.click("text=Record")
    expect(page.locator("[role=alert]").first).to_be_visible()
    assert violations(page) == [], "lead page with errors"
    page.goto(f"{server.url}/account/password/")
    assert violations(page) == [], "password change"


def test_a_call_is_logged_with_the_keyboard_alone(ana: str, server: Server, page: Page) -> None:
    lead = server.post_lead({"email": "dana@northwind.example", "first_name": "Dana"}).json()
    sign_in(page, server, ana)
    page.goto(f"{server.url}/leads/{lead['id']}/")
    page.focus("#call-note")
    page.keyboard.type("left a message with the assistant")
    for _ in range(3):  # connected, no answer, voicemail
        page.keyboard.press("Tab")
    expect(page.locator("button[value=voicemail]")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus can be seen
    page.keyboard.press("Enter")
    expect(page.locator("[role=status]")).to_contain_text("Call: voicemail logged.")
    expect(page.locator("main")).to_contain_text("left a message with the assistant")


def test_the_checker_finds_what_it_is_there_to_find(page: Page) -> None:
    """The same check on a page with an unlabelled field and pale text: it would fail ours."""
    page.set_content('<!doctype html><html lang="en"><head><title>x</title></head><body><main>'
                     '<p style="color:#ccc;background:#fff">pale</p><input name="email"></main></body></html>')
    found = " ".join(violations(page))
    assert "label" in found
    assert "color-contrast" in found
