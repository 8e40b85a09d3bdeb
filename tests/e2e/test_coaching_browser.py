"""Coaching in a real browser: the manager sets a rep's focus for the week, the rep reads it; both pages pass the
accessibility checker and fit a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from .conftest import Server, sign_in
from .test_accessibility import violations
from .test_board_browser import WIDTHS

pytestmark = pytest.mark.e2e


def test_the_manager_sets_a_reps_focus_and_the_rep_reads_it(team: dict[str, str], server: Server, browser: Browser) -> None:
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, server, team["manager"])
            page.click("nav >> text=Coaching")
            expect(page.locator("h1")).to_have_text("Coaching")
            assert violations(page) == [], f"coaching at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
            page.click("#coached >> text=Ana Rep")
            page.fill("#item-1", f"Call every new lead within 5 minutes ({width})")
            page.fill("#item-2", "")  # left empty between two: refused
            page.fill("#item-3", "Log a next step on every call")
            page.click("text=Save the focus")
            expect(page.locator("#item-2-error")).to_have_text("is empty; write it, or leave out the ones after it")
            expect(page.locator("#item-3")).to_have_value("Log a next step on every call")
            assert violations(page) == [], f"a refused focus at {width} width"
            page.fill("#item-2", "Three attempts before giving up")
            page.click("text=Save the focus")
            expect(page.locator("#item-1")).to_have_value(f"Call every new lead within 5 minutes ({width})")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
            rep = context.new_page()
            context.clear_cookies()
            sign_in(rep, server, team["ana"])
            rep.click("nav >> text=Coaching")
            expect(rep.locator("#focus li").first).to_have_text(f"Call every new lead within 5 minutes ({width})")
            assert rep.locator("text=Save the focus").count() == 0
            assert violations(rep) == [], f"a rep's coaching at {width} width"
        finally:
            context.close()
