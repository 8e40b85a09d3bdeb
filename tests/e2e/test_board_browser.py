"""The manager's team board in a real browser (Debian's Chromium driven by Playwright): a lead reassigned from
the board shows up in the new owner's inbox; the board passes the accessibility checker, with a refused form
too, and fits a phone. Screenshots of the inbox, a lead's page and the board at desktop and phone widths are
written where LEADBATON_SCREENSHOTS points (docs/ keeps the current ones), else beside the test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import Deployment, Server, sign_in
from .test_accessibility import violations

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def pages(browser: Browser) -> Iterator[dict[str, Page]]:
    """One browser context per person, as if each sat at their own computer."""
    contexts = {who: browser.new_context() for who in ("manager", "bo")}
    yield {who: context.new_page() for who, context in contexts.items()}
    for context in contexts.values():
        context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("LEADBATON_SCREENSHOTS", "") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


def test_the_manager_reassigns_a_lead_from_the_board_and_the_new_owner_sees_it(team: dict[str, str], server: Server,
                                                                               pages: dict[str, Page]) -> None:
    lead = server.post_lead({"email": "dana@northwind.example", "first_name": "Dana", "company": "Northwind"}).json()
    assert lead["owner"]["name"] == "Ana Rep"
    manager = pages["manager"]
    sign_in(manager, server, team["manager"])
    manager.click("text=Team board")
    expect(manager).to_have_url(f"{server.url}/teams/sales/")
    expect(manager.locator("#reps tr", has_text="Ana Rep")).to_contain_text("yes")
    manager.fill("#q", "northwind")
    manager.click("text=Search")
    row = manager.locator(f"#found-lead-{lead['id']}")
    expect(row).to_contain_text("Ana Rep")
    row.locator("input[type=checkbox]").check()
    manager.select_option("#found-to", label="Bo Rep")
    manager.click("#found-move button")  # no reason: refused next to the form, the choice and the check kept
    expect(manager.locator("#found-why-error")).to_contain_text("is required: say why the leads change hands")
    expect(manager.locator(f"#found-lead-{lead['id']} input[type=checkbox]")).to_be_checked()
    assert violations(manager) == [], "board with a refused form"
    manager.fill("#found-why", "Bo covers Northwind")
    manager.click("#found-move button")
    expect(manager.locator("[role=status]")).to_contain_text("Now with Bo Rep: Dana.")
    expect(manager).to_have_url(f"{server.url}/teams/sales/?q=northwind")

    bo = pages["bo"]
    sign_in(bo, server, team["bo"])
    expect(bo.locator(f'#inbox tr[data-lead-id="{lead["id"]}"]')).to_contain_text("Dana")


def test_the_board_passes_the_checker_fits_a_phone_and_is_pictured(team: dict[str, str], server: Server, browser: Browser,
                                                                   deployment: Deployment, shots: Path) -> None:
    for n, (name, company, message) in enumerate((
        ("Dana Whitfield", "Northwind Traders", "Can we see a demo of the forecasting module this week?"),
        ("Eli Romero", "Contoso", "Pricing for 40 seats, and does it work with our CRM?"),
        ("Farah Haddad", "Tailspin Toys", "Met you at the trade show; please call me back."),
    )):
        first, last = name.split()
        server.post_lead({"email": f"{first.lower()}@{company.split()[0].lower()}.example", "first_name": first, "last_name": last,
                          "company": company, "message": message, "phone": f"+1 212 555 01{n:02d}"})
    deployment.sql("UPDATE accounts_repprofile SET paused = TRUE, pause_reason = 'training' "
                   "WHERE user_id = (SELECT id FROM accounts_user WHERE email = 'bo@lumen.example')")
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, server, team["ana"])
            page.screenshot(path=shots / f"inbox-{width}.png", full_page=True)
            page.locator("#inbox a").first.click()
            page.screenshot(path=shots / f"lead-page-{width}.png", full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], f"lead page at {width} width"
            assert violations(page) == [], f"lead page at {width} width"
            page.context.clear_cookies()
            sign_in(page, server, team["manager"])
            page.goto(f"{server.url}/teams/sales/")
            expect(page.locator("#reps tr", has_text="Bo Rep")).to_contain_text("no: paused (training)")
            assert violations(page) == [], f"board at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
            page.screenshot(path=shots / f"board-{width}.png", full_page=True)
        finally:
            context.close()
    assert {path.name for path in shots.glob("*.png")} >= {f"{what}-{width}.png" for what in ("inbox", "lead-page", "board") for width in WIDTHS}
