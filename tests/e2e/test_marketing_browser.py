"""Marketing's pages in a real browser: a lead a rep sends back as a student shows up in marketing's rejected
list with the reason and the rep; the log, a submission and the lists pass the accessibility checker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import Server, sign_in
from .test_accessibility import violations

pytestmark = pytest.mark.e2e


@pytest.fixture
def pages(browser: Browser) -> Iterator[dict[str, Page]]:
    contexts = {who: browser.new_context() for who in ("ana", "marketing")}
    yield {who: context.new_page() for who, context in contexts.items()}
    for context in contexts.values():
        context.close()


def test_a_lead_a_rep_rejects_as_a_student_shows_up_in_marketings_rejected_list(team: dict[str, str], server: Server,
                                                                                 pages: dict[str, Page]) -> None:
    lead = server.post_lead({"email": "sam@uni.example", "first_name": "Sam", "message": "For my thesis"}).json()
    assert lead["owner"]["name"] == "Ana Rep"
    ana = pages["ana"]
    sign_in(ana, server, team["ana"])
    ana.goto(f"{server.url}/leads/{lead['id']}/")
    ana.select_option("#reject-reason", "student")
    ana.click("text=Send back to marketing")
    expect(ana.locator("[role=status]")).to_contain_text("Sent back to marketing as not a lead.")

    marketing = pages["marketing"]
    sign_in(marketing, server, team["marketing"])
    marketing.click("nav >> text=Marketing")
    assert violations(marketing) == [], "submission log"
    marketing.click(f"#log a[href='/submissions/{lead['submission_id']}/']")
    expect(marketing.locator("pre.raw").first).to_contain_text('"message": "For my thesis"')
    assert violations(marketing) == [], "a submission"
    marketing.click("text=← Submission log")
    marketing.click("text=Rejected by sales")
    row = marketing.locator(f"#rejected tr#lead-{lead['id']}")
    expect(row).to_contain_text("Not a lead: a student")
    expect(row).to_contain_text("Ana Rep")
    assert violations(marketing) == [], "rejected by sales"
    marketing.click("text=Nurture")
    expect(marketing.locator("h1")).to_have_text("Nurture")
    assert violations(marketing) == [], "nurture"
