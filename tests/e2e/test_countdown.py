"""The lead page's countdown in a real browser (Debian's Chromium driven by Playwright): the text follows the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route, expect

import leadbaton.web

pytestmark = pytest.mark.e2e

COUNTDOWN_JS = Path(leadbaton.web.__file__).parent / "static" / "web" / "countdown.js"
ORIGIN = "http://leadbaton.test"


def test_a_pending_first_response_counts_down_every_second(browser: Browser) -> None:
    """The page as the server writes it (web/lead.html), with the script served under the page's strict policy."""
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # the browser's clock, set below
    breaches_at = (now + timedelta(minutes=4, seconds=30)).isoformat()
    html = (f'<!doctype html><html><head><script src="/static/web/countdown.js" defer></script></head><body>'
            f'<strong class="countdown" data-breaches-at="{breaches_at}">as the server wrote it</strong></body></html>')

    def serve(route: Route) -> None:
        if route.request.url.endswith("/countdown.js"):
            route.fulfill(body=COUNTDOWN_JS.read_text(), content_type="text/javascript")
        else:
            route.fulfill(body=html, content_type="text/html", headers={"Content-Security-Policy": "script-src 'self'"})

    context = browser.new_context()
    try:
        page = context.new_page()
        page.clock.install(time=now - timedelta(seconds=1))
        page.clock.pause_at(now)  # time moves only with run_for
        page.route(f"{ORIGIN}/**", serve)
        page.goto(f"{ORIGIN}/leads/1/")
        countdown = page.locator(".countdown")
        expect(countdown).to_have_text("4:30 left")  # the script took over, under the page's policy
        page.clock.run_for(2000)
        expect(countdown).to_have_text("4:28 left")
        page.clock.run_for(268_000)
        expect(countdown).to_have_text("time is up")
    finally:
        context.close()
