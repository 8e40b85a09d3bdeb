"""The rep's inbox in a real browser (Debian's Chromium driven by Playwright): a new lead appears without a
reload, the title counts it while the rep looks elsewhere, and the browser notification they allowed says who."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import Server, sign_in

pytestmark = pytest.mark.e2e

# Records each notification the page shows (the browser's own Notification is still what shows it).
NOTIFICATIONS_SEEN = """
window.__told = [];
const Shown = window.Notification;
window.Notification = class extends Shown {
  constructor(title, options) { super(title, options); window.__told.push(title); }
};
"""


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(permissions=["notifications"])
    context.grant_permissions(["notifications"], origin=server.url)
    page = context.new_page()
    page.add_init_script(NOTIFICATIONS_SEEN)
    yield page
    context.close()


def test_a_new_lead_appears_in_the_inbox_within_seconds_without_a_reload(ana: str, server: Server, page: Page) -> None:
    sign_in(page, server, ana)
    expect(page.locator("h1")).to_have_text("Your leads")
    expect(page.locator("#inbox")).to_contain_text("No open leads")
    page.evaluate("window.__loaded = true")  # gone if the page were reloaded

    first = server.post_lead({"email": "dana@northwind.example", "first_name": "Dana", "message": "A demo this week?"}).json()
    row = page.locator(f'#inbox tr[data-lead-id="{first["id"]}"]')
    expect(row).to_be_visible(timeout=6000)  # the page asks again every 4 s
    expect(row).to_contain_text("A demo this week?")
    expect(row.locator(".countdown")).to_have_text(re.compile(r"^[45]:\d\d left$"))
    assert page.evaluate("window.__loaded") is True
    assert page.evaluate("window.__told") == ["New lead: Dana"]

    # The rep looks at another window: the next lead counts in the title until they look back.
    page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
                  "document.hasFocus = () => false;")
    second = server.post_lead({"email": "eli@contoso.example", "first_name": "Eli"}).json()
    expect(page.locator(f'#inbox tr[data-lead-id="{second["id"]}"]')).to_be_visible(timeout=6000)
    expect(page).to_have_title("(1) Your leads · LeadBaton")
    page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
                  "document.dispatchEvent(new Event('visibilitychange'));")
    expect(page).to_have_title("Your leads · LeadBaton")
    assert page.evaluate("window.__told") == ["New lead: Dana", "New lead: Eli"]


def test_the_inbox_works_without_javascript_and_fits_a_phone(ana: str, server: Server, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        server.post_lead({"email": "dana@northwind.example", "first_name": "Dana"})
        sign_in(page, server, ana)
        expect(page.locator("#inbox tr[data-lead-id]")).to_have_count(1)
        page.select_option("#blocker", "budget")
        page.click("text=Show")
        expect(page.locator("#inbox")).to_contain_text("No lead of yours fits this view")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
