"""A person in a real browser (Debian's Chromium driven by Playwright) follows a notification's link to the lead."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from .conftest import LEADBATON, Deployment, Server

pytestmark = pytest.mark.e2e

DANA = {"email": "dana@northwind-traders.example", "first_name": "Dana", "last_name": "Whitfield", "title": "Head of Operations",
        "message": "Can we see a demo this week?", "product_interest": "Dashboards"}
PASSWORD = "correct horse battery staple"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def admin_create(deployment: Deployment, email: str) -> None:
    subprocess.run([str(LEADBATON), "createadmin", email, "--name", "Ada Admin"], env={**deployment.env, "LEADBATON_ADMIN_PASSWORD": PASSWORD},
                   cwd=deployment.data_dir, check=True, capture_output=True, timeout=120)


def test_the_link_asks_to_sign_in_then_opens_the_lead(server: Server, deployment: Deployment, page: Page) -> None:
    admin_create(deployment, "ada@example.com")
    lead = server.post_lead(DANA).json()

    page.goto(f"{server.url}/leads/{lead['id']}/")
    assert "/login/?next=" in page.url
    page.fill("#id_username", "ada@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.wait_for_url(f"{server.url}/leads/{lead['id']}/")
    assert page.inner_text("h1") == "Dana Whitfield"
    assert "Can we see a demo this week?" in page.inner_text("main")
    assert page.get_attribute("a[href^='mailto:']", "href") == "mailto:dana@northwind-traders.example"
    page.click("text=Sign out")
    page.wait_for_url(f"{server.url}/")
    assert page.is_visible("text=Sign in")


def test_a_wrong_password_says_so_and_keeps_the_email(server: Server, deployment: Deployment, page: Page) -> None:
    admin_create(deployment, "ada@example.com")

    page.goto(f"{server.url}/login/")
    page.fill("#id_username", "ada@example.com")
    page.fill("#id_password", "not the password")
    page.click("button[type=submit]")

    assert "Please enter a correct email and password" in page.inner_text("[role=alert]")
    assert page.input_value("#id_username") == "ada@example.com"
