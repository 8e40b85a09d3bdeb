"""The settings pages in a real browser: every page a manager and an admin open passes the accessibility checker and
fits a phone, also with a refused form, a routing preview and a refused rule on it; a rep's cap saved on their page is what the board
then shows."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from .conftest import PASSWORD, Deployment, Server, sign_in
from .test_accessibility import violations
from .test_board_browser import WIDTHS

pytestmark = pytest.mark.e2e


def test_the_settings_pages_pass_the_checker_and_fit_a_phone(team: dict[str, str], server: Server, browser: Browser,
                                                             deployment: Deployment) -> None:
    deployment.env["LEADBATON_ADMIN_PASSWORD"] = PASSWORD
    deployment.leadbaton("createadmin", "ada@lumen.example", "--name", "Ada Admin")
    [(ana,)] = deployment.sql("SELECT id FROM accounts_user WHERE email = 'ana@lumen.example'")
    managers = ["/settings/", f"/settings/reps/{ana}/", "/settings/teams/sales/", "/settings/service-levels/sales/", "/settings/routing/",
                "/settings/routing/?editor=yaml"]
    admins = ["/settings/people/", f"/settings/people/{ana}/", "/settings/sources/", "/settings/webhooks/", "/settings/service-levels/default/"]
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            for who, paths in ((team["manager"], managers), ("ada@lumen.example", admins)):
                page.context.clear_cookies()
                sign_in(page, server, who)
                for path in paths:
                    page.goto(f"{server.url}{path}")
                    expect(page.locator("h1")).to_be_visible()
                    assert violations(page) == [], f"{path} at {width} width"
                    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], f"{path} at {width} width"
            page.context.clear_cookies()
            sign_in(page, server, team["manager"])
            page.goto(f"{server.url}/settings/reps/{ana}/")
            page.fill("#id_weight", "0")
            page.click("text=Save")
            expect(page.locator("#id_weight_errors")).to_contain_text("0 is less than 1")
            assert violations(page) == [], f"a refused rep form at {width} width"
            page.goto(f"{server.url}/settings/routing/")
            page.click("button[value=preview]")
            expect(page.locator("#preview")).to_contain_text("Ana Rep of Sales")
            assert violations(page) == [], f"a routing preview at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], f"a routing preview at {width} width"
            page.fill("#rule-0-name", "Germany")  # the rule builder: a new rule without a team, refused next to it
            page.fill("#rule-0-when-0-field", "country")
            page.fill("#rule-0-when-0-value", "DE")
            page.click("button[value=preview]")
            expect(page.locator("#rule-0-errors")).to_contain_text("Team: pick the team")
            expect(page.locator("#rule-0-when-0-value")).to_have_value("DE")
            assert violations(page) == [], f"a refused rule at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], f"a refused rule at {width} width"
        finally:
            context.close()


def test_a_cap_saved_on_a_reps_page_is_what_the_board_shows(team: dict[str, str], server: Server, browser: Browser,
                                                              deployment: Deployment) -> None:
    [(bo,)] = deployment.sql("SELECT id FROM accounts_user WHERE email = 'bo@lumen.example'")
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, server, team["manager"])
        page.click("text=Settings")
        page.click("text=Bo Rep")
        expect(page).to_have_url(f"{server.url}/settings/reps/{bo}/")
        page.fill("#id_daily_cap", "3")
        page.click("text=Save")
        expect(page.locator("[role=status]")).to_contain_text("Saved Bo Rep's settings.")
        page.goto(f"{server.url}/teams/sales/")
        expect(page.locator("#reps tr", has_text="Bo Rep")).to_contain_text("0 of 3")
    finally:
        context.close()
