"""Every page works in a real browser under LeadBaton's Content-Security-Policy: nothing is refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from .conftest import Deployment, Server
from .test_browser import PASSWORD, admin_create

pytestmark = pytest.mark.e2e


def test_the_lead_page_sign_in_admin_and_api_docs_run_with_nothing_refused(
    server: Server, deployment: Deployment, browser: Browser
) -> None:
    admin_create(deployment, "ada@example.com")
    lead = server.post_lead({"email": "dana@northwind.example", "first_name": "Dana", "last_name": "Whitfield"}).json()
    context = browser.new_context()
    page: Page = context.new_page()
    complaints: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            complaints.append(f"{page.url}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: complaints.append(f"{page.url}: {error}"))

    page.goto(f"{server.url}/login/")
    page.fill("#id_username", "ada@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    page.goto(f"{server.url}/leads/{lead['id']}/")
    assert page.inner_text("h1") == "Dana Whitfield"

    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/1/change/", "/admin/intake/source/add/"):
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("networkidle")
    # The admin's own scripts ran: the theme toggle and the changelist's select-all work.
    page.goto(f"{server.url}/admin/accounts/user/")
    page.click("#action-toggle")
    assert page.is_checked("input.action-select")

    page.goto(f"{server.url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary", timeout=15_000)  # Swagger UI rendered the operations
    page.click(".opblock-summary >> nth=0")
    page.wait_for_selector(".try-out__btn")
    page.click(".try-out__btn")
    page.click(".execute")
    page.wait_for_selector(".live-responses-table", timeout=15_000)  # it called the API from the page
    assert complaints == []

    # The policy is enforced, and a refusal would be seen: an inline script injected into a page never runs.
    page.goto(f"{server.url}/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = 1'; document.body.append(s) }")
    assert page.evaluate("() => window.inlineRan") is None
    assert len(complaints) == 1
    assert "inline script" in complaints[0]
    context.close()
