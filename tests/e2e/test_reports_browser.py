"""The reports in a real browser: the manager opens Reports, finds this week's ledger, follows a figure to the lead behind
it, looks at the week's service levels and progress; the pages pass the accessibility checker and fit a phone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, expect

from leadbaton.reports.periods import week_of

from .conftest import Server, sign_in
from .test_accessibility import violations
from .test_board_browser import WIDTHS

pytestmark = pytest.mark.e2e


def test_the_manager_follows_a_figure_of_this_weeks_ledger_to_its_lead(team: dict[str, str], server: Server, browser: Browser) -> None:
    dana = server.post_lead({"email": "dana@northwind.example", "first_name": "Dana", "last_name": "Whitfield", "company": "Northwind"}).json()
    eli = server.post_lead({"email": "eli@contoso.example", "first_name": "Eli", "last_name": "Romero", "company": "Contoso"}).json()
    assert [dana["owner"]["name"], eli["owner"]["name"]] == ["Ana Rep", "Bo Rep"]
    received = datetime.fromisoformat(dana["received_at"].replace("Z", "+00:00"))  # the server's clock, not this process's
    this_week = week_of(received.astimezone(UTC).date(), "UTC").label  # Sales counts its weeks in UTC
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, server, team["manager"])
            page.click("nav >> text=Reports")
            expect(page.locator("h1")).to_have_text("Reconciliation: Sales")
            page.fill("#period", this_week)
            page.click("form.filters button[type=submit]")
            page.wait_for_url(f"**/reports/reconciliation/?period={this_week}&team=sales")
            ana = page.locator("#ledger tr", has_text="Ana Rep")
            expect(ana.locator("td[data-label='Received'] a").first).to_have_text("1")
            expect(page.locator("#unaccounted")).to_have_text("None: every lead is accounted for.")
            assert page.locator("#chart img").evaluate("image => image.complete && image.naturalWidth > 0"), "the chart is drawn"
            assert violations(page) == [], f"reconciliation at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
            ana.locator("td[data-label='Open at end'] a").first.click()
            expect(page.locator("#leads h2")).to_have_text("Ana Rep: open at end (1)")
            page.click("nav.views >> text=Service levels")
            page.fill("#period", this_week)
            page.click("form.filters button[type=submit]")
            expect(page.locator("#service-levels tr", has_text="Ana Rep").locator("td[data-label='Leads first owned']")).to_have_text("1")
            assert violations(page) == [], f"service levels at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
            page.click("nav.views >> text=Progress")
            expect(page.locator("#progress tr", has_text="Ana Rep").locator("td[data-label='In progress now'] a")).to_have_text("0")
            expect(page.locator("#blockers-title + p")).to_have_text("No lead is in progress now.")
            assert violations(page) == [], f"progress at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
            page.go_back()
            page.go_back()
            page.go_back()
            page.locator("#leads a", has_text="Dana Whitfield").click()
            expect(page.locator("h1")).to_contain_text("Dana Whitfield")
        finally:
            context.close()


def test_marketing_reads_its_week_against_its_targets(team: dict[str, str], server: Server, browser: Browser) -> None:
    server.post_lead({"email": "dana@northwind.example", "first_name": "Dana", "company": "Northwind", "campaign": "spring-webinar"})
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, server, team["marketing"])
            page.click("nav >> text=Reports")
            expect(page.locator("h1")).to_have_text("Marketing: every source")
            page.locator("#period").fill(page.locator("#period").input_value().split("-W")[0] + "-12")  # this December: a month
            page.click("form.filters button[type=submit]")
            expect(page.locator("#campaigns tr", has_text="spring-webinar").locator("td[data-label='Leads']")).to_have_text("1")
            assert page.locator("#chart img").evaluate("image => image.complete && image.naturalWidth > 0"), "the funnel is drawn"
            assert violations(page) == [], f"marketing at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
            page.click("nav.views >> text=Both sides")
            expect(page.locator("#weeks tbody tr")).to_have_count(12)
            assert violations(page) == [], f"both sides at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
            page.go_back()
            page.click("text=Enter what campaigns cost")
            page.fill("#cost-campaign", "spring-webinar")
            page.fill("#cost-first_day", "2026-12-01")
            page.fill("#cost-last_day", "2026-11-01")
            page.fill("#cost-amount", "1400")
            page.fill("#cost-currency", "EUR")
            page.click("text=Save the cost")
            expect(page.locator("#cost-last_day-error")).to_have_text("2026-11-01 is before the first day, 2026-12-01")
            expect(page.locator("#cost-amount")).to_have_value("1400")
            assert violations(page) == [], f"marketing settings at {width} width"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], width
        finally:
            context.close()
